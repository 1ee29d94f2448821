r"""Decide stationarity notions over the whole multiplier set, with checkable witnesses.

For a problem :class:`~.mpcc.MPCC` at a point, every notion N is posed as

.. math::

    \rho_N = \min\ \Big\| \nabla f + \sum_J z_J + T^T(c \odot s) - J_g^T\lambda - J_h^T\mu
                 - J_G^T\nu - J_H^T w \Big\|_\infty
    \quad\text{over the multiplier set of N},

a union of convex sets (one per *branch*). Multiplier sets, with activity decided at ``act_tol``:
:math:`\lambda_i \ge 0` and :math:`\lambda_i = 0` if :math:`g_i > \mathrm{act\_tol}`;
:math:`\nu_i = 0` if :math:`G_i > \mathrm{act\_tol}`, :math:`w_i = 0` if :math:`H_i > \mathrm{act\_tol}`;
on a biactive pair

======  ==================================================================
 W      :math:`\nu_i, w_i` free
 A      :math:`\nu_i \ge 0` or :math:`w_i \ge 0`
 C      :math:`\nu_i w_i \ge 0` (branches: both :math:`\ge 0`, both :math:`\le 0`)
 M      both :math:`\ge 0`, or :math:`\nu_i = 0`, or :math:`w_i = 0`
 S      :math:`\nu_i \ge 0` and :math:`w_i \ge 0`
======  ==================================================================

For a plain NLP (no pairs) the notions are ``KKT`` (limiting subdifferential of the kink terms) and
``Clarke`` (Clarke subdifferential). A group term at :math:`x_J = 0` gives the ball
:math:`\|z_J\| \le \lambda_J` (an SOCP, solved by Clarabel); a kink term :math:`c\,\sigma(t)` at
:math:`t = 0` gives the slope set :math:`s \in [\min, \max]` of its two slopes (Clarke, and limiting
when the term is convex) or :math:`s \in \{s_-, s_+\}` (limiting, concave term).

B-stationarity of the linearized problem: :math:`f'(x; d) \ge 0` on the linearized MPCC cone. By
conic duality it holds iff every branch (per biactive pair: :math:`\nu_i` free, :math:`w_i \ge 0` or
:math:`\nu_i \ge 0`, :math:`w_i` free; per concave kink at 0 each slope) attains residual 0; a failing
branch yields a descent direction :math:`d` (``min f'(x; d)`` over the branch cone and
:math:`\|d\|_\infty \le 1`, whose value is :math:`-\rho_{1}` of that branch). Above
``max_branches`` a direction MILP (:func:`_b_milp`) can prove "fails" only.

Verdicts: ``holds`` when some branch reaches :math:`\rho \le` ``tol`` and the projected multipliers
pass :func:`check` (numpy) at ``tol``; ``fails`` when every branch is solved to optimality with
:math:`\rho >` ``tol`` + margin, margin :math:`= 10^{-6}\max(1, \|\nabla f\|_\infty)` (Clarabel's
default accuracy is :math:`10^{-8}`); ``undetermined`` otherwise (reason given);
``inconclusive`` when a solver does not report an optimal solution. Branches are enumerated while
their number is at most ``max_branches`` (default 64); above, A/C/M and limiting kink choices go to
one mixed-integer LP (HiGHS) with the big-M bound ``milp_bound`` on the pair multipliers. A big-M
MILP can prove ``holds`` (its multipliers are checked) but not ``fails`` (larger multipliers are not
excluded): its negative answer is ``undetermined``, except without biactive pairs (no big-M, only
exact slope binaries), where ``fails`` needs the value minus HiGHS's gap above ``tol`` + margin.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .mpcc import MPCC

MPCC_NOTIONS = ("W", "A", "C", "M", "S")
NLP_NOTIONS = ("KKT", "Clarke")
VERDICTS = ("holds", "fails", "undetermined", "inconclusive")

# per biactive pair: the branches of each notion, as (nu pattern, w pattern);
# '+' >= 0, '-' <= 0, 'f' free, '0' zero.
_PAIR_BRANCHES: dict[str, list[tuple[str, str]]] = {
    "W": [("f", "f")],
    "A": [("+", "f"), ("f", "+")],
    "C": [("+", "+"), ("-", "-")],
    "M": [("+", "+"), ("0", "f"), ("f", "0")],
    "S": [("+", "+")],
    "KKT": [("+", "+")],
    "Clarke": [("+", "+")],
    "B": [("f", "+"), ("+", "f")],
}
_SIGN = {"+": 1.0, "-": -1.0, "f": 0.0, "0": 0.0}
_ZERO = {"+": 0.0, "-": 0.0, "f": 0.0, "0": 1.0}


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
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


# ------------------------------------------------------------------------------------ activity
@dataclass(frozen=True)
class Activity:
    """Index sets at an activity tolerance ``a`` (boolean masks)."""

    a: float
    g_active: np.ndarray
    G_active: np.ndarray
    H_active: np.ndarray
    zero_groups: np.ndarray
    kinks_at_zero: np.ndarray

    @property
    def biactive(self) -> np.ndarray:
        return self.G_active & self.H_active

    @classmethod
    def at(cls, prob: MPCC, a: float) -> Activity:
        return cls(
            a,
            prob.g <= a,
            prob.G <= a,
            prob.H <= a,
            np.array([np.linalg.norm(gr.value) <= a for gr in prob.groups], dtype=bool),
            np.abs(prob.kink_t) <= a,
        )

    def key(self) -> tuple:
        return tuple(
            np.flatnonzero(m).tobytes()
            for m in (
                self.g_active,
                self.G_active,
                self.H_active,
                self.zero_groups,
                self.kinks_at_zero,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        def idx(m: np.ndarray) -> list[int]:
            return [int(i) for i in np.flatnonzero(m)]

        return {
            "activity_tol": self.a,
            "active": idx(self.g_active),
            "G_active": idx(self.G_active),
            "H_active": idx(self.H_active),
            "biactive": idx(self.biactive),
            "zero_groups": idx(self.zero_groups),
            "kinks_at_zero": idx(self.kinks_at_zero),
        }


# ---------------------------------------------------------------------------- numpy residuals
def _kink_slopes_fixed(prob: MPCC) -> np.ndarray:
    return np.where(prob.kink_t > 0, prob.slope_pos, prob.slope_neg)


def group_subgradients_fixed(prob: MPCC) -> list[np.ndarray]:
    r""":math:`\lambda_J x_J / \|x_J\|` for every group (zeros where :math:`x_J = 0`)."""
    out = []
    for gr in prob.groups:
        nrm = np.linalg.norm(gr.value)
        out.append(gr.weight * gr.value / nrm if nrm > 0 else np.zeros_like(gr.value))
    return out


def _fixed_part(prob: MPCC, act: Any) -> np.ndarray:
    """The part of the stationarity residual that no multiplier moves: grad f, the subgradients of
    the groups not at zero, and the slopes of the kinks not at zero."""
    const = prob.grad_f.astype(float).copy()
    for gr, zf in zip(prob.groups, group_subgradients_fixed(prob), strict=True):
        np.add.at(const, gr.indices, zf)
    kfix = np.flatnonzero(~act.kinks_at_zero)
    if kfix.size:
        T = prob.kink_matrix()
        const += T[kfix].T @ (prob.kink_coef[kfix] * _kink_slopes_fixed(prob)[kfix])
    return const


def stationarity_residual(prob: MPCC, mult: dict[str, Any]) -> np.ndarray:
    r"""The vector :math:`\nabla f + \sum_J E_J z_J + T^T(c\odot s) - J_g^T\lambda - J_h^T\mu - J_G^T\nu - J_H^T w`."""
    r = prob.grad_f.astype(float).copy()
    for gr, z in zip(prob.groups, mult["z"], strict=True):
        np.add.at(r, gr.indices, np.asarray(z, dtype=float))
    if prob.n_kinks:
        r += prob.kink_matrix().T @ (prob.kink_coef * np.asarray(mult["s"], dtype=float))
    for J, key in ((prob.Jg, "lam"), (prob.Jh, "mu"), (prob.JG, "nu"), (prob.JH, "w")):
        if J.shape[0]:
            r -= J.T @ np.asarray(mult[key], dtype=float)
    return r


def _pair_violation(pattern: str, x: np.ndarray) -> np.ndarray:
    if pattern == "+":
        return np.maximum(-x, 0.0)
    if pattern == "-":
        return np.maximum(x, 0.0)
    if pattern == "0":
        return np.abs(x)
    return np.zeros_like(x)


def multiplier_violation(
    prob: MPCC, act: Activity, mult: dict[str, Any], notion: str, nonsmooth: str
) -> dict[str, float]:
    """Largest violation of each membership rule of ``notion``'s multiplier set (0 = member)."""
    lam = np.asarray(mult["lam"], dtype=float)
    nu = np.asarray(mult["nu"], dtype=float)
    w = np.asarray(mult["w"], dtype=float)
    s = np.asarray(mult["s"], dtype=float)
    out: dict[str, float] = {}
    out["lambda_sign"] = float(np.max(np.maximum(-lam, 0.0), initial=0.0))
    out["lambda_inactive"] = float(np.max(np.abs(lam[~act.g_active]), initial=0.0))
    out["nu_inactive"] = float(np.max(np.abs(nu[~act.G_active]), initial=0.0))
    out["w_inactive"] = float(np.max(np.abs(w[~act.H_active]), initial=0.0))
    bi = np.flatnonzero(act.biactive)
    pv = 0.0
    for i in bi:
        best = min(
            max(_pair_violation(pn, nu[i : i + 1])[0], _pair_violation(pw, w[i : i + 1])[0])
            for pn, pw in _PAIR_BRANCHES[notion]
        )
        pv = max(pv, float(best))
    out["pair_rule"] = pv
    gv = 0.0
    for gr, z, zero, zf in zip(
        prob.groups, mult["z"], act.zero_groups, group_subgradients_fixed(prob), strict=True
    ):
        z = np.asarray(z, dtype=float)
        if zero:
            gv = max(gv, float(np.linalg.norm(z) - gr.weight))
        else:
            gv = max(gv, float(np.linalg.norm(z - zf)))
    out["group_subgradient"] = max(gv, 0.0)
    kv = 0.0
    fixed = _kink_slopes_fixed(prob)
    concave = prob.concave_kinks()
    for k in range(prob.n_kinks):
        lo, hi = sorted((prob.slope_neg[k], prob.slope_pos[k]))
        if not act.kinks_at_zero[k]:
            kv = max(kv, abs(s[k] - fixed[k]))
        elif nonsmooth == "limiting" and concave[k]:
            kv = max(kv, min(abs(s[k] - lo), abs(s[k] - hi)))
        else:
            kv = max(kv, max(lo - s[k], s[k] - hi, 0.0))
    out["kink_slope"] = float(kv)
    return out


# ------------------------------------------------------------------------- branch programs
@dataclass
class _Branch:
    nu_pat: np.ndarray  # per pair: pattern char
    w_pat: np.ndarray
    s_lo: np.ndarray  # per kink at zero
    s_hi: np.ndarray


class _ResidualProgram:
    """One parametrised cvxpy program: min ||residual||_inf over a convex branch."""

    def __init__(self, prob: MPCC, act: Activity, norm: str = "inf") -> None:
        import cvxpy as cp

        self.prob, self.act = prob, act
        self.cache: dict[tuple, tuple[str, float | None, dict[str, Any] | None]] = {}
        n = prob.n
        self.ig = np.flatnonzero(act.g_active)
        self.iG = np.flatnonzero(act.G_active)
        self.iH = np.flatnonzero(act.H_active)
        self.zg = np.flatnonzero(act.zero_groups)
        self.kz = np.flatnonzero(act.kinks_at_zero)
        const = _fixed_part(prob, act)
        T = prob.kink_matrix()
        self.const = const
        expr = const
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
        if self.zg.size:
            sizes = [prob.groups[j].indices.size for j in self.zg]
            z = cp.Variable(int(sum(sizes)), name="z")
            rows = np.concatenate([prob.groups[j].indices for j in self.zg])
            E = sp.csr_matrix((np.ones(rows.size), (rows, np.arange(rows.size))), (n, rows.size))
            expr = expr + E @ z
            off = 0
            self.z_slices = []
            for j, sz in zip(self.zg, sizes, strict=True):
                cons.append(cp.SOC(cp.Constant(prob.groups[j].weight), z[off : off + sz]))
                self.z_slices.append(slice(off, off + sz))
                off += sz
            self.vars["z"] = z
        if self.kz.size:
            s = cp.Variable(self.kz.size, name="s")
            slo = cp.Parameter(self.kz.size, name="s_lo")
            shi = cp.Parameter(self.kz.size, name="s_hi")
            Tk = T[self.kz].T @ sp.diags(prob.kink_coef[self.kz])
            expr = expr + Tk @ s
            cons += [s >= slo, s <= shi]
            self.vars["s"] = s
            self.par["s"] = (slo, shi)
        r = cp.Variable(name="r")
        if norm == "inf":
            cons += [expr <= r, -expr <= r]
        else:  # l1
            t = cp.Variable(n, name="t")
            cons += [expr <= t, -expr <= t, cp.sum(t) <= r]
        self.r = r
        self.problem = cp.Problem(cp.Minimize(r), cons)

    def solve(self, br: _Branch) -> tuple[str, float | None, dict[str, Any] | None]:
        """Solve one branch (cached: notions sharing a branch share one solve)."""
        key = (br.nu_pat.tobytes(), br.w_pat.tobytes(), br.s_lo.tobytes(), br.s_hi.tobytes())
        if key not in self.cache:
            self.cache[key] = self._solve(br)
        return self.cache[key]

    def _solve(self, br: _Branch) -> tuple[str, float | None, dict[str, Any] | None]:
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
            return f"solver_error: {exc}", None, None
        status = self.problem.status
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return status, None, None
        return status, float(self.problem.value), self._extract(br)

    def _extract(self, br: _Branch) -> dict[str, Any]:
        prob = self.prob
        mult = _zero_multipliers(prob)
        if "lam" in self.vars:
            mult["lam"][self.ig] = np.maximum(self.vars["lam"].value, 0.0)
        if "mu" in self.vars:
            mult["mu"] = np.asarray(self.vars["mu"].value, dtype=float).copy()
        for key, idx in (("nu", self.iG), ("w", self.iH)):
            if key in self.vars:
                mult[key][idx] = _project_pattern(
                    np.asarray(self.vars[key].value, dtype=float),
                    (br.nu_pat if key == "nu" else br.w_pat)[idx],
                )
        mult["z"] = group_subgradients_fixed(prob)
        if "z" in self.vars:
            zval = np.asarray(self.vars["z"].value, dtype=float)
            for j, sl in zip(self.zg, self.z_slices, strict=True):
                zj = zval[sl]
                nrm = np.linalg.norm(zj)
                wt = prob.groups[j].weight
                mult["z"][j] = zj * (wt / nrm) if nrm > wt else zj
        s = _kink_slopes_fixed(prob).astype(float)
        if "s" in self.vars:
            s[self.kz] = np.clip(np.asarray(self.vars["s"].value, dtype=float), br.s_lo, br.s_hi)
        mult["s"] = s
        return mult


def _project_pattern(x: np.ndarray, pats: np.ndarray) -> np.ndarray:
    out = x.copy()
    for i, c in enumerate(pats):
        if c == "+":
            out[i] = max(out[i], 0.0)
        elif c == "-":
            out[i] = min(out[i], 0.0)
        elif c == "0":
            out[i] = 0.0
    return out


def _zero_multipliers(prob: MPCC) -> dict[str, Any]:
    return {
        "lam": np.zeros(prob.g.size),
        "mu": np.zeros(prob.h.size),
        "nu": np.zeros(prob.n_pairs),
        "w": np.zeros(prob.n_pairs),
        "z": [np.zeros(gr.indices.size) for gr in prob.groups],
        "s": _kink_slopes_fixed(prob).astype(float),
    }


def _base_patterns(prob: MPCC, act: Activity) -> tuple[np.ndarray, np.ndarray]:
    nu_pat = np.where(act.G_active, "f", "0").astype("<U1")
    w_pat = np.where(act.H_active, "f", "0").astype("<U1")
    return nu_pat, w_pat


def _kink_options(prob: MPCC, act: Activity, mode: str) -> list[list[tuple[float, float]]]:
    """Per kink at zero: list of (lo, hi) slope intervals whose union is the allowed slope set."""
    concave = prob.concave_kinks()
    out = []
    for k in np.flatnonzero(act.kinks_at_zero):
        lo, hi = sorted((float(prob.slope_neg[k]), float(prob.slope_pos[k])))
        if mode == "limiting" and concave[k]:
            out.append([(lo, lo), (hi, hi)])
        else:
            out.append([(lo, hi)])
    return out


def _branches(
    prob: MPCC, act: Activity, notion: str, kink_mode: str
) -> tuple[int, itertools.product | None]:
    bi = np.flatnonzero(act.biactive)
    pair_opts = _PAIR_BRANCHES[notion]
    kopts = _kink_options(prob, act, kink_mode)
    count = len(pair_opts) ** bi.size
    for o in kopts:
        count *= len(o)
    nu0, w0 = _base_patterns(prob, act)

    def gen():
        for choice in itertools.product(range(len(pair_opts)), repeat=bi.size):
            nu_pat, w_pat = nu0.copy(), w0.copy()
            for i, c in zip(bi, choice, strict=True):
                nu_pat[i], w_pat[i] = pair_opts[c]
            for kc in itertools.product(*kopts):
                lo = np.array([a for a, _ in kc], dtype=float)
                hi = np.array([b for _, b in kc], dtype=float)
                yield _Branch(nu_pat, w_pat, lo, hi)

    return count, gen()


# ------------------------------------------------------------------------------- results
@dataclass
class NotionResult:
    """Verdict of one notion: ``verdict`` in ``VERDICTS``, ``reason``, the smallest residual the
    solver reported over the branches (``min_residual``), the numpy residual of the witness, and the
    witness multipliers (``None`` unless ``holds``)."""

    verdict: str
    reason: str
    min_residual: float | None = None
    witness_residual: float | None = None
    witness: dict[str, Any] | None = None
    branches: int = 0
    method: str = "enumeration"
    descent_direction: np.ndarray | None = None
    branch_witnesses: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        def enc(m: dict[str, Any] | None) -> dict[str, Any] | None:
            if m is None:
                return None
            return {
                k: ([np.asarray(z).tolist() for z in v] if k == "z" else np.asarray(v).tolist())
                if k != "pattern"
                else v
                for k, v in m.items()
            }

        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "min_residual": self.min_residual,
            "witness_residual": self.witness_residual,
            "witness": enc(self.witness),
            "branches": self.branches,
            "method": self.method,
            "descent_direction": None
            if self.descent_direction is None
            else np.asarray(self.descent_direction).tolist(),
            "branch_witnesses": None
            if self.branch_witnesses is None
            else [enc(m) for m in self.branch_witnesses],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NotionResult:
        def dec(m: dict[str, Any] | None) -> dict[str, Any] | None:
            if m is None:
                return None
            out = {}
            for k, v in m.items():
                if k == "z":
                    out[k] = [np.asarray(z, dtype=float) for z in v]
                elif k == "pattern":
                    out[k] = v
                else:
                    out[k] = np.asarray(v, dtype=float)
            return out

        return cls(
            d["verdict"],
            d["reason"],
            d.get("min_residual"),
            d.get("witness_residual"),
            dec(d.get("witness")),
            int(d.get("branches", 0)),
            d.get("method", "enumeration"),
            None
            if d.get("descent_direction") is None
            else np.asarray(d["descent_direction"], dtype=float),
            None if d.get("branch_witnesses") is None else [dec(m) for m in d["branch_witnesses"]],
        )


@dataclass
class Certificate:
    """What :func:`classify` found: activity sets, one :class:`NotionResult` per notion, the
    strongest notions that hold, tolerances and timing. Saves to JSON (:meth:`save`)."""

    kind: str  # "mpcc" or "nlp"
    tol: float
    act_tol: float
    band: float
    nonsmooth: str
    margin: float
    activity: dict[str, Any]
    results: dict[str, NotionResult]
    feasibility: dict[str, float]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def strongest(self) -> list[str]:
        """The notions that hold and are not implied by another one that holds."""
        order = ["S", "M", "A", "C", "W"] if self.kind == "mpcc" else ["KKT", "Clarke"]
        implied = {
            "S": {"M", "A", "C", "W"},
            "M": {"A", "C", "W"},
            "A": {"W"},
            "C": {"W"},
            "W": set(),
            "KKT": {"Clarke"},
            "Clarke": set(),
        }
        held = [n for n in order if n in self.results and self.results[n].verdict == "holds"]
        covered: set[str] = set()
        out = []
        for n in held:
            if n not in covered:
                out.append(n)
            covered |= implied[n]
        return out

    def verdicts(self) -> dict[str, str]:
        return {k: v.verdict for k, v in self.results.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "tol": self.tol,
            "act_tol": self.act_tol,
            "band": self.band,
            "nonsmooth": self.nonsmooth,
            "margin": self.margin,
            "activity": self.activity,
            "results": {k: v.to_dict() for k, v in self.results.items()},
            "strongest": self.strongest,
            "feasibility": self.feasibility,
            "seconds": self.seconds,
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Certificate:
        return cls(
            d["kind"],
            float(d["tol"]),
            float(d["act_tol"]),
            float(d["band"]),
            d["nonsmooth"],
            float(d["margin"]),
            d["activity"],
            {k: NotionResult.from_dict(v) for k, v in d["results"].items()},
            d["feasibility"],
            float(d.get("seconds", 0.0)),
            list(d.get("notes", [])),
        )

    def save(self, path: str) -> None:
        from ..io import atomic_write_json

        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str) -> Certificate:
        with open(path, encoding="utf-8") as fh:
            return cls.from_dict(json.load(fh))


# ------------------------------------------------------------------------------- classify
def feasibility(prob: MPCC) -> dict[str, float]:
    """Largest violations of :math:`g \\ge 0`, :math:`h = 0`, :math:`G, H \\ge 0` and :math:`\\min(G, H) = 0`."""

    def mx(a: np.ndarray) -> float:
        return float(np.max(a, initial=0.0))

    return {
        "g": mx(-prob.g),
        "h": mx(np.abs(prob.h)),
        "G": mx(-prob.G),
        "H": mx(-prob.H),
        "complementarity": mx(np.abs(np.minimum(prob.G, prob.H))),
    }


def _check_args(tol: float, act_tol: float, band: float, nonsmooth: str, max_branches: int) -> None:
    for name, val in (("tol", tol), ("act_tol", act_tol)):
        if not (isinstance(val, (int, float)) and np.isfinite(val) and val > 0):
            raise ValueError(f"{name} must be a finite number > 0; got {val!r}")
    if not (np.isfinite(band) and band >= 1):
        raise ValueError(f"band must be a finite number >= 1; got {band!r}")
    if nonsmooth not in ("limiting", "clarke"):
        raise ValueError(f"nonsmooth must be 'limiting' or 'clarke'; got {nonsmooth!r}")
    if int(max_branches) != max_branches or max_branches < 1:
        raise ValueError(f"max_branches must be a positive integer; got {max_branches!r}")


def classify(
    prob: MPCC,
    *,
    tol: float = 1e-6,
    act_tol: float = 1e-6,
    band: float = 10.0,
    nonsmooth: str = "limiting",
    max_branches: int = 64,
    milp_bound: float = 1e4,
    notions: tuple[str, ...] | None = None,
    b_stationarity: bool = True,
) -> Certificate:
    r"""Classify the point of ``prob``; see the module docstring for the programs and verdicts.

    Parameters
    ----------
    tol : float
        Sign/residual tolerance: a notion holds when some multiplier of its set gives
        :math:`\|\text{residual}\|_\infty \le` ``tol`` (checked with numpy).
    act_tol : float
        Activity tolerance: a constraint, a group :math:`\|x_J\|` or a kink value :math:`|t|` at most
        ``act_tol`` counts as active / zero.
    band : float
        The activity band is ``[act_tol / band, act_tol * band]``; a verdict that changes when the
        indices in the band are all counted active or all inactive becomes ``undetermined``.
    nonsmooth : {"limiting", "clarke"}
        Subdifferential of the kink terms in the MPCC notions (NLPs get both ``KKT`` and ``Clarke``).
    max_branches : int
        Largest number of branches enumerated; above, a mixed-integer LP is used.
    milp_bound : float
        Big-M bound on pair multipliers in the mixed-integer LP.
    """
    _check_args(tol, act_tol, band, nonsmooth, max_branches)
    if not isinstance(prob, MPCC):
        raise ValueError(f"prob must be an MPCC; got {type(prob).__name__}")
    t0 = time.perf_counter()
    kind = "nlp" if prob.is_nlp else "mpcc"
    if notions is None:
        notions = NLP_NOTIONS if kind == "nlp" else MPCC_NOTIONS
    margin = 1e-6 * max(1.0, float(np.max(np.abs(prob.grad_f))))
    act = Activity.at(prob, act_tol)
    program = _ResidualProgram(prob, act)
    results = _classify_at(
        prob, act, tol, margin, nonsmooth, max_branches, milp_bound, notions, program
    )
    if b_stationarity:
        results["B"] = _b_stationarity(prob, act, tol, margin, max_branches, results, program)
    notes: list[str] = []
    lo, hi = Activity.at(prob, act_tol / band), Activity.at(prob, act_tol * band)
    if lo.key() != act.key() or hi.key() != act.key():
        for other in (lo, hi):
            if other.key() == act.key():
                continue
            alt = _classify_at(
                prob, other, tol, margin, nonsmooth, max_branches, milp_bound, notions
            )
            if b_stationarity:
                alt["B"] = _b_stationarity(prob, other, tol, margin, max_branches, alt)
            for k, res in results.items():
                if k in alt and alt[k].verdict != res.verdict and res.verdict in ("holds", "fails"):
                    if alt[k].verdict in ("holds", "fails"):
                        res.reason = (
                            f"verdict changes within the activity band: {res.verdict} at "
                            f"act_tol={act_tol:g}, {alt[k].verdict} at {other.a:g}"
                        )
                        res.verdict = "undetermined"
        notes.append(
            f"indices within the activity band [{act_tol / band:g}, {act_tol * band:g}] were "
            "re-classified both ways"
        )
    feas = feasibility(prob)
    if max(feas.values()) > act_tol:
        notes.append(
            f"the point violates the constraints by {max(feas.values()):.3g} > act_tol; the "
            "notions are evaluated at it as given"
        )
    return Certificate(
        kind,
        float(tol),
        float(act_tol),
        float(band),
        nonsmooth,
        margin,
        act.to_dict(),
        results,
        feas,
        time.perf_counter() - t0,
        notes,
    )


def _notion_kink_mode(notion: str, nonsmooth: str) -> str:
    if notion == "KKT":
        return "limiting"
    if notion == "Clarke":
        return "clarke"
    return nonsmooth


def _classify_at(
    prob: MPCC,
    act: Activity,
    tol: float,
    margin: float,
    nonsmooth: str,
    max_branches: int,
    milp_bound: float,
    notions: tuple[str, ...],
    program: _ResidualProgram | None = None,
) -> dict[str, NotionResult]:
    if program is None:
        program = _ResidualProgram(prob, act)
    results: dict[str, NotionResult] = {}
    # cheap implications first: W (or Clarke) is the relaxation, S (or KKT) the restriction
    order = sorted(notions, key=lambda n: {"W": 0, "S": 1, "Clarke": 0, "KKT": 1}.get(n, 2))
    for notion in order:
        kink_mode = _notion_kink_mode(notion, nonsmooth)
        relax = "W" if notion in MPCC_NOTIONS else "Clarke"
        restr = "S" if notion in MPCC_NOTIONS else "KKT"
        if notion not in (relax, restr) and relax in results and results[relax].verdict == "fails":
            results[notion] = NotionResult(
                "fails",
                f"implied: the larger multiplier set of {relax} already fails",
                results[relax].min_residual,
            )
            continue
        if notion != restr and restr in results and results[restr].verdict == "holds":
            wit = results[restr].witness
            viol = multiplier_violation(prob, act, wit, notion, kink_mode)
            res = float(np.max(np.abs(stationarity_residual(prob, wit))))
            if max(viol.values()) <= tol and res <= tol:
                results[notion] = NotionResult(
                    "holds", f"implied: the {restr} witness belongs to {notion}", res, res, wit
                )
                continue
        results[notion] = _decide(
            prob, act, program, notion, kink_mode, tol, margin, max_branches, milp_bound
        )
    return {n: results[n] for n in notions}


def _decide(
    prob: MPCC,
    act: Activity,
    program: _ResidualProgram,
    notion: str,
    kink_mode: str,
    tol: float,
    margin: float,
    max_branches: int,
    milp_bound: float,
) -> NotionResult:
    count, gen = _branches(prob, act, notion, kink_mode)
    if count > max_branches:
        return _decide_milp(prob, act, notion, kink_mode, tol, margin, milp_bound, count)
    best_val = np.inf
    best: tuple[float, dict[str, Any]] | None = None
    bad_status: list[str] = []
    inaccurate = False
    for br in gen:
        status, val, mult = program.solve(br)
        if val is None or mult is None:
            bad_status.append(status)
            continue
        if status != "optimal":
            inaccurate = True
        best_val = min(best_val, val)
        res = float(np.max(np.abs(stationarity_residual(prob, mult))))
        viol = max(multiplier_violation(prob, act, mult, notion, kink_mode).values())
        if res <= tol and viol <= tol:  # numpy-checked, whatever the solver value
            return NotionResult("holds", "witness checked with numpy", val, res, mult, count)
        if best is None or res < best[0]:
            best = (res, mult)
    mr = None if not np.isfinite(best_val) else float(best_val)
    if bad_status:
        return NotionResult(
            "inconclusive", f"solver status {sorted(set(bad_status))} on some branch", mr, None
        )
    if best_val > tol + margin and not inaccurate:
        return NotionResult(
            "fails",
            f"smallest residual {best_val:.3g} > tol {tol:g} + margin {margin:.1g} on all {count} branches",
            mr,
            branches=count,
        )
    reason = (
        f"smallest residual {best_val:.3g} is within tol + margin, or the solver was inaccurate"
        if best is None or best_val > tol
        else f"solver value {best_val:.3g} <= tol but the projected witness has residual {best[0]:.3g}"
    )
    return NotionResult(
        "undetermined", reason, mr, None if best is None else best[0], branches=count
    )


def _decide_milp(
    prob: MPCC,
    act: Activity,
    notion: str,
    kink_mode: str,
    tol: float,
    margin: float,
    M: float,
    count: int,
) -> NotionResult:
    """One mixed-integer LP (HiGHS) over all branches; balls replaced by inscribed (holds) and
    circumscribed (fails) infinity-norm boxes."""
    import cvxpy as cp

    if "HIGHS" not in cp.installed_solvers():
        return NotionResult("inconclusive", "HiGHS (MILP) is not installed", branches=count)
    n = prob.n
    ig = np.flatnonzero(act.g_active)
    bi = np.flatnonzero(act.biactive)
    zg = np.flatnonzero(act.zero_groups)
    kz = np.flatnonzero(act.kinks_at_zero)
    concave = prob.concave_kinks()
    const = _fixed_part(prob, act)
    T = prob.kink_matrix()

    def build(ball: str):
        expr = const
        cons = []
        v: dict[str, Any] = {}
        if ig.size:
            v["lam"] = cp.Variable(ig.size)
            expr = expr - prob.Jg[ig].T @ v["lam"]
            cons.append(v["lam"] >= 0)
        if prob.h.size:
            v["mu"] = cp.Variable(prob.h.size)
            expr = expr - prob.Jh.T @ v["mu"]
        nu = cp.Variable(n_pairs := prob.n_pairs) if prob.n_pairs else None
        w = cp.Variable(n_pairs) if prob.n_pairs else None
        if nu is not None:
            expr = expr - prob.JG.T @ nu - prob.JH.T @ w
            notG = np.flatnonzero(~act.G_active)
            notH = np.flatnonzero(~act.H_active)
            if notG.size:
                cons.append(nu[notG] == 0)
            if notH.size:
                cons.append(w[notH] == 0)
            v["nu"], v["w"] = nu, w
        if bi.size:
            a, b = nu[bi], w[bi]
            cons += [cp.abs(a) <= M, cp.abs(b) <= M]
            if notion == "S":
                cons += [a >= 0, b >= 0]
            elif notion == "A":
                y = cp.Variable(bi.size, boolean=True)
                cons += [a >= -M * y, b >= -M * (1 - y)]
            elif notion == "C":
                y = cp.Variable(bi.size, boolean=True)
                cons += [a >= -M * y, b >= -M * y, a <= M * (1 - y), b <= M * (1 - y)]
            elif notion == "M":
                y = cp.Variable((3, bi.size), boolean=True)
                cons += [
                    cp.sum(y, axis=0) == 1,
                    a >= -M * (1 - y[0]),
                    b >= -M * (1 - y[0]),
                    cp.abs(a) <= M * (1 - y[1]),
                    cp.abs(b) <= M * (1 - y[2]),
                ]
        zparts = []
        if zg.size:
            rows = np.concatenate([prob.groups[j].indices for j in zg])
            z = cp.Variable(rows.size)
            E = sp.csr_matrix((np.ones(rows.size), (rows, np.arange(rows.size))), (n, rows.size))
            expr = expr + E @ z
            off = 0
            for j in zg:
                sz = prob.groups[j].indices.size
                rad = prob.groups[j].weight / (np.sqrt(sz) if ball == "inner" else 1.0)
                cons.append(cp.abs(z[off : off + sz]) <= rad)
                zparts.append((j, slice(off, off + sz)))
                off += sz
            v["z"] = z
        if kz.size:
            s = cp.Variable(kz.size)
            lo = np.minimum(prob.slope_neg[kz], prob.slope_pos[kz])
            hi = np.maximum(prob.slope_neg[kz], prob.slope_pos[kz])
            comb = concave[kz] & (kink_mode == "limiting")
            if np.any(comb):
                yk = cp.Variable(int(np.sum(comb)), boolean=True)
                ic = np.flatnonzero(comb)
                cons.append(s[ic] == lo[ic] + cp.multiply(hi[ic] - lo[ic], yk))
            cons += [s >= lo, s <= hi]
            expr = expr + (T[kz].T @ sp.diags(prob.kink_coef[kz])) @ s
            v["s"] = s
        r = cp.Variable()
        cons += [expr <= r, -expr <= r]
        return cp.Problem(cp.Minimize(r), cons), v, zparts

    def run(ball: str):
        pr, v, zparts = build(ball)
        try:
            with _stdout_to_stderr():
                pr.solve(solver=cp.HIGHS, output_flag=False)
        except cp.error.SolverError as exc:
            return f"solver_error: {exc}", None, None
        if pr.status != cp.OPTIMAL:
            return pr.status, None, None
        mult = _zero_multipliers(prob)
        if "lam" in v:
            mult["lam"][ig] = np.maximum(v["lam"].value, 0.0)
        if "mu" in v:
            mult["mu"] = np.asarray(v["mu"].value, dtype=float)
        if "nu" in v:
            mult["nu"] = np.asarray(v["nu"].value, dtype=float)
            mult["w"] = np.asarray(v["w"].value, dtype=float)
            mult["nu"][~act.G_active] = 0.0
            mult["w"][~act.H_active] = 0.0
            # snap each biactive pair to the nearest branch of the notion
            for i in bi:
                opts = _PAIR_BRANCHES[notion]
                best = min(
                    opts,
                    key=lambda o, i=i: max(
                        _pair_violation(o[0], mult["nu"][i : i + 1])[0],
                        _pair_violation(o[1], mult["w"][i : i + 1])[0],
                    ),
                )
                mult["nu"][i] = _project_pattern(mult["nu"][i : i + 1], np.array([best[0]]))[0]
                mult["w"][i] = _project_pattern(mult["w"][i : i + 1], np.array([best[1]]))[0]
        mult["z"] = group_subgradients_fixed(prob)
        for j, sl in zparts:
            zj = np.asarray(v["z"].value, dtype=float)[sl]
            nrm = np.linalg.norm(zj)
            wt = prob.groups[j].weight
            mult["z"][j] = zj * (wt / nrm) if nrm > wt else zj
        if "s" in v:
            s = np.asarray(v["s"].value, dtype=float)
            lo = np.minimum(prob.slope_neg[kz], prob.slope_pos[kz])
            hi = np.maximum(prob.slope_neg[kz], prob.slope_pos[kz])
            comb = concave[kz] & (kink_mode == "limiting")
            s = np.clip(s, lo, hi)
            s[comb] = np.where(np.abs(s - lo) <= np.abs(s - hi), lo, hi)[comb]
            mult["s"][kz] = s
        return pr.status, float(pr.value), mult

    status, val, mult = run("inner")
    if val is None:
        return NotionResult("inconclusive", f"MILP status {status}", branches=count, method="milp")
    res = float(np.max(np.abs(stationarity_residual(prob, mult))))
    viol = max(multiplier_violation(prob, act, mult, notion, kink_mode).values())
    if res <= tol and viol <= tol:  # numpy-checked, whatever the solver value
        return NotionResult(
            "holds", "MILP witness checked with numpy", val, res, mult, count, "milp"
        )
    lower = val
    if zg.size:
        status2, val2, _ = run("outer")
        if val2 is None:
            return NotionResult(
                "inconclusive",
                f"MILP (outer box) status {status2}",
                val,
                branches=count,
                method="milp",
            )
        lower = val2
    if bi.size == 0:
        # no big-M anywhere (only exact slope binaries): the MILP is an exact relaxation; HiGHS
        # stops at relative gap 1e-4 / absolute gap 1e-6 (its defaults), so the optimum is at least
        guaranteed = lower - max(1e-4 * abs(lower), 1e-6)
        if guaranteed > tol + margin:
            return NotionResult(
                "fails",
                f"MILP over {count} slope branches (no big-M): smallest residual >= "
                f"{guaranteed:.3g} > tol {tol:g} + margin {margin:.1g}",
                lower,
                branches=count,
                method="milp",
            )
    return NotionResult(
        "undetermined",
        f"MILP: no multiplier with pair multipliers bounded by {M:g} reaches tol "
        f"(smallest residual >= {lower:.3g}); larger multipliers are not excluded",
        lower,
        res,
        branches=count,
        method="milp",
    )


# ---------------------------------------------------------------------------- B-stationarity
def directional_derivative(prob: MPCC, act: Activity, d: np.ndarray) -> float:
    r""":math:`f'(x; d) = \nabla f\cdot d + \sum_J f_J'(d_J) + \sum_k c_k\sigma_k'(t_k; T_k d)`."""
    val = float(prob.grad_f @ d)
    for gr, zero, zf in zip(
        prob.groups, act.zero_groups, group_subgradients_fixed(prob), strict=True
    ):
        val += (
            gr.weight * float(np.linalg.norm(d[gr.indices])) if zero else float(zf @ d[gr.indices])
        )
    if prob.n_kinks:
        tau = prob.kink_matrix() @ d
        fixed = _kink_slopes_fixed(prob)
        slope = np.where(
            act.kinks_at_zero,
            np.where(tau >= 0, prob.slope_pos, prob.slope_neg),
            fixed,
        )
        val += float(np.sum(prob.kink_coef * slope * tau))
    return val


def cone_violation(prob: MPCC, act: Activity, d: np.ndarray) -> float:
    """Largest violation of ``d`` in the linearized MPCC cone at the point."""
    out = 0.0
    if prob.g.size:
        out = max(out, float(np.max(np.maximum(-(prob.Jg @ d)[act.g_active], 0), initial=0)))
    if prob.h.size:
        out = max(out, float(np.max(np.abs(prob.Jh @ d))))
    if prob.n_pairs:
        a, b = prob.JG @ d, prob.JH @ d
        Go = act.G_active & ~act.H_active
        Ho = act.H_active & ~act.G_active
        bi = act.biactive
        out = max(
            out, float(np.max(np.abs(a[Go]), initial=0)), float(np.max(np.abs(b[Ho]), initial=0))
        )
        if np.any(bi):
            out = max(
                out,
                float(np.max(np.maximum(-a[bi], 0))),
                float(np.max(np.maximum(-b[bi], 0))),
                float(np.max(np.minimum(np.abs(a[bi]), np.abs(b[bi])))),
            )
    return out


def _descent_direction(
    prob: MPCC, act: Activity, br: _Branch
) -> tuple[str, float | None, np.ndarray | None]:
    import cvxpy as cp

    n = prob.n
    d = cp.Variable(n)
    const = _fixed_part(prob, act)
    T = prob.kink_matrix()
    obj = const @ d
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
    cons = [cp.abs(d) <= 1]
    if np.any(act.g_active):
        cons.append(prob.Jg[np.flatnonzero(act.g_active)] @ d >= 0)
    if prob.h.size:
        cons.append(prob.Jh @ d == 0)
    if prob.n_pairs:
        bi = act.biactive
        g_branch = bi & (br.nu_pat == "f")  # biactive, branch G_i = 0, H_i >= 0
        h_branch = bi & ~g_branch  # biactive, branch G_i >= 0, H_i = 0
        G_eq = np.flatnonzero((act.G_active & ~act.H_active) | g_branch)
        H_eq = np.flatnonzero((act.H_active & ~act.G_active) | h_branch)
        G_ge = np.flatnonzero(h_branch)
        H_ge = np.flatnonzero(g_branch)
        if G_eq.size:
            cons.append(prob.JG[G_eq] @ d == 0)
        if H_eq.size:
            cons.append(prob.JH[H_eq] @ d == 0)
        if G_ge.size:
            cons.append(prob.JG[G_ge] @ d >= 0)
        if H_ge.size:
            cons.append(prob.JH[H_ge] @ d >= 0)
    pr = cp.Problem(cp.Minimize(obj), cons)
    try:
        pr.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        return f"solver_error: {exc}", None, None
    if pr.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        return pr.status, None, None
    return pr.status, float(pr.value), np.asarray(d.value, dtype=float)


def _b_stationarity(
    prob: MPCC,
    act: Activity,
    tol: float,
    margin: float,
    max_branches: int,
    results: dict[str, NotionResult],
    program: _ResidualProgram | None = None,
) -> NotionResult:
    count, gen = _branches(prob, act, "B", "limiting")
    if count > max_branches:
        s_name = "S" if prob.n_pairs else "KKT"
        if (
            s_name in results
            and results[s_name].verdict == "holds"
            and not np.any(prob.concave_kinks() & act.kinks_at_zero)
        ):
            wit = results[s_name].witness
            return NotionResult(
                "holds",
                f"implied: the {s_name} witness serves every branch",
                results[s_name].min_residual,
                results[s_name].witness_residual,
                wit,
                count,
                "implication",
            )
        return _b_milp(prob, act, tol, margin, count)
    if program is None:
        program = _ResidualProgram(prob, act)
    witnesses = []
    worst = 0.0
    for br in gen:
        status, val, mult = program.solve(br)
        if val is None or mult is None:
            return NotionResult(
                "inconclusive", f"solver status {status} on a branch", branches=count
            )
        worst = max(worst, val)
        res = float(np.max(np.abs(stationarity_residual(prob, mult))))
        viol = max(_branch_violation(prob, act, mult, br).values())
        if res <= tol and viol <= tol:  # numpy-checked, whatever the solver value
            mult = dict(mult)
            mult["pattern"] = {
                "nu": "".join(br.nu_pat.tolist()),
                "w": "".join(br.w_pat.tolist()),
                "s_lo": br.s_lo.tolist(),
                "s_hi": br.s_hi.tolist(),
            }
            witnesses.append(mult)
            continue
        if val > tol + margin and status == "optimal":
            st, dval, d = _descent_direction(prob, act, br)
            if d is None:
                return NotionResult("inconclusive", f"descent LP status {st}", val, branches=count)
            fd = directional_derivative(prob, act, d)
            cv = cone_violation(prob, act, d)
            if fd < -tol and cv <= tol:
                return NotionResult(
                    "fails",
                    f"descent direction: f'(x; d) = {fd:.3g} on the linearized cone (violation {cv:.1g})",
                    val,
                    branches=count,
                    descent_direction=d,
                )
            return NotionResult(
                "undetermined",
                f"branch residual {val:.3g} but the direction found has f'(x; d) = {fd:.3g}",
                val,
                branches=count,
            )
        return NotionResult(
            "undetermined", f"branch residual {val:.3g} is within tol + margin", val, branches=count
        )
    return NotionResult(
        "holds",
        f"every one of {count} branches has a checked multiplier",
        worst,
        max(float(np.max(np.abs(stationarity_residual(prob, m)))) for m in witnesses),
        witnesses[0],
        count,
        branch_witnesses=witnesses,
    )


def _b_milp(prob: MPCC, act: Activity, tol: float, margin: float, count: int) -> NotionResult:
    r"""Search all B branches at once for a descent direction: a mixed-integer LP (HiGHS) over
    :math:`\|d\|_\infty \le 1`, with exact big-M bounds (:math:`|J_i d| \le \|J_i\|_1`).

    Zero-group terms :math:`\lambda_J\|d_J\|_2` are replaced by the larger :math:`\lambda_J\|d_J\|_1`,
    so the MILP value bounds :math:`\min f'` from above: a direction it finds with value
    :math:`< -` tol is a true descent direction (re-checked with numpy). It cannot prove that B
    holds: that needs one checked multiplier per branch, so a non-negative value is undetermined.
    """
    import cvxpy as cp

    if "HIGHS" not in cp.installed_solvers():
        return NotionResult("inconclusive", "HiGHS (MILP) is not installed", branches=count)
    d = cp.Variable(prob.n)
    const = _fixed_part(prob, act)
    T = prob.kink_matrix()
    obj = const @ d
    cons = [cp.abs(d) <= 1]
    for j in np.flatnonzero(act.zero_groups):
        gr = prob.groups[j]
        obj = obj + gr.weight * cp.norm(d[gr.indices], 1)
    for k in np.flatnonzero(act.kinks_at_zero):
        tau = T[k] @ d
        c, lo, hi = prob.kink_coef[k], prob.slope_neg[k], prob.slope_pos[k]
        phi = cp.Variable()
        if prob.concave_kinks()[k]:
            big = 2 * abs(c) * max(abs(lo), abs(hi)) * float(abs(T[k]).sum()) + 1.0
            y = cp.Variable(boolean=True)
            cons += [phi >= c * lo * tau - big * y, phi >= c * hi * tau - big * (1 - y)]
        else:
            cons += [phi >= c * lo * tau, phi >= c * hi * tau]
        obj = obj + phi
    if np.any(act.g_active):
        cons.append(prob.Jg[np.flatnonzero(act.g_active)] @ d >= 0)
    if prob.h.size:
        cons.append(prob.Jh @ d == 0)
    Go = np.flatnonzero(act.G_active & ~act.H_active)
    Ho = np.flatnonzero(act.H_active & ~act.G_active)
    bi = np.flatnonzero(act.biactive)
    if Go.size:
        cons.append(prob.JG[Go] @ d == 0)
    if Ho.size:
        cons.append(prob.JH[Ho] @ d == 0)
    if bi.size:
        y = cp.Variable(bi.size, boolean=True)
        MG = np.asarray(abs(prob.JG[bi]).sum(axis=1)).ravel() + 1.0
        MH = np.asarray(abs(prob.JH[bi]).sum(axis=1)).ravel() + 1.0
        a, b = prob.JG[bi] @ d, prob.JH[bi] @ d
        cons += [a >= 0, b >= 0, a <= cp.multiply(MG, y), b <= cp.multiply(MH, 1 - y)]
    pr = cp.Problem(cp.Minimize(obj), cons)
    try:
        with _stdout_to_stderr():
            pr.solve(solver=cp.HIGHS, output_flag=False)
    except cp.error.SolverError as exc:
        return NotionResult("inconclusive", f"B MILP: solver error {exc}", branches=count)
    if pr.status != cp.OPTIMAL:
        return NotionResult("inconclusive", f"B MILP status {pr.status}", branches=count)
    val = float(pr.value)
    if val < -tol - margin:
        dv = np.asarray(d.value, dtype=float)
        fd = directional_derivative(prob, act, dv)
        cv = cone_violation(prob, act, dv)
        if fd < -tol and cv <= tol:
            return NotionResult(
                "fails",
                f"descent direction (MILP over {count} branches): f'(x; d) = {fd:.3g} "
                f"(cone violation {cv:.1g})",
                branches=count,
                method="milp",
                descent_direction=dv,
            )
    return NotionResult(
        "undetermined",
        f"{count} branches exceed max_branches; the MILP finds no descent direction (value "
        f"{val:.3g}), but B 'holds' needs one checked multiplier per branch",
        branches=count,
        method="milp",
    )


def _branch_violation(
    prob: MPCC, act: Activity, mult: dict[str, Any], br: _Branch
) -> dict[str, float]:
    base = multiplier_violation(prob, act, mult, "W", "clarke")
    nu, w = np.asarray(mult["nu"]), np.asarray(mult["w"])
    base["pair_rule"] = float(
        max(
            np.max(
                [_pair_violation(c, nu[i : i + 1])[0] for i, c in enumerate(br.nu_pat)], initial=0
            ),
            np.max(
                [_pair_violation(c, w[i : i + 1])[0] for i, c in enumerate(br.w_pat)], initial=0
            ),
        )
    )
    kz = np.flatnonzero(act.kinks_at_zero)
    s = np.asarray(mult["s"], dtype=float)
    if kz.size:
        base["kink_slope"] = max(
            base["kink_slope"],
            float(np.max(np.maximum(np.maximum(br.s_lo - s[kz], s[kz] - br.s_hi), 0))),
        )
    return base


# ------------------------------------------------------------------------------------ check
def check(cert: Certificate, prob: MPCC) -> dict[str, Any]:
    r"""Recompute every residual of ``cert`` from its stored multipliers, with numpy only.

    For each notion that ``holds``: the stationarity residual :math:`\|\cdot\|_\infty` of the witness
    and the violation of each membership rule of the notion's multiplier set (activity recomputed
    from ``prob`` at ``cert.act_tol``); for B, every branch witness, or, when B fails, the descent
    direction's :math:`f'(x; d)` (must be :math:`< -` tol) and its violation of the linearized cone.
    Returns ``{"per_notion": {...}, "max_violation": float, "accepted": bool}``.
    """
    if not isinstance(cert, Certificate):
        raise ValueError(f"cert must be a Certificate; got {type(cert).__name__}")
    if not isinstance(prob, MPCC):
        raise ValueError(f"prob must be an MPCC; got {type(prob).__name__}")
    act = Activity.at(prob, cert.act_tol)
    per: dict[str, dict[str, float]] = {}
    worst = 0.0
    for name, res in cert.results.items():
        kink_mode = _notion_kink_mode(name, cert.nonsmooth)
        if name == "B" and res.verdict == "fails" and res.descent_direction is not None:
            d = res.descent_direction
            fd = directional_derivative(prob, act, d)
            cv = cone_violation(prob, act, d)
            per[name] = {"directional_derivative": fd, "cone_violation": cv}
            worst = max(worst, cv, max(0.0, fd + cert.tol))
            continue
        if res.verdict != "holds":
            continue
        wits = res.branch_witnesses if (name == "B" and res.branch_witnesses) else [res.witness]
        entry = {"residual": 0.0}
        for wit in wits:
            if wit is None:
                entry["missing_witness"] = np.inf
                worst = np.inf
                continue
            r = float(np.max(np.abs(stationarity_residual(prob, wit))))
            entry["residual"] = max(entry["residual"], r)
            if name == "B" and "pattern" in wit:
                pat = wit["pattern"]
                br = _Branch(
                    np.array(list(pat["nu"])),
                    np.array(list(pat["w"])),
                    np.asarray(pat["s_lo"], dtype=float),
                    np.asarray(pat["s_hi"], dtype=float),
                )
                viol = _branch_violation(prob, act, wit, br)
            else:
                viol = multiplier_violation(prob, act, wit, "S" if name == "B" else name, kink_mode)
            for k, v in viol.items():
                entry[k] = max(entry.get(k, 0.0), v)
        if name == "B" and res.branch_witnesses:
            _, gen = _branches(prob, act, "B", "limiting")
            expected = {
                ("".join(b.nu_pat.tolist()), "".join(b.w_pat.tolist()))
                + tuple(b.s_lo.tolist())
                + tuple(b.s_hi.tolist())
                for b in gen
            }
            stored = {
                (w["pattern"]["nu"], w["pattern"]["w"])
                + tuple(float(x) for x in w["pattern"]["s_lo"])
                + tuple(float(x) for x in w["pattern"]["s_hi"])
                for w in res.branch_witnesses
                if w is not None and "pattern" in w
            }
            entry["branches_covered"] = float(len(expected & stored))
            entry["branches_missing"] = float(len(expected - stored))
            worst = max(worst, entry["branches_missing"])
        worst = max(worst, *(v for k, v in entry.items() if not k.startswith("branches")))
        per[name] = entry
    return {"per_notion": per, "max_violation": worst, "accepted": worst <= cert.tol}
