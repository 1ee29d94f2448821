"""The grid through a real dask cluster (``--backend dask``): a LocalCluster on 127.0.0.1 with two
worker processes, reached through ``DASK_SCHEDULER_ADDRESS`` as an existing cluster would be; the
results must equal those of the local run, number for number."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("joblib")
distributed = pytest.importorskip("distributed")

from ialam_verify.cli import main  # noqa: E402
from ialam_verify.experiments.grid import load_grid, problems  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "experiments" / "tiny_grid.json"


def mnist_dir() -> Path | None:
    """MNIST beside the checkout (as in CI), or where ``IALAM_VERIFY_MNIST_DIR`` says."""
    for cand in (
        os.environ.get("IALAM_VERIFY_MNIST_DIR"),
        ROOT.parent / "shared" / "data" / "mnist",
    ):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


# what must not depend on where a problem ran (times and load averages may)
_SAME = ("status", "message", "lr", "final")


@pytest.mark.skipif(mnist_dir() is None, reason="MNIST not found (set IALAM_VERIFY_MNIST_DIR)")
def test_tiny_grid_on_a_local_dask_cluster_equals_the_local_run(
    tmp_path: Path, monkeypatch
) -> None:
    grid = json.loads(TINY.read_text())
    grid["mnist_dir"] = str(mnist_dir())
    grid_file = tmp_path / "tiny.json"
    grid_file.write_text(json.dumps(grid))
    common = ["compare", "--grid", str(grid_file), "--no-progress"]
    assert main([*common, "--out", str(tmp_path / "local"), "--n-jobs", "1"]) == 0

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        processes=True,
        dashboard_address=None,
    ) as cluster:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
        argv = [*common, "--out", str(tmp_path / "dask"), "--backend", "dask", "--n-jobs", "2"]
        assert main(argv) == 0
    with pytest.raises(ValueError):  # the client the run made was closed again
        distributed.get_client()

    ids = [s["id"] for s in problems(load_grid(grid_file))]
    for pid in ids:
        local = json.loads((tmp_path / "local" / f"{pid}.json").read_text())
        remote = json.loads((tmp_path / "dask" / f"{pid}.json").read_text())
        assert remote["worker"]["pid"] != os.getpid(), "the dask run ran in the test process"
        assert local["worker"]["pid"] == os.getpid()
        assert local["lr_search"] == remote["lr_search"], pid
        assert set(local["methods"]) == set(remote["methods"]) == set(grid["methods"])
        for name, lr in local["methods"].items():
            rr = remote["methods"][name]
            for key in _SAME:
                assert _same(lr[key], rr[key]), (
                    f"{pid} {name} {key}: local {lr[key]} != dask {rr[key]}"
                )
            assert lr["info"].get("epochs") == rr["info"].get("epochs"), (pid, name)
    for name in ("profiles.json",):
        a = json.loads((tmp_path / "local" / name).read_text())
        b = json.loads((tmp_path / "dask" / name).read_text())
        assert _same(a["train_err"], b["train_err"]) and _same(a["test_err"], b["test_err"])


def _same(a: object, b: object) -> bool:
    """Equal, floats up to 1e-12 relative: dask's nanny starts workers with one BLAS thread
    (OPENBLAS_NUM_THREADS=1), while the local run may use two, so a matrix product can sum in
    another order and differ in its last bit; anything larger is a real difference."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return a == b


def test_unreachable_scheduler_is_a_clear_error(monkeypatch) -> None:
    from ialam_verify.experiments.grid import _prepare_backend

    monkeypatch.setenv(
        "DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:9"
    )  # discard port: nobody listens
    monkeypatch.setattr(
        distributed, "Client", lambda *a, **k: (_ for _ in ()).throw(OSError("timed out"))
    )
    with pytest.raises(ValueError, match="no scheduler at DASK_SCHEDULER_ADDRESS"):
        _prepare_backend("dask")
