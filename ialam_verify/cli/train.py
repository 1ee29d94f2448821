"""``ialam-verify train``: warm-up -> IALAM -> refinement -> final lift -> a stationarity verdict."""

from __future__ import annotations

import argparse
import json
import math
import sys

from ._exit_codes import ExitCode

EPILOG = f"""\
stages (each reported with seconds, TrainErr, FeasVi and exact zero columns):
  warm-up     prox-Adam on objective (1) in numpy, from the talk's random network (--start warmup)
  IALAM       the talk's method, from the lifted, exactly feasible start
  refinement  high accuracy on the identified piece (Newton on the kinks and zero columns)
  final lift  U = WV + b, V = sigma(U): FeasVi 0 up to rounding
  verdict     KKT of (PP) at the final point, from the certificates
--start talk runs the talk's method literally from its own random start (no warm-up, no refinement).

exit codes:
  {ExitCode.SUCCESS:<4d}SUCCESS: the final network is a certified KKT point of (PP)
  {ExitCode.BAD_INPUT:<4d}bad input (nothing was trained, nothing written)
  {ExitCode.RUN_FAILED:<4d}FAILED: the run finished but its point is not certified (the report says why;
      --output still saves the network)
  {ExitCode.INTERRUPTED:<4d}interrupted by Ctrl-C (the network reached so far is saved with --output)
  {ExitCode.INTERNAL_ERROR:<4d}internal error (a bug)
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a group-sparse leaky-ReLU network (warm-up, IALAM, refinement, verdict)",
        description=(
            "Train a group-sparse leaky-ReLU network and certify it. With no arguments: the talk's "
            "L=2 synthetic problem (N=500), the default pipeline."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--shape",
        choices=["L2", "L3", "L4"],
        default="L2",
        help="the talk's synthetic shape (default L2: 10-10-2)",
    )
    p.add_argument(
        "--hidden",
        type=str,
        default=None,
        help="hidden widths, comma-separated (e.g. '100,50'); overrides --shape's",
    )
    p.add_argument(
        "--n-samples",
        type=int,
        default=None,
        help="synthetic training samples (default 500; not with --data)",
    )
    p.add_argument(
        "--data",
        type=str,
        default=None,
        help=".npz file with X, Y (samples as columns) and optional X_test, Y_test",
    )
    p.add_argument(
        "--start",
        type=str,
        default="warmup",
        help="warmup (default), talk (the talk's literal method), or FILE.npz with W_0.., b_0..",
    )
    p.add_argument("--no-refine", action="store_true", help="skip the refinement stage")
    p.add_argument("--alpha", type=float, default=0.1, help="leaky-ReLU slope in (0, 1)")
    p.add_argument("--lambda-w", type=float, default=1e-4, help="group-lasso weight")
    p.add_argument("--lambda-v", type=float, default=0.0, help="weight of lambda_v ||v||^2")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of data (synthetic) and initialization"
    )
    p.add_argument("--max-outer", type=int, default=None, help="cap on IALAM's outer iterations")
    p.add_argument("--max-seconds", type=float, default=None, help="IALAM's wall-time cap (> 0)")
    p.add_argument(
        "--warmup-seconds", type=float, default=None, help="the warm-up's wall-time cap (> 0)"
    )
    p.add_argument(
        "--output",
        type=str,
        default=None,
        help="save the result as OUTPUT.npz and OUTPUT.json (atomic writes)",
    )
    p.add_argument(
        "--json", action="store_true", help="print one JSON object instead of the report"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=run)


def _check_args(args: argparse.Namespace) -> tuple[int, ...] | None:
    """Refuse bad or contradictory flags before any work; return the hidden widths (or None)."""
    import os

    if args.output is not None:
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise ValueError(f"--output: folder {folder} does not exist")
    if args.data is not None and args.n_samples is not None:
        raise ValueError("--n-samples applies to the synthetic problems only; not with --data")
    if args.n_samples is not None and args.n_samples < 1:
        raise ValueError(f"--n-samples must be a positive integer; got {args.n_samples}")
    for flag, value in (
        ("--max-seconds", args.max_seconds),
        ("--warmup-seconds", args.warmup_seconds),
    ):
        if value is not None and not (value > 0 and not math.isnan(value)):
            raise ValueError(f"{flag} must be a number > 0 (or inf); got {value}")
    if args.max_outer is not None and args.max_outer < 1:
        raise ValueError(f"--max-outer must be a positive integer; got {args.max_outer}")
    if args.start not in ("warmup", "talk"):
        if not args.start.endswith(".npz"):
            raise ValueError(
                f"--start must be warmup, talk or a FILE.npz of a network; got {args.start!r}"
            )
        if not os.path.isfile(args.start):
            raise FileNotFoundError(f"--start: network file {args.start} does not exist")
    if args.hidden is None:
        return None
    try:
        hidden = tuple(int(h) for h in args.hidden.split(","))
    except ValueError as exc:
        raise ValueError(
            f"--hidden must be comma-separated positive integers (e.g. '100,50'); got {args.hidden!r}"
        ) from exc
    if any(h < 1 for h in hidden):
        raise ValueError(f"--hidden widths must be positive integers; got {args.hidden!r}")
    return hidden


def run(args: argparse.Namespace) -> int:
    from ..data import TALK_SHAPES, load_npz, synthetic
    from ..solver import fit, save_result, summary
    from ..solver.storage import METRIC_KEYS

    hidden = _check_args(args)
    if args.data is not None:
        data = load_npz(args.data)
        if hidden is None:
            hidden = TALK_SHAPES[args.shape][1:-1]
        sizes = (data.X.shape[0], *hidden, data.Y.shape[0])
    else:
        base = TALK_SHAPES[args.shape]
        sizes = (base[0], *hidden, base[-1]) if hidden is not None else base
        n = 500 if args.n_samples is None else args.n_samples
        data = synthetic(sizes, n, alpha=args.alpha, seed=args.seed)
    options: dict[str, float] = {}
    if args.max_outer is not None:
        options["max_outer"] = args.max_outer
    if args.max_seconds is not None:
        options["max_seconds"] = args.max_seconds
    if args.warmup_seconds is not None:
        options["warmup_seconds"] = args.warmup_seconds
    report = not args.json
    if report:
        print(
            f"train on {data.name}: sizes {sizes}, N = {data.n_samples}, alpha = {args.alpha}, "
            f"lambda_w = {args.lambda_w}, start = {args.start}",
            file=sys.stderr,
        )
    result = fit(
        data,
        sizes,
        start=args.start,
        refine=False if (args.no_refine or args.start == "talk") else None,
        alpha=args.alpha,
        lambda_w=args.lambda_w,
        lambda_v=args.lambda_v,
        seed=args.seed,
        verbose=not (args.quiet or args.json),
        **options,
    )
    interrupted = any(s["status"] == "interrupted" for s in result.stages)
    if args.output is not None:
        npz, js = save_result(result, args.output)
        if report:
            print(f"saved {npz} and {js}", file=sys.stderr)
    out = summary(result)
    if args.json:
        keys = (
            *METRIC_KEYS,
            "outer_iterations",
            "inner_iterations",
            "seconds",
            "success",
            "status",
            "message",
            "verdict",
            "stages",
        )
        print(json.dumps({k: out[k] for k in keys}))
    else:

        def fmt(x: object) -> str:
            return "n/a" if x is None else (f"{x:.6g}" if isinstance(x, float) else str(x))

        print()
        for label, key in (
            ("TrainErr", "train_err"),
            ("TestErr", "test_err"),
            ("FeasVi", "feas_vi"),
            ("column sparse ratio", "column_sparse_ratio"),
            ("accuracy", "accuracy"),
            ("TestAcc", "test_accuracy"),
            ("outer iterations", "outer_iterations"),
            ("inner iterations", "inner_iterations"),
        ):
            print(f"  {label:<20} {fmt(out[key])}")
        print(f"\n{result.message}")
    if interrupted:
        return int(ExitCode.INTERRUPTED)
    return int(ExitCode.SUCCESS if result.success else ExitCode.RUN_FAILED)
