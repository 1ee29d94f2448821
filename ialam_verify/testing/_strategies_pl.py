r"""Hypothesis strategies for piecewise-linear functions in the class of
:func:`ialam_verify.cases.analyze` (re-exported by ``strategies``).

- :func:`pl_functions`: random max / min / abs / (leaky) ReLU compositions of integer affine maps,
  kinks active at 0 or not, nested one level; of unknown subdifferentials.
- :func:`pl_functions_with_subdifferentials`: functions whose subdifferentials at the point are known
  by construction. With :math:`y_k = t_k^T (x - p)` for linearly independent integer rows
  :math:`t_k` (a triangular construction),

  .. math::

      f(x) = c^T x + \sum_k a_k\, \varphi_k(y_k) + (\text{kinks inactive at } p),

  where each :math:`\varphi_k` (abs, relu, leaky relu, or a ``Max2`` / ``Min2`` of two affine maps
  that reduces to one) has one-sided slopes :math:`(l_k, r_k)` at 0. In the coordinates :math:`y`
  the function is separable, so at :math:`p` with :math:`\bar c = \nabla(\text{affine part})`:

  .. math::

      \partial^C f(p) = \bar c + \textstyle\sum_k [\min(a_k l_k, a_k r_k), \max(a_k l_k, a_k r_k)]\, t_k,

  the limiting set replaces the interval of every *concave* term (:math:`a_k (r_k - l_k) < 0`) by its
  two endpoints (a union of polytopes), and the Fréchet set equals the Clarke set when every term is
  convex and is empty otherwise. For a piecewise-linear function, local minimality equals Fréchet
  stationarity. Everything is exact (sympy rationals).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..cases import Max2, Min2, leaky_relu, relu
from ._require import hypothesis_strategies

st = hypothesis_strategies()

coef = st.integers(-3, 3)
LEAKY_SLOPES = (sp.Rational(1, 4), sp.Rational(1, 2), sp.Rational(1, 10))


@st.composite
def affine(draw: Any, X: Any, active: bool = True) -> sp.Expr:
    """An integer affine map of the symbols ``X``; zero at 0 when ``active``."""
    c = [draw(coef) for _ in X]
    const = 0 if active else draw(st.sampled_from([-2, -1, 1, 2]))
    return sum(ci * xi for ci, xi in zip(c, X, strict=True)) + const


@st.composite
def kink_of(draw: Any, X: Any, depth: int) -> sp.Expr:
    """One kink term (relu, leaky relu, abs, max, min) of affine maps, nested up to ``depth``."""
    kind = draw(st.sampled_from(["relu", "leaky", "abs", "max", "min"]))
    a = draw(affine(X, active=draw(st.booleans()) or depth == 0))
    if depth > 0 and draw(st.booleans()):
        a = a + draw(st.sampled_from([-1, 1, 2])) * draw(kink_of(X, depth - 1))
    if kind == "relu":
        return relu(a)
    if kind == "leaky":
        return leaky_relu(a, draw(st.sampled_from(LEAKY_SLOPES)))
    if kind == "abs":
        return sp.Abs(a)
    b = draw(affine(X))
    return Max2(a, b) if kind == "max" else Min2(a, b)


@st.composite
def pl_functions(draw: Any, max_dim: int = 3) -> tuple[sp.Expr, list[sp.Symbol]]:
    """``(f, variables)``: an affine map plus 1 to 3 kink terms, analysed at the origin."""
    n = draw(st.integers(1, max_dim))
    X = sp.symbols(f"x0:{n}")
    k = draw(st.integers(1, 3))
    f = draw(affine(X))
    for _ in range(k):
        f = f + draw(st.sampled_from([-2, -1, 1, 2])) * draw(kink_of(X, 1))
    return f, list(X)


Vector = tuple[sp.Rational, ...]


@dataclass(frozen=True)
class PLExample:
    """A piecewise-linear function with its subdifferentials at ``point``, known by construction.

    Attributes
    ----------
    f, variables, point
        What to pass to :func:`ialam_verify.cases.analyze`.
    clarke : frozenset of vertex tuples
        Vertices of the Clarke subdifferential (exact rationals).
    limiting : frozenset of frozensets of vertex tuples
        The limiting subdifferential as a union of polytopes, each given by its vertices.
    frechet : frozenset of vertex tuples
        Vertices of the Fréchet subdifferential (empty set: empty).
    stationary : dict
        ``{"clarke", "limiting", "frechet", "local_minimizer"}`` -> ``bool`` (0 in the set; local
        minimality equals Fréchet stationarity for piecewise-linear functions).
    """

    f: sp.Expr
    variables: tuple[sp.Symbol, ...]
    point: tuple[int, ...]
    clarke: frozenset[Vector]
    limiting: frozenset[frozenset[Vector]]
    frechet: frozenset[Vector]
    stationary: dict[str, bool]


# (l, r) one-sided slopes at 0 of each elementary kink of y
_SLOPES = {"abs": (-1, 1), "relu": (0, 1), "max": (0, 1), "min": (1, 0)}


def _box_image(base: sp.Matrix, T: sp.Matrix, intervals: list[tuple[Any, Any]]) -> frozenset:
    """Vertices of base + T^T s, s in the box (T has independent rows: corners map to vertices)."""
    pts = set()
    for corner in itertools.product(*intervals):
        v = base + T.T * sp.Matrix(corner)
        pts.add(tuple(sp.nsimplify(x) for x in v))
    return frozenset(pts)


@st.composite
def pl_functions_with_subdifferentials(
    draw: Any, max_dim: int = 3, max_kinks: int | None = None
) -> PLExample:
    """Piecewise-linear functions with known Clarke, limiting and Fréchet subdifferentials and
    stationarity verdicts at an integer point (see the module docstring for the construction).

    ``max_dim`` bounds the number of variables, ``max_kinks`` (default ``max_dim``) the number of
    kinks active at the point (at least 1). The affine part is chosen so that 0 lies in, on the
    boundary of, or outside the subdifferentials with comparable frequency.
    """
    n = draw(st.integers(1, max_dim))
    k = draw(st.integers(1, min(n, max_kinks or n)))
    X = sp.symbols(f"x0:{n}")
    p = [draw(st.integers(-2, 2)) for _ in range(n)]
    order = draw(st.permutations(range(n)))
    rows = []
    for i in range(k):  # triangular in the permuted coordinates: independent rows
        t = [0] * n
        t[order[i]] = draw(st.sampled_from([-1, 1, 2]))
        for j in range(i + 1, n):
            t[order[j]] = draw(st.integers(-1, 1))
        rows.append(t)
    T = sp.Matrix(rows)
    shifted = [xi - pi for xi, pi in zip(X, p, strict=True)]
    f = sp.Integer(0)
    lo_hi: list[tuple[Any, Any]] = []
    concave: list[bool] = []
    for i in range(k):
        y = sum(tv * s for tv, s in zip(rows[i], shifted, strict=True))
        kind = draw(st.sampled_from(["abs", "relu", "leaky", "max", "min"]))
        a = draw(st.sampled_from([-2, -1, 1, 2]))
        if kind == "leaky":
            slope = draw(st.sampled_from(LEAKY_SLOPES))
            term, (l, r) = leaky_relu(y, slope), (slope, 1)
        elif kind in ("max", "min"):
            # q vanishes at p: Max2(y + q, q) = q + relu(y) and Min2(y + q, q) = q + min(y, 0)
            q = draw(affine(shifted))
            term = (Max2 if kind == "max" else Min2)(y + q, q) - q
            l, r = _SLOPES[kind]
        else:
            term, (l, r) = (sp.Abs(y) if kind == "abs" else relu(y)), _SLOPES[kind]
        f = f + a * term
        al, ar = a * sp.Rational(l), a * sp.Rational(r)
        lo_hi.append((min(al, ar), max(al, ar)))
        concave.append(bool(ar < al))  # slope decreases across the kink
    # kinks inactive at p: locally affine, they only move the gradient of the affine part
    cbar = sp.zeros(n, 1)
    for _ in range(draw(st.integers(0, 1))):
        y = draw(affine(shifted, active=False))  # y(p) = const != 0
        a = draw(st.sampled_from([-1, 1]))
        f = f + a * relu(y)
        if y.subs(dict(zip(X, p, strict=True))) > 0:
            cbar += a * sp.Matrix([sp.diff(y, xi) for xi in X])
    # the affine part: minus a point of T^T s for s at, inside, or outside the Clarke box
    target = []
    for lo, hi in lo_hi:
        target.append(
            draw(st.sampled_from([lo, hi, (lo + hi) / 2, hi + 1, lo - sp.Rational(1, 2)]))
        )
    c = -(T.T * sp.Matrix(target)) - cbar
    if draw(st.booleans()) and k < n:
        c[order[k]] += draw(st.sampled_from([-1, 1]))  # off the span of the t_k: nothing stationary
    f = f + sum(ci * xi for ci, xi in zip(c, X, strict=True))
    base = cbar + c  # gradient of the locally affine part
    clarke = _box_image(base, T, lo_hi)
    pieces = []
    for choice in itertools.product(
        *[
            [(lo, lo), (hi, hi)] if cv else [(lo, hi)]
            for (lo, hi), cv in zip(lo_hi, concave, strict=True)
        ]
    ):
        pieces.append(_box_image(base, T, list(choice)))
    frechet = frozenset() if any(concave) else clarke

    # stationarity: 0 = base + T^T s has at most one solution s (independent rows)
    s = None
    try:
        s_sol, params = T.T.gauss_jordan_solve(-base)
        if not params:  # pragma: no branch - T^T has full column rank
            s = list(s_sol)
    except ValueError:
        s = None

    def inside(sets: list[list[tuple[Any, Any]]]) -> bool:
        return s is not None and all(
            any(lo <= si <= hi for lo, hi in options) for si, options in zip(s, sets, strict=True)
        )

    clarke_ok = inside([[iv] for iv in lo_hi])
    limiting_ok = inside(
        [
            [(lo, lo), (hi, hi)] if cv else [(lo, hi)]
            for (lo, hi), cv in zip(lo_hi, concave, strict=True)
        ]
    )
    frechet_ok = clarke_ok and not any(concave)
    return PLExample(
        f,
        tuple(X),
        tuple(p),
        clarke,
        frozenset(pieces),
        frechet,
        {
            "clarke": clarke_ok,
            "limiting": limiting_ok,
            "frechet": frechet_ok,
            "local_minimizer": frechet_ok,
        },
    )
