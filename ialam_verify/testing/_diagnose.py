r"""Which stationarity equation is worst violated, for failure messages (a diagnostic, not a proof).

When no multiplier of any notion makes the residual small, the message names the variable whose
equation is furthest from holding at the **least-squares multiplier**: every multiplier of an active
constraint, every zero group's subgradient and every slope of a kink at zero left free (signs and
bounds dropped), i.e. :math:`\min_m \|r_0 - A m\|_2` with :math:`r_0` the residual at the fixed
parts. The entry of largest size of the minimizing residual is reported with its variable's name
(``W[l][i, j]``, ``b[l][i]``, ``V[l][i, n]``, ``U[l][i, n]`` for the lifted problems; Python layer
index ``l``). It is a pointer for the reader; the verdict itself comes from the certifier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

from ..stationarity import stationarity_residual


def _fixed_multipliers(prob: Any, act_tol: float) -> tuple[dict[str, Any], np.ndarray]:
    kinks_zero = np.abs(prob.kink_t) <= act_tol
    s = np.where(prob.kink_t > 0, prob.slope_pos, prob.slope_neg) * ~kinks_zero
    z = []
    for gr in prob.groups:
        nrm = np.linalg.norm(gr.value)
        z.append(gr.weight * gr.value / nrm if nrm > act_tol else np.zeros_like(gr.value))
    mult = {
        "lam": np.zeros(prob.g.size),
        "mu": np.zeros(prob.h.size),
        "nu": np.zeros(prob.G.size),
        "w": np.zeros(prob.H.size),
        "z": z,
        "s": s,
    }
    return mult, kinks_zero


def least_squares_residual(prob: Any, act_tol: float) -> np.ndarray:
    """The residual of the least-squares multiplier described in the module docstring."""
    mult, kinks_zero = _fixed_multipliers(prob, act_tol)
    r0 = stationarity_residual(prob, mult)
    cols = [
        prob.Jg[np.flatnonzero(prob.g <= act_tol)].T,
        prob.Jh.T,
        prob.JG[np.flatnonzero(prob.G <= act_tol)].T,
        prob.JH[np.flatnonzero(prob.H <= act_tol)].T,
    ]
    n = prob.n
    for gr in prob.groups:
        if np.linalg.norm(gr.value) <= act_tol:
            idx = np.asarray(gr.indices)
            cols.append(
                sp.csr_matrix((np.ones(idx.size), (idx, np.arange(idx.size))), shape=(n, idx.size))
            )
    kz = np.flatnonzero(kinks_zero)
    if kz.size:
        T = sp.csr_matrix(prob.kink_matrix())
        cols.append((sp.diags(prob.kink_coef[kz]) @ T[kz]).T)
    A = sp.hstack([sp.csr_matrix(c) for c in cols], format="csr")
    if A.shape[1] == 0:
        return r0
    m = lsqr(A, r0, atol=1e-14, btol=1e-14, iter_lim=20 * max(A.shape))[0]
    return r0 - A @ m


def lifted_variable_name(problem: Any, index: int) -> str:
    """Name of entry ``index`` of :math:`x = (w, b, v, u)` of the lifted problems of ``problem``."""
    from ..stationarity.lifted import Layout

    lay = Layout.of(problem)
    outs = lay.sizes[1:]
    for l, n_out in enumerate(outs):
        n_in = lay.sizes[l]
        k = index - lay.w(l)
        if 0 <= k < n_out * n_in:
            return f"W[{l}][{k % n_out}, {k // n_out}]"
        k = index - lay.b(l)
        if 0 <= k < n_out:
            return f"b[{l}][{k}]"
        for name, off in (("V", lay.v(l)), ("U", lay.u(l))):
            k = index - off
            if 0 <= k < n_out * lay.N:
                return f"{name}[{l}][{k % n_out}, {k // n_out}]"
    return f"x[{index}]"


def worst_equation(prob: Any, act_tol: float, problem: Any = None) -> str:
    """``"<variable>: <value>"`` for the largest entry of :func:`least_squares_residual`."""
    r = least_squares_residual(prob, act_tol)
    i = int(np.argmax(np.abs(r)))
    if problem is not None:
        name = lifted_variable_name(problem, i)
    elif prob.names is not None:
        name = prob.names[i]
    else:
        name = f"x[{i}]"
    return f"the equation of {name} (residual {r[i]:.3g} at the least-squares multiplier)"
