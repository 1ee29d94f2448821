"""relu(x) − relu(−x) = x: AD returns 0 at x = 0 although f is the identity."""

import sympy as sp

from ialam_verify.cases import Case, Claim, Hull, relu

x = sp.Symbol("x")

CASE = Case(
    name="classic_kakade_lee",
    title="f(x) = (x)₊ − (−x)₊ (= x) at x = 0",
    source="Kakade & Lee (2018), 'Provably correct automatic subdifferentiation for qualified programs', NeurIPS 31 (arXiv:1809.08530), introduction",
    f=relu(x) - relu(-x),
    variables=[x],
    point=[0],
    claims=[
        Claim("ad", (0,), "with relu'(0) = 0, AD returns 0 (with relu'(0) = 1 it would return 2)"),
        Claim("clarke", Hull([(1,)]), "f(x) = x, so every subdifferential is {1}"),
        Claim("clarke_stationary", False, "the identity has no stationary point"),
    ],
    notes="The AD value is outside every subdifferential: the chain rule for subgradients fails at 0.",
)
