r"""The inexact augmented Lagrangian method (IALM framework of the talk, steps 1-6).

Step 2 solves the subproblem (4) inexactly by :class:`~.inner.AlternatingMinimization`; step 3 is the
multiplier update :math:`\xi^{(k)} = \xi^{(k-1)} + \rho^{(k-1)} r^{(k)}`, :math:`r = u - \Psi(v)w - Ab`;
step 4 keeps :math:`\rho` while the residual decreases by the factor :math:`\eta_1` against the largest of
the last :math:`\gamma` residuals, and otherwise sets

.. math::  \rho^{(k)} = \max\{\eta_2\,\rho^{(k-1)},\ \|\xi^{(k)}\|^{1+\eta_3}\},\qquad \eta_2 > 1.

The talk prints :math:`\rho^{(k-1)}/\eta_2`; with :math:`\eta_2 > 1` that would *decrease* the penalty
exactly when feasibility stalls, and the talk's own stopping test :math:`\rho^{(k)} > 10^3\rho^{(0)}` could
then never fire. ``docs/algorithm.md`` gives the argument; the rule above is the one implemented.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from .inner import AlternatingMinimization, AMState, augmented_lagrangian
from .settings import IALAMSettings
from .status import STATUS_MESSAGES, Status


class IALAMState(NamedTuple):
    """State of the outer loop after ``iter_num`` outer iterations."""

    iter_num: int
    #: feasibility residual ||u - Psi(v)w - Ab|| of the current point: the outer error measure
    error: float
    rho: float
    xi: list[np.ndarray]
    #: residual norms of all outer iterations so far (for the gamma-window test)
    residuals: tuple[float, ...]
    #: total inner iterations
    nit_inner: int
    inner: AMState
    seconds: float
    point: LiftedPoint
    #: inner tolerance used in this outer iteration
    inner_tol: float


class IALAM:
    r"""The outer loop, with its settings (:class:`~.settings.IALAMSettings`).

    ``IALAM(problem, settings=None, **options)``: ``options`` are flat option names of
    :data:`~.settings.OPTIONS` that replace entries of ``settings`` (an unknown name is a
    ``TypeError`` naming the closest one; a bad value a ``ValueError`` naming the option), all
    checked here, before any work. ``rho0`` and ``tau1`` must be numbers here (``fit`` chooses them).

    The rules the settings enter:

    - ``rho0``, ``tau1``: :math:`\rho^{(0)}` and the inner proximal :math:`\tau_1`;
    - ``eta1``, ``gamma``: :math:`\rho` is kept while :math:`\|r^{(k)}\| \le \eta_1
      \max_{k-\gamma\le t<k}\|r^{(t)}\|`;
    - ``eta2``, ``eta3``, ``xi_weight`` (:math:`c`, ``None``: :math:`\rho_0`): otherwise
      :math:`\rho^{(k)} = \max\{\eta_2\rho^{(k-1)}, c\|\xi^{(k)}\|^{1+\eta_3}\}`. The talk has
      :math:`c = 1`; :math:`\|\xi\|^{1+\eta_3}` has no units of its own and with :math:`c = 1` it
      multiplied rho by 1e9 in one step on the talk's L=2 problem (``docs/algorithm.md``);
    - stopping: :math:`\rho^{(k)} > \text{rho\_factor\_stop}\,\rho^{(0)}` (the talk's test; it
      uses :math:`10^3`, the default is :math:`10^6`), or FeasVi :math:`\le` ``feas_tol`` with the
      last inner change :math:`\le` ``feas_change_tol`` (``feas_tol = 0``: off); caps ``max_outer``,
      ``max_seconds``;
    - success: the stopping test fired at a point with FeasVi :math:`\le` ``success_feas_tol``
      :math:`\cdot\max(1, \|Y\|_F^2/N)` (the zero network's loss sets the scale), else status 5;
    - the inner loop: ``settings.inner`` (:class:`~.settings.InnerSettings`).

    The run returns the *best feasible iterate seen* (lowest objective (1) among the outer iterates
    with FeasVi within the success threshold), not the last one; if no iterate was feasible, the last.
    """

    def __init__(
        self, problem: Problem, settings: IALAMSettings | None = None, **options: Any
    ) -> None:
        if settings is None:
            settings = IALAMSettings()
        elif not isinstance(settings, IALAMSettings):
            raise TypeError(f"settings must be an IALAMSettings; got {type(settings).__name__}")
        settings = settings.with_options(**options)
        for name in ("rho0", "tau1"):
            if getattr(settings, name) is None:
                raise ValueError(f"{name} must be a finite number > 0 for IALAM; got None")
        self.problem = problem
        self.settings = settings
        inner = settings.inner
        self._inner = AlternatingMinimization(
            problem,
            settings.tau1,
            max_iter=inner.max_iter,
            wb_tol=inner.wb_tol,
            wb_max_iter=inner.wb_max_iter,
            wb_work=inner.wb_work,
            wb_solver=inner.wb_solver,
        )

    def __getattr__(self, name: str) -> Any:
        # flat read access, e.g. ``solver.rho0`` or ``solver.wb_work``
        if name.startswith("_") or "settings" not in self.__dict__:
            raise AttributeError(name)
        flat = self.__dict__["settings"].flat()
        if name in flat:
            return flat[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def replace(self, **options: Any) -> IALAM:
        """A solver with some flat options changed (validated)."""
        return IALAM(self.problem, self.settings, **options)

    def __repr__(self) -> str:
        return f"IALAM(sizes={self.problem.sizes}, settings={self.settings!r})"

    def init_state(self, point: LiftedPoint, xi: list[np.ndarray] | None = None) -> IALAMState:
        self.problem.check_point(point)
        if xi is None:
            xi = [np.zeros_like(Ul) for Ul in point.U]
        r0 = self.problem.residual_norm(point)
        s = self.settings
        return IALAMState(
            0, r0, s.rho0, xi, (), 0, self._inner.init_state(point), 0.0, point, s.inner.tol0
        )

    def inner_tol(self, k: int) -> float:
        i = self.settings.inner
        return max(i.tol_min, i.tol0 * i.tol_decay**k)

    def update(self, state: IALAMState) -> IALAMState:
        """One outer iteration: steps 2-4 of the framework."""
        s = self.settings
        t0 = time.perf_counter()
        k = state.iter_num + 1
        tol = self.inner_tol(k - 1)
        point, inner = self._inner.run(state.point, state.xi, state.rho, state.inner, tol=tol)
        R = self.problem.residual(point)
        xi = [Xl + state.rho * Rl for Xl, Rl in zip(state.xi, R, strict=True)]
        r = float(np.sqrt(sum(np.sum(Rl * Rl) for Rl in R)))
        residuals = (*state.residuals, r)
        rho = state.rho
        if k > s.gamma and r > s.eta1 * max(residuals[-s.gamma - 1 : -1]):
            xnorm = float(np.sqrt(sum(np.sum(Xl * Xl) for Xl in xi)))
            c = s.rho0 if s.xi_weight is None else s.xi_weight
            rho = max(s.eta2 * rho, c * xnorm ** (1.0 + s.eta3))
        return IALAMState(
            k,
            r,
            rho,
            xi,
            residuals,
            state.nit_inner + inner.iter_num,
            inner,
            state.seconds + time.perf_counter() - t0,
            point,
            tol,
        )

    def feasibility_threshold(self) -> float:
        """FeasVi at or below which a point counts as feasible (``success_feas_tol`` scaled)."""
        scale = max(1.0, float(np.sum(self.problem.Y**2)) / self.problem.n_samples)
        return self.settings.success_feas_tol * scale

    def stop_reason(self, state: IALAMState) -> tuple[Status, str] | None:
        """``(status, message)`` when the run should stop, else ``None``."""
        s = self.settings
        if state.rho > s.rho_factor_stop * s.rho0:
            return (
                Status.CONVERGED,
                f"rho exceeded {s.rho_factor_stop:g} rho0 (the penalty stopping test)",
            )
        if (
            s.feas_tol > 0
            and state.inner.error <= s.feas_change_tol
            and self.problem.feas_vi(state.point) <= s.feas_tol
        ):
            return Status.CONVERGED, f"FeasVi fell to feas_tol = {s.feas_tol:g}"
        if state.iter_num >= s.max_outer:
            return Status.MAX_OUTER, f"reached max_outer = {s.max_outer} outer iterations"
        if state.seconds >= s.max_seconds:
            return Status.MAX_SECONDS, f"reached max_seconds = {s.max_seconds:g}"
        return None

    def run(
        self,
        point: LiftedPoint,
        xi: list[np.ndarray] | None = None,
        callback: Callable[[IALAMState], bool | None] | None = None,
    ) -> IALAMResult:
        """Iterate until :meth:`stop_reason` fires, a callback returns ``True``, or Ctrl-C."""
        state = self.init_state(point, xi)
        history = _History()
        status, message = Status.MAX_OUTER, "not started"
        threshold = self.feasibility_threshold()
        best: tuple[float, IALAMState] | None = None
        try:
            while True:
                with np.errstate(over="ignore", invalid="ignore"):
                    new_state = self.update(state)
                if not _finite(new_state):
                    # never let a diverged iterate become a number: keep the last finite one
                    status, message = (
                        Status.DIVERGED,
                        (
                            f"diverged: outer iteration {new_state.iter_num} produced a non-finite "
                            "iterate; the last finite iterate is returned"
                        ),
                    )
                    break
                state = new_state
                history.record(
                    self.problem,
                    state,
                    self.problem.objective(state.point),
                    augmented_lagrangian(self.problem, state.point, state.xi, state.rho),
                )
                if history.data["feas_vi"][-1] <= threshold:
                    value = history.data["network_objective"][-1]
                    if best is None or value < best[0]:
                        best = (value, state)
                stop = self.stop_reason(state)
                if callback is not None and callback(state):
                    status, message = Status.CALLBACK, "stopped by the callback"
                    break
                if stop is not None:
                    status, message = stop
                    break
        except KeyboardInterrupt:
            status, message = (
                Status.INTERRUPTED,
                "interrupted by the user (KeyboardInterrupt); the last complete iterate is returned",
            )
        if status == Status.CONVERGED:
            feas = self.problem.feas_vi(state.point)
            if feas > threshold:
                status = Status.INFEASIBLE
                message = (
                    f"{message}, but the point is not feasible: FeasVi = {feas:.3g} > "
                    f"{threshold:.3g} (the penalty beta may be below its "
                    "exactness threshold, or the run is stuck at a poor point)"
                )
        last = state
        if best is not None and best[1].iter_num != last.iter_num:
            message = (
                f"{message}; returned the best feasible iterate (outer iteration "
                f"{best[1].iter_num} of {last.iter_num}, objective (1) {best[0]:.6g})"
            )
            state = best[1]
        result = IALAMResult.from_state(self, state, history, status, message)
        result.nit, result.nit_inner, result.seconds = last.iter_num, last.nit_inner, last.seconds
        result.best_iteration = state.iter_num
        return result


def _finite(state: IALAMState) -> bool:
    """Whether every block of the iterate and the multipliers is finite, and rho too."""
    p = state.point
    blocks = (*p.W, *p.b, *p.V, *p.U, *state.xi)
    return bool(np.isfinite(state.rho) and all(np.all(np.isfinite(a)) for a in blocks))


class _History:
    KEYS = (
        "seconds",
        "inner_iterations",
        "objective",
        "lagrangian",
        "residual",
        "rho",
        "feas_vi",
        "train_err",
        "network_objective",
    )

    def __init__(self) -> None:
        self.data: dict[str, list[float]] = {k: [] for k in self.KEYS}

    def record(
        self, problem: Problem, state: IALAMState, objective: float, lagrangian: float
    ) -> None:
        d = self.data
        d["seconds"].append(state.seconds)
        d["inner_iterations"].append(float(state.nit_inner))
        d["objective"].append(objective)
        d["lagrangian"].append(lagrangian)
        d["residual"].append(state.error)
        d["rho"].append(state.rho)
        d["feas_vi"].append(problem.feas_vi(state.point))
        lifted = problem.lift(state.point.W, state.point.b)
        d["train_err"].append(problem.loss(lifted.V[-1]))
        d["network_objective"].append(
            problem.loss(lifted.V[-1]) + problem.group_lasso(state.point.W)
        )


@dataclass
class IALAMResult:
    """The result of an IALAM run (in the manner of ``scipy.optimize.OptimizeResult``).

    Attributes
    ----------
    W, b : list of ndarray
        Trained weights and biases.
    point : LiftedPoint
        The final lifted point (w, b, v, u).
    xi : list of ndarray
        Final multipliers :math:`\\Xi_\\ell` (``N_l x N``), sign as in the augmented Lagrangian.
    rho : float
        Final penalty parameter.
    success : bool
        ``status == 0``: the stopping test fired at a feasible point.
    status : Status
        :class:`~.status.Status` (an ``IntEnum``): 0 stopping test at a feasible point, 1 iteration
        cap, 2 time cap, 3 callback, 4 interrupted, 5 stopping test at an infeasible point (FeasVi
        above ``success_feas_tol``), 6 diverged (a non-finite iterate; the last finite one is kept).
    message : str
    nit, nit_inner : int
        Outer and total inner iterations.
    seconds : float
        Wall time of the iterations.
    history : dict of list
        One entry per outer iteration: seconds, inner_iterations (cumulative), objective (of (PP)),
        lagrangian, residual, rho, feas_vi, train_err, network_objective.
    metrics : dict
        TrainErr, TestErr, FeasVi, column sparse ratio, accuracy, TestAcc (see :func:`fit`).
    settings : dict
        The solver settings used (flat option names).
    problem : Problem
    best_iteration : int
        The outer iteration whose iterate is returned (the best feasible one; ``nit`` if none was).
    stages : list of dict
        Set by the pipeline (:func:`~.pipeline.run_pipeline`): one record per stage (name, status,
        seconds, train_err, feas_vi, zero_columns, message); empty for a bare IALAM run.
    verdict : Verdict or None
        Set by the pipeline: the verdict of (PP) KKT at the final point, ``None`` if not certified.
    multipliers : dict or None
        Set by the pipeline when the refinement ran: its multipliers (``"xi"``: per-layer arrays).
    """

    W: list[np.ndarray]
    b: list[np.ndarray]
    point: LiftedPoint
    xi: list[np.ndarray]
    rho: float
    success: bool
    status: int
    message: str
    nit: int
    nit_inner: int
    seconds: float
    history: dict[str, list[float]]
    metrics: dict[str, Any]
    settings: dict[str, Any]
    problem: Problem
    best_iteration: int = 0
    stages: list[dict[str, Any]] = field(default_factory=list)
    verdict: Verdict | None = None
    multipliers: dict[str, Any] | None = None

    @property
    def status_name(self) -> str:
        return STATUS_MESSAGES[Status(self.status)]

    @classmethod
    def from_state(
        cls, solver: IALAM, state: IALAMState, history: _History, status: int, message: str
    ) -> IALAMResult:
        settings = solver.settings.flat()
        prob = solver.problem
        lifted = prob.lift(state.point.W, state.point.b)
        metrics = {
            "train_err": prob.loss(lifted.V[-1]),
            "feas_vi": prob.feas_vi(state.point),
            "residual": state.error,
        }
        return cls(
            W=[a.copy() for a in state.point.W],
            b=[a.copy() for a in state.point.b],
            point=state.point,
            xi=state.xi,
            rho=state.rho,
            success=status == Status.CONVERGED,
            status=Status(status),
            message=message,
            nit=state.iter_num,
            nit_inner=state.nit_inner,
            seconds=state.seconds,
            history=history.data,
            metrics=metrics,
            settings=settings,
            problem=prob,
        )

    def __repr__(self) -> str:
        m = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.metrics.items()
        )
        return (
            f"IALAMResult(success={self.success}, status={self.status}, message={self.message!r}, "
            f"nit={self.nit}, nit_inner={self.nit_inner}, seconds={self.seconds:.3g}, {m})"
        )
