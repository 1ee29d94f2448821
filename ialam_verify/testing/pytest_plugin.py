"""A pytest fixture that keeps the certificates of failing tests.

Enable it in a ``conftest.py``::

    pytest_plugins = ["ialam_verify.testing.pytest_plugin"]

and use it in a test::

    def test_training_is_stationary(keep_certificate):
        cert = certify(result)
        keep_certificate(cert, name="final")
        assert_certified(cert, "KKT")

When the test fails (and only then) every kept certificate is written, atomically, to
``<folder>/<test id>/<name>.json``; the folder is ``$IALAM_VERIFY_FAILURES`` or
``.ialam-verify-failures`` under pytest's rootdir. Passing tests write nothing. With hypothesis,
only the last (shrunk) example's certificate is written, since each example replaces the kept ones
of the same name.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from .failures import save_certificate

_KEY = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any):
    report = yield
    if report.when == "call":
        item.stash.setdefault(_KEY, {})["failed"] = report.failed
    return report


def failures_folder(config: pytest.Config) -> Path:
    """Where failing certificates go: ``$IALAM_VERIFY_FAILURES`` or ``<rootdir>/.ialam-verify-failures``."""
    env = os.environ.get("IALAM_VERIFY_FAILURES")
    return Path(env) if env else Path(config.rootpath) / ".ialam-verify-failures"


@pytest.fixture
def keep_certificate(request: pytest.FixtureRequest):
    """``keep_certificate(certificate, name="certificate", **extra)``: remember a certificate;
    it is written to :func:`failures_folder` only if the test fails."""
    kept: dict[str, tuple[Any, dict[str, Any]]] = {}

    def keep(certificate: Any, name: str = "certificate", **extra: Any) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ValueError(f"name must be letters, digits, '_', '.', '-'; got {name!r}")
        kept[name] = (certificate, extra)

    yield keep
    if request.node.stash.get(_KEY, {}).get("failed") and kept:
        folder = failures_folder(request.config) / re.sub(
            r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid
        )
        folder.mkdir(parents=True, exist_ok=True)
        for name, (cert, extra) in kept.items():
            save_certificate(cert, folder / f"{name}.json", extra=extra)
