"""Input checks shared by every front door.

Each check raises before any work starts, with a message that names the argument and says what was
expected, so that a user never loses a long run to a typo.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def as_float_array(name: str, value: Any, ndim: int | None = None) -> np.ndarray:
    """Convert ``value`` to a finite float64 array, or raise ``ValueError`` naming ``name``."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; it contains NaN or inf")
    return arr


def check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless ``arr.shape == shape``."""
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got {arr.shape}")


def check_alpha(alpha: Any, *, allow_zero: bool = False) -> float:
    """Leaky-ReLU slope: in (0, 1), or [0, 1) when the ReLU variant is allowed."""
    try:
        a = float(alpha)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"alpha must be a number in (0, 1); got {alpha!r}") from exc
    lo_ok = a >= 0.0 if allow_zero else a > 0.0
    if not (np.isfinite(a) and lo_ok and a < 1.0):
        interval = "[0, 1)" if allow_zero else "(0, 1)"
        raise ValueError(f"alpha must lie in {interval}; got {alpha!r}")
    return a


def check_nonnegative(name: str, value: Any) -> float:
    """A finite scalar >= 0."""
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number >= 0; got {value!r}") from exc
    if not (np.isfinite(x) and x >= 0.0):
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return x


def check_positive(name: str, value: Any) -> float:
    """A finite scalar > 0."""
    x = check_nonnegative(name, value)
    if x <= 0.0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return x


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Layer widths N_0, ..., N_L: at least two positive integers."""
    try:
        out = tuple(int(s) for s in sizes)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sizes must be a sequence of positive integers; got {sizes!r}") from exc
    if len(out) < 2 or any(s <= 0 for s in out) or any(int(s) != s for s in sizes):
        raise ValueError(
            f"sizes must hold at least two positive integers (N_0, ..., N_L); got {sizes!r}"
        )
    return out
