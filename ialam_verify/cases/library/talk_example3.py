"""The talk's example (3): a C-stationary-but-not-l-stationary point, claimed for 0 < alpha < 1/2."""

import sympy as sp

from ialam_verify.cases import Box, Case, Claim, Points, leaky_relu

w1, w2, b1, b2 = sp.symbols("w1 w2 b1 b2")
alpha = sp.Symbol("α")
eps = sp.Symbol("ε")
sigma = lambda s: leaky_relu(s, alpha)  # noqa: E731
f = (w2 * sigma(w1 + b1) + b2 + 1) ** 2 + (w2 * sigma(2 * w1 + b1) + b2 - 1) ** 2
a = alpha

CASE = Case(
    name="talk_example3",
    title="f(w₁,w₂,b₁,b₂) = (w₂σ(w₁+b₁)+b₂+1)² + (w₂σ(2w₁+b₁)+b₂−1)² at (0, 1, 0, 0), 0 < α < 1/2",
    source="Liu, Liu & Chen, SIAM OP23 talk (2023), slide 'Why l-stationary point?', example (3)",
    f=f,
    variables=[w1, w2, b1, b2],
    point=[0, 1, 0, 0],
    params={alpha: sp.Interval.open(0, sp.Rational(1, 2))},
    claims=[
        Claim(
            "clarke",
            Box([(2 * a - 4, 2 - 4 * a), (0, 0), (-2 + 2 * a, 2 - 2 * a), (0, 0)]),
            "∂^c f = {(t, 0, s, 0)ᵀ : t ∈ [2α − 4, 2 − 4α], s ∈ [−2 + 2α, 2 − 2α]}",
        ),
        Claim(
            "limiting",
            Points(
                [
                    (-2 * a, 0, 0, 0),
                    (2 * a - 4, 0, 2 * a - 2, 0),
                    (2 - 4 * a, 0, 2 - 2 * a, 0),
                    (-2, 0, 0, 0),
                ]
            ),
            "∂f = {(−2α,0,0,0)ᵀ, (2α−4,0,2α−2,0)ᵀ, (2−4α,0,2−2α,0)ᵀ, (−2,0,0,0)ᵀ}",
        ),
        Claim(
            "ray",
            5 * eps**2 - 2 * eps + 2,
            "f(w₁* + ε, w₂*, b₁*, b₂*) = 5ε² − 2ε + 2 < 2 = f(w*), ε a small positive scalar",
            direction=(1, 0, 0, 0),
            t=eps,
        ),
        Claim("value", 2, "... < 2 = f(w₁*, w₂*, b₁*, b₂*)"),
        Claim("clarke_stationary", True, "for any 0 < α < 1/2, (w*) is a C-stationary point"),
        Claim("limiting_stationary", False, "... but is not a l-stationary point"),
        Claim("local_minimizer", False, "... and [not a] local minimizer"),
    ],
    notes="""
Both kinks are active at the point: w₁ + b₁ = 0 and 2w₁ + b₁ = 0, two independent lines in the
(w₁, b₁)-plane, so all four activation patterns are essentially active. With slopes k₁, k₂ ∈ {α, 1} of
the two kinks, the piece gradients are (2k₁ − 4k₂, 0, 2k₁ − 2k₂, 0): the talk's four points are right.
But the Clarke set is their convex hull, the image of the square [α,1]² under the linear map
(k₁, k₂) ↦ (2k₁ − 4k₂, 2k₁ − 2k₂): a parallelogram, not the bounding box the talk writes. The box
contains 0; the parallelogram does not (0 would need k₁ = k₂ = 0): the point is NOT C-stationary, for
every α in (0, 1). The limiting set is also larger than the four points: on the stratum w₁ + b₁ = 0 the
kink enters f with the positive weight 2(w₂σ(w₁+b₁)+b₂+1)w₂ ≈ 2 (a convex kink), so the Fréchet
subdifferential there is a whole segment, and its limits form two segments. The decrease formula
5ε² − 2ε + 2 is right, so "not a local minimizer" holds. See case talk_example3_corrected for a point of
the same network with the property the talk wanted to show.
""",
)
