"""The pipeline's verdict (certify_kkt) decides (PP) alone; its KKT verdict must be the one of the full
report ``certify(problem, point).verdict("KKT")`` (the second computation), whatever the point."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.model import Problem
from ialam_verify.model.network import forward
from ialam_verify.solver import certify_kkt
from ialam_verify.stationarity import certify


def mirrored(seed: int, sizes, zero_at: int | None, break_pair: bool, lambda_w: float):
    """Integer network, mirrored pairs of samples (KKT can hold exactly), an optional planted kink."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, size=(sizes[0], 2)).astype(float)
    X = np.concatenate([x, x], axis=1)
    W = [rng.integers(-2, 3, size=(o, i)).astype(float) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [rng.integers(-2, 3, size=o).astype(float) for o in sizes[1:]]
    if zero_at is not None:
        b[0][zero_at % sizes[1]] = -(W[0][zero_at % sizes[1]] @ X[:, 0])
    _, V = forward(W, b, X, 0.5)
    y = rng.integers(-2, 3, size=(sizes[-1], 2)).astype(float)
    Y = np.concatenate([y, 2 * V[-1][:, :2] - y], axis=1)
    if break_pair:
        Y[0, 0] += 1.0
    prob = Problem.create(X, Y, sizes, 0.5, lambda_w, 0.0, 1.0)
    return prob, prob.lift(W, b)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    sizes=st.sampled_from([(1, 2, 1), (2, 2, 1), (2, 3, 2)]),
    zero_at=st.one_of(st.none(), st.integers(0, 5)),
    break_pair=st.booleans(),
    lambda_w=st.sampled_from([0.0, 0.5]),
)
def test_kkt_verdict_equals_the_full_report(seed, sizes, zero_at, break_pair, lambda_w):
    prob, pt = mirrored(seed, sizes, zero_at, break_pair, lambda_w)
    got, how = certify_kkt(prob, pt)
    want = certify(prob, pt).verdict("KKT")
    assert got.outcome == want.outcome, (how, got, want)
    assert how in ("certify ((PP) only)", "certify")


def test_a_wrong_witness_never_makes_it_hold():
    prob, pt = mirrored(3, (2, 2, 1), None, True, 0.0)
    assert str(certify(prob, pt).verdict("KKT")) != "holds"
    zeros = {
        "xi": [np.zeros_like(U) for U in pt.U],
        "mu1": [np.zeros_like(U) for U in pt.U],
        "mu2": [np.zeros_like(U) for U in pt.U],
        "slopes": [np.ones_like(U) for U in pt.U],
        "group_subgradients": [np.zeros_like(W) for W in pt.W],
    }
    got, _ = certify_kkt(prob, pt, witness=zeros)
    assert str(got) != "holds"


def test_mirrored_pairs_hold_and_broken_pairs_fail():
    """Both outcomes occur among the instances above (so the equality test is not vacuous)."""
    outcomes = {str(certify_kkt(*mirrored(s, (2, 2, 1), None, bp, 0.0))[0]) for s in range(4) for bp in (False, True)}
    assert {"holds", "fails"} <= outcomes, outcomes


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
