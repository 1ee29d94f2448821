"""The talk's synthetic problems and user data files.

Synthetic data: inputs :math:`x \\sim N(0, I)`; targets from a random leaky-ReLU *teacher* network of
the same shape (weights N(0, 1), biases 0.1 N(0, 1)); a test set of :math:`N_{test} = \\lceil N/5
\\rceil` samples drawn the same way, as the talk says.
"""

from __future__ import annotations

import math
import os
import zipfile

import numpy as np

from .._validation import as_float_array, check_alpha, check_sizes
from ..model.dataset import Dataset
from ..model.network import predict

#: The shapes of the talk's synthetic panels (a)-(c): (N_0, N_1, ..., N_L) with N_0 = 10, N_L = 2.
TALK_SHAPES: dict[str, tuple[int, ...]] = {
    "L2": (10, 10, 2),
    "L3": (10, 5, 5, 2),
    "L4": (10, 4, 3, 3, 2),
}


#: Second word of the synthetic data's seed, so their stream differs from the initialization's.
DATA_STREAM = 0xDA7A


def synthetic(
    sizes: tuple[int, ...] = TALK_SHAPES["L2"],
    n_samples: int = 500,
    alpha: float = 0.1,
    seed: int = 0,
    noise: float = 0.0,
) -> Dataset:
    """A teacher-student regression problem of the talk's kind (see the module docstring)."""
    sizes = check_sizes(sizes)
    alpha = check_alpha(alpha)
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
    # The data get their own random stream, never the one `init_weights` draws from for the same seed:
    # with one shared stream, a student initialized with the data's seed starts as a scaled copy of
    # the teacher (that happened here once, and made every method look excellent).
    rng = np.random.default_rng([int(seed), DATA_STREAM])
    W = [rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [0.1 * rng.standard_normal(o) for o in sizes[1:]]
    n_test = math.ceil(n_samples / 5)
    X = rng.standard_normal((sizes[0], n_samples))
    X_test = rng.standard_normal((sizes[0], n_test))
    Y = predict(W, b, X, alpha) + noise * rng.standard_normal((sizes[-1], n_samples))
    Y_test = predict(W, b, X_test, alpha) + noise * rng.standard_normal((sizes[-1], n_test))
    return Dataset(X, Y, X_test, Y_test, name=f"synthetic{sizes}-N{n_samples}-seed{seed}")


def load_npz(path: str | os.PathLike[str]) -> Dataset:
    """Load ``X``, ``Y`` and optional ``X_test``, ``Y_test`` (samples as columns) from an ``.npz`` file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"data file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"data file {path} is not a readable .npz file: {exc}") from exc
    for key in ("X", "Y"):
        if key not in arrays:
            raise ValueError(
                f"data file {path} must hold an array {key!r}; it has {sorted(arrays)}"
            )
    X = as_float_array(f"{path}:X", arrays["X"], ndim=2)
    Y = as_float_array(f"{path}:Y", arrays["Y"], ndim=2)
    if Y.shape[1] != X.shape[1]:
        raise ValueError(
            f"{path}: X and Y must have the same number of columns (samples); got "
            f"{X.shape} and {Y.shape}"
        )
    X_test = Y_test = None
    if ("X_test" in arrays) != ("Y_test" in arrays):
        raise ValueError(f"{path}: X_test and Y_test go together; found only one of them")
    if "X_test" in arrays:
        X_test = as_float_array(f"{path}:X_test", arrays["X_test"], ndim=2)
        Y_test = as_float_array(f"{path}:Y_test", arrays["Y_test"], ndim=2)
        if (
            X_test.shape[0] != X.shape[0]
            or Y_test.shape[0] != Y.shape[0]
            or X_test.shape[1] != Y_test.shape[1]
        ):
            raise ValueError(
                f"{path}: X_test, Y_test shapes {X_test.shape}, {Y_test.shape} do not "
                f"match X, Y shapes {X.shape}, {Y.shape}"
            )
    return Dataset(X, Y, X_test, Y_test, name=os.path.basename(str(path)))
