"""ialam-verify: IALAM training of group-sparse leaky-ReLU networks, and the certificates that check it.

Layout
------
- :mod:`ialam_verify.model`: the network of problem (1) and the lifted problems (P), (PP), (PP_b).
- :mod:`ialam_verify.solver`: the inexact augmented Lagrangian method (IALAM) with its alternating
  minimization inner loop.
- :mod:`ialam_verify.stationarity`: certificates of KKT / limiting / Clarke stationarity and MPCC
  W/A/C/M/S/B stationarity, by multiplier-existence programs in cvxpy.
- :mod:`ialam_verify.cases`: exact sympy cases, the talk's counterexamples first.
- :mod:`ialam_verify.experiments`: IALAM against the SGD family (needs the ``bench`` extra).
"""

__version__ = "0.1.0"
