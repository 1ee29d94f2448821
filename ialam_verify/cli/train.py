"""``ialam-verify train``: train a network with IALAM on a built-in synthetic problem or a data file."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a group-sparse leaky-ReLU network with IALAM",
        description="Train with IALAM. With no arguments: the talk's L=2 synthetic problem (N=500).",
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
        "--n-samples", type=int, default=500, help="synthetic training samples (default 500)"
    )
    p.add_argument(
        "--data",
        type=str,
        default=None,
        help=".npz file with X, Y (samples as columns) and optional X_test, Y_test",
    )
    p.add_argument("--alpha", type=float, default=0.1, help="leaky-ReLU slope in (0, 1)")
    p.add_argument("--lambda-w", type=float, default=1e-4, help="group-lasso weight")
    p.add_argument("--lambda-v", type=float, default=0.0, help="weight of lambda_v ||v||^2")
    p.add_argument(
        "--seed", type=int, default=0, help="seed of data (synthetic) and initialization"
    )
    p.add_argument("--max-outer", type=int, default=None, help="cap on outer iterations")
    p.add_argument("--max-seconds", type=float, default=None, help="wall-time cap")
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


def run(args: argparse.Namespace) -> int:
    import os

    from ..data import TALK_SHAPES, load_npz, synthetic
    from ..solver import fit, save_result, summary
    from ..solver.storage import METRIC_KEYS

    # validate everything before any work
    if args.output is not None:
        folder = os.path.dirname(os.path.abspath(args.output))
        if not os.path.isdir(folder):
            raise ValueError(f"--output: folder {folder} does not exist")
    if args.n_samples < 1:
        raise ValueError(f"--n-samples must be a positive integer; got {args.n_samples}")
    hidden = None
    if args.hidden is not None:
        try:
            hidden = tuple(int(h) for h in args.hidden.split(",") if h.strip())
        except ValueError as exc:
            raise ValueError(
                f"--hidden must be comma-separated integers; got {args.hidden!r}"
            ) from exc
    if args.data is not None:
        data = load_npz(args.data)
        if hidden is None:
            hidden = TALK_SHAPES[args.shape][1:-1]
        sizes = (data.X.shape[0], *hidden, data.Y.shape[0])
    else:
        base = TALK_SHAPES[args.shape]
        sizes = (base[0], *hidden, base[-1]) if hidden is not None else base
        data = synthetic(sizes, args.n_samples, alpha=args.alpha, seed=args.seed)
    options = {}
    if args.max_outer is not None:
        options["max_outer"] = args.max_outer
    if args.max_seconds is not None:
        options["max_seconds"] = args.max_seconds
    if not args.json:
        print(
            f"IALAM on {data.name}: sizes {sizes}, N = {data.n_samples}, alpha = {args.alpha}, "
            f"lambda_w = {args.lambda_w}",
            file=sys.stderr,
        )
    result = fit(
        data,
        sizes,
        alpha=args.alpha,
        lambda_w=args.lambda_w,
        lambda_v=args.lambda_v,
        seed=args.seed,
        verbose=not (args.quiet or args.json),
        **options,
    )
    if args.output is not None:
        npz, js = save_result(result, args.output)
        if not args.json:
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
        )
        print(json.dumps({k: out[k] for k in keys}))
    else:

        def fmt(x: object) -> str:
            return "n/a" if x is None else (f"{x:.6g}" if isinstance(x, float) else str(x))

        print(f"\n{result.message}")
        for label, key in (
            ("TrainErr", "train_err"),
            ("TestErr", "test_err"),
            ("FeasVi", "feas_vi"),
            ("column sparse ratio", "column_sparse_ratio"),
            ("accuracy", "accuracy"),
            ("TestAcc", "test_accuracy"),
            ("outer iterations", "outer_iterations"),
            ("inner iterations", "inner_iterations"),
            ("seconds", "seconds"),
        ):
            print(f"  {label:<20} {fmt(out[key])}")
    return 0
