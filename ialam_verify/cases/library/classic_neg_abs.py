"""−|x| at 0: Clarke-stationary but not limiting-stationary; a local maximizer."""

import sympy as sp

from ialam_verify.cases import Case, Claim, Hull, Points

x = sp.Symbol("x")

CASE = Case(
    name="classic_neg_abs",
    title="f(x) = −|x| at x = 0",
    source="Rockafellar & Wets (1998), Variational Analysis, Ch. 8 (regular vs. general subgradients); Clarke (1983), Ch. 2",
    f=-sp.Abs(x),
    variables=[x],
    point=[0],
    claims=[
        Claim(
            "clarke",
            Hull([(-1,), (1,)]),
            "Clarke's set is the convex hull of the limiting one: [−1, 1]",
        ),
        Claim("limiting", Points([(-1,), (1,)]), "∂(−|·|)(0) = {−1, 1}"),
        Claim("frechet", Hull([]), "no regular (Fréchet) subgradient at a concave kink"),
        Claim("clarke_stationary", True, "0 ∈ [−1, 1]"),
        Claim("limiting_stationary", False, "0 ∉ {−1, 1}"),
        Claim("local_minimizer", False, "0 is a strict local maximizer"),
        Claim(
            "ad",
            (0,),
            "AD: d|x|/dx at 0 = sign(0) = 0, so −|x| gets 0: a spurious 'critical point'",
        ),
    ],
    notes="The standard example separating Clarke from limiting stationarity: the Clarke set fills in the gap between −1 and 1.",
)
