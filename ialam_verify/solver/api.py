r"""The front door: :func:`fit` trains a network on a data set with IALAM and returns an :class:`IALAMResult`.

Scaling. The loss of (PP) carries the factor :math:`1/N`, so its gradient per entry is of order
:math:`1/N`. Every parameter that competes with it is therefore given *per sample*: the defaults below
are multiplied by :math:`1/N` (``rho0 = RHO0 / N`` or more, see :func:`default_rho0`, ``tau1 = TAU1 / N``, ``beta_l = BETA_SCALE *
2 max|Y| / N``), which makes a run independent of ``N`` in the way the loss is. ``docs/algorithm.md``
records the measurements behind each default.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import as_float_array, check_alpha, check_nonnegative, check_sizes
from ..data.synthetic import Dataset
from ..metrics import COLUMN_ZERO_TOL, evaluate
from ..model.network import init_weights, match_output_scale
from ..model.problem import LiftedPoint, Problem
from .ialam import IALAM, IALAMResult, IALAMState, warn_unknown

#: default rho0 * N (measured: docs/algorithm.md, "Defaults")
RHO0 = 1e-4
#: default tau1 * N
TAU1 = 0.01
#: default beta_l = BETA_SCALE * 2 max|Y| / N on every layer
BETA_SCALE = 3.0


def default_beta(Y: np.ndarray, n_layers: int, scale: float = BETA_SCALE) -> tuple[float, ...]:
    r"""Default penalty :math:`\beta_\ell = \text{scale}\cdot 2\max|Y|/N`, the size of the loss gradient."""
    N = Y.shape[1]
    base = scale * 2.0 * max(float(np.max(np.abs(Y))), 1.0) / N
    return (base,) * n_layers


def relu_bias_bound(sizes: Sequence[int], theta_w: float, theta_v: float) -> float:
    r"""The (PP_b) bound :math:`-\bar N(\theta_w + \theta_v)` on every bias entry, :math:`\bar N = \sum_{\ell\ge1} N_\ell`."""
    return -float(sum(sizes[1:])) * (theta_w + theta_v)


#: the group-lasso threshold lambda_w / rho0 is kept at most 1/GL_MARGIN of the median column correlation
GL_MARGIN = 1.0


def default_rho0(problem: Problem, point: LiftedPoint) -> float:
    r"""Default :math:`\rho_0`: ``RHO0 / N``, raised if needed so the group lasso cannot zero the network.

    The (w, b) step zeroes column ``j`` of :math:`W_\ell` when :math:`\|C_{:,j}\| \le \lambda_w/\rho`,
    :math:`C = T_cP_c^T` (``wb_step``). With a small :math:`\rho_0` that threshold can exceed every
    column's correlation and the first steps set the whole network to zero (measured on MNIST, N = 1000,
    with :math:`\rho_0 = 10^{-4}/N` and :math:`10^{-3}/N`: an all-zero network). So
    :math:`\rho_0 = \max\{\text{RHO0}/N,\ \text{GL\_MARGIN}\,\lambda_w / \min_\ell
    \operatorname{median}_j \|C^{(\ell)}_{:,j}\|\}`, the median over the nonzero columns at the
    initial point (targets :math:`T = U_\ell`, multipliers 0).
    """
    N = problem.n_samples
    rho0 = RHO0 / N
    if problem.lambda_w <= 0:
        return rho0
    meds = []
    prev = [problem.X, *point.V[:-1]]
    for Ul, Pl in zip(point.U, prev, strict=True):
        Tc = Ul - Ul.mean(axis=1, keepdims=True)
        Pc = Pl - Pl.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(Tc @ Pc.T, axis=0)
        norms = norms[norms > 0]
        if norms.size:
            meds.append(float(np.median(norms)))
    if not meds:
        return rho0
    return max(rho0, GL_MARGIN * problem.lambda_w / min(meds))


def relu_thetas(Y: np.ndarray, lambda_w: float, lambda_v: float) -> tuple[float, float]:
    r"""Level-set bounds :math:`(\theta_w, \theta_v)` for (PP_b) (``docs/algorithm.md``, section 7).

    :math:`\theta = 1.01\,\frac1N\|Y\|_F^2` (the objective of the zero network, plus 1 %),
    :math:`\theta_w = \theta/\lambda_w`, :math:`\theta_v = \sqrt{\theta/\lambda_v}`.
    """
    if not (lambda_w > 0 and lambda_v > 0):
        raise ValueError(
            "the ReLU variant (alpha = 0) needs lambda_w > 0 and lambda_v > 0 to bound the level set, "
            f"or an explicit relu_theta; got lambda_w = {lambda_w}, lambda_v = {lambda_v}"
        )
    theta = 1.01 * float(np.sum(np.asarray(Y) ** 2)) / Y.shape[1]
    return theta / lambda_w, float(np.sqrt(theta / lambda_v))


def initial_point(
    problem: Problem, seed: int = 0, scale: str | float = "fan_in", match_targets: bool = True
) -> LiftedPoint:
    """The talk's initialization: random ``W``, ``b = 0``, ``u = Wv + b``, ``v = sigma(u)`` (feasible for (P)).

    With ``match_targets`` the random weights are rescaled by one common factor so that the initial
    output has the size (RMS) of the targets (:func:`ialam_verify.model.network.match_output_scale`).
    """
    W, b = init_weights(problem.sizes, np.random.default_rng(seed), scale)
    if match_targets:
        W = match_output_scale(W, b, problem.X, problem.Y, problem.alpha)
    return problem.lift(W, b)


class _Progress:
    """One line per outer iteration on stderr."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.t0 = time.perf_counter()

    def __call__(self, state: IALAMState, problem: Problem) -> None:
        lifted = problem.lift(state.point.W, state.point.b)
        print(
            f"  outer {state.iter_num:3d}  inner {state.nit_inner:5d}  rho {state.rho:9.3e}  "
            f"residual {state.error:9.3e}  TrainErr {problem.loss(lifted.V[-1]):9.4g}  "
            f"{time.perf_counter() - self.t0:6.1f}s",
            file=self.stream,
            flush=True,
        )


def check_test_data(data: Dataset) -> None:
    """``X_test`` and ``Y_test``: both or neither, finite, with the training data's row counts."""
    if (data.X_test is None) != (data.Y_test is None):
        raise ValueError("data.X_test and data.Y_test go together; got only one of them")
    if data.X_test is None:
        return
    Xt = as_float_array("data.X_test", data.X_test, ndim=2)
    Yt = as_float_array("data.Y_test", data.Y_test, ndim=2)
    X = np.asarray(data.X)
    Y = np.asarray(data.Y)
    if Xt.shape[0] != X.shape[0]:
        raise ValueError(f"data.X_test must have {X.shape[0]} rows like X; got shape {Xt.shape}")
    if Yt.shape[0] != Y.shape[0] or Yt.shape[1] != Xt.shape[1]:
        raise ValueError(
            f"data.Y_test must have shape ({Y.shape[0]}, {Xt.shape[1]}); got {Yt.shape}"
        )


def fit(
    data: Dataset,
    sizes: Sequence[int],
    *,
    alpha: float = 0.1,
    lambda_w: float = 1e-4,
    lambda_v: float = 0.0,
    beta: float | Sequence[float] | None = None,
    seed: int = 0,
    init_scale: str | float = "fan_in",
    match_targets: bool = False,
    relu_theta: tuple[float, float] | None = None,
    callback: Callable[[IALAMState], bool | None] | None = None,
    verbose: bool = False,
    column_tol: float = COLUMN_ZERO_TOL,
    **options: Any,
) -> IALAMResult:
    r"""Train a leaky-ReLU network with group sparsity by IALAM.

    Parameters
    ----------
    data : Dataset
        Training data (and optional test data), samples as columns.
    sizes : sequence of int
        ``(N_0, ..., N_L)``.
    alpha : float
        Leaky-ReLU slope in [0, 1). ``alpha = 0`` is the ReLU variant (PP_b), with the bias bound from
        ``relu_theta`` or, by default, :func:`relu_thetas`.
    lambda_w, lambda_v : float
        Weights of :math:`\mathcal R_1` (group lasso) and :math:`\mathcal R_2 = \lambda_v\|v\|^2`.
    beta : float or sequence, optional
        Penalty parameters; default :func:`default_beta`.
    seed : int
        Seed of the initialization: the same seed gives the same result.
    init_scale : {"fan_in", "width"} or float
        Divisor of the random initial weights (:func:`ialam_verify.model.init_weights`).
    match_targets : bool
        Rescale the initial weights so that the initial output has the RMS of ``Y`` (off by default;
        ``docs/algorithm.md``, "Initialization", has the measurement).
    relu_theta : (theta_w, theta_v), optional
        For the ReLU variant (PP_b): the bias bound is :math:`-\bar N(\theta_w + \theta_v)`.
    callback : callable, optional
        ``callback(state)`` after every outer iteration; returning ``True`` stops the run.
    verbose : bool
        Print one progress line per outer iteration on stderr.
    column_tol : float
        Columns with norm below this count as zero in the column sparse ratio.
    **options
        Settings of :class:`~ialam_verify.solver.ialam.IALAM` (``rho0``, ``tau1``, ``eta1``, ``eta2``,
        ``eta3``, ``gamma``, ``max_outer``, ``max_seconds``, ``inner_max_iter``, ...). Unknown names are
        ignored with a ``RuntimeWarning``.

    Returns
    -------
    IALAMResult
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be an ialam_verify.data.Dataset; got {type(data).__name__}")
    sizes = check_sizes(sizes)
    check_test_data(data)
    alpha = check_alpha(alpha, allow_zero=True)
    check_nonnegative("column_tol", column_tol)
    if alpha == 0.0 and relu_theta is None:
        relu_theta = relu_thetas(np.asarray(data.Y, dtype=float), float(lambda_w), float(lambda_v))
    N = data.n_samples
    L = len(sizes) - 1
    bound = None
    if relu_theta is not None:
        tw, tv = (
            check_nonnegative("relu_theta[0]", relu_theta[0]),
            check_nonnegative("relu_theta[1]", relu_theta[1]),
        )
        bound = relu_bias_bound(sizes, tw, tv)
    if beta is None:
        beta = default_beta(np.asarray(data.Y, dtype=float), L)
    problem = Problem.create(data.X, data.Y, sizes, alpha, lambda_w, lambda_v, beta, bound)
    known = {f.name for f in dataclasses.fields(IALAM)} - {"problem", "_inner"}
    options = warn_unknown(options, known)
    options.setdefault("tau1", TAU1 / N)
    adapt_rho0 = "rho0" not in options
    options.setdefault("rho0", RHO0 / N)
    solver = IALAM(problem, **options)  # validates every setting before any work
    point = initial_point(problem, seed, init_scale, match_targets)
    if adapt_rho0:
        solver = dataclasses.replace(solver, rho0=default_rho0(problem, point))

    progress = _Progress() if verbose else None

    def cb(state: IALAMState) -> bool | None:
        if progress is not None:
            progress(state, problem)
        return callback(state) if callback is not None else None

    result = solver.run(point, callback=cb)
    result.metrics.update(
        evaluate(
            result.W, result.b, alpha, problem.X, problem.Y, data.X_test, data.Y_test, column_tol
        )
    )
    result.settings.update(
        {
            "seed": seed,
            "init_scale": init_scale,
            "column_tol": column_tol,
            "lambda_w": problem.lambda_w,
            "lambda_v": problem.lambda_v,
            "alpha": alpha,
            "beta": list(problem.beta),
            "sizes": list(sizes),
        }
    )
    return result
