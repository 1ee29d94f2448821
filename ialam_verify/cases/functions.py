"""Nonsmooth building blocks as sympy functions that print the way they are written on paper.

``relu(x)`` prints as :math:`(x)_+`, ``leaky_relu(x, alpha)`` as :math:`\\sigma_\\alpha(x)`; ``Max2`` and
``Min2`` are binary, unflattened ``max``/``min`` (sympy's ``Max`` flattens nested calls, which would hide
the order in which a program evaluates them). All of them evaluate to a branch as soon as the sign of
the switching argument is known, so ``f.subs(point)`` gives exact values.
"""

from __future__ import annotations

import sympy
from sympy import Function, S


class relu(Function):  # noqa: N801 - mathematical name
    r"""ReLU :math:`(x)_+ = \max(x, 0)`."""

    nargs = 1

    @classmethod
    def eval(cls, x):  # type: ignore[override]
        if x.is_extended_nonnegative:
            return x
        if x.is_extended_nonpositive:
            return S.Zero
        return None

    def _sympystr(self, printer):
        return f"({printer._print(self.args[0])})_+"

    def _latex(self, printer):
        return rf"\left({printer._print(self.args[0])}\right)_+"

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        inner = prettyForm(*printer._print(self.args[0]).parens())
        return prettyForm(*inner.right("₊"))

    def _eval_rewrite_as_Max(self, x, **kwargs):
        return sympy.Max(x, 0)


class leaky_relu(Function):  # noqa: N801
    r"""Leaky ReLU :math:`\sigma_\alpha(x) = \max(x, \alpha x)` for :math:`0 \le \alpha < 1`."""

    nargs = 2

    @classmethod
    def eval(cls, x, alpha):  # type: ignore[override]
        if x.is_extended_nonnegative:
            return x
        if x.is_extended_nonpositive:
            return alpha * x
        return None

    def _sympystr(self, printer):
        return f"σ_{printer._print(self.args[1])}({printer._print(self.args[0])})"

    def _latex(self, printer):
        a, al = (printer._print(t) for t in self.args)
        return rf"\sigma_{{{al}}}\left({a}\right)"

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        inner = prettyForm(*printer._print(self.args[0]).parens())
        return prettyForm(*inner.left(f"σ_{sympy.sstr(self.args[1])}"))


class Max2(Function):
    r"""Binary :math:`\max(a, b)`, kept unflattened (tie-breaking of AD depends on the nesting)."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):  # type: ignore[override]
        d = a - b
        if d.is_extended_nonnegative:
            return a
        if d.is_extended_nonpositive:
            return b
        return None

    def _sympystr(self, printer):
        return f"max({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _latex(self, printer):
        a, b = (printer._print(t) for t in self.args)
        return rf"\max\left({a}, {b}\right)"


class Min2(Function):
    r"""Binary :math:`\min(a, b)`, kept unflattened."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):  # type: ignore[override]
        d = a - b
        if d.is_extended_nonnegative:
            return b
        if d.is_extended_nonpositive:
            return a
        return None

    def _sympystr(self, printer):
        return f"min({printer._print(self.args[0])}, {printer._print(self.args[1])})"

    def _latex(self, printer):
        a, b = (printer._print(t) for t in self.args)
        return rf"\min\left({a}, {b}\right)"


def binarize(expr: sympy.Expr) -> sympy.Expr:
    """Replace sympy's n-ary ``Max``/``Min`` by nested ``Max2``/``Min2`` (left to right)."""

    def rec(e):
        if not e.args:
            return e
        args = [rec(a) for a in e.args]
        if isinstance(e, sympy.Max) or isinstance(e, sympy.Min):
            cls = Max2 if isinstance(e, sympy.Max) else Min2
            out = args[0]
            for a in args[1:]:
                out = cls(out, a, evaluate=False)
            return out
        return e.func(*args)

    return rec(expr)


#: The kinks :func:`ialam_verify.cases.analyze` understands (each has one switching function).
KINKS = (relu, leaky_relu, sympy.Abs, Max2, Min2)
#: Nonsmooth sympy operations outside the exact class (refused with a clear error).
UNSUPPORTED = (sympy.Piecewise, sympy.Heaviside, sympy.sign, sympy.floor, sympy.ceiling)
