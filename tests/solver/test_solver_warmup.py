"""The warm-up: its gradient against finite differences, its proximal map against a numerical minimizer,
and that it never returns a network worse than its start."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize

from ialam_verify.model.network import init_weights
from ialam_verify.model.problem import Problem
from ialam_verify.solver import warmup
from ialam_verify.solver.settings import WarmupSettings
from ialam_verify.solver.warmup import _group_prox, objective_and_gradient


def problem_of(seed, sizes=(3, 4, 3, 2), n=7, lambda_v=0.05):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], n))
    Y = rng.standard_normal((sizes[-1], n))
    return Problem.create(X, Y, sizes, 0.2, 1e-2, lambda_v, 0.5), rng


@given(st.integers(0, 10_000))
def test_gradient_matches_central_differences(seed):
    prob, rng = problem_of(seed)
    W, b = init_weights(prob.sizes, rng)
    b = [rng.standard_normal(x.shape) for x in b]
    f, gW, gb = objective_and_gradient(prob, W, b)
    # the value is the smooth part of objective (1) computed by the model: loss + ridge of the lift
    lift = prob.lift(W, b)
    assert f == pytest.approx(prob.loss(lift.V[-1]) + prob.ridge(lift.V), rel=1e-12)
    h = 1e-6
    for blocks, grads in ((W, gW), (b, gb)):
        for blk, g in zip(blocks, grads, strict=True):
            for idx in np.ndindex(blk.shape):
                old = blk[idx]
                blk[idx] = old + h
                fp = objective_and_gradient(prob, W, b)[0]
                blk[idx] = old - h
                fm = objective_and_gradient(prob, W, b)[0]
                blk[idx] = old
                fd = (fp - fm) / (2 * h)
                # a kink crossed within +-h would break the comparison; with random data it is
                # (almost surely) not, and the tolerance is far below any slope change
                assert g[idx] == pytest.approx(fd, rel=1e-4, abs=1e-7), (idx, g[idx], fd)


@given(st.integers(0, 10_000), st.floats(0.0, 3.0))
def test_group_prox_is_the_minimizer(seed, t):
    r"""Column j of the result minimizes :math:`t\|x\| + \frac12\|x - c_j\|^2`: checked by its optimality
    condition :math:`0 \in t\,\partial\|x\| + x - c` (at :math:`x \ne 0`: :math:`t x/\|x\| + x = c`; at
    0: :math:`\|c\| \le t`) and against a numerical minimizer on a few columns."""
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((3, 4))
    P = _group_prox(C, t)
    for j in range(C.shape[1]):
        c, x = C[:, j], P[:, j]
        if np.linalg.norm(c) <= t:
            assert np.all(x == 0.0)  # exactly zero, not small
        else:
            np.testing.assert_allclose(t * x / np.linalg.norm(x) + x, c, rtol=1e-12, atol=1e-13)
    c = C[:, 0]

    def value(x):
        return t * np.linalg.norm(x) + 0.5 * np.sum((x - c) ** 2)

    res = minimize(value, c, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14})
    assert value(P[:, 0]) <= res.fun + 1e-9


def test_warmup_never_returns_worse_than_its_start_and_reports_objective_one():
    prob, rng = problem_of(1, lambda_v=0.0)
    W, b = init_weights(prob.sizes, rng)
    start = prob.network_objective(W, b)
    for lr in (1e-3, 10.0):  # a learning rate that diverges keeps the best (the start)
        r = warmup(prob, W, b, WarmupSettings(max_seconds=float("inf"), max_iter=50, lr=lr))
        assert r.objective <= start
        assert r.objective == pytest.approx(prob.network_objective(r.W, r.b), rel=1e-12)
    r = warmup(prob, W, b, WarmupSettings(max_seconds=float("inf"), max_iter=300))
    assert r.objective < start and r.lr in (3e-3, 1e-2, 3e-2) and r.iterations == 300
