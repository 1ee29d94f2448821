"""Shared helpers of the refine tests: a tiny numpy Adam warm start (so no solver under test is used)."""

from __future__ import annotations

import numpy as np

from ialam_verify.data import synthetic
from ialam_verify.model.network import forward, init_weights, match_output_scale
from ialam_verify.model.problem import Problem


def _grad(problem: Problem, W, b):
    """Gradient of (1/N)||net - Y||^2 + lambda_w sum ||col|| by plain backpropagation (written here, not imported)."""
    U, V = forward(W, b, problem.X, problem.alpha)
    N = problem.n_samples
    D = (2.0 / N) * (V[-1] - problem.Y)
    gW, gb = [None] * len(W), [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        G = np.where(U[l] >= 0, 1.0, problem.alpha) * D
        prev = problem.X if l == 0 else V[l - 1]
        gW[l] = G @ prev.T
        nrm = np.linalg.norm(W[l], axis=0)
        gW[l] = gW[l] + problem.lambda_w * W[l] / np.maximum(nrm, 1e-300)
        gb[l] = G.sum(axis=1)
        D = W[l].T @ G
    return gW, gb


def adam_start(problem: Problem, iters: int, seed: int = 0, lr: float = 1e-2):
    """Full-batch Adam from the default initialization (a short warm start)."""
    rng = np.random.default_rng(seed)
    W, b = init_weights(problem.sizes, rng)
    W = match_output_scale(W, b, problem.X, problem.Y, problem.alpha)
    params = [*W, *b]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    L = len(W)
    for k in range(1, iters + 1):
        gW, gb = _grad(problem, params[:L], params[L:])
        for i, g in enumerate([*gW, *gb]):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            params[i] = params[i] - lr * (m[i] / (1 - 0.9**k)) / (np.sqrt(v[i] / (1 - 0.999**k)) + 1e-8)
    return params[:L], params[L:]


def small_problem(sizes=(10, 4, 2), n=40, seed=0, lambda_w=1e-3, lambda_v=0.0) -> Problem:
    d = synthetic(sizes, n, 0.1, seed)
    beta = 3.0 * 2.0 * max(float(np.max(np.abs(d.Y))), 1.0) / n
    return Problem.create(d.X, d.Y, sizes, 0.1, lambda_w, lambda_v, beta)
