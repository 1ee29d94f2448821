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
from collections.abc import Sequence
from fractions import Fraction
from functools import cached_property
from typing import Any

import sympy

from ialam_verify.verdict import Verdict

from .autodiff import ad_gradient, ad_membership, torch_gradient
from .functions import KINKS, UNSUPPORTED, Max2, Min2, binarize, leaky_relu, relu
from .geometry import (
    Polytope,
    PolyUnion,
    Vector,
    cone_generators,
    dot,
    hull_membership,
    math_str,
    normal_form,
    open_cone_nonempty,
    polytope_from_inequalities,
)
from .minimality import RayWitness, T, local_minimality
from .params import ParamSpace, Undetermined
from .report import analysis_latex, analysis_markdown, analysis_to_json

#: The verdict-bearing attributes of :class:`Analysis`, each a :class:`~ialam_verify.verdict.Verdict`.
VERDICT_NAMES = (
    "clarke_stationary",
    "limiting_stationary",
    "frechet_stationary",
    "local_minimizer",
)
#: Whether the AD value lies in each subdifferential (also Verdicts).
AD_VERDICT_NAMES = ("ad_in_clarke", "ad_in_limiting", "ad_in_frechet")


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
    """Lazy exact analysis of ``f`` at ``point``; see the module docstring for the method.

    Sets: :attr:`clarke`, :attr:`frechet` (:class:`Polytope`), :attr:`limiting` (:class:`PolyUnion`);
    they raise :class:`Undetermined` outside the exact class. Verdicts (each a
    :class:`~ialam_verify.verdict.Verdict`, truthy only when it holds, never raising):
    :attr:`clarke_stationary`, :attr:`limiting_stationary`, :attr:`frechet_stationary`,
    :attr:`local_minimizer` (with :attr:`descent_witness`), :attr:`ad_in_clarke`,
    :attr:`ad_in_limiting`, :attr:`ad_in_frechet`; all of them in :attr:`verdicts`.
    """

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
            val = normal_form(val.subs(self._xsubs))
            signs[k] = self.ps.sign(val)
        return signs

    @cached_property
    def active(self) -> list[sympy.Expr]:
        """Kinks active at the point: :math:`s_k(x) = 0`."""
        return [k for k in self.kinks if self.base_signs[k] == 0]

    def signs_for(self, pattern: Sequence[int]) -> dict:
        return {**self.base_signs, **dict(zip(self.active, pattern, strict=True))}

    def _grad_at_x(self, expr: sympy.Expr) -> Vector:
        return tuple(normal_form(sympy.diff(expr, v).subs(self._xsubs)) for v in self.variables)

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
                ok, cert = open_cone_nonempty(rows, [], self.n, self.ps)
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
        return normal_form(self.selection((1,) * len(self.active)).subs(self._xsubs))

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
        return normal_form(sympy.diff(fr, T).subs(T, 0))

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
            ok, cert = open_cone_nonempty(ineq, eq, self.n, self.ps)
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
                c.append(dot(g, r))
            for ell in lin:
                E.append(ell)
                e.append(dot(g, ell))
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
        r"""Is :math:`0 \in \hat\partial f(x)`? ``holds``/``fails`` with the deciding inequality."""
        try:
            self._need_structure("Fréchet")
            ok, why = self._zero_in_face((0,) * len(self.active))
        except Undetermined as exc:
            return Verdict.undetermined(str(exc))
        return Verdict.from_bool(ok, why)

    @cached_property
    def limiting_stationary(self) -> Verdict:
        r"""Is :math:`0 \in \partial f(x)`? ``fails`` only when 0 is outside every outer estimate."""
        try:
            pieces = self.limiting_pieces
        except Undetermined as exc:
            return Verdict.undetermined(str(exc))
        undecided = []
        for F, _P, exact in pieces:
            ok, why = self._zero_in_face(F)
            if ok and exact:
                return Verdict.holds(f"0 ∈ P_F for the face F = {F}")
            if ok:
                undecided.append(F)
        if undecided:
            return Verdict.undetermined(
                f"0 is in the outer estimate P_F(x) of unstable faces {undecided}"
            )
        return Verdict.fails(
            "0 ∉ P_F(x) for every stratum F, and P_F(x) contains every limit of Fréchet subgradients along F"
        )

    @cached_property
    def clarke_stationary(self) -> Verdict:
        r"""Is :math:`0 \in \partial^C f(x)`? Convex weights, or a separating vector."""
        try:
            pts = self.clarke.vertices
            ok, cert = hull_membership([0] * self.n, pts, self.ps)
        except Undetermined as exc:
            return Verdict.undetermined(str(exc))
        if ok:
            return Verdict.holds(f"0 = Σ λ_i g_i with λ = {sympy.sstr(cert['weights'])}")
        w = cert["separator"]
        return Verdict.fails(f"w = {sympy.sstr(w)} has w·g < 0 for every g in the Clarke set")

    @cached_property
    def _local_minimality(self) -> tuple[Verdict, RayWitness | None]:
        return local_minimality(self)

    @property
    def local_minimizer(self) -> Verdict:
        """Is ``x`` a local minimizer? ``fails`` comes with an exact descent ray
        (:attr:`descent_witness`); ``holds`` with its argument (sharp minimum, or convex quadratic
        selections that do not decrease on their cones); ``undetermined`` otherwise."""
        return self._local_minimality[0]

    @property
    def descent_witness(self) -> RayWitness | None:
        """The exact descent ray proving "not a local minimizer", or ``None`` when there is none."""
        return self._local_minimality[1]

    def _ad_in(self, name: str) -> Verdict:
        try:
            S = getattr(self, name)
        except Undetermined as exc:
            return Verdict.undetermined(str(exc))
        return ad_membership(self.ad_gradient, S, self.ps)

    @cached_property
    def ad_in_clarke(self) -> Verdict:
        """Does the AD value (:attr:`ad_gradient`) lie in the Clarke subdifferential?"""
        return self._ad_in("clarke")

    @cached_property
    def ad_in_limiting(self) -> Verdict:
        """Does the AD value lie in the limiting subdifferential?"""
        return self._ad_in("limiting")

    @cached_property
    def ad_in_frechet(self) -> Verdict:
        """Does the AD value lie in the Fréchet subdifferential?"""
        return self._ad_in("frechet")

    @property
    def verdicts(self) -> dict[str, Verdict]:
        """Every verdict by name (:data:`VERDICT_NAMES` then :data:`AD_VERDICT_NAMES`)."""
        return {name: getattr(self, name) for name in VERDICT_NAMES + AD_VERDICT_NAMES}

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

    # ---------------------------------------------------------------- reading
    def __repr__(self) -> str:
        where = f", {self.ps.describe()}" if self.ps.symbolic else ""
        return f"Analysis(f = {math_str(self.f)} at x = {math_str(self.point)}{where})"

    def _repr_markdown_(self) -> str:
        return analysis_markdown(self)

    def _repr_latex_(self) -> str:
        return analysis_latex(self)

    def to_json(self) -> dict[str, Any]:
        """Sets as data (vertices, segments, exact strings) beside their pretty forms, and every
        verdict; see :func:`ialam_verify.cases.report.analysis_to_json`."""
        return analysis_to_json(self)

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
