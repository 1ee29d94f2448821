"""Shared helpers of the refine tests: a short warm start by the package's own warm-up.

The warm start is :func:`ialam_verify.solver.warmup.warmup` (prox-Adam on objective (1), tested in
``test_solver_warmup.py``), not the refinement under test: the refine tests only need a network near
a stationary point, and every claim they make is re-checked on the refined point itself.
"""

from __future__ import annotations

import numpy as np

from ialam_verify.data import synthetic
from ialam_verify.model.network import init_weights, match_output_scale
from ialam_verify.model.problem import Problem
from ialam_verify.solver.settings import WarmupSettings
from ialam_verify.solver.warmup import warmup


def adam_start(problem: Problem, iters: int, seed: int = 0, lr: float = 1e-2, group_lasso: bool = True):
    """``iters`` full-batch prox-Adam steps (learning rate ``lr``) from the default initialization.

    The iteration cap binds (no time cap), so the start is deterministic. ``group_lasso=False``
    trains on the loss alone (``lambda_w = 0``): a start without exact zero columns, for the tests of
    the refinement's own column cuts.
    """
    W, b = init_weights(problem.sizes, np.random.default_rng(seed))
    W = match_output_scale(W, b, problem.X, problem.Y, problem.alpha)
    target = problem
    if not group_lasso:
        target = Problem.create(
            problem.X, problem.Y, problem.sizes, problem.alpha, 0.0, problem.lambda_v, problem.beta
        )
    res = warmup(target, W, b, WarmupSettings(max_iter=iters, max_seconds=float("inf"), lr=lr))
    return res.W, res.b


def small_problem(sizes=(10, 4, 2), n=40, seed=0, lambda_w=1e-3, lambda_v=0.0) -> Problem:
    d = synthetic(sizes, n, 0.1, seed)
    beta = 3.0 * 2.0 * max(float(np.max(np.abs(d.Y))), 1.0) / n
    return Problem.create(d.X, d.Y, sizes, 0.1, lambda_w, lambda_v, beta)
