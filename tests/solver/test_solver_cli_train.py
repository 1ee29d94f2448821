"""``ialam-verify train``: the report, the documented exit codes, refused flags, nothing written on bad input."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

import ialam_verify.solver.pipeline as pipeline_mod
from ialam_verify.cli import main
from ialam_verify.cli._exit_codes import ExitCode
from ialam_verify.verdict import Verdict

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
    "verdict",
    "stages",
}
#: a short pipeline: few samples, a short warm-up, a few outer iterations
QUICK = ["--n-samples", "40", "--warmup-seconds", "0.3", "--max-outer", "5", "--no-refine"]


def test_train_json_prints_one_object_and_exit_3_when_not_certified(capsys):
    rc = main(["train", "--json", *QUICK])
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert isinstance(obj, dict) and KEYS <= obj.keys()
    names = [s["name"] for s in obj["stages"]]
    assert names == ["warm-up", "IALAM", "refinement", "final lift", "verdict"]
    assert obj["outer_iterations"] <= 5
    assert obj["feas_vi"] < 1e-20  # the final lift is exactly feasible up to rounding
    # exit code 0 exactly when the run is a success (a certified KKT point)
    assert rc == (ExitCode.SUCCESS if obj["success"] else ExitCode.RUN_FAILED)
    assert obj["success"] == (obj["verdict"] is not None and obj["verdict"]["outcome"] == "holds")


def test_report_ends_with_failed_and_exit_3(capsys, monkeypatch):
    monkeypatch.setattr(
        pipeline_mod, "certify_kkt", lambda p, x, t=None, witness=None: (Verdict.fails("a descent direction"), "t")
    )
    rc = main(["train", *QUICK])
    cap = capsys.readouterr()
    assert rc == ExitCode.RUN_FAILED == 3
    last = cap.out.strip().splitlines()[-1]
    assert last.startswith("FAILED: the certificate proves this is not a KKT point"), last
    for stage in ("warm-up", "IALAM", "refinement", "final lift", "verdict"):
        assert stage in cap.err, stage


def test_exit_0_only_when_the_verdict_holds(capsys, monkeypatch):
    monkeypatch.setattr(
        pipeline_mod,
        "certify_kkt",
        lambda p, x, t=None, witness=None: (Verdict.holds("witness", residual=1e-9), "test"),
    )
    rc = main(["train", *QUICK])
    out = capsys.readouterr().out
    assert rc == ExitCode.SUCCESS == 0
    assert out.strip().splitlines()[-1].startswith("SUCCESS: certified KKT point of (PP)")


def test_talk_start_reproduces_the_literal_method(capsys):
    rc = main(["train", "--json", "--start", "talk", "--n-samples", "40", "--max-outer", "3"])
    obj = json.loads(capsys.readouterr().out)
    stages = {s["name"]: s for s in obj["stages"]}
    assert "warm-up" not in stages and stages["start"]["message"] == "the talk's random network"
    assert stages["refinement"]["status"] == "skipped"
    assert rc == ExitCode.RUN_FAILED and obj["success"] is False


def test_ctrl_c_exits_130_and_keeps_the_network(tmp_path, capsys, monkeypatch):
    import ialam_verify.solver.ialam as ialam_mod

    real_update = ialam_mod.IALAM.update

    def update(self, state):
        if state.iter_num == 1:
            raise KeyboardInterrupt
        return real_update(self, state)

    monkeypatch.setattr(ialam_mod.IALAM, "update", update)
    rc = main(["train", *QUICK, "--output", str(tmp_path / "run")])
    cap = capsys.readouterr()
    assert rc == ExitCode.INTERRUPTED == 130
    assert "interrupted" in cap.out
    assert (tmp_path / "run.npz").is_file() and (tmp_path / "run.json").is_file()


def test_output_files_get_the_umask_permissions(tmp_path, capsys):
    old = os.umask(0o022)
    try:
        main(["train", *QUICK, "--quiet", "--output", str(tmp_path / "run")])
    finally:
        os.umask(old)
    for name in ("run.npz", "run.json"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o644, (name, oct(mode))


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--alpha", "1.5"], ["alpha", "1.5"]),
        (["--max-seconds", "-1"], ["--max-seconds", "-1"]),
        (["--max-seconds", "nan"], ["--max-seconds"]),
        (["--warmup-seconds", "0"], ["--warmup-seconds"]),
        (["--hidden", ""], ["--hidden"]),
        (["--hidden", "10,0"], ["--hidden"]),
        (["--hidden", "a,b"], ["--hidden"]),
        (["--max-outer", "0"], ["--max-outer"]),
        (["--start", "warmpu"], ["--start", "warmpu"]),
        (["--start", "missing.npz"], ["missing.npz"]),
        (["--n-samples", "0"], ["--n-samples"]),
    ],
)
def test_bad_input_exits_2_naming_it_and_writes_nothing(argv, words, capsys, tmp_path):
    rc = main(["train", *argv, "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == ExitCode.BAD_INPUT
    for w in words:
        assert w in err, (w, err)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_n_samples_with_data_is_refused(tmp_path, capsys):
    rng = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, X=rng.standard_normal((3, 20)), Y=rng.standard_normal((2, 20)))
    rc = main(["train", "--data", str(data), "--n-samples", "10"])
    assert rc == ExitCode.BAD_INPUT
    assert "--n-samples" in capsys.readouterr().err


def test_start_from_a_network_file_of_the_wrong_shape_is_refused(tmp_path, capsys):
    net = tmp_path / "net.npz"
    np.savez(net, W_0=np.ones((4, 10)), W_1=np.ones((2, 4)), b_0=np.zeros(4), b_1=np.zeros(2))
    rc = main(["train", "--start", str(net), "--output", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == ExitCode.BAD_INPUT and "W[0]" in err and "(10, 10)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for code in ("0", "2", "3", "130"):
        assert f"\n  {code}" in out, code
    assert "SUCCESS" in out and "FAILED" in out
