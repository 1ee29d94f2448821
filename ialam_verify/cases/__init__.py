"""Exact cases: stationarity notions on small piecewise-smooth examples, claims beside the truth.

``analyze(f, variables, point)`` computes, exactly, the kinks active at the point, the essentially
active selections and their gradients, the one-sided directional derivatives, the Clarke, Fréchet and
limiting subdifferentials, the stationarity and local-minimality verdicts (each an
:class:`ialam_verify.verdict.Verdict`, true only when it holds), and what automatic differentiation
returns. Cases (shipped in ``ialam_verify/cases/library/``) compare these with what a source claims.

Modules (no import cycles; ``tests/cases/test_cases_modules.py`` checks):

- :mod:`.geometry`: exact polytopes and unions, set algebra, printing (imports ``lp``, ``params``);
- :mod:`.autodiff`: what AD returns, exactly and from torch;
- :mod:`.report`: JSON, Markdown and LaTeX of an analysis; ``verdict_word``;
- :mod:`.minimality`: local minimality (descent rays, sharpness, convexity), :class:`RayWitness`;
- :mod:`.analysis`: the :class:`Analysis` class;
- :mod:`.explain` and :mod:`.case`: the derivation text; claims, rows and loading;
- :mod:`.plot`: the picture of a case (needs matplotlib); :mod:`.lifted`: the MPCC reading.
"""

from ialam_verify.verdict import Verdict

from .analysis import AD_VERDICT_NAMES, VERDICT_NAMES, Analysis, RayWitness, analyze
from .case import Case, Claim, CustomCase, Row, default_folder, load_cases
from .functions import Max2, Min2, leaky_relu, relu
from .geometry import Box, Hull, Points, Polytope, PolyUnion, Union
from .params import ParamSpace, Undetermined
from .report import verdict_word

__all__ = [
    "AD_VERDICT_NAMES",
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
    "VERDICT_NAMES",
    "Verdict",
    "analyze",
    "default_folder",
    "leaky_relu",
    "load_cases",
    "relu",
    "verdict_word",
]
