"""Solver benchmark: prints, in one run,

1. the time of one inner (alternating-minimization) iteration against the time of the matrix products it
   cannot avoid (ratio; the goal is under 2), at several problem sizes;
2. TrainErr reached against wall time, IALAM beside ``torch.optim.Adam`` (full batch and minibatch 50,
   learning rate tuned on a grid), on the talk's L=2 synthetic problem with N = 500 (the reference
   figures in ``../shared/notes/solver-reference-figures.md``: Adam minibatch 0.013 in 5 s).

Run: ``python benchmarks/bench_solver.py`` (``--quick`` for a short run; part 2 needs torch).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ialam_verify.data import TALK_SHAPES, synthetic
from ialam_verify.model.network import init_weights
from ialam_verify.model.problem import Problem
from ialam_verify.solver import fit, initial_point
from ialam_verify.solver.api import default_beta
from ialam_verify.solver.inner import AlternatingMinimization


def best_time(fn, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def inner_iteration_ratio(sizes: tuple[int, ...], n: int, repeat: int) -> tuple[float, float]:
    data = synthetic(sizes, n, alpha=0.1, seed=0)
    L = len(sizes) - 1
    prob = Problem.create(data.X, data.Y, sizes, 0.1, 1e-4, 0.0, default_beta(data.Y, L))
    point = initial_point(prob, 0)
    xi = [np.zeros_like(U) for U in point.U]
    rho = 0.01 / n
    am = AlternatingMinimization(prob, tau1=0.01 / n)
    state = am.init_state(point)
    # warm up a few iterations so the (w, b) solves are warm-started as in a real run
    for _ in range(3):
        point, state = am.update(point, state, xi, rho)

    def one_iteration() -> None:
        am.update(point, state, xi, rho)

    prev = [prob.X, *point.V[:-1]]

    def unavoidable_products() -> None:
        # per layer: W P (residual), T P^T (right-hand side of the (w,b) step), P P^T (Gram, layers >= 2),
        # W_{l+1}^T G_{l+1} (the (v,u) step's back-propagated gradient)
        for ell in range(L):
            P = prev[ell]
            _ = point.W[ell] @ P
            _ = point.U[ell] @ P.T
            if ell > 0:
                _ = P @ P.T
                _ = point.W[ell].T @ point.U[ell]

    return best_time(one_iteration, repeat), best_time(unavoidable_products, repeat)


def adam_curve(data, sizes, lr: float, batch: int | None, seconds: float, seed: int = 0):
    import torch

    torch.set_default_dtype(torch.float64)
    # the same initial network as IALAM's default (fit(..., seed=seed))
    W, b = init_weights(sizes, np.random.default_rng(seed))
    params = [torch.tensor(a, requires_grad=True) for a in W] + [
        torch.tensor(a, requires_grad=True) for a in b
    ]
    L = len(W)
    X = torch.tensor(data.X.T)
    Y = torch.tensor(data.Y.T)
    N = X.shape[0]
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)

    def net(x):
        h = x
        for i in range(L):
            h = torch.nn.functional.leaky_relu(h @ params[i].T + params[L + i], 0.1)
        return h

    def objective(x, y):
        loss = ((net(x) - y) ** 2).sum() / x.shape[0]
        return loss + 1e-4 * sum(p.norm(dim=0).sum() for p in params[:L])

    curve = []
    t0 = time.perf_counter()
    next_mark = 0.0
    while True:
        el = time.perf_counter() - t0
        if el >= next_mark:
            with torch.no_grad():
                curve.append((el, float(((net(X) - Y) ** 2).sum() / N)))
            next_mark = el + seconds / 50
        if el > seconds:
            break
        if batch is None:
            idx = [torch.arange(N)]
        else:
            idx = torch.randperm(N, generator=gen).split(batch)
        for ii in idx:
            opt.zero_grad()
            objective(X[ii], Y[ii]).backward()
            opt.step()
    return curve


def value_at(curve, t: float) -> float:
    vals = [v for s, v in curve if s <= t]
    return vals[-1] if vals else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 3 if args.quick else 10

    print("1. One inner iteration against the matrix products it cannot avoid")
    print(f"{'sizes':<22}{'N':>8}{'inner iter [ms]':>18}{'products [ms]':>16}{'ratio':>8}")
    cases = [
        (TALK_SHAPES["L2"], 500),
        (TALK_SHAPES["L2"], 20000),
        ((784, 100, 50, 10), 1000),
        ((784, 100, 50, 10), 10000),
    ]
    if args.quick:
        cases = cases[:3]
    for sizes, n in cases:
        t_it, t_mm = inner_iteration_ratio(sizes, n, repeat)
        print(f"{str(sizes):<22}{n:>8}{1e3 * t_it:>18.2f}{1e3 * t_mm:>16.2f}{t_it / t_mm:>8.1f}")

    print(
        "\n2. TrainErr against wall time, talk's L=2 synthetic problem, N = 500 (same initialization)"
    )
    try:
        import torch  # noqa: F401
    except ImportError:
        print(
            "   torch is not installed (pip install torch==2.13.0, then the 'bench' extra): skipped"
        )
        return
    sizes = TALK_SHAPES["L2"]
    data = synthetic(sizes, 500, alpha=0.1, seed=0)
    budget = 2.0 if args.quick else 5.0
    marks = [0.5, 1.0, 2.0, 5.0] if not args.quick else [0.5, 1.0, 2.0]
    res = fit(data, sizes, max_seconds=budget)
    rows = {
        "IALAM (defaults)": list(zip(res.history["seconds"], res.history["train_err"], strict=True))
    }
    lrs = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
    for label, batch in (("Adam full batch", None), ("Adam minibatch 50", 50)):
        best = None
        for lr in lrs:
            c = adam_curve(data, sizes, lr, batch, budget / 2)
            if best is None or c[-1][1] < best[1][-1][1]:
                best = (lr, c)
        lr, _ = best
        rows[f"{label} (lr {lr:g})"] = adam_curve(data, sizes, lr, batch, budget)
    print(f"   {'method':<28}" + "".join(f"{f't={m:g}s':>12}" for m in marks))
    for name, curve in rows.items():
        print(f"   {name:<28}" + "".join(f"{value_at(curve, m):>12.4g}" for m in marks))
    print("   (learning rates tuned on", lrs, "at half the budget by final TrainErr)")


if __name__ == "__main__":
    main()
