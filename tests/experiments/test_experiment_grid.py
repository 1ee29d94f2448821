"""The whole grid pipeline on a tiny grid (CI), its resume, and the grid file checks."""

from __future__ import annotations

import copy
import itertools
import json
import os
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("joblib")

from ialam_verify.cli import main  # noqa: E402
from ialam_verify.experiments.grid import (  # noqa: E402
    AXES,
    load_grid,
    problems,
    validate_grid,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "experiments" / "tiny_grid.json"
FULL = ROOT / "experiments" / "mnist_grid.json"
MNIST = ROOT.parent / "shared" / "data" / "mnist"


def test_grid_files_are_valid() -> None:
    for path in (TINY, FULL):
        grid = load_grid(path)
        specs = problems(grid)
        n = 1
        for k in AXES:
            n *= len(grid["axes"][k])
        assert len(specs) == n == len({s["id"] for s in specs})
        assert [tuple(s[k] for k in AXES) for s in specs] == [
            (a, list(b), c, d, e)
            for a, b, c, d, e in itertools.product(*(grid["axes"][k] for k in AXES))
        ]
    assert len(problems(load_grid(FULL))) == 720


def test_bad_grids_are_refused() -> None:
    good = json.loads(TINY.read_text())
    validate_grid(copy.deepcopy(good))
    for path, value, match in [
        (("axes", "alpha"), [1.5], "alpha"),
        (("axes", "n_samples"), [0], "n_samples"),
        (("axes", "widths"), [[0]], "widths"),
        (("axes", "seed"), [], "seed"),
        (("methods",), ["IALAM", "Nesterov"], "unknown method"),
    ]:
        g = copy.deepcopy(good)
        g[path[0]] = value if len(path) == 1 else {**g[path[0]], path[1]: value}
        with pytest.raises(ValueError, match=match):
            validate_grid(g)
    g = copy.deepcopy(good)
    del g["budget"]
    with pytest.raises(ValueError, match="budget"):
        validate_grid(g)


@pytest.mark.skipif(not MNIST.is_dir(), reason=f"MNIST not at {MNIST}")
def test_tiny_grid_end_to_end_with_resume(tmp_path: Path, capsys) -> None:
    out = tmp_path / "grid"
    argv = ["compare", "--grid", str(TINY), "--out", str(out), "--n-jobs", "2", "--no-progress"]
    assert main(argv) == 0
    grid = load_grid(TINY)
    files = {s["id"]: out / f"{s['id']}.json" for s in problems(grid)}
    assert all(f.is_file() for f in files.values())
    for f in files.values():
        res = json.loads(f.read_text())
        assert set(res["methods"]) == set(grid["methods"])
        for name, r in res["methods"].items():
            assert r["status"] in ("ok", "converged", "max_outer", "time_cap"), (name, r["message"])
            assert r["final"]["train_err"] >= 0 and 0 <= r["final"]["test_accuracy"] <= 1
    for png in ("profile_train_err.png", "profile_test_err.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    prof = json.loads((out / "profiles.json").read_text())
    assert len(prof["train_err"]["problems"]) == len(files)
    # resume: nothing is redone; a removed result is redone, the other file is untouched
    first, second = list(files.values())
    os.utime(second, (1, 1))
    first.unlink()
    capsys.readouterr()
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "1 run now, 1 already done, 2 in all" in text
    assert first.is_file() and second.stat().st_mtime == 1


@pytest.mark.parametrize("backend", ["ray", "dask"])
def test_cluster_backend_without_its_package_is_a_clear_error(backend: str, monkeypatch) -> None:
    import sys

    from ialam_verify.experiments.grid import _prepare_backend

    for mod in ("ray", "ray.util", "ray.util.joblib", "distributed"):
        monkeypatch.setitem(sys.modules, mod, None)  # import fails as if not installed
    with pytest.raises(ValueError, match=f"backend '{backend}' needs"):
        _prepare_backend(backend)


def test_wins_line_reads_as_a_sentence() -> None:
    from ialam_verify.experiments.grid import wins_line

    summary = {"train_err": {"problems": ["p1", "p2"], "wins": {"IALAM": 0, "SGD": 2, "Adam": 1}}}
    assert wins_line(summary, "train_err") == (
        "TrainErr: number of the 2 problems on which each method is best (ties count for each): "
        "IALAM 0, SGD 2, Adam 1"
    )


def test_profiles_of_a_grid_where_every_method_failed_on_a_problem_exit_3(
    tmp_path: Path, capsys
) -> None:
    grid = load_grid(TINY)
    specs = problems(grid)
    for k, spec in enumerate(specs):
        methods = {
            m: {"status": "ok", "final": {"train_err": 1.0 + j, "test_err": 2.0 + j}}
            for j, m in enumerate(grid["methods"])
        }
        if k == 0:  # every method failed on the first problem
            methods = {m: {"status": "failed", "final": None} for m in grid["methods"]}
        (tmp_path / f"{spec['id']}.json").write_text(json.dumps({"methods": methods}))
    argv = ["compare", "--grid", str(TINY), "--out", str(tmp_path), "--profiles-only"]
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert f"no method produced a usable network on {specs[0]['id']}" in err
    assert f"number of the {len(specs)} problems on which each method is best" in out
    assert (tmp_path / "profile_train_err.png").read_bytes()[:4] == b"\x89PNG"
