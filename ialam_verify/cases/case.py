"""Cases: a function, a point, and what a source claims there; the library computes the truth.

A case file is a Python module under the top-level ``cases/`` folder defining ``CASE``. ``Case.check()``
returns one :class:`Row` per notion (claim beside the computed truth); rows where they differ are the
errata. Claimed sets are given with :func:`Box`, :func:`Hull`, :func:`Points` or :func:`Union`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import sympy

from .analysis import Analysis, Polytope, PolyUnion, Verdict, _simp, hull_membership, math_str
from .params import ParamSpace, Undetermined

SET_NOTIONS = ("clarke", "frechet", "limiting")
VERDICT_NOTIONS = (
    "clarke_stationary",
    "limiting_stationary",
    "frechet_stationary",
    "local_minimizer",
)
NOTIONS = (
    ("value",) + SET_NOTIONS + VERDICT_NOTIONS + ("ad", "torch", "ray", "directional_derivative")
)

LABELS = {
    "value": "f(x)",
    "clarke": "Clarke set",
    "frechet": "Fréchet set",
    "limiting": "limiting set",
    "clarke_stationary": "C-stationary",
    "limiting_stationary": "l-stationary",
    "frechet_stationary": "F-stationary",
    "local_minimizer": "local minimizer",
    "ad": "AD, relu'(0)=0",
    "torch": "torch.autograd",
    "ray": "f(x + t d)",
    "directional_derivative": "f'(x; d)",
}


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
    import itertools

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
    return PolyUnion(tuple(pieces))


def _pieces(s: Polytope | PolyUnion) -> list[Polytope]:
    return [s] if isinstance(s, Polytope) else [p for p in s.pieces if not p.empty]


def _in_union(q, pieces: list[Polytope], ps: ParamSpace) -> bool:
    return any(hull_membership(q, P.vertices, ps)[0] for P in pieces if not P.empty)


def set_subset(
    A: Polytope | PolyUnion, B: Polytope | PolyUnion, ps: ParamSpace
) -> tuple[bool, str]:
    """Decide A ⊆ B exactly: ``(True, why)`` or ``(False, witness)``; Undetermined otherwise."""
    Bp = _pieces(B)
    for P in _pieces(A):
        if any(all(hull_membership(v, Q.vertices, ps)[0] for v in P.vertices) for Q in Bp):
            continue
        cands = list(P.vertices)
        if len(P.vertices) > 1:
            k = len(P.vertices)
            cands.append(
                tuple(_simp(sum(v[i] for v in P.vertices) / k) for i in range(len(P.vertices[0])))
            )
        for q in cands:
            if not _in_union(q, Bp, ps):
                return False, f"{sympy.sstr(tuple(q))} is in the first set but not in the second"
        raise Undetermined("a convex piece is covered by the union only jointly; not decided")
    return True, "every piece lies in one piece of the other set"


def set_equal(A, B, ps: ParamSpace) -> tuple[bool, str]:
    ok, why = set_subset(A, B, ps)
    if not ok:
        return False, "claimed ⊄ true: " + why
    ok, why = set_subset(B, A, ps)
    if not ok:
        return False, "true ⊄ claimed: " + why
    return True, "equal (each contained in the other)"


# --------------------------------------------------------------------------- claims and rows
@dataclass(frozen=True)
class Claim:
    """What a source claims about one notion.

    ``notion``: one of :data:`NOTIONS`. ``claimed``: a set (Hull/Box/Points/Union), a bool, a number,
    a vector (``ad``), or an expression in ``t`` (``ray``: the claimed value of :math:`f(x + t d)`).
    ``direction``: the ``d`` of ``ray`` and ``directional_derivative`` claims.
    """

    notion: str
    claimed: Any
    text: str
    direction: tuple | None = None
    t: sympy.Symbol | None = None

    def __post_init__(self) -> None:
        if self.notion not in NOTIONS:
            raise ValueError(f"notion must be one of {NOTIONS}; got {self.notion!r}")
        if self.notion in ("ray", "directional_derivative") and self.direction is None:
            raise ValueError(f"a {self.notion!r} claim needs a direction")


@dataclass
class Row:
    """One line of the table: a notion of a case, claim beside the truth."""

    case: str
    notion: str
    claimed: str
    computed: str
    agrees: bool | None  # None: no claim, or undecided
    detail: str = ""
    source_text: str = ""

    @property
    def erratum(self) -> bool:
        return self.agrees is False

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "notion": self.notion,
            "claimed": self.claimed,
            "computed": self.computed,
            "agrees": self.agrees,
            "erratum": self.erratum,
            "detail": self.detail,
            "source_text": self.source_text,
        }


def _fmt(x: Any) -> str:
    if isinstance(x, Verdict):
        return str(x)
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (tuple, list)):
        return (
            "(" + ", ".join(math_str(v) if not isinstance(v, float) else repr(v) for v in x) + ")"
        )
    return math_str(x)


@dataclass
class Case:
    """An exact case: ``f`` of ``variables`` at ``point``, with optional symbolic ``params``."""

    name: str
    title: str
    source: str
    f: sympy.Expr
    variables: Sequence[sympy.Symbol]
    point: Sequence[Any]
    params: dict = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    notes: str = ""
    corrects: str | None = None  # name of the case whose erratum this one repairs

    @cached_property
    def analysis(self) -> Analysis:
        return Analysis(self.f, self.variables, self.point, self.params)

    # truth for one notion: (value, display string, certificate text)
    def truth(self, notion: str, claim: Claim | None = None) -> tuple[Any, str, str]:
        A = self.analysis
        try:
            if notion == "value":
                return A.value, _fmt(A.value), ""
            if notion in SET_NOTIONS:
                S = getattr(A, notion)
                return S, _fmt(S), ""
            if notion == "local_minimizer":
                v, w = A.local_minimizer
                return v, str(v), (str(w) if w is not None else v.certificate)
            if notion in VERDICT_NOTIONS:
                v = getattr(A, notion)
                return v, str(v), v.certificate
            if notion == "ad":
                return (
                    A.ad_gradient,
                    _fmt(A.ad_gradient),
                    "relu'(0)=0, leaky'(0)=α, |·|'(0)=0, max/min ties split",
                )
            if notion == "torch":
                if A.ps.symbolic:
                    samples = A.ps.samples(1)
                    g = A.at(samples[0]).torch_gradient
                    if g is None:
                        return None, "torch not installed", ""
                    return (
                        g,
                        f"{_fmt(g)} at {A.ps.symbol} = {samples[0]}",
                        "torch needs a number for α",
                    )
                g = A.torch_gradient
                return g, ("torch not installed" if g is None else _fmt(g)), ""
            if notion == "ray":
                fr, _ = A.ray(claim.direction)
                return (
                    _simp(fr),
                    _fmt(_simp(fr)),
                    f"valid for small t > 0 along d = {_fmt(claim.direction)}",
                )
            if notion == "directional_derivative":
                dd = A.directional_derivative(claim.direction)
                return dd, _fmt(dd), f"d = {_fmt(claim.direction)}"
        except Undetermined as exc:
            return None, "undetermined", str(exc)
        raise ValueError(f"unknown notion {notion!r}")  # pragma: no cover

    def _compare(self, claim: Claim, truth: Any) -> tuple[bool | None, str]:
        ps = self.analysis.ps
        if truth is None:
            return None, "truth undetermined"
        try:
            if claim.notion in SET_NOTIONS:
                return set_equal(claim.claimed, truth, ps)
            if claim.notion in VERDICT_NOTIONS:
                if truth.value is None:
                    return None, "truth undetermined"
                return bool(claim.claimed) == truth.value, ""
            if claim.notion in ("value", "directional_derivative"):
                return ps.is_zero(sympy.sympify(claim.claimed) - truth), ""
            if claim.notion == "ray":
                c = sympy.sympify(claim.claimed)
                if claim.t is not None:
                    c = c.subs(claim.t, sympy.Symbol("t", positive=True))
                return ps.is_zero(c - truth), ""
            if claim.notion in ("ad", "torch"):
                if claim.notion == "torch":
                    return all(
                        abs(float(a) - b) <= 1e-12 * (1 + abs(b))
                        for a, b in zip(claim.claimed, truth, strict=True)
                    ), ""
                return all(
                    ps.is_zero(sympy.sympify(a) - b)
                    for a, b in zip(claim.claimed, truth, strict=True)
                ), ""
        except Undetermined as exc:
            return None, f"comparison undetermined: {exc}"
        raise ValueError(f"unknown notion {claim.notion!r}")  # pragma: no cover

    def sample_confirmation(self) -> dict[str, dict[str, str]]:
        """Verdicts recomputed at exact rational parameter samples (symbolic cases only)."""
        A = self.analysis
        if not A.ps.symbolic:
            return {}
        out: dict[str, dict[str, str]] = {}
        for a in A.ps.samples(3):
            B = A.at(a)
            out[str(a)] = {
                "clarke_stationary": str(B.clarke_stationary),
                "limiting_stationary": str(B.limiting_stationary),
                "frechet_stationary": str(B.frechet_stationary),
                "local_minimizer": str(B.local_minimizer[0]),
            }
        return out

    def check(self, notions: Sequence[str] | None = None) -> list[Row]:
        """Claim-by-claim rows, plus one row (claim ``—``) for each standard notion left unclaimed."""
        notions = list(notions or ("value",) + SET_NOTIONS + VERDICT_NOTIONS + ("ad", "torch"))
        rows: list[Row] = []
        claimed = {c.notion for c in self.claims}
        samples = self.sample_confirmation()
        for c in self.claims:
            val, shown, cert = self.truth(c.notion, c)
            ok, why = self._compare(c, val)
            claimed_str = _fmt(c.claimed)
            if c.notion in ("ray", "directional_derivative"):
                claimed_str += f"  [d = {_fmt(c.direction)}]"
            detail = "; ".join(x for x in (cert, why) if x)
            if samples and c.notion in VERDICT_NOTIONS:
                confirm = {a: v[c.notion] for a, v in samples.items()}
                if len(set(confirm.values())) != 1 or next(iter(confirm.values())) != shown:
                    ok = None
                    detail += f"; samples DISAGREE with the symbolic verdict: {confirm}"
                else:
                    detail += f"; confirmed at {self.analysis.ps.symbol} ∈ {{{', '.join(confirm)}}}"
            rows.append(Row(self.name, c.notion, claimed_str, shown, ok, detail, c.text))
        for n in notions:
            if n in claimed:
                continue
            _, shown, cert = self.truth(n)
            rows.append(Row(self.name, n, "—", shown, None, cert))
        return rows

    def explain(self) -> str:
        from .explain import explain_case

        return explain_case(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "source": self.source,
            "function": sympy.sstr(self.f),
            "variables": [str(v) for v in self.variables],
            "point": [str(x) for x in self.point],
            "assumptions": self.analysis.ps.describe(),
            "corrects": self.corrects,
            "rows": [r.to_json() for r in self.check()],
        }


@dataclass
class CustomCase:
    """A case whose truth is not an :func:`analyze` call (e.g. the lifted MPCC reading)."""

    name: str
    title: str
    source: str
    rows_fn: Callable[[], list[Row]]
    explain_fn: Callable[[], str]
    notes: str = ""
    corrects: str | None = None

    def check(self, notions: Sequence[str] | None = None) -> list[Row]:
        return self.rows_fn()

    def explain(self) -> str:
        return self.explain_fn()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "source": self.source,
            "corrects": self.corrects,
            "rows": [r.to_json() for r in self.check()],
        }


# --------------------------------------------------------------------------- loading
def default_folder() -> Path:
    """The repository's top-level ``cases/`` folder (editable install)."""
    return Path(__file__).resolve().parents[2] / "cases"


def load_cases(folder: str | Path | None = None) -> dict[str, Case | CustomCase]:
    """Import every ``*.py`` in ``folder`` (default: :func:`default_folder`) and collect ``CASE``."""
    folder = Path(folder) if folder is not None else default_folder()
    if not folder.is_dir():
        raise ValueError(f"folder {folder} does not exist or is not a directory")
    out: dict[str, Case | CustomCase] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"ialam_cases_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        assert spec.loader is not None
        spec.loader.exec_module(module)
        case = getattr(module, "CASE", None)
        if not isinstance(case, (Case, CustomCase)):
            raise ValueError(f"case file {path} must define CASE = Case(...) or CustomCase(...)")
        if case.name in out:
            raise ValueError(f"case name {case.name!r} defined twice (second in {path})")
        out[case.name] = case
    return out
