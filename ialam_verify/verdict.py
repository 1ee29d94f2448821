"""The one verdict type of the toolkit, shared by :mod:`ialam_verify.stationarity` and
:mod:`ialam_verify.cases`.

A verdict is one of four outcomes:

==================  ============================================================================
``holds``           proved: a witness (multipliers, an exact set membership) was re-checked.
``fails``           proved: a certificate of failure (a dual / Farkas certificate, a descent
                    direction, an exact separating vector) was re-checked.
``undetermined``    neither could be proved at the given tolerances; ``reason`` says why.
``inconclusive``    a numerical solver did not report an optimal answer; ``reason`` says which.
==================  ============================================================================

``bool(verdict)`` is ``True`` only for ``holds``: ``assert analysis.clarke_stationary`` passes only
when the answer is "yes". ``fails``, ``undetermined`` and ``inconclusive`` are all falsy, so
``if not v`` does not tell a proof of failure from a lack of proof: compare ``v.outcome`` (or use
:attr:`Verdict.proved_false`) when that matters.

This module imports nothing but the standard library, so every layer may use it.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any


class Outcome(str, enum.Enum):
    """The four outcomes of a verdict (a ``str`` enum: ``Outcome.HOLDS == "holds"``)."""

    HOLDS = "holds"
    FAILS = "fails"
    UNDETERMINED = "undetermined"
    INCONCLUSIVE = "inconclusive"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Verdict:
    """An answer with its reason and, where a numerical residual exists, its size.

    Parameters
    ----------
    outcome : Outcome or str
        ``"holds"``, ``"fails"``, ``"undetermined"`` or ``"inconclusive"``.
    reason : str
        Why: the witness or the proof in words, or what blocked a decision.
    residual : float or None
        The residual of the best witness found (``None`` for exact answers).
    epsilon : float or None
        The smallest tolerance at which the notion would hold (``None`` when not computed).
    """

    outcome: Outcome
    reason: str = ""
    residual: float | None = None
    epsilon: float | None = None

    def __post_init__(self) -> None:
        try:
            outcome = Outcome(self.outcome)
        except ValueError:
            raise ValueError(
                f"outcome must be one of {[o.value for o in Outcome]}; got {self.outcome!r}"
            ) from None
        object.__setattr__(self, "outcome", outcome)
        if not isinstance(self.reason, str):
            raise TypeError(f"reason must be a str; got {type(self.reason).__name__}")
        for name in ("residual", "epsilon"):
            value = getattr(self, name)
            if value is not None:
                value = float(value)
                if math.isnan(value):
                    raise ValueError(f"{name} must not be NaN")
                object.__setattr__(self, name, value)

    # -- constructors ------------------------------------------------------------------------
    @classmethod
    def holds(cls, reason: str = "", **kw: Any) -> Verdict:
        return cls(Outcome.HOLDS, reason, **kw)

    @classmethod
    def fails(cls, reason: str = "", **kw: Any) -> Verdict:
        return cls(Outcome.FAILS, reason, **kw)

    @classmethod
    def undetermined(cls, reason: str, **kw: Any) -> Verdict:
        return cls(Outcome.UNDETERMINED, reason, **kw)

    @classmethod
    def inconclusive(cls, reason: str, **kw: Any) -> Verdict:
        return cls(Outcome.INCONCLUSIVE, reason, **kw)

    @classmethod
    def from_bool(cls, value: bool | None, reason: str = "", **kw: Any) -> Verdict:
        """``True`` -> holds, ``False`` -> fails, ``None`` -> undetermined."""
        if value is None:
            return cls(Outcome.UNDETERMINED, reason, **kw)
        return cls(Outcome.HOLDS if value else Outcome.FAILS, reason, **kw)

    # -- reading -----------------------------------------------------------------------------
    @property
    def proved_true(self) -> bool:
        return self.outcome is Outcome.HOLDS

    @property
    def proved_false(self) -> bool:
        return self.outcome is Outcome.FAILS

    @property
    def decided(self) -> bool:
        return self.outcome in (Outcome.HOLDS, Outcome.FAILS)

    @property
    def value(self) -> bool | None:
        """``True`` (holds), ``False`` (fails) or ``None`` (neither proved)."""
        return {Outcome.HOLDS: True, Outcome.FAILS: False}.get(self.outcome)

    def __bool__(self) -> bool:
        return self.outcome is Outcome.HOLDS

    def __eq__(self, other: object) -> bool:
        # A verdict compares equal to its outcome string, so ``v == "holds"`` reads naturally.
        if isinstance(other, str):
            return self.outcome.value == other
        if isinstance(other, Verdict):
            return (self.outcome, self.reason, self.residual, self.epsilon) == (
                other.outcome,
                other.reason,
                other.residual,
                other.epsilon,
            )
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.outcome, self.reason, self.residual, self.epsilon))

    def __str__(self) -> str:
        return self.outcome.value

    def __repr__(self) -> str:
        parts = [repr(self.outcome.value)]
        if self.residual is not None:
            parts.append(f"residual={self.residual:.3g}")
        if self.epsilon is not None:
            parts.append(f"epsilon={self.epsilon:.3g}")
        if self.reason:
            short = self.reason if len(self.reason) <= 60 else self.reason[:57] + "..."
            parts.append(f"reason={short!r}")
        return f"Verdict({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"outcome", "reason", "residual", "epsilon"}`` (infinities as strings)."""

        def enc(x: float | None) -> float | str | None:
            if x is None or math.isfinite(x):
                return x
            return "inf" if x > 0 else "-inf"

        return {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "residual": enc(self.residual),
            "epsilon": enc(self.epsilon),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        if not isinstance(d, dict) or "outcome" not in d:
            raise ValueError("a verdict must be a dict with key 'outcome'")
        return cls(
            d["outcome"],
            d.get("reason", ""),
            None if d.get("residual") is None else float(d["residual"]),
            None if d.get("epsilon") is None else float(d["epsilon"]),
        )
