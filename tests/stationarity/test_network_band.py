"""The structured certifier's activity band: every threshold split (network_band).

Instances: small dyadic networks whose planted pre-activations are moved off 0 by amounts inside the
band [act_tol/band, act_tol*band] = [1e-7, 1e-5], so the classification of those entries depends on
the threshold. The generic path (classify at each threshold with band = 1, i.e. one split) is the
independent computation the structured band verdict is compared with.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.model import Problem
from ialam_verify.model.network import forward
from ialam_verify.stationarity import Tolerances, classify, p_problem, pp_problem
from ialam_verify.stationarity.network import decide_notions
from ialam_verify.stationarity.network_band import band_thresholds, range_activities
from ialam_verify.stationarity.network_check import Activity

TOLS = Tolerances()  # act_tol 1e-6, band 10


def band_instance(seed, sizes, deltas, *, alpha=0.5, beta=4.0, break_pair=False):
    """Mirrored pairs of samples (stationarity can hold exactly) with, for each delta, one
    pre-activation set to ``delta`` (inside the band) by its bias."""
    rng = np.random.default_rng(seed)
    L = len(sizes) - 1
    x = rng.integers(-2, 3, size=(sizes[0], 2)).astype(float)
    X = np.concatenate([x, x], axis=1)
    W = [rng.integers(-2, 3, size=(o, i)).astype(float) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [rng.integers(-2, 3, size=o).astype(float) for o in sizes[1:]]
    for dlt in deltas:
        l = int(rng.integers(L))
        i, p = int(rng.integers(sizes[l + 1])), int(rng.integers(2))
        _, V = forward(W, b, X, alpha)
        prev = X if l == 0 else V[l - 1]
        b[l][i] = -(W[l][i] @ prev[:, p]) + dlt
    _, V = forward(W, b, X, alpha)
    y = rng.integers(-2, 3, size=(sizes[-1], 2)).astype(float)
    Y = np.concatenate([y, 2 * V[-1][:, :2] - y], axis=1)
    if break_pair:
        Y[0, 0] += 1.0
    prob = Problem.create(X, Y, sizes, alpha, 0.0, 0.0, beta)
    return prob, prob.lift(W, b)


def per_split_generic(prob, pt, kind):
    """The generic verdicts at every threshold split of the band, one split at a time."""
    full = (pp_problem if kind == "PP" else p_problem)(prob, pt)
    T = band_thresholds(prob, pt, kind, TOLS.act_tol, TOLS.band)
    return T, [classify(full, act_tol=t, band=1).verdicts() for t in T]


def test_interior_split_differs_from_both_ends():
    """B of (PP): "fails" at both ends of the band, "holds" at interior splits. Re-deciding at the
    two ends only (the old loop) keeps "fails"; every split makes it "undetermined", as the generic
    path says on the same instance."""
    prob, pt = band_instance(204, (1, 2, 1), [-4e-6, 5e-7], break_pair=True)
    T, per = per_split_generic(prob, pt, "PP")
    b = [v["B"] for v in per]
    assert len(T) >= 4, T
    assert b[0] == b[-1] == "fails", b
    assert "holds" in b[1:-1], b
    stc = decide_notions(prob, pt, "PP", tolerances=TOLS)
    gen = classify(pp_problem(prob, pt), tolerances=TOLS)
    assert str(stc.results["B"].verdict) == "undetermined", stc.results["B"].reason
    assert str(gen.results["B"].verdict) == "undetermined", gen.results["B"].reason
    assert any("threshold splits" in n for n in stc.notes), stc.notes
    # no contradiction with the generic path on any notion
    for name, r in stc.results.items():
        assert {str(r.verdict), str(gen.results[name].verdict)} != {"holds", "fails"}, name


def test_range_activities_cover_every_split():
    """Every entry's state (G, H, kink flags) at every split of a range is its state in one of the
    activities of range_activities, and the last one is the activity at the range's top."""
    prob, pt = band_instance(204, (1, 2, 1), [-4e-6, 5e-7], break_pair=True)
    for kind in ("PP", "P"):
        T = band_thresholds(prob, pt, kind, TOLS.act_tol, TOLS.band)
        for i in range(len(T)):
            for j in range(i, len(T)):
                acts = range_activities(prob, pt, kind, T[i], T[j])
                top = Activity.at(prob, pt, T[j], kind)
                assert acts[-1].key() == top.key()
                for t in T[i : j + 1]:
                    a = Activity.at(prob, pt, t, kind)
                    for l in range(prob.n_layers):
                        state = np.stack([a.G[l], a.H[l], a.kz[l]])
                        hit = np.zeros(state.shape[1:], dtype=bool)
                        for r in acts:
                            hit |= np.all(state == np.stack([r.G[l], r.H[l], r.kz[l]]), axis=0)
                        assert hit.all(), (kind, i, j, t, l)


@settings(max_examples=6)
@given(
    seed=st.integers(0, 2**31),
    sizes=st.sampled_from([(1, 2, 1), (2, 2, 1), (1, 1, 1)]),
    deltas=st.lists(st.sampled_from([2e-7, -3e-7, 5e-7, -6e-7, 2.5e-6, -4e-6]), min_size=1,
                    max_size=3, unique=True),
    beta=st.sampled_from([0.0, 1.0, 4.0]),
    break_pair=st.booleans(),
)
def test_band_verdict_never_decided_when_splits_disagree(seed, sizes, deltas, beta, break_pair):
    """Where the generic per-split verdicts contain both "holds" and "fails", the structured band
    verdict is "undetermined"; where it is decided, it is the verdict of every decided split."""
    prob, pt = band_instance(seed, sizes, deltas, beta=beta, break_pair=break_pair)
    for kind in ("PP", "P"):
        T, per = per_split_generic(prob, pt, kind)
        stc = decide_notions(prob, pt, kind, tolerances=TOLS)
        for name, r in stc.results.items():
            seen = {v[name] for v in per} & {"holds", "fails"}
            if len(seen) == 2:
                assert not r.verdict.decided, (kind, name, [v[name] for v in per], r.reason)
            elif r.verdict.decided and seen:
                assert seen == {str(r.verdict)}, (kind, name, [v[name] for v in per], r.reason)


def test_proof_from_the_top_split_serves_every_split():
    """(P) "fails" whose base direction does not stay in the cone at every split (an entry in the band
    turns biactive): the proof decided at the band's top threshold (du = dv = 0 on every entry
    biactive there) is re-checked over every split and replaces the base one. The verdicts equal the
    generic path's at every split, and the report's independent re-check accepts the new evidence at
    the caller's act_tol."""
    from ialam_verify.stationarity import certify

    prob, pt = band_instance(1, (2, 3, 2), [2e-6, 5e-6], break_pair=True)
    stc = decide_notions(prob, pt, "P", tolerances=TOLS)
    if any("every verdict decided at the band's top threshold" in x for x in stc.notes):
        moved = [n for n, r in stc.results.items() if str(r.verdict) == "fails"]  # all from the top
    else:
        moved = [n for n in stc.results
                 if any(x.startswith(f"{n}: the proof of failure found at the band") for x in stc.notes)]
    assert moved, stc.notes
    # the activity reported is the caller's act_tol's, whichever split the evidence came from
    a = Activity.at(prob, pt, TOLS.act_tol, "P")
    assert stc.activity["activity_tol"] == TOLS.act_tol
    assert stc.activity["biactive"] == sum(int((g & h).sum()) for g, h in zip(a.G, a.H, strict=True))
    _, per = per_split_generic(prob, pt, "P")
    for n in moved:
        assert str(stc.results[n].verdict) == "fails"
        assert {v[n] for v in per} <= {"fails", "undetermined"}, (n, [v[n] for v in per])
    rep = certify(prob, pt, method="structured", tolerances=TOLS)
    chk = rep.check(TOLS)
    assert any(k.startswith("P.") for k in chk["per_notion"]), list(chk["per_notion"])
    bad = {k: v for k, v in chk["per_notion"].items() if k.startswith("P.") and not v["accepted"]}
    assert not bad, bad


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
