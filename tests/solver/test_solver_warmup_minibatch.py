"""The warm-up's minibatch option: the rule that chooses it, the unbiased gradient estimate against the
full gradient (a second formulation), determinism under its seed, descent, Ctrl-C and bad values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.model.network import init_weights
from ialam_verify.model.problem import Problem
from ialam_verify.solver import fit, warmup
from ialam_verify.solver.settings import WarmupSettings, split_options

WU = __import__("sys").modules["ialam_verify.solver.warmup"]


def problem_of(seed, sizes=(3, 5, 2), n=24, lambda_v=0.05, lambda_w=1e-2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], n))
    Y = rng.standard_normal((sizes[-1], n))
    return Problem.create(X, Y, sizes, 0.2, lambda_w, lambda_v, 0.5), rng


def test_batch_size_rule_by_n():
    assert WU.batch_size_for(1000) == 1000  # MNIST N = 1000 and the synthetic N = 500: full batch
    assert WU.batch_size_for(WU.FULL_BATCH_MAX_N) == WU.FULL_BATCH_MAX_N
    assert WU.batch_size_for(WU.FULL_BATCH_MAX_N + 1) == WU.MINIBATCH_SIZE
    assert WU.batch_size_for(60000) == WU.MINIBATCH_SIZE
    assert WU.batch_size_for(60000, 1000) == 1000
    assert WU.batch_size_for(50, 1000) == 50  # capped at N: full batch


@given(st.integers(0, 10_000), st.sampled_from([1, 2, 3, 4, 6, 8, 12]))
def test_minibatch_estimates_average_to_the_full_value_and_gradient(seed, n_batches):
    r"""Over a partition of the N samples into equal batches S_k of size B, the mean of the scaled
    estimates f_S (scale N/B) is f, and the mean of their gradients is the full gradient."""
    prob, rng = problem_of(seed)
    W, b = init_weights(prob.sizes, rng)
    b = [rng.standard_normal(x.shape) for x in b]
    N = prob.n_samples
    B = N // n_batches
    f, gW, gb = WU.objective_and_gradient(prob, W, b)
    perm = rng.permutation(N)
    acc_f, acc_W, acc_b = 0.0, [np.zeros_like(g) for g in gW], [np.zeros_like(g) for g in gb]
    for k in range(n_batches):
        idx = perm[k * B : (k + 1) * B]
        fk, gWk, gbk = WU._smooth_and_gradient(prob, prob.X[:, idx], prob.Y[:, idx], W, b, N / B)
        acc_f += fk / n_batches
        for a, g in zip(acc_W + acc_b, gWk + gbk, strict=True):
            a += g / n_batches
    assert acc_f == pytest.approx(f, rel=1e-12), "mean of the minibatch values differs from f"
    for a, g in zip(acc_W + acc_b, gW + gb, strict=True):
        np.testing.assert_allclose(a, g, rtol=1e-10, atol=1e-13, err_msg="mean of minibatch grads")


def objective_one(prob, W, b):
    """Objective (1) with the ridge of the lift, recomputed by the model (not by the warm-up)."""
    lift = prob.lift(W, b)
    return prob.loss(lift.V[-1]) + prob.ridge(lift.V) + prob.group_lasso(W)


def settings(**kw):
    base = {"max_seconds": math.inf, "max_iter": 120, "lr": 1e-2, "batch_size": 5, "seed": 3}
    return WarmupSettings(**(base | kw))


def test_minibatch_warmup_is_deterministic_under_its_seed_and_the_seed_matters():
    prob, rng = problem_of(1)
    W, b = init_weights(prob.sizes, rng)
    r1 = warmup(prob, W, b, settings())
    r2 = warmup(prob, W, b, settings())
    for a, c in zip(r1.W + r1.b, r2.W + r2.b, strict=True):
        np.testing.assert_array_equal(a, c, err_msg="same seed, different network")
    assert r1.objective == r2.objective and r1.iterations == r2.iterations == 120
    r3 = warmup(prob, W, b, settings(seed=4))
    assert any(not np.array_equal(a, c) for a, c in zip(r1.W, r3.W, strict=True)), (
        "another seed gave the same minibatches"
    )
    # lr None with minibatches: the fixed minibatch rate, no trials
    r4 = warmup(prob, W, b, settings(lr=None))
    r5 = warmup(prob, W, b, settings(lr=WU.MINIBATCH_LR))
    assert r4.lr == WU.MINIBATCH_LR and r4.iterations == 120
    for a, c in zip(r4.W + r4.b, r5.W + r5.b, strict=True):
        np.testing.assert_array_equal(a, c, err_msg="lr None is not the minibatch rate")


def test_minibatch_warmup_decreases_objective_one_and_reports_it():
    prob, rng = problem_of(2, n=40)
    W, b = init_weights(prob.sizes, rng)
    start = objective_one(prob, W, b)
    r = warmup(prob, W, b, settings(max_iter=300, batch_size=8))
    assert r.batch_size == 8
    assert r.objective < 0.9 * start, (r.objective, start)
    # the reported value is objective (1) of the returned network, recomputed by the model
    assert r.objective == pytest.approx(objective_one(prob, r.W, r.b), rel=1e-12)
    # a diverging learning rate keeps the best point seen (here: at least as good as the start)
    r = warmup(prob, W, b, settings(lr=50.0, batch_size=8))
    assert r.objective <= start
    assert r.objective == pytest.approx(objective_one(prob, r.W, r.b), rel=1e-12)


def test_full_batch_unchanged_at_small_n():
    """batch_size None at small N is the full-batch warm-up: identical to batch_size = N."""
    prob, rng = problem_of(3)
    W, b = init_weights(prob.sizes, rng)
    r1 = warmup(prob, W, b, settings(batch_size=None, max_iter=50))
    r2 = warmup(prob, W, b, settings(batch_size=prob.n_samples, max_iter=50))
    assert r1.batch_size == r2.batch_size == prob.n_samples
    for a, c in zip(r1.W + r1.b, r2.W + r2.b, strict=True):
        np.testing.assert_array_equal(a, c)


def test_ctrl_c_in_a_minibatch_step_keeps_the_best_network(monkeypatch):
    prob, rng = problem_of(4)
    W, b = init_weights(prob.sizes, rng)
    real = WU._smooth_and_gradient
    calls = {"n": 0}

    def interrupted_on_the_tenth(*a, **k):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(WU, "_smooth_and_gradient", interrupted_on_the_tenth)
    r = warmup(prob, W, b, settings())
    # the tenth call: the full objective is evaluated through the same function (at k = 0 and once
    # per epoch of ceil(24 / 5) = 5 steps), so 7 steps were taken; the run stops there
    assert r.interrupted and r.iterations == 7
    assert r.objective == pytest.approx(objective_one(prob, r.W, r.b), rel=1e-12)


@pytest.mark.parametrize(
    ("name", "value"),
    [("warmup_batch_size", v) for v in (0, -4, 2.5, True, math.inf, "8")]
    + [("warmup_seed", v) for v in (-1, 1.5, math.nan, None)],
)
def test_bad_minibatch_settings_are_refused_before_any_work(name, value):
    with pytest.raises(ValueError, match=name):
        split_options({name: value})
    from ialam_verify.data import TALK_SHAPES, synthetic

    data = synthetic(TALK_SHAPES["L2"], 20, seed=0)
    with pytest.raises(ValueError, match=name):
        fit(data, TALK_SHAPES["L2"], **{name: value})


def test_minibatch_settings_reach_the_pipeline():
    from ialam_verify.data import TALK_SHAPES, synthetic

    data = synthetic(TALK_SHAPES["L2"], 40, seed=0)
    res = fit(
        data, TALK_SHAPES["L2"], warmup_batch_size=10, warmup_seed=5, warmup_lr=0.01,
        warmup_max_iter=7, warmup_seconds=60.0, max_outer=1, refine=False, certify=False,
    )  # fmt: skip
    assert res.stages[0]["message"] == "prox-Adam, lr 0.01, 7 iterations, minibatches of 10"
    assert res.settings["warmup_batch_size"] == 10 and res.settings["warmup_seed"] == 5


def test_ctrl_c_in_the_minibatch_warmup_stops_the_pipeline_cleanly(monkeypatch):
    """Ctrl-C during a minibatch step: the warm-up keeps its best network, the later stages are
    skipped, the result says 'interrupted' and holds a feasible network."""
    from ialam_verify.data import TALK_SHAPES, synthetic

    real = WU._smooth_and_gradient
    calls = {"n": 0}

    def interrupted_on_the_twentieth(*a, **k):
        calls["n"] += 1
        if calls["n"] == 20:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(WU, "_smooth_and_gradient", interrupted_on_the_twentieth)
    data = synthetic(TALK_SHAPES["L2"], 40, seed=0)
    res = fit(data, TALK_SHAPES["L2"], warmup_batch_size=8, warmup_seconds=60.0)
    status = {s["name"]: s["status"] for s in res.stages}
    assert status["warm-up"] == "interrupted"
    assert status["IALAM"] == status["refinement"] == "skipped"
    assert not res.success and "interrupted" in res.message
    assert res.problem.feas_vi(res.point) <= 1e-12
