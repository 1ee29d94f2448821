r"""The pipeline's warm-up: a short full-batch first-order run on the talk's objective (1), in numpy.

.. math::

    F(W, b) = \underbrace{\frac1N\|\mathrm{net}(X) - Y\|_F^2 + \lambda_v\sum_\ell\|V_\ell\|_F^2}_{f}
        + \lambda_w\sum_\ell\sum_j\|(W_\ell)_{:,j}\|_2 .

Each step is Adam on the smooth part :math:`f` (gradient by one backward pass; the slope of
:math:`\sigma` at :math:`u = 0` is taken as 1, the right derivative) followed by the proximal map of the
group lasso, :math:`c \mapsto \max(0, 1 - t/\|c\|)\,c` column by column with :math:`t = \text{lr}\,
\lambda_w` (the practitioners' prox-Adam; :mod:`ialam_verify.experiments.baselines` uses the same rule).

Why a warm-up: IALAM from the talk's random start lets :math:`V_L` copy :math:`Y` at once and learns only
through the coupling; it ends at the penalty cap far from a good fit (``docs/algorithm.md``, measured).
From a trained network lifted to an exactly feasible point it keeps feasibility and makes columns exactly
zero. The warm-up only has to get near a good network quickly; IALAM and the refinement do the rest.

Learning rate: ``lr=None`` tries :data:`LR_GRID` for :data:`LR_TRIAL_FRACTION` of the budget each
(at most :data:`LR_TRIAL_MAX_ITER` steps) from the same start and continues with the one of smallest
:math:`F` (full batch); with minibatches it
is :data:`MINIBATCH_LR`, without trials: at N = 60000 the trials (each one restarting Adam's
moments, the winner chosen by objective (1)) and 5000 steps in all ended at TrainErr 0.058, where the
fixed rate 1e-3 reached 0.019 in 4700 steps (2026-11-30, ``docs/benchmarks.md`` section 2). The run
is deterministic when the iteration cap (or the stall stop) binds before the time cap.

Stall stop and restarts (full batch). With a constant rate Adam does not converge to a kink of the
leaky ReLU: it circles it, and :math:`F` stops falling (on the synthetic shapes from a few thousand
steps on, the best :math:`F` then does not change at all). A run therefore stops at step :math:`k` once

.. math::

    k - k_m \ge P,\qquad k_m = \text{the last step with } F_{k_m} < (1-r)\,F_{\text{mark}},

where :math:`F_{\text{mark}}` is the objective at the previous such step (:math:`P` =
:data:`STALL_PATIENCE`, :math:`r` = :data:`STALL_RTOL`). After a stall Adam restarts from the best
iterate with fresh moments (with Adam's bias correction the first step of a restart moves every
coordinate by about lr), and keeps restarting while the last run lowered the best
:math:`F` by more than the relative :math:`r`; the best iterate is returned as always
(:data:`STALL_RESTARTS`). Measured on L4 (N = 500, the warm-up alone, 2026-11-30): against the stall
stop without restarts TrainErr fell on 7 of 15 seeds 10-17 and 20-26 (seed 10: 0.00637 to 0.00488),
never rose; against the former fixed 5000 steps it fell on 12 of 14 seeds 10-17 and 20-25, equal on
2. The restarts cost one more :data:`STALL_PATIENCE` steps where they did not pay. So the budget
(:class:`~.settings.WarmupSettings`: 20000 steps, 10 s) is a cap, not a target: a run that still makes
progress gets up to 4x the former 5000 steps, a run at a kink hands its seconds on (the refinement
reaches the kink exactly). The trials keep their former length (500 steps each at the default
budget), so they pick the same rate as before. Minibatch runs have neither (their objective is
checked once per epoch).

Minibatches (large N). A full-batch step costs a forward and backward pass over all N samples (about
1 s at N = 60000, 784-200-100-10, one thread), so a few minutes give a few hundred steps. With
``batch_size = B < N`` each step uses the unbiased estimate of :math:`\nabla f` from B samples
:math:`S` drawn without replacement (one shuffle of the N samples per epoch, from ``seed``):

.. math::

    f_S = \frac NB\Big(\frac1N\sum_{i\in S}\|\mathrm{net}(x_i) - y_i\|^2
        + \lambda_v\sum_\ell\sum_{i\in S}\|(V_\ell)_{:,i}\|^2\Big),\qquad
    \mathbb E_S\, f_S = f,

followed by the same proximal step (threshold ``lr * lambda_w``: the group lasso is not a sum over
samples). The best iterate is judged by the *full* objective (1), evaluated once every
:math:`\lceil N/B\rceil` steps (one epoch) and at the end, so the result is never worse than the
start. Rule for ``batch_size=None`` (:func:`batch_size_for`): full batch when
:math:`N \le` :data:`FULL_BATCH_MAX_N`, else :data:`MINIBATCH_SIZE`; the small problems of the tests,
the synthetic shapes (N = 500) and MNIST N = 1000 keep the full-batch warm-up they were measured with.
Deterministic under ``seed`` when the iteration cap binds (the same minibatches, the same steps).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..model.problem import Problem
from .settings import WarmupSettings

#: learning rates tried when ``lr`` is not given (the range where full-batch Adam works on (1))
LR_GRID: tuple[float, ...] = (3e-3, 1e-2, 3e-2)
#: the learning rate with minibatches when ``lr`` is not given (Adam's usual default; no trials)
MINIBATCH_LR = 1e-3
#: ``batch_size=None``: full batch up to this many samples
FULL_BATCH_MAX_N = 5000
#: ``batch_size=None``: the minibatch size above :data:`FULL_BATCH_MAX_N`
MINIBATCH_SIZE = 256
#: share of the iteration and time budget each trial learning rate gets
LR_TRIAL_FRACTION = 0.1
#: at most this many steps per trial learning rate
LR_TRIAL_MAX_ITER = 500
#: the continuation (full batch) stops once objective (1) has not fallen by a relative
#: :data:`STALL_RTOL` in this many steps (a plateau: constant-rate Adam circles a kink there)
STALL_PATIENCE = 2000
STALL_RTOL = 1e-6
#: after a stall, restart Adam's moments from the best iterate while that lowers the objective
STALL_RESTARTS = True

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


@dataclass
class WarmupResult:
    """Weights after the warm-up, its objective (1) and what it did."""

    W: list[np.ndarray]
    b: list[np.ndarray]
    objective: float
    lr: float
    iterations: int
    seconds: float
    interrupted: bool = False
    #: samples per step (N: full batch)
    batch_size: int = 0


def batch_size_for(n_samples: int, batch_size: int | None = None) -> int:
    r"""Samples per warm-up step: ``batch_size`` capped at N, or the rule by N when it is ``None``.

    Rule: N when :math:`N \le` :data:`FULL_BATCH_MAX_N` (full batch), else :data:`MINIBATCH_SIZE`.
    """
    if batch_size is not None:
        return int(min(int(batch_size), n_samples))
    return n_samples if n_samples <= FULL_BATCH_MAX_N else min(MINIBATCH_SIZE, n_samples)


def objective_and_gradient(
    problem: Problem, W: Sequence[np.ndarray], b: Sequence[np.ndarray]
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    r"""The smooth part :math:`f` and its gradient by a backward pass.

    :math:`\partial f/\partial V_L = \frac2N(V_L - Y) + 2\lambda_v V_L`,
    :math:`\partial f/\partial U_\ell = \partial f/\partial V_\ell \odot \sigma'(U_\ell)`,
    :math:`\partial f/\partial W_\ell = (\partial f/\partial U_\ell) V_{\ell-1}^T`,
    :math:`\partial f/\partial b_\ell = (\partial f/\partial U_\ell) 1`,
    :math:`\partial f/\partial V_{\ell-1} = W_\ell^T\partial f/\partial U_\ell + 2\lambda_v V_{\ell-1}`.
    """
    return _smooth_and_gradient(problem, problem.X, problem.Y, W, b, 1.0)


def _smooth_and_gradient(
    problem: Problem,
    X: np.ndarray,
    Y: np.ndarray,
    W: Sequence[np.ndarray],
    b: Sequence[np.ndarray],
    scale: float,
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    r"""``scale`` times the sum over the columns of ``(X, Y)`` of the per-sample terms of :math:`f`.

    With all N samples and ``scale = 1`` this is :math:`f`; with a minibatch of B samples and
    ``scale = N/B`` it is the unbiased estimate :math:`f_S` (module docstring).
    """
    a, N, lv = problem.alpha, problem.n_samples, problem.lambda_v * scale
    U: list[np.ndarray] = []
    V: list[np.ndarray] = [X]
    for Wl, bl in zip(W, b, strict=True):
        Ul = Wl @ V[-1] + bl[:, None]
        U.append(Ul)
        V.append(np.where(Ul >= 0, Ul, a * Ul))
    diff = V[-1] - Y
    f = scale * float(np.sum(diff * diff)) / N + lv * sum(float(np.sum(Vl * Vl)) for Vl in V[1:])
    gV = (2.0 * scale / N) * diff + 2.0 * lv * V[-1]
    gW: list[np.ndarray] = [np.empty(0)] * len(W)
    gb: list[np.ndarray] = [np.empty(0)] * len(W)
    for ell in range(len(W) - 1, -1, -1):
        gU = np.where(U[ell] >= 0, gV, a * gV)
        gW[ell] = gU @ V[ell].T
        gb[ell] = gU.sum(axis=1)
        if ell > 0:
            gV = W[ell].T @ gU + 2.0 * lv * V[ell]
    return f, gW, gb


def _group_prox(Wl: np.ndarray, t: float) -> np.ndarray:
    norms = np.linalg.norm(Wl, axis=0)
    scale = np.maximum(0.0, 1.0 - t / np.where(norms > 0, norms, 1.0))
    scale[norms == 0] = 0.0
    return Wl * scale


def _adam(
    problem: Problem,
    W: list[np.ndarray],
    b: list[np.ndarray],
    lr: float,
    max_iter: int,
    max_seconds: float,
    batch: int | None = None,
    rng: np.random.Generator | None = None,
    patience: int | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray], float, int, bool]:
    """Prox-Adam from ``(W, b)``; returns the best iterate by objective (1) (never worse than the start).

    ``batch`` samples per step (``None`` or >= N: full batch, the objective checked every step);
    with minibatches ``rng`` shuffles the samples once per epoch and the full objective is checked
    once per epoch and at the end. ``patience`` (steps): stop once the best objective has not fallen
    below ``(1 - STALL_RTOL)`` times its value of ``patience`` or more steps ago (checked where the
    objective is computed; ``None``: never).
    """
    t0 = time.perf_counter()
    b1, b2 = ADAM_BETAS
    N = problem.n_samples
    full = batch is None or batch >= N
    if not full and rng is None:
        raise ValueError("minibatches need a random generator (rng)")
    eval_every = 1 if full else -(-N // int(batch))
    params = [*W, *b]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    L = len(W)
    best = (np.inf, [p.copy() for p in params])
    k = 0
    mark = (np.inf, 0)  # (best objective at the last real progress, its step): the stall test
    last_eval = -1  # the step count at which the full objective was last computed
    interrupted = diverged = False
    order = np.arange(N)
    pos = N  # start with a shuffle

    def full_objective() -> float:
        f, _, _ = objective_and_gradient(problem, params[:L], params[L:])
        return f + problem.group_lasso(params[:L])

    def keep_if_best(F: float) -> bool:
        """Keep the iterate if it is the best; True when the run has stalled (``patience``)."""
        nonlocal best, mark
        if F < best[0]:
            best = (F, [p.copy() for p in params])
        if not F >= mark[0] * (1.0 - STALL_RTOL):  # real progress (or the first value)
            mark = (F, k)
        return patience is not None and k - mark[1] >= patience

    try:
        while k < max_iter:
            if full:
                f, gW, gb = objective_and_gradient(problem, params[:L], params[L:])
                F = f + problem.group_lasso(params[:L])
                last_eval = k
                if not np.isfinite(F):
                    diverged = True
                    break
                if keep_if_best(F):
                    break
            elif k % eval_every == 0:
                F = full_objective()
                last_eval = k
                if not np.isfinite(F):
                    diverged = True
                    break
                if keep_if_best(F):
                    break
            if time.perf_counter() - t0 >= max_seconds:
                break
            if not full:
                if pos + batch > N:
                    order = rng.permutation(N)
                    pos = 0
                idx = np.sort(order[pos : pos + batch])  # sorted: a faster gather, same set
                pos += batch
                f, gW, gb = _smooth_and_gradient(
                    problem, problem.X[:, idx], problem.Y[:, idx], params[:L], params[L:], N / batch
                )
                if not np.isfinite(f):
                    diverged = True
                    break
            k += 1
            for i, g in enumerate([*gW, *gb]):
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                mhat = m[i] / (1 - b1**k)
                vhat = v[i] / (1 - b2**k)
                params[i] = params[i] - lr * mhat / (np.sqrt(vhat) + ADAM_EPS)
                if i < L and problem.lambda_w > 0:
                    params[i] = _group_prox(params[i], lr * problem.lambda_w)
        if not diverged and last_eval != k:
            F = full_objective()
            if np.isfinite(F):
                keep_if_best(F)
    except KeyboardInterrupt:
        interrupted = True
    value, ps = best
    return ps[:L], ps[L:], float(value), k, interrupted


def warmup(
    problem: Problem,
    W: Sequence[np.ndarray],
    b: Sequence[np.ndarray],
    settings: WarmupSettings | None = None,
) -> WarmupResult:
    """Run the warm-up from ``(W, b)`` within ``settings`` (:class:`~.settings.WarmupSettings`).

    Ctrl-C stops it and keeps the best network so far (``interrupted=True``).
    """
    s = WarmupSettings() if settings is None else settings
    t0 = time.perf_counter()
    W0 = [np.array(a, dtype=float) for a in W]
    b0 = [np.array(a, dtype=float) for a in b]
    batch = batch_size_for(problem.n_samples, s.batch_size)
    minibatch = batch < problem.n_samples
    lr = s.lr
    if lr is None and minibatch:
        lr = MINIBATCH_LR
    iters = 0
    if lr is None:
        trial_iter = max(1, min(LR_TRIAL_MAX_ITER, int(LR_TRIAL_FRACTION * s.max_iter)))
        trial_sec = LR_TRIAL_FRACTION * s.max_seconds
        best: tuple[float, float, list, list] | None = None
        for cand in LR_GRID:
            Wc, bc, val, k, stop = _adam(problem, W0, b0, cand, trial_iter, trial_sec)
            iters += k
            if best is None or val < best[0]:
                best = (val, cand, Wc, bc)
            if stop:
                return WarmupResult(
                    best[2], best[3], best[0], best[1], iters, time.perf_counter() - t0, True, batch
                )
        assert best is not None
        lr, W0, b0 = best[1], best[2], best[3]  # carry on from the best trial
    left_iter = max(0, s.max_iter - iters)
    left_sec = max(0.0, s.max_seconds - (time.perf_counter() - t0))
    rng = np.random.default_rng(int(s.seed)) if minibatch else None
    patience = None if minibatch else STALL_PATIENCE
    Wf, bf, val, k, stop = _adam(problem, W0, b0, lr, left_iter, left_sec, batch, rng, patience)
    iters += k
    # a stall (not the caps): restart Adam's moments from the best iterate while that pays
    while STALL_RESTARTS and patience is not None and not stop:
        left_iter = max(0, s.max_iter - iters)
        left_sec = max(0.0, s.max_seconds - (time.perf_counter() - t0))
        if left_iter == 0 or left_sec <= 0.0:
            break
        Wr, br, val_r, k, stop = _adam(problem, Wf, bf, lr, left_iter, left_sec, batch, rng, patience)
        iters += k
        progress = val_r < val * (1.0 - STALL_RTOL)
        if val_r < val:
            Wf, bf, val = Wr, br, val_r
        if not progress:
            break
    return WarmupResult(Wf, bf, val, float(lr), iters, time.perf_counter() - t0, stop, batch)
