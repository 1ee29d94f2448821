r"""Exact polyhedral geometry: small rational linear algebra, convex polytopes and their unions, set
algebra (membership, inclusion, equality) and printing.

Everything here is exact: vertices are sympy rationals, or rational functions of one symbolic parameter
(a :class:`~ialam_verify.cases.params.ParamSpace` decides every sign question over its interval).

- :func:`cone_generators`: extreme rays and lineality basis of :math:`\{d : A d \ge 0\}`;
- :func:`hull_membership`: :math:`q \in \mathrm{co}(V)`, with convex weights or a separating vector;
- :func:`polytope_from_inequalities`: vertices of :math:`\{g : E g = e,\ R g \le c\}`;
- :func:`polytope_edges`: the 1-dimensional faces (segments) of a rational polytope;
- :class:`Polytope`, :class:`PolyUnion` and the claim constructors :func:`Hull`, :func:`Box`,
  :func:`Points`, :func:`Union`; :func:`set_subset`, :func:`set_equal`.

Every ``to_json()`` of this package returns a ``dict`` (JSON-ready: exact numbers as strings such as
``"2*α - 4"`` or ``"-1/2"``, parsed back by ``sympy.sympify``), with the pretty form under ``"pretty"``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from .lp import feasible
from .params import ParamSpace, Undetermined

Vector = tuple[sympy.Expr, ...]


# --------------------------------------------------------------------------- small exact linear algebra
def as_vector(xs: Iterable) -> Vector:
    return tuple(sympy.sympify(x) for x in xs)


def dot(a: Sequence, b: Sequence) -> sympy.Expr:
    return sympy.expand(sum((x * y for x, y in zip(a, b, strict=True)), sympy.Integer(0)))


def normal_form(e: sympy.Expr) -> sympy.Expr:
    e = sympy.cancel(sympy.together(e))
    return sympy.expand(e) if e.is_polynomial() else e


def normalize_ray(v: Sequence[sympy.Expr]) -> Vector:
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
    lin = [normalize_ray(v) for v in lin]
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
                r = normalize_ray(list(cand))
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
        vs = self._sorted_vertices()
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

    def _sorted_vertices(self) -> list[Vector]:
        vs = list(self.vertices)
        if vs and len(vs[0]) == 1 and all(v[0].is_Rational for v in vs):
            vs = sorted(vs, key=lambda v: v[0])  # an interval reads left to right
        return vs

    def _latex(self, printer) -> str:
        vs = [latex_vector(v, printer) for v in self._sorted_vertices()]
        if not vs:
            return r"\emptyset"
        if len(vs) == 1:
            return r"\left\{" + vs[0] + r"\right\}"
        if len(vs) == 2:
            return r"\left[" + vs[0] + ", " + vs[1] + r"\right]"
        return r"\mathrm{co}\left\{" + ", ".join(vs) + r"\right\}"

    def _repr_latex_(self) -> str:
        return "$" + sympy.latex(self) + "$"

    @property
    def rational(self) -> bool:
        """Are all vertices rational (no symbolic parameter)?"""
        return all(sympy.sympify(x).is_Rational for v in self.vertices for x in v)

    def to_json(self) -> dict[str, Any]:
        """``{"kind": "polytope", "ambient_dimension", "vertices", "segments", "pretty"}``.

        ``ambient_dimension``: the length of a vertex (``None`` for the empty set); ``vertices``:
        exact coordinates as strings; ``segments``: index pairs ``[i, j]`` of the edges
        (1-dimensional faces), exact for rational vertices and for at most two vertices, ``None``
        for three or more vertices that depend on a parameter (the edges may change with it; fix
        the parameter with ``Analysis.at``).
        """
        if self.rational:
            segments = [list(e) for e in polytope_edges(self)]
        elif len(self.vertices) <= 2:
            segments = [[0, 1]] if len(self.vertices) == 2 else []
        else:
            segments = None
        return {
            "kind": "polytope",
            "ambient_dimension": len(self.vertices[0]) if self.vertices else None,
            "vertices": [[str(x) for x in v] for v in self.vertices],
            "segments": segments,
            "pretty": math_str(self),
        }


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
        pieces = [p for p in self.pieces if not p.empty]
        points = [p.vertices[0] for p in pieces if len(p.vertices) == 1]
        out = [printer._print(p) for p in pieces if len(p.vertices) > 1]
        if points:  # singletons merged into one finite set, as in the text form
            merged = Polytope(tuple(points))._sorted_vertices()
            out.append(
                r"\left\{" + ", ".join(latex_vector(v, printer) for v in merged) + r"\right\}"
            )
        return r" \cup ".join(out) if out else r"\emptyset"

    def _repr_latex_(self) -> str:
        return "$" + sympy.latex(self) + "$"

    def to_json(self) -> dict[str, Any]:
        """``{"kind": "union", "pieces": [polytope dicts], "pretty"}`` (empty pieces left out)."""
        return {
            "kind": "union",
            "pieces": [p.to_json() for p in self.pieces if not p.empty],
            "pretty": math_str(self),
        }


def hull_membership(q: Sequence, points: Sequence[Sequence], ps: ParamSpace) -> tuple[bool, dict]:
    r"""Decide :math:`q \in \mathrm{co}(V)` exactly, with a certificate.

    Rational data: exact LP. Symbolic parameter: the LP is solved at rational samples; a separating
    vector :math:`w` (with :math:`w^T (q - v_i) > 0\ \forall i`) is verified for every parameter value by
    exact sign decisions, and a convex combination is re-solved symbolically on the sample's support and
    its weights verified nonnegative on the whole interval. Raises :class:`Undetermined` otherwise.
    """
    q = as_vector(q)
    V = [as_vector(v) for v in points]
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
                normal_form(
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
                    ps.sign(dot(w, [qi - vi for qi, vi in zip(q, vv, strict=True)])) > 0 for vv in V
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
        rn = [dot(r, [Nm[i][j] for i in range(n)]) for j in range(k)]
        rhs = normal_form(ci - dot(r, g0))
        if all(x == 0 for x in rn):
            if ps.sign(rhs) < 0:
                return Polytope(()), -1
            continue
        if (tuple(rn), rhs) not in rows:
            rows.append((tuple(rn), rhs))
    verts: list[Vector] = []

    def add(z):
        g = tuple(normal_form(g0[i] + sum(Nm[i][j] * z[j] for j in range(k))) for i in range(n))
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
            z = [normal_form(x) for x in z]
            if all(ps.sign(rhs - dot(rn, z)) >= 0 for rn, rhs in rows):
                add(z)
    if not verts:
        return Polytope(()), -1
    if len(verts) == 1:
        dim = 0
    else:
        base = verts[0]
        D = sympy.Matrix(
            [[normal_form(a - b) for a, b in zip(v, base, strict=True)] for v in verts[1:]]
        )
        dim = D.rank(simplify=True)
    return Polytope(tuple(verts)), dim


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def latex_vector(v: Sequence, printer: Any = None) -> str:
    """A vector as a mathematician writes it in LaTeX: ``(1, -1)``, or ``3`` in dimension 1."""
    p = printer._print if printer is not None else sympy.latex
    if len(v) == 1:
        return p(sympy.sympify(v[0]))
    return r"\left(" + ", ".join(p(sympy.sympify(x)) for x in v) + r"\right)"


def math_str(x: Any) -> str:
    """``sympy.sstr`` written the way a mathematician would: ``2·α - 4``, ``5·t² - 2·t + 2``."""
    text = x if isinstance(x, str) else sympy.sstr(x)
    text = re.sub(r"\*\*(-?\d+)", lambda m: m.group(1).translate(_SUPERSCRIPTS), text)
    return text.replace("*", "·")


def open_cone_nonempty(
    ineq: Sequence[Vector], eq: Sequence[Vector], n: int, ps: ParamSpace
) -> tuple[bool, str]:
    """Is :math:`\\{d : a^T d > 0\\ (a \\in ineq),\\ b^T d = 0\\ (b \\in eq)\\}` nonempty? Exact.

    Returns ``(True, "d = ...")`` with a verified interior direction, or ``(False, "Farkas ...")``
    with verified multipliers; with a symbolic parameter, the LP is solved at rational samples and
    its certificate verified for every value. Raises :class:`Undetermined` otherwise.
    """
    samples = ps.samples(3) if ps.symbolic else [None]
    for a in samples:

        def at(x, a=a):
            return x.subs(ps.symbol, a) if a is not None else x

        M = [[at(x) for x in r] for r in ineq]
        E = [[at(x) for x in r] for r in eq]
        res = feasible(M, [1] * len(M), E, [0] * len(E), n=n)
        if res.feasible:
            d = [sympy.Rational(x.numerator, x.denominator) for x in res.point]
            try:
                ok = all(ps.sign(dot(r, d)) > 0 for r in ineq) and all(
                    ps.is_zero(dot(r, d)) for r in eq
                )
            except Undetermined:
                ok = False
            if ok:
                return True, f"d = {sympy.sstr(tuple(d))}"
        else:
            u = [sympy.Rational(x.numerator, x.denominator) for x in res.farkas_u]
            v = [sympy.Rational(x.numerator, x.denominator) for x in res.farkas_v]
            comb = [
                normal_form(
                    sum(u[i] * ineq[i][j] for i in range(len(ineq)))
                    + sum(v[i] * eq[i][j] for i in range(len(eq)))
                )
                for j in range(n)
            ]
            if all(ps.is_zero(c) for c in comb) and sum(u) > 0:
                return False, f"Farkas u = {sympy.sstr(tuple(u))}, v = {sympy.sstr(tuple(v))}"
    raise Undetermined("cone feasibility could not be certified for every parameter value")


def polytope_edges(P: Polytope) -> list[tuple[int, int]]:
    r"""Index pairs ``(i, j)`` such that :math:`[v_i, v_j]` is an edge of :math:`P = \mathrm{co}(V)`.

    Exact: :math:`[v_i, v_j]` is a face iff the midpoint :math:`m` has no convex representation with
    positive weight outside :math:`\{i, j\}` (the smallest face containing :math:`m` holds every vertex
    of every representation). The LP asks for :math:`\mu \ge 0` with
    :math:`\sum_k \mu_k (v_k - m) = 0` and :math:`\sum_{k \ne i, j} \mu_k = 1`; infeasible means edge.
    Needs rational vertices. Points that are not extreme (a claim may list some) get no edge.
    """
    V = [tuple(sympy.sympify(x) for x in v) for v in P.vertices]
    if not all(x.is_Rational for v in V for x in v):
        raise ValueError("polytope_edges needs rational vertices")
    exact = ParamSpace()
    ext = [
        k
        for k in range(len(V))
        if not any(V[j] == V[k] for j in range(k))
        and (len(V) == 1 or not hull_membership(V[k], V[:k] + V[k + 1 :], exact)[0])
    ]
    m = len(ext)
    edges = []
    for a, b in itertools.combinations(range(m), 2):
        i, j = ext[a], ext[b]
        if m == 2:
            edges.append((i, j))
            break
        mid = [(x + y) / 2 for x, y in zip(V[i], V[j], strict=True)]
        E = [[V[k][c] - mid[c] for k in ext] for c in range(len(mid))]
        E.append([int(k not in (i, j)) for k in ext])
        e = [0] * len(mid) + [1]
        eye = [[int(r == k) for k in range(m)] for r in range(m)]
        if not feasible(eye, [0] * m, E, e, n=m).feasible:
            edges.append((i, j))
    return edges


# --------------------------------------------------------------------------- claimed sets
def Hull(points: Sequence[Sequence[Any]]) -> Polytope:  # noqa: N802 - constructor-like
    """The convex hull of ``points``."""
    return Polytope(tuple(tuple(sympy.sympify(x) for x in p) for p in points))


@dataclass(frozen=True)
class BoxSet(Polytope):
    """A box, kept with its sides so that it prints as a product of intervals."""

    sides: tuple = ()

    def _sympystr(self, printer) -> str:
        parts = []
        for side in self.sides:
            if len(side) == 1:
                parts.append("{" + printer._print(side[0]) + "}")
            else:
                parts.append("[" + printer._print(side[0]) + ", " + printer._print(side[1]) + "]")
        return " × ".join(parts)


def Box(intervals: Sequence[tuple[Any, Any]]) -> Polytope:  # noqa: N802
    """The box :math:`\\prod_i [lo_i, hi_i]` as the hull of its corners (degenerate sides allowed)."""
    sides = [
        (sympy.sympify(lo),)
        if sympy.simplify(sympy.sympify(lo) - hi) == 0
        else (sympy.sympify(lo), sympy.sympify(hi))
        for lo, hi in intervals
    ]
    return BoxSet(tuple(itertools.product(*sides)), tuple(sides))


def Points(points: Sequence[Sequence[Any]]) -> PolyUnion:  # noqa: N802
    """A finite set of points."""
    return PolyUnion(tuple(Hull([p]) for p in points))


def Union(*pieces: Polytope) -> PolyUnion:  # noqa: N802
    """The union of the polytopes ``pieces``."""
    return PolyUnion(tuple(pieces))


# --------------------------------------------------------------------------- set algebra
def set_pieces(s: Polytope | PolyUnion) -> list[Polytope]:
    """The nonempty convex pieces of a polytope or a union (none for the empty set)."""
    pieces = [s] if isinstance(s, Polytope) else list(s.pieces)
    return [p for p in pieces if not p.empty]


def _in_union(q, pieces: list[Polytope], ps: ParamSpace) -> bool:
    return any(hull_membership(q, P.vertices, ps)[0] for P in pieces if not P.empty)


def set_subset(
    A: Polytope | PolyUnion, B: Polytope | PolyUnion, ps: ParamSpace
) -> tuple[bool, str]:
    """Decide A ⊆ B exactly: ``(True, why)`` or ``(False, witness)``; Undetermined otherwise."""
    Bp = set_pieces(B)
    for P in set_pieces(A):
        if any(all(hull_membership(v, Q.vertices, ps)[0] for v in P.vertices) for Q in Bp):
            continue
        cands = list(P.vertices)
        if len(P.vertices) > 1:
            k = len(P.vertices)
            cands.append(
                tuple(
                    normal_form(sum(v[i] for v in P.vertices) / k)
                    for i in range(len(P.vertices[0]))
                )
            )
        for q in cands:
            if not _in_union(q, Bp, ps):
                return False, f"{sympy.sstr(tuple(q))} is in the first set but not in the second"
        raise Undetermined("a convex piece is covered by the union only jointly; not decided")
    return True, "every piece lies in one piece of the other set"


def set_equal(A, B, ps: ParamSpace) -> tuple[bool, str]:
    """Decide A = B exactly (each contained in the other), with the witness of a difference."""
    ok, why = set_subset(A, B, ps)
    if not ok:
        return False, "claimed ⊄ true: " + why
    ok, why = set_subset(B, A, ps)
    if not ok:
        return False, "true ⊄ claimed: " + why
    return True, "equal (each contained in the other)"
