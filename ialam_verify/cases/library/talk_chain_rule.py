"""The talk's "chain rule does not hold" example (slide "Existing Approaches: SGD-based Methods")."""

import sympy as sp

from ialam_verify.cases import Case, Claim, relu

z = sp.Symbol("z")
x1, x2 = -1, 1
y1, y2 = -2, 0
f = (
    sp.Rational(1, 2) * (-relu(z * x1) + relu(z * x2) + 1) ** 2
    + sp.Rational(1, 2) * (-relu(z * y1) + relu(z * y2) + 1) ** 2
)

CASE = Case(
    name="talk_chain_rule",
    title="f(z) = ½(−(z x₁)₊ + (z x₂)₊ + 1)² + ½(−(z y₁)₊ + (z y₂)₊ + 1)², x = (−1, 1), y = (−2, 0), at z = 0",
    source="Liu, Liu & Chen, SIAM OP23 talk (2023), slide 'Existing Approaches: SGD-based Methods (Cont'd)'",
    f=f,
    variables=[z],
    point=[0],
    claims=[
        Claim(
            "ad",
            (0,),
            "SGD calculate g(z) := ... as one derivative of f at z, h(z) := sign(z_+)  (g(0) = 0)",
        ),
        Claim("clarke_stationary", False, "however, 0 is not a stationary point!"),
        Claim("limiting_stationary", False, "however, 0 is not a stationary point!"),
    ],
    notes="""
The talk's g has a typo: its second term reads x₂ h(z y₂) where the chain rule gives y₂ h(z y₂). Since
y₂ = 0, h(z y₂) = h(0) = sign(0₊) = 0 for every z, so the typo changes nothing: both versions of g
vanish identically in that term (checked in tests/cases/test_talk_cases.py). On z > 0, f = ½(z+1)² + ½,
on z < 0, f = ½(z+1)² + ½(1+2z)², so f'(0⁺) = 1 and f'(0⁻) = 3: a concave kink whose one-sided
derivatives are both positive, while the AD value g(0) = 0 lies outside the Clarke set [1, 3].
""",
)
