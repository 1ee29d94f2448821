"""``ialam-verify compare`` on one tiny problem: exit codes, files, and refusal of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

from ialam_verify.cli import main  # noqa: E402


def test_compare_writes_table_json_and_plots(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r.json"
    rc = main(
        [
            "compare",
            "--data",
            "synthetic-L3",
            "--n-samples",
            "30",
            "--methods",
            "IALAM,SGD,Adagrad+prox",
            "--max-epochs",
            "4",
            "--max-seconds",
            "30",
            "--lr",
            "SGD=0.01",
            "--search-epochs",
            "1",
            "--batch-size",
            "10",
            "--ialam-option",
            "inner_max_iter=2",
            "--match-targets",
            "yes",
            "--json",
            str(out),
            "--plots",
            str(tmp_path / "plots"),
            "--no-progress",
        ]
    )
    text = capsys.readouterr().out
    assert rc == 0
    res = json.loads(out.read_text())
    assert set(res["methods"]) == {"IALAM", "SGD", "Adagrad+prox"}
    assert res["settings"]["methods"] == ["IALAM", "SGD", "Adagrad+prox"]
    assert (
        res["settings"]["sizes"] == [10, 5, 5, 2] and res["n_samples"] == 30 and res["n_test"] == 6
    )
    assert res["lr_search"]["Adagrad+prox"]["lr"] == res["methods"]["Adagrad+prox"]["lr"]
    assert "| IALAM |" in text and "At equal epochs" in text
    assert any(p.suffix == ".png" for p in (tmp_path / "plots").iterdir())
    # the tables again from the JSON, at another T and E
    assert main(["compare", "--table-from", str(out), "--at-seconds", "0", "--at-epochs", "0"]) == 0
    again = capsys.readouterr().out
    assert "At equal wall time T = 0 s" in again and "At equal epochs E = 0" in again
    at0 = again.split("At equal epochs E = 0")[1]
    h = res["methods"]["SGD"]["history"]
    # epoch 0 is the shared initial network
    assert f"| SGD | {h['objective'][0]:.4g} | {h['train_err'][0]:.4g} |" in at0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "IALAM,RMSprop"], "unknown method"),
        (["--lr", "Adam"], "--lr must look like NAME=VALUE"),
        (["--lr", "Adam=0.1", "--methods", "SGD"], "lr given for 'Adam'"),
        (["--max-seconds", "-3"], "--max-seconds must be a number > 0"),
        (["--max-epochs", "nan"], "--max-epochs must be a number > 0"),
        (["--n-samples", "0"], "--n-samples must be an integer >= 1"),
        (["--search-samples", "0"], "--search-samples must be an integer >= 1"),
        (["--search-epochs", "0"], "--search-epochs must be a finite number > 0"),
        (["--threads", "0"], "--threads must be an integer >= 1"),
        (["--seed", "-1"], "--seed must be an integer >= 0"),
        (["--alpha", "inf"], "--alpha must be a finite number"),
        (["--methods", ","], "--methods must name at least one method"),
        (["--methods", "SGD,SGD"], "--methods names SGD more than once"),
        (["--widths", "5,5"], "--widths would be ignored with --data synthetic-L2"),
        (["--mnist-dir", "/x"], "--mnist-dir would be ignored with --data synthetic-L2"),
        (["--data", "mnist", "--widths", ""], "--widths must be comma-separated integers >= 1"),
        (["--data", "mnist", "--widths", "100,,50"], "--widths must be comma-separated"),
        (["--data", "mnist", "--widths", "0"], "--widths must be comma-separated integers >= 1"),
        (["--at-seconds", "3"], "--at-seconds would be ignored with a single run"),
        (["--out", "o", "--backend", "dask"], "--out, --backend would be ignored with a single"),
        (["--table-from", "r.json", "--methods", "SGD"], "--methods would be ignored with --table"),
        (
            ["--grid", "g.json", "--out", "o", "--data", "mnist"],
            "--data would be ignored with --grid",
        ),
        (["--grid", "g.json", "--out", "o", "--n-jobs", "0"], "--n-jobs must be a positive number"),
        (
            ["--grid", "g.json", "--out", "o", "--n-jobs", "1", "--backend", "dask"],
            "would run every problem here, not on the cluster",
        ),
        (["--plots", __file__], "exists and is not a folder"),
        (["--json", str(Path(__file__).parent)], "is a folder; give a file name"),
        (["--data", "mnist", "--mnist-dir", "/nonexistent"], "does not exist"),
        (
            [
                "--json",
                "/nonexistent/dir/r.json",
                "--methods",
                "SGD",
                "--lr",
                "SGD=0.1",
                "--max-epochs",
                "1",
            ],
            "does not exist",
        ),
        (["--grid", "experiments/tiny_grid.json"], "--grid needs --out"),
    ],
)
def test_bad_input_is_one_clear_line(argv: list[str], message: str, capsys) -> None:
    assert main(["compare", *argv, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_argparse_refusals_exit_2(capsys) -> None:
    for argv in (["--backend", "nonsense"], ["--n-samples", "x"], ["--data", "cifar"]):
        with pytest.raises(SystemExit) as exc:
            main(["compare", *argv])
        assert exc.value.code == 2, argv
    assert "invalid choice" in capsys.readouterr().err


def test_no_usable_method_is_a_failed_run(tmp_path: Path, monkeypatch, capsys) -> None:
    import ialam_verify.experiments.runner as runner
    from ialam_verify.experiments.baselines import RunRecord

    monkeypatch.setattr(
        runner, "train_baseline", lambda *a, **k: RunRecord(a[3], "diverged", "forced")
    )
    argv = ["compare", "--n-samples", "20", "--methods", "SGD", "--lr", "SGD=0.01"]
    assert main([*argv, "--max-epochs", "1", "--no-progress"]) == 3
    assert "no method produced a usable network" in capsys.readouterr().err


def test_ctrl_c_keeps_finished_methods(tmp_path: Path, monkeypatch, capsys) -> None:
    import ialam_verify.experiments.runner as runner

    real = runner.train_baseline

    def interrupted_on_adam(*args, **kwargs):
        if args[3] == "Adam":
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "train_baseline", interrupted_on_adam)
    out = tmp_path / "r.json"
    rc = main(
        [
            "compare",
            "--data",
            "synthetic-L2",
            "--n-samples",
            "20",
            "--methods",
            "SGD,Adam,Adamax",
            "--lr",
            "SGD=0.01",
            "--lr",
            "Adam=0.01",
            "--lr",
            "Adamax=0.01",
            "--max-epochs",
            "2",
            "--json",
            str(out),
            "--no-progress",
        ]
    )
    assert rc == 130
    res = json.loads(out.read_text())
    assert res["interrupted"] is True
    assert res["methods"]["SGD"]["status"] == "ok" and res["methods"]["SGD"]["final"] is not None
    assert res["methods"]["Adam"]["status"] == "interrupted" and "Adamax" not in res["methods"]
    assert "finished methods are kept" in capsys.readouterr().err
