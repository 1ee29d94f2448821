"""``save_result`` / ``load_result``: round trip, atomic writes, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ialam_verify.solver.storage as storage
from ialam_verify.data import synthetic
from ialam_verify.solver import fit, load_result, save_result


@pytest.fixture(scope="module")
def result():
    data = synthetic((3, 4, 2), 30, alpha=0.2, seed=1)
    return fit(data, (3, 4, 2), alpha=0.2, lambda_w=1e-3, max_outer=4, refine=False)


def arrays_of(res):
    out = {"X": res.problem.X, "Y": res.problem.Y}
    for name, blocks in (
        ("W", res.W),
        ("b", res.b),
        ("pW", res.point.W),
        ("V", res.point.V),
        ("U", res.point.U),
        ("xi", res.xi),
    ):
        for i, a in enumerate(blocks):
            out[f"{name}{i}"] = a
    return out


def test_round_trip(tmp_path, result):
    npz, js = save_result(result, tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json", "run.npz"]  # no temp files
    for path in (tmp_path / "run", npz, js):  # any of the three names loads
        back = load_result(path)
        a, b = arrays_of(result), arrays_of(back)
        assert a.keys() == b.keys()
        for k in a:
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k  # bitwise
        assert back.metrics == result.metrics
        assert back.history == result.history
        assert (back.status, back.success, back.message) == (
            result.status,
            result.success,
            result.message,
        )
        assert (back.nit, back.nit_inner, back.rho) == (result.nit, result.nit_inner, result.rho)
        p, q = back.problem, result.problem
        assert (p.sizes, p.alpha, p.lambda_w, p.lambda_v, p.beta, p.relu_bias_bound) == (
            q.sizes,
            q.alpha,
            q.lambda_w,
            q.lambda_v,
            q.beta,
            q.relu_bias_bound,
        )
    # the loaded point is the trained one: same FeasVi
    assert back.problem.feas_vi(back.point) == result.metrics["feas_vi"]


def test_settings_round_trip(tmp_path, result):
    save_result(result, tmp_path / "run")
    back = load_result(tmp_path / "run")
    assert back.settings == result.settings


def test_overwrite_is_atomic_and_leaves_no_temp_files(tmp_path, result, monkeypatch):
    save_result(result, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def failing_savez(fh, **arrays):
        fh.write(b"PK\x03\x04 half a zip file")
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(storage.np, "savez_compressed", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        save_result(result, tmp_path / "run")
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # old files intact, no stray temp file
    monkeypatch.undo()
    load_result(tmp_path / "run")


def test_missing_file_raises_file_not_found(tmp_path, result):
    with pytest.raises(FileNotFoundError, match="nothere"):
        load_result(tmp_path / "nothere")
    save_result(result, tmp_path / "run")
    (tmp_path / "run.json").unlink()
    with pytest.raises(FileNotFoundError, match="run.json"):
        load_result(tmp_path / "run")


@pytest.mark.parametrize(
    ("which", "content"),
    [
        ("npz", b"this is not an npz file"),
        ("npz", b"PK\x03\x04truncated"),
        ("json", b"{not json"),
        ("json", b'{"format_version": 99}'),
    ],
)
def test_unreadable_file_raises_value_error_naming_it(tmp_path, result, which, content):
    save_result(result, tmp_path / "run")
    (tmp_path / f"run.{which}").write_bytes(content)
    with pytest.raises(ValueError, match="run"):
        load_result(tmp_path / "run")


@pytest.mark.parametrize("meta", [{"format_version": 1}, [1, 2]])
def test_wrong_json_content_raises_value_error(tmp_path, result, meta):
    save_result(result, tmp_path / "run")
    (tmp_path / "run.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="run"):
        load_result(tmp_path / "run")


def test_save_into_missing_folder_fails_cleanly(tmp_path, result):
    with pytest.raises(FileNotFoundError):
        save_result(result, tmp_path / "no" / "run")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_overwrite_never_loads_a_mixture(tmp_path, result, monkeypatch):
    other = fit(
        synthetic((3, 4, 2), 30, alpha=0.2, seed=1),
        (3, 4, 2),
        alpha=0.2,
        lambda_w=1e-3,
        max_outer=1,
        refine=False,
    )
    save_result(result, tmp_path / "run")

    def failing_json(path, obj):
        raise OSError("killed between the two writes (simulated)")

    monkeypatch.setattr(storage, "atomic_write_json", failing_json)
    with pytest.raises(OSError, match="killed"):
        save_result(other, tmp_path / "run")
    monkeypatch.undo()
    # acceptable outcomes: the old result intact, or a ValueError naming the inconsistent pair
    try:
        back = load_result(tmp_path / "run")
    except ValueError as exc:
        assert "run" in str(exc)
        return
    assert back.nit == result.nit
    for a, b in zip(back.W, result.W, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (lambda m: m["problem"].__setitem__("alpha", 0.3), "alpha"),
        (lambda m: m["problem"].__setitem__("lambda_w", 1.0), "lambda_w"),
        (lambda m: m["problem"]["beta"].__setitem__(0, 9.0), "beta"),
        (lambda m: m.__setitem__("success", not m["success"]), "success"),
        (lambda m: m["stages"][0].__setitem__("train_err", 0.0), "stages"),
    ],
)
def test_a_json_edited_by_hand_is_refused(tmp_path, result, edit, what):
    """The hash covers the .json's content too: an edited problem is not read as a different one."""
    save_result(result, tmp_path / "run")
    path = tmp_path / "run.json"
    meta = json.loads(path.read_text())
    edit(meta)
    path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="was changed after it was saved"):
        load_result(tmp_path / "run")
    # the same file unedited loads (so the refusal is due to the edit, not to the rewrite)
    save_result(result, tmp_path / "run")
    meta = json.loads(path.read_text())
    path.write_text(json.dumps(meta, indent=4))  # whitespace only: the content is the same
    load_result(tmp_path / "run")


def test_stages_verdict_and_status_round_trip(tmp_path, result):
    from ialam_verify.solver import Status

    save_result(result, tmp_path / "run")
    back = load_result(tmp_path / "run")
    assert back.stages == result.stages and len(back.stages) == 5
    assert back.status is Status(int(result.status))
    assert (back.verdict is None) == (result.verdict is None)
    if result.verdict is not None:
        assert back.verdict.outcome == result.verdict.outcome
        assert back.verdict.residual == result.verdict.residual
    assert back.best_iteration == result.best_iteration
