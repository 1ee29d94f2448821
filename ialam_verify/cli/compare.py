"""``ialam-verify compare``: IALAM against the SGD family, on one problem or on a grid of problems."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from ._exit_codes import ExitCode

SYNTHETIC = ("synthetic-L2", "synthetic-L3", "synthetic-L4")
DEFAULT_MNIST_DIR = "../shared/data/mnist"
_MATCH = {"solver": None, "yes": True, "no": False}
BACKENDS = ("loky", "threading", "multiprocessing", "dask", "ray")

# Which flags each mode reads; a flag given (different from its default) in a mode that does not
# read it is refused, never silently ignored.
_SINGLE = (
    "data", "n_samples", "widths", "mnist_dir", "alpha", "lambda_w", "lambda_v", "seed", "methods",
    "max_seconds", "max_epochs", "batch_size", "lr", "search_epochs", "search_samples",
    "ialam_option", "match_targets", "json_path", "plots",
)  # fmt: skip
_TABLE = ("at_seconds", "at_epochs")
_GRID = ("out", "n_jobs", "backend", "profiles_only", "mnist_dir")
_RUNS = ("threads", "no_progress")  # single runs and grids (--no-progress is harmless anywhere)
_MNIST_ONLY = ("widths", "mnist_dir")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="IALAM against SGD, Adagrad, AdagradDecay, Adadelta, Adam, Adamax (needs the bench extra)",
        description=(
            "Train the same network from the same initialization with IALAM and with every torch "
            "baseline (group lasso as a subgradient and as a proximal step), and report TrainErr, "
            "TestErr, accuracy, TestAcc and column sparsity against wall time and epochs: a table on "
            "stdout, PNG plots and a JSON file. With --grid, run a grid of MNIST problems (joblib, "
            "resumable) and draw performance profiles."
        ),
    )
    p.add_argument(
        "--data",
        default="synthetic-L2",
        choices=(*SYNTHETIC, "mnist"),
        help="problem: the talk's synthetic panels (a)-(c) or MNIST (default synthetic-L2)",
    )
    p.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="training samples N (default 500 synthetic, 1000 MNIST)",
    )
    p.add_argument(
        "--widths",
        default=None,
        help="MNIST hidden widths, comma-separated (default 100,50; 200,100 for N=60000)",
    )
    p.add_argument(
        "--mnist-dir",
        default=None,
        help="folder with the four MNIST IDX files, gzipped or not (default "
        f"{DEFAULT_MNIST_DIR}; with --grid: instead of the grid file's mnist_dir)",
    )
    p.add_argument("--alpha", type=float, default=0.1, help="leaky-ReLU slope (default 0.1)")
    p.add_argument("--lambda-w", type=float, default=1e-4, help="group-lasso weight (default 1e-4)")
    p.add_argument("--lambda-v", type=float, default=0.0, help="IALAM's lambda_v (default 0)")
    p.add_argument("--seed", type=int, default=0, help="data and initialization seed (default 0)")
    p.add_argument(
        "--methods",
        default="all",
        help="comma-separated: IALAM (and ialam-talk, pipeline when the solver has fit(start=...)), "
        "SGD, Adagrad, AdagradDecay, Adadelta, Adam, Adamax, each also with +prox (e.g. Adam+prox); "
        "'all' (default) runs every one of them",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=10.0,
        help="wall-time budget per method, seconds (default 10; 'inf' for none)",
    )
    p.add_argument(
        "--max-epochs", type=float, default=math.inf, help="epoch budget per method (default none)"
    )
    p.add_argument(
        "--batch-size", type=int, default=50, help="baselines' minibatch size (default 50)"
    )
    p.add_argument(
        "--lr",
        action="append",
        default=[],
        metavar="METHOD=LR",
        help="fix a baseline's learning rate instead of searching it (repeatable)",
    )
    p.add_argument(
        "--search-epochs",
        type=float,
        default=20,
        help="epochs per learning rate in the search (default 20)",
    )
    p.add_argument(
        "--search-samples",
        type=int,
        default=2000,
        help="training samples used by the search (default 2000)",
    )
    p.add_argument(
        "--ialam-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an option of ialam_verify.solver.fit, e.g. inner_max_iter=50 (repeatable)",
    )
    p.add_argument(
        "--match-targets",
        choices=("solver", "yes", "no"),
        default="solver",
        help="rescale the shared initial weights to the RMS of Y (default: the solver's "
        "default of ialam_verify.solver.fit)",
    )
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--json", dest="json_path", default=None, help="write the full result here")
    p.add_argument("--plots", default=None, help="folder for the PNG plots")
    p.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    t = p.add_argument_group("tables of a finished run")
    t.add_argument(
        "--table-from",
        default=None,
        metavar="JSON",
        help="print the tables of a result JSON instead of running",
    )
    t.add_argument(
        "--at-seconds",
        type=float,
        default=None,
        help="equal-wall-time column at this T (default: the run's --max-seconds)",
    )
    t.add_argument(
        "--at-epochs",
        type=float,
        default=None,
        help="equal-epochs column at this E (default: the fewest epochs any method ran)",
    )
    g = p.add_argument_group("grid of MNIST problems")
    g.add_argument("--grid", default=None, help="grid file (JSON); see docs/experiments.md")
    g.add_argument("--out", default=None, help="result folder of the grid (one JSON per problem)")
    g.add_argument("--n-jobs", type=int, default=-1, help="joblib n_jobs (default -1: all cores)")
    g.add_argument(
        "--backend",
        default=None,
        choices=BACKENDS,
        help="joblib backend (default loky). 'dask': the cluster at DASK_SCHEDULER_ADDRESS "
        "(or a local one), needs the cluster extra; 'ray': RAY_ADDRESS, needs ray",
    )
    g.add_argument(
        "--profiles-only",
        action="store_true",
        help="only draw the performance profiles of the finished problems",
    )
    p.set_defaults(run=run)
    flags = (*_SINGLE, *_TABLE, *_GRID, *_RUNS)
    p.set_defaults(_compare_defaults={dest: p.get_default(dest) for dest in flags})


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise ValueError(f"{what} must look like NAME=VALUE; got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _number(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _flag(dest: str) -> str:
    return "--json" if dest == "json_path" else "--" + dest.replace("_", "-")


def _given(args: argparse.Namespace, dest: str) -> bool:
    return getattr(args, dest) != args._compare_defaults[dest]


def refuse_ignored_flags(args: argparse.Namespace) -> None:
    """Raise ``ValueError`` naming every flag given that the chosen mode would ignore."""
    if args.table_from is not None:
        mode, reads = "--table-from", {*_TABLE, "no_progress"}
    elif args.grid is not None:
        mode, reads = "--grid", {*_GRID, *_RUNS}
    else:
        mode, reads = "a single run (no --grid, no --table-from)", {*_SINGLE, *_RUNS}
    ignored = [_flag(d) for d in args._compare_defaults if d not in reads and _given(args, d)]
    if ignored:
        raise ValueError(f"{', '.join(ignored)} would be ignored with {mode}; leave it out")
    if args.table_from is None and args.grid is None and args.data != "mnist":
        ignored = [_flag(d) for d in _MNIST_ONLY if _given(args, d)]
        if ignored:
            raise ValueError(
                f"{', '.join(ignored)} would be ignored with --data {args.data} (the synthetic "
                "shapes are the talk's); leave it out"
            )


def validate_args(args: argparse.Namespace) -> None:
    """Check every flag's value before any work starts (``ValueError`` naming the flag)."""
    from pathlib import Path

    def positive_int(dest: str, value: Any) -> None:
        if value is not None and value < 1:
            raise ValueError(f"{_flag(dest)} must be an integer >= 1; got {value}")

    for dest in ("n_samples", "batch_size", "search_samples", "threads"):
        positive_int(dest, getattr(args, dest))
    if not (math.isfinite(args.search_epochs) and args.search_epochs > 0):
        raise ValueError(f"--search-epochs must be a finite number > 0; got {args.search_epochs}")
    for dest in ("max_seconds", "max_epochs"):
        value = getattr(args, dest)
        if math.isnan(value) or value <= 0:
            raise ValueError(f"{_flag(dest)} must be a number > 0 or inf; got {value}")
    for dest in ("alpha", "lambda_w", "lambda_v"):
        if not math.isfinite(getattr(args, dest)):
            raise ValueError(f"{_flag(dest)} must be a finite number; got {getattr(args, dest)}")
    if args.seed < 0:
        raise ValueError(f"--seed must be an integer >= 0; got {args.seed}")
    if args.n_jobs == 0:
        raise ValueError("--n-jobs must be a positive number of jobs or negative (-1: all cores)")
    if args.n_jobs == 1 and args.backend in ("dask", "ray"):
        # joblib runs n_jobs=1 in this process whatever the backend: nothing would reach the cluster
        raise ValueError(
            f"--n-jobs 1 with --backend {args.backend} would run every problem here, not on the "
            "cluster; use --n-jobs -1 (every worker) or the number of workers"
        )
    for dest in ("at_seconds", "at_epochs"):
        value = getattr(args, dest)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{_flag(dest)} must be a finite number >= 0; got {value}")
    if args.plots is not None and Path(args.plots).exists() and not Path(args.plots).is_dir():
        raise ValueError(f"--plots: {args.plots} exists and is not a folder")
    if args.json_path is not None:
        jp = Path(args.json_path)
        if jp.is_dir():
            raise ValueError(f"--json: {jp} is a folder; give a file name")
        if not jp.parent.is_dir():
            raise FileNotFoundError(f"--json: folder {jp.parent} does not exist")
    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise ValueError(f"--out: {args.out} exists and is not a folder")


def parse_methods(text: str) -> list[str]:
    """``--methods``: ``"all"`` or comma-separated names, each once."""
    from ..experiments.runner import all_method_names

    if text.strip() == "all":
        return all_method_names()
    methods = [m.strip() for m in text.split(",") if m.strip()]
    if not methods:
        raise ValueError(f"--methods must name at least one method; got {text!r}")
    dup = sorted({m for m in methods if methods.count(m) > 1})
    if dup:
        raise ValueError(f"--methods names {', '.join(dup)} more than once")
    return methods


def parse_widths(text: str) -> tuple[int, ...]:
    """``--widths``: comma-separated positive integers (at least one hidden layer)."""
    try:
        widths = tuple(int(x) for x in text.split(","))
    except ValueError as exc:
        raise ValueError(f"--widths must be comma-separated integers >= 1; got {text!r}") from exc
    if not widths or min(widths) < 1:
        raise ValueError(f"--widths must be comma-separated integers >= 1; got {text!r}")
    return widths


def run(args: argparse.Namespace) -> int:
    refuse_ignored_flags(args)
    validate_args(args)
    if args.table_from is not None:
        return _table_from(args)
    if args.grid is not None:
        return _run_grid(args)
    methods = parse_methods(args.methods)
    lrs = {k: float(v) for k, v in _pairs(args.lr, "--lr").items()}
    opts = {k: _number(v) for k, v in _pairs(args.ialam_option, "--ialam-option").items()}
    from ..experiments.measure import Context
    from ..experiments.runner import Settings

    def make_settings(sizes: tuple[int, ...]) -> Settings:
        return Settings(
            sizes=sizes,
            alpha=args.alpha,
            lambda_w=args.lambda_w,
            lambda_v=args.lambda_v,
            seed=args.seed,
            methods=tuple(methods),
            max_seconds=args.max_seconds,
            max_epochs=args.max_epochs,
            batch_size=args.batch_size,
            lr=lrs,
            search_epochs=args.search_epochs,
            search_samples=args.search_samples,
            ialam_options=opts,
            threads=args.threads,
            match_targets=_MATCH[args.match_targets],
        ).validate()

    if args.data == "mnist":
        n = 1000 if args.n_samples is None else args.n_samples
        default_w = "200,100" if n >= 60000 else "100,50"
        widths = parse_widths(default_w if args.widths is None else args.widths)
        sizes = (784, *widths, 10)
        settings = make_settings(sizes)
        from ..data.mnist import mnist_problem

        mp = mnist_problem(args.mnist_dir or DEFAULT_MNIST_DIR, n, args.seed)
        ctx = Context(
            mp.dataset,
            settings.alpha,
            settings.lambda_w,
            mp.zero_pixels,
            mp.X_official,
            mp.Y_official,
        )
    else:
        from ..data import TALK_SHAPES, synthetic

        sizes = TALK_SHAPES[args.data.split("-")[1]]
        n = 500 if args.n_samples is None else args.n_samples
        settings = make_settings(sizes)
        data = synthetic(sizes, n, args.alpha, args.seed)
        ctx = Context(data, settings.alpha, settings.lambda_w)
    return _run_single(args, ctx, settings)


def _run_single(args: argparse.Namespace, ctx: Any, settings: Any) -> int:
    from pathlib import Path

    from ..experiments.grid import _json_safe
    from ..experiments.runner import USABLE, format_table, run_comparison
    from ..io import atomic_write_json

    json_path = Path(args.json_path) if args.json_path else None

    def save(result: dict) -> None:
        if json_path is not None:
            atomic_write_json(json_path, _json_safe(result))

    result = run_comparison(ctx, settings, progress=not args.no_progress, on_method_done=save)
    save(result)
    print(format_table(result))
    if args.plots:
        from ..experiments.plots import plot_comparison

        paths = plot_comparison(
            result,
            args.plots,
            ctx.data.name.replace("(", "").replace(")", "").replace(", ", "-").replace(" ", ""),
        )
        print(f"plots: {', '.join(str(p) for p in paths)}")
    if json_path is not None:
        print(f"results: {json_path}")
    if result["interrupted"]:
        print("interrupted: finished methods are kept", file=sys.stderr)
        return ExitCode.INTERRUPTED
    if not any(r["status"] in USABLE for r in result["methods"].values()):
        print("run failed: no method produced a usable network", file=sys.stderr)
        return ExitCode.RUN_FAILED
    return ExitCode.SUCCESS


def _run_grid(args: argparse.Namespace) -> int:
    from ..experiments.grid import grid_profiles, load_grid, run_grid, wins_line

    if args.out is None:
        raise ValueError("--grid needs --out (the result folder)")
    grid = load_grid(args.grid)
    if args.mnist_dir is not None:
        from pathlib import Path

        if not Path(args.mnist_dir).is_dir():
            raise FileNotFoundError(f"--mnist-dir: folder {args.mnist_dir} does not exist")
        grid["mnist_dir"] = str(Path(args.mnist_dir).resolve())
    if not args.profiles_only:
        try:
            summary = run_grid(
                grid,
                args.out,
                n_jobs=args.n_jobs,
                backend=args.backend,
                threads_per_job=args.threads,
                progress=not args.no_progress,
            )
        except KeyboardInterrupt:
            print(
                "interrupted: finished problems are kept; rerun the same command to resume",
                file=sys.stderr,
            )
            return ExitCode.INTERRUPTED
        print(
            f"grid {grid['name']}: {len(summary['done'])} run now, "
            f"{len(summary['skipped'])} already done, {summary['total']} in all"
        )
    prof = grid_profiles(grid, args.out)
    for metric in ("train_err", "test_err"):
        print(wins_line(prof, metric))
    print(f"profiles: {args.out}/profile_train_err.png, {args.out}/profile_test_err.png")
    if prof["unusable_problems"]:
        print(
            f"run failed: no method produced a usable network on "
            f"{', '.join(prof['unusable_problems'])}",
            file=sys.stderr,
        )
        return ExitCode.RUN_FAILED
    return ExitCode.SUCCESS


def _table_from(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..experiments.runner import compare_table_data, format_table

    path = Path(args.table_from)
    if not path.is_file():
        raise FileNotFoundError(f"--table-from: {path} does not exist")
    try:
        result = json.loads(path.read_text())
        methods = result["methods"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"--table-from: {path} is not a result of 'ialam-verify compare'") from exc
    if any(not m.get("history") for m in methods.values() if m.get("status") != "diverged"):
        raise ValueError(f"--table-from: {path} holds no histories (a grid result?)")
    for name, value in (("--at-seconds", args.at_seconds), ("--at-epochs", args.at_epochs)):
        if value is not None and not value >= 0:
            raise ValueError(f"{name} must be a number >= 0; got {value}")
    result["comparison"] = compare_table_data(result, args.at_seconds, args.at_epochs)
    print(format_table(result))
    return ExitCode.SUCCESS
