r"""Decide stationarity notions over the whole multiplier set, with checkable evidence.

For a problem :class:`~.mpcc.MPCC` at a point, every notion N is posed as

.. math::

    \rho_N = \min\ \|r(m)\|_\infty \quad\text{over the multiplier set of N}

(:mod:`.kernel` defines :math:`r` and the sets), a union of convex branches (per biactive pair the
notion's sign patterns, per concave kink at zero its two slopes in the limiting sense).

**Branch and bound, no big-M.** Each node relaxes the undecided pairs to their convex hull (free for
W, A, C, M) and the undecided kinks to their slope interval, and solves one convex program
(:class:`~.programs.ResidualProgram`); its value is a lower bound on the node. A node is closed when
its bound is at least the best residual found (minus the margin), when the solution snapped onto the
notion's set is as good as the bound, or when nothing is left to branch on; otherwise the pair (kink)
the solution violates most is split into the notion's options. The first nodes also *dive*
(fix every free coordinate to its nearest option and solve once) for a cheap incumbent; after 200
nodes only the decision is pursued (nodes above :math:`\tau` + margin are closed), and ``epsilon``
becomes an interval given in the reason. When the search ends, the best
residual :math:`\hat\rho` is :math:`\rho_N` up to the margin, and

* ``holds`` when :math:`\hat\rho \le \tau` with the snapped multiplier re-checked in numpy;
* ``fails`` when every closed node's bound exceeds :math:`\tau` + margin and its dual vector, turned
  into a :class:`~.certificate.DualCertificate`, re-proves the bound in numpy (the closed nodes cover
  the set, which :func:`~.certificate.check` re-verifies);
* ``undetermined`` otherwise (gray zone, unverified dual, node limit), ``inconclusive`` on a solver
  failure.

Here :math:`\tau` = ``tol`` times the problem scale (or ``tol``; :class:`~.kernel.Tolerances`) and
``epsilon`` = :math:`\hat\rho` / scale.

B-stationarity of the linearized problem: :math:`f'(x; d) \ge 0` on the linearized MPCC cone. By
conic duality it holds iff every branch (per biactive pair: :math:`\nu_i` free, :math:`w_i \ge 0` or
:math:`\nu_i \ge 0`, :math:`w_i` free; per concave kink at 0 each slope) attains residual 0; a failing
branch yields a descent direction. Above ``max_branches`` branches: ``holds`` by the implication
S :math:`\Rightarrow` B where it is a theorem (no concave kink at zero), ``fails`` by a direction MILP.

**Activity band.** Every entry whose activity value lies in :math:`[\mathrm{act\_tol}/\mathrm{band},
\mathrm{act\_tol}\cdot\mathrm{band}]` can be counted either way; all :math:`k+1` threshold splits of
the :math:`k` distinct values are classified, and a decided verdict that changes between splits
becomes ``undetermined``.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from .certificate import Certificate, DualCertificate, NotionResult
from .check import check, covers, dual_lower_bound  # noqa: F401  (check: `from .classify import check`)
from .kernel import (
    MPCC_NOTIONS,
    NLP_NOTIONS,
    PAIR_BRANCHES,
    Activity,
    Branch,
    Multipliers,
    Tolerances,
    activity_values,
    base_patterns,
    branch_violation,
    branches,
    cone_violation,
    directional_derivative,
    feasibility,
    kink_mode,
    kink_options,
    kink_slopes_fixed,
    multiplier_violation,
    pair_rule_violation,
    pattern_violation,
    problem_scale,
    residual_norm,
)
from .mpcc import MPCC
from .programs import (
    ResidualProgram,
    b_direction_milp,
    descent_direction,
    polish_dual,
    project_pattern,
)


def _tolerances(tolerances: Tolerances | None, tol: Any, act_tol: Any, band: Any) -> Tolerances:
    if tolerances is None:
        tolerances = Tolerances()
    if not isinstance(tolerances, Tolerances):
        raise ValueError(f"tolerances must be a Tolerances; got {type(tolerances).__name__}")
    kw = {k: v for k, v in (("tol", tol), ("act_tol", act_tol), ("band", band)) if v is not None}
    return replace(tolerances, **kw) if kw else tolerances


def classify(
    prob: MPCC,
    *,
    tolerances: Tolerances | None = None,
    tol: float | None = None,
    act_tol: float | None = None,
    band: float | None = None,
    nonsmooth: str = "limiting",
    max_branches: int = 64,
    max_nodes: int = 5000,
    max_band_splits: int = 8,
    notions: tuple[str, ...] | None = None,
    b_stationarity: bool = True,
) -> Certificate:
    r"""Classify the point of ``prob``; see the module docstring for the search and the verdicts.

    Parameters
    ----------
    prob : MPCC
        First-order data at the point.
    tolerances : Tolerances, optional
        Default ``Tolerances()`` (tol 1e-6 relative to the problem scale, act_tol 1e-6, band 10).
    tol, act_tol, band : float, optional
        Shorthand: replace that field of ``tolerances``.
    nonsmooth : {"limiting", "clarke"}
        Subdifferential of the kink terms in the MPCC notions (NLPs get both ``KKT`` and ``Clarke``).
    max_branches : int
        Largest number of B branches enumerated (one witness each).
    max_nodes : int
        Node limit of each branch and bound (reached: ``undetermined``).
    max_band_splits : int
        Largest number of distinct values in the activity band classified at every split; more
        makes every decided verdict ``undetermined``.
    notions : tuple of str, optional
        Default W, A, C, M, S (MPCC) or KKT, Clarke (NLP); B is added when ``b_stationarity``.
    """
    tols = _tolerances(tolerances, tol, act_tol, band)
    if nonsmooth not in ("limiting", "clarke"):
        raise ValueError(f"nonsmooth must be 'limiting' or 'clarke'; got {nonsmooth!r}")
    for name, val in (("max_branches", max_branches), ("max_nodes", max_nodes)):
        if isinstance(val, bool) or int(val) != val or val < 1:
            raise ValueError(f"{name} must be a positive integer; got {val!r}")
    if (
        isinstance(max_band_splits, bool)
        or int(max_band_splits) != max_band_splits
        or max_band_splits < 0
    ):
        raise ValueError(f"max_band_splits must be an integer >= 0; got {max_band_splits!r}")
    if not isinstance(prob, MPCC):
        raise ValueError(f"prob must be an MPCC; got {type(prob).__name__}")
    kind = "nlp" if prob.is_nlp else "mpcc"
    if notions is None:
        notions = NLP_NOTIONS if kind == "nlp" else MPCC_NOTIONS
    bad = [n for n in notions if n not in MPCC_NOTIONS + NLP_NOTIONS]
    if bad:
        raise ValueError(f"notions must be among {MPCC_NOTIONS + NLP_NOTIONS}; got {bad}")
    t0 = time.perf_counter()
    ctx = _Context(prob, tols, nonsmooth, int(max_branches), int(max_nodes))
    act = Activity.at(prob, tols.act_tol)

    def run(a: Activity) -> dict[str, NotionResult]:
        out: dict[str, NotionResult] = {}
        for n in sorted(notions, key=lambda n: _ORDER[n]):
            out[n] = _implied_failure(ctx, a, n, out) or _decide(ctx, a, n)
        out = {n: out[n] for n in notions}
        if b_stationarity:
            out["B"] = _b_stationarity(ctx, a, out)
        return out

    results = run(act)
    notes: list[str] = []
    splits = _band_thresholds(prob, tols)
    if len(splits) - 1 > max_band_splits:
        for res in results.values():
            if res.verdict.decided:
                res.set(
                    "undetermined",
                    f"{len(splits) - 1} distinct values lie in the activity band "
                    f"[{tols.act_tol / tols.band:g}, {tols.act_tol * tols.band:g}], more than "
                    f"max_band_splits={max_band_splits}; was: {res.verdict} ({res.reason})",
                )
        notes.append("activity band too crowded to classify every split")
    elif len(splits) > 1:
        seen = {act.key()}
        for a in splits:
            other = Activity.at(prob, a)
            if other.key() in seen:
                continue
            seen.add(other.key())
            alt = run(other)
            for k, res in results.items():
                if (
                    k in alt
                    and res.verdict.decided
                    and alt[k].verdict.decided
                    and alt[k].verdict.outcome != res.verdict.outcome
                ):
                    res.set(
                        "undetermined",
                        f"verdict changes within the activity band: {res.verdict} at "
                        f"act_tol={tols.act_tol:g}, {alt[k].verdict} at threshold {a:.6g}",
                    )
        notes.append(
            f"{len(splits) - 1} value(s) within the activity band [{tols.act_tol / tols.band:g}, "
            f"{tols.act_tol * tols.band:g}]: all {len(splits)} threshold splits classified"
        )
    feas = feasibility(prob)
    if max(feas.values()) > tols.act_tol:
        notes.append(
            f"the point violates the constraints by {max(feas.values()):.3g} > act_tol; the "
            "notions are evaluated at it as given"
        )
    return Certificate(
        kind,
        tols,
        nonsmooth,
        ctx.margin,
        act.to_dict(),
        results,
        feas,
        time.perf_counter() - t0,
        notes,
        ctx.scale,
    )


# nodes at which branch and bound also dives to a fully fixed branch (a cheap incumbent)
_DIVES = 10

# larger sets first: a failure there proves the failure of every notion inside
_ORDER = {"W": 0, "Clarke": 0, "A": 1, "C": 1, "M": 2, "S": 3, "KKT": 3}
_SUPERSETS = {
    "A": ("W",),
    "C": ("W",),
    "M": ("A", "C", "W"),
    "S": ("M", "A", "C", "W"),
    "KKT": ("Clarke",),
}


def _implied_failure(
    ctx: _Context, act: Activity, notion: str, done: dict[str, NotionResult]
) -> NotionResult | None:
    """``fails`` for ``notion`` when a notion with a larger set failed and its dual certificates
    cover ``notion``'s set too (:func:`~.check.covers`, re-checked by :func:`~.check.check`).

    Only where the notion's own search could not be exact anyway (more branches than the exactness
    budget): below it the branch and bound runs, so that ``epsilon`` is the exact minimum for every
    notion, as the report promises, not only for the superset."""
    mode = kink_mode(notion, ctx.nonsmooth)
    if branches(ctx.prob, act, notion, mode)[0] <= ctx.exact_nodes:
        return None
    for sup in _SUPERSETS.get(notion, ()):
        res = done.get(sup)
        if res is None or res.verdict != "fails" or not res.proof:
            continue
        ok, _ = covers(ctx.prob, act, notion, mode, res.proof)
        if ok:
            return NotionResult(
                "fails",
                f"implied: {sup} fails and the set of {notion} lies inside it (smallest residual "
                f">= {res.min_residual:.3g})",
                res.min_residual,
                branches=branches(ctx.prob, act, notion, mode)[0],
                method="implication",
                proof=res.proof,
            )
    return None


def _band_thresholds(prob: MPCC, tols: Tolerances) -> list[float]:
    """Thresholds giving every split of the distinct activity values inside the band: one below
    them all, then each value (values ``<= threshold`` count as active)."""
    vals = activity_values(prob)
    lo, hi = tols.act_tol / tols.band, tols.act_tol * tols.band
    inside = np.unique(vals[(vals >= lo) & (vals <= hi) & (vals > 0)])
    if inside.size == 0:
        return [tols.act_tol]
    return [float(np.nextafter(inside[0], 0.0))] + [float(v) for v in inside]


class _Context:
    """What every decision at one point shares: tolerances, scale, one program per activity."""

    def __init__(
        self, prob: MPCC, tols: Tolerances, nonsmooth: str, max_branches: int, max_nodes: int
    ) -> None:
        self.prob, self.tols, self.nonsmooth = prob, tols, nonsmooth
        self.max_branches, self.max_nodes = max_branches, max_nodes
        # nodes searched for the exact minimum (epsilon) before only the decision is pursued
        self.exact_nodes = min(200, max_nodes)
        self.scale = tols.scale(prob)
        self.tau = tols.residual_tol(prob)
        self.margin = tols.margin_abs(prob)
        self._programs: dict[tuple, ResidualProgram] = {}

    def program(self, act: Activity) -> ResidualProgram:
        if act.key() not in self._programs:
            self._programs[act.key()] = ResidualProgram(self.prob, act)
        return self._programs[act.key()]


def region_of(prob: MPCC, act: Activity, br: Branch, y: np.ndarray) -> DualCertificate:
    """The dual certificate of branch ``br`` at ``act`` with dual vector ``y``."""
    s_lo = kink_slopes_fixed(prob).astype(float)
    s_hi = s_lo.copy()
    kz = np.flatnonzero(act.kinks_at_zero)
    s_lo[kz], s_hi[kz] = br.s_lo, br.s_hi
    return DualCertificate(
        "".join(np.where(act.g_active, "+", "0").tolist()),
        "".join(br.nu_pat.tolist()),
        "".join(br.w_pat.tolist()),
        "".join(np.where(act.zero_groups, "b", "p").tolist()),
        s_lo,
        s_hi,
        np.asarray(y, dtype=float),
    )


def _decide(ctx: _Context, act: Activity, notion: str) -> NotionResult:
    """Branch and bound over the notion's set at ``act`` (see the module docstring)."""
    prob, tau, margin = ctx.prob, ctx.tau, ctx.margin
    mode = kink_mode(notion, ctx.nonsmooth)
    program = ctx.program(act)
    bi = np.flatnonzero(act.biactive)
    kz = np.flatnonzero(act.kinks_at_zero)
    pair_opts = PAIR_BRANCHES[notion]
    kopts = kink_options(prob, act, mode)
    count = len(pair_opts) ** bi.size * math.prod(len(o) for o in kopts)
    nu0, w0 = base_patterns(act)
    relaxed = ("f", "f") if len(pair_opts) > 1 else pair_opts[0]

    def branch_of(pc: tuple[int, ...], kc: tuple[int, ...]) -> Branch:
        nu, w = nu0.copy(), w0.copy()
        for i, c in zip(bi, pc, strict=True):
            nu[i], w[i] = relaxed if c < 0 else pair_opts[c]
        lo = [
            min(o[0] for o in opts) if c < 0 else opts[c][0]
            for opts, c in zip(kopts, kc, strict=True)
        ]
        hi = [
            max(o[1] for o in opts) if c < 0 else opts[c][1]
            for opts, c in zip(kopts, kc, strict=True)
        ]
        return Branch(nu, w, np.array(lo, dtype=float), np.array(hi, dtype=float))

    def pair_dist(o: tuple[str, str], nu: float, w: float) -> float:
        return max(pattern_violation(o[0], nu), pattern_violation(o[1], w))

    def snap(m: Multipliers, pc: tuple[int, ...], kc: tuple[int, ...]) -> Multipliers:
        """Project the relaxed coordinates of a node's solution onto the nearest option."""
        m = m.copy()
        for i, c in zip(bi, pc, strict=True):
            if c < 0:
                o = min(pair_opts, key=lambda o, i=i: pair_dist(o, m.nu[i], m.w[i]))
                m.nu[i] = project_pattern(m.nu[i : i + 1], np.array([o[0]]))[0]
                m.w[i] = project_pattern(m.w[i : i + 1], np.array([o[1]]))[0]
        for j, (k, c) in enumerate(zip(kz, kc, strict=True)):
            if c < 0:
                m.s[k] = min((o[0] for o in kopts[j]), key=lambda v, k=k: abs(v - m.s[k]))
        return m

    root = (
        tuple(-1 if len(pair_opts) > 1 else 0 for _ in bi),
        tuple(-1 if len(o) > 1 else 0 for o in kopts),
    )
    stack = [root]
    best, best_mult = math.inf, None
    leaves: list[tuple[Branch, np.ndarray | None, float]] = []
    nodes = 0
    exact = True
    while stack:
        if nodes >= ctx.max_nodes:
            break
        pc, kc = stack.pop()
        nodes += 1
        br = branch_of(pc, kc)
        sol = program.solve(br)
        if sol.value is None or sol.mult is None:
            return NotionResult(
                "inconclusive",
                f"solver status {sol.status!r} on a node",
                branches=count,
                method="branch-and-bound",
            )
        val = sol.value
        if val >= best - margin:
            leaves.append((br, sol.y, val))
            continue
        if nodes > ctx.exact_nodes and val > tau + margin:
            # past the exactness budget only the decision matters: a node above tau + margin is
            # closed (its dual certificate will prove it), so epsilon becomes an interval
            exact = False
            leaves.append((br, sol.y, val))
            continue
        cand = snap(sol.mult, pc, kc)
        res = residual_norm(prob, cand)
        if res < best:
            best, best_mult = res, cand
        free_pairs = [j for j, c in enumerate(pc) if c < 0]
        free_kinks = [j for j, c in enumerate(kc) if c < 0]
        if res <= val + margin or not (free_pairs or free_kinks):
            leaves.append((br, sol.y, val))
            continue
        if best > tau and nodes <= _DIVES:
            # dive: fix every free coordinate to its nearest option and solve once; a member of
            # the set found this way often ends the search for "holds" at once
            dive_pc = tuple(
                c
                if c >= 0
                else min(
                    range(len(pair_opts)),
                    key=lambda o, i=i: pair_dist(pair_opts[o], sol.mult.nu[i], sol.mult.w[i]),
                )
                for i, c in zip(bi, pc, strict=True)
            )
            dive_kc = tuple(
                c
                if c >= 0
                else min(
                    range(len(kopts[j])), key=lambda o, j=j: abs(sol.mult.s[kz[j]] - kopts[j][o][0])
                )
                for j, c in enumerate(kc)
            )
            dive = program.solve(branch_of(dive_pc, dive_kc))
            if dive.mult is not None:
                dres = residual_norm(prob, dive.mult)
                if dres < best:
                    best, best_mult = dres, dive.mult
        # split the coordinate the relaxed solution violates most
        score = [
            (pair_rule_violation(notion, sol.mult.nu[bi[j]], sol.mult.w[bi[j]]), "p", j)
            for j in free_pairs
        ] + [(min(abs(sol.mult.s[kz[j]] - o[0]) for o in kopts[j]), "k", j) for j in free_kinks]
        _, kind, j = max(score)
        opts = pair_opts if kind == "p" else kopts[j]
        children = []
        for c in range(len(opts)):
            if kind == "p":
                child = (pc[:j] + (c,) + pc[j + 1 :], kc)
                dist = pair_dist(pair_opts[c], sol.mult.nu[bi[j]], sol.mult.w[bi[j]])
            else:
                child = (pc, kc[:j] + (c,) + kc[j + 1 :])
                dist = abs(sol.mult.s[kz[j]] - opts[c][0])
            children.append((dist, c, child))
        stack += [ch for _, _, ch in sorted(children, reverse=True)]
    complete = not stack
    lower = min((v for _, _, v in leaves), default=math.inf)
    eps = best / ctx.scale if (math.isfinite(best) and exact and complete) else None
    common = dict(branches=count, method="branch-and-bound")
    span = (
        ""
        if eps is not None
        else f"; epsilon in [{lower / ctx.scale:.3g}, {best / ctx.scale:.3g}] (search not exact)"
    )
    if best_mult is not None and best <= tau:
        viol = max(multiplier_violation(prob, act, best_mult, notion, mode).values())
        if viol <= tau:
            why = f"witness checked with numpy ({nodes} nodes)" + span
            if not complete:
                why += f"; node limit {ctx.max_nodes} reached"
            return NotionResult(
                "holds", why, min(lower, best), best, best_mult, epsilon=eps, **common
            )
    if not complete:
        return NotionResult(
            "undetermined",
            f"node limit {ctx.max_nodes} reached (best residual {best:.3g}, bound {lower:.3g})",
            lower,
            epsilon=eps,
            **common,
        )
    if lower > tau + margin:
        proof = []
        for br, y, v in leaves:
            if y is None:
                return NotionResult(
                    "undetermined",
                    "the solver returned no dual vector",
                    lower,
                    epsilon=eps,
                    **common,
                )
            cert = region_of(prob, act, br, y)
            b, viol = dual_lower_bound(prob, cert)
            if not (b > tau and viol <= ctx.tols.dual_tol):
                cert.y = polish_dual(prob, cert)
                b, viol = dual_lower_bound(prob, cert)
            if not (b > tau and viol <= ctx.tols.dual_tol):
                return NotionResult(
                    "undetermined",
                    f"node value {v:.3g} > tol, but its dual certificate gives bound {b:.3g} with "
                    f"cone violation {viol:.2g} (dual_tol {ctx.tols.dual_tol:g})",
                    lower,
                    epsilon=eps,
                    **common,
                )
            proof.append(cert)
        return NotionResult(
            "fails",
            f"smallest residual >= {lower:.3g} > tol {tau:.3g} + margin {margin:.1g}: "
            f"{len(proof)} dual certificate(s) over {count} branch(es), {nodes} nodes" + span,
            lower,
            epsilon=eps,
            proof=proof,
            **common,
        )
    return NotionResult(
        "undetermined",
        f"smallest residual {best:.3g} (bound {lower:.3g}) is within tol {tau:.3g} + margin "
        f"{margin:.1g}",
        lower,
        None if best_mult is None else best,
        epsilon=eps,
        **common,
    )


# ---------------------------------------------------------------------------- B-stationarity
def _b_stationarity(ctx: _Context, act: Activity, results: dict[str, NotionResult]) -> NotionResult:
    prob, tau, margin = ctx.prob, ctx.tau, ctx.margin
    count, gen = branches(prob, act, "B", "limiting")
    if count > ctx.max_branches:
        s_name = "S" if prob.n_pairs else "KKT"
        if (
            s_name in results
            and results[s_name].verdict == "holds"
            and not np.any(prob.concave_kinks() & act.kinks_at_zero)
        ):
            return NotionResult(
                "holds",
                f"implied: the {s_name} witness serves every branch (no concave kink at zero)",
                results[s_name].min_residual,
                results[s_name].witness_residual,
                results[s_name].witness,
                count,
                "implication",
            )
        return _b_milp(ctx, act, count)
    program = ctx.program(act)
    witnesses = []
    worst = 0.0
    for br in gen:
        sol = program.solve(br)
        if sol.value is None or sol.mult is None:
            return NotionResult(
                "inconclusive", f"solver status {sol.status} on a branch", branches=count
            )
        val, mult = sol.value, sol.mult
        worst = max(worst, val)
        res = residual_norm(prob, mult)
        viol = max(branch_violation(prob, act, mult, br).values())
        if res <= tau and viol <= tau:  # numpy-checked, whatever the solver value
            mult = mult.copy()
            mult.branch = {
                "nu": "".join(br.nu_pat.tolist()),
                "w": "".join(br.w_pat.tolist()),
                "s_lo": br.s_lo.copy(),
                "s_hi": br.s_hi.copy(),
            }
            witnesses.append(mult)
            continue
        if val > tau + margin and sol.status == "optimal":
            st, _, d = descent_direction(prob, act, br)
            if d is None:
                return NotionResult("inconclusive", f"descent LP status {st}", val, branches=count)
            return _direction_verdict(prob, act, d, tau, val, count, "")
        return NotionResult(
            "undetermined", f"branch residual {val:.3g} is within tol + margin", val, branches=count
        )
    return NotionResult(
        "holds",
        f"every one of {count} branches has a checked multiplier",
        worst,
        max(residual_norm(prob, m) for m in witnesses),
        witnesses[0],
        count,
        branch_witnesses=witnesses,
        # B holds at eps iff every branch reaches eps: the largest branch minimum
        epsilon=max(worst, 0.0) / ctx.scale,
    )


def _direction_verdict(
    prob: MPCC, act: Activity, d: np.ndarray, tau: float, val: float | None, count: int, how: str
) -> NotionResult:
    nd = float(np.max(np.abs(d)))
    if not (np.isfinite(nd) and nd > 0):
        return NotionResult("undetermined", "the direction found is zero", val, branches=count)
    fd = directional_derivative(prob, act, d / nd)
    cv = cone_violation(prob, act, d / nd)
    if fd < -tau and cv <= tau:
        return NotionResult(
            "fails",
            f"descent direction{how}: f'(x; d) = {fd:.3g} on the linearized cone (violation {cv:.1g})",
            val,
            branches=count,
            method="milp" if how else "enumeration",
            descent_direction=d,
        )
    return NotionResult(
        "undetermined",
        f"the direction found has f'(x; d) = {fd:.3g}, cone violation {cv:.2g}",
        val,
        branches=count,
    )


def _b_milp(ctx: _Context, act: Activity, count: int) -> NotionResult:
    status, val, d = b_direction_milp(ctx.prob, act)
    if d is None or val is None:
        return NotionResult("inconclusive", f"B MILP: {status}", branches=count, method="milp")
    if val < -ctx.tau - ctx.margin:
        res = _direction_verdict(
            ctx.prob, act, d, ctx.tau, None, count, f" (MILP over {count} branches)"
        )
        if res.verdict == "fails":
            return res
    return NotionResult(
        "undetermined",
        f"{count} branches exceed max_branches; the MILP finds no descent direction (value "
        f"{val:.3g}), but B 'holds' needs one checked multiplier per branch",
        branches=count,
        method="milp",
    )


__all__ = ["Certificate", "NotionResult", "check", "classify", "problem_scale", "region_of"]
