r"""What automatic differentiation returns at a kink, exactly and from torch itself.

:func:`ad_gradient` is exact forward-mode AD over the expression tree with PyTorch's conventions at
ties: ``relu'(0) = 0``, ``leaky_relu'(0) = alpha``, ``Abs'(0) = sign(0) = 0``, and ``max(a, b)`` /
``min(a, b)`` at a tie give :math:`(\nabla a + \nabla b)/2` (``torch.maximum``). :func:`torch_gradient`
runs the same expression with torch float64 ops and returns what ``torch.autograd`` computes (the
oracle that the conventions above are checked against, in ``tests/cases/test_torch_cases.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from ialam_verify.verdict import Verdict

from .functions import KINKS, Max2, Min2, leaky_relu, relu
from .geometry import (
    Polytope,
    PolyUnion,
    Vector,
    hull_membership,
    math_str,
    normal_form,
    set_pieces,
)
from .params import ParamSpace, Undetermined


def ad_gradient(
    f: sympy.Expr, variables: Sequence[sympy.Symbol], point: Sequence, ps: ParamSpace
) -> Vector:
    """Exact forward-mode AD (conventions at kinks: see the module docstring)."""
    n = len(variables)
    idx = {v: i for i, v in enumerate(variables)}
    xs = dict(zip(variables, point, strict=True))
    zero = tuple(sympy.Integer(0) for _ in range(n))
    memo: dict = {}

    def add(a, b):
        return tuple(x + y for x, y in zip(a, b, strict=True))

    def scale(c, a):
        return tuple(c * x for x in a)

    def rec(e):
        if e in memo:
            return memo[e]
        if isinstance(e, sympy.Symbol):
            out = (
                (xs[e], tuple(sympy.Integer(int(idx[e] == i)) for i in range(n)))
                if e in idx
                else (e, zero)
            )
        elif not e.args:
            out = (e, zero)
        elif isinstance(e, sympy.Add):
            vals = [rec(a) for a in e.args]
            g = zero
            for _, ga in vals:
                g = add(g, ga)
            out = (sum(v for v, _ in vals), g)
        elif isinstance(e, sympy.Mul):
            vals = [rec(a) for a in e.args]
            val = sympy.Mul(*[v for v, _ in vals])
            g = zero
            for i, (_, gi) in enumerate(vals):
                other = sympy.Mul(*[v for j, (v, _) in enumerate(vals) if j != i])
                g = add(g, scale(other, gi))
            out = (val, g)
        elif isinstance(e, sympy.Pow):
            (bv, bg), (ev, eg) = rec(e.args[0]), rec(e.args[1])
            val = bv**ev
            g = scale(ev * bv ** (ev - 1), bg)
            if any(x != 0 for x in eg):
                g = add(g, scale(val * sympy.log(bv), eg))
            out = (val, g)
        elif isinstance(e, KINKS):
            if isinstance(e, (Max2, Min2)):
                (av, ag), (bv, bg) = rec(e.args[0]), rec(e.args[1])
                s = ps.sign(av - bv)
                hi, lo = ((av, ag), (bv, bg)) if s >= 0 else ((bv, bg), (av, ag))
                if isinstance(e, Min2):
                    hi, lo = lo, hi
                if s == 0:
                    out = (av, scale(sympy.Rational(1, 2), add(ag, bg)))
                else:
                    out = hi
            else:
                av, ag = rec(e.args[0])
                s = ps.sign(av)
                if isinstance(e, relu):
                    out = (av if s > 0 else sympy.Integer(0), ag if s > 0 else zero)
                elif isinstance(e, leaky_relu):
                    al = rec(e.args[1])[0]
                    out = (av if s > 0 else al * av, ag if s > 0 else scale(al, ag))
                else:  # Abs
                    out = (s * av, scale(sympy.Integer(s), ag))
        elif isinstance(e, sympy.Function) and len(e.args) == 1:
            av, ag = rec(e.args[0])
            y = sympy.Dummy("y")
            der = sympy.diff(e.func(y), y).subs(y, av)
            out = (e.func(av), scale(der, ag))
        else:
            raise ValueError(f"ad_gradient: unsupported operation {type(e).__name__}")
        memo[e] = out
        return out

    return tuple(normal_form(x) for x in rec(f)[1])


def torch_gradient(
    f: sympy.Expr, variables: Sequence[sympy.Symbol], point: Sequence
) -> tuple[float, ...]:
    """Evaluate ``f`` with torch float64 ops at ``point`` and return ``torch.autograd``'s gradient."""
    import torch

    xs = {
        v: torch.tensor(float(p), dtype=torch.float64, requires_grad=True)
        for v, p in zip(variables, point, strict=True)
    }
    memo: dict = {}

    def rec(e):
        if e in memo:
            return memo[e]
        if isinstance(e, sympy.Symbol):
            out = xs[e]
        elif e.is_Number:
            out = torch.tensor(float(e), dtype=torch.float64)
        elif isinstance(e, sympy.Add):
            out = rec(e.args[0])
            for a in e.args[1:]:
                out = out + rec(a)
        elif isinstance(e, sympy.Mul):
            out = rec(e.args[0])
            for a in e.args[1:]:
                out = out * rec(a)
        elif isinstance(e, sympy.Pow):
            ex = e.args[1]
            out = rec(e.args[0]) ** (int(ex) if ex.is_Integer else rec(ex))
        elif isinstance(e, relu):
            out = torch.relu(rec(e.args[0]))
        elif isinstance(e, leaky_relu):
            out = torch.nn.functional.leaky_relu(rec(e.args[0]), negative_slope=float(e.args[1]))
        elif isinstance(e, sympy.Abs):
            out = torch.abs(rec(e.args[0]))
        elif isinstance(e, Max2):
            out = torch.maximum(rec(e.args[0]), rec(e.args[1]))
        elif isinstance(e, Min2):
            out = torch.minimum(rec(e.args[0]), rec(e.args[1]))
        elif isinstance(e, sympy.Function) and len(e.args) == 1 and hasattr(torch, e.func.__name__):
            out = getattr(torch, e.func.__name__)(rec(e.args[0]))
        else:
            raise ValueError(f"torch_gradient: unsupported operation {type(e).__name__}")
        memo[e] = out
        return out

    y = rec(f)
    leaves = [xs[v] for v in variables]
    if not y.requires_grad:
        return tuple(0.0 for _ in variables)
    grads = torch.autograd.grad(y, leaves, allow_unused=True)
    return tuple(0.0 if g is None else float(g) + 0.0 for g in grads)  # + 0.0 turns -0.0 into 0.0


def ad_membership(g: Sequence, S: Polytope | PolyUnion, ps: ParamSpace) -> Verdict:
    """Does the AD value ``g`` lie in the set ``S``? ``holds`` with convex weights on one piece;
    ``fails`` with an exact separating vector for every piece (or an empty set)."""
    pieces = set_pieces(S)
    if not pieces:
        return Verdict.fails("the set is empty")
    separators = []
    try:
        for P in pieces:
            ok, cert = hull_membership(g, P.vertices, ps)
            if ok:
                return Verdict.holds(f"AD value = Σ λ_i v_i with λ = {sympy.sstr(cert['weights'])}")
            separators.append(cert["separator"])
    except Undetermined as exc:
        return Verdict.undetermined(str(exc))
    return Verdict.fails(
        f"AD value {math_str(tuple(g))} lies in no piece; separating vectors "
        + ", ".join(sympy.sstr(w) for w in separators)
    )
