"""Helpers for property-based tests of training and certification code (``docs/testing.md``).

- Assertions, in the manner of ``numpy.testing`` (no extra dependency):
  :func:`assert_stationary`, :func:`assert_not_stationary`, :func:`assert_certified`,
  :func:`verdicts_of`.
- :func:`save_certificate`: keep a failing example's certificate (atomic JSON); the pytest fixture
  ``keep_certificate`` is in :mod:`ialam_verify.testing.pytest_plugin`.
- :mod:`ialam_verify.testing.strategies`: hypothesis strategies (networks, data sets, lifted points,
  MPCC instances of a known class, piecewise-linear functions with known subdifferentials); needs
  hypothesis (the ``test`` extra) and is imported only when used.
- :mod:`ialam_verify.testing.oracles`: independent references (brute-force multiplier enumeration,
  sampled gradients of piecewise-linear functions).
"""

from __future__ import annotations

import importlib
from typing import Any

from .asserts import (
    NotionView,
    assert_certified,
    assert_not_stationary,
    assert_stationary,
    verdicts_of,
)
from .failures import save_certificate

__all__ = [
    "NotionView",
    "assert_certified",
    "assert_not_stationary",
    "assert_stationary",
    "oracles",
    "save_certificate",
    "strategies",
    "verdicts_of",
]


def __getattr__(name: str) -> Any:
    # strategies need hypothesis: imported on first use, with a clear ImportError if it is missing
    if name in ("strategies", "oracles"):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
