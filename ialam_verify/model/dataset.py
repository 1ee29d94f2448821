"""The training data of problem (1): :class:`Dataset` (samples as columns, optional test data)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Training data ``X`` (N_0 x N), ``Y`` (N_L x N) and optional test data, samples as columns."""

    X: np.ndarray
    Y: np.ndarray
    X_test: np.ndarray | None = None
    Y_test: np.ndarray | None = None
    name: str = "data"

    @property
    def n_samples(self) -> int:
        return self.X.shape[1]
