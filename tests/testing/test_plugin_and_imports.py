"""The pytest fixture keeps certificates of failing tests only; hypothesis is needed only by the
strategies, and its absence is explained."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TESTS = """
import numpy as np
from ialam_verify.stationarity import MPCC, classify
from ialam_verify.testing import assert_certified

pytest_plugins = ["ialam_verify.testing.pytest_plugin"]

# f = -x - y at the biactive origin of 0 <= x _|_ y >= 0: C-stationary, not S (by hand)
PROB = MPCC.create([-1.0, -1.0], G=[0.0], JG=[[1.0, 0.0]], H=[0.0], JH=[[0.0, 1.0]])


def test_fails(keep_certificate):
    cert = classify(PROB)
    keep_certificate(cert, name="final", note="planted")
    assert_certified(cert, "S", problem=PROB)


def test_passes(keep_certificate):
    cert = classify(PROB)
    keep_certificate(cert, name="final")
    assert_certified(cert, "C", problem=PROB)
"""


def test_keep_certificate_writes_only_for_failing_tests(tmp_path):
    (tmp_path / "test_kept.py").write_text(TESTS)
    out_dir = tmp_path / "kept"
    env = dict(os.environ, PYTHONPATH=str(ROOT), IALAM_VERIFY_FAILURES=str(out_dir))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_kept.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert "1 failed, 1 passed" in out.stdout, out.stdout[-3000:]
    files = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.json"))
    assert files == ["test_kept.py_test_fails/final.json"], files
    doc = json.loads((out_dir / files[0]).read_text())
    assert doc["extra"] == {"note": "planted"}
    from ialam_verify.stationarity import Certificate

    assert Certificate.from_dict(doc["certificate"]).results["S"].verdict == "fails"


def test_assertions_import_without_hypothesis_and_strategies_say_what_to_install():
    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import ialam_verify.testing as t\n"
        "assert callable(t.assert_stationary)\n"
        "try:\n"
        "    import ialam_verify.testing.strategies\n"
        "except ImportError as exc:\n"
        "    print('IMPORT-ERROR:', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "IMPORT-ERROR:" in out.stdout
    assert "'test' extra" in out.stdout and "pip install" in out.stdout
