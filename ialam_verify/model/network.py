"""The leaky-ReLU network of the talk's problem (1).

Samples are columns, as in the talk: ``X`` is ``N_0 x N`` and ``Y`` is ``N_L x N``. Layer ``l`` (1-based
in the formulas, ``l - 1`` in Python lists) has weights ``W_l`` of shape ``N_l x N_{l-1}`` and bias ``b_l``
of length ``N_l``; the same activation ``sigma(z) = max(z, alpha z)`` acts on every layer, the last one
included.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import as_float_array, check_alpha, check_sizes


def leaky_relu(z: np.ndarray, alpha: float) -> np.ndarray:
    r"""Leaky ReLU :math:`\sigma(z) = \max(z, \alpha z)` for :math:`0 \le \alpha < 1`, elementwise."""
    return np.where(z >= 0.0, z, alpha * z)


def forward(
    W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray, alpha: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r"""Run the network on the columns of ``X``.

    Returns the pre-activations :math:`U_\ell = W_\ell V_{\ell-1} + b_\ell 1^T` and the activations
    :math:`V_\ell = \sigma(U_\ell)`, :math:`\ell = 1, \dots, L`, with :math:`V_0 = X`.
    """
    U: list[np.ndarray] = []
    V: list[np.ndarray] = []
    prev = X
    for Wl, bl in zip(W, b, strict=True):
        Ul = Wl @ prev + bl[:, None]
        Vl = leaky_relu(Ul, alpha)
        U.append(Ul)
        V.append(Vl)
        prev = Vl
    return U, V


def predict(
    W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray, alpha: float
) -> np.ndarray:
    """The network's output ``V_L`` (``N_L x N``) on the columns of ``X``."""
    return forward(W, b, X, alpha)[1][-1]


def mean_squared_error(
    W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray, alpha: float
) -> float:
    r"""TrainErr / TestErr of the talk: :math:`\frac1N \sum_n \|\mathrm{net}(x_n) - y_n\|^2`."""
    out = predict(W, b, X, alpha)
    return float(np.sum((out - Y) ** 2) / X.shape[1])


def init_weights(
    sizes: Sequence[int], rng: np.random.Generator, scale: str | float = "fan_in"
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r"""Random weights and zero biases, as the talk's initialization ``W_l = randn(N_l, N_{l-1}) / N``.

    The talk's ``/N`` is ambiguous (sample count or width). ``scale`` chooses the divisor:

    - ``"fan_in"`` (default): divide by :math:`\sqrt{N_{\ell-1}}`, so activations keep their size
      through the layers (see ``docs/algorithm.md`` for the measurement behind this default);
    - ``"width"``: divide by :math:`N_{\ell-1}`;
    - a number ``s``: divide by ``s`` (``s = N`` is the literal reading with the sample count).

    :func:`match_output_scale` then rescales to the targets' size (the solver's default).
    """
    sizes = check_sizes(sizes)
    W: list[np.ndarray] = []
    b: list[np.ndarray] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        if scale == "fan_in":
            div = np.sqrt(n_in)
        elif scale == "width":
            div = float(n_in)
        elif isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0:
            div = float(scale)
        else:
            raise ValueError(f"scale must be 'fan_in', 'width' or a positive number; got {scale!r}")
        W.append(rng.standard_normal((n_out, n_in)) / div)
        b.append(np.zeros(n_out))
    return W, b


def check_network(
    W: Sequence[np.ndarray], b: Sequence[np.ndarray], alpha: float, *, allow_relu: bool = True
) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Validate a list of weights and biases; return float copies and alpha."""
    if len(W) == 0 or len(W) != len(b):
        raise ValueError(
            f"W and b must be non-empty lists of equal length; got {len(W)} and {len(b)}"
        )
    Wc = [as_float_array(f"W[{i}]", Wl, ndim=2) for i, Wl in enumerate(W)]
    bc = [as_float_array(f"b[{i}]", bl, ndim=1) for i, bl in enumerate(b)]
    for i in range(len(Wc)):
        if bc[i].shape[0] != Wc[i].shape[0]:
            raise ValueError(f"b[{i}] must have length {Wc[i].shape[0]}; got {bc[i].shape[0]}")
        if i > 0 and Wc[i].shape[1] != Wc[i - 1].shape[0]:
            raise ValueError(
                f"W[{i}] must have {Wc[i - 1].shape[0]} columns to follow W[{i - 1}]; "
                f"got shape {Wc[i].shape}"
            )
    return Wc, bc, check_alpha(alpha, allow_zero=allow_relu)


def match_output_scale(
    W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray, Y: np.ndarray, alpha: float
) -> list[np.ndarray]:
    r"""Rescale all weights by one factor :math:`c` so that the network's output has the RMS of ``Y``.

    With zero biases the network is positively homogeneous of degree :math:`L` in the weights
    (:math:`\sigma(cz) = c\sigma(z)` for :math:`c > 0`), so scaling every :math:`W_\ell` by
    :math:`c = (\mathrm{rms}(Y)/\mathrm{rms}(\mathrm{net}(X)))^{1/L}` scales the output by exactly
    :math:`c^L`. Biases must be zero (they are at initialization); otherwise ``ValueError``.
    """
    if any(np.any(bl != 0) for bl in b):
        raise ValueError("match_output_scale needs zero biases (the initialization's)")
    out = predict(W, b, X, alpha)
    rms_out = float(np.sqrt(np.mean(out**2)))
    rms_y = float(np.sqrt(np.mean(np.asarray(Y) ** 2)))
    if rms_out == 0.0 or rms_y == 0.0:
        return [np.array(Wl, dtype=float) for Wl in W]
    c = (rms_y / rms_out) ** (1.0 / len(W))
    return [c * np.asarray(Wl, dtype=float) for Wl in W]
