# ruff: noqa: E402  (the BLAS thread count must be set before numpy is imported)
"""The measurements behind the solver's defaults (``docs/algorithm.md``, "Defaults").

Two regimes:

- the talk's (``start="talk"``, IALAM from the talk's random network): each block varies one setting
  on the talk's three synthetic shapes (N = 500, alpha = 0.1, seeds 0 and 1) and prints the TrainErr
  reached, FeasVi, outer/inner iterations and seconds; ``--robustness SEEDS`` for the success count;
- ``--feasible-start``: IALAM from a network trained by the warm-up and lifted (the pipeline's
  regime): rho0 * N, inner iterations and eta2 varied from the same start; prints IALAM's TrainErr
  against the start's, FeasVi, exact zero columns and seconds.

Run: ``python benchmarks/bench_defaults.py`` (about 3 minutes on 2 cores; ``--quick`` for one seed).
"""

from __future__ import annotations

import os

# one BLAS thread: on a shared 2-core machine a second thread made numpy 13x slower (measured: one
# MNIST gradient 0.48 s with 2 threads, 0.037 s with 1); set the variables yourself to override
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import time

import numpy as np

from ialam_verify.data import TALK_SHAPES, synthetic
from ialam_verify.solver import default_beta, fit

VARIANTS: dict[str, dict] = {
    "defaults": {},
    "talk's stop test rho > 1e3 rho0": {"rho_factor_stop": 1e3},
    "output-scale matched initialization": {"match_targets": True},
    "init W = randn / N_(l-1) ('width')": {"init_scale": "width"},
    "rho0 = 0.01/N": {"rho0": 0.01 / 500},
    "rho0 = 1e-6/N": {"rho0": 1e-6 / 500},
    "beta = 0.3 * 2max|Y|/N": {"beta_scale": 0.3},
    "xi floor weight 1 (the talk's)": {"xi_weight": 1.0},
    "eta2 = 2": {"eta2": 2.0},
    "inner_max_iter = 20": {"inner_max_iter": 20},
}


def robustness(n_seeds: int) -> None:
    """Defaults over many data sets and initializations: how often does a run succeed?"""
    print(
        f"\nRobustness: defaults, N = 500, {n_seeds} data seeds, initialization seed = data seed + k"
    )
    print(
        f"{'shape':<7}{'init offset k':>14}{'success':>9}{'TrainErr median':>17}{'worst':>10}"
        f"{'failures (data seed: TrainErr)':>34}"
    )
    for shape in ("L2", "L3", "L4"):
        sizes = TALK_SHAPES[shape]
        for k in (0, 100):
            errs, fails = [], []
            for seed in range(n_seeds):
                data = synthetic(sizes, 500, alpha=0.1, seed=seed)
                r = fit(data, sizes, start="talk", seed=seed + k, max_seconds=15.0, certify=False)
                ialam = next(st for st in r.stages if st["name"] == "IALAM")
                errs.append(r.metrics["train_err"])
                if r.status != 0 or ialam["feas_vi"] > 1e-6:
                    fails.append(f"{seed}: {r.metrics['train_err']:.3g}")
            print(
                f"{shape:<7}{k:>14}{n_seeds - len(fails):>6}/{n_seeds:<2}"
                f"{sorted(errs)[len(errs) // 2]:>17.3g}{max(errs):>10.3g}   {', '.join(fails)}",
                flush=True,
            )


#: IALAM settings compared from the same warmed-up, lifted network (per-sample: rho0 = RHO0N / N)
FEASIBLE_VARIANTS: dict[str, dict] = {
    "defaults (rho0 10/N, 20 inner, eta2 1.2)": {},
    "rho0 = 1/N": {"rho0": 1.0},
    "rho0 = 100/N": {"rho0": 100.0},
    "rho0 = 0.1/N": {"rho0": 0.1},
    "5 inner iterations": {"inner_max_iter": 5},
    "eta2 = 2": {"eta2": 2.0},
}


def feasible_start(seeds: list[int]) -> None:
    """IALAM from a warmed-up network: which rho0, inner iterations, eta2 keep it feasible and fit."""
    from ialam_verify.model.network import init_weights
    from ialam_verify.solver import warmup
    from ialam_verify.solver.settings import WarmupSettings

    print("\nFeasible start: the warm-up's network (5000 prox-Adam iterations), lifted, then IALAM")
    print(
        f"{'variant':<42}{'shape':>6}{'seed':>5}{'start err':>11}{'IALAM err':>11}{'FeasVi':>10}"
        f"{'zero cols':>10}{'status':>7}{'sec':>7}"
    )
    for shape in ("L2", "L3", "L4"):
        sizes = TALK_SHAPES[shape]
        for seed in seeds:
            data = synthetic(sizes, 500, alpha=0.1, seed=seed)
            # one fixed start per problem: the warm-up with an iteration cap (not a time cap)
            r0 = fit(data, sizes, seed=seed, max_outer=1, refine=False, certify=False)
            W0, b0 = init_weights(sizes, np.random.default_rng(seed))
            wr = warmup(r0.problem, W0, b0, WarmupSettings(max_seconds=float("inf"), max_iter=5000))
            start_err = r0.problem.loss(r0.problem.lift(wr.W, wr.b).V[-1])
            for name, opts in FEASIBLE_VARIANTS.items():
                kw = dict(opts)
                if "rho0" in kw:
                    kw["rho0"] = kw["rho0"] / 500
                t0 = time.perf_counter()
                r = fit(data, sizes, start=(wr.W, wr.b), refine=False, certify=False, **kw)
                ialam = next(st for st in r.stages if st["name"] == "IALAM")
                print(
                    f"{name:<42}{shape:>6}{seed:>5}{start_err:>11.4g}{ialam['train_err']:>11.4g}"
                    f"{ialam['feas_vi']:>10.2g}{ialam['zero_columns']:>10}{int(r.status):>7}"
                    f"{time.perf_counter() - t0:>7.1f}",
                    flush=True,
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--robustness",
        type=int,
        default=0,
        metavar="SEEDS",
        help="only the robustness table, over this many seeds",
    )
    ap.add_argument(
        "--feasible-start", action="store_true", help="only the feasible-start (pipeline) table"
    )
    args = ap.parse_args()
    if args.feasible_start:
        feasible_start([0] if args.quick else [0, 1, 2])
        return
    if args.robustness:
        robustness(args.robustness)
        return
    seeds = [0] if args.quick else [0, 1]
    print(
        f"{'variant':<42}{'shape':>6}{'seed':>5}{'TrainErr':>11}{'FeasVi':>10}{'outer':>7}"
        f"{'inner':>7}{'sec':>7}"
    )
    for name, opts in VARIANTS.items():
        for shape in ("L2", "L3", "L4"):
            sizes = TALK_SHAPES[shape]
            for seed in seeds:
                data = synthetic(sizes, 500, alpha=0.1, seed=seed)
                t0 = time.perf_counter()
                kw = dict(opts)
                if "beta_scale" in kw:
                    kw["beta"] = default_beta(data.Y, len(sizes) - 1, kw.pop("beta_scale"))
                r = fit(data, sizes, start="talk", seed=seed, max_seconds=15.0, certify=False, **kw)
                ialam = next(st for st in r.stages if st["name"] == "IALAM")
                print(
                    f"{name:<42}{shape:>6}{seed:>5}{r.metrics['train_err']:>11.3g}"
                    f"{ialam['feas_vi']:>10.2g}{r.nit:>7}{r.nit_inner:>7}"
                    f"{time.perf_counter() - t0:>7.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
