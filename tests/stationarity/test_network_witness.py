"""KKT of (PP) at many kinks: the structured certifier's own witnesses (Clarke relaxation with the
slope of the interval holding xi, refine's least-squares kink multipliers, the dive) and a witness
handed in by the caller.

Independent checks: refine's multipliers are re-checked by ``refine_multipliers.check_witness``
(layer-by-layer numpy and the kernel's generic ``check``); structured "holds" certificates by the
kernel's generic ``check`` on the full Jacobian; the dive against the generic certifier ``classify``.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from _network_instances import planted_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.stationarity import Tolerances, certify, check, classify, pp_problem
from ialam_verify.stationarity.network import NetworkNotionResult, _Decider, decide_notions
from ialam_verify.stationarity.network_check import network_scale
from ialam_verify.verdict import Verdict

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "solver"))
from _refine_common import adam_start, small_problem  # noqa: E402

TOLS = Tolerances()
EXAMPLES = int(os.environ.get("IALAM_DIVE_EXAMPLES", "20"))


@pytest.fixture(scope="module")
def refined():
    """Refined points (warm start + refine, refine's own verdict from its witness only)."""
    from ialam_verify.solver.refine import RefineSettings, refine
    from ialam_verify.solver.refine_multipliers import check_witness as refine_check

    out = []
    for sizes, n, seeds in (((10, 4, 2), 50, (0, 1)), ((10, 10, 2), 80, (0, 2))):
        for seed in seeds:
            pr = small_problem(sizes, n, seed, lambda_w=1e-3)
            W, b = adam_start(pr, 1500, seed=seed)
            # max_seconds: a safety net only, the outcome must not depend on the machine's load
            res = refine(pr, W, b, settings=RefineSettings(max_seconds=600, certify="witness"))
            ok = bool(refine_check(pr, res.point, res.multipliers, TOLS)["accepted"])
            out.append((sizes, seed, pr, res, ok))
    return out


def _n_slope_kinks(pr, pt) -> int:
    dec = _Decider(pr, pt, "PP", TOLS.tol * network_scale(pr, pt, "PP"), TOLS.act_tol, 64)
    rp = dec.program()
    return 0 if isinstance(rp, str) else int(rp.kz_beta.sum())


def test_structured_alone_certifies_what_refine_certifies(refined):
    n_ok, kinks = 0, []
    for sizes, seed, pr, res, ok in refined:
        if not ok:
            continue
        n_ok += 1
        kinks.append(_n_slope_kinks(pr, res.point))
        rep = certify(pr, res.point, method="structured")
        v = rep.verdict("KKT")
        assert v == "holds", f"{sizes} seed {seed}: refine's witness passes but structured says {v!r}"
        # the structured witness is accepted by the kernel's generic check on the full Jacobian
        ck = check(rep.pp.to_generic(pr, res.point), pp_problem(pr, res.point), TOLS)
        assert ck.accepted, f"{sizes} seed {seed}: generic check rejects: {ck.messages}"
    assert n_ok >= 2, f"only {n_ok} refined points were certified by refine's witness"
    # not decidable by enumerating slope branches (2^k > max_branches = 64)
    assert max(kinks) > 6, f"too few kinks to test the search: {kinks}"


def test_handed_in_witness_is_used_after_the_check(refined):
    sizes, seed, pr, res, ok = next(r for r in refined if r[4])
    rep = certify(pr, res.point, method="structured", witness=res.multipliers)
    kkt = rep.pp.results["KKT"]
    assert kkt.verdict == "holds" and kkt.method == "caller's witness", (kkt.method, kkt.reason)
    assert rep.check()["accepted"], "the report with the caller's witness does not re-check"


def test_forged_witness_is_rejected(refined):
    sizes, seed, pr, res, ok = next(r for r in refined if r[4])
    forged = copy.deepcopy(res.multipliers)
    forged["xi"][0][0, 0] += 1.0  # breaks the W-, b- and U-equations at sample 0
    dec = decide_notions(pr, res.point, "PP", tolerances=TOLS, witness=forged)
    assert dec.results["KKT"].method != "caller's witness"
    assert any("caller's witness was rejected for KKT" in n for n in dec.notes), dec.notes
    # a witness that satisfies every equation but breaks a sign rule: mu1 < 0 off the kink
    # (the U-equation then needs mu2 to compensate, which the complementarity rule forbids)
    forged = copy.deepcopy(res.multipliers)
    i, n = np.argwhere(res.point.U[0] > 1e-3)[0]
    forged["mu1"][0][i, n] -= 1.0
    forged["mu2"][0][i, n] += 1.0
    dec = decide_notions(pr, res.point, "PP", tolerances=TOLS, witness=forged)
    assert dec.results["KKT"].method != "caller's witness", dec.results["KKT"].reason


def test_forged_witness_cannot_flip_a_failure():
    """At a planted point where KKT fails (generic proof), a witness with zero residual off the
    sign rules is rejected and the verdict stays "fails"."""
    inst = planted_instance(3, (2, 2, 1), 2, beta=1.0, n_zeros=1, break_pair=True)
    pr, pt = inst.problem, inst.point
    gen = classify(pp_problem(pr, pt), tolerances=TOLS)
    assert gen.results["KKT"].verdict == "fails", gen.results["KKT"].reason
    L = pr.n_layers
    forged = {
        "xi": [np.zeros_like(U) for U in pt.U],
        "mu1": [np.full_like(U, -5.0) for U in pt.U],
        "mu2": [np.zeros_like(U) for U in pt.U],
        "slopes": [np.ones_like(U) for U in pt.U],
        "group_subgradients": [np.zeros_like(W) for W in pt.W],
    }
    assert len(forged["xi"]) == L
    rep = certify(pr, pt, method="structured", witness=forged)
    assert rep.verdict("KKT") == "fails", rep.verdict("KKT")


def test_bad_witness_input_is_an_error(refined):
    sizes, seed, pr, res, ok = refined[0]
    m = res.multipliers
    with pytest.raises(ValueError, match="witness must have key 'mu2'"):
        certify(pr, res.point, witness={k: v for k, v in m.items() if k != "mu2"})
    bad = dict(m, xi=[m["xi"][0][:, :-1], *m["xi"][1:]])
    with pytest.raises(ValueError, match=r"witness\['xi'\]\[0\] must have shape"):
        certify(pr, res.point, witness=bad)
    nan = copy.deepcopy(m)
    nan["slopes"][1][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"witness\['slopes'\]\[1\] must be finite"):
        certify(pr, res.point, witness=nan)
    with pytest.raises(ValueError, match="method='auto' or 'structured'"):
        certify(pr, res.point, method="generic", witness=m)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.sampled_from([(2, 2, 1), (2, 3, 1), (3, 2, 2), (2, 2, 2, 1)]),
    n_pairs=st.integers(1, 2),
    alpha=st.sampled_from([0.25, 0.5]),
    beta=st.sampled_from([0.125, 1.0, 4.0]),
    n_zeros=st.integers(1, 4),
    break_pair=st.booleans(),
)
def test_dive_never_contradicts_the_generic_certifier(seed, sizes, n_pairs, alpha, beta, n_zeros, break_pair):
    """With enumeration off (max_branches = 1), KKT decided by the Clarke relaxation, the
    least-squares witness and the dive never says "holds" where the generic certifier proves
    "fails", and every witness of the dive that passes the numpy check is accepted by the kernel's
    generic ``check`` on the full Jacobian."""
    inst = planted_instance(seed, sizes, n_pairs, alpha=alpha, beta=beta, n_zeros=n_zeros,
                            break_pair=break_pair)
    pr, pt = inst.problem, inst.point
    full = pp_problem(pr, pt)
    gen = classify(full, tolerances=TOLS).results["KKT"].verdict
    cert = decide_notions(pr, pt, "PP", tolerances=TOLS, max_branches=1)
    sv = cert.results["KKT"].verdict
    assert {str(sv), str(gen)} != {"holds", "fails"}, f"structured {sv!r} vs generic {gen!r}"
    if sv == "holds":
        assert check(cert.to_generic(pr, pt), full, TOLS).accepted
    # every round of the dive, whatever the Clarke LP did
    dec = _Decider(pr, pt, "PP", TOLS.tol * network_scale(pr, pt, "PP"), TOLS.act_tol, 1)
    rp = dec.program()
    if isinstance(rp, str) or not rp.kz_beta.any():
        return
    for runs in dec._dive():
        r, wit, label = dec.try_solutions("KKT", runs)
        if wit is not None and r <= dec.tol:
            assert gen != "fails", f"{label}: numpy-checked witness where generic proves fails"
            one = copy.copy(cert)
            one.results = dict(cert.results)
            one.results["KKT"] = NetworkNotionResult(Verdict.holds("dive", residual=r), "dive", wit, epsilon=r)
            ck = check(one.to_generic(pr, pt), full, TOLS)
            assert ck.per_notion["KKT"]["status"] == "proved", ck.messages


def test_dive_runs_on_planted_instances():
    """The dive is exercised (some Clarke solution puts xi between the two intervals) and its
    witnesses decide KKT where they pass."""
    fired = passed = 0
    for seed in range(40):
        sizes = [(2, 2, 1), (2, 3, 1), (3, 2, 2), (2, 2, 2, 1)][seed % 4]
        inst = planted_instance(seed, sizes, 2, beta=[0.125, 1.0, 4.0][seed % 3], n_zeros=3,
                                break_pair=bool(seed % 2))
        pr, pt = inst.problem, inst.point
        dec = _Decider(pr, pt, "PP", TOLS.tol * network_scale(pr, pt, "PP"), TOLS.act_tol, 1)
        rp = dec.program()
        if isinstance(rp, str) or not rp.kz_beta.any() or dec.relaxation_value() > dec.tol:
            continue
        rounds = 0
        for runs in dec._dive():
            rounds += 1
            passed += int(dec.try_solutions("KKT", runs)[0] <= dec.tol)
        fired += rounds > 0
    assert fired >= 3, f"the dive ran on only {fired} of 40 planted instances"
    assert passed >= 1, "no witness of the dive passed the numpy check on 40 planted instances"
