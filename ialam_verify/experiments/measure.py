"""What is measured along every run, IALAM and baselines alike, by the same numpy code.

:func:`measure` evaluates a network ``(W, b)`` with :func:`ialam_verify.metrics.evaluate` and adds the
objective of problem (1), the column sparsity with and without the first-layer columns that belong to
pixels zero in every training image, and the official test set when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data import Dataset
from ..metrics import COLUMN_ZERO_TOL, column_norms, evaluate

#: The keys of every history and of every final record, in table order.
METRICS: tuple[str, ...] = (
    "train_err",
    "test_err",
    "accuracy",
    "test_accuracy",
    "column_sparse_ratio",
    "column_sparse_ratio_excl_zero_inputs",
    "first_layer_sparse_ratio",
    "first_layer_sparse_ratio_excl_zero_inputs",
    "objective",
    "official_test_err",
    "official_test_accuracy",
)


@dataclass(frozen=True)
class Context:
    """Data and parameters that every measurement needs.

    ``zero_inputs`` are the indices of the input rows (pixels) that are zero in every training sample:
    the matching columns of ``W_1`` do not touch the loss, so any method with a group-lasso shrinkage
    zeroes them for free. ``X_official``/``Y_official`` is an extra test set (MNIST's official one).
    """

    data: Dataset
    alpha: float
    lambda_w: float
    zero_inputs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    X_official: np.ndarray | None = None
    Y_official: np.ndarray | None = None
    eps: float = COLUMN_ZERO_TOL


def zero_input_rows(X: np.ndarray) -> np.ndarray:
    """Indices of the rows of ``X`` that are zero in every column."""
    return np.flatnonzero(~np.any(np.asarray(X) != 0.0, axis=1))


def sparsity(
    W: Sequence[np.ndarray], zero_inputs: np.ndarray, eps: float = COLUMN_ZERO_TOL
) -> dict[str, float]:
    r"""Column sparsity of all layers and of the first, with and without the ``zero_inputs`` columns.

    With :math:`Z` the set of zero columns (norm below ``eps``) among the :math:`C = \sum_\ell N_{\ell-1}`
    columns and :math:`D` the first-layer columns listed in ``zero_inputs``:
    ``column_sparse_ratio`` :math:`= |Z|/C`, ``..._excl_zero_inputs`` :math:`= |Z \setminus D|/(C-|D|)`,
    and the same two restricted to the :math:`N_0` columns of :math:`W_1`.
    """
    norms = column_norms(W)
    zero = norms < eps
    n0 = W[0].shape[1]
    keep = np.ones(norms.size, dtype=bool)
    keep[np.asarray(zero_inputs, dtype=np.int64)] = False
    first_keep = keep[:n0]

    def ratio(mask: np.ndarray, sel: np.ndarray) -> float:
        return float(np.mean(mask[sel])) if np.any(sel) else float("nan")

    all_cols = np.ones(norms.size, dtype=bool)
    first = np.zeros(norms.size, dtype=bool)
    first[:n0] = True
    return {
        "column_sparse_ratio": ratio(zero, all_cols),
        "column_sparse_ratio_excl_zero_inputs": ratio(zero, keep),
        "first_layer_sparse_ratio": ratio(zero, first),
        "first_layer_sparse_ratio_excl_zero_inputs": ratio(zero[:n0], first_keep),
    }


def group_lasso(W: Sequence[np.ndarray], lambda_w: float) -> float:
    r""":math:`\mathcal R_1(w) = \lambda_w \sum_\ell \sum_j \|(W_\ell)_{:,j}\|`."""
    return float(lambda_w * np.sum(column_norms(W)))


def measure(
    W: Sequence[np.ndarray], b: Sequence[np.ndarray], ctx: Context, *, official: bool = True
) -> dict[str, float | None]:
    """Every entry of :data:`METRICS` for the network ``(W, b)`` (``None`` where not defined).

    ``official=False`` skips the extra test set (its entries are ``None``): histories measure it only
    at the end, since MNIST's 10,000 official test images would dominate the measuring time.
    """
    d = ctx.data
    out: dict[str, float | None] = dict(
        evaluate(W, b, ctx.alpha, d.X, d.Y, d.X_test, d.Y_test, eps=ctx.eps)
    )
    out.update(sparsity(W, ctx.zero_inputs, ctx.eps))
    out["objective"] = float(out["train_err"]) + group_lasso(W, ctx.lambda_w)  # type: ignore[arg-type]
    if official and ctx.X_official is not None and ctx.Y_official is not None:
        other = evaluate(W, b, ctx.alpha, ctx.X_official, ctx.Y_official)
        out["official_test_err"] = other["train_err"]
        out["official_test_accuracy"] = other["accuracy"]
    else:
        out["official_test_err"] = None
        out["official_test_accuracy"] = None
    for k, v in out.items():
        if isinstance(v, float) and not np.isfinite(v):
            out[k] = None
    return {k: out[k] for k in METRICS}
