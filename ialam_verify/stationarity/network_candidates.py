r"""Candidate multipliers of the structured certifier at degenerate entries, without enumeration.

Used by :mod:`.network` for KKT of (PP) at many kinks (and the least-squares witness of (P)). A kink
with both constraints active allows :math:`\xi \in [\beta s - g, \beta s - \alpha g]` for
:math:`s \in \{\alpha, 1\}` (:math:`g = g_0 + A\xi`); nothing here decides a verdict: every
candidate is re-checked by :func:`.network_check.check_witness`.
"""

from __future__ import annotations

import numpy as np

from .network_program import ReducedProgram


def least_squares_solution(rp: ReducedProgram) -> dict:
    r"""The :math:`\xi` of least :math:`\|e_0 + B\xi\|_2` (the :math:`R^W, R^b` rows; minimal norm
    when :math:`B` loses rank), zero-column subgradients projected onto the ball. For (PP) this is
    the least-squares kink multiplier of :mod:`ialam_verify.solver.refine` (:math:`\xi = -t`): at a
    point where the reduced gradient on the kink manifold vanishes it has zero residual."""
    xi = np.linalg.lstsq(rp.B, -rp.e0, rcond=None)[0] if rp.e0.size else np.zeros(rp.K)
    Z = zero_group_projection(rp, xi) if rp.zero_groups else []
    s = rp.s_fixed.copy() if rp.st.kind == "PP" else None
    return {"xi": xi, "s": s, "Z": Z}


def zero_group_projection(rp: ReducedProgram, xi: np.ndarray) -> list[np.ndarray]:
    out = []
    E = rp.e0 + rp.B @ xi
    lam = rp.st.problem.lambda_w
    for _, _, rows in rp.zero_groups:
        a = -E[rows]
        nrm = float(np.linalg.norm(a))
        out.append(a * min(1.0, lam / nrm) if nrm > 0 else a)
    return out


def kink_slacks(rp: ReducedProgram, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""For each free entry of (PP) and :math:`s \in \{\alpha, 1\}`: how far :math:`\xi` is inside
    the set of :math:`\beta s - M^1 - \alpha M^2` allowed there, :math:`g = g_0 + A\xi` (negative:
    the distance outside). Both constraints active: the interval :math:`[\beta s - g, \beta s -
    \alpha g]`, slack :math:`\min(M^1, M^2)`; one active: the point :math:`\beta s - g` (or
    :math:`\beta s - \alpha g`); none: :math:`\beta s`. The two intervals of a biactive entry
    overlap iff :math:`g \ge \beta` (then their union is the hull and the choice does not matter)."""
    al = rp.st.problem.alpha
    g = rp.g0 + rp.A @ xi
    out = []
    for sv in (al, 1.0):
        bs = rp.beta_k * sv
        m1 = (bs - al * g - xi) / (1.0 - al)
        both = np.minimum(m1, g - m1)
        only_g = -np.abs(xi - bs + g)
        only_h = -np.abs(xi - bs + al * g)
        none = -np.abs(xi - bs)
        out.append(np.where(rp.G_act, np.where(rp.H_act, both, only_g), np.where(rp.H_act, only_h, none)))
    return out[0], out[1]


def slope_matters(rp: ReducedProgram) -> np.ndarray:
    r"""The kinks of (PP) whose slope choice can matter for KKT: all but the biactive ones where :math:`g` does
    not move with :math:`\xi` (a zero row of ``A``) and :math:`g \ge \beta`, where the two
    intervals of :func:`kink_slacks` overlap, their union is the Clarke hull, and the slope of the
    interval holding :math:`\xi` is taken afterwards."""
    fixed_g = ~np.any(rp.A != 0, axis=1)
    overlap = rp.G_act & rp.H_act & fixed_g & (rp.g0 >= rp.beta_k)
    return rp.kz_beta & ~overlap


#: rounds of the dive (each fixes the slopes of the kinks whose relaxed xi lies in neither interval)
DIVE_ROUNDS = 6
