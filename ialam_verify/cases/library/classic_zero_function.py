"""relu(x) − relu(−x) − x ≡ 0: AD returns −1 for the zero function."""

import sympy as sp

from ialam_verify.cases import Case, Claim, Hull, relu

x = sp.Symbol("x")

CASE = Case(
    name="classic_zero_function",
    title="f(x) = (x)₊ − (−x)₊ − x (≡ 0) at x = 0",
    source="Bolte & Pauwels (2021), 'Conservative set valued fields, automatic differentiation, stochastic gradient methods and deep learning', Math. Program. 188 (AD output is a conservative field, not a subgradient); this instance: relu'(0) = 0",
    f=relu(x) - relu(-x) - x,
    variables=[x],
    point=[0],
    claims=[
        Claim(
            "ad",
            (-1,),
            "AD differentiates the program, not the function: it returns 0 − 0 − 1 = −1",
        ),
        Claim("clarke", Hull([(0,)]), "the zero function has derivative 0"),
        Claim("clarke_stationary", True, "every point of the zero function is stationary"),
        Claim("local_minimizer", True, "every point of a constant function is a minimizer"),
    ],
    notes="AD reports a nonzero 'gradient' at a minimizer of a constant function: an artificial non-critical point.",
)
