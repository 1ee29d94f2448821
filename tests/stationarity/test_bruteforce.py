"""Random small instances: classify's verdicts against brute-force enumeration (scipy linprog)."""

from __future__ import annotations

import numpy as np
from hypothesis import given

from ialam_verify.stationarity import check, classify
from ialam_verify.testing.oracles import brute_min_residual
from ialam_verify.testing.strategies import degenerate_mpccs as instances


def agree(verdict: str, rho: float) -> None:
    assert verdict in ("holds", "fails"), (verdict, rho)  # integer data: never in the gray zone
    if rho <= 1e-9:
        assert verdict == "holds", rho
    else:
        assert rho > 1e-5 and verdict == "fails", rho


@given(instances())
def test_mpcc_verdicts_agree_with_enumeration(prob):
    cert = classify(prob)
    for notion in ("W", "A", "C", "M", "S"):
        agree(cert.results[notion].verdict, brute_min_residual(prob, notion))
    assert check(cert, prob)["accepted"]


@given(instances(with_kinks=True, max_pairs=1))
def test_kink_verdicts_agree_with_enumeration(prob):
    cert = classify(prob)
    names = ("KKT", "Clarke") if prob.is_nlp else ("W", "S")
    for notion in names:
        mode = "clarke" if notion == "Clarke" else "limiting"
        agree(cert.results[notion].verdict, brute_min_residual(prob, notion, kinks=mode))
    assert check(cert, prob)["accepted"]


@given(instances(max_pairs=3))
def test_mixed_integer_path_is_sound(prob):
    """Forced onto the MILP (max_branches=1): "holds" only with a checked witness, and whenever
    enumeration finds a witness of moderate size the MILP finds one too."""
    milp = classify(prob, max_branches=1)
    enum = classify(prob, max_branches=10_000)
    assert check(milp, prob)["accepted"]
    for notion in ("A", "C", "M"):
        m, e = milp.results[notion], enum.results[notion]
        if m.verdict == "holds":
            assert e.verdict == "holds"
        if e.verdict == "holds" and e.witness is not None:
            size = max(
                np.max(np.abs(e.witness["nu"]), initial=0),
                np.max(np.abs(e.witness["w"]), initial=0),
            )
            if size < 100:
                assert m.verdict == "holds", (notion, m.reason)
        if e.verdict == "fails":
            assert m.verdict in ("fails", "undetermined")


@given(instances())
def test_b_descent_directions_and_branch_witnesses(prob):
    """B (linearized): a failing verdict comes with a direction in the linearized cone along which
    the first-order change is negative; a holding one with one checked multiplier per branch; and B
    sits between S and W: S => B => W."""
    cert = classify(prob)
    b = cert.results["B"]
    if b.verdict == "fails":
        d = b.descent_direction
        assert prob.grad_f @ d < -cert.tol
    if cert.results["S"].verdict == "holds":
        assert b.verdict == "holds"
    if b.verdict == "holds":
        assert cert.results["W"].verdict == "holds"
    assert check(cert, prob)["accepted"]


@given(instances(max_pairs=3, with_kinks=True))
def test_b_milp_finds_descent_exactly_when_enumeration_does(prob):
    """B above max_branches: the direction MILP (exact big-M: |J_i d| <= ||J_i||_1 on the box) fails
    exactly when some enumerated branch fails; otherwise it stays undetermined (never "holds"
    without per-branch multipliers)."""
    enum = classify(prob, max_branches=10_000).results["B"]
    milp_cert = classify(prob, max_branches=1)
    milp = milp_cert.results["B"]
    if enum.branches <= 1:
        return  # one branch: both paths enumerate
    assert milp.verdict in ("fails", "undetermined", "holds")
    if milp.verdict == "holds":
        assert "implied" in milp.reason  # only through S => B
    if milp.verdict == "fails" or enum.verdict == "fails":
        assert (milp.verdict, enum.verdict) == ("fails", "fails")
    assert check(milp_cert, prob)["accepted"]


@given(instances(with_kinks=True, max_pairs=0))
def test_kink_milp_is_exact_without_biactive_pairs(prob):
    """Kinks but no biactive pair (so no big-M): the MILP with exact slope binaries gives the same
    verdict as enumeration whenever the residual is clearly away from tol."""
    name = "KKT" if prob.is_nlp else "W"
    enum = classify(prob, max_branches=10_000)
    milp = classify(prob, max_branches=1)
    rho = brute_min_residual(prob, name)
    if rho <= 1e-9:
        assert milp.results[name].verdict == "holds" == enum.results[name].verdict
    elif rho > 1e-3:
        assert milp.results[name].verdict == "fails" == enum.results[name].verdict
    assert check(milp, prob)["accepted"]
