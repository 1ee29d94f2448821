"""Independent reference computations to test certifiers against (numpy / scipy / sympy only).

- :func:`brute_min_residual`: the smallest stationarity residual of an MPCC notion by enumerating
  every sign cell of every biactive pair's multipliers with scipy's ``linprog`` (HiGHS). Written from
  the *definitions* of the notions (predicates on one biactive pair), not from the branch table of
  :func:`ialam_verify.stationarity.classify`: every pair multiplier (nu, w) lies in the closure of one
  of nine cells (four open quadrants, four open half-axes, the origin); a notion's set on that pair is
  the union of the closed cells on whose relative interior its predicate holds. Exponential in the
  number of biactive pairs and kinks: for small instances only.
- :func:`pl_numeric` and :func:`sampled_gradients`: a sympy piecewise-linear function evaluated with
  numpy, and its gradients at random points near a point by central differences.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
from scipy.optimize import linprog

from ..cases import Max2, Min2, leaky_relu, relu  # noqa: F401  (the names lambdify must know)
from ..stationarity import MPCC

PREDICATES = {
    "W": lambda a, b: True,
    "A": lambda a, b: a >= 0 or b >= 0,
    "C": lambda a, b: a * b >= 0,
    "M": lambda a, b: (a >= 0 and b >= 0) or a == 0 or b == 0,
    "S": lambda a, b: a >= 0 and b >= 0,
    "KKT": lambda a, b: a >= 0 and b >= 0,
    "Clarke": lambda a, b: a >= 0 and b >= 0,
}
# cell representative -> (nu bounds, w bounds)
CELLS = {
    (1, 1): ((0, None), (0, None)),
    (1, -1): ((0, None), (None, 0)),
    (-1, 1): ((None, 0), (0, None)),
    (-1, -1): ((None, 0), (None, 0)),
    (0, 1): ((0, 0), (0, None)),
    (0, -1): ((0, 0), (None, 0)),
    (1, 0): ((0, None), (0, 0)),
    (-1, 0): ((None, 0), (0, 0)),
    (0, 0): ((0, 0), (0, 0)),
}


def brute_min_residual(
    prob: MPCC, notion: str, act_tol: float = 1e-6, kinks: str = "limiting"
) -> float:
    """Smallest :math:`\\|\\text{residual}\\|_\\infty` over the multiplier set of ``notion`` (one of
    W, A, C, M, S, KKT, Clarke) by enumeration; ``kinks`` is ``"limiting"`` (a concave kink at 0 takes
    one of its two slopes) or ``"clarke"`` (any slope between). Group terms are not supported."""
    if prob.groups:
        raise ValueError("brute_min_residual: problems with group terms are not supported")
    if notion not in PREDICATES:
        raise ValueError(f"notion must be one of {sorted(PREDICATES)}; got {notion!r}")
    if kinks not in ("limiting", "clarke"):
        raise ValueError(f"kinks must be 'limiting' or 'clarke'; got {kinks!r}")
    n = prob.n
    Jg, Jh, JG, JH = (M.toarray() for M in (prob.Jg, prob.Jh, prob.JG, prob.JH))
    T = prob.kink_matrix().toarray()
    g_act = prob.g <= act_tol
    G_act, H_act = prob.G <= act_tol, prob.H <= act_tol
    bi = np.flatnonzero(G_act & H_act)
    kz = np.flatnonzero(np.abs(prob.kink_t) <= act_tol)
    fixed = np.where(prob.kink_t > 0, prob.slope_pos, prob.slope_neg)
    const = prob.grad_f.copy()
    for k in range(prob.n_kinks):
        if k not in kz:
            const += T[k] * prob.kink_coef[k] * fixed[k]
    # columns: lam (all g), mu, nu, w, s (kinks at zero), r
    cols = [-Jg.T, -Jh.T, -JG.T, -JH.T, (T[kz] * prob.kink_coef[kz, None]).T]
    A = np.hstack([c.reshape(n, -1) for c in cols])
    nv = A.shape[1]
    base_bounds = (
        [(0, None) if a else (0, 0) for a in g_act]
        + [(None, None)] * prob.h.size
        + [(None, None) if a else (0, 0) for a in G_act]
        + [(None, None) if a else (0, 0) for a in H_act]
    )
    pair_cells = [
        [c for c in CELLS if PREDICATES[notion](*c)] if i in bi else [None]
        for i in range(prob.n_pairs)
    ]
    kink_opts = []
    concave = prob.concave_kinks()
    for k in kz:
        lo, hi = sorted((prob.slope_neg[k], prob.slope_pos[k]))
        if kinks == "limiting" and concave[k]:
            kink_opts.append([(lo, lo), (hi, hi)])
        else:
            kink_opts.append([(lo, hi)])
    best = np.inf
    # min r s.t. A x + const <= r, -(A x + const) <= r
    c = np.zeros(nv + 1)
    c[-1] = 1.0
    A_ub = np.vstack([np.hstack([A, -np.ones((n, 1))]), np.hstack([-A, -np.ones((n, 1))])])
    b_ub = np.concatenate([-const, const])
    off_nu = prob.g.size + prob.h.size
    off_w = off_nu + prob.n_pairs
    for cells in itertools.product(*pair_cells):
        for ks in itertools.product(*kink_opts):
            bounds = list(base_bounds)
            for i, cell in enumerate(cells):
                if cell is not None:
                    bounds[off_nu + i], bounds[off_w + i] = CELLS[cell]
            bounds += list(ks) + [(0, None)]
            res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
            if res.status != 0:
                raise RuntimeError(f"brute_min_residual: linprog failed: {res.message}")
            best = min(best, res.fun)
    return float(best)


# how lambdify evaluates the kink functions of ialam_verify.cases with numpy
NUMPY_KINKS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "leaky_relu": lambda x, a: np.where(x >= 0, x, a * x),
    "Max2": np.maximum,
    "Min2": np.minimum,
}


def pl_numeric(f: sp.Expr, X: list[sp.Symbol]):
    """``f`` as a numpy function of an ``m x n`` array of points (one per row) -> ``m`` values."""
    fn = sp.lambdify(X, f, modules=[NUMPY_KINKS, "numpy"])

    def call(P: np.ndarray) -> np.ndarray:
        out = fn(*[P[:, i] for i in range(P.shape[1])])
        return np.broadcast_to(np.asarray(out, dtype=float), (P.shape[0],))

    return call


def sampled_gradients(f, X, point, n_dirs=4000, radius=1e-3, step=1e-7, seed=0):
    """Gradients at ``n_dirs`` random points within ``radius`` of ``point`` by central differences
    (step ``step``); samples whose forward and backward quotients differ (a kink in between) are
    dropped. Returns an ``m x n`` array, ``m <= n_dirs``."""
    rng = np.random.default_rng(seed)
    n = len(X)
    call = pl_numeric(f, X)
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
