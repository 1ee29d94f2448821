r"""The default pipeline: start -> IALAM -> refinement -> final lift -> a stationarity verdict.

Stages (each recorded in ``result.stages`` with seconds, TrainErr, FeasVi and exact zero columns):

1. **start**: the talk's random network (``start="talk"``), the built-in warm-up (``"warmup"``:
   :mod:`.warmup`, prox-Adam on objective (1) in numpy) or a network you give; every start is lifted
   to an exactly feasible point of (P): :math:`U_\ell = W_\ell V_{\ell-1} + b_\ell 1^T`,
   :math:`V_\ell = \sigma(U_\ell)`.
2. **IALAM** (:class:`~.ialam.IALAM`), with the defaults of its regime: from the talk's start the
   talk's settings; from a feasible trained start :data:`FEASIBLE_START_DEFAULTS` (measured:
   ``docs/algorithm.md``, "From a feasible start").
3. **refinement** on the identified piece (:func:`ialam_verify.solver.refine.refine`, active-set
   Newton on the kink manifold; its multipliers are handed to the certificates as a witness).
4. **final lift** of the weights (FeasVi = 0 up to rounding).
5. **verdict**: KKT of (PP) at the final point, from the certificates
   (:func:`ialam_verify.stationarity.certify`); ``None`` with the reason when not certified.

Stage budgets (defaults): warm-up at most 20000 iterations or 10 s, ending earlier when objective
(1) stalls (:class:`~.settings.WarmupSettings`, :mod:`.warmup`: a stall restarts Adam's moments
while that pays, then stops), IALAM 10 s (:data:`FEASIBLE_START_DEFAULTS`), refinement 120 s
(:class:`~.refine_settings.RefineSettings`).
The rule behind them, measured on L2/L3/L4 at N = 500 against full-batch Adam at equal wall time
(``docs/benchmarks.md`` section 1): the fit comes from the warm-up; from a trained start IALAM leaves
TrainErr unchanged to 3-4 digits (it brings feasibility and exact zero columns) and the refinement
moves it by about 1 % at most (it brings the certificate); both end on their own tests, not on their caps.
Until 2026-11-30 the warm-up ran a fixed 5000 iterations (5 s); on L4 (seeds 10-17 and 20-26) the
stall rule fires before 5000 steps on 4 of 15 seeds (constant-rate Adam circling a kink) while 11
still make progress there (5179 to 20000 steps). The stall stop with restarts
spends the seconds where objective (1) still falls (on L4, the warm-up alone, against the fixed 5000
steps: lower TrainErr on 12 of 14 seeds 10-17 and 20-25, equal on 2, never higher); it does not
change which basin a run reaches, which
decides most of the ratio to Adam (``docs/benchmarks.md`` section 1 gives the per-seed spread).
A warm-up of a fixed 20000 iterations (20 s) with longer rate trials and the refinement's release
rule "B" (keep training through pieces) were measured and not adopted: the first moved the median
TrainErr ratio to Adam only within its seed-to-seed spread (longer trials pick other rates, so other
basins), the second made the refinement 3-10x slower at the same median ratio and left 2 of 10 L4 runs
uncertified. Change a default only on measurements over the three shapes.

Success means: the final point is certified KKT of (PP). Anything less is reported as FAILED, with
what was reached (a feasible network is still returned and can be saved).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from ..metrics import column_norms
from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from .ialam import IALAM, IALAMResult, IALAMState, _History
from .settings import IALAMSettings, WarmupSettings
from .status import Status
from .warmup import warmup

#: IALAM's defaults from a feasible trained start, times 1/N where marked (measured on L2/L3/L4 and
#: MNIST N = 1000: ``docs/algorithm.md``, "From a feasible start")
RHO0_FEASIBLE = 10.0  # rho0 = RHO0_FEASIBLE / N
FEASIBLE_START_DEFAULTS: dict[str, Any] = {
    "eta2": 1.2,
    "inner_max_iter": 20,
    "feas_tol": 1e-12,
    "feas_change_tol": 1e-7,
    "max_seconds": 10.0,
}


@dataclass
class Stage:
    """What one stage did."""

    name: str
    #: "done", "incomplete" (stopped before its goal; its best point is kept), "failed" (an error;
    #: the previous stage's network is kept), "not available", "not certified", "skipped",
    #: "interrupted"
    status: str
    seconds: float = 0.0
    train_err: float | None = None
    feas_vi: float | None = None
    zero_columns: int | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def line(self) -> str:
        def f(x: float | None, spec: str) -> str:
            return "-" if x is None else format(x, spec)

        return (
            f"  {self.name:<12} {self.status:<13} {f(self.seconds, '7.2f')} s  "
            f"TrainErr {f(self.train_err, '10.4g')}  FeasVi {f(self.feas_vi, '9.2e')}  "
            f"zero columns {f(self.zero_columns, 'd') if self.zero_columns is not None else '-'}"
            + (f"  ({self.message})" if self.message else "")
        )


def zero_columns(W: list[np.ndarray]) -> int:
    """Number of weight columns that are exactly zero (all layers)."""
    return int(np.sum(column_norms(W) == 0.0))


def _measure(problem: Problem, point: LiftedPoint) -> dict[str, Any]:
    lifted = problem.lift(point.W, point.b)
    return {
        "train_err": problem.loss(lifted.V[-1]),
        "feas_vi": problem.feas_vi(point),
        "zero_columns": zero_columns(point.W),
    }


def certify_kkt(
    problem: Problem, point: LiftedPoint, tolerances: Any = None, witness: Any = None
) -> tuple[Verdict | None, str]:
    """KKT of (PP) at ``point``: ``(verdict, how)``, the verdict ``certify(problem,
    point).verdict("KKT")`` would give, with (PP) decided alone.

    ``certify`` decides (P) at the lift as well, which this verdict does not need and which can cost
    far more at biactive entries (MNIST N = 60000, 784-200-100-10, a trained point: (P) still running
    after 600 s, (PP) alone 32 s CPU). So (PP) is decided by the structured certifier
    (:func:`ialam_verify.stationarity.network.decide_notions`); only when its KKT verdict is
    undetermined on a problem small enough for ``certify``'s generic fallback, or for (PP_b)
    (``relu_bias_bound``, generic only), is ``certify`` run, exactly as before.

    ``witness`` (the refinement's multipliers) is only a hint: the certifier re-checks it at
    ``tolerances`` and runs its own search when it is rejected, so a wrong witness can never turn
    into "holds".
    """
    from .. import stationarity
    from ..stationarity.lifted import GENERIC_FALLBACK_MAX_VARIABLES, Layout
    from ..stationarity.network import decide_notions

    kw: dict[str, Any] = {} if tolerances is None else {"tolerances": tolerances}
    if witness is not None:
        kw["witness"] = witness
    if problem.relu_bias_bound is None:
        cert = decide_notions(problem, point, "PP", **kw)
        verdict = cert.results["KKT"].verdict
        if verdict.decided or Layout.of(problem).n > GENERIC_FALLBACK_MAX_VARIABLES:
            return verdict, "certify ((PP) only)"
    return stationarity.certify(problem, point, **kw).verdict("KKT"), "certify"


def _load_refine() -> Callable[..., Any] | None:
    """The refinement stage's function (one place, so that tests can put a stand-in there)."""
    from .refine import refine

    return refine


class Reporter:
    """Progress lines on a stream (stderr), or nothing."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream

    def __call__(self, text: str) -> None:
        if self.stream is not None:
            print(text, file=self.stream, flush=True)


def run_pipeline(
    problem: Problem,
    start_kind: str,
    W0: list[np.ndarray],
    b0: list[np.ndarray],
    *,
    ialam_settings: IALAMSettings,
    warmup_settings: WarmupSettings,
    refine: bool,
    refine_settings: Any = None,
    tolerances: Any = None,
    certify: bool = True,
    callback: Callable[[IALAMState], bool | None] | None = None,
    progress: Callable[[IALAMState], None] | None = None,
    verbose: bool = False,
) -> IALAMResult:
    """Run the stages from the network ``(W0, b0)``; ``start_kind`` is "talk", "warmup" or "network".

    ``ialam_settings`` must have ``rho0`` and ``tau1`` set (``fit`` chooses them).
    """
    say = Reporter(sys.stderr if verbose else None)
    stages: list[Stage] = []
    interrupted = False

    # 1. start
    t0 = time.perf_counter()
    W, b = W0, b0
    start_message = {"talk": "the talk's random network", "network": "the given network"}.get(
        start_kind, ""
    )
    if start_kind == "warmup":
        wr = warmup(problem, W0, b0, warmup_settings)
        W, b, interrupted = wr.W, wr.b, wr.interrupted
        start_message = f"prox-Adam, lr {wr.lr:g}, {wr.iterations} iterations" + (
            f", minibatches of {wr.batch_size}" if wr.batch_size < problem.n_samples else ""
        )
    point = problem.lift(W, b)
    stages.append(
        Stage(
            "warm-up" if start_kind == "warmup" else "start",
            "interrupted" if interrupted else "done",
            time.perf_counter() - t0,
            message=start_message,
            **_measure(problem, point),
        )
    )
    say(stages[-1].line())

    # 2. IALAM
    solver = IALAM(problem, ialam_settings)

    def cb(state: IALAMState) -> bool | None:
        if progress is not None:
            progress(state)
        return callback(state) if callback is not None else None

    if interrupted:
        result = IALAMResult.from_state(
            solver, solver.init_state(point), _History(), Status.INTERRUPTED, "interrupted"
        )
        stages.append(Stage("IALAM", "skipped", message="interrupted before this stage"))
    else:
        result = solver.run(point, callback=cb)
        interrupted = result.status == Status.INTERRUPTED
        stages.append(
            Stage(
                "IALAM",
                "interrupted" if interrupted else "done",
                result.seconds,
                message=f"status {int(result.status)}: {result.message}",
                **_measure(problem, result.point),
            )
        )
    say(stages[-1].line())
    W, b = result.W, result.b

    # 3. refinement
    multipliers = None
    refine_verdict = None
    refine_fn = _load_refine() if refine else None
    if not refine:
        stages.append(Stage("refinement", "skipped", message="refine=False"))
    elif interrupted:
        stages.append(Stage("refinement", "skipped", message="interrupted before this stage"))
    elif refine_fn is None:
        stages.append(
            Stage(
                "refinement",
                "not available",
                message="ialam_verify.solver.refine is not installed in this version",
            )
        )
    else:
        t0 = time.perf_counter()
        try:
            rr = refine_fn(problem, W, b, settings=refine_settings, tolerances=tolerances)
        except KeyboardInterrupt:
            interrupted = True
            stages.append(Stage("refinement", "interrupted", time.perf_counter() - t0))
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            stages.append(
                Stage(
                    "refinement",
                    "failed",
                    time.perf_counter() - t0,
                    message=f"{type(exc).__name__}: {exc}; IALAM's network is kept",
                )
            )
        except Exception as exc:  # noqa: BLE001 - a bug in the stage must not cost the user the run
            stages.append(
                Stage(
                    "refinement",
                    "failed",
                    time.perf_counter() - t0,
                    message=(
                        f"internal error in the refinement ({type(exc).__name__}: {exc}; please "
                        "report it); IALAM's network is kept"
                    ),
                )
            )
        else:
            W, b = [np.array(a) for a in rr.W], [np.array(a) for a in rr.b]
            multipliers = getattr(rr, "multipliers", None)
            refine_verdict = getattr(rr, "verdict", None)
            lifted = problem.lift(W, b)
            stages.append(
                Stage(
                    "refinement",
                    "done" if rr.success else "incomplete",
                    float(getattr(rr, "seconds", time.perf_counter() - t0)),
                    message=(
                        f"{rr.message} ({getattr(rr, 'kinks', '?')} kinks)"
                        + ("" if rr.success else "; its best point is kept")
                    ),
                    **_measure(problem, lifted),
                )
            )
    if stages[-1].name == "refinement":
        say(stages[-1].line())

    # 4. final lift
    t0 = time.perf_counter()
    final = problem.lift(W, b)
    stages.append(Stage("final lift", "done", time.perf_counter() - t0, **_measure(problem, final)))
    say(stages[-1].line())

    # 5. verdict
    verdict: Verdict | None = None
    how = "certify=False"
    t0 = time.perf_counter()
    if certify and not interrupted:
        try:
            verdict, how = certify_kkt(problem, final, tolerances, witness=multipliers)
        except KeyboardInterrupt:
            interrupted = True
            how = "interrupted"
    elif interrupted:
        how = "interrupted before this stage"
    if refine_verdict is not None and (verdict is None or str(verdict) != str(refine_verdict)):
        # shown, not used: the verdict is the certificates' (the two may differ in tolerances)
        how += f"; the refinement's own check said {refine_verdict}"
    stages.append(
        Stage(
            "verdict",
            "done"
            if verdict is not None
            else (
                "interrupted" if interrupted else ("skipped" if not certify else "not certified")
            ),
            time.perf_counter() - t0,
            message=(f"(PP) KKT {verdict} ({how})" if verdict is not None else how),
        )
    )
    say(stages[-1].line())

    # the result: the final lifted network, with what every stage did
    result.W = [a.copy() for a in final.W]
    result.b = [a.copy() for a in final.b]
    result.point = final
    result.metrics.update(
        {"train_err": stages[-2].train_err, "feas_vi": stages[-2].feas_vi, "residual": 0.0}
    )
    result.metrics["residual"] = problem.residual_norm(final)
    result.stages = [s.to_dict() for s in stages]
    result.verdict = verdict
    result.multipliers = multipliers
    result.success = bool(verdict) and not interrupted
    result.message = verdict_sentence(result, interrupted)
    result.settings["start"] = start_kind
    result.settings["refine"] = bool(refine)
    return result


def verdict_sentence(result: IALAMResult, interrupted: bool = False) -> str:
    """The one-line outcome a newcomer can read: SUCCESS or FAILED, and why."""
    v = result.verdict
    zc = result.stages[-2]["zero_columns"] if result.stages else None
    what = f"TrainErr {result.metrics.get('train_err', float('nan')):.4g}, {zc} exact zero columns"
    if interrupted:
        return f"FAILED: interrupted by the user; the network reached so far is kept ({what})"
    if v is None:
        why = result.stages[-1]["message"] if result.stages else "not certified"
        return (
            f"FAILED: the network is feasible ({what}) but its stationarity is not certified: {why}"
        )
    res = f", residual {v.residual:.2g}" if v.residual is not None else ""
    if v:
        return f"SUCCESS: certified KKT point of (PP) ({what}{res})"
    if v.proved_false:
        return f"FAILED: the certificate proves this is not a KKT point of (PP) ({what}{res})"
    return f"FAILED: KKT of (PP) could not be decided: {v.outcome}{res} ({what})"
