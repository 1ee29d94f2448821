"""Step-by-step derivation of a case, in mathematical notation (``ialam-verify cases NAME --explain``).

:func:`explain_case` reads the case through its public attributes only (``analysis``, ``truth``,
``check``, ``sample_confirmation``, ``name``, ``title``, ``source``, ``notes``, ``claims``), so this
module does not import :mod:`~ialam_verify.cases.case`, which imports it (no import cycle).
"""

from __future__ import annotations

from typing import Any

import sympy

from .geometry import cone_generators, math_str
from .params import Undetermined
from .report import verdict_word


def _p(e) -> str:
    return sympy.pretty(e, use_unicode=True)


def _sign(s: int) -> str:
    return {1: "+", -1: "−", 0: "0"}[s]


def explain_case(case: Any) -> str:
    """The derivation of ``case`` (a :class:`~ialam_verify.cases.case.Case`), step by step."""
    A = case.analysis
    out: list[str] = []
    add = out.append
    x = tuple(A.point)
    add(f"Case {case.name}: {case.title}")
    add(f"Source: {case.source}")
    if case.notes:
        add("")
        add(case.notes.strip())
    add("")
    add("f(" + ", ".join(map(str, A.variables)) + ") =")
    add(_p(A.f))
    add(f"at x = {math_str(x)}" + (f", assuming {A.ps.describe()}" if A.ps.symbolic else ""))
    add(f"f(x) = {math_str(A.value)}")
    add("")
    add("Step 1. Kinks and their switching functions s_k (value at x):")
    for k in A.kinks:
        state = "ACTIVE" if A.base_signs[k] == 0 else f"inactive, sign {_sign(A.base_signs[k])}"
        add(f"  {math_str(k)}:  s = {math_str(A.switch(k))}   [{state}]")
    K = len(A.active)
    add(f"  {K} active kink(s); {2**K} activation pattern(s) meet at x.")
    add(
        "  Switching functions affine under every selection: "
        + ("yes (exact class)" if A.pa_kinks else "NO")
    )
    add("")
    add("Step 2. Patterns: p is essentially active iff {d : p_k ∇s_k(x)·d > 0 ∀k} ≠ ∅ (exact LP):")
    for p, ok, cert in A.patterns:
        status = {True: "essentially active", False: "NOT active", None: "undetermined"}[ok]
        add(f"  p = ({', '.join(_sign(s) for s in p)}): {status}; {cert}")
        if ok:
            add(f"      f_p = {math_str(sympy.expand(A.selection(p)))}")
            add(f"      ∇f_p(x) = {math_str(A.gradients[p])}")
    add("")
    add("Step 3. Clarke subdifferential = convex hull of the essentially active gradients:")
    try:
        add(f"  ∂C f(x) = {math_str(A.clarke)}")
    except Undetermined as exc:
        add(f"  undetermined: {exc}")
    v = A.clarke_stationary
    add(f"  0 ∈ ∂C f(x)? {verdict_word(v)}  — {v.reason}")
    add("")
    add(
        "Step 4. One-sided directional derivatives f'(x; d) on the generators of each pattern's cone:"
    )
    try:
        for p in A.essential:
            rows = [
                tuple(pk * c for c in A.switch_gradient(k, p))
                for k, pk in zip(A.active, p, strict=True)
            ]
            rays, lin = cone_generators(rows, A.n)
            gens = [("ray", r) for r in rays] + [("±line", r) for r in lin]
            desc = ", ".join(
                f"{kind} {math_str(r)}: {math_str(A.directional_derivative(r))}" for kind, r in gens
            )
            add(f"  C_({', '.join(_sign(s) for s in p)}): {desc}")
            for kind, r in gens:
                if kind == "±line":
                    neg = tuple(-c for c in r)
                    add(f"      f'(x; {math_str(neg)}) = {math_str(A.directional_derivative(neg))}")
    except Undetermined as exc:
        add(f"  undetermined: {exc}")
    add("")
    add("Step 5. Fréchet subdifferential {g : g·d ≤ f'(x; d) ∀d} (polyhedral, exact):")
    try:
        add(f"  ∂̂f(x) = {math_str(A.frechet)}")
    except Undetermined as exc:
        add(f"  undetermined: {exc}")
    v = A.frechet_stationary
    add(f"  0 ∈ ∂̂f(x)? {verdict_word(v)}  — {v.reason}")
    add("")
    add(
        "Step 6. Limiting subdifferential: union over strata F near x of the limits of Fréchet sets:"
    )
    try:
        for F, P, exact in A.limiting_pieces:
            tag = "" if exact else "  (unstable: outer estimate only)"
            add(f"  F = ({', '.join(_sign(s) for s in F)}): {math_str(P)}{tag}")
        add(f"  ∂f(x) = {math_str(A.limiting)}")
    except Undetermined as exc:
        add(f"  undetermined: {exc}")
    v = A.limiting_stationary
    add(f"  0 ∈ ∂f(x)? {verdict_word(v)}  — {v.reason}")
    add("")
    add("Step 7. Local minimizer?")
    v, w = A.local_minimizer, A.descent_witness
    add(f"  {verdict_word(v)}: {v.reason}")
    if w is not None:
        add(f"  witness: {w}")
    add("")
    add("Step 8. What automatic differentiation returns at x:")
    add(f"  exact, relu'(0) = 0 convention: {math_str(A.ad_gradient)}")
    add(
        "  in the Clarke / limiting / Fréchet set? "
        + " / ".join(verdict_word(v) for v in (A.ad_in_clarke, A.ad_in_limiting, A.ad_in_frechet))
    )
    try:
        torch_row = case.truth("torch")
        add(f"  torch.autograd (float64): {torch_row[1]} {torch_row[2]}")
    except Undetermined:  # pragma: no cover
        pass
    if A.ps.symbolic:
        add("")
        add("Confirmation at exact rational samples of the parameter:")
        for a, verdicts in case.sample_confirmation().items():
            add(f"  {A.ps.symbol} = {a}: " + ", ".join(f"{k} {v}" for k, v in verdicts.items()))
    if case.claims:
        add("")
        add("Claims of the source, checked:")
        for r in case.check():
            if r.claimed == "—":
                continue
            mark = {True: "agrees", False: "ERRATUM", None: "undecided"}[r.agrees]
            add(f"  [{mark}] {r.notion}: claimed {r.claimed}; true {r.computed}")
            if r.source_text:
                add(f"      source: “{r.source_text}”")
            if r.detail:
                add(f"      {r.detail}")
    return "\n".join(out)
