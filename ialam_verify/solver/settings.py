r"""Every setting of the solver in one tree, with one list of option names and one validation table.

The tree::

    IALAMSettings            the outer loop (rho0, tau1, eta1-3, gamma, stopping tests, caps)
      .inner: InnerSettings  the alternating minimization and its (w, b) solves
    WarmupSettings           the numpy first-order start of the pipeline (:mod:`.warmup`)

``fit(..., **options)`` and ``IALAM(problem, **options)`` take the *flat* names of
:data:`OPTIONS` (``inner_max_iter``, ``wb_work``, ``warmup_seconds``, ...); :func:`split_options`
sorts them into the tree, and an unknown name is a ``TypeError`` that names the closest known one
(as a mistyped keyword argument is in Python). Every value is checked by the table :data:`OPTIONS`
before any work starts: the message names the option and what was expected.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, NamedTuple

from .wb_step import WB_METHODS


# ----------------------------------------------------------------------------------- the checks
def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and not math.isnan(x)


def _positive(x: Any) -> bool:
    return _number(x) and math.isfinite(x) and x > 0


def _positive_or_inf(x: Any) -> bool:
    return _number(x) and x > 0


def _nonnegative(x: Any) -> bool:
    return _number(x) and math.isfinite(x) and x >= 0


def _nonnegative_or_inf(x: Any) -> bool:
    return _number(x) and x >= 0


def _count(x: Any) -> bool:
    return _number(x) and math.isfinite(x) and int(x) == x and x >= 1


def _seed(x: Any) -> bool:
    return _number(x) and math.isfinite(x) and int(x) == x and x >= 0


def _open_unit(x: Any) -> bool:
    return _number(x) and 0 < x < 1


def _above_one(x: Any) -> bool:
    return _number(x) and math.isfinite(x) and x > 1


def _unit_closed_above(x: Any) -> bool:
    return _number(x) and 0 < x <= 1


def _wb_method(x: Any) -> bool:
    return isinstance(x, str) and x in WB_METHODS


class Option(NamedTuple):
    """One setting: where it lives in the tree, its check, and the words of the check."""

    group: str  # "ialam", "inner" or "warmup"
    attr: str  # field name in that group's dataclass
    check: Callable[[Any], bool]
    expected: str
    allow_none: bool = False


#: the one list of option names (flat names as ``fit`` and ``IALAM`` take them)
OPTIONS: dict[str, Option] = {
    # outer loop
    "rho0": Option("ialam", "rho0", _positive, "a finite number > 0", allow_none=True),
    "tau1": Option("ialam", "tau1", _positive, "a finite number > 0", allow_none=True),
    "eta1": Option("ialam", "eta1", _open_unit, "a number in (0, 1)"),
    "eta2": Option("ialam", "eta2", _above_one, "a finite number > 1"),
    "eta3": Option("ialam", "eta3", _positive, "a finite number > 0 (the talk's theory: > 1)"),
    "xi_weight": Option(
        "ialam", "xi_weight", _positive, "a finite number > 0 (None: rho0)", allow_none=True
    ),
    "gamma": Option("ialam", "gamma", _count, "a positive integer"),
    "rho_factor_stop": Option("ialam", "rho_factor_stop", _above_one, "a finite number > 1"),
    "max_outer": Option("ialam", "max_outer", _count, "a positive integer"),
    "feas_tol": Option("ialam", "feas_tol", _nonnegative, "a finite number >= 0 (0: off)"),
    "feas_change_tol": Option(
        "ialam", "feas_change_tol", _nonnegative_or_inf, "a number >= 0 or inf (inf: off)"
    ),
    "max_seconds": Option("ialam", "max_seconds", _nonnegative_or_inf, "a number >= 0 or inf"),
    "success_feas_tol": Option(
        "ialam", "success_feas_tol", _nonnegative_or_inf, "a number >= 0 or inf"
    ),
    # inner loop
    "inner_max_iter": Option("inner", "max_iter", _count, "a positive integer"),
    "inner_tol0": Option("inner", "tol0", _positive, "a finite number > 0"),
    "inner_tol_decay": Option("inner", "tol_decay", _unit_closed_above, "a number in (0, 1]"),
    "inner_tol_min": Option("inner", "tol_min", _nonnegative, "a finite number >= 0"),
    "wb_tol": Option("inner", "wb_tol", _positive, "a finite number > 0"),
    "wb_max_iter": Option("inner", "wb_max_iter", _count, "a positive integer"),
    "wb_work": Option("inner", "wb_work", _positive_or_inf, "a number > 0 or inf (inf: no budget)"),
    "wb_solver": Option("inner", "wb_solver", _wb_method, " or ".join(map(repr, WB_METHODS))),
    # warm-up of the pipeline
    "warmup_seconds": Option("warmup", "max_seconds", _positive_or_inf, "a number > 0 or inf"),
    "warmup_max_iter": Option("warmup", "max_iter", _count, "a positive integer"),
    "warmup_lr": Option("warmup", "lr", _positive, "a finite number > 0 (None: tuned)", True),
    "warmup_batch_size": Option(
        "warmup", "batch_size", _count, "a positive integer (None: chosen by N)", allow_none=True
    ),
    "warmup_seed": Option("warmup", "seed", _seed, "an integer >= 0"),
}


def check_option(name: str, value: Any) -> None:
    """``ValueError`` naming ``name`` unless ``value`` passes its check in :data:`OPTIONS`."""
    opt = OPTIONS[name]
    if value is None and opt.allow_none:
        return
    if not opt.check(value):
        raise ValueError(f"{name} must be {opt.expected}; got {value!r}")


def unknown_option_error(name: str, known: list[str] | None = None) -> TypeError:
    """The error for an option nobody knows, naming the closest known name."""
    known = sorted(OPTIONS) if known is None else known
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known options: {', '.join(known)}"
    return TypeError(f"unknown solver option {name!r}{hint}")


class _Validated:
    """Check every field named in :data:`OPTIONS` of this group at construction."""

    GROUP = ""

    def __post_init__(self) -> None:
        for name, opt in OPTIONS.items():
            if opt.group == self.GROUP:
                check_option(name, getattr(self, opt.attr))


@dataclass(frozen=True)
class InnerSettings(_Validated):
    r"""The alternating minimization (:class:`~.inner.AlternatingMinimization`).

    Outer iteration ``k`` runs it until the relative change of (v, u) is at most
    ``max(tol_min, tol0 * tol_decay**k)``, or ``max_iter`` iterations. Each (w, b) group-lasso solve
    stops at accuracy ``wb_tol``, ``wb_max_iter`` iterations, or its work budget ``wb_work``
    (relative to the layer's unavoidable products; ``inf`` disables it). ``wb_solver`` is the method
    of those solves (:func:`~.wb_step.wb_layer_step`): ``"bcd"``, block coordinate descent over
    columns, or ``"prox_grad"``, the proximal gradient method with one global step.
    """

    GROUP = "inner"
    max_iter: int = 5
    tol0: float = 1e-3
    tol_decay: float = 0.8
    tol_min: float = 1e-7
    wb_tol: float = 1e-6
    wb_max_iter: int = 30
    wb_work: float = 1.0
    wb_solver: str = "bcd"


@dataclass(frozen=True)
class IALAMSettings(_Validated):
    r"""The outer loop (:class:`~.ialam.IALAM`); see its docstring for the rules each one enters.

    ``rho0`` / ``tau1`` ``None`` mean "the default rule of :func:`~.api.fit`"; the solver itself
    needs numbers. ``feas_tol > 0`` stops when FeasVi falls to ``feas_tol`` and the last inner
    change is at most ``feas_change_tol``.
    """

    GROUP = "ialam"
    rho0: float | None = None
    tau1: float | None = None
    eta1: float = 0.5
    eta2: float = 1.2
    eta3: float = 1.5
    xi_weight: float | None = None
    gamma: int = 1
    rho_factor_stop: float = 1e6
    max_outer: int = 500
    feas_tol: float = 0.0
    feas_change_tol: float = math.inf
    max_seconds: float = math.inf
    success_feas_tol: float = 1e-6
    inner: InnerSettings = field(default_factory=InnerSettings)

    def flat(self) -> dict[str, Any]:
        """Every setting under its flat option name (what results record)."""
        out: dict[str, Any] = {}
        for name, opt in OPTIONS.items():
            if opt.group == "ialam":
                out[name] = getattr(self, opt.attr)
            elif opt.group == "inner":
                out[name] = getattr(self.inner, opt.attr)
        return out

    def with_options(self, **options: Any) -> IALAMSettings:
        """A copy with flat options replaced (validated; unknown or warm-up names are refused)."""
        groups = split_options(options)
        if groups["warmup"]:
            raise unknown_option_error(next(iter(groups["warmup"])), _names("ialam", "inner"))
        return replace(self, inner=replace(self.inner, **groups["inner"]), **groups["ialam"])


@dataclass(frozen=True)
class WarmupSettings(_Validated):
    r"""The built-in warm-up (:func:`~.warmup.warmup`): Adam with a proximal group-lasso step.

    ``lr`` ``None`` tries a few learning rates briefly and keeps the best (:mod:`.warmup`).
    ``max_iter`` and ``max_seconds`` are caps: a full-batch run stops earlier once objective (1)
    stalls (:data:`~.warmup.STALL_PATIENCE` steps without real progress; :mod:`.warmup`).
    ``batch_size`` ``None`` chooses by N: full batch up to :data:`~.warmup.FULL_BATCH_MAX_N` samples,
    minibatches of :data:`~.warmup.MINIBATCH_SIZE` above (:func:`~.warmup.batch_size_for`); the
    minibatches are drawn without replacement, one shuffle per epoch, from ``seed``.
    """

    GROUP = "warmup"
    max_seconds: float = 10.0
    max_iter: int = 20000
    lr: float | None = None
    batch_size: int | None = None
    seed: int = 0


def _names(*groups: str) -> list[str]:
    return sorted(n for n, o in OPTIONS.items() if o.group in groups)


def split_options(options: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Sort flat options into ``{"ialam": ..., "inner": ..., "warmup": ...}`` by field name.

    Raises ``TypeError`` for an unknown name (naming the closest known one) and ``ValueError`` for
    a value that fails its check, before anything runs.
    """
    out: dict[str, dict[str, Any]] = {"ialam": {}, "inner": {}, "warmup": {}}
    for name, value in options.items():
        if name not in OPTIONS:
            raise unknown_option_error(name)
        check_option(name, value)
        opt = OPTIONS[name]
        out[opt.group][opt.attr] = value
    return out


def settings_fields() -> dict[str, list[str]]:
    """Field names of each settings class (for the test that every option has a home)."""
    return {
        "ialam": [f.name for f in fields(IALAMSettings) if f.name != "inner"],
        "inner": [f.name for f in fields(InnerSettings)],
        "warmup": [f.name for f in fields(WarmupSettings)],
    }
