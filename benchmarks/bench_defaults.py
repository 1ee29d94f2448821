"""The measurements behind the solver's defaults (``docs/algorithm.md``, "Defaults").

Each block varies one setting from the defaults on the talk's three synthetic shapes (N = 500,
alpha = 0.1, seeds 0 and 1) and prints the TrainErr reached, FeasVi, outer/inner iterations and seconds.

Run: ``python benchmarks/bench_defaults.py`` (about 3 minutes on 2 cores; ``--quick`` for one seed).
"""

from __future__ import annotations

import argparse
import time

from ialam_verify.data import TALK_SHAPES, synthetic
from ialam_verify.solver import fit

VARIANTS: dict[str, dict] = {
    "defaults": {},
    "talk's stop test rho > 1e3 rho0": {"rho_factor_stop": 1e3},
    "no output-scale matching (fan_in only)": {"match_targets": False},
    "init W = randn / N_(l-1) ('width')": {"match_targets": False, "init_scale": "width"},
    "rho0 = 1/N": {"rho0": 1.0 / 500},
    "rho0 = 0.001/N": {"rho0": 0.001 / 500},
    "eta2 = 2": {"eta2": 2.0},
    "inner_max_iter = 20": {"inner_max_iter": 20},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
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
                r = fit(data, sizes, seed=seed, max_seconds=15.0, **opts)
                print(
                    f"{name:<42}{shape:>6}{seed:>5}{r.metrics['train_err']:>11.3g}"
                    f"{r.metrics['feas_vi']:>10.2g}{r.nit:>7}{r.nit_inner:>7}"
                    f"{time.perf_counter() - t0:>7.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
