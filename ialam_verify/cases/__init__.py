"""Exact cases: stationarity notions on small piecewise-smooth examples, claims beside the truth.

``analyze(f, variables, point)`` computes, exactly, the kinks active at the point, the essentially
active selections and their gradients, the one-sided directional derivatives, the Clarke, Fréchet and
limiting subdifferentials, the stationarity and local-minimality verdicts (with certificates), and what
automatic differentiation returns. Cases (``cases/*.py``) compare these with what a source claims.
"""

from .analysis import Analysis, Polytope, PolyUnion, RayWitness, Verdict, analyze
from .case import Box, Case, Claim, CustomCase, Hull, Points, Row, Union, load_cases
from .functions import Max2, Min2, leaky_relu, relu
from .params import ParamSpace, Undetermined

__all__ = [
    "Analysis",
    "Box",
    "Case",
    "Claim",
    "CustomCase",
    "Hull",
    "Max2",
    "Min2",
    "ParamSpace",
    "Points",
    "PolyUnion",
    "Polytope",
    "RayWitness",
    "Row",
    "Undetermined",
    "Union",
    "Verdict",
    "analyze",
    "leaky_relu",
    "load_cases",
    "relu",
]
