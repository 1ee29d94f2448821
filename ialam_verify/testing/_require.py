"""Import guards: the strategies need hypothesis (the ``test`` extra); nothing else here does."""

from __future__ import annotations

from types import ModuleType

INSTALL_HINT = (
    "ialam_verify.testing.strategies needs hypothesis, which is part of the 'test' extra: "
    'pip install "ialam-verify[test]" (or pip install hypothesis)'
)


def hypothesis_strategies() -> ModuleType:
    """Return ``hypothesis.strategies``, or raise ImportError saying which extra to install."""
    try:
        from hypothesis import strategies
    except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(INSTALL_HINT) from exc
    return strategies
