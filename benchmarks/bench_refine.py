"""Refinement from a short warm start on the talk's synthetic shapes: does KKT of (PP) get certified?

    python benchmarks/bench_refine.py --shapes L2 L3 L4 --n 100 500 --seeds 0 1 2 --warm-iters 3000

Per run: seconds of refine, kinks and exact zero columns at the end, TrainErr before / after, the
(PP) KKT verdict (refine's multipliers re-checked by the kernel's ``stationarity.check`` at the default
scaled ``Tolerances()``; ``certify(method="auto")`` when they are rejected), epsilon = the largest
violation of refine's own multipliers (relative to tau = tol * scale, printed too), and, for
comparison, the structured certifier's own KKT verdict at the same point (``certify(method=
"structured")``, which searches its own multipliers). The warm start is the package's warm-up
(:mod:`ialam_verify.solver.warmup`: full-batch prox-Adam on objective (1), lr 1e-2, ``--warm-iters``
iterations, no time cap) from the solver's default initialization.
"""

from __future__ import annotations

import os

# One BLAS thread: the dense steps are small, and on a loaded 2-core machine OpenBLAS's threads made
# one 100 x 100 eigendecomposition take 0.7 s instead of milliseconds (measured).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from ialam_verify.data import TALK_SHAPES, synthetic  # noqa: E402
from ialam_verify.model.network import (  # noqa: E402
    init_weights,
    match_output_scale,
    mean_squared_error,
)
from ialam_verify.model.problem import Problem  # noqa: E402
from ialam_verify.solver.refine import RefineSettings, refine  # noqa: E402
from ialam_verify.solver.settings import WarmupSettings  # noqa: E402
from ialam_verify.solver.warmup import warmup  # noqa: E402
from ialam_verify.stationarity import certify  # noqa: E402


def warm_start(problem: Problem, iters: int, seed: int, lr: float = 1e-2):
    """``iters`` steps of the package's warm-up (prox-Adam, :mod:`ialam_verify.solver.warmup`) at
    learning rate ``lr`` from the default initialization scaled to the RMS of ``Y`` (no time cap:
    the same start on every machine)."""
    W, b = init_weights(problem.sizes, np.random.default_rng(seed))
    W = match_output_scale(W, b, problem.X, problem.Y, problem.alpha)
    res = warmup(problem, W, b, WarmupSettings(max_iter=iters, max_seconds=float("inf"), lr=lr))
    return res.W, res.b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shapes", nargs="+", default=["L2", "L3", "L4"], choices=sorted(TALK_SHAPES))
    ap.add_argument("--sizes", nargs="+", type=int, default=None,
                    help="a custom shape N_0 ... N_L (synthetic teacher data) instead of --shapes")
    ap.add_argument("--max-iter", type=int, default=2000)
    ap.add_argument("--beta-scale", type=float, default=3.0,
                    help="beta_l = scale * 2 max(1, max|Y|) / N (3 = the solver's default_beta)")
    ap.add_argument("--n", nargs="+", type=int, default=[100, 500])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--warm-iters", type=int, default=3000)
    ap.add_argument("--lambda-w", type=float, default=1e-4)
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--release", default="PP", choices=["PP", "B"])
    ap.add_argument("--no-structured", action="store_true", help="skip the structured certifier column")
    args = ap.parse_args()
    print("| shape | N | seed | warm s | refine s | steps | s/step | status | kinks | zero cols | TrainErr before | after | (PP) KKT | epsilon | tau | structured KKT | beta | beta needed |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    n_cert = n_runs = 0
    shapes = {"custom": tuple(args.sizes)} if args.sizes else {k: TALK_SHAPES[k] for k in args.shapes}
    for shape, sizes in shapes.items():
        for N in args.n:
            for seed in args.seeds:
                d = synthetic(sizes, N, 0.1, seed)
                beta = args.beta_scale * 2.0 * max(float(np.max(np.abs(d.Y))), 1.0) / N
                pr = Problem.create(d.X, d.Y, sizes, 0.1, args.lambda_w, 0.0, beta)
                t0 = time.perf_counter()
                W, b = warm_start(pr, args.warm_iters, seed)
                warm_s = time.perf_counter() - t0
                before = mean_squared_error(W, b, pr.X, pr.Y, pr.alpha)
                st = RefineSettings(max_seconds=args.max_seconds, release=args.release, max_iter=args.max_iter)
                r = refine(pr, W, b, settings=st)
                after = mean_squared_error(r.W, r.b, pr.X, pr.Y, pr.alpha)
                eps = r.info.get("witness_max_violation", float("nan"))
                tau = r.info.get("witness_check", {}).get("residual_tol", float("nan"))
                structured = "-"
                if not args.no_structured:
                    structured = certify(pr, r.point, method="structured").verdict("KKT").outcome.value
                n_runs += 1
                n_cert += int(r.success)
                per = r.seconds / max(r.iterations, 1)
                print(f"| {shape} | {N} | {seed} | {warm_s:.1f} | {r.seconds:.1f} | {r.iterations} | {per:.2g} | "
                      f"{r.status} | {r.kinks} | "
                      f"{r.zero_columns} | {before:.3e} | {after:.3e} | {r.verdict.outcome.value if r.verdict is not None else '-'} | "
                      f"{eps:.1e} | {tau:.1e} | {structured} | {beta:.3g} | "
                      f"{max(r.multipliers['beta_needed']):.3g} |", flush=True)
    print(f"\ncertified (KKT of (PP) holds): {n_cert} of {n_runs}")


if __name__ == "__main__":
    main()
