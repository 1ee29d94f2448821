r"""How an :class:`~ialam_verify.cases.analysis.Analysis` reads: as data (``to_json``), in Jupyter
(Markdown with inline LaTeX, and LaTeX), and in words (``yes``/``no`` for a verdict).

The functions take the analysis as their argument and read only its public attributes, so this
module imports nothing from :mod:`~ialam_verify.cases.analysis` (no import cycle). Sets are written
as data by their own ``to_json`` (:mod:`~ialam_verify.cases.geometry`): vertices as exact strings,
segments as index pairs, and the pretty form beside them.
"""

from __future__ import annotations

from typing import Any

import sympy

from ialam_verify.verdict import Verdict

from .geometry import latex_vector, math_str
from .params import Undetermined

SET_NAMES = ("clarke", "frechet", "limiting")
SET_SYMBOLS = {
    "clarke": r"\partial^{C} f(\bar x)",
    "frechet": r"\hat\partial f(\bar x)",
    "limiting": r"\partial f(\bar x)",
}
VERDICT_LABELS = {
    "clarke_stationary": "C-stationary",
    "limiting_stationary": "l-stationary",
    "frechet_stationary": "F-stationary",
    "local_minimizer": "local minimizer",
    "ad_in_clarke": "AD value in the Clarke set",
    "ad_in_limiting": "AD value in the limiting set",
    "ad_in_frechet": "AD value in the Fréchet set",
}
_WORDS = {
    "holds": "yes",
    "fails": "no",
    "undetermined": "undetermined",
    "inconclusive": "inconclusive",
}


def verdict_word(v: Verdict) -> str:
    """``yes`` (holds), ``no`` (fails), ``undetermined`` or ``inconclusive``: how tables print it."""
    return _WORDS[v.outcome.value]


def _set_or_reason(A: Any, name: str) -> tuple[Any, str | None]:
    try:
        return getattr(A, name), None
    except Undetermined as exc:
        return None, str(exc)


def analysis_to_json(A: Any) -> dict[str, Any]:
    """Everything the analysis decides, as one JSON-ready ``dict``.

    Keys: ``function``, ``variables``, ``point``, ``assumptions``, ``value``, ``sets`` (``clarke``,
    ``frechet``, ``limiting``: a set dict, or ``{"undetermined": reason}``), ``verdicts`` (name ->
    :meth:`Verdict.to_dict` plus ``"word"``), ``descent_witness`` (or ``None``), ``ad_gradient``,
    ``piece_gradients`` (one per essentially active pattern). Exact numbers are strings that
    ``sympy.sympify`` reads back.
    """
    sets: dict[str, Any] = {}
    for name in SET_NAMES:
        S, why = _set_or_reason(A, name)
        sets[name] = S.to_json() if S is not None else {"undetermined": why}
    verdicts = {}
    for name, v in A.verdicts.items():
        verdicts[name] = {**v.to_dict(), "word": verdict_word(v)}
    w = A.descent_witness
    try:
        pieces = [
            {"pattern": "".join("+" if s > 0 else "-" for s in p), "gradient": [str(x) for x in g]}
            for p, g in A.gradients.items()
        ]
    except Undetermined:  # pragma: no cover - gradients of proven-active patterns are exact
        pieces = None
    return {
        "function": sympy.sstr(A.f),
        "variables": [str(v) for v in A.variables],
        "point": [str(x) for x in A.point],
        "assumptions": A.ps.describe(),
        "value": str(A.value),
        "sets": sets,
        "verdicts": verdicts,
        "descent_witness": None if w is None else w.to_json(),
        "ad_gradient": [str(x) for x in A.ad_gradient],
        "piece_gradients": pieces,
    }


def _latex_point(A: Any) -> str:
    return latex_vector(A.point)


def _latex_set(A: Any, name: str) -> str:
    S, why = _set_or_reason(A, name)
    return r"\text{undetermined}" if S is None else sympy.latex(S)


def analysis_markdown(A: Any) -> str:
    """A short Markdown summary (inline LaTeX for the sets): the Jupyter representation."""
    head = f"**Exact analysis** of $f = {sympy.latex(A.f)}$ at $\\bar x = {_latex_point(A)}$"
    if A.ps.symbolic:
        head += f", for every ${sympy.latex(A.ps.symbol)} \\in {sympy.latex(A.ps.interval)}$"
    lines = [head + f"; $f(\\bar x) = {sympy.latex(A.value)}$", "", "| | |", "|---|---|"]
    for name in SET_NAMES:
        lines.append(f"| ${SET_SYMBOLS[name]}$ | ${_latex_set(A, name)}$ |")
    for name, v in A.verdicts.items():
        if name.startswith("ad_in_"):
            continue
        lines.append(f"| {VERDICT_LABELS[name]} | **{verdict_word(v)}** |")
    lines.append(f"| AD gradient (relu'(0)=0) | ${latex_vector(A.ad_gradient)}$ |")
    w = A.descent_witness
    if w is not None:
        lines += ["", f"Descent witness: {math_str(str(w))}."]
    return "\n".join(lines)


def analysis_latex(A: Any) -> str:
    """The three sets and the verdicts as one LaTeX ``aligned`` block."""
    rows = [rf"&f = {sympy.latex(A.f)},\quad \bar x = {_latex_point(A)}"]
    if A.ps.symbolic:
        rows[0] += rf",\quad {sympy.latex(A.ps.symbol)} \in {sympy.latex(A.ps.interval)}"
    for name in SET_NAMES:
        rows.append(f"&{SET_SYMBOLS[name]} = {_latex_set(A, name)}")
    words = ", ".join(
        rf"\text{{{VERDICT_LABELS[n]}: {verdict_word(v)}}}"
        for n, v in A.verdicts.items()
        if not n.startswith("ad_in_")
    )
    rows.append("&" + words)
    return "$\\begin{aligned}" + r"\\ ".join(rows) + r"\end{aligned}$"
