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
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_positive
from ..model.problem import LiftedPoint, Problem
from .inner import AlternatingMinimization, AMState, augmented_lagrangian


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


@dataclass(frozen=True)
class IALAM:
    r"""Settings of the outer loop.

    Parameters
    ----------
    problem : Problem
    rho0 : float
        :math:`\rho^{(0)} > 0`.
    tau1 : float
        :math:`\tau_1 > 0` of the inner proximal term.
    eta1 : float
        Residual decrease factor in (0, 1).
    eta2 : float
        Penalty growth factor, > 1.
    eta3 : float
        Exponent in :math:`\|\xi\|^{1+\eta_3}`, > 1 (the talk's Theorem 5 assumes it).
    xi_weight : float or None
        Weight :math:`c` of the floor: :math:`\rho^{(k)} = \max\{\eta_2\rho^{(k-1)},
        c\|\xi^{(k)}\|^{1+\eta_3}\}`. The talk has :math:`c = 1`; any :math:`c > 0` keeps what the
        convergence argument uses (:math:`\|\xi^{(k)}\|/\rho^{(k)} \to 0` when the multipliers
        grow). :math:`\|\xi\|^{1+\eta_3}` has no units of its own; with :math:`c = 1` it multiplied
        rho by 1e9 in one step on the talk's L=2 problem and wrecked the run (``docs/algorithm.md``).
        ``None`` (default) takes :math:`c = \rho_0`, the floor in units of the initial penalty.
    gamma : int
        Window length of the residual test.
    rho_factor_stop : float
        Stop when :math:`\rho^{(k)} > \text{rho\_factor\_stop}\cdot\rho^{(0)}`. The talk uses
        :math:`10^3`; measured on its synthetic problems that stops long before the fit is done, so the
        default is :math:`10^6` (``docs/algorithm.md``).
    max_outer : int
        Cap on outer iterations.
    feas_tol : float
        Also stop when FeasVi of the current point falls to ``feas_tol`` (0 disables).
    inner_tol0, inner_tol_decay, inner_tol_min : float
        The inexactness rule: outer iteration ``k`` runs the inner loop until the relative change of
        (v, u) is at most ``max(inner_tol_min, inner_tol0 * inner_tol_decay**k)``.
    inner_max_iter : int
        Cap on inner iterations per outer iteration.
    wb_tol, wb_max_iter, wb_work : float, int, float
        Accuracy, cap and work budget of each (w, b) group-lasso solve
        (:class:`~.inner.AlternatingMinimization`).
    max_seconds : float
        Wall-clock cap (``inf`` for none).
    success_feas_tol : float
        A run that stopped by its test counts as a success only if FeasVi is at most
        ``success_feas_tol * max(1, ||Y||_F^2 / N)`` (the loss of the zero network sets the scale);
        otherwise its status is 5 and the message says so.
    """

    problem: Problem
    rho0: float
    tau1: float
    eta1: float = 0.5
    eta2: float = 1.2
    eta3: float = 1.5
    xi_weight: float | None = None
    gamma: int = 1
    rho_factor_stop: float = 1e6
    max_outer: int = 500
    feas_tol: float = 0.0
    inner_tol0: float = 1e-3
    inner_tol_decay: float = 0.8
    inner_tol_min: float = 1e-7
    inner_max_iter: int = 5
    wb_tol: float = 1e-6
    wb_max_iter: int = 30
    wb_work: float = 2.0
    max_seconds: float = float("inf")
    success_feas_tol: float = 1e-6
    _inner: AlternatingMinimization = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_positive("rho0", self.rho0)
        check_positive("tau1", self.tau1)
        if not 0.0 < self.eta1 < 1.0:
            raise ValueError(f"eta1 must lie in (0, 1); got {self.eta1}")
        if not self.eta2 > 1.0:
            raise ValueError(f"eta2 must be > 1; got {self.eta2}")
        if self.xi_weight is not None and not (np.isfinite(self.xi_weight) and self.xi_weight >= 0):
            raise ValueError(f"xi_weight must be a finite number >= 0; got {self.xi_weight}")
        if not self.eta3 > 0.0:
            raise ValueError(
                f"eta3 must be > 0 (the talk's theory takes eta3 > 1); got {self.eta3}"
            )
        if int(self.gamma) != self.gamma or self.gamma < 1:
            raise ValueError(f"gamma must be a positive integer; got {self.gamma}")
        if int(self.max_outer) != self.max_outer or self.max_outer < 1:
            raise ValueError(f"max_outer must be a positive integer; got {self.max_outer}")
        if int(self.inner_max_iter) != self.inner_max_iter or self.inner_max_iter < 1:
            raise ValueError(
                f"inner_max_iter must be a positive integer; got {self.inner_max_iter}"
            )
        if not self.rho_factor_stop > 1.0:
            raise ValueError(f"rho_factor_stop must be > 1; got {self.rho_factor_stop}")
        object.__setattr__(
            self,
            "_inner",
            AlternatingMinimization(
                self.problem,
                self.tau1,
                max_iter=self.inner_max_iter,
                wb_tol=self.wb_tol,
                wb_max_iter=self.wb_max_iter,
            ),
        )

    def init_state(self, point: LiftedPoint, xi: list[np.ndarray] | None = None) -> IALAMState:
        self.problem.check_point(point)
        if xi is None:
            xi = [np.zeros_like(Ul) for Ul in point.U]
        r0 = self.problem.residual_norm(point)
        return IALAMState(
            0, r0, self.rho0, xi, (), 0, self._inner.init_state(point), 0.0, point, self.inner_tol0
        )

    def inner_tol(self, k: int) -> float:
        return max(self.inner_tol_min, self.inner_tol0 * self.inner_tol_decay**k)

    def update(self, state: IALAMState) -> IALAMState:
        """One outer iteration: steps 2-4 of the framework."""
        t0 = time.perf_counter()
        k = state.iter_num + 1
        tol = self.inner_tol(k - 1)
        point, inner = self._inner.run(state.point, state.xi, state.rho, state.inner, tol=tol)
        R = self.problem.residual(point)
        xi = [Xl + state.rho * Rl for Xl, Rl in zip(state.xi, R, strict=True)]
        r = float(np.sqrt(sum(np.sum(Rl * Rl) for Rl in R)))
        residuals = (*state.residuals, r)
        rho = state.rho
        if k > self.gamma and r > self.eta1 * max(residuals[-self.gamma - 1 : -1]):
            xnorm = float(np.sqrt(sum(np.sum(Xl * Xl) for Xl in xi)))
            c = self.rho0 if self.xi_weight is None else self.xi_weight
            rho = max(self.eta2 * rho, c * xnorm ** (1.0 + self.eta3))
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

    def stop_reason(self, state: IALAMState) -> tuple[int, str] | None:
        """``(status, message)`` when the run should stop, else ``None``."""
        if state.rho > self.rho_factor_stop * self.rho0:
            return 0, f"rho exceeded {self.rho_factor_stop:g} rho0 (the penalty stopping test)"
        if self.feas_tol > 0 and self.problem.feas_vi(state.point) <= self.feas_tol:
            return 0, f"FeasVi fell to feas_tol = {self.feas_tol:g}"
        if state.iter_num >= self.max_outer:
            return 1, f"reached max_outer = {self.max_outer} outer iterations"
        if state.seconds >= self.max_seconds:
            return 2, f"reached max_seconds = {self.max_seconds:g}"
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
        status, message = 1, "not started"
        try:
            while True:
                with np.errstate(over="ignore", invalid="ignore"):
                    new_state = self.update(state)
                if not _finite(new_state):
                    # never let a diverged iterate become a number: keep the last finite one
                    status, message = (
                        6,
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
                stop = self.stop_reason(state)
                if callback is not None and callback(state):
                    status, message = 3, "stopped by the callback"
                    break
                if stop is not None:
                    status, message = stop
                    break
        except KeyboardInterrupt:
            status, message = (
                4,
                "interrupted by the user (KeyboardInterrupt); the last complete iterate is returned",
            )
        if status == 0:
            feas = self.problem.feas_vi(state.point)
            scale = max(1.0, float(np.sum(self.problem.Y**2)) / self.problem.n_samples)
            if feas > self.success_feas_tol * scale:
                status = 5
                message = (
                    f"{message}, but the point is not feasible: FeasVi = {feas:.3g} > "
                    f"{self.success_feas_tol * scale:.3g} (the penalty beta may be below its "
                    "exactness threshold, or the run is stuck at a poor point)"
                )
        return IALAMResult.from_state(self, state, history, status, message)


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


STATUS_MESSAGES = {
    0: "converged by the stopping test",
    1: "iteration cap reached",
    2: "time cap reached",
    3: "stopped by the callback",
    4: "interrupted",
    5: "stopped by the test at an infeasible point",
    6: "diverged (non-finite iterate)",
}


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
    status : int
        0 stopping test at a feasible point, 1 iteration cap, 2 time cap, 3 callback, 4 interrupted,
        5 stopping test at an infeasible point (FeasVi above ``success_feas_tol``), 6 diverged (a
        non-finite iterate; the last finite one is returned).
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
        The solver settings used.
    problem : Problem
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

    @classmethod
    def from_state(
        cls, solver: IALAM, state: IALAMState, history: _History, status: int, message: str
    ) -> IALAMResult:
        settings = {
            f.name: getattr(solver, f.name)
            for f in fields(solver)
            if f.name not in ("problem", "_inner")
        }
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
            success=status == 0,
            status=status,
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


def warn_unknown(options: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """Drop options that no setting knows, with a warning that names them (as scipy does)."""
    unknown = sorted(set(options) - known)
    if unknown:
        warnings.warn(
            f"unknown solver options ignored: {', '.join(unknown)}", RuntimeWarning, stacklevel=3
        )
    return {k: v for k, v in options.items() if k in known}
