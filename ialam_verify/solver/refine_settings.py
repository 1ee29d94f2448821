"""Settings, result and status table of :func:`ialam_verify.solver.refine.refine`."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..model.problem import LiftedPoint
from ..stationarity import Tolerances
from ..verdict import Verdict


@dataclass(frozen=True)
class RefineSettings:
    """Settings of :func:`refine` (validated on construction).

    release : {"PP", "B"}
        Release rule for kinks (module docstring). "PP" (default) stops as soon as KKT of (PP) holds
        at the kinks; "B" also releases kinks from which a one-sided move descends (stronger points,
        but from a poor start it keeps training through many pieces and is much slower).
    multi_release : bool
        Release every violator at once (single-release fallback when that fails), else one at a time.
    max_iter, max_seconds, max_releases : int, float, int
        Caps on steps, wall time and released entries (the churn cap).
    grad_tol : float
        A point is manifold-stationary when the reduced gradient's largest entry is at most this.
    release_tol : float
        A kink or zero column is released only when its violation exceeds this.
    kink_tol : float
        Largest ``|u|`` accepted on the kink set after projection (relative to ``max(1, max|U|)``).
    cg_max_iter, max_backtracks : int
        Conjugate-gradient iterations per Newton step; step halvings per line search.
    dense_max : int
        Up to this many free parameters the reduced Hessian is formed (from the layers' Jacobians,
        :func:`.refine_piece.hessian_matrix`) and the Newton step uses its eigenvalues with their absolute values, floored at
        1e-8 of the largest (saddle-free Newton); above, projected CG with Hessian-vector products.
    crossing : {"cut", "follow"}
        What a step does where a pre-activation off the kink set would change sign (module docstring,
        "Crossings"). "cut" (default): the step stops at the first such entry, which joins the kink
        set. "follow": the full step and its halvings down to that first crossing are also tried
        with the signs taken from the trial point (a new piece, no new kink), and the lower objective
        of that and the cut step is taken. Measured (``docs/benchmarks.md`` section 2): the same
        certified counts on the synthetic shapes; on MNIST N = 1000 "cut" made one kink per step and
        left objective (1) in its 5th digit in 30 s, "follow" lowered it by 14 %, but left many
        pre-activations near 0 off the kink set, where the final certificate's branch enumeration
        took minutes (so it is not the default).
    certify : {"auto", "witness", "structured", "generic", "none"}
        How the final KKT verdict is obtained (:func:`.refine_multipliers.kkt_verdict`).
    verbose : bool
        One progress line per step on standard error.
    """

    release: str = "PP"
    multi_release: bool = True
    max_iter: int = 2000
    max_seconds: float = 120.0
    max_releases: int = 5000
    grad_tol: float = 1e-9
    release_tol: float = 1e-10
    kink_tol: float = 1e-13
    cg_max_iter: int = 100
    max_backtracks: int = 40
    dense_max: int = 1500
    crossing: str = "cut"
    certify: str = "auto"
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.release not in ("B", "PP"):
            raise ValueError(f"release must be 'B' or 'PP'; got {self.release!r}")
        if self.crossing not in ("cut", "follow"):
            raise ValueError(f"crossing must be 'cut' or 'follow'; got {self.crossing!r}")
        if self.certify not in ("auto", "witness", "structured", "generic", "none"):
            raise ValueError(
                "certify must be 'auto', 'witness', 'structured', 'generic' or 'none'; "
                f"got {self.certify!r}"
            )
        for name in ("multi_release", "verbose"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a bool; got {getattr(self, name)!r}")
        for name in ("max_iter", "max_releases", "cg_max_iter", "max_backtracks", "dense_max"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}")
        for name in ("max_seconds", "grad_tol", "release_tol", "kink_tol"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or np.isnan(v):
                raise ValueError(f"{name} must be a positive number; got {v!r}")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> RefineSettings:
        """Build from a dict; an unknown key is a ``TypeError`` naming the closest setting."""
        names = [f.name for f in fields(cls)]
        for key in options:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise TypeError(f"unknown refine setting {key!r}{hint}")
        return cls(**options)


@dataclass
class RefineResult:
    """Result of :func:`refine` (fields fixed by OWNERS.md, then extras).

    ``W``, ``b``: the refined network (held zero columns ``== 0.0``); ``point``: its exactly feasible
    lift ``problem.lift(W, b)``; ``success``: ``verdict`` is "holds"; ``status``: a key of
    :data:`STATUS_MESSAGES`; ``kinks``, ``zero_columns``: sizes of the final kink set and zero-column
    set; ``multipliers``: ``xi``, ``mu1``, ``mu2``, ``slopes``, ``group_subgradients`` (per-layer
    arrays, convention of ``docs/stationarity.md``), ``kink_t``, ``kink_d`` (kink multipliers and
    ``dL/dv`` there), ``kink_mask``, ``zero_column_mask``, ``pp_residual`` (largest entry of the (PP)
    system at them), ``beta_needed`` (per layer, the smallest beta making the penalty exact here);
    ``verdict``: KKT of (PP), or ``None`` with ``certify="none"``; ``history``: one record per step.
    """

    W: list[np.ndarray]
    b: list[np.ndarray]
    point: LiftedPoint
    success: bool
    status: str
    message: str
    seconds: float
    iterations: int
    kinks: int
    zero_columns: int
    multipliers: dict[str, Any]
    verdict: Verdict | None
    objective_start: float = float("nan")
    objective: float = float("nan")
    releases: int = 0
    reduced_gradient: float = float("nan")
    history: list[dict[str, Any]] = field(default_factory=list, repr=False)
    info: dict[str, Any] = field(default_factory=dict)


STATUS_MESSAGES = {
    "converged": "manifold-stationary and no kink or zero column to release",
    "max_iter": "step cap (max_iter) reached",
    "max_seconds": "time cap (max_seconds) reached",
    "churn_cap": "release cap (max_releases) reached: the method kept changing pieces",
    "stalled": "the objective stopped decreasing (25 steps without progress) or no release could be placed",
    "interrupted": "interrupted (KeyboardInterrupt); the best point so far is returned",
    "stopped": "the callback asked to stop",
}


def _check_tolerances(tolerances: Any):
    """``tolerances`` as a :class:`~ialam_verify.stationarity.Tolerances` (``None``: the default)."""
    if tolerances is None:
        return Tolerances()
    if not isinstance(tolerances, Tolerances):
        raise ValueError(
            f"tolerances must be an ialam_verify.stationarity.Tolerances or None; got {type(tolerances).__name__}"
        )
    return tolerances
