"""Independent reference: brute-force enumeration of the multiplier disjunctions with scipy's linprog.

Written from the *definitions* of the notions (predicates on one biactive pair), not from the branch
table of ``classify``: every pair multiplier (nu, w) lies in the closure of one of nine cells (four open
quadrants, four open half-axes, the origin); a notion's set on that pair is the union of the closed
cells on whose relative interior its predicate holds.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import linprog

from ialam_verify.stationarity import MPCC

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
    """Smallest ||residual||_inf over the notion's multiplier set, by enumeration (no groups)."""
    assert not prob.groups
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
            assert res.status == 0, res.message
            best = min(best, res.fun)
    return float(best)
