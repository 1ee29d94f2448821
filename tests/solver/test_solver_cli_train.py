"""``ialam-verify train``: one JSON object with the documented keys; bad input exits 2 naming it."""

from __future__ import annotations

import json

from ialam_verify.cli import main

KEYS = {
    "train_err",
    "test_err",
    "feas_vi",
    "column_sparse_ratio",
    "accuracy",
    "outer_iterations",
    "inner_iterations",
    "seconds",
    "success",
}


def test_train_json_prints_one_object(capsys):
    rc = main(["train", "--json", "--max-outer", "3", "--n-samples", "100"])
    out = capsys.readouterr().out
    assert rc == 0
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert isinstance(obj, dict) and KEYS <= obj.keys()
    assert obj["outer_iterations"] == 3
    assert obj["success"] is False  # stopped by the iteration cap, not the stopping test
    assert obj["inner_iterations"] >= 3
    for k in ("train_err", "test_err", "feas_vi", "column_sparse_ratio", "seconds"):
        assert isinstance(obj[k], float) and obj[k] >= 0.0, k
    assert obj["accuracy"] is None  # regression targets are not one-hot


def test_train_default_shape_json(capsys):
    rc = main(["train", "--json", "--max-outer", "3"])
    assert rc == 0
    obj = json.loads(capsys.readouterr().out)
    assert KEYS <= obj.keys() and obj["outer_iterations"] == 3


def test_bad_alpha_exits_2_naming_it(capsys, tmp_path):
    rc = main(["train", "--alpha", "1.5", "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "alpha" in err and "1.5" in err
    assert list(tmp_path.iterdir()) == []  # nothing written
