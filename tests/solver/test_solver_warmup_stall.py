"""The warm-up's budget rule: the stall stop against an independent prox-Adam loop, and the default
budget (trial lengths, iteration and time caps, patience) reaching the run from ``fit``."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.data import synthetic
from ialam_verify.model.network import init_weights
from ialam_verify.model.problem import Problem
from ialam_verify.solver import fit
from ialam_verify.solver.settings import WarmupSettings
from ialam_verify.solver.warmup import objective_and_gradient

# the module, not the function of the same name that ialam_verify.solver exports
warmup_module = importlib.import_module("ialam_verify.solver.warmup")


def problem_of(seed: int, sizes=(3, 4, 3, 2), n=12) -> tuple[Problem, list, list]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], n))
    Y = rng.standard_normal((sizes[-1], n))
    prob = Problem.create(X, Y, sizes, 0.2, 1e-2, 0.0, 0.5)
    W, b = init_weights(sizes, rng)
    return prob, W, b


def reference_segment(prob: Problem, start: list, lr: float, cap: int, patience, rtol):
    """Prox-Adam written out here (Adam's update, then the group-lasso prox) from ``start`` with fresh
    moments, objective (1) from the problem's own forward pass after each step; it stops at step k
    once the objective has not fallen below (1 - rtol) times the value of its last real progress for
    ``patience`` steps (the rule as documented), or after ``cap`` steps.
    Returns (steps, best objective, best parameters)."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    L = len(prob.sizes) - 1
    params = [np.array(p, dtype=float) for p in start]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    F = prob.network_objective(params[:L], params[L:])
    best, best_params = F, [p.copy() for p in params]
    mark, mark_k = F, 0
    for k in range(1, cap + 1):
        _, gW, gb = objective_and_gradient(prob, params[:L], params[L:])
        for i, g in enumerate([*gW, *gb]):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            params[i] = params[i] - lr * (m[i] / (1 - b1**k)) / (np.sqrt(v[i] / (1 - b2**k)) + eps)
            if i < L:
                norms = np.linalg.norm(params[i], axis=0)
                shrink = np.where(norms > lr * prob.lambda_w, 1 - lr * prob.lambda_w / norms, 0.0)
                params[i] = params[i] * shrink
        F = prob.network_objective(params[:L], params[L:])
        if F < best:
            best, best_params = F, [p.copy() for p in params]
        if F < mark * (1 - rtol):
            mark, mark_k = F, k
        if k - mark_k >= patience:
            return k, best, best_params
    return cap, best, best_params


def reference_warmup(prob: Problem, W, b, lr: float, cap: int, patience: int, rtol: float):
    """The documented rule: segments of prox-Adam, each from the best point so far with fresh
    moments, while the previous segment ended on a stall and lowered the best objective by more
    than a relative ``rtol``. Returns (total steps, best objective, number of segments)."""
    steps, best, params = reference_segment(prob, [*W, *b], lr, cap, patience, rtol)
    segments = 1
    while steps < cap:
        k, val, p = reference_segment(prob, params, lr, cap - steps, patience, rtol)
        steps += k
        segments += 1
        progress = val < best * (1 - rtol)
        if val < best:
            best, params = val, p
        if not progress:
            break
    return steps, best, segments


def run_warmup(prob, W, b, lr, cap, patience, rtol):
    old = (warmup_module.STALL_PATIENCE, warmup_module.STALL_RTOL)
    warmup_module.STALL_PATIENCE, warmup_module.STALL_RTOL = patience, rtol
    try:
        return warmup_module.warmup(
            prob, W, b, WarmupSettings(lr=lr, max_iter=cap, max_seconds=float("inf"))
        )
    finally:
        warmup_module.STALL_PATIENCE, warmup_module.STALL_RTOL = old


@settings(deadline=None, max_examples=8)
@given(st.integers(0, 10_000), st.sampled_from([20, 50]), st.sampled_from([1e-3, 1e-2]))
def test_stall_stop_and_restarts_match_an_independent_prox_adam(seed, patience, rtol):
    prob, W, b = problem_of(seed)
    lr, cap = 0.05, 600
    steps, best, segments = reference_warmup(prob, W, b, lr, cap, patience, rtol)
    r = run_warmup(prob, W, b, lr, cap, patience, rtol)
    assert r.iterations == steps, (
        f"the warm-up stopped after {r.iterations} steps; the rule on the reference run says "
        f"{steps} ({segments} segments, patience {patience}, rtol {rtol})"
    )
    np.testing.assert_allclose(
        r.objective, best, rtol=1e-9,
        err_msg="the warm-up's objective is not the best of the reference run up to its stop",
    )  # fmt: skip


def test_a_plateau_stops_the_warm_up_before_its_cap_after_a_restart_that_paid():
    # a case where the rule fires at the default rtol and a restart lowers the objective
    prob, W, b = problem_of(3)
    steps, best, segments = reference_warmup(prob, W, b, 0.05, 3000, 200, warmup_module.STALL_RTOL)
    first, first_best, _ = reference_segment(
        prob, [*W, *b], 0.05, 3000, 200, warmup_module.STALL_RTOL
    )
    assert steps < 3000 and segments >= 2 and best < first_best, (
        "the reference run did not stall, restart and improve; pick another case",
        steps, segments, best, first_best,
    )  # fmt: skip
    r = run_warmup(prob, W, b, 0.05, 3000, 200, warmup_module.STALL_RTOL)
    assert r.iterations == steps
    np.testing.assert_allclose(r.objective, best, rtol=1e-9)


def test_default_budget_reaches_the_run(monkeypatch):
    """``fit`` with the default warm-up: each trial rate gets LR_TRIAL_MAX_ITER steps and a tenth of
    the seconds, the continuation the rest of the 20000 steps and 10 s with the stall rule on."""
    calls = []
    real = warmup_module._adam

    def spy(problem, W, b, lr, max_iter, max_seconds, batch=None, rng=None, patience=None):
        calls.append((lr, max_iter, max_seconds, batch, patience))
        return real(problem, W, b, lr, min(max_iter, 3), max_seconds, batch, rng, patience)

    monkeypatch.setattr(warmup_module, "_adam", spy)
    assert (WarmupSettings().max_iter, WarmupSettings().max_seconds) == (20000, 10.0)
    data = synthetic((4, 3, 2), 30, seed=1)
    fit(data, (4, 3, 2), max_outer=1, refine=False)
    trials, (lr, left_iter, left_sec, batch, patience) = calls[:3], calls[3]
    # (the spy's 3-step runs look like stalls to the warm-up: restarts follow, same rate and rule)
    assert all(c[0] == lr and c[4] == patience for c in calls[4:]), calls[4:]
    assert lr in warmup_module.LR_GRID
    assert [c[0] for c in trials] == list(warmup_module.LR_GRID)
    assert all(c[1] == warmup_module.LR_TRIAL_MAX_ITER == 500 for c in trials), trials
    assert all(c[2] == pytest.approx(1.0) and c[4] is None for c in trials), trials
    assert left_iter == 20000 - 3 * 3, "the continuation's cap is the budget minus the trials' steps"
    assert 0 < left_sec <= 10.0 and patience == warmup_module.STALL_PATIENCE == 2000
    assert batch == 30  # full batch at N = 30


def test_short_budgets_keep_the_trial_fraction(monkeypatch):
    """Below 5000 steps each trial keeps a tenth of the budget (as before the 500-step cap)."""
    calls = []
    real = warmup_module._adam

    def spy(problem, W, b, lr, max_iter, *args):
        calls.append(max_iter)
        return real(problem, W, b, lr, max_iter, *args)

    monkeypatch.setattr(warmup_module, "STALL_RESTARTS", False)
    monkeypatch.setattr(warmup_module, "_adam", spy)
    prob, W, b = problem_of(0)
    warmup_module.warmup(prob, W, b, WarmupSettings(max_iter=300, max_seconds=float("inf")))
    assert calls[:3] == [30, 30, 30] and calls[3] == 300 - 90, calls
