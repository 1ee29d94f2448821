"""A grid of MNIST problems, run through joblib with resume, and its performance profiles.

The grid file (JSON) names the axes; every combination is one problem::

    {
      "name": "mnist-720",
      "mnist_dir": "../shared/data/mnist",      # relative to the grid file's folder, or absolute
      "axes": {"n_samples": [...], "widths": [[100, 50], ...], "alpha": [...],
               "lambda_w": [...], "seed": [...]},
      "methods": ["IALAM", "SGD", "Adadelta", "Adam"],
      "budget": {"max_seconds": 60, "max_epochs": null},
      "batch_size": 50,
      "lr_search": {"epochs": 10, "max_samples": 2000},   # or "lr": {"Adam": 0.001, ...}
      "ialam_options": {}
    }

A problem with ``widths = [N_1, ..., N_{L-1}]`` trains the network ``(784, N_1, ..., N_{L-1}, 10)`` on
:func:`ialam_verify.data.mnist.mnist_problem` ``(n_samples, seed)``, every method with the grid's
budget. The runner writes one JSON result per problem, atomically, into an output folder, and skips
problems whose result file exists (resume after an interrupt). It uses joblib: ``n_jobs=-1`` (all
cores) locally; on a cluster pass ``backend="dask"`` or ``"ray"`` (after registering it) and the same
code runs there.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import socket
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write_json
from .progress import Progress
from .runner import check_method

AXES = ("n_samples", "widths", "alpha", "lambda_w", "seed")


def load_grid(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and validate a grid file; ``mnist_dir`` is resolved against the file's folder."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"grid file {path} does not exist")
    try:
        grid = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"grid file {path} is not valid JSON: {exc}") from exc
    grid = validate_grid(grid)
    d = Path(grid["mnist_dir"])
    if not d.is_absolute():
        grid["mnist_dir"] = str((p.parent / d).resolve())
    return grid


def validate_grid(grid: Any) -> dict[str, Any]:
    """Check the keys and axis values of a grid; raise ``ValueError`` naming the bad entry."""
    if not isinstance(grid, dict):
        raise ValueError("grid must be a JSON object")
    for key in ("name", "mnist_dir", "axes", "methods", "budget"):
        if key not in grid:
            raise ValueError(f"grid must have the key {key!r}")
    axes = grid["axes"]
    if not isinstance(axes, dict) or set(axes) != set(AXES):
        raise ValueError(f"grid['axes'] must have exactly the keys {AXES}; got {sorted(axes)}")
    for key in AXES:
        if not isinstance(axes[key], list) or not axes[key]:
            raise ValueError(f"grid['axes'][{key!r}] must be a non-empty list")
    for n in axes["n_samples"]:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 60000:
            raise ValueError(
                f"grid['axes']['n_samples'] entries must be integers in [1, 60000]; got {n!r}"
            )
    for w in axes["widths"]:
        if not isinstance(w, list) or not all(isinstance(x, int) and x > 0 for x in w):
            raise ValueError(
                f"grid['axes']['widths'] entries must be lists of positive integers; got {w!r}"
            )
    for a in axes["alpha"]:
        if not isinstance(a, (int, float)) or not 0 < a < 1:
            raise ValueError(f"grid['axes']['alpha'] entries must lie in (0, 1); got {a!r}")
    for lam in axes["lambda_w"]:
        if not isinstance(lam, (int, float)) or not lam >= 0:
            raise ValueError(f"grid['axes']['lambda_w'] entries must be numbers >= 0; got {lam!r}")
    for s in axes["seed"]:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"grid['axes']['seed'] entries must be integers >= 0; got {s!r}")
    methods = grid["methods"]
    if not isinstance(methods, list) or not methods:
        raise ValueError("grid['methods'] must be a non-empty list")
    if len(set(methods)) != len(methods):
        raise ValueError(f"grid['methods'] names a method more than once: {methods}")
    for m in methods:
        check_method(m)
    budget = grid["budget"]
    if not isinstance(budget, dict) or not set(budget) <= {"max_seconds", "max_epochs"}:
        raise ValueError("grid['budget'] must be an object with max_seconds and/or max_epochs")
    if "lr" in grid and "lr_search" in grid:
        raise ValueError("grid may have 'lr' (fixed rates) or 'lr_search', not both")
    return grid


def problems(grid: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the axes, as ``{"id": ..., "n_samples": ..., ...}`` in a fixed order."""
    ax = grid["axes"]
    out = []
    for n, w, a, lam, s in itertools.product(*(ax[k] for k in AXES)):
        pid = f"N{n}-w{'x'.join(map(str, w))}-a{a:g}-l{lam:g}-s{s}"
        out.append(
            {"id": pid, "n_samples": n, "widths": list(w), "alpha": a, "lambda_w": lam, "seed": s}
        )
    return out


@functools.lru_cache(maxsize=2)
def _arrays(folder: str) -> Any:
    from ..data.mnist import load_mnist

    return load_mnist(folder)


def _budget(grid: dict[str, Any]) -> tuple[float, float]:
    b = grid["budget"]
    s = b.get("max_seconds")
    e = b.get("max_epochs")
    return (math.inf if s is None else float(s)), (math.inf if e is None else float(e))


def run_problem(grid: dict[str, Any], spec: dict[str, Any], out_dir: str, threads: int = 1) -> str:
    """Run every method on one problem and write ``out_dir/<id>.json`` atomically; return the id."""
    result = solve_problem(grid, spec, threads)
    atomic_write_json(Path(out_dir) / f"{spec['id']}.json", result)
    return spec["id"]


def solve_problem(grid: dict[str, Any], spec: dict[str, Any], threads: int = 1) -> dict[str, Any]:
    """Run every method on one problem; return its JSON-safe result (what :func:`run_problem` writes).

    This is what a cluster worker runs: it reads MNIST from ``grid["mnist_dir"]`` (so that folder must
    exist on every worker) and sends the result back; the result file is written by the caller.
    """
    from ..data.mnist import mnist_problem
    from .measure import Context
    from .runner import Settings, run_comparison

    mp = mnist_problem(_arrays(grid["mnist_dir"]), spec["n_samples"], spec["seed"])
    ctx = Context(
        mp.dataset, spec["alpha"], spec["lambda_w"], mp.zero_pixels, mp.X_official, mp.Y_official
    )
    max_seconds, max_epochs = _budget(grid)
    search = grid.get("lr_search", {})
    settings = Settings(
        sizes=(784, *spec["widths"], 10),
        alpha=spec["alpha"],
        lambda_w=spec["lambda_w"],
        seed=spec["seed"],
        methods=tuple(grid["methods"]),
        max_seconds=max_seconds,
        max_epochs=max_epochs,
        batch_size=int(grid.get("batch_size", 50)),
        lr={k: float(v) for k, v in grid.get("lr", {}).items() if k in grid["methods"]},
        search_epochs=float(search.get("epochs", 10)),
        search_samples=int(search.get("max_samples", 2000)),
        ialam_options=dict(grid.get("ialam_options", {})),
        threads=threads,
    )
    result = run_comparison(ctx, settings, progress=False)
    if result["interrupted"]:
        raise KeyboardInterrupt
    if not grid.get("keep_history", False):
        for r in result["methods"].values():
            r["history"] = None
    result["problem"] = spec
    result["worker"] = {"host": socket.gethostname(), "pid": os.getpid()}  # where it ran
    return _json_safe(result)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _prepare_backend(backend: str) -> Any:
    """Register the cluster backends joblib does not know by itself; return a client made here.

    ``"ray"``: :func:`ray.util.joblib.register_ray` (connects to ``RAY_ADDRESS`` when set).
    ``"dask"``: joblib knows it once a ``distributed.Client`` exists; one is created for the scheduler
    at ``DASK_SCHEDULER_ADDRESS`` (or a local cluster) unless the caller made one already. The client
    created here is returned so that :func:`run_grid` closes it; ``None`` otherwise.
    """
    if backend == "ray":
        try:
            from ray.util.joblib import register_ray
        except ImportError as exc:
            raise ValueError(
                "backend 'ray' needs the ray package (pip install 'ray[default]')"
            ) from exc
        register_ray()
        return None
    if backend == "dask":
        try:
            from distributed import Client, get_client
        except ImportError as exc:
            raise ValueError("backend 'dask' needs the distributed package") from exc
        try:
            get_client()
        except ValueError:
            address = os.environ.get("DASK_SCHEDULER_ADDRESS")
            try:
                return Client(address, timeout="30s") if address else Client()
            except OSError as exc:
                raise ValueError(
                    f"backend 'dask': no scheduler at DASK_SCHEDULER_ADDRESS={address!r} ({exc})"
                ) from exc
    return None


def run_grid(
    grid: dict[str, Any],
    out_dir: str | os.PathLike[str],
    *,
    n_jobs: int = -1,
    backend: str | None = None,
    threads_per_job: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the problems of ``grid`` that have no result file in ``out_dir`` yet.

    Returns ``{"done": [...ids run now], "skipped": [...ids found], "total": n}``. Ctrl-C stops the
    run; every finished problem's file stays (each is written atomically as it finishes).
    """
    from joblib import Parallel, delayed, parallel_config

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = problems(grid)
    todo = [s for s in specs if not (out / f"{s['id']}.json").is_file()]
    skipped = [s["id"] for s in specs if s not in todo]
    done: list[str] = []
    bar = Progress(len(specs), f"grid {grid['name']}", enabled=progress)
    bar.update(len(skipped))
    if todo:
        config: dict[str, Any] = {"n_jobs": n_jobs}
        client = None
        if backend is not None:
            client = _prepare_backend(backend)
            config["backend"] = backend
        try:
            with parallel_config(**config):
                gen = Parallel(return_as="generator_unordered")(
                    delayed(solve_problem)(grid, s, threads_per_job) for s in todo
                )
                for result in gen:  # written here, so workers need no shared output folder
                    pid = result["problem"]["id"]
                    atomic_write_json(out / f"{pid}.json", result)
                    done.append(pid)
                    bar.update(advance=1, info=pid)
        finally:
            if client is not None:
                client.close()
    bar.close()
    return {"done": done, "skipped": skipped, "total": len(specs)}


def collect(
    grid: dict[str, Any], out_dir: str | os.PathLike[str], metric: str
) -> tuple[list[str], np.ndarray]:
    """``(ids, costs)``: ``costs[p, s]`` is ``metric`` of method ``s`` on problem ``p`` at the end of
    its budget; ``inf`` when the method failed or its result is missing (missing problems are left out)."""
    out = Path(out_dir)
    ids: list[str] = []
    rows: list[list[float]] = []
    for spec in problems(grid):
        path = out / f"{spec['id']}.json"
        if not path.is_file():
            continue
        res = json.loads(path.read_text())
        row = []
        for m in grid["methods"]:
            r = res["methods"].get(m)
            v = None
            if r is not None and r.get("final"):
                v = r["final"].get(metric)
            row.append(math.inf if v is None else float(v))
        ids.append(spec["id"])
        rows.append(row)
    return ids, np.array(rows, dtype=float).reshape(len(rows), len(grid["methods"]))


def wins_line(summary: dict[str, Any], metric: str) -> str:
    """One line: on how many of the finished problems each method reached the best ``metric``.

    Ties count for every tied method, so the counts may add up to more than the number of problems.
    """
    from .runner import SHORT

    n = len(summary[metric]["problems"])
    wins = ", ".join(f"{m} {w}" for m, w in summary[metric]["wins"].items())
    return (
        f"{SHORT.get(metric, metric)}: number of the {n} problems on which each method is best "
        f"(ties count for each): {wins}"
    )


def grid_profiles(grid: dict[str, Any], out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Performance profiles of TrainErr and TestErr over the finished problems: PNGs in ``out_dir``
    and the cost tables in ``out_dir/profiles.json``."""
    from .profiles import performance_ratios, plot_profile

    summary: dict[str, Any] = {"methods": grid["methods"]}
    for metric, title in (("train_err", "TrainErr"), ("test_err", "TestErr")):
        ids, costs = collect(grid, out_dir, metric)
        if not ids:
            raise ValueError(f"no finished problem in {out_dir}: run the grid first")
        plot_profile(
            costs,
            grid["methods"],
            Path(out_dir) / f"profile_{metric}.png",
            f"{title}, {grid['name']}",
        )
        ratios = performance_ratios(costs)
        summary[metric] = {
            "problems": ids,
            "costs": _json_safe(costs.tolist()),
            "wins": {m: int(np.sum(ratios[:, j] == 1.0)) for j, m in enumerate(grid["methods"])},
        }
        # a problem on which every method failed (every cost infinite) is a failed run
        summary["unusable_problems"] = [
            p for p, row in zip(ids, costs, strict=True) if not np.isfinite(row).any()
        ]
    atomic_write_json(Path(out_dir) / "profiles.json", summary)
    return summary
