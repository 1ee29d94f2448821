"""max(x, y) at the origin: Clarke regular; AD at the tie returns the midpoint."""

import sympy as sp

from ialam_verify.cases import Case, Claim, Hull

x, y = sp.symbols("x y")

CASE = Case(
    name="classic_max",
    title="f(x, y) = max(x, y) at (0, 0)",
    source="Clarke (1983), Optimization and Nonsmooth Analysis, §2.3 (pointwise maxima: convex hull of the active gradients)",
    f=sp.Max(x, y),
    variables=[x, y],
    point=[0, 0],
    claims=[
        Claim("clarke", Hull([(1, 0), (0, 1)]), "∂^C max(x, y)(0) = co{(1, 0), (0, 1)}"),
        Claim(
            "frechet",
            Hull([(1, 0), (0, 1)]),
            "max of smooth functions is regular: Fréchet = Clarke",
        ),
        Claim("limiting", Hull([(1, 0), (0, 1)]), "regular: limiting = Clarke"),
        Claim("clarke_stationary", False, "0 ∉ co{(1, 0), (0, 1)}"),
        Claim(
            "ad",
            (sp.Rational(1, 2), sp.Rational(1, 2)),
            "torch.maximum splits the gradient at a tie",
        ),
    ],
    notes="A regular function: all three subdifferentials coincide; AD's tie-breaking returns a Clarke subgradient here.",
)
