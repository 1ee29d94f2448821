"""Cases: a function, a point, and what a source claims there; the library computes the truth.

A case file is a Python module defining ``CASE`` (the shipped ones are in ``ialam_verify/cases/library/``;
``load_cases(folder)`` reads a user's own folder the same way). ``Case.check()``
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

from ialam_verify.verdict import Verdict

from .analysis import VERDICT_NAMES, Analysis
from .explain import explain_case
from .geometry import (
    Box,
    BoxSet,
    Hull,
    Points,
    Union,
    math_str,
    normal_form,
    set_equal,
    set_subset,
)
from .params import Undetermined
from .report import verdict_word

__all__ = [
    "Box",
    "BoxSet",
    "Case",
    "Claim",
    "CustomCase",
    "Hull",
    "Points",
    "Row",
    "Union",
    "load_cases",
    "set_equal",
    "set_subset",
]

SET_NOTIONS = ("clarke", "frechet", "limiting")
VERDICT_NOTIONS = VERDICT_NAMES
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
    claimed_data: dict | None = None  # set notions: the claimed set as data (geometry to_json)
    computed_data: dict | None = None  # set notions: the true set as data

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
            "claimed_data": self.claimed_data,
            "computed_data": self.computed_data,
        }


def _fmt(x: Any) -> str:
    if isinstance(x, Verdict):
        return verdict_word(x)
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
                v, w = A.local_minimizer, A.descent_witness
                return v, verdict_word(v), (str(w) if w is not None else v.reason)
            if notion in VERDICT_NOTIONS:
                v = getattr(A, notion)
                return v, verdict_word(v), v.reason
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
                    normal_form(fr),
                    _fmt(normal_form(fr)),
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
            out[str(a)] = {name: verdict_word(getattr(B, name)) for name in VERDICT_NOTIONS}
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
            data = {}
            if c.notion in SET_NOTIONS:
                data["claimed_data"] = c.claimed.to_json()
                data["computed_data"] = val.to_json() if val is not None else None
            rows.append(Row(self.name, c.notion, claimed_str, shown, ok, detail, c.text, **data))
        for n in notions:
            if n in claimed:
                continue
            val, shown, cert = self.truth(n)
            data = {"computed_data": val.to_json()} if n in SET_NOTIONS and val is not None else {}
            rows.append(Row(self.name, n, "—", shown, None, cert, **data))
        return rows

    def explain(self) -> str:
        return explain_case(self)

    def to_json(self) -> dict[str, Any]:
        """The case, its rows (pretty strings, and sets as data for set notions) and the whole
        analysis as data (:meth:`Analysis.to_json`)."""
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
            "analysis": self.analysis.to_json(),
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
            "analysis": None,
        }


# --------------------------------------------------------------------------- loading
def default_folder() -> Path:
    """The case library shipped inside the package: ``ialam_verify/cases/library/``.

    The files are package data (``[tool.setuptools.package-data]`` in ``pyproject.toml``), not a
    subpackage: they are loaded by path, so they work the same from a wheel, an editable install or
    a user's own folder.
    """
    return Path(__file__).resolve().parent / "library"


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
