"""The measurements behind the solver's defaults (``docs/algorithm.md``, "Defaults").

Each block varies one setting from the defaults on the talk's three synthetic shapes (N = 500,
alpha = 0.1, seeds 0 and 1) and prints the TrainErr reached, FeasVi, outer/inner iterations and seconds.

Run: ``python benchmarks/bench_defaults.py`` (about 3 minutes on 2 cores; ``--quick`` for one seed).
"""

from __future__ import annotations

import argparse
import time

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
                r = fit(data, sizes, seed=seed + k, max_seconds=15.0)
                errs.append(r.metrics["train_err"])
                if not r.success:
                    fails.append(f"{seed}: {r.metrics['train_err']:.3g}")
            print(
                f"{shape:<7}{k:>14}{n_seeds - len(fails):>6}/{n_seeds:<2}"
                f"{sorted(errs)[len(errs) // 2]:>17.3g}{max(errs):>10.3g}   {', '.join(fails)}",
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
    args = ap.parse_args()
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
                r = fit(data, sizes, seed=seed, max_seconds=15.0, **kw)
                print(
                    f"{name:<42}{shape:>6}{seed:>5}{r.metrics['train_err']:>11.3g}"
                    f"{r.metrics['feas_vi']:>10.2g}{r.nit:>7}{r.nit_inner:>7}"
                    f"{time.perf_counter() - t0:>7.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
