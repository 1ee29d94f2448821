"""IALAM against the SGD family (needs the ``bench`` extra: torch, matplotlib, joblib).

- :mod:`.measure`: what is measured, by the same numpy code for every method.
- :mod:`.baselines`: SGD, Adagrad, AdagradDecay, Adadelta, Adam, Adamax on problem (1), the group
  lasso as a subgradient or as a proximal step; the learning-rate search.
- :mod:`.runner`: one comparison run, its tables at equal wall time and equal epochs.
- :mod:`.plots`: PNG plots against wall time and epochs; :mod:`.styles`: one colour-and-style per
  method, shared by every plot.
- :mod:`.grid`: a grid of MNIST problems through joblib (resumable), and :mod:`.profiles`: the
  Dolan-Moré performance profiles.
- :mod:`.progress`: the progress bar.

torch is imported only inside the functions that train, so that importing this package is cheap.
"""

from .measure import METRICS, Context, measure, sparsity
from .profiles import performance_ratios, profile

__all__ = ["METRICS", "Context", "measure", "performance_ratios", "profile", "sparsity"]
