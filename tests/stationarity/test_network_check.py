"""The structured numpy re-check (no big Jacobian) against the generic one at small sizes, and the
backward-pass multiplier against finite differences of the network objective."""

from __future__ import annotations

import numpy as np
import pytest
from _network_instances import planted_instance
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.stationarity import p_problem, pp_problem, stationarity_residual
from ialam_verify.stationarity.classify import Activity as GenericActivity
from ialam_verify.stationarity.classify import multiplier_violation
from ialam_verify.stationarity.lifted import talk_to_general
from ialam_verify.stationarity.network_check import (
    Activity,
    check_direction,
    check_witness,
    propagate_direction,
)
from ialam_verify.stationarity.network_program import Structure, backward, witness


def random_witness(problem, point, kind, rng):
    """Arbitrary multipliers (not stationary): the two checks must compute the same numbers."""
    wit = {
        "Xi": [rng.standard_normal(U.shape) for U in point.U],
        "M1": [np.abs(rng.standard_normal(U.shape)) * (rng.random(U.shape) < 0.5) for U in point.U],
        "M2": [rng.standard_normal(U.shape) for U in point.U],
        "Z": [rng.standard_normal(W.shape) * 0.3 for W in point.W],
    }
    if kind == "PP":
        wit["S"] = [np.where(rng.random(U.shape) < 0.5, problem.alpha, rng.random(U.shape)) for U in point.U]
    return wit


@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.sampled_from([(1, 1, 1), (2, 3, 1), (2, 2, 2, 1)]),
    kind=st.sampled_from(["PP", "P"]),
    notion_i=st.integers(0, 4),
    lambda_w=st.sampled_from([0.0, 0.5]),
)
def test_structured_check_equals_generic_check(seed, sizes, kind, notion_i, lambda_w):
    inst = planted_instance(seed, sizes, 2, beta=1.0, lambda_w=lambda_w, lambda_v=0.25, n_zeros=2,
                            n_zero_columns=1)
    problem = inst.problem
    point = inst.point if kind == "PP" else problem.lift(inst.point.W, inst.point.b)
    notion = ["KKT", "Clarke"][notion_i % 2] if kind == "PP" else "WACMS"[notion_i]
    rng = np.random.default_rng(seed)
    wit = random_witness(problem, point, kind, rng)
    if lambda_w == 0:  # no group term: Z is not a multiplier of the generic problem
        wit["Z"] = [np.zeros_like(Z) for Z in wit["Z"]]
    mine = check_witness(problem, point, kind, notion, wit, 1e-6)
    full = (pp_problem if kind == "PP" else p_problem)(problem, point)
    gw = talk_to_general(problem, wit, kind)
    res = float(np.max(np.abs(stationarity_residual(full, gw))))
    mine_res = max(v for k, v in mine.items() if k.startswith("residual_"))
    np.testing.assert_allclose(mine_res, res, rtol=1e-12, atol=1e-12, err_msg="residuals differ")
    viol = multiplier_violation(full, GenericActivity.at(full, 1e-6), gw, notion,
                                "limiting" if notion != "Clarke" else "clarke")
    mine_viol = max(mine[k] for k in ("M1", "M2", "pair_rule", "kink_slope", "group_subgradient"))
    np.testing.assert_allclose(mine_viol, max(viol.values()), rtol=1e-12, atol=1e-12,
                               err_msg=f"membership violations differ: {mine} vs {viol}")


def test_check_rejects_nan_and_malformed_witnesses():
    inst = planted_instance(0, (2, 2, 1), 2)
    wit = random_witness(inst.problem, inst.point, "PP", np.random.default_rng(0))
    wit["Xi"][0][0, 0] = np.nan
    assert check_witness(inst.problem, inst.point, "PP", "KKT", wit, 1e-6)["max"] == np.inf
    del wit["M1"]
    with pytest.raises(ValueError, match="M1"):
        check_witness(inst.problem, inst.point, "PP", "KKT", wit, 1e-6)
    wit2 = random_witness(inst.problem, inst.point, "PP", np.random.default_rng(0))
    wit2["S"] = wit2["S"][:1]
    with pytest.raises(ValueError, match="layers"):
        check_witness(inst.problem, inst.point, "PP", "KKT", wit2, 1e-6)


@given(seed=st.integers(0, 2**32 - 1), sizes=st.sampled_from([(2, 3, 1), (3, 2, 2), (2, 2, 2, 1)]))
def test_backward_pass_gives_the_network_gradient(seed, sizes):
    """Away from kinks, with the backward-pass witness, R^V = R^U = 0 exactly and R^W, R^b equal the
    finite-difference gradient of the network objective (1) + ridge (the structured-certifier note)."""
    rng = np.random.default_rng(seed)
    from ialam_verify.model import Problem

    X = rng.standard_normal((sizes[0], 5))
    Y = rng.standard_normal((sizes[-1], 5))
    prob = Problem.create(X, Y, sizes, 0.3, 0.2, 0.1, 1.0)
    W = [rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [rng.standard_normal(o) for o in sizes[1:]]
    pt = prob.lift(W, b)
    if min(np.min(np.abs(U)) for U in pt.U) < 1e-3:
        return
    act = Activity.at(prob, pt, 1e-6, "PP")
    stc = Structure.of(prob, pt, "PP", act)
    Xi, G = backward(stc)
    wit = witness(stc, "KKT", Xi, G)
    from ialam_verify.stationarity.network_check import residual_blocks

    blocks = residual_blocks(prob, pt, "PP", wit)
    assert max(np.max(np.abs(a)) for a in blocks["V"] + blocks["U"]) < 1e-12

    def objective(Ws, bs):
        q = prob.lift(Ws, bs)
        return prob.network_objective(Ws, bs) + prob.ridge(q.V)

    eps = 1e-6
    for l in range(len(W)):
        fd = np.zeros_like(W[l])
        for idx in np.ndindex(*W[l].shape):
            Wp = [w.copy() for w in W]
            Wm = [w.copy() for w in W]
            Wp[l][idx] += eps
            Wm[l][idx] -= eps
            fd[idx] = (objective(Wp, b) - objective(Wm, b)) / (2 * eps)
        np.testing.assert_allclose(blocks["W"][l], fd, atol=1e-6, err_msg=f"R^W of layer {l}")


def test_direction_bound_is_below_the_generic_minimum():
    """A direction's bound never exceeds the generic program's smallest residual (weak duality)."""
    from ialam_verify.stationarity import classify

    for seed in range(4):
        inst = planted_instance(seed, (2, 3, 1), 2, beta=0.125, break_pair=True, n_zeros=1)
        prob, pt = inst.problem, inst.point
        act = Activity.at(prob, pt, 1e-6, "PP")
        stc = Structure.of(prob, pt, "PP", act)
        Xi, G = backward(stc)
        from ialam_verify.stationarity.network_check import residual_blocks

        blocks = residual_blocks(prob, pt, "PP", witness(stc, "Clarke", Xi, G))
        dW, db = [-R for R in blocks["W"]], [-r for r in blocks["b"]]
        dU, dV = propagate_direction(prob, pt, "PP", "Clarke", act, dW, db)
        chk = check_direction(prob, pt, "PP", "Clarke", {"W": dW, "b": db, "U": dU, "V": dV}, 1e-6)
        assert chk["valid"]
        from ialam_verify.stationarity import Tolerances

        gen = classify(pp_problem(prob, pt), tolerances=Tolerances(scaled=False),
                       notions=("Clarke",), b_stationarity=False)
        assert gen.results["Clarke"].min_residual >= chk["bound"] * (1 - 1e-6) - 1e-9
        # a forged direction (not in ker J_h) is rejected
        bad = {"W": dW, "b": db, "U": [u + 1.0 for u in dU], "V": dV}
        assert not check_direction(prob, pt, "PP", "Clarke", bad, 1e-6)["valid"]
