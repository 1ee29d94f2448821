r"""Exact sign decisions, for rational numbers and for rational functions of one parameter.

A case may keep the leaky-ReLU slope :math:`\alpha` symbolic under an assumption such as
:math:`0 < \alpha < 1/2`. Every decision the analysis takes is then a question "what is the sign of
the rational function :math:`r(\alpha)` on the open interval :math:`I`?", answered exactly:
:math:`r = p/q` is put over a common denominator, and the sign is uniform on :math:`I` iff neither
:math:`p` nor :math:`q` has a real root inside :math:`I` (``sympy.real_roots``, exact); the sign is then
read at a rational point of :math:`I`. A sign that changes inside :math:`I` raises
:class:`Undetermined` (the question has no single answer for every :math:`\alpha \in I`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy


class Undetermined(Exception):
    """The exact computation cannot decide this (outside the documented class, or a sign change)."""


@dataclass(frozen=True)
class ParamSpace:
    """At most one symbolic parameter with an open interval; ``None`` for purely rational data."""

    symbol: sympy.Symbol | None = None
    interval: sympy.Interval | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.symbol is None) != (self.interval is None):
            raise ValueError("params: give both a symbol and an interval, or neither")
        if self.interval is not None:
            lo, hi = self.interval.start, self.interval.end
            if not (lo.is_Rational and hi.is_Rational and lo < hi):
                raise ValueError(
                    f"params: interval must have rational ends lo < hi; got {self.interval}"
                )

    @property
    def symbolic(self) -> bool:
        return self.symbol is not None

    def samples(self, k: int = 3) -> list[sympy.Rational]:
        """``k`` exact rational points spread inside the interval (used to confirm symbolic verdicts)."""
        if self.interval is None:
            return []
        lo, hi = self.interval.start, self.interval.end
        return [lo + (hi - lo) * sympy.Rational(j, k + 1) for j in range(1, k + 1)]

    def describe(self) -> str:
        if self.symbol is None:
            return ""
        lo, hi = self.interval.start, self.interval.end
        return f"{lo} < {self.symbol} < {hi}"

    def sign(self, expr: sympy.Expr) -> int:
        """Exact sign of ``expr`` (for every parameter value in the interval), or raise Undetermined."""
        expr = sympy.sympify(expr)
        key = expr
        if key in self._cache:
            return self._cache[key]
        out = self._sign(expr)
        self._cache[key] = out
        return out

    def _sign(self, expr: sympy.Expr) -> int:
        expr = sympy.cancel(sympy.together(expr))
        free = expr.free_symbols
        if not free:
            if expr == 0:
                return 0
            if expr.is_positive:
                return 1
            if expr.is_negative:
                return -1
            raise Undetermined(f"cannot decide the sign of the number {expr}")
        if self.symbol is None or free != {self.symbol}:
            raise Undetermined(f"sign of {expr} depends on free symbols {sorted(map(str, free))}")
        num, den = sympy.fraction(expr)
        a = self.symbol
        lo, hi = self.interval.start, self.interval.end
        for part in (num, den):
            try:
                poly = sympy.Poly(part, a)
            except sympy.PolynomialError as exc:
                raise Undetermined(f"{expr} is not a rational function of {a}") from exc
            if poly.is_zero:
                if part is num:
                    return 0
                raise Undetermined(f"{expr} has a zero denominator")  # pragma: no cover
            for r in sympy.real_roots(poly):
                if lo < r < hi:
                    raise Undetermined(
                        f"the sign of {sympy.factor(expr)} changes at {a} = {r} inside {self.describe()}"
                    )
        mid = (lo + hi) / 2
        val = expr.subs(a, mid)
        return 1 if val > 0 else -1

    def is_zero(self, expr: sympy.Expr) -> bool:
        """Exact identity test ``expr == 0`` for every parameter value (rational functions)."""
        return sympy.cancel(sympy.together(sympy.sympify(expr))) == 0
