"""|x| − |y| at the origin: the limiting set is two segments, not four points."""

import sympy as sp

from ialam_verify.cases import Box, Case, Claim, Hull, Union

x, y = sp.symbols("x y")

CASE = Case(
    name="classic_saddle_abs",
    title="f(x, y) = |x| − |y| at (0, 0)",
    source="Rockafellar & Wets (1998), Variational Analysis, Ch. 8 (limiting subgradients as limits of regular ones); standard example",
    f=sp.Abs(x) - sp.Abs(y),
    variables=[x, y],
    point=[0, 0],
    claims=[
        Claim("clarke", Box([(-1, 1), (-1, 1)]), "∂^C f(0) = [−1, 1] × [−1, 1]"),
        Claim(
            "limiting",
            Union(Hull([(-1, -1), (1, -1)]), Hull([(-1, 1), (1, 1)])),
            "∂f(0) = [−1, 1] × {−1, 1}",
        ),
        Claim("frechet", Hull([]), "no regular subgradient (concave in y)"),
        Claim("clarke_stationary", True, "0 ∈ [−1, 1]²"),
        Claim("limiting_stationary", False, "0 ∉ [−1, 1] × {−1, 1}"),
        Claim("local_minimizer", False, "f(0, t) = −|t| < 0"),
    ],
    notes="On the stratum x = 0, y ≠ 0 the Fréchet subdifferential is the segment [−1, 1] × {−sign y}: limits of such segments give whole segments, which a 'limits of gradients' reading would miss.",
)
