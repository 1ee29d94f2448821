"""|x| at 0: the convex kink; every notion agrees."""

import sympy as sp

from ialam_verify.cases import Case, Claim, Hull

x = sp.Symbol("x")

CASE = Case(
    name="classic_abs",
    title="f(x) = |x| at x = 0",
    source="Clarke (1983), Optimization and Nonsmooth Analysis, Ch. 2 (the subdifferential of |x| at 0 is [−1, 1])",
    f=sp.Abs(x),
    variables=[x],
    point=[0],
    claims=[
        Claim("clarke", Hull([(-1,), (1,)]), "∂|·|(0) = [−1, 1]"),
        Claim(
            "frechet", Hull([(-1,), (1,)]), "convex f: Fréchet = Clarke = convex subdifferential"
        ),
        Claim("limiting", Hull([(-1,), (1,)]), "convex f: all subdifferentials coincide"),
        Claim("local_minimizer", True, "0 is the global minimizer"),
    ],
    notes="Convex kink: Clarke, Fréchet and limiting sets coincide; AD returns sign(0) = 0, which happens to lie in them.",
)
