"""Hypothesis strategies for property-based tests of training and certification code.

Composable, in the manner of ``xarray.testing.strategies``: every size or parameter is an ``int`` /
value, a strategy to draw it from, or ``None`` for a small default range.

Networks, data and points (numbers are dyadic, so planted degeneracies are exact; see
:mod:`ialam_verify.testing._strategies_network`):

- :func:`layer_sizes`, :func:`alphas`, :func:`dyadic`, :func:`dyadic_arrays`, :func:`datasets`;
- :func:`networks` -> :class:`NetworkExample` (weights, biases, alpha, X, Y, exact zero columns and
  exact kinks, planted);
- :func:`problems` -> ``(Problem, NetworkExample)``; :func:`lifted_points` (feasible or not).

MPCC first-order data (:mod:`ialam_verify.testing._strategies_mpcc`):

- :func:`mpcc_instances` -> :class:`MPCCExample` of a class known by construction (S, M, C, A, W,
  none; unique or non-unique multipliers);
- :func:`degenerate_mpccs`: small integer instances of unknown class (compare with
  :func:`ialam_verify.testing.oracles.brute_min_residual`).

Piecewise-linear functions for :func:`ialam_verify.cases.analyze`
(:mod:`ialam_verify.testing._strategies_pl`):

- :func:`pl_functions`: random compositions of unknown subdifferentials;
- :func:`pl_functions_with_subdifferentials` -> :class:`PLExample` with Clarke, limiting and Fréchet
  sets and stationarity verdicts known by construction.

Importing this module needs hypothesis (the ``test`` extra); it raises ``ImportError`` saying so.
"""

from __future__ import annotations

from ._require import hypothesis_strategies

hypothesis_strategies()  # a clear ImportError before anything else when hypothesis is missing

from ._strategies_mpcc import (  # noqa: E402
    CLASSES,
    MPCCExample,
    degenerate_mpccs,
    mpcc_instances,
    pair_notions,
)
from ._strategies_network import (  # noqa: E402
    DYADIC_ALPHAS,
    VIOLATIONS,
    NetworkExample,
    alphas,
    datasets,
    dyadic,
    dyadic_arrays,
    layer_sizes,
    lifted_points,
    networks,
    problems,
)
from ._strategies_pl import (  # noqa: E402
    PLExample,
    affine,
    kink_of,
    pl_functions,
    pl_functions_with_subdifferentials,
)

__all__ = [
    "CLASSES",
    "DYADIC_ALPHAS",
    "VIOLATIONS",
    "MPCCExample",
    "NetworkExample",
    "PLExample",
    "affine",
    "alphas",
    "datasets",
    "degenerate_mpccs",
    "dyadic",
    "dyadic_arrays",
    "kink_of",
    "layer_sizes",
    "lifted_points",
    "mpcc_instances",
    "networks",
    "pair_notions",
    "pl_functions",
    "pl_functions_with_subdifferentials",
    "problems",
]
