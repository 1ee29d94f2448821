"""Certification time against problem size, and what the certificate says at IALAM's termination.

Usage::

    python benchmarks/bench_certify.py scaling [--shape L2] [--n 10,100,1000,8334] [--stop-after 300]
    python benchmarks/bench_certify.py talk [--n 100] [--fit-seconds 60]

``scaling``: for each sample count N (so N * N_bar = N * sum(N_1..N_L) lifted entries), train IALAM
briefly on the talk's synthetic problem, then time ``certify`` ((PP) and (P), the generic cvxpy path).
Sizes stop once one certification takes longer than ``--stop-after`` seconds (the next size would be
slower still); the printed table says where the generic path stops being practical.

``talk``: IALAM on the talk's three synthetic shapes (L = 2, 3, 4); print each certificate's verdicts
and the smallest residual that any multiplier achieves at termination.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings


def _train(shape: str, n: int, fit_seconds: float, seed: int):
    from ialam_verify.data import TALK_SHAPES, synthetic
    from ialam_verify.solver import fit

    sizes = TALK_SHAPES[shape]
    data = synthetic(sizes, n_samples=n, seed=seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = fit(data, sizes, seed=seed, max_seconds=fit_seconds)
    return res, time.perf_counter() - t0


def _row(rep) -> dict:
    d = rep.to_dict()
    return {
        "PP": d["PP"]["verdicts"],
        "P": d["P"]["verdicts"],
        "PP_min_residual": d["PP"]["residuals"]["KKT"]["min_residual"],
        "P_min_residual_W": d["P"]["residuals"]["W"]["min_residual"],
        "solver_xi_residual": (d["PP_at_solver_xi"] or {}).get("min_residual"),
        "PP_seconds": d["PP"]["seconds"],
        "P_seconds": d["P"]["seconds"],
        "biactive_P": d["P"]["activity_sizes"]["biactive"],
        "kinks_at_zero_PP": d["PP"]["activity_sizes"]["kinks_at_zero"],
        "zero_groups": d["PP"]["activity_sizes"]["zero_groups"],
    }


def scaling(args: argparse.Namespace) -> None:
    from ialam_verify.data import TALK_SHAPES
    from ialam_verify.stationarity import certify

    nbar = sum(TALK_SHAPES[args.shape][1:])
    print(
        f"# shape {args.shape} {TALK_SHAPES[args.shape]}, N_bar = {nbar}; certify = (PP) + (P) + "
        "(PP) at the solver's xi, generic cvxpy path (Clarabel)"
    )
    print(
        f"{'N':>6} {'N*Nbar':>8} {'vars':>8} {'fit_s':>7} {'cert_s':>8} {'PP_s':>7} {'P_s':>7} "
        f"{'KKT':>10} {'PP_min_res':>10}"
    )
    for n in args.n:
        res, fit_s = _train(args.shape, n, args.fit_seconds, args.seed)
        t0 = time.perf_counter()
        rep = certify(res)
        sec = time.perf_counter() - t0
        r = _row(rep)
        print(
            f"{n:>6} {n * nbar:>8} {rep.info['n_variables']:>8} {fit_s:>7.1f} {sec:>8.1f} "
            f"{r['PP_seconds']:>7.1f} {r['P_seconds']:>7.1f} {r['PP']['KKT']:>10} "
            f"{r['PP_min_residual']:>10.3g}",
            flush=True,
        )
        if sec > args.stop_after:
            print(
                f"# stopped: certification took {sec:.0f} s > {args.stop_after:.0f} s at "
                f"N*Nbar = {n * nbar}; larger sizes are not practical on the generic path"
            )
            break


def talk(args: argparse.Namespace) -> None:
    from ialam_verify.stationarity import certify

    for shape in ("L2", "L3", "L4"):
        res, fit_s = _train(shape, args.n[0], args.fit_seconds, args.seed)
        rep = certify(res)
        out = {
            "shape": shape,
            "N": args.n[0],
            "fit_seconds": round(fit_s, 1),
            "solver_message": res.message,
            "feasibility_residual": res.metrics.get("residual"),
            "train_err": res.metrics.get("train_err"),
            **_row(rep),
        }
        print(json.dumps(out, sort_keys=True), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mode", choices=["scaling", "talk"])
    p.add_argument("--shape", choices=["L2", "L3", "L4"], default="L2")
    p.add_argument(
        "--n", type=str, default=None, help="sample counts, comma-separated (default by mode)"
    )
    p.add_argument("--fit-seconds", type=float, default=60.0, help="IALAM wall-time cap per run")
    p.add_argument(
        "--stop-after", type=float, default=300.0, help="stop scaling after a slower run"
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    default = "10,30,100,300,1000,3000,8334" if args.mode == "scaling" else "100"
    try:
        args.n = [int(x) for x in (args.n or default).split(",") if x.strip()]
    except ValueError:
        p.error(f"--n must be comma-separated integers; got {args.n!r}")
    if not args.n or min(args.n) < 1:
        p.error("--n needs positive integers")
    scaling(args) if args.mode == "scaling" else talk(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
