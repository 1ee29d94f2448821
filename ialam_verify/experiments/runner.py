"""One comparison run: IALAM and every baseline on the same data, network, initialization and budget.

Budgets. Every method stops after ``max_seconds`` seconds of its own iterations (measurement time is
not counted, on either side) or ``max_epochs`` epochs, whichever comes first; IALAM also stops by its
own test (the talk's :math:`\\rho^{(k)} > 10^3\\rho^{(0)}`). An *epoch* is one pass over the training
set: one minibatch sweep for a baseline, one inner alternating-minimization iteration for IALAM (each
inner iteration touches every sample once in the (w, b) step and once in the (v, u) step).

Comparisons. "At equal wall time ``T``": each method's last measurement taken at or before ``T``
seconds. "At equal epochs ``E``": the last measurement at or before ``E`` epochs, for methods that ran
``E`` epochs or stopped by themselves before; a method whose time budget ran out earlier is reported
as "not reached". Defaults: ``T = max_seconds`` and ``E`` = the fewest epochs any method ran.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_alpha, check_nonnegative, check_positive, check_sizes
from .baselines import (
    RunRecord,
    _append,
    _check_budget,
    empty_history,
    initial_network,
    parse_method,
    search_lr,
    train_baseline,
)
from .measure import METRICS, Context, measure
from .progress import Progress

#: Statuses that carry a usable final measurement.
# "infeasible": the solver's stopping test fired at a point whose FeasVi is above its success tolerance
# (status 5). Its network is still a trained network, reported and plotted, flagged in the status column.
USABLE = ("ok", "converged", "infeasible", "max_outer", "time_cap")

#: The methods run by :func:`ialam_verify.solver.fit` (see :func:`run_ialam`): ``"IALAM"`` from the
#: initial network every method shares, without refinement; ``"ialam-talk"`` the talk's literal method
#: (its own initialization, ``start="talk"``, no refinement); ``"pipeline"`` fit's defaults (a
#: first-order warm-up, IALAM, then the refinement). The last two need ``fit(start=...)``.
IALAM_METHODS = ("IALAM", "ialam-talk", "pipeline")


def check_method(name: str) -> str:
    """``name`` if it is a method this version can run; ``ValueError`` naming the known ones."""
    if name in IALAM_METHODS:
        return name
    try:
        parse_method(name)
    except ValueError:
        raise ValueError(
            f"unknown method {name!r}; known: {', '.join(all_method_names())}"
        ) from None
    return name


def all_method_names() -> list[str]:
    """What ``--methods all`` runs: the IALAM family, then every baseline."""
    from .baselines import all_methods

    return [*IALAM_METHODS, *all_methods()]


@dataclass
class Settings:
    """Everything that defines a comparison run besides the data (stored in the result JSON)."""

    sizes: tuple[int, ...]
    alpha: float = 0.1
    lambda_w: float = 1e-4
    lambda_v: float = 0.0
    seed: int = 0
    methods: tuple[str, ...] = ("IALAM",)
    max_seconds: float = 10.0
    max_epochs: float = math.inf
    batch_size: int = 50
    lr: dict[str, float] = field(default_factory=dict)
    search_epochs: float = 20
    search_samples: int = 2000
    init_scale: str | float = "fan_in"
    #: ``None``: the solver's own default (``fit``'s ``match_targets``), used for every method
    match_targets: bool | None = None
    ialam_options: dict[str, Any] = field(default_factory=dict)
    threads: int = 1

    def validate(self) -> Settings:
        self.sizes = check_sizes(self.sizes)
        self.alpha = check_alpha(self.alpha)
        self.lambda_w = check_nonnegative("lambda_w", self.lambda_w)
        self.lambda_v = check_nonnegative("lambda_v", self.lambda_v)
        self.max_epochs, self.max_seconds = _check_budget(self.max_epochs, self.max_seconds)
        if self.match_targets is None:
            import inspect

            from ..solver import fit

            param = inspect.signature(fit).parameters.get("match_targets")
            self.match_targets = bool(param.default) if param is not None else False
        if not self.methods:
            raise ValueError("methods must name at least one method")
        for m in self.methods:
            check_method(m)
        for m, lr in self.lr.items():
            if m not in self.methods:
                raise ValueError(f"lr given for {m!r}, which is not among methods {self.methods}")
            check_positive(f"lr[{m!r}]", lr)
        unknown = sorted(set(self.ialam_options) - ialam_option_names())
        if unknown:
            raise ValueError(
                f"unknown IALAM option(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(ialam_option_names()))}"
            )
        if isinstance(self.threads, bool) or int(self.threads) != self.threads or self.threads < 1:
            raise ValueError(f"threads must be a positive integer; got {self.threads!r}")
        return self

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["sizes"] = list(self.sizes)
        d["methods"] = list(self.methods)
        for k in ("max_seconds", "max_epochs"):
            if math.isinf(d[k]):
                d[k] = None
        return d


def ialam_option_names() -> set[str]:
    """The options :func:`ialam_verify.solver.fit` passes on to IALAM (the one option table)."""
    from ..solver.settings import OPTIONS

    return {name for name, opt in OPTIONS.items() if opt.group in ("ialam", "inner")}


_IALAM_STATUS = {
    0: "converged",
    1: "max_outer",
    2: "time_cap",
    3: "ok",
    4: "interrupted",
    5: "infeasible",
    6: "failed",
}


def _start_options(method: str, W0: list, b0: list) -> dict[str, Any]:
    """The arguments of :func:`ialam_verify.solver.fit` that make ``method`` (see IALAM_METHODS)."""
    # the final certificate is not training: only the pipeline, whose defaults include it, runs it
    quiet = {"certify": False}
    if method == "ialam-talk":
        return {"start": "talk", "refine": False, **quiet}
    if method == "pipeline":
        return {}
    # "IALAM": the shared initial network, as every baseline starts from
    return {"start": (W0, b0), "refine": False, **quiet}


def run_ialam(
    ctx: Context,
    settings: Settings,
    on_progress: Callable[[float, float], None] | None = None,
    method: str = "IALAM",
) -> RunRecord:
    """An IALAM-family ``method`` through :func:`ialam_verify.solver.fit`, measured after every
    outer iteration (the shared start is the epoch-0 entry of ``"IALAM"``'s history).

    ``status``: ``"converged"`` (the solver's stopping test), ``"infeasible"`` (the test fired at an
    infeasible point, status 5), ``"max_outer"``, ``"time_cap"``, ``"ok"``
    (stopped here at the epoch or time budget), ``"interrupted"`` (Ctrl-C), ``"failed"`` (an exception,
    message kept) or ``"unavailable"`` (no solver importable).
    """
    try:
        from ..solver import fit
    except ImportError as exc:  # pragma: no cover - the solver is part of the package
        return RunRecord(method, "unavailable", f"ialam_verify.solver.fit not importable: {exc}")
    history = empty_history()
    W0, b0 = initial_network(
        ctx, settings.sizes, settings.seed, settings.init_scale, settings.match_targets
    )
    if method == "IALAM":
        _append(history, 0.0, 0.0, measure(W0, b0, ctx, official=False))

    def callback(state: Any) -> bool:
        seconds = float(state.seconds)
        epochs = float(state.nit_inner)
        _append(
            history, seconds, epochs, measure(state.point.W, state.point.b, ctx, official=False)
        )
        if on_progress is not None:
            on_progress(epochs, seconds)
        return epochs >= settings.max_epochs or seconds >= settings.max_seconds

    options = {"max_outer": 100000, **settings.ialam_options}
    if math.isfinite(settings.max_seconds):
        options.setdefault("max_seconds", settings.max_seconds)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = fit(
                ctx.data,
                settings.sizes,
                alpha=settings.alpha,
                lambda_w=settings.lambda_w,
                lambda_v=settings.lambda_v,
                seed=settings.seed,
                callback=callback,
                **_start_options(method, W0, b0),
                **options,
            )
    except (ArithmeticError, ValueError, np.linalg.LinAlgError) as exc:
        return RunRecord(method, "failed", f"{type(exc).__name__}: {exc}", history=history)
    status = _IALAM_STATUS.get(int(res.status), "failed")
    seconds = _on_the_pipeline_clock(res, history, ctx)
    rec = RunRecord(method, status, str(res.message), history=history)
    rec.info["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    rec.info = {
        **rec.info,
        "seconds": seconds,
        "epochs": float(res.nit_inner),
        "outer_iterations": int(res.nit),
        "feas_vi": float(res.metrics.get("feas_vi", float("nan"))),
        "rho": float(res.rho),
        "options": {k: v for k, v in options.items() if isinstance(v, (int, float, str))},
    }
    verdict = getattr(res, "verdict", None)  # the pipeline's (PP) KKT certificate, when it has one
    if verdict is not None:
        rec.info["verdict"] = str(verdict)
    final = measure(res.W, res.b, ctx)
    if final["train_err"] is None:
        rec.status, rec.message = "failed", "IALAM returned non-finite weights"
        return rec
    rec.final = final
    return rec


def _on_the_pipeline_clock(res: Any, history: dict, ctx: Context) -> float:
    """The training seconds of a ``fit`` result, with ``history`` put on that clock.

    The callback sees IALAM's own clock only. When ``fit`` ran stages around IALAM (a warm-up before,
    a refinement and the final lift after), the history's times are shifted by the seconds spent before
    IALAM, and the final network is appended at the total of every stage but the verdict (certifying
    is not training), so that "at equal wall time" compares like with like.
    """
    stages = getattr(res, "stages", None)
    if not stages:
        return float(res.seconds)
    names = [st["name"] for st in stages]
    before = names.index("IALAM") if "IALAM" in names else len(stages)
    offset = float(sum(st["seconds"] or 0.0 for st in stages[:before]))
    total = float(sum(st["seconds"] or 0.0 for st in stages if st["name"] != "verdict"))
    if offset:
        history["seconds"][:] = [
            t if i == 0 and t == 0.0 else t + offset for i, t in enumerate(history["seconds"])
        ]
    refined = any(
        st["name"] == "refinement" and st["status"] in ("done", "incomplete", "interrupted")
        for st in stages
    )
    if refined and (not history["seconds"] or total > history["seconds"][-1]):
        # the refined network, at the end of training; Newton steps are not epochs, so the epoch
        # count stays at IALAM's last
        last_epochs = history["epochs"][-1] if history["epochs"] else float(res.nit_inner)
        _append(history, total, float(last_epochs), measure(res.W, res.b, ctx, official=False))
    return max(total, float(res.seconds))


def code_version() -> str | None:
    """``git describe``-like id of the working tree the run used (``+dirty`` when it had edits)."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "ialam_verify"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


CODE_VERSION_AT_IMPORT = code_version()


def value_at(history: dict[str, list], axis: str, limit: float, metric: str) -> float | None:
    """The ``metric`` of the last entry whose ``axis`` (``"seconds"`` or ``"epochs"``) is <= ``limit``.

    A relative slack of 1% absorbs the overshoot of the last step past a time budget.
    """
    xs = history.get(axis, [])
    idx = [i for i, x in enumerate(xs) if x is not None and x <= limit * 1.01 + 1e-12]
    return history[metric][idx[-1]] if idx else None


def run_comparison(
    ctx: Context,
    settings: Settings,
    *,
    progress: bool = True,
    on_method_done: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run every method of ``settings`` on ``ctx`` and return the JSON-able result.

    Baselines without a given ``lr`` get one from :func:`~.baselines.search_lr` first. Ctrl-C stops
    the run: finished methods are kept, the running one is marked ``"interrupted"``, and
    ``result["interrupted"]`` is set. ``on_method_done(result)`` is called after every method (the CLI
    writes the JSON there, so an interrupted run keeps its finished methods on disk).
    """
    settings.validate()
    import torch

    torch.set_num_threads(int(settings.threads))
    result: dict[str, Any] = {
        "data": ctx.data.name,
        "n_samples": ctx.data.n_samples,
        "n_test": None if ctx.data.X_test is None else int(ctx.data.X_test.shape[1]),
        "zero_inputs": int(len(ctx.zero_inputs)),
        "settings": settings.to_json(),
        "lr_search": {},
        "methods": {},
        "interrupted": False,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        # wall times depend on what else runs: the load average is kept with the figures
        "loadavg_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        # HEAD when this run started, and when this module was imported (the code actually run)
        "code_version": code_version(),
        "code_version_at_import": CODE_VERSION_AT_IMPORT,
    }
    for name in settings.methods:
        label = f"{name} on {ctx.data.name}"
        budget_e = settings.max_epochs
        budget_s = settings.max_seconds
        try:
            if name in IALAM_METHODS:
                total = budget_s if math.isfinite(budget_s) else budget_e
                bar = Progress(total, label, enabled=progress)
                rec = run_ialam(ctx, settings, _bar_cb(bar, budget_s, budget_e), method=name)
                bar.close()
            else:
                opt, lasso = parse_method(name)
                lr = settings.lr.get(name)
                if lr is None:
                    from .baselines import LR_GRIDS

                    bar = Progress(len(LR_GRIDS[opt]), f"lr search {label}", enabled=progress)
                    found = search_lr(
                        ctx,
                        settings.sizes,
                        settings.seed,
                        opt,
                        lasso,
                        epochs=settings.search_epochs,
                        max_samples=settings.search_samples,
                        batch_size=settings.batch_size,
                        init_scale=settings.init_scale,
                        match_targets=settings.match_targets,
                        on_try=lambda _lr, bar=bar: bar.update(advance=1),
                    )
                    bar.close()
                    result["lr_search"][name] = found
                    lr = found["lr"]
                if lr is None:
                    rec = RunRecord(name, "diverged", "every learning rate of the search diverged")
                else:
                    total = budget_s if math.isfinite(budget_s) else budget_e
                    bar = Progress(total, label, enabled=progress)
                    rec = train_baseline(
                        ctx,
                        settings.sizes,
                        settings.seed,
                        opt,
                        lasso,
                        lr,
                        batch_size=settings.batch_size,
                        max_epochs=budget_e,
                        max_seconds=budget_s,
                        init_scale=settings.init_scale,
                        match_targets=settings.match_targets,
                        on_epoch=_bar_cb(bar, budget_s, budget_e),
                    )
                    bar.close()
        except KeyboardInterrupt:
            result["methods"][name] = RunRecord(name, "interrupted", "Ctrl-C").to_json()
            result["interrupted"] = True
            break
        result["methods"][name] = rec.to_json()
        if on_method_done is not None:
            on_method_done(result)
        if rec.status == "interrupted":
            result["interrupted"] = True
            break
    result["loadavg_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    result["comparison"] = compare_table_data(result)
    return result


def _bar_cb(bar: Progress, budget_s: float, budget_e: float) -> Callable[[float, float], None]:
    def cb(epochs: float, seconds: float) -> None:
        done = seconds if math.isfinite(budget_s) else epochs
        bar.update(done, info=f"epoch {epochs:g}")

    return cb


def compare_table_data(
    result: dict[str, Any], T: float | None = None, E: float | None = None
) -> dict[str, Any]:
    """Values of every metric at equal wall time ``T`` and at equal epochs ``E`` (see the module)."""
    methods = {k: v for k, v in result["methods"].items() if v["status"] in USABLE}
    s = result["settings"]
    if T is None:
        T = (
            s["max_seconds"]
            if s["max_seconds"] is not None
            else min((m["history"]["seconds"][-1] for m in methods.values()), default=0.0)
        )
    if E is None:
        E = min((m["history"]["epochs"][-1] for m in methods.values()), default=0.0)
    at_time: dict[str, dict[str, float | None]] = {}
    at_epochs: dict[str, dict[str, float | None]] = {}
    for name, m in methods.items():
        h = m["history"]
        at_time[name] = {k: value_at(h, "seconds", T, k) for k in METRICS}
        ran = h["epochs"][-1] >= E - 1e-12 or m["status"] in ("converged", "infeasible")
        at_epochs[name] = {k: value_at(h, "epochs", E, k) if ran else None for k in METRICS}
    return {
        "T_seconds": T,
        "E_epochs": E,
        "at_time": at_time,
        "at_epochs": at_epochs,
        "winners_at_time": winners(at_time),
        "winners_at_epochs": winners(at_epochs),
    }


#: Direction of each metric in the "who wins" rows (True: larger is better).
HIGHER_IS_BETTER = {
    "train_err": False,
    "test_err": False,
    "objective": False,
    "official_test_err": False,
    "accuracy": True,
    "test_accuracy": True,
    "official_test_accuracy": True,
    "column_sparse_ratio": True,
    "column_sparse_ratio_excl_zero_inputs": True,
    "first_layer_sparse_ratio": True,
    "first_layer_sparse_ratio_excl_zero_inputs": True,
}


def winners(values: dict[str, dict[str, float | None]]) -> dict[str, list[str]]:
    """For every metric, the method(s) with the best value (ties all listed; none if no values)."""
    out: dict[str, list[str]] = {}
    for k in METRICS:
        vals = {m: v[k] for m, v in values.items() if v.get(k) is not None}
        if not vals:
            out[k] = []
            continue
        best = max(vals.values()) if HIGHER_IS_BETTER[k] else min(vals.values())
        out[k] = sorted(m for m, v in vals.items() if v == best)
    return out


TABLE_METRICS = (
    "objective",
    "train_err",
    "test_err",
    "accuracy",
    "test_accuracy",
    "official_test_accuracy",
    "column_sparse_ratio",
    "column_sparse_ratio_excl_zero_inputs",
    "first_layer_sparse_ratio",
    "first_layer_sparse_ratio_excl_zero_inputs",
)
SHORT = {
    "train_err": "TrainErr",
    "test_err": "TestErr",
    "accuracy": "Acc",
    "test_accuracy": "TestAcc",
    "official_test_accuracy": "OffTestAcc",
    "column_sparse_ratio": "ColSp",
    "column_sparse_ratio_excl_zero_inputs": "ColSp-z",
    "first_layer_sparse_ratio": "W1Sp",
    "first_layer_sparse_ratio_excl_zero_inputs": "W1Sp-z",
    "objective": "Obj(1)",
}


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _best(names: list[str], n_values: int) -> str:
    if len(names) > 1 and len(names) == n_values:
        return "(all equal)"
    return ", ".join(names) or "-"


def format_table(result: dict[str, Any], metrics: Sequence[str] | None = None) -> str:
    """Markdown tables: final figures, values at equal wall time and at equal epochs, the winners."""
    cmp_ = result.get("comparison") or compare_table_data(result)
    cols = [
        m
        for m in (metrics or TABLE_METRICS)
        if any((r.get("final") or {}).get(m) is not None for r in result["methods"].values())
    ]
    lines = [
        f"### {result['data']} (N = {result['n_samples']}, sizes {result['settings']['sizes']})",
        "",
    ]
    head = (
        "| method | status | lr | seconds | epochs | " + " | ".join(SHORT[c] for c in cols) + " |"
    )
    sep = "|" + "---|" * (5 + len(cols))
    lines += ["Final figures:", "", head, sep]
    for name, r in result["methods"].items():
        f = r.get("final") or {}
        info = r.get("info") or {}
        lines.append(
            f"| {name} | {r['status']} | {_fmt(r.get('lr'))} | {_fmt(info.get('seconds'))} | "
            f"{_fmt(info.get('epochs'))} | " + " | ".join(_fmt(f.get(c)) for c in cols) + " |"
        )
    for key, title in (
        ("at_time", f"At equal wall time T = {_fmt(cmp_['T_seconds'])} s"),
        ("at_epochs", f"At equal epochs E = {_fmt(cmp_['E_epochs'])}"),
    ):
        lines += [
            "",
            f"{title}:",
            "",
            "| method | " + " | ".join(SHORT[c] for c in cols) + " |",
            "|" + "---|" * (1 + len(cols)),
        ]
        for name, vals in cmp_[key].items():
            lines.append(f"| {name} | " + " | ".join(_fmt(vals.get(c)) for c in cols) + " |")
        w = cmp_["winners_" + key]
        n_vals = {c: sum(v.get(c) is not None for v in cmp_[key].values()) for c in cols}
        lines.append(
            "| **best** | " + " | ".join(_best(w.get(c, []), n_vals[c]) for c in cols) + " |"
        )
    failed = [
        f"{n}: {r['status']} ({r['message']})"
        for n, r in result["methods"].items()
        if r["status"] not in USABLE
    ]
    if failed:
        lines += ["", "Not usable: " + "; ".join(failed)]
    return "\n".join(lines) + "\n"
