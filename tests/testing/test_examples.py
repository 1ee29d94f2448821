"""The user's example runs, and fails readably on a planted non-stationary network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "test_my_training.py"

PLANT = """

# ---- planted by tests/testing/test_examples.py: the trained network moved off its stationary point
import dataclasses as _dc

_trained = train


def train(data):
    result = _trained(data)
    b = [x.copy() for x in result.b]
    b[-1] = b[-1] + 0.5  # shifts every output: the loss derivative in this bias is no longer 0
    point = result.problem.lift(result.W, b)
    return _dc.replace(result, b=b, point=point, xi=None)
"""


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HYPOTHESIS_PROFILE="default")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_the_example_passes(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / EXAMPLE.name)
    out = run_pytest(tmp_path, EXAMPLE.name)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    try:
        import torch  # noqa: F401

        assert "3 passed" in out.stdout, out.stdout[-1000:]
    except ImportError:
        assert "2 passed, 1 skipped" in out.stdout, out.stdout[-1000:]


@pytest.mark.slow
def test_the_example_fails_readably_on_a_planted_non_stationary_network(tmp_path):
    (tmp_path / EXAMPLE.name).write_text(EXAMPLE.read_text() + PLANT)
    out = run_pytest(tmp_path, EXAMPLE.name, "-k", "test_trained_network_is_stationary")
    assert out.returncode == 1, out.stdout[-3000:] + out.stderr[-2000:]
    text = out.stdout
    assert "1 failed" in text
    for line in (
        "AssertionError: Stationarity assertion failed: expected KKT to hold.",
        "notion:   KKT",
        "verdict:  fails -- ",
        "residual: ",
        "(KKT holds for tol >= epsilon, as far as the search established; tol = 0.001 relative",
        "worst violated condition: ",
        "other notions: Clarke fails",
    ):
        assert line in text, (line, text[-3000:])
