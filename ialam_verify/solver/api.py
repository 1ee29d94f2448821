r"""The front door: :func:`fit` trains a network (start -> IALAM -> refinement -> verdict) and returns an :class:`IALAMResult`.

Scaling. The loss of (PP) carries the factor :math:`1/N`, so its gradient per entry is of order
:math:`1/N`. Every parameter that competes with it is therefore given *per sample*: the defaults below
are multiplied by :math:`1/N` (``rho0 = RHO0 / N`` or more, see :func:`default_rho0`, ``tau1 = TAU1 / N``, ``beta_l = BETA_SCALE *
2 max|Y| / N``), which makes a run independent of ``N`` in the way the loss is. ``docs/algorithm.md``
records the measurements behind each default.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import as_float_array, check_alpha, check_nonnegative, check_sizes
from ..metrics import COLUMN_ZERO_TOL, evaluate
from ..model.convert import as_network
from ..model.dataset import Dataset
from ..model.network import init_weights, match_output_scale
from ..model.problem import LiftedPoint, Problem
from .ialam import IALAMResult, IALAMState
from .pipeline import FEASIBLE_START_DEFAULTS, RHO0_FEASIBLE, run_pipeline
from .settings import IALAMSettings, WarmupSettings, split_options

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
    """A line per outer iteration on stderr, at most one every ``every`` seconds."""

    def __init__(self, stream=sys.stderr, every: float = 0.5) -> None:
        self.stream = stream
        self.t0 = time.perf_counter()
        self.every = every
        self.last = -float("inf")

    def __call__(self, state: IALAMState, problem: Problem) -> None:
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
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


#: the start kinds named by a string
START_KINDS = ("warmup", "talk")


def resolve_start(
    start: Any, problem: Problem, seed: int, init_scale: str | float, match_targets: bool
):
    """``(kind, W, b)`` for ``start``: the talk's random network, its copy for the warm-up, or the given one.

    Every check happens here, before any work: an unknown string names the known ones; a network of
    the wrong shape, with NaN, or a torch module with other layers is a ``ValueError``.
    """
    if isinstance(start, str) and not start.endswith(".npz"):
        if start not in START_KINDS:
            close = difflib.get_close_matches(start, START_KINDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(
                f"start must be 'warmup', 'talk', a network (weights, biases), a torch "
                f"nn.Sequential or an .npz file; got {start!r}{hint}"
            )
        W, b = init_weights(problem.sizes, np.random.default_rng(seed), init_scale)
        if start == "talk" and match_targets:
            W = match_output_scale(W, b, problem.X, problem.Y, problem.alpha)
        return start, W, b
    W, b = as_network(start, problem.sizes, problem.alpha)
    return "network", W, b


def fit(
    data: Dataset,
    sizes: Sequence[int],
    *,
    start: Any = "warmup",
    refine: bool | None = None,
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
    certify: bool = True,
    refine_settings: Any = None,
    tolerances: Any = None,
    **options: Any,
) -> IALAMResult:
    r"""Train a leaky-ReLU network with group sparsity: start -> IALAM -> refinement -> verdict.

    Parameters
    ----------
    data : Dataset
        Training data (and optional test data), samples as columns.
    sizes : sequence of int
        ``(N_0, ..., N_L)``.
    start : {"warmup", "talk"}, (weights, biases), torch nn.Sequential or path to an .npz
        Where IALAM starts. ``"warmup"`` (default): the talk's random network trained briefly by the
        built-in prox-Adam (:mod:`.warmup`, numpy). ``"talk"``: the talk's random network as it is,
        with the talk's settings (the literal method, kept to reproduce the talk; from there IALAM is
        far behind Adam, ``docs/algorithm.md``). A network: ``W_l`` of shape ``N_l x N_{l-1}``, or a
        torch ``nn.Sequential`` of ``Linear`` + ``LeakyReLU(alpha)``. Every start is lifted to an
        exactly feasible point (``U = WV + b``, ``V = sigma(U)``) before IALAM.
    refine : bool, optional
        Run the refinement on the identified piece (:mod:`.pipeline`). Default: on, except with
        ``start="talk"`` (the literal method).
    alpha : float
        Leaky-ReLU slope in [0, 1). ``alpha = 0`` is the ReLU variant (PP_b), with the bias bound from
        ``relu_theta`` or, by default, :func:`relu_thetas`.
    lambda_w, lambda_v : float
        Weights of :math:`\mathcal R_1` (group lasso) and :math:`\mathcal R_2 = \lambda_v\|v\|^2`.
    beta : float or sequence, optional
        Penalty parameters; default :func:`default_beta`.
    seed : int
        Seed of the random initial network (talk and warm-up starts): the same seed gives the same
        result when no time cap binds.
    init_scale : {"fan_in", "width"} or float
        Divisor of the random initial weights (:func:`ialam_verify.model.init_weights`).
    match_targets : bool
        With ``start="talk"``: rescale the initial weights so that the output has the RMS of ``Y``.
    relu_theta : (theta_w, theta_v), optional
        For the ReLU variant (PP_b): the bias bound is :math:`-\bar N(\theta_w + \theta_v)`.
    callback : callable, optional
        ``callback(state)`` after every outer IALAM iteration; returning ``True`` stops IALAM.
    verbose : bool
        Print progress (stages, outer iterations) on stderr.
    column_tol : float
        Columns with norm below this count as zero in the column sparse ratio (the talk's metric;
        the stages report *exact* zero columns).
    certify : bool
        Certify the final point (KKT of (PP)); ``False`` leaves ``result.verdict`` ``None``.
    refine_settings, tolerances : optional
        Passed to the refinement and the certificates.
    **options
        Flat settings (:data:`~.settings.OPTIONS`): IALAM's (``rho0``, ``tau1``, ``eta1``, ``eta2``,
        ``max_outer``, ``max_seconds``, ``inner_max_iter``, ``wb_work``, ...) and the warm-up's
        (``warmup_seconds``, ``warmup_max_iter``, ``warmup_lr``, ``warmup_batch_size``: ``None``
        chooses by N, full batch up to 5000 samples and minibatches of 256 above, ``warmup_seed``:
        the minibatches' seed, default 0). An unknown name is a ``TypeError``
        naming the closest known one; every value is checked before any work.

    Returns
    -------
    IALAMResult
        The final (lifted) network with ``.stages`` (what each stage did), ``.verdict`` (KKT of (PP)
        at the final point, ``None`` if not certified), ``.multipliers`` (the refinement's), and
        ``.success`` (True only when the verdict holds).
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be an ialam_verify.data.Dataset; got {type(data).__name__}")
    groups = split_options(options)  # unknown names and bad values fail here, before any work
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
    kind, W0, b0 = resolve_start(start, problem, seed, init_scale, match_targets)
    if refine is None:
        refine = kind != "talk"

    # the settings of the regime, then the user's options on top
    if kind == "talk":
        base = IALAMSettings(tau1=TAU1 / N)
    else:
        base = IALAMSettings(tau1=TAU1 / N, rho0=RHO0_FEASIBLE / N).with_options(
            **FEASIBLE_START_DEFAULTS
        )
    ialam_settings = dataclasses.replace(
        base, inner=dataclasses.replace(base.inner, **groups["inner"]), **groups["ialam"]
    )
    warmup_settings = WarmupSettings(**groups["warmup"])
    if ialam_settings.rho0 is None:
        # the talk's regime: the adaptive rho0 (group-lasso protection) at the talk's start
        ialam_settings = dataclasses.replace(
            ialam_settings, rho0=default_rho0(problem, problem.lift(W0, b0))
        )

    progress = _Progress() if verbose else None
    result = run_pipeline(
        problem,
        kind,
        W0,
        b0,
        ialam_settings=ialam_settings,
        warmup_settings=warmup_settings,
        refine=bool(refine),
        refine_settings=refine_settings,
        tolerances=tolerances,
        certify=certify,
        callback=callback,
        progress=(lambda s: progress(s, problem)) if progress is not None else None,
        verbose=verbose,
    )
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
            **{f"warmup_{k}": v for k, v in dataclasses.asdict(warmup_settings).items()},
        }
    )
    return result
