"""A corrected example (3): the same network and point, one more sample; now C- but not l-stationary."""

import sympy as sp

from ialam_verify.cases import Case, Claim, leaky_relu

w1, w2, b1, b2 = sp.symbols("w1 w2 b1 b2")
alpha = sp.Symbol("α")
sigma = lambda s: leaky_relu(s, alpha)  # noqa: E731
samples = [(1, -1), (-1, -2), (0, 3)]  # (x_n, y_n)
f = sum((w2 * sigma(w1 * x + b1) + b2 - y) ** 2 for x, y in samples)

CASE = Case(
    name="talk_example3_corrected",
    title="Σₙ (w₂σ(w₁xₙ+b₁)+b₂−yₙ)², x = (1, −1, 0), y = (−1, −2, 3), at (0, 1, 0, 0), 0 < α < 1/2",
    source="this library: a repair of the talk's example (3) (the network of (3), three samples)",
    f=f,
    variables=[w1, w2, b1, b2],
    point=[0, 1, 0, 0],
    params={alpha: sp.Interval.open(0, sp.Rational(1, 2))},
    claims=[
        Claim("clarke_stationary", True, "wanted: a C-stationary point ..."),
        Claim("limiting_stationary", False, "... that is not l-stationary ..."),
        Claim("local_minimizer", False, "... and not a local minimizer"),
    ],
    corrects="talk_example3",
    notes="""
Residuals at the point are r = (1, 2, −3). The kink of sample 3 (switch b₁) carries the negative weight
2r₃w₂ = −6, a concave kink, so its stratum contributes no Fréchet subgradients; the kinks of samples 1
and 2 (switches w₁ + b₁ and −w₁ + b₁) are convex and contribute segments, none of which contains 0.
Yet the six essentially active piece gradients surround 0, so 0 is in their convex hull.
""",
)
