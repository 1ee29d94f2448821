r"""The convex programs (cvxpy: Clarabel, HiGHS) that *find* multipliers, dual bounds and directions.

Nothing here is trusted: every answer is re-checked in numpy by :mod:`.kernel` /
:mod:`.certificate` before a verdict is given.

* :class:`ResidualProgram`: :math:`\min \|r(m)\|_\infty` over one convex branch of a multiplier set
  (sign patterns per pair, slope intervals per kink at zero, balls for groups at zero), with the
  dual vector :math:`y = y_+ - y_-` of the constraints :math:`\pm r(m) \le \rho` (so
  :math:`\|y\|_1 = 1` and :math:`\min_{m} y^T r(m)` is the program's value: a dual certificate).
* :func:`descent_direction`: :math:`\min f'(x; d)` over a B branch's cone and :math:`\|d\|_\infty\le 1`.
* :func:`b_direction_milp`: the same over all B branches at once (HiGHS, exact big-M on directions).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .kernel import Activity, Branch, Multipliers, fixed_part, group_subgradients_fixed
from .mpcc import MPCC

_SIGN = {"+": 1.0, "-": -1.0, "f": 0.0, "0": 0.0}
_ZERO = {"+": 0.0, "-": 0.0, "f": 0.0, "0": 1.0}


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send file descriptor 1 to stderr meanwhile: HiGHS prints a banner from C on stdout, which
    would corrupt a ``--json`` report."""
    try:
        fd = sys.stdout.fileno()
        target = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fd = target = None
    if fd is None or target is None:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        os.dup2(target, fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)


def project_pattern(x: np.ndarray, pats: np.ndarray) -> np.ndarray:
    """Project ``x`` entrywise onto the sign pattern ('+', '-', '0', 'f')."""
    out = np.asarray(x, dtype=float).copy()
    for i, c in enumerate(pats):
        if c == "+":
            out[i] = max(out[i], 0.0)
        elif c == "-":
            out[i] = min(out[i], 0.0)
        elif c == "0":
            out[i] = 0.0
    return out


@dataclass
class BranchSolution:
    """One solve: cvxpy ``status``, optimal ``value`` (None unless solved), the projected
    multipliers ``mult`` (exactly in the branch) and the dual vector ``y``."""

    status: str
    value: float | None
    mult: Multipliers | None
    y: np.ndarray | None


class ResidualProgram:
    """One parametrised cvxpy program: min ||r(m)||_inf over a convex branch (see module docstring)."""

    def __init__(self, prob: MPCC, act: Activity) -> None:
        import cvxpy as cp

        self.prob, self.act = prob, act
        self.cache: dict[tuple, BranchSolution] = {}
        n = prob.n
        self.ig = np.flatnonzero(act.g_active)
        self.iG = np.flatnonzero(act.G_active)
        self.iH = np.flatnonzero(act.H_active)
        self.zg = np.flatnonzero(act.zero_groups)
        self.kz = np.flatnonzero(act.kinks_at_zero)
        expr = fixed_part(prob, act)
        cons = []
        self.vars: dict[str, Any] = {}
        self.par: dict[str, Any] = {}
        if self.ig.size:
            lam = cp.Variable(self.ig.size, name="lam")
            expr = expr - prob.Jg[self.ig].T @ lam
            cons.append(lam >= 0)
            self.vars["lam"] = lam
        if prob.h.size:
            mu = cp.Variable(prob.h.size, name="mu")
            expr = expr - prob.Jh.T @ mu
            self.vars["mu"] = mu
        for key, idx, J in (("nu", self.iG, prob.JG), ("w", self.iH, prob.JH)):
            if idx.size:
                x = cp.Variable(idx.size, name=key)
                psign = cp.Parameter(idx.size, name=f"{key}_sign")
                pzero = cp.Parameter(idx.size, name=f"{key}_zero")
                expr = expr - J[idx].T @ x
                cons += [cp.multiply(psign, x) >= 0, cp.multiply(pzero, x) == 0]
                self.vars[key] = x
                self.par[key] = (psign, pzero)
        self.z_slices: list[slice] = []
        if self.zg.size:
            sizes = [prob.groups[j].indices.size for j in self.zg]
            z = cp.Variable(int(sum(sizes)), name="z")
            rows = np.concatenate([prob.groups[j].indices for j in self.zg])
            E = sp.csr_matrix((np.ones(rows.size), (rows, np.arange(rows.size))), (n, rows.size))
            expr = expr + E @ z
            off = 0
            for j, sz in zip(self.zg, sizes, strict=True):
                cons.append(cp.SOC(cp.Constant(prob.groups[j].weight), z[off : off + sz]))
                self.z_slices.append(slice(off, off + sz))
                off += sz
            self.vars["z"] = z
        if self.kz.size:
            s = cp.Variable(self.kz.size, name="s")
            slo = cp.Parameter(self.kz.size, name="s_lo")
            shi = cp.Parameter(self.kz.size, name="s_hi")
            Tk = prob.kink_matrix()[self.kz].T @ sp.diags(prob.kink_coef[self.kz])
            expr = expr + Tk @ s
            cons += [s >= slo, s <= shi]
            self.vars["s"] = s
            self.par["s"] = (slo, shi)
        r = cp.Variable(name="r")
        self.upper = expr <= r
        self.lower = -expr <= r
        self.problem = cp.Problem(cp.Minimize(r), cons + [self.upper, self.lower])

    def solve(self, br: Branch) -> BranchSolution:
        """Solve one branch (cached: notions sharing a branch share one solve)."""
        key = br.key()
        if key not in self.cache:
            self.cache[key] = self._solve(br)
        return self.cache[key]

    def _solve(self, br: Branch) -> BranchSolution:
        import cvxpy as cp

        for key, idx in (("nu", self.iG), ("w", self.iH)):
            if key in self.par:
                pats = (br.nu_pat if key == "nu" else br.w_pat)[idx]
                self.par[key][0].value = np.array([_SIGN[c] for c in pats])
                self.par[key][1].value = np.array([_ZERO[c] for c in pats])
        if "s" in self.par:
            self.par["s"][0].value = br.s_lo
            self.par["s"][1].value = br.s_hi
        try:
            self.problem.solve(solver=cp.CLARABEL)
        except cp.error.SolverError as exc:
            return BranchSolution(f"solver_error: {exc}", None, None, None)
        status = self.problem.status
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return BranchSolution(status, None, None, None)
        y = None
        if self.upper.dual_value is not None and self.lower.dual_value is not None:
            y = np.asarray(self.upper.dual_value, dtype=float) - np.asarray(
                self.lower.dual_value, dtype=float
            )
        return BranchSolution(status, float(self.problem.value), self._extract(br), y)

    def _extract(self, br: Branch) -> Multipliers:
        prob = self.prob
        mult = Multipliers.zeros(prob)
        if "lam" in self.vars:
            mult.lam[self.ig] = np.maximum(self.vars["lam"].value, 0.0)
        if "mu" in self.vars:
            mult.mu = np.asarray(self.vars["mu"].value, dtype=float).copy()
        for key, idx in (("nu", self.iG), ("w", self.iH)):
            if key in self.vars:
                getattr(mult, key)[idx] = project_pattern(
                    np.asarray(self.vars[key].value, dtype=float),
                    (br.nu_pat if key == "nu" else br.w_pat)[idx],
                )
        mult.z = group_subgradients_fixed(prob, self.act)
        if "z" in self.vars:
            zval = np.asarray(self.vars["z"].value, dtype=float)
            for j, sl in zip(self.zg, self.z_slices, strict=True):
                zj = zval[sl]
                nrm = np.linalg.norm(zj)
                wt = prob.groups[j].weight
                mult.z[j] = zj * (wt / nrm) if nrm > wt else zj
        if "s" in self.vars:
            mult.s[self.kz] = np.clip(
                np.asarray(self.vars["s"].value, dtype=float), br.s_lo, br.s_hi
            )
        return mult


def _branch_cone_constraints(prob: MPCC, act: Activity, br: Branch | None, d: Any) -> list:
    """Linearized cone of one B branch (``br``) or, with ``br`` None, without the biactive part."""
    cons = []
    if np.any(act.g_active):
        cons.append(prob.Jg[np.flatnonzero(act.g_active)] @ d >= 0)
    if prob.h.size:
        cons.append(prob.Jh @ d == 0)
    if prob.n_pairs:
        bi = act.biactive
        if br is None:
            g_branch = h_branch = np.zeros_like(bi)
        else:
            g_branch = bi & (br.nu_pat == "f")  # biactive, branch G_i = 0, H_i >= 0
            h_branch = bi & ~g_branch  # biactive, branch G_i >= 0, H_i = 0
        G_eq = np.flatnonzero((act.G_active & ~act.H_active) | g_branch)
        H_eq = np.flatnonzero((act.H_active & ~act.G_active) | h_branch)
        G_ge, H_ge = np.flatnonzero(h_branch), np.flatnonzero(g_branch)
        if G_eq.size:
            cons.append(prob.JG[G_eq] @ d == 0)
        if H_eq.size:
            cons.append(prob.JH[H_eq] @ d == 0)
        if G_ge.size:
            cons.append(prob.JG[G_ge] @ d >= 0)
        if H_ge.size:
            cons.append(prob.JH[H_ge] @ d >= 0)
    return cons


def descent_direction(
    prob: MPCC, act: Activity, br: Branch
) -> tuple[str, float | None, np.ndarray | None]:
    r"""``(status, value, d)`` of :math:`\min f'(x; d)` over branch ``br``'s cone, :math:`\|d\|_\infty \le 1`."""
    import cvxpy as cp

    d = cp.Variable(prob.n)
    T = prob.kink_matrix()
    obj = fixed_part(prob, act) @ d
    for j in np.flatnonzero(act.zero_groups):
        gr = prob.groups[j]
        obj = obj + gr.weight * cp.norm(d[gr.indices], 2)
    kz = np.flatnonzero(act.kinks_at_zero)
    for k, lo, hi in zip(kz, br.s_lo, br.s_hi, strict=True):
        tau = T[k] @ d
        c = prob.kink_coef[k]
        if lo == hi:  # concave kink, one slope of the min
            obj = obj + c * lo * tau
        else:
            obj = obj + cp.maximum(c * lo * tau, c * hi * tau)
    pr = cp.Problem(cp.Minimize(obj), [cp.abs(d) <= 1] + _branch_cone_constraints(prob, act, br, d))
    try:
        pr.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        return f"solver_error: {exc}", None, None
    if pr.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return pr.status, None, None
    return pr.status, float(pr.value), np.asarray(d.value, dtype=float)


def b_direction_milp(prob: MPCC, act: Activity) -> tuple[str, float | None, np.ndarray | None]:
    r"""Search all B branches at once for a descent direction: a mixed-integer LP (HiGHS) over
    :math:`\|d\|_\infty \le 1`, with exact big-M bounds (:math:`|J_i d| \le \|J_i\|_1`).

    Zero-group terms :math:`\lambda_J\|d_J\|_2` are replaced by the larger :math:`\lambda_J\|d_J\|_1`,
    so the value bounds :math:`\min f'` from above: a direction with value :math:`< -\tau` is a true
    descent direction (re-checked with numpy). It cannot prove that B holds.
    """
    import cvxpy as cp

    if "HIGHS" not in cp.installed_solvers():
        return "HiGHS (MILP) is not installed", None, None
    d = cp.Variable(prob.n)
    T = prob.kink_matrix()
    obj = fixed_part(prob, act) @ d
    cons = [cp.abs(d) <= 1] + _branch_cone_constraints(prob, act, None, d)
    for j in np.flatnonzero(act.zero_groups):
        gr = prob.groups[j]
        obj = obj + gr.weight * cp.norm(d[gr.indices], 1)
    concave = prob.concave_kinks()
    for k in np.flatnonzero(act.kinks_at_zero):
        tau = T[k] @ d
        c, lo, hi = prob.kink_coef[k], prob.slope_neg[k], prob.slope_pos[k]
        phi = cp.Variable()
        if concave[k]:
            big = 2 * abs(c) * max(abs(lo), abs(hi)) * float(abs(T[k]).sum()) + 1.0
            y = cp.Variable(boolean=True)
            cons += [phi >= c * lo * tau - big * y, phi >= c * hi * tau - big * (1 - y)]
        else:
            cons += [phi >= c * lo * tau, phi >= c * hi * tau]
        obj = obj + phi
    bi = np.flatnonzero(act.biactive)
    if bi.size:
        y = cp.Variable(bi.size, boolean=True)
        MG = np.asarray(abs(prob.JG[bi]).sum(axis=1)).ravel() + 1.0
        MH = np.asarray(abs(prob.JH[bi]).sum(axis=1)).ravel() + 1.0
        a, b = prob.JG[bi] @ d, prob.JH[bi] @ d
        cons += [a >= 0, b >= 0, a <= cp.multiply(MG, y), b <= cp.multiply(MH, 1 - y)]
    pr = cp.Problem(cp.Minimize(obj), cons)
    try:
        with stdout_to_stderr():
            pr.solve(solver=cp.HIGHS, output_flag=False)
    except cp.error.SolverError as exc:
        return f"solver error {exc}", None, None
    if pr.status != cp.OPTIMAL:
        return pr.status, None, None
    return pr.status, float(pr.value), np.asarray(d.value, dtype=float)


def polish_dual(prob: MPCC, cert: Any, rel: float = 1e-7) -> np.ndarray:
    r"""Make a solver's dual vector satisfy its cone conditions more exactly (untrusted help for
    :func:`~.certificate.dual_lower_bound`): project :math:`y` onto the null space of the rows that
    must vanish (:math:`J_h`; :math:`J_G`, :math:`J_H` rows with pattern 'f'; sign rows that are
    violated or within ``rel`` of zero), then scale to :math:`\|y\|_1 = 1`."""
    y = np.asarray(cert.y, dtype=float)
    l1 = float(np.sum(np.abs(y)))
    if not np.all(np.isfinite(y)) or l1 == 0:
        return y
    y = y / l1
    rows = []
    if prob.h.size:
        rows.append(prob.Jh)
    if prob.g.size:
        a = prob.Jg @ y
        sel = [i for i, c in enumerate(cert.lam) if c == "+" and a[i] > -rel]
        if sel:
            rows.append(prob.Jg[sel])
    for J, pat in ((prob.JG, cert.nu), (prob.JH, cert.w)):
        if J.shape[0]:
            a = J @ y
            sel = [
                i
                for i, c in enumerate(pat)
                if c == "f" or (c == "+" and a[i] > -rel) or (c == "-" and a[i] < rel)
            ]
            if sel:
                rows.append(J[sel])
    if not rows:
        return y
    B = sp.vstack(rows).toarray()
    if B.size > 4e7:
        return y
    coef, *_ = np.linalg.lstsq(B.T, y, rcond=None)
    y2 = y - B.T @ coef
    l1 = float(np.sum(np.abs(y2)))
    return y2 / l1 if l1 > 0 else y
