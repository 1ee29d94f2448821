"""A non-editable install runs the user's example from outside the source tree (slow: ~1 min)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(cmd, cwd, timeout=900):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["HYPOTHESIS_PROFILE"] = "default"
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_pip_install_non_editable_then_the_example_passes(tmp_path):
    """``python -m venv --system-site-packages`` (numpy, scipy, cvxpy, hypothesis, pytest come from
    the system) and ``pip install --no-deps`` of a clean copy of the sources: the package imported
    is the venv's copy, not the editable one of the system, and the example passes from a folder
    outside the source tree with PYTHONPATH unset."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", "build", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache", "runs"
        ),
    )
    venv = tmp_path / "venv"
    out = _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], tmp_path)
    assert out.returncode == 0, out.stderr
    py = str(venv / "bin" / "python")
    pip = [py, "-m", "pip", "install", "-q", "--no-deps", "--no-cache-dir"]
    out = _run([*pip, "--no-build-isolation", str(src)], tmp_path)
    if out.returncode != 0:  # no 'wheel' in the system: let pip build in isolation (PyPI)
        out = _run([*pip, str(src)], tmp_path)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    shutil.rmtree(src)  # nothing may come from the sources from here on

    run_dir = tmp_path / "user"
    run_dir.mkdir()
    probe = (
        "import ialam_verify, ialam_verify.testing.strategies as s;"
        "from ialam_verify.cases import load_cases;"
        "print(ialam_verify.__file__); print(len(load_cases()))"
    )
    out = _run([py, "-c", probe], run_dir)
    assert out.returncode == 0, out.stderr[-2000:]
    where, n_cases = out.stdout.split()[-2:]
    assert where.startswith(str(venv)), where  # not the editable install of the system
    assert int(n_cases) > 0  # the case files ship inside the package

    shutil.copy(ROOT / "examples" / "test_my_training.py", run_dir)
    out = _run([py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_training.py"], run_dir)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert " passed" in out.stdout and " failed" not in out.stdout
