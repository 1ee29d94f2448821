r"""The lifted reading of a one-hidden-neuron network, exactly: MPCC notions of (P), KKT of (PP).

Network of the talk's example (3), with samples :math:`(x_n, y_n)`:
:math:`f = \sum_n (w_2 \sigma(w_1 x_n + b_1) + b_2 - y_n)^2`. Lifting the hidden layer gives

.. math::

   (P)\quad \min\ \bar O = \sum_n (w_2 v_n + b_2 - y_n)^2 \quad\text{s.t.}\quad
   G_n = v_n - u_n \ge 0,\ H_n = v_n - \alpha u_n \ge 0,\ G_n H_n = 0,\ u_n = w_1 x_n + b_1,

and (PP) replaces :math:`G_n H_n = 0` by the penalty :math:`\beta \sum_n (v_n - \sigma(u_n))`. With the
Lagrangian :math:`\bar O - \mu^1\cdot G - \mu^2\cdot H + \xi\cdot(u - w_1 x - b_1)` the stationarity
system is (with :math:`r_n = w_2 v_n + b_2 - y_n`)

.. math::

   \textstyle\sum_n \xi_n x_n = 0,\ \sum_n \xi_n = 0,\ \sum_n 2 r_n v_n = 0,\ \sum_n 2 r_n = 0,\
   2 r_n w_2 (+\beta) - \mu^1_n - \mu^2_n = 0,\ \mu^1_n + \alpha\mu^2_n + \xi_n (+\zeta_n) = 0,

with :math:`\mu^1_n = 0` if :math:`G_n > 0`, :math:`\mu^2_n = 0` if :math:`H_n > 0`. MPCC W-stationarity:
the system (without the bracketed terms) is solvable; A: additionally :math:`\mu^1_n \ge 0` or
:math:`\mu^2_n \ge 0` on the biactive set; C: :math:`\mu^1_n\mu^2_n \ge 0` on
the biactive set :math:`u_n = v_n = 0`; M: there :math:`\mu^1_n\mu^2_n = 0` or both :math:`> 0`; S: both
:math:`\ge 0`. KKT of (PP): :math:`\mu \ge 0` and :math:`\zeta_n \in \partial(-\beta\sigma)(u_n)`
(limiting: :math:`\{-\beta, -\alpha\beta\}` at :math:`u_n = 0`, for :math:`\beta > 0`).

The talk writes :math:`+\Psi^T\xi` in the :math:`w`-equation but :math:`+\xi` in the :math:`u`-equation,
which are not both derived from one Lagrangian; here the constraint enters once, with one sign. (For
the example the :math:`w`-equations force :math:`\xi = 0`, so the sign does not matter there.)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from ialam_verify.verdict import Verdict

from .functions import leaky_relu
from .lp import feasible
from .params import ParamSpace, Undetermined


@dataclass
class LiftedResult:
    """Everything the lifted reading decides, exact."""

    u: tuple
    v: tuple
    residuals: tuple
    biactive: tuple[int, ...]
    w_multipliers: dict | None  # unique solution of the W-system, or None when inconsistent
    w_free: bool  # True when the W-system has a family of solutions
    verdicts: dict[str, Verdict]  # MPCC W, A, C, M, S of (P)
    products: dict[int, sympy.Expr]
    kkt_beta: list[tuple[tuple, sympy.Expr, sympy.Expr]]  # (zeta choice, beta_lo, beta_hi)


def _lin(eqs, unknowns):
    sol = sympy.linsolve(eqs, unknowns)
    if sol == sympy.EmptySet:
        return None
    (s,) = list(sol)
    return dict(zip(unknowns, s, strict=True))


def lifted_analysis(
    xs: Sequence[Any],
    ys: Sequence[Any],
    point: Sequence[Any],
    alpha: sympy.Symbol,
    interval: sympy.Interval,
    beta: sympy.Symbol,
) -> LiftedResult:
    """Decide the MPCC notions of (P) and the β-range of KKT points of (PP) at the lifted point."""
    if len(xs) != len(ys) or not xs:
        raise ValueError("xs and ys must be nonempty and of equal length")
    if len(point) != 4:
        raise ValueError("point must be (w1, w2, b1, b2)")
    ps = ParamSpace(alpha, interval)
    w1, w2, b1, b2 = (sympy.sympify(p) for p in point)
    N = len(xs)
    u = tuple(w1 * sympy.sympify(x) + b1 for x in xs)
    v = tuple(leaky_relu(un, alpha) for un in u)
    r = tuple(w2 * vn + b2 - sympy.sympify(y) for vn, y in zip(v, ys, strict=True))
    mu1 = sympy.symbols(f"mu1_0:{N}")
    mu2 = sympy.symbols(f"mu2_0:{N}")
    xi = sympy.symbols(f"xi_0:{N}")
    zeta = sympy.symbols(f"zeta_0:{N}")
    biactive = tuple(n for n in range(N) if u[n] == 0 and v[n] == 0)

    def system(with_beta: bool):
        eqs = [sum(xi[n] * xs[n] for n in range(N)), sum(xi)]
        eqs += [sum(2 * r[n] * v[n] for n in range(N)), sum(2 * r[n] for n in range(N))]
        for n in range(N):
            eqs.append(2 * r[n] * w2 + (beta if with_beta else 0) - mu1[n] - mu2[n])
            eqs.append(mu1[n] + alpha * mu2[n] + xi[n] + (zeta[n] if with_beta else 0))
            if ps.sign(v[n] - u[n]) > 0:
                eqs.append(mu1[n])
            if ps.sign(v[n] - alpha * u[n]) > 0:
                eqs.append(mu2[n])
        return eqs

    unknowns = list(mu1) + list(mu2) + list(xi)
    sol = _lin(system(False), unknowns)
    verdicts: dict[str, Verdict] = {}
    products: dict[int, sympy.Expr] = {}
    w_free = False
    if sol is None:
        why = "the W-stationarity system (linear, exact) has no solution"
        verdicts = {k: Verdict.fails(why) for k in ("W", "A", "C", "M", "S")}
    else:
        verdicts["W"] = Verdict.holds(f"multipliers {sympy.sstr(sol)} solve the W-system")
        free = set().union(*[sympy.sympify(e).free_symbols for e in sol.values()]) & set(unknowns)
        if free:
            w_free = True
            for k in ("A", "C", "M", "S"):
                verdicts[k] = Verdict.undetermined("the W-multipliers are not unique")
        else:
            a_ok = c_ok = m_ok = s_ok = True
            signs = {}
            for n in biactive:
                a, b = sympy.factor(sol[mu1[n]]), sympy.factor(sol[mu2[n]])
                products[n] = sympy.factor(a * b)
                sa, sb = ps.sign(a), ps.sign(b)
                signs[n + 1] = (sa, sb)
                a_ok &= sa >= 0 or sb >= 0
                c_ok &= sa * sb >= 0
                m_ok &= (sa * sb == 0) or (sa > 0 and sb > 0)
                s_ok &= sa >= 0 and sb >= 0
            why = "unique multipliers; signs of (μ¹_n, μ²_n) on the biactive set: " + (
                ", ".join(f"n={n}: {s}" for n, s in signs.items()) or "empty set"
            )
            for k, ok in (("A", a_ok), ("C", c_ok), ("M", m_ok), ("S", s_ok)):
                verdicts[k] = Verdict.from_bool(ok, why)
    # KKT of (PP), limiting subdifferential of -beta*sigma at u_n = 0: {-beta, -alpha*beta}
    kkt: list[tuple[tuple, sympy.Expr, sympy.Expr]] = []
    options = []
    for n in range(N):
        s = ps.sign(u[n])
        if s > 0:
            options.append((-beta,))
        elif s < 0:
            options.append((-alpha * beta,))
        else:
            options.append((-beta, -alpha * beta))
    for choice in itertools.product(*options):
        eqs = [e.subs(dict(zip(zeta, choice, strict=True))) for e in system(True)]
        s = _lin(eqs, unknowns)
        if s is None:
            continue
        if set().union(*[sympy.sympify(e).free_symbols for e in s.values()]) & set(unknowns):
            raise Undetermined("KKT multipliers of (PP) not unique; β-range not derived")
        lo, hi = sympy.Integer(0), sympy.oo
        feasible_choice = True
        for m in list(mu1) + list(mu2):
            expr = sympy.expand(s[m])
            d = sympy.diff(expr, beta)
            c = sympy.expand(expr - d * beta)
            sd = ps.sign(d)
            if sd == 0:
                if ps.sign(c) < 0:
                    feasible_choice = False
            elif sd > 0:
                bound = sympy.factor(-c / d)
                lo = bound if ps.sign(bound - lo) > 0 else lo
            else:
                bound = sympy.factor(-c / d)
                hi = bound if hi == sympy.oo or ps.sign(hi - bound) > 0 else hi
        if feasible_choice and (hi == sympy.oo or ps.sign(hi - lo) >= 0):
            kkt.append((choice, lo, hi))
    return LiftedResult(u, v, r, biactive, sol, w_free, verdicts, products, kkt)


def kkt_feasible_at(
    xs: Sequence[Any], ys: Sequence[Any], point: Sequence[Any], alpha_value: Any, beta_value: Any
) -> bool:
    """Independent check: is the lifted point a KKT point of (PP) for these exact α, β? (exact LP)."""
    a = sympy.Rational(alpha_value)
    bt = sympy.Rational(beta_value)
    w1, w2, b1, b2 = (sympy.Rational(p) for p in point)
    N = len(xs)
    u = [w1 * x + b1 for x in xs]
    v = [un if un >= 0 else a * un for un in u]
    r = [w2 * vn + b2 - y for vn, y in zip(v, ys, strict=True)]
    if sum(2 * r[n] * v[n] for n in range(N)) != 0 or sum(2 * rn for rn in r) != 0:
        return False
    opts = [(-bt,) if un > 0 else (-a * bt,) if un < 0 else (-bt, -a * bt) for un in u]
    # unknowns z = (mu1 (N), mu2 (N), xi (N)); mu >= 0
    for choice in itertools.product(*opts):
        M = [[int(i == j) for j in range(3 * N)] for i in range(2 * N)]
        E, e = [], []
        E.append([0] * (2 * N) + list(xs))
        e.append(0)
        E.append([0] * (2 * N) + [1] * N)
        e.append(0)
        for n in range(N):
            row = [0] * (3 * N)
            row[n], row[N + n] = -1, -1
            E.append(row)
            e.append(-(2 * r[n] * w2 + bt))
            row = [0] * (3 * N)
            row[n], row[N + n], row[2 * N + n] = 1, a, 1
            E.append(row)
            e.append(-choice[n])
            if v[n] - u[n] > 0:
                E.append([int(j == n) for j in range(3 * N)])
                e.append(0)
            if v[n] - a * u[n] > 0:
                E.append([int(j == N + n) for j in range(3 * N)])
                e.append(0)
        if feasible(M, [0] * (2 * N), E, e, n=3 * N).feasible:
            return True
    return False


def certificates_crosscheck(
    xs: Sequence[Any], ys: Sequence[Any], point: Sequence[Any], alpha_value: Any, beta_value: Any
) -> dict[str, dict[str, str]]:
    """The same questions asked to :mod:`ialam_verify.stationarity` (floating point, tolerances).

    Returns ``{"P": verdicts of classify on (P) as an MPCC, "PP": verdicts on (PP) as an NLP with the
    kink terms -beta*sigma(u_n)}``; used to cross-check :func:`lifted_analysis`.
    """
    from ialam_verify.stationarity import MPCC, classify

    a = sympy.Rational(alpha_value)
    bt = sympy.Rational(beta_value)
    N = len(xs)
    w1, w2, b1, b2 = sympy.symbols("w1 w2 b1 b2")
    vs = sympy.symbols(f"v0:{N}")
    us = sympy.symbols(f"u0:{N}")
    var = [w1, w2, b1, b2, *vs, *us]
    pw1, pw2, pb1, pb2 = (sympy.Rational(p) for p in point)
    pu = [pw1 * x + pb1 for x in xs]
    pv = [un if un >= 0 else a * un for un in pu]
    at = dict(zip(var, [pw1, pw2, pb1, pb2, *pv, *pu], strict=True))
    loss = sum((w2 * vs[n] + b2 - ys[n]) ** 2 for n in range(N))
    h = [us[n] - w1 * xs[n] - b1 for n in range(N)]
    P = MPCC.from_sympy(
        loss,
        var,
        at,
        h=h,
        G=[vs[n] - us[n] for n in range(N)],
        H=[vs[n] - a * us[n] for n in range(N)],
    )
    smooth = MPCC.from_sympy(
        loss + bt * sum(vs),
        var,
        at,
        g=[vs[n] - us[n] for n in range(N)] + [vs[n] - a * us[n] for n in range(N)],
        h=h,
    )
    import numpy as np

    T = np.zeros((N, len(var)))
    for n in range(N):
        T[n, 4 + N + n] = 1.0
    PP = MPCC.create(
        smooth.grad_f,
        g=smooth.g,
        Jg=smooth.Jg,
        h=smooth.h,
        Jh=smooth.Jh,
        kink_t=[float(u) for u in pu],
        T=T,
        kink_coef=-float(bt),
        slope_neg=float(a),
        slope_pos=1.0,
        names=[str(v) for v in var],
    )
    return {"P": classify(P).verdicts(), "PP": classify(PP).verdicts()}
