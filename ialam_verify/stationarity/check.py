r""":func:`check`: re-prove a certificate from its evidence alone (numpy only, the trusted kernel).

A certificate claims, per notion, ``holds`` / ``fails`` / ``undetermined`` / ``inconclusive``.
:func:`check` re-proves every decided claim from the certificate's evidence alone, with the *caller's*
:class:`~.kernel.Tolerances` (never the certificate's own numbers):

* ``holds`` (W, A, C, M, S, KKT, Clarke): the witness multipliers are finite, of the problem's sizes,
  have :math:`\|r(m)\|_\infty \le \tau` and violate the notion's set by at most :math:`\tau`, with the
  activity recomputed at the caller's ``act_tol``.
* ``holds`` (B): one witness per B branch (every branch at the caller's activity covered), or
  ``method == "implication"`` from a re-proved S (KKT) witness, accepted only where
  :math:`S \Rightarrow B` is a theorem: no concave kink at zero.
* ``fails`` (a multiplier notion): dual certificates :math:`(R_i, y_i)`. Each region :math:`R_i` is a
  product of simple sets (sign patterns, balls, slope intervals); for every :math:`m \in R_i`,
  :math:`\|r(m)\|_\infty \ge y_i^T r(m)/\|y_i\|_1 \ge \beta_i` where :math:`\beta_i` is computed in
  closed form by :func:`dual_lower_bound`. The claim is re-proved when every :math:`\beta_i > \tau`,
  every cone violation of :math:`y_i` is at most ``dual_tol``, and the union of the regions covers the
  notion's multiplier set at the caller's activity (:func:`covers`).
* ``fails`` (B): a direction :math:`d` with :math:`f'(x; d) < -\tau\|d\|_\infty` whose violation of the
  linearized cone is at most :math:`\tau\|d\|_\infty`.

A decided claim without such evidence is reported ``unproved``; the certificate is ``accepted`` only
when every decided claim is re-proved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..verdict import Outcome, Verdict
from .certificate import Certificate, DualCertificate, NotionResult
from .kernel import (
    _CONTAINS,
    Activity,
    Branch,
    Multipliers,
    Tolerances,
    _float_vector,
    _nanmax,
    branch_violation,
    branches,
    cone_violation,
    directional_derivative,
    kink_mode,
    kink_options,
    kink_slopes_fixed,
    multiplier_violation,
    pair_cells,
    residual_norm,
)
from .mpcc import MPCC


def dual_lower_bound(prob: MPCC, cert: DualCertificate) -> tuple[float, float]:
    r"""``(beta, violation)``: :math:`\beta = \min_{m \in R} y^T r(m) / \|y\|_1` in closed form,
    ignoring the unbounded blocks, and the largest violation (per unit :math:`\|y\|_1`) of the cone
    conditions that make those blocks vanish (:math:`J_h y = 0`; :math:`(J_g y)_i \le 0` on '+';
    :math:`J_G y` resp. :math:`J_H y` :math:`\le 0` on '+', :math:`\ge 0` on '-', :math:`= 0` on 'f').

    Terms: :math:`y^T\nabla f`; a ball :math:`-\lambda_J\|y_J\|_2`, a point :math:`z_J^T y_J`; a
    slope interval :math:`\min(c_k (T y)_k\,lo,\ c_k (T y)_k\,hi)`. Returns ``(-inf, inf)`` for a
    non-finite or zero :math:`y`, or a 'p' group with :math:`x_J = 0`.
    """
    y = np.asarray(cert.y, dtype=float)
    l1 = float(np.sum(np.abs(y)))
    if not np.all(np.isfinite(y)) or l1 == 0.0:
        return -math.inf, math.inf
    val = float(y @ prob.grad_f)
    for j, gr in enumerate(prob.groups):
        yj = y[gr.indices]
        if cert.z[j] == "b":
            val -= gr.weight * float(np.linalg.norm(yj))
        else:
            nrm = float(np.linalg.norm(gr.value))
            if nrm == 0.0:
                return -math.inf, math.inf
            val += float(gr.weight * gr.value / nrm @ yj)
    if prob.n_kinks:
        tk = prob.kink_coef * (prob.kink_matrix() @ y)
        val += float(np.sum(np.minimum(tk * cert.s_lo, tk * cert.s_hi)))
    viol = [0.0]
    if prob.g.size:
        a = prob.Jg @ y
        viol += [max(a[i], 0.0) for i, c in enumerate(cert.lam) if c == "+"]
    if prob.h.size:
        viol.append(float(np.max(np.abs(prob.Jh @ y))))
    for J, pat in ((prob.JG, cert.nu), (prob.JH, cert.w)):
        if J.shape[0]:
            a = J @ y
            for i, c in enumerate(pat):
                viol.append(
                    {"+": max(a[i], 0.0), "-": max(-a[i], 0.0), "f": abs(a[i]), "0": 0.0}[c]
                )
    return val / l1, _nanmax(viol) / l1


def covers(
    prob: MPCC, act: Activity, notion: str, mode: str, regions: list[DualCertificate]
) -> tuple[bool, str]:
    """Whether the union of ``regions`` contains ``notion``'s multiplier set at ``act`` (kink mode
    ``mode``), and if not, a message naming what is left out.

    The set is split, per biactive pair, into the closed sign cells of :func:`~.kernel.pair_cells`
    (quadrants, half-axes, origin) and, per concave kink at zero, into its two slopes; every
    combination must lie in one region (a pattern contains a cell when it contains its signs)."""
    concave_lim = prob.concave_kinks() & act.kinks_at_zero & (mode == "limiting")
    fixed = kink_slopes_fixed(prob)
    kz = np.flatnonzero(act.kinks_at_zero)
    kopts = dict(zip(kz.tolist(), kink_options(prob, act, mode), strict=True))

    def common_ok(R: DualCertificate) -> bool:
        for i in range(prob.g.size):
            if act.g_active[i] and R.lam[i] != "+":
                return False
        for i in range(prob.n_pairs):
            if act.biactive[i]:
                continue
            need_nu = "f" if act.G_active[i] else "0"
            need_w = "f" if act.H_active[i] else "0"
            if need_nu not in _CONTAINS[R.nu[i]] or need_w not in _CONTAINS[R.w[i]]:
                return False
        for j in range(len(prob.groups)):
            if act.zero_groups[j] and R.z[j] != "b":
                return False
        for k in range(prob.n_kinks):
            if k not in kopts:
                if not (R.s_lo[k] <= fixed[k] <= R.s_hi[k]):
                    return False
            elif not concave_lim[k]:
                lo, hi = kopts[k][0]
                if not (R.s_lo[k] <= lo and hi <= R.s_hi[k]):
                    return False
        return True

    cands = [R for R in regions if common_ok(R)]
    choices: list[tuple[str, int, list]] = []
    for i in np.flatnonzero(act.biactive):
        choices.append(("pair", int(i), pair_cells(notion)))
    for k in np.flatnonzero(concave_lim):
        choices.append(("kink", int(k), kopts[int(k)]))
    memo: dict[tuple, str | None] = {}

    def admits(R: DualCertificate, ch: tuple[str, int, list], o: Any) -> bool:
        kind, i, _ = ch
        if kind == "pair":
            return o[0] in _CONTAINS[R.nu[i]] and o[1] in _CONTAINS[R.w[i]]
        return R.s_lo[i] <= o[0] and o[1] <= R.s_hi[i]

    def rec(regs: list[int], depth: int) -> str | None:
        # memo: a region set met again at the same depth (e.g. through the three cells of one
        # option 'nu = 0, w free') is not searched twice
        key = (tuple(regs), depth)
        if key in memo:
            return memo[key]
        rest = choices[depth:]
        if not regs:
            out: str | None = "no region"
        elif not rest or any(
            all(admits(cands[r], ch, o) for ch in rest for o in ch[2]) for r in regs
        ):
            out = None
        else:
            ch = rest[0]
            out = None
            for o in ch[2]:
                miss = rec([r for r in regs if admits(cands[r], ch, o)], depth + 1)
                if miss is not None:
                    out = f"{ch[0]} {ch[1]} cell {o}: {miss}"
                    break
        memo[key] = out
        return out

    if not cands:
        return False, "no region contains the non-branching part of the set"
    miss = rec(list(range(len(cands))), 0)
    return (miss is None), ("" if miss is None else f"not covered: {miss}")


# ------------------------------------------------------------------------------ check
@dataclass
class CheckResult:
    """What :func:`check` found.

    ``accepted``: every decided claim re-proved; ``per_notion``: ``{notion: {"claimed", "status",
    ...numbers}}`` with status "proved", "rejected", "unproved" or "no claim"; ``max_violation``: the
    worst violation of a "holds" witness (residual or set membership); ``messages``: what differs.
    ``result["accepted"]`` etc. also work.
    """

    accepted: bool
    per_notion: dict[str, dict[str, Any]]
    max_violation: float
    messages: list[str]
    tolerances: Tolerances
    residual_tol: float

    def __getitem__(self, key: str) -> Any:
        if key not in ("accepted", "per_notion", "max_violation", "messages"):
            raise KeyError(key)
        return getattr(self, key)

    def __bool__(self) -> bool:
        return self.accepted

    def __repr__(self) -> str:
        status = {k: v["status"] for k, v in self.per_notion.items()}
        return f"CheckResult(accepted={self.accepted}, {status}, messages={self.messages})"


def _check_witness(
    prob: MPCC, act: Activity, wit: Multipliers, tau: float, rules: dict[str, float] | None
) -> tuple[dict[str, float], list[str]]:
    """Residual and membership numbers of a witness whose sizes were validated; ``rules`` are the
    membership violations (computed by the caller for the right set)."""
    entry: dict[str, float] = {}
    msgs = []
    if not wit.is_finite():
        return {"residual": math.inf}, ["witness has NaN or inf entries"]
    r = residual_norm(prob, wit)
    entry["residual"] = r
    if r > tau:
        msgs.append(f"witness residual {r:.3g} > tolerance {tau:.3g}")
    for k, v in (rules or {}).items():
        entry[k] = v
        if not v <= tau:
            msgs.append(f"witness violates {k} by {v:.3g} > {tau:.3g}")
    return entry, msgs


def check(
    cert: Certificate | dict[str, Any], prob: MPCC, tolerances: Tolerances | None = None
) -> CheckResult:
    """Re-prove every decided claim of ``cert`` at ``prob`` with numpy, at the caller's tolerances.

    Parameters
    ----------
    cert : Certificate or dict
        The certificate (a dict is read with :meth:`Certificate.from_dict`).
    prob : MPCC
        The problem the certificate is about.
    tolerances : Tolerances, optional
        The caller's tolerances (default ``Tolerances()``: tol 1e-6 scaled, act_tol 1e-6). The
        certificate's own tolerances are never used.

    Returns
    -------
    CheckResult
        See the module docstring for what each claim needs. Malformed certificates (missing keys,
        wrong lengths, unknown verdicts) raise ``ValueError`` naming the field.
    """
    if isinstance(cert, dict):
        cert = Certificate.from_dict(cert)
    if not isinstance(cert, Certificate):
        raise ValueError(f"cert must be a Certificate; got {type(cert).__name__}")
    if not isinstance(prob, MPCC):
        raise ValueError(f"prob must be an MPCC; got {type(prob).__name__}")
    if tolerances is None:
        tolerances = Tolerances()
    if not isinstance(tolerances, Tolerances):
        raise ValueError(f"tolerances must be a Tolerances; got {type(tolerances).__name__}")
    tau = tolerances.residual_tol(prob)
    act = Activity.at(prob, tolerances.act_tol)
    per: dict[str, dict[str, Any]] = {}
    messages: list[str] = []
    worst = 0.0

    def witness_of(name: str, res: NotionResult) -> tuple[dict[str, float], list[str]]:
        if res.witness is None:
            return {"residual": math.inf}, ["no witness"]
        wit = res.witness.validate(prob, f"results[{name!r}].witness")
        rules = multiplier_violation(prob, act, wit, name, kink_mode(name, cert.nonsmooth))
        return _check_witness(prob, act, wit, tau, rules)

    for name, res in cert.results.items():
        outcome = res.verdict.outcome if isinstance(res.verdict, Verdict) else Outcome(res.verdict)
        entry: dict[str, Any] = {"claimed": outcome.value}
        if name != "B" and prob.n_kinks:
            entry["kink_mode"] = kink_mode(name, cert.nonsmooth)
        msgs: list[str] = []
        if outcome is Outcome.HOLDS:
            if name == "B" and res.method == "implication":
                s_name = "KKT" if prob.is_nlp else "S"
                if np.any(prob.concave_kinks() & act.kinks_at_zero):
                    msgs.append(
                        f"B by implication from {s_name} is not a theorem here: a concave kink is at "
                        "zero (f'(x; d) is then a minimum of two slopes)"
                    )
                elif s_name not in cert.results or cert.results[s_name].verdict != "holds":
                    msgs.append(f"B by implication needs {s_name} to hold in the certificate")
                else:
                    nums, m2 = witness_of(s_name, cert.results[s_name])
                    entry.update(nums)
                    msgs += [f"{s_name} witness: {m}" for m in m2]
            elif name == "B":
                msgs += _check_b_witnesses(prob, act, res, tau, entry)
            else:
                nums, m2 = witness_of(name, res)
                entry.update(nums)
                msgs += m2
            viol = [
                v for k, v in entry.items() if isinstance(v, float) and not k.startswith("branches")
            ]
            worst = max(worst, _nanmax(viol))
            entry["status"] = "rejected" if msgs else "proved"
        elif outcome is Outcome.FAILS:
            if name == "B":
                status, m2 = _check_b_direction(prob, act, res, tau, entry)
            else:
                status, m2 = _check_dual_proof(
                    prob, act, name, kink_mode(name, cert.nonsmooth), res, tau, tolerances, entry
                )
            entry["status"] = status
            msgs += m2
        else:
            entry["status"] = "no claim"
        for m in msgs:
            messages.append(f"{name} {outcome.value}: {m}")
        per[name] = entry
    accepted = all(e["status"] in ("proved", "no claim") for e in per.values())
    return CheckResult(accepted, per, worst, messages, tolerances, tau)


def _check_b_witnesses(
    prob: MPCC, act: Activity, res: NotionResult, tau: float, entry: dict[str, Any]
) -> list[str]:
    if not res.branch_witnesses:
        return ["no branch witnesses (and not by implication)"]
    _, gen = branches(prob, act, "B", "limiting")
    expected = {b.key() for b in gen}
    covered = set()
    msgs = []
    entry["residual"] = 0.0
    for i, wit in enumerate(res.branch_witnesses):
        wit = wit.validate(prob, f"results['B'].branch_witnesses[{i}]")
        if wit.branch is None:
            continue
        br = Branch(
            np.array(list(wit.branch["nu"]), dtype="<U1"),
            np.array(list(wit.branch["w"]), dtype="<U1"),
            np.asarray(wit.branch["s_lo"], dtype=float),
            np.asarray(wit.branch["s_hi"], dtype=float),
        )
        if br.key() not in expected:
            continue
        nums, m2 = _check_witness(prob, act, wit, tau, branch_violation(prob, act, wit, br))
        for k, v in nums.items():
            entry[k] = max(entry.get(k, 0.0), v) if not math.isnan(v) else math.inf
        if m2:
            msgs += [f"branch {br.key()}: {m}" for m in m2]
        else:
            covered.add(br.key())
    entry["branches_covered"] = float(len(covered))
    entry["branches_missing"] = float(len(expected - covered))
    if expected - covered:
        msgs.append(
            f"{len(expected - covered)} of {len(expected)} B branches have no valid witness"
        )
    return msgs


def _check_b_direction(
    prob: MPCC, act: Activity, res: NotionResult, tau: float, entry: dict[str, Any]
) -> tuple[str, list[str]]:
    if res.descent_direction is None:
        return "unproved", ["no descent direction stored"]
    d = _float_vector("results['B'].descent_direction", res.descent_direction, prob.n)
    nd = float(np.max(np.abs(d))) if np.all(np.isfinite(d)) else math.nan
    if not (np.isfinite(nd) and nd > 0):
        return "rejected", ["descent direction is zero or not finite"]
    fd = directional_derivative(prob, act, d / nd)
    cv = cone_violation(prob, act, d / nd)
    entry.update(directional_derivative=fd, cone_violation=cv)
    msgs = []
    if not fd < -tau:
        msgs.append(f"f'(x; d)/||d|| = {fd:.3g} is not below -{tau:.3g}")
    if not cv <= tau:
        msgs.append(f"direction leaves the linearized cone by {cv:.3g} > {tau:.3g}")
    return ("rejected" if msgs else "proved"), msgs


def _check_dual_proof(
    prob: MPCC,
    act: Activity,
    name: str,
    mode: str,
    res: NotionResult,
    tau: float,
    tols: Tolerances,
    entry: dict[str, Any],
) -> tuple[str, list[str]]:
    if not res.proof:
        return "unproved", ["no dual certificate stored"]
    bounds, viols = [], []
    for i, p in enumerate(res.proof):
        p.validate(prob, f"results[{name!r}].proof[{i}]")
        b, v = dual_lower_bound(prob, p)
        bounds.append(b)
        viols.append(v)
    entry["lower_bound"] = min(bounds)
    entry["dual_violation"] = _nanmax(viols)
    msgs = []
    if not min(bounds) > tau:
        msgs.append(f"a dual bound {min(bounds):.3g} does not exceed the tolerance {tau:.3g}")
    if not entry["dual_violation"] <= tols.dual_tol:
        msgs.append(f"a dual vector violates its cone conditions by {entry['dual_violation']:.3g}")
    ok, why = covers(prob, act, name, mode, res.proof)
    if not ok:
        msgs.append(f"the regions do not cover the multiplier set of {name}: {why}")
    if not msgs:
        return "proved", msgs
    # a bound that is valid but too small for these tolerances leaves the claim unproved; a broken
    # dual vector or a region set with holes is a wrong proof
    broken = (not entry["dual_violation"] <= tols.dual_tol) or not ok
    return ("rejected" if broken else "unproved"), msgs
