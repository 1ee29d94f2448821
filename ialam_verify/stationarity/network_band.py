r"""The activity band of the structured certifier: every threshold split, without re-deciding each.

An entry whose activity value lies in the band :math:`[\mathrm{act\_tol}/\mathrm{band},
\mathrm{act\_tol}\cdot\mathrm{band}]` could be counted active or not. With the :math:`k` distinct
values :math:`v_1 < \dots < v_k` there, the thresholds :math:`\theta_0 < v_1` and
:math:`\theta_i = v_i` give the :math:`k + 1` classifications ("splits"; values :math:`\le\theta`
are active), as in :func:`.classify.classify`. A decided verdict stands only if it is re-proved at
every split; otherwise it becomes "undetermined" (stricter than the generic path, which keeps a
verdict when another split is merely undetermined: the promise is that the verdict holds at every
split).

Cheap first: the evidence of a verdict is re-checked for a whole range of splits
:math:`[\theta_i, \theta_j]` at once. Every activity-dependent quantity of the checks is entrywise:

* a witness's residual blocks do not depend on the activity, its membership violation is a maximum
  over entries (pair rules couple the ``G``, ``H`` and kink flags of one entry ``(l, i, n)``);
* a direction's cone violation is a maximum over entries, and its :math:`D` grows with the activity
  (:math:`\sup_{s\in[\alpha,1]} -\beta s\,du \ge -\beta s_{\rm fixed} du` at a kink,
  :math:`\lambda\|dW_j\| \ge \lambda W_j^T dW_j/\|W_j\|` at a column), so :math:`D(\theta_j)` is
  the largest over the range; :math:`\|d\|_1` and :math:`J_h d` do not depend on it.

Over the range, an entry passes through at most four states (its flags with values in
:math:`(\theta_i, \theta_j]` switch on in the order of their values); :func:`range_activities`
builds four activities, the :math:`r`-th putting every entry in its :math:`r`-th state, so the
maximum of an entrywise violation over them bounds it at every split of the range. A range that
does not confirm is halved; a single split that does not confirm is re-decided there (the full
decision). More than :data:`MAX_BAND_SPLITS` splits to re-decide: "undetermined", with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from .network_check import (
    Activity,
    PointData,
    direction_bound,
    membership_violation,
)

#: largest number of threshold splits re-decided in full (one structured decision each) for the
#: splits where the evidence of a decided verdict does not carry over; above it those verdicts are
#: "undetermined" (splits confirmed by the evidence cost a few entrywise checks, uncapped)
MAX_BAND_SPLITS = 64

_REL = 1e-9  # relative slack on a proved bound (rounding), as network_proof.BOUND_SLACK


def flag_values(problem: Problem, point: LiftedPoint, kind: str, data: PointData | None = None):
    """Per layer the values compared with the threshold, ``(G, H, K)``: :math:`v - u`,
    :math:`v - \alpha u` and :math:`|u|` ((PP) only; None for (P), whose kink flag is never on),
    and per layer the column norms (+inf when there is no group term). ``data``: the point's
    :class:`.network_data.PointData`, whose gaps are reused (a fresh one without it)."""
    data = PointData.of(problem, point, data)
    ent = [(g, h, k if kind == "PP" else None) for g, h, k in data.gaps(kind)]
    cols = [
        np.linalg.norm(W, axis=0) if problem.lambda_w > 0 else np.full(W.shape[1], np.inf)
        for W in point.W
    ]
    return ent, cols


def _in(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``lo < x <= hi`` as one mask (two comparisons, no temporary beyond the masks)."""
    m = x > lo
    m &= x <= hi
    return m


def band_thresholds(
    problem: Problem, point: LiftedPoint, kind: str, act_tol: float, band: float, flags=None
):
    """The thresholds of every split of the distinct activity values in the band (one below them
    all, then each value), as :func:`.classify._band_thresholds`; ``[act_tol]`` when none.
    ``flags``: :func:`flag_values` of the point if already computed."""
    ent, cols = flags if flags is not None else flag_values(problem, point, kind)
    lo, hi = act_tol / band, act_tol * band
    found = []
    for x in [a for e in ent for a in e if a is not None] + list(cols):
        m = x >= lo
        m &= x <= hi
        m &= x > 0
        if m.any():
            found.append(x[m])
    inside = np.unique(np.concatenate(found)) if found else np.zeros(0)
    if inside.size == 0:
        return [act_tol]
    return [float(np.nextafter(inside[0], 0.0))] + [float(v) for v in inside]


def range_activities(
    problem: Problem, point: LiftedPoint, kind: str, lo: float, hi: float, flags=None
) -> list[Activity]:
    r"""Activities whose entrywise states cover every split :math:`\theta \in [lo, hi]`.

    A flag with value :math:`\le lo` is active in all; one with value in :math:`(lo, hi]` is
    active in the :math:`r`-th activity iff fewer than :math:`r` flags of its entry with values in
    :math:`(lo, hi]` are strictly smaller (ties switch together, as they do at a threshold). The
    last one equals ``Activity.at(hi)``; ``lo == hi`` gives ``[Activity.at(lo)]``. ``flags``:
    :func:`flag_values` of the point if already computed (one pass over the network, not one per
    range). Only the few entries with a flag in the range are ranked (by index)."""
    if lo >= hi:
        return [Activity.at(problem, point, lo, kind)]
    ent, cols = flags if flags is not None else flag_values(problem, point, kind)
    per_layer = []
    for e in ent:
        vals = [x for x in e if x is not None]
        base = [x <= lo for x in vals]
        inr = [_in(x, lo, hi) for x in vals]
        some = inr[0].copy()
        for m in inr[1:]:
            some |= m
        idx = np.nonzero(some)  # entries that can change within the range: few
        if idx[0].size:
            v = np.stack([np.where(m[idx], x[idx], np.inf) for m, x in zip(inr, vals, strict=True)])
            rank = (v[None, :, :] < v[:, None, :]).sum(axis=1)  # flags of the entry below each
            on = np.isfinite(v)
        per_layer.append((base, idx, rank if idx[0].size else None, on if idx[0].size else None))
    out = []
    for r in range(4):
        G, H, K = [], [], []
        for (base, idx, rank, on), U in zip(per_layer, point.U, strict=True):
            masks = [b.copy() for b in base]
            if rank is not None:
                for f, m in enumerate(masks):
                    m[idx] |= on[f] & (rank[f] < r)
            G.append(masks[0])
            H.append(masks[1])
            K.append(masks[2] if kind == "PP" else np.zeros(U.shape, dtype=bool))
        Z = [(c <= lo) | ((c > lo) & (c <= hi) & (r >= 1)) for c in cols]
        out.append(Activity(float(hi if r == 3 else lo), G, H, K, Z))
    return out


def _changes(acts: list[Activity], which: str) -> bool:
    """Whether the flags ``which`` ("kz" or "GH") differ between the activities of a range."""
    first = acts[0]
    for a in acts[1:]:
        for name in ("kz",) if which == "kz" else ("G", "H"):
            if any(not np.array_equal(x, y) for x, y in zip(getattr(first, name), getattr(a, name), strict=True)):
                return True
    return False


def confirmed_on(dec, name: str, res, acts: list[Activity]) -> bool:
    """Whether the evidence of ``res`` (the verdict of ``name`` decided by ``dec``) re-proves it at
    every activity of ``acts`` (those of :func:`range_activities`); entrywise, as the module doc."""
    p, pt, kind, tol = dec.p, dec.pt, dec.kind, dec.tol
    if str(res.verdict) == "holds":
        wit = res.witness
        if wit is None or isinstance(wit, list):
            return False  # branch witnesses are tied to the branches at one activity
        notion = name
        if name == "B":
            notion = "KKT" if kind == "PP" else ("S" if res.method == "implication" else "W")
        # the residual does not depend on the activity: its block maxima (NaN/inf -> inf) once
        worst = max(dec.blocks(wit)["max"].values())
        for a in acts:
            mv = membership_violation(p, pt, kind, notion, wit, a)
            worst = max(worst, max(mv.values()))
        return bool(np.isfinite(worst) and worst <= tol)
    regions = res.regions
    if regions:
        # one direction per branch region, built on the biactive set of one activity
        from .network_biactive import region_valid

        if _changes(acts, "GH") or any(
            not np.array_equal(x, y) for x, y in zip(acts[0].G, dec.act.G, strict=True)
        ) or any(not np.array_equal(x, y) for x, y in zip(acts[0].H, dec.act.H, strict=True)):
            return False
        return all(region_valid(dec, reg, acts[-1]) for reg in regions)
    d = res.direction
    if d is None:
        return False
    if res.slopes is not None and _changes(acts, "kz"):
        return False  # a slope branch is tied to the kinks at one activity
    notion = "S" if res.cone == "S" else ("W" if kind == "P" else "Clarke")
    # notions implied by one proof share its direction: re-check it once per range (the entry
    # holds the objects it was computed for, so a reused id cannot hit a stale answer)
    # (only the current range is kept: a range's activities are large arrays)
    held = dec.__dict__.get("_band_memo")
    if held is None or held[0] is not acts:
        held = dec.__dict__["_band_memo"] = (acts, {})
    memo = held[1]
    key = (id(d), id(res.slopes), notion)
    hit = memo.get(key)
    if hit is not None and hit[0] is d and hit[1] is res.slopes:
        return hit[2]
    ok = _direction_confirmed(dec, d, res.slopes, notion, acts)
    memo[key] = (d, res.slopes, ok)
    return ok


def _direction_confirmed(dec, d: dict, slopes, notion: str, acts: list[Activity]) -> bool:
    """A direction's bound and cone rules re-checked at every activity of ``acts``."""
    p, pt, kind, tol = dec.p, dec.pt, dec.kind, dec.tol
    top = direction_bound(p, pt, kind, notion, acts[-1], d, slopes, dec.data)
    if not top["finite"]:
        return False
    lim = 1e-12 * top["size"] * 10  # the rounding allowance of check_direction
    if not (top["h"] <= lim and top["cone"] <= lim and top["bound"] > tol * (1 + _REL)):
        return False
    for a in acts[:-1]:
        if direction_bound(p, pt, kind, notion, a, d, slopes, dec.data)["cone"] > lim:
            return False
    return True


def decided_at_top(
    run: Callable[[float], tuple[object, dict]],
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    act_tol: float,
    band: float,
    flags=None,
) -> tuple[tuple[object, dict] | None, dict | None, list[str]]:
    """Decide every notion at the band's top threshold first (``run(T[-1])``).

    The top split's biactive set contains every split's, so a direction with ``du = dv = 0`` there
    is in every split's cone, and its bound is weakest at the top (``D`` grows with the activity):
    when every verdict decided at the top re-checks over the whole band (:func:`confirmed_on` on
    :func:`range_activities` of ``[T[0], T[-1]]``, which covers the split of ``act_tol`` too), they
    are the certificate and no decision at ``act_tol`` is needed. Returns ``(top, results,
    notes)``: ``top`` the ``(decider, results)`` of the top run (None when the band holds no value),
    ``results`` the certificate's verdicts when every one carried over (else None)."""
    flags = flags if flags is not None else flag_values(problem, point, kind)
    T = band_thresholds(problem, point, kind, act_tol, band, flags)
    if len(T) <= 1:
        return None, None, []
    top = run(T[-1])
    whole = range_activities(problem, point, kind, T[0], T[-1], flags)
    dec, res = top
    if all(r.verdict.decided and confirmed_on(dec, n, r, whole) for n, r in res.items()):
        k = len(T) - 1
        note = (
            f"{k} value(s) within the activity band [{act_tol / band:g}, {act_tol * band:g}] "
            f"({k + 1} threshold splits): every verdict decided at the band's top threshold "
            f"{T[-1]:.6g}, its evidence re-checked at every split (act_tol's included)"
        )
        return top, res, [note]
    return top, None, []


def settle_band(
    dec,
    results: dict,
    run: Callable[[float], tuple[object, dict]],
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    act_tol: float,
    band: float,
    max_splits: int = MAX_BAND_SPLITS,
    top: tuple[object, dict] | None = None,
    flags=None,
) -> list[str]:
    """Make every decided verdict of ``results`` (decided by ``dec`` at ``act_tol``) hold at every
    threshold split of the band, or turn it "undetermined" with the reason; returns notes.

    ``run(a)`` decides every notion at activity ``a`` (a fresh decider); ``top``: its result at the
    band's top threshold if already computed (:func:`decided_at_top`); ``flags``:
    :func:`flag_values` if already computed."""
    flags = flags if flags is not None else flag_values(problem, point, kind)
    T = band_thresholds(problem, point, kind, act_tol, band, flags)
    if len(T) <= 1:
        return []
    lo_b, hi_b = act_tol / band, act_tol * band
    names = [n for n, r in results.items() if r.verdict.decided]
    todo: dict[str, list[int]] = {n: [] for n in names}

    def rec(i: int, j: int, live: list[str], checked: bool = False) -> None:
        """``checked``: ``live`` is already known not to confirm over ``[T[i], T[j]]``."""
        if checked:
            bad = live
        else:
            acts = range_activities(problem, point, kind, T[i], T[j], flags)
            bad = [n for n in live if not confirmed_on(dec, n, results[n], acts)]
        if not bad:
            return
        if i == j:
            for n in bad:
                todo[n].append(i)
            return
        m = (i + j) // 2
        rec(i, m, bad)
        rec(m + 1, j, bad)

    notes: list[str] = []
    if names:
        # the top split first: its biactive set contains every split's, so a "fails" decided there
        # by a direction with du = dv = 0 on those entries is in every split's cone; when its
        # evidence re-checks over the whole range it replaces the base evidence (valid at act_tol
        # too, so the report's check re-proves it) and no split needs a decision of its own
        whole = range_activities(problem, point, kind, T[0], T[-1], flags)
        live = [n for n in names if not confirmed_on(dec, n, results[n], whole)]
        failing = [n for n in live if str(results[n].verdict) == "fails"]
        if failing:
            top_dec, alt = top if top is not None else run(T[-1])
            for n in failing:
                a = alt[n]
                if str(a.verdict) == "fails" and confirmed_on(top_dec, n, a, whole):
                    results[n] = a
                    live.remove(n)
                    notes.append(
                        f"{n}: the proof of failure found at the band's top threshold {T[-1]:.6g} "
                        "re-checked at every split"
                    )
        if live:
            rec(0, len(T) - 1, live, checked=True)
    base_key = dec.act.key()
    by_key: dict[tuple, tuple[int, set[str]]] = {}
    keys: dict[int, tuple] = {}  # one activity per split, shared by the notions needing it
    for n, idx in todo.items():
        for i in idx:
            if i not in keys:
                keys[i] = Activity.at(problem, point, T[i], kind).key()
            key = keys[i]
            if key != base_key:  # the base activity's verdicts were decided there
                first, need = by_key.setdefault(key, (i, set()))
                need.add(n)
    k = len(T) - 1
    head = f"{k} value(s) within the activity band [{lo_b:g}, {hi_b:g}] ({k + 1} threshold splits)"
    if not by_key:
        return [f"{head}: every decided verdict's evidence re-checked at every split"] + notes
    if len(by_key) > max_splits:
        for n in sorted({n for _, need in by_key.values() for n in need}):
            res = results[n]
            res.verdict = Verdict.undetermined(
                f"{head}: the evidence does not carry over to {len(by_key)} of them, more than "
                f"MAX_BAND_SPLITS={max_splits} to re-decide; was: {res.verdict} "
                f"({res.verdict.reason})",
                residual=res.verdict.residual,
                epsilon=res.verdict.epsilon,
            )
        return [f"{head}: too many splits to re-decide"] + notes
    for i, need in sorted(by_key.values(), key=lambda v: v[0]):
        _, alt = run(T[i])
        for n in sorted(need):
            res, a = results[n], alt[n].verdict
            if not res.verdict.decided or (a.decided and a.outcome == res.verdict.outcome):
                continue
            res.verdict = Verdict.undetermined(
                f"verdict not re-proved at every split of the activity band: {res.verdict} at "
                f"act_tol={act_tol:g}, {a} at threshold {T[i]:.6g}",
                residual=res.verdict.residual,
                epsilon=res.verdict.epsilon,
            )
    return [
        f"{head}: evidence re-checked over ranges of splits, {len(by_key)} split(s) re-decided"
    ] + notes
