"""Example (3) read through the lifted model: MPCC notions of (P) and KKT points of (PP)."""

import sympy as sp

from ialam_verify.cases import CustomCase, Row, verdict_word
from ialam_verify.cases.lifted import lifted_analysis

alpha = sp.Symbol("α")
beta = sp.Symbol("β", nonnegative=True)
XS, YS, POINT = [1, 2], [-1, 1], [0, 1, 0, 0]
INTERVAL = sp.Interval.open(0, sp.Rational(1, 2))
NAME = "talk_example3_lifted"


def _result():
    return lifted_analysis(XS, YS, POINT, alpha, INTERVAL, beta)


def _nice(expr) -> str:
    """Print p/q with the sign moved so that 1 - α reads as such (2/(1 - α), not -2/(α - 1))."""
    num, den = sp.fraction(sp.cancel(sp.sympify(expr)))
    const = sp.sympify(den).subs({s: 0 for s in sp.sympify(den).free_symbols})
    if den != 1 and const.is_negative:  # (α - 1) -> (1 - α); (α - 1)**2 has const 1, kept
        num, den = -num, sp.expand(-den)
    if den == 1:
        return sp.sstr(num)
    return f"{sp.sstr(num)}/({sp.sstr(sp.factor(den))})"


def _beta_text(res) -> str:
    if not res.kkt_beta:
        return "for no β ≥ 0"
    parts = []
    for _choice, lo, hi in res.kkt_beta:
        parts.append(f"β ≥ {_nice(lo)}" + ("" if hi == sp.oo else f" and β ≤ {_nice(hi)}"))
    return " or ".join(parts)


def rows():
    res = _result()
    m = res.w_multipliers or {}
    mult = ", ".join(f"{k} = {_nice(v)}" for k, v in m.items())
    prods = "; ".join(f"μ¹μ² at n={n + 1}: {_nice(p)} < 0" for n, p in res.products.items())
    out = [
        Row(
            NAME,
            "lifted point",
            "—",
            f"u = {res.u}, v = {res.v} (both samples biactive)",
            None,
            f"residuals r = {res.residuals}",
        ),
        Row(
            NAME,
            "(P) MPCC W-stat.",
            "—",
            verdict_word(res.verdicts["W"]),
            None,
            f"unique multipliers: {mult}",
        ),
        Row(
            NAME,
            "(P) MPCC A-stat.",
            "—",
            verdict_word(res.verdicts["A"]),
            None,
            "one multiplier ≥ 0 at each biactive index",
        ),
        Row(NAME, "(P) MPCC C-stat.", "—", verdict_word(res.verdicts["C"]), None, prods),
        Row(
            NAME,
            "(P) MPCC M-stat.",
            "—",
            verdict_word(res.verdicts["M"]),
            None,
            "both products negative",
        ),
        Row(
            NAME,
            "(P) MPCC S-stat.",
            "—",
            verdict_word(res.verdicts["S"]),
            None,
            "a multiplier is negative at each biactive index",
        ),
        Row(
            NAME,
            "(PP) KKT point",
            "—",
            _beta_text(res),
            None,
            "limiting ∂(−βσ)(0) = {−β, −αβ}; ζ = "
            + "; ".join(sp.sstr(c) for c, _, _ in res.kkt_beta),
        ),
    ]
    return out


def explain() -> str:
    res = _result()
    lines = [
        "Case talk_example3_lifted: the talk's example (3) through the lifted model",
        "",
        "Lifting the hidden neuron: u_n = w₁x_n + b₁, v_n = σ(u_n), x = (1, 2), y = (−1, 1); the output layer",
        "of (3) is linear, so Ō = Σ_n (w₂v_n + b₂ − y_n)² (no regularizers, as in (3)).",
        f"Lifted point: u = {res.u}, v = {res.v}; residuals r = {res.residuals}; biactive n = {[n + 1 for n in res.biactive]}.",
        "",
        "Lagrangian Ō − μ¹·(v − u) − μ²·(v − αu) + ξ·(u − w₁x − b₁):",
        "  ∂w₁: Σ ξ_n x_n = 0,  ∂b₁: Σ ξ_n = 0  ⇒  ξ = 0 (x₁ ≠ x₂)",
        "  ∂w₂: Σ 2r_n v_n = 0 ✓,  ∂b₂: Σ 2r_n = 0 ✓",
        "  ∂v_n: 2r_n w₂ − μ¹_n − μ²_n = 0,   ∂u_n: μ¹_n + αμ²_n + ξ_n = 0",
        "  ⇒ μ²_n = 2r_n/(1 − α), μ¹_n = −2αr_n/(1 − α)",
        "Multipliers: "
        + ", ".join(f"{k} = {_nice(v)}" for k, v in (res.w_multipliers or {}).items()),
        "MPCC verdicts of (P): "
        + ", ".join(f"{k} {verdict_word(v)}" for k, v in res.verdicts.items()),
        "Products μ¹_nμ²_n on the biactive set: "
        + ", ".join(_nice(p) for p in res.products.values()),
        "",
        "(PP): add β·Σ(v_n − σ(u_n)); ∂v_n gets +β, ∂u_n gets ζ_n ∈ ∂(−βσ)(0) = {−β, −αβ}, μ ≥ 0:",
        "  n = 1 (r = 1):  μ¹+μ² = 2+β, μ¹+αμ² = −ζ; ζ = −β gives μ² = 2/(1−α), μ¹ = β − 2α/(1−α) ≥ 0 iff β ≥ 2α/(1−α);",
        "                  ζ = −αβ gives μ¹ = −2α/(1−α) < 0.",
        "  n = 2 (r = −1): μ¹+μ² = β−2; ζ = −β gives μ² = −2/(1−α) < 0; ζ = −αβ gives μ² = β − 2/(1−α) ≥ 0",
        "                  iff β ≥ 2/(1−α), μ¹ = 2α/(1−α) ≥ 0.",
        f"KKT point of (PP) iff {_beta_text(res)}  (for every {INTERVAL.start} < α < {INTERVAL.end}).",
        "",
        "Reading: the point is MPCC W- but not C-stationary for (P), matching that it is not Clarke-stationary",
        "for f; yet for β ≥ 2/(1−α) it is a KKT (= l-stationary, by the talk's Lemma 2) point of (PP). So KKT",
        "points of (PP) need the talk's extra 'some conditions' to be C-stationary for (P).",
        "Cross-check: tests/cases/test_talk_cases.py asks ialam_verify.stationarity.classify the same",
        "questions in floating point (α = 1/4; β on both sides of 8/3) and gets the same verdicts.",
    ]
    return "\n".join(lines)


CASE = CustomCase(
    name=NAME,
    title="Example (3) lifted: MPCC notions of (P) at (w, b, v, u) = (0, 1, 0, 0, 0, 0, 0, 0); KKT of (PP) for which β",
    source="Liu, Liu & Chen, SIAM OP23 talk (2023), slides 'Stationary Point of (P)', 'Stationary Point of (PP)'",
    rows_fn=rows,
    explain_fn=explain,
)
