"""The talk's output evaluation: TrainErr, TestErr, FeasVi, column sparse ratio, accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._validation import check_nonnegative
from .model.network import mean_squared_error, predict

#: Default tolerance below which a column of some W_l counts as zero in the column sparse ratio.
COLUMN_ZERO_TOL = 1e-6


def column_norms(W: Sequence[np.ndarray]) -> np.ndarray:
    r"""The :math:`\ell_2` norms of all columns of :math:`W_1, \dots, W_L`, concatenated."""
    return np.concatenate([np.linalg.norm(Wl, axis=0) for Wl in W])


def column_sparse_ratio(W: Sequence[np.ndarray], eps: float = COLUMN_ZERO_TOL) -> float:
    r"""Fraction of the :math:`\sum_{\ell=0}^{L-1} N_\ell` columns of all :math:`W_\ell` with norm below ``eps``."""
    eps = check_nonnegative("eps", eps)
    norms = column_norms(W)
    return float(np.mean(norms < eps))


def is_one_hot(Y: np.ndarray) -> bool:
    """Whether every column of ``Y`` is a standard basis vector (classification targets)."""
    return bool(Y.shape[0] > 1 and np.all((Y == 0) | (Y == 1)) and np.all(np.sum(Y, axis=0) == 1))


def accuracy(
    W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray, alpha: float
) -> float | None:
    """Share of samples whose largest output is at the target's 1; ``None`` unless ``Y`` is one-hot."""
    if not is_one_hot(Y):
        return None
    out = predict(W, b, X, alpha)
    return float(np.mean(np.argmax(out, axis=0) == np.argmax(Y, axis=0)))


def evaluate(
    W: Sequence[np.ndarray],
    b: Sequence[np.ndarray],
    alpha: float,
    X: np.ndarray,
    Y: np.ndarray,
    X_test: np.ndarray | None = None,
    Y_test: np.ndarray | None = None,
    eps: float = COLUMN_ZERO_TOL,
) -> dict[str, float | None]:
    """TrainErr, TestErr, column sparse ratio, accuracy and TestAcc of a network, as a dict."""
    have_test = X_test is not None and Y_test is not None
    return {
        "train_err": mean_squared_error(W, b, X, Y, alpha),
        "test_err": mean_squared_error(W, b, X_test, Y_test, alpha) if have_test else None,
        "column_sparse_ratio": column_sparse_ratio(W, eps),
        "accuracy": accuracy(W, b, X, Y, alpha),
        "test_accuracy": accuracy(W, b, X_test, Y_test, alpha) if have_test else None,
    }
