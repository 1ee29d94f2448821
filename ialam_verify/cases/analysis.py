r"""Exact first-order nonsmooth analysis of a piecewise-smooth sympy expression at a point.

``analyze(f, variables, point)`` takes any expression built from smooth sympy operations and the kinks
``max``, ``min``, ``Abs``, ``relu`` and ``leaky_relu`` (:mod:`ialam_verify.cases.functions`), and returns
an :class:`Analysis` whose attributes are computed lazily and exactly (rational arithmetic, or rational
functions of one symbolic parameter such as :math:`\alpha` under an interval assumption).

Method (notation: :math:`x` the point, :math:`s_k` the switching function of kink :math:`k`, i.e. the
argument of ``relu``/``leaky_relu``/``Abs`` or :math:`a - b` for ``max(a, b)``/``min(a, b)``):

1. *Active kinks*: :math:`s_k(x) = 0` (signs decided in topological order, inner kinks first).
2. *Activation patterns* :math:`p \in \{+,-\}^K` of the :math:`K` active kinks; each pattern gives a
   smooth *selection* :math:`f_p`. Pattern :math:`p` is *essentially active* iff its region
   :math:`\{y : p_k s_k^{(p)}(y) > 0\}` meets every neighbourhood of :math:`x` in an open set. With
   :math:`L_k = \nabla s_k^{(p)}(x)` this is decided by the exact LP
   :math:`\{d : p_k L_k^T d \ge 1\}` (a strictly feasible direction, or a Farkas certificate).
3. *Clarke*: :math:`\partial^C f(x) = \mathrm{co}\{\nabla f_p(x) : p \text{ essentially active}\}`.
4. *Directional derivative*: :math:`f'(x; d) = \frac{d}{dt} f_{p(d)}(x + t d)|_{t=0^+}` where the
   selection along the ray is found from the leading Taylor coefficients of :math:`s_k(x + t d)`.
5. *Fréchet*: with :math:`C_p = \{d : p_k L_k^T d \ge 0\}`,
   :math:`\hat\partial f(x) = \{g : g^T r \le \nabla f_p(x)^T r\ \forall p,\ \forall r \in \mathrm{gen}(C_p)\}`
   (generators: extreme rays and :math:`\pm` a lineality basis); a polytope, enumerated exactly.
6. *Limiting*: for every face :math:`F` (sign vector in :math:`\{-,0,+\}^K` whose relatively open cone
   is nonempty), points :math:`y \in x + F` near :math:`x` see the patterns :math:`p \succeq F` with local
   cones :math:`T_p(F) = \{d : p_k L_k^T d \ge 0,\ k : F_k = 0\}`. The Fréchet set there is
   :math:`P_F(y) = \{g : g^T r \le \nabla f_p(y)^T r\ \forall p \succeq F, r \in \mathrm{gen}(T_p(F))\}` and
   :math:`\partial f(x) = \bigcup_F \lim_{y \to x} P_F(y)`.

Where each computation is exact (see ``docs/cases.md``):

- kinks whose switching functions are affine under every selection ("PA kinks"): steps 1-5 exact;
- step 6 exact when in addition every selection is affine (then :math:`P_F(y) = P_F(x)`), or when every
  nonempty :math:`P_F(x)` has nonempty interior in its affine hull :math:`\{g: g^T\ell = c_\ell\}`
  (stability: then :math:`P_F(y) \to P_F(x)`); otherwise that face is reported *undetermined* and only
  the outer estimate :math:`\bigcup_F P_F(x)` (always a superset) is used, e.g. to prove
  non-stationarity;
- non-affine switching functions: patterns found essentially active by the first-order LP are
  essentially active (sound), but an empty first-order cone decides nothing, so the Clarke, Fréchet and
  limiting sets are *undetermined*; the directional derivatives and the AD values stay exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import sympy

from .functions import Max2, Min2, binarize, leaky_relu, relu
from .lp import feasible
from .params import ParamSpace, Undetermined

KINKS = (relu, leaky_relu, sympy.Abs, Max2, Min2)
UNSUPPORTED = (sympy.Piecewise, sympy.Heaviside, sympy.sign, sympy.floor, sympy.ceiling)

Vector = tuple[sympy.Expr, ...]


# --------------------------------------------------------------------------- small exact linear algebra
def _vec(xs: Iterable) -> Vector:
    return tuple(sympy.sympify(x) for x in xs)


def _dot(a: Sequence, b: Sequence) -> sympy.Expr:
    return sympy.expand(sum((x * y for x, y in zip(a, b, strict=True)), sympy.Integer(0)))


def _simp(e: sympy.Expr) -> sympy.Expr:
    e = sympy.cancel(sympy.together(e))
    return sympy.expand(e) if e.is_polynomial() else e


def _is_rational_vec(v: Sequence) -> bool:
    return all(sympy.sympify(x).is_Rational for x in v)


def _normalize_ray(v: Sequence[sympy.Expr]) -> Vector:
    """Scale a rational vector to coprime integers (positive scaling only)."""
    fr = [Fraction(int(x.p), int(x.q)) for x in v]
    den = 1
    for x in fr:
        den = den * x.denominator // sympy.igcd(den, x.denominator)
    ints = [int(x * den) for x in fr]
    g = 0
    for x in ints:
        g = sympy.igcd(g, abs(x))
    g = g or 1
    return tuple(sympy.Integer(x // g) for x in ints)


def cone_generators(
    rows: Sequence[Sequence[sympy.Expr]], n: int
) -> tuple[list[Vector], list[Vector]]:
    r"""Generators of :math:`C = \{d \in \mathbb{Q}^n : A d \ge 0\}`: (extreme rays, lineality basis).

    :math:`C = \mathrm{cone}(\text{rays}) + \mathrm{span}(\text{lineality})`. Rays are found by brute force:
    in :math:`\mathrm{row}(A)`, every extreme ray is cut out by :math:`\mathrm{rank}(A) - 1` independent
    tight rows; each candidate is kept with the sign that satisfies :math:`A d \ge 0`.
    """
    A = sympy.Matrix([list(r) for r in rows]) if rows else sympy.zeros(0, n)
    if A.rows and not all(x.is_Rational for x in A):
        raise Undetermined("cone generators need rational switching gradients")
    lin = (
        [tuple(v) for v in A.nullspace()]
        if A.rows
        else [tuple(sympy.Integer(int(i == j)) for j in range(n)) for i in range(n)]
    )
    lin = [_normalize_ray(v) for v in lin]
    rank = A.rank() if A.rows else 0
    rays: list[Vector] = []
    if rank == 0:
        return rays, lin
    N = sympy.Matrix([list(v) for v in lin]) if lin else sympy.zeros(0, n)
    for S in itertools.combinations(range(A.rows), rank - 1):
        sub = A.extract(list(S), list(range(n))) if S else sympy.zeros(0, n)
        if S and sub.rank() != rank - 1:
            continue
        system = sub.col_join(N) if N.rows else sub
        ns = system.nullspace() if system.rows else [sympy.eye(n)[:, i] for i in range(n)]
        if len(ns) != 1:
            continue
        d = ns[0]
        for sgn in (1, -1):
            cand = sgn * d
            if all(x >= 0 for x in A * cand):
                r = _normalize_ray(list(cand))
                if r not in rays:
                    rays.append(r)
    return rays, lin


# --------------------------------------------------------------------------- sets
@dataclass(frozen=True)
class Polytope:
    """The convex hull of finitely many points (exact; may depend on a symbolic parameter)."""

    vertices: tuple[Vector, ...]

    @property
    def empty(self) -> bool:
        return not self.vertices

    def _vertex_strings(self, printer) -> list[str]:
        vs = list(self.vertices)
        if vs and len(vs[0]) == 1 and all(v[0].is_Rational for v in vs):
            vs = sorted(vs, key=lambda v: v[0])
        if vs and len(vs[0]) == 1:
            return [printer._print(v[0]) for v in vs]
        return ["(" + ", ".join(printer._print(x) for x in v) + ")" for v in vs]

    def _sympystr(self, printer) -> str:
        vs = self._vertex_strings(printer)
        if not vs:
            return "∅"
        if len(vs) == 1:
            return "{" + vs[0] + "}"
        if len(vs) == 2:
            return "[" + vs[0] + ", " + vs[1] + "]"
        return "conv{" + ", ".join(vs) + "}"

    def __str__(self) -> str:
        return sympy.sstr(self)

    def _latex(self, printer) -> str:
        vs = [printer._print(sympy.Matrix(v).T) for v in self.vertices]
        if not vs:
            return r"\emptyset"
        if len(vs) == 1:
            return r"\left\{" + vs[0] + r"\right\}"
        if len(vs) == 2:
            return r"\left[" + vs[0] + ", " + vs[1] + r"\right]"
        return r"\mathrm{co}\left\{" + ", ".join(vs) + r"\right\}"

    def to_json(self) -> Any:
        return [[str(x) for x in v] for v in self.vertices]


@dataclass(frozen=True)
class PolyUnion:
    """A finite union of polytopes (the limiting subdifferential)."""

    pieces: tuple[Polytope, ...]

    @property
    def empty(self) -> bool:
        return all(p.empty for p in self.pieces)

    def _sympystr(self, printer) -> str:
        pieces = [p for p in self.pieces if not p.empty]
        points = [p for p in pieces if len(p.vertices) == 1]
        others = [printer._print(p) for p in pieces if len(p.vertices) > 1]
        if points:
            merged = Polytope(tuple(p.vertices[0] for p in points))
            others.append("{" + ", ".join(merged._vertex_strings(printer)) + "}")
        return " ∪ ".join(others) if others else "∅"

    def __str__(self) -> str:
        return sympy.sstr(self)

    def _latex(self, printer) -> str:
        ps = [printer._print(p) for p in self.pieces if not p.empty]
        return r" \cup ".join(ps) if ps else r"\emptyset"

    def to_json(self) -> Any:
        return [p.to_json() for p in self.pieces if not p.empty]


def hull_membership(q: Sequence, points: Sequence[Sequence], ps: ParamSpace) -> tuple[bool, dict]:
    r"""Decide :math:`q \in \mathrm{co}(V)` exactly, with a certificate.

    Rational data: exact LP. Symbolic parameter: the LP is solved at rational samples; a separating
    vector :math:`w` (with :math:`w^T (q - v_i) > 0\ \forall i`) is verified for every parameter value by
    exact sign decisions, and a convex combination is re-solved symbolically on the sample's support and
    its weights verified nonnegative on the whole interval. Raises :class:`Undetermined` otherwise.
    """
    q = _vec(q)
    V = [_vec(v) for v in points]
    if not V:
        return False, {"reason": "empty set"}
    n = len(q)

    def at(expr, a):
        return expr.subs(ps.symbol, a) if ps.symbolic else expr

    samples = ps.samples(3) if ps.symbolic else [None]
    for a in samples:
        Vs = [[at(x, a) for x in v] for v in V]
        qs = [at(x, a) for x in q]
        m = len(V)
        M = [[int(i == j) for j in range(m)] for i in range(m)]
        E = [[Vs[j][i] for j in range(m)] for i in range(n)] + [[1] * m]
        e = qs + [1]
        res = feasible(M, [0] * m, E, e, n=m)
        if res.feasible:
            lam = [sympy.Rational(x.numerator, x.denominator) for x in res.point]
            if not ps.symbolic:
                return True, {"weights": tuple(lam)}
            support = [j for j in range(m) if lam[j] != 0]
            syms = sympy.symbols(f"lam0:{len(support)}")
            eqs = [sum(syms[k] * V[j][i] for k, j in enumerate(support)) - q[i] for i in range(n)]
            eqs.append(sum(syms) - 1)
            sol = sympy.solve(eqs, syms, dict=True)
            if len(sol) != 1:
                continue
            s = sol[0]
            # free weights (degenerate support): fix them at the sample's values
            vals = [s.get(sy, lam[j]) for sy, j in zip(syms, support, strict=True)]
            vals = [
                _simp(
                    sympy.sympify(v).subs({sy: lam[j] for sy, j in zip(syms, support, strict=True)})
                )
                for v in vals
            ]
            try:
                ok = (
                    all(ps.sign(v) >= 0 for v in vals)
                    and all(
                        ps.is_zero(sum(vals[k] * V[j][i] for k, j in enumerate(support)) - q[i])
                        for i in range(n)
                    )
                    and ps.is_zero(sum(vals) - 1)
                )
            except Undetermined:
                continue
            if ok:
                w = [sympy.Integer(0)] * m
                for k, j in enumerate(support):
                    w[j] = vals[k]
                return True, {"weights": tuple(w)}
        else:
            v = [sympy.Rational(x.numerator, x.denominator) for x in res.farkas_v]
            # alternative: u = -E^T v >= 0 and e.v = 1, i.e. v_j.w + w0 <= 0 and q.w + w0 = 1,
            # so w = (v_1, ..., v_n) has w.(q - v_j) >= 1 for every j
            w = tuple(v[:n])
            try:
                ok = all(
                    ps.sign(_dot(w, [qi - vi for qi, vi in zip(q, vv, strict=True)])) > 0
                    for vv in V
                )
            except Undetermined:
                ok = False
            if ok:
                return False, {"separator": w}
    raise Undetermined(
        f"could not certify whether {sympy.sstr(q)} lies in the hull for every {ps.describe()}"
    )


def polytope_from_inequalities(
    E: Sequence[Vector],
    e: Sequence[sympy.Expr],
    R: Sequence[Vector],
    c: Sequence[sympy.Expr],
    n: int,
    ps: ParamSpace,
) -> tuple[Polytope, int]:
    r"""Vertices of :math:`\{g : E g = e,\ R g \le c\}` (bounded), and the dimension of its affine hull.

    ``E`` and ``R`` must be rational; ``e`` and ``c`` may depend on the parameter (every feasibility
    test is an exact sign decision over the whole interval).
    """
    Em = sympy.Matrix([list(r) for r in E]) if E else sympy.zeros(0, n)
    if E:
        sol = sympy.linsolve((Em, sympy.Matrix(list(e))))
        if sol == sympy.EmptySet:
            return Polytope(()), -1
        (gen,) = list(sol)
        free = sorted(
            set().union(*[sympy.sympify(x).free_symbols for x in gen])
            - ({ps.symbol} if ps.symbol else set()),
            key=str,
        )
        free = [s for s in free if s.name.startswith("tau")]
        g0 = [sympy.sympify(x).subs({s: 0 for s in free}) for x in gen]
        Nm = [[sympy.diff(x, s) for s in free] for x in gen]
        k = len(free)
    else:
        g0 = [sympy.Integer(0)] * n
        Nm = [[sympy.Integer(int(i == j)) for j in range(n)] for i in range(n)]
        k = n
    rows = []
    for r, ci in zip(R, c, strict=True):
        rn = [_dot(r, [Nm[i][j] for i in range(n)]) for j in range(k)]
        rhs = _simp(ci - _dot(r, g0))
        if all(x == 0 for x in rn):
            if ps.sign(rhs) < 0:
                return Polytope(()), -1
            continue
        if (tuple(rn), rhs) not in rows:
            rows.append((tuple(rn), rhs))
    verts: list[Vector] = []

    def add(z):
        g = tuple(_simp(g0[i] + sum(Nm[i][j] * z[j] for j in range(k))) for i in range(n))
        for v in verts:
            if all(ps.is_zero(a - b) for a, b in zip(v, g, strict=True)):
                return
        verts.append(g)

    if k == 0:
        add([])
    else:
        for S in itertools.combinations(range(len(rows)), k):
            A = sympy.Matrix([list(rows[i][0]) for i in S])
            if A.det() == 0:
                continue
            z = list(A.LUsolve(sympy.Matrix([rows[i][1] for i in S])))
            z = [_simp(x) for x in z]
            if all(ps.sign(rhs - _dot(rn, z)) >= 0 for rn, rhs in rows):
                add(z)
    if not verts:
        return Polytope(()), -1
    if len(verts) == 1:
        dim = 0
    else:
        base = verts[0]
        D = sympy.Matrix([[_simp(a - b) for a, b in zip(v, base, strict=True)] for v in verts[1:]])
        dim = D.rank(simplify=True)
    return Polytope(tuple(verts)), dim


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Verdict:
    """A yes/no answer with its certificate, or ``value=None`` ("undetermined") with the reason."""

    value: bool | None
    certificate: str

    def __str__(self) -> str:
        return {True: "yes", False: "no", None: "undetermined"}[self.value]


@dataclass(frozen=True)
class RayWitness:
    r"""Along :math:`x + t d`, for :math:`0 < t < t_0`: :math:`f(x + t d) - f(x) = \Delta(t)`."""

    direction: Vector
    decrease: sympy.Expr  # Delta(t)
    t: sympy.Symbol
    t0: sympy.Expr | None  # None: only "for all small t > 0" is claimed

    def __str__(self) -> str:
        if self.t0 is None:
            tail = " for all small t > 0"
        elif self.t0 == sympy.oo:
            tail = " for all t > 0"
        else:
            tail = f" for 0 < t < {self.t0}"
        return (
            f"f(x + t·{sympy.sstr(tuple(self.direction))}) - f(x) = {math_str(self.decrease)}{tail}"
        )


T = sympy.Symbol("t", positive=True)

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def math_str(x: Any) -> str:
    """``sympy.sstr`` written the way a mathematician would: ``2·α - 4``, ``5·t² - 2·t + 2``."""
    import re

    text = x if isinstance(x, str) else sympy.sstr(x)
    text = re.sub(r"\*\*(-?\d+)", lambda m: m.group(1).translate(_SUPERSCRIPTS), text)
    return text.replace("*", "·")


def _as_rational(name: str, x: Any) -> sympy.Expr:
    if isinstance(x, float):
        raise ValueError(
            f"{name} must be exact (int, Fraction, sympy Rational or string); got float {x!r}"
        )
    if isinstance(x, Fraction):
        return sympy.Rational(x.numerator, x.denominator)
    try:
        v = sympy.sympify(x)
    except (sympy.SympifyError, TypeError) as exc:
        raise ValueError(f"{name} must be an exact number; got {x!r}") from exc
    if not v.is_Rational:
        raise ValueError(f"{name} must be rational; got {x!r}")
    return v


class Analysis:
    """Lazy exact analysis of ``f`` at ``point``; see the module docstring for the method."""

    def __init__(
        self,
        f: sympy.Expr,
        variables: Sequence[sympy.Symbol],
        point: Sequence[Any],
        params: dict[sympy.Symbol, Any] | None = None,
    ) -> None:
        if not isinstance(f, sympy.Expr):
            try:
                f = sympy.sympify(f)
            except (sympy.SympifyError, TypeError) as exc:
                raise ValueError(f"f must be a sympy expression; got {type(f).__name__}") from exc
        variables = list(variables)
        if not variables or not all(isinstance(v, sympy.Symbol) for v in variables):
            raise ValueError("variables must be a nonempty sequence of sympy Symbols")
        if len(set(variables)) != len(variables):
            raise ValueError("variables must be distinct")
        if len(point) != len(variables):
            raise ValueError(
                f"point must have {len(variables)} entries (one per variable); got {len(point)}"
            )
        point = [_as_rational(f"point[{i}]", x) for i, x in enumerate(point)]
        params = dict(params or {})
        symbol, interval, subs = None, None, {}
        for s, val in params.items():
            if not isinstance(s, sympy.Symbol):
                raise ValueError(f"params keys must be sympy Symbols; got {s!r}")
            if isinstance(val, sympy.Interval):
                if symbol is not None:
                    raise ValueError(
                        "params: at most one symbolic parameter (an Interval) is supported"
                    )
                symbol, interval = s, val
            else:
                subs[s] = _as_rational(f"params[{s}]", val)
        for node in sympy.preorder_traversal(f):
            if isinstance(node, UNSUPPORTED):
                raise ValueError(
                    f"f contains {type(node).__name__}, which analyze does not support"
                )
        f = binarize(f).subs(subs)
        extra = f.free_symbols - set(variables) - ({symbol} if symbol else set())
        if extra:
            raise ValueError(
                f"f has symbols {sorted(map(str, extra))} that are neither variables nor params"
            )
        self.f = f
        self.variables = variables
        self.point = tuple(point)
        self.ps = ParamSpace(symbol, interval)
        self.params = params
        self.n = len(variables)
        self._xsubs = dict(zip(variables, point, strict=True))
        self._sel_cache: dict = {}

    # ---------------------------------------------------------------- structure
    @cached_property
    def kinks(self) -> list[sympy.Expr]:
        """Kink nodes of ``f``, inner kinks first."""
        nodes = {n for n in sympy.preorder_traversal(self.f) if isinstance(n, KINKS)}

        def depth(n):
            return sum(1 for m in sympy.preorder_traversal(n) if isinstance(m, KINKS))

        return sorted(nodes, key=lambda n: (depth(n), sympy.default_sort_key(n)))

    @staticmethod
    def switch(node: sympy.Expr) -> sympy.Expr:
        """Switching function: the argument of relu/leaky_relu/Abs, or ``a - b`` for max/min."""
        if isinstance(node, (Max2, Min2)):
            return node.args[0] - node.args[1]
        return node.args[0]

    @staticmethod
    def branch(node: sympy.Expr, s: int, args: Sequence[sympy.Expr]) -> sympy.Expr:
        """The smooth branch of ``node`` on the side ``s`` of its switch (``s = 0`` takes ``+``)."""
        plus = s >= 0
        if isinstance(node, relu):
            return args[0] if plus else sympy.Integer(0)
        if isinstance(node, leaky_relu):
            return args[0] if plus else args[1] * args[0]
        if isinstance(node, sympy.Abs):
            return args[0] if plus else -args[0]
        if isinstance(node, Max2):
            return args[0] if plus else args[1]
        if isinstance(node, Min2):
            return args[1] if plus else args[0]
        raise TypeError(node)  # pragma: no cover

    def select(self, expr: sympy.Expr, signs: dict) -> sympy.Expr:
        """Replace every kink by its branch according to ``signs`` (a complete sign assignment)."""
        key = (expr, frozenset(signs.items()))
        if key in self._sel_cache:
            return self._sel_cache[key]
        if not expr.args:
            out = expr
        else:
            args = [self.select(a, signs) for a in expr.args]
            if isinstance(expr, KINKS):
                out = self.branch(expr, signs[expr], args)
            else:
                out = expr.func(*args)
        self._sel_cache[key] = out
        return out

    @cached_property
    def base_signs(self) -> dict:
        """Sign of every switching function at the point (0 for active kinks)."""
        signs: dict = {}
        for k in self.kinks:
            val = self.select(
                self.switch(k), {**signs, **{m: 0 for m in self.kinks if m not in signs}}
            )
            val = _simp(val.subs(self._xsubs))
            signs[k] = self.ps.sign(val)
        return signs

    @cached_property
    def active(self) -> list[sympy.Expr]:
        """Kinks active at the point: :math:`s_k(x) = 0`."""
        return [k for k in self.kinks if self.base_signs[k] == 0]

    def signs_for(self, pattern: Sequence[int]) -> dict:
        return {**self.base_signs, **dict(zip(self.active, pattern, strict=True))}

    def _grad_at_x(self, expr: sympy.Expr) -> Vector:
        return tuple(_simp(sympy.diff(expr, v).subs(self._xsubs)) for v in self.variables)

    def switch_gradient(self, k: sympy.Expr, pattern: Sequence[int]) -> Vector:
        """:math:`L_k = \\nabla s_k^{(p)}(x)`: gradient of kink ``k``'s switch under pattern ``p``."""
        return self._grad_at_x(self.select(self.switch(k), self.signs_for(pattern)))

    @cached_property
    def pa_kinks(self) -> bool:
        """Are all switching functions affine in the variables under every selection?"""
        for p in itertools.product((1, -1), repeat=len(self.active)):
            for k in self.kinks:
                s = self.select(self.switch(k), self.signs_for(p))
                try:
                    if sympy.Poly(s, *self.variables).total_degree() > 1:
                        return False
                except sympy.PolynomialError:
                    return False
        return True

    @cached_property
    def affine_selections(self) -> bool:
        for p in itertools.product((1, -1), repeat=len(self.active)):
            try:
                if sympy.Poly(self.selection(p), *self.variables).total_degree() > 1:
                    return False
            except sympy.PolynomialError:
                return False
        return True

    def selection(self, pattern: Sequence[int]) -> sympy.Expr:
        """The smooth selection :math:`f_p` (all kinks replaced by their branch)."""
        return self.select(self.f, self.signs_for(pattern))

    def _cone_nonempty(self, ineq: Sequence[Vector], eq: Sequence[Vector]) -> tuple[bool, str]:
        """Is :math:`\\{d : a^T d > 0\\ (a \\in ineq),\\ b^T d = 0\\ (b \\in eq)\\}` nonempty? Exact."""
        ps = self.ps
        samples = ps.samples(3) if ps.symbolic else [None]
        for a in samples:

            def at(x, a=a):
                return x.subs(ps.symbol, a) if a is not None else x

            M = [[at(x) for x in r] for r in ineq]
            E = [[at(x) for x in r] for r in eq]
            res = feasible(M, [1] * len(M), E, [0] * len(E), n=self.n)
            if res.feasible:
                d = [sympy.Rational(x.numerator, x.denominator) for x in res.point]
                try:
                    ok = all(ps.sign(_dot(r, d)) > 0 for r in ineq) and all(
                        ps.is_zero(_dot(r, d)) for r in eq
                    )
                except Undetermined:
                    ok = False
                if ok:
                    return True, f"d = {sympy.sstr(tuple(d))}"
            else:
                u = [sympy.Rational(x.numerator, x.denominator) for x in res.farkas_u]
                v = [sympy.Rational(x.numerator, x.denominator) for x in res.farkas_v]
                comb = [
                    _simp(
                        sum(u[i] * ineq[i][j] for i in range(len(ineq)))
                        + sum(v[i] * eq[i][j] for i in range(len(eq)))
                    )
                    for j in range(self.n)
                ]
                if all(ps.is_zero(c) for c in comb) and sum(u) > 0:
                    return False, f"Farkas u = {sympy.sstr(tuple(u))}, v = {sympy.sstr(tuple(v))}"
        raise Undetermined("cone feasibility could not be certified for every parameter value")

    @cached_property
    def patterns(self) -> list[tuple[tuple[int, ...], bool | None, str]]:
        """Every pattern with (essentially active?, certificate). ``None``: undetermined."""
        out = []
        for p in itertools.product((1, -1), repeat=len(self.active)):
            rows = []
            duplicate = False
            for k, pk in zip(self.active, p, strict=True):
                L = self.switch_gradient(k, p)
                if self.pa_kinks and all(self.ps.is_zero(x) for x in L):
                    # affine switch with zero gradient: identically 0 on this region, both branches
                    # agree there; the '+' pattern represents it, the '-' one is a duplicate
                    duplicate = duplicate or pk < 0
                    continue
                rows.append(tuple(pk * x for x in L))
            if duplicate:
                out.append(
                    (p, False, "duplicate: a switch vanishes identically here (see the + pattern)")
                )
                continue
            try:
                ok, cert = self._cone_nonempty(rows, [])
            except Undetermined as exc:
                out.append((p, None, str(exc)))
                continue
            if not ok and not self.pa_kinks:
                out.append(
                    (p, None, f"first-order cone empty ({cert}) but switches are not affine")
                )
                continue
            out.append((p, ok, cert))
        return out

    @cached_property
    def essential(self) -> list[tuple[int, ...]]:
        return [p for p, ok, _ in self.patterns if ok]

    @cached_property
    def structure_exact(self) -> bool:
        return all(ok is not None for _, ok, _ in self.patterns)

    def gradient(self, pattern: Sequence[int]) -> Vector:
        """:math:`\\nabla f_p(x)`."""
        return self._grad_at_x(self.selection(pattern))

    @cached_property
    def gradients(self) -> dict[tuple[int, ...], Vector]:
        return {p: self.gradient(p) for p in self.essential}

    # ---------------------------------------------------------------- values
    @cached_property
    def value(self) -> sympy.Expr:
        return _simp(self.selection((1,) * len(self.active)).subs(self._xsubs))

    # ---------------------------------------------------------------- ray analysis
    def ray(self, d: Sequence[Any]) -> tuple[sympy.Expr, dict]:
        """Selection along :math:`x + t d` for small :math:`t > 0`: returns (:math:`f(x+td)`, signs)."""
        d = [_as_rational(f"d[{i}]", x) for i, x in enumerate(d)]
        if len(d) != self.n:
            raise ValueError(f"d must have {self.n} entries; got {len(d)}")
        path = {v: xi + T * di for v, xi, di in zip(self.variables, self.point, d, strict=True)}
        signs: dict = {}
        for k in self.kinks:
            s = self.select(
                self.switch(k), {**signs, **{m: 0 for m in self.kinks if m not in signs}}
            )
            st = sympy.expand(s.subs(path))
            signs[k] = self._small_t_sign(st)
        return self.select(self.f, signs).subs(path), signs

    def _small_t_sign(self, st: sympy.Expr) -> int:
        if self.ps.is_zero(st):
            return 0
        if st.is_polynomial(T):
            for (_deg,), coeff in sorted(sympy.Poly(st, T).terms(), key=lambda m: m[0][0]):
                if not self.ps.is_zero(coeff):
                    return self.ps.sign(coeff)
            return 0  # pragma: no cover
        lead = sympy.series(st, T, 0, 8).removeO()
        if lead == 0:  # pragma: no cover - would need higher order
            raise Undetermined(f"switch {st} vanishes to order 8 along the ray")
        lead = sympy.Poly(sympy.expand(lead), T)
        terms = sorted(lead.terms(), key=lambda m: m[0][0])
        for (_deg,), coeff in terms:
            if not self.ps.is_zero(coeff):
                return self.ps.sign(coeff)
        return 0  # pragma: no cover

    def directional_derivative(self, d: Sequence[Any]) -> sympy.Expr:
        """:math:`f'(x; d) = \\lim_{t \\downarrow 0} (f(x + t d) - f(x)) / t`, exact."""
        fr, _ = self.ray(d)
        return _simp(sympy.diff(fr, T).subs(T, 0))

    def ray_witness(self, d: Sequence[Any]) -> RayWitness:
        """:math:`f(x + t d) - f(x)` as an exact expression valid for small :math:`t > 0`."""
        fr, signs = self.ray(d)
        delta = sympy.expand(fr - self.value)
        t0 = None
        if not self.ps.symbolic:
            cands = []
            path = {
                v: xi + T * sympy.sympify(di)
                for v, xi, di in zip(self.variables, self.point, d, strict=True)
            }
            exprs = [delta] + [
                sympy.expand(self.select(self.switch(k), signs).subs(path)) for k in self.kinks
            ]
            try:
                for e in exprs:
                    if e == 0:
                        continue
                    for r in sympy.real_roots(sympy.Poly(e, T)):
                        if r > 0:
                            cands.append(r)
                t0 = min(cands) if cands else sympy.oo
            except (sympy.PolynomialError, NotImplementedError):
                t0 = None
        return RayWitness(tuple(sympy.sympify(x) for x in d), delta, T, t0)

    # ---------------------------------------------------------------- faces and Fréchet sets
    @cached_property
    def faces(self) -> list[tuple[int, ...]]:
        """Sign vectors in {-1,0,1}^K whose relatively open cone is nonempty (exact LP)."""
        return list(self.face_directions)

    @cached_property
    def face_directions(self) -> dict[tuple[int, ...], str]:
        """Each realizable face with its certificate (a direction in its relatively open cone)."""
        out = {}
        for s in itertools.product((1, -1, 0), repeat=len(self.active)):
            p = tuple(x if x != 0 else 1 for x in s)
            L = {k: self.switch_gradient(k, p) for k in self.active}
            ineq = [
                tuple(sk * x for x in L[k]) for k, sk in zip(self.active, s, strict=True) if sk != 0
            ]
            eq = [L[k] for k, sk in zip(self.active, s, strict=True) if sk == 0]
            ok, cert = self._cone_nonempty(ineq, eq)
            if ok:
                out[s] = cert
        return out

    def _face_constraints(self, face: Sequence[int]):
        zero = [k for k, sk in zip(self.active, face, strict=True) if sk == 0]
        star = [
            p
            for p in self.essential
            if all(sk == 0 or sk == pk for sk, pk in zip(face, p, strict=True))
        ]
        E, e, R, c = [], [], [], []
        for p in star:
            rows = []
            for k in zero:
                pk = p[self.active.index(k)]
                rows.append(tuple(pk * x for x in self.switch_gradient(k, p)))
            rays, lin = cone_generators(rows, self.n)
            g = self.gradients[p]
            for r in rays:
                R.append(r)
                c.append(_dot(g, r))
            for ell in lin:
                E.append(ell)
                e.append(_dot(g, ell))
        return star, E, e, R, c

    def face_set(self, face: Sequence[int]) -> tuple[Polytope, bool]:
        """(:math:`P_F(x)`, exact?) for the face ``F`` (see module docstring, step 6)."""
        star, E, e, R, c = self._face_constraints(face)
        # consistency of equalities (continuity of f makes them consistent; check anyway)
        P, dim = polytope_from_inequalities(E, e, R, c, self.n, self.ps)
        if P.empty or self.affine_selections:
            return P, True
        rank = sympy.Matrix([list(r) for r in E]).rank() if E else 0
        return P, dim == self.n - rank

    # ---------------------------------------------------------------- the three subdifferentials
    def _need_structure(self, what: str) -> None:
        if not self.structure_exact or not self.pa_kinks:
            raise Undetermined(
                f"{what}: switching functions are not affine, so essential activity is only first-order"
            )

    @cached_property
    def clarke(self) -> Polytope:
        r""":math:`\partial^C f(x) = \mathrm{co}\{\nabla f_p(x) : p \text{ essentially active}\}`."""
        if not self.structure_exact:
            raise Undetermined("Clarke: essential activity of some pattern is undetermined")
        pts: list[Vector] = []
        for p in self.essential:
            g = self.gradients[p]
            if not any(all(self.ps.is_zero(a - b) for a, b in zip(g, h, strict=True)) for h in pts):
                pts.append(g)
        if not self.ps.symbolic and len(pts) > 2:
            ext = []
            for i, g in enumerate(pts):
                inside, _ = hull_membership(g, [h for j, h in enumerate(pts) if j != i], self.ps)
                if not inside:
                    ext.append(g)
            pts = ext
        return Polytope(tuple(pts))

    @cached_property
    def frechet(self) -> Polytope:
        r""":math:`\hat\partial f(x) = \{g : g^T d \le f'(x; d)\ \forall d\}` (face :math:`F = 0`)."""
        self._need_structure("Fréchet")
        P, _ = self.face_set((0,) * len(self.active))
        return P

    @cached_property
    def limiting_pieces(self) -> list[tuple[tuple[int, ...], Polytope, bool]]:
        self._need_structure("limiting")
        return [(F, *self.face_set(F)) for F in self.faces]

    @cached_property
    def limiting(self) -> PolyUnion:
        r""":math:`\partial f(x) = \bigcup_F \lim_{y \to x,\ y \in x + F} \hat\partial f(y)`."""
        pieces = [P for _, P, exact in self.limiting_pieces if not P.empty]
        if not all(exact for _, _, exact in self.limiting_pieces):
            raise Undetermined(
                "limiting: some face's Fréchet set is not stable (see limiting_pieces)"
            )
        kept: list[Polytope] = []
        for i, P in enumerate(pieces):
            redundant = False
            for j, Q in enumerate(pieces):
                if (
                    i == j
                    or len(Q.vertices) <= len(P.vertices)
                    and not (len(Q.vertices) == len(P.vertices) and j < i)
                ):
                    continue
                try:
                    if all(hull_membership(v, Q.vertices, self.ps)[0] for v in P.vertices):
                        redundant = True
                        break
                except Undetermined:
                    pass
            if not redundant:
                kept.append(P)
        return PolyUnion(tuple(kept))

    # ---------------------------------------------------------------- verdicts
    def _zero_in_face(self, face) -> tuple[bool, str]:
        star, E, e, R, c = self._face_constraints(face)
        for ell, ei in zip(E, e, strict=True):
            if not self.ps.is_zero(ei):
                return False, f"g·{sympy.sstr(ell)} = {sympy.sstr(ei)} ≠ 0 on this set"
        for r, ci in zip(R, c, strict=True):
            if self.ps.sign(ci) < 0:
                return False, f"f'(x; {sympy.sstr(r)}) = {sympy.sstr(ci)} < 0"
        return True, "0 satisfies every defining inequality"

    @cached_property
    def frechet_stationary(self) -> Verdict:
        try:
            self._need_structure("Fréchet")
            ok, why = self._zero_in_face((0,) * len(self.active))
        except Undetermined as exc:
            return Verdict(None, str(exc))
        return Verdict(ok, why)

    @cached_property
    def limiting_stationary(self) -> Verdict:
        try:
            pieces = self.limiting_pieces
        except Undetermined as exc:
            return Verdict(None, str(exc))
        undecided = []
        for F, _P, exact in pieces:
            ok, why = self._zero_in_face(F)
            if ok and exact:
                return Verdict(True, f"0 ∈ P_F for the face F = {F}")
            if ok:
                undecided.append(F)
        if undecided:
            return Verdict(None, f"0 is in the outer estimate P_F(x) of unstable faces {undecided}")
        return Verdict(
            False,
            "0 ∉ P_F(x) for every stratum F, and P_F(x) contains every limit of Fréchet subgradients along F",
        )

    @cached_property
    def clarke_stationary(self) -> Verdict:
        try:
            pts = self.clarke.vertices
            ok, cert = hull_membership([0] * self.n, pts, self.ps)
        except Undetermined as exc:
            return Verdict(None, str(exc))
        if ok:
            return Verdict(True, f"0 = Σ λ_i g_i with λ = {sympy.sstr(cert['weights'])}")
        w = cert["separator"]
        return Verdict(False, f"w = {sympy.sstr(w)} has w·g < 0 for every g in the Clarke set")

    def _candidate_directions(self) -> list[Vector]:
        dirs: list[Vector] = []
        for p in self.essential:
            rows = [
                tuple(pk * x for x in self.switch_gradient(k, p))
                for k, pk in zip(self.active, p, strict=True)
            ]
            try:
                rays, lin = cone_generators(rows, self.n)
            except Undetermined:
                continue
            for r in rays + lin + [tuple(-x for x in v) for v in lin]:
                if r not in dirs:
                    dirs.append(r)
        for i in range(self.n):
            for s in (1, -1):
                r = tuple(sympy.Integer(s * int(i == j)) for j in range(self.n))
                if r not in dirs:
                    dirs.append(r)
        return dirs

    @cached_property
    def local_minimizer(self) -> tuple[Verdict, RayWitness | None]:
        """Local minimizer? ``no`` comes with an exact descent ray; ``yes`` with its argument."""
        fs = self.frechet_stationary
        dirs = self._candidate_directions()
        # first: rays with f'(x; d) < 0, then second-order descent along any candidate
        scored = []
        for d in dirs:
            try:
                dd = self.directional_derivative(d)
                scored.append((self.ps.sign(dd), d))
            except Undetermined:
                continue
        for sgn, d in sorted(scored, key=lambda s: s[0]):
            if sgn > 0:
                break
            try:
                w = self.ray_witness(d)
                lead = sympy.Poly(w.decrease, T).terms()[-1][1] if w.decrease != 0 else 0
                if w.decrease != 0 and self.ps.sign(lead) < 0:
                    return Verdict(False, f"descent along d = {sympy.sstr(d)}"), w
            except (Undetermined, sympy.PolynomialError, IndexError):
                continue
        if fs.value is None:
            return Verdict(None, "Fréchet stationarity undetermined; no descent ray found"), None
        if fs.value is False:  # pragma: no cover - a descent generator always exists then
            return Verdict(
                None, "not Fréchet stationary, but no exact descent ray was confirmed"
            ), None
        # sharp minimum: C_p pointed and g_p·r > 0 on every ray, for every essential p
        try:
            sharp = True
            for p in self.essential:
                rows = [
                    tuple(pk * x for x in self.switch_gradient(k, p))
                    for k, pk in zip(self.active, p, strict=True)
                ]
                rays, lin = cone_generators(rows, self.n)
                if lin or not all(self.ps.sign(_dot(self.gradients[p], r)) > 0 for r in rays):
                    sharp = False
                    break
            if sharp:
                return Verdict(
                    True,
                    "sharp: f'(x; d) > 0 for every d ≠ 0 (checked on the generators of every cone)",
                ), None
            convex = True
            for p in self.essential:
                fp = self.selection(p)
                poly = sympy.Poly(fp, *self.variables)
                if poly.total_degree() > 2:
                    convex = False
                    break
                H = sympy.hessian(fp, self.variables)
                if H.free_symbols or not H.is_positive_semidefinite:
                    convex = False
                    break
            if convex:
                return Verdict(
                    True,
                    "every essentially active selection is a convex quadratic with f_p'(x; d) ≥ 0 on its cone",
                ), None
        except (Undetermined, sympy.PolynomialError):
            pass
        return Verdict(
            None, "first-order stationary, not sharp, no convexity argument, no descent ray found"
        ), None

    # ---------------------------------------------------------------- automatic differentiation
    @cached_property
    def ad_gradient(self) -> Vector:
        r"""What reverse/forward-mode AD returns, exactly, under PyTorch's conventions at ties.

        ``relu'(0) = 0``; ``leaky_relu'(0) = alpha``; ``Abs'(0) = sign(0) = 0``;
        ``max(a, b)``/``min(a, b)`` at a tie: :math:`(\nabla a + \nabla b)/2` (``torch.maximum``).
        """
        return ad_gradient(self.f, self.variables, self.point, self.ps)

    @cached_property
    def torch_gradient(self) -> tuple[float, ...] | None:
        """The gradient ``torch.autograd`` returns (float64), or ``None`` when torch is missing."""
        try:
            import torch  # noqa: F401
        except ImportError:
            return None
        if self.ps.symbolic:
            return None
        return torch_gradient(self.f, self.variables, self.point)

    def at(self, value: Any) -> Analysis:
        """The same analysis with the symbolic parameter fixed to an exact value."""
        if not self.ps.symbolic:
            raise ValueError("at(): this analysis has no symbolic parameter")
        return Analysis(self.f, self.variables, self.point, {self.ps.symbol: value})


def analyze(
    f: sympy.Expr,
    variables: Sequence[sympy.Symbol],
    point: Sequence[Any],
    params: dict | None = None,
) -> Analysis:
    """Exact nonsmooth analysis of ``f`` at ``point``; attributes are computed on first access."""
    return Analysis(f, variables, point, params)


# --------------------------------------------------------------------------- AD
def ad_gradient(
    f: sympy.Expr, variables: Sequence[sympy.Symbol], point: Sequence, ps: ParamSpace
) -> Vector:
    """Exact forward-mode AD (see :attr:`Analysis.ad_gradient` for the conventions at kinks)."""
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

    return tuple(_simp(x) for x in rec(f)[1])


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
