"""Random small piecewise-linear functions (max / min / abs / (leaky) ReLU of affine maps) for tests."""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import strategies as st

from ialam_verify.cases import Max2, Min2, leaky_relu, relu

NUMPY_KINKS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x, a: np.where(x >= 0, x, a * x),
    "Max2": np.maximum,
    "Min2": np.minimum,
}

coef = st.integers(-3, 3)


@st.composite
def affine(draw, X, active=True):
    c = [draw(coef) for _ in X]
    const = 0 if active else draw(st.sampled_from([-2, -1, 1, 2]))
    return sum(ci * xi for ci, xi in zip(c, X, strict=False)) + const


@st.composite
def kink_of(draw, X, depth):
    kind = draw(st.sampled_from(["relu", "leaky", "abs", "max", "min"]))
    a = draw(affine(X, active=draw(st.booleans()) or depth == 0))
    if depth > 0 and draw(st.booleans()):
        a = a + draw(st.sampled_from([-1, 1, 2])) * draw(kink_of(X, depth - 1))
    if kind == "relu":
        return relu(a)
    if kind == "leaky":
        return leaky_relu(
            a, draw(st.sampled_from([sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(1, 10)]))
        )
    if kind == "abs":
        return sp.Abs(a)
    b = draw(affine(X))
    return Max2(a, b) if kind == "max" else Min2(a, b)


@st.composite
def pl_functions(draw, max_dim=3):
    n = draw(st.integers(1, max_dim))
    X = sp.symbols(f"x0:{n}")
    k = draw(st.integers(1, 3))
    f = draw(affine(X))
    for _ in range(k):
        f = f + draw(st.sampled_from([-2, -1, 1, 2])) * draw(kink_of(X, 1))
    return f, list(X)


def numeric(f, X):
    fn = sp.lambdify(X, f, modules=[NUMPY_KINKS, "numpy"])

    def call(P: np.ndarray) -> np.ndarray:
        out = fn(*[P[:, i] for i in range(P.shape[1])])
        return np.broadcast_to(np.asarray(out, dtype=float), (P.shape[0],))

    return call


def sampled_gradients(f, X, point, n_dirs=4000, radius=1e-3, step=1e-7, seed=0):
    """Gradients at random points near ``point`` by central differences; kink-straddling samples dropped."""
    rng = np.random.default_rng(seed)
    n = len(X)
    call = numeric(f, X)
    U = rng.normal(size=(n_dirs, n))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    P = np.asarray(point, float)[None, :] + radius * U * rng.uniform(0.2, 1.0, size=(n_dirs, 1))
    G = np.empty((n_dirs, n))
    ok = np.ones(n_dirs, bool)
    f0 = call(P)
    for i in range(n):
        E = np.zeros(n)
        E[i] = step
        fp, fm = call(P + E), call(P - E)
        fwd, bwd = (fp - f0) / step, (f0 - fm) / step
        ok &= np.abs(fwd - bwd) < 1e-5
        G[:, i] = (fp - fm) / (2 * step)
    return G[ok]
