"""Time of the structured certifier against one forward + backward pass of the same network.

Usage::

    python benchmarks/bench_certify.py [--generic-cap 60] [--skip-large] [--mnist PATH.npz]
        [--cpu-time] [--only 784-200-100-10:60000] [--profile]
    python benchmarks/bench_certify.py --talk [--n 100] [--fit-seconds 20]

For each case the network is random (seeded), the data synthetic (a random teacher network's outputs
plus noise) unless ``--mnist PATH`` gives an ``.npz`` with ``X`` (N x 784, or 784 x N) and ``Y``
(labels or one-hot); ``../shared`` is never read by default. Printed per case:

* ``fwd+bwd``: one forward pass (``U, V``) and one backward pass of the loss (``Xi`` and the weight
  gradients), numpy, the floor any certifier pays;
* ``structured``: ``certify(problem, point, method="structured")`` ((PP) at the point, (P) at the lift,
  every notion), and the ratio to ``fwd+bwd``;
* ``generic``: ``certify(..., method="generic")`` when the case is small enough for it (N * N_bar at
  most 12,000) and it finishes within ``--generic-cap`` seconds (run in a child process that is
  stopped at the cap); otherwise "-".

``--cpu-time`` adds the same two figures in CPU seconds of this process (``time.process_time``;
with ``OPENBLAS_NUM_THREADS=1`` this is the work done, whatever else runs on the machine) and their
ratio, and at the end the run's peak resident memory. ``--only NAME:N`` runs the named cases only
(repeatable); ``--profile`` prints, after each case, the structured certifier's CPU seconds per stage
(cProfile, inclusive: a stage called inside another is counted in both).

The case 10-10-2 at N = 2000 plants 12 exact zeros in ``u`` (dyadic weights and inputs make the
forward pass exact, so a bias set to minus a pre-activation gives exactly 0).
``--talk``: IALAM (its defaults) on the talk's three synthetic shapes, stopped after
``--fit-seconds``; prints each certificate's verdicts, epsilon and proved lower bound (structured), the
generic verdicts when it finishes within the cap.

Timings are wall-clock on whatever machine runs this (2 shared cores when the figures in
docs/stationarity.md were taken).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time

import numpy as np

CASES = [
    ("10-10-2", (10, 10, 2), 500, 0),
    ("10-10-2", (10, 10, 2), 2000, 12),
    ("10-10-2", (10, 10, 2), 20000, 0),
    ("784-100-50-10", (784, 100, 50, 10), 1000, 0),
    ("784-200-100-10", (784, 200, 100, 10), 60000, 0),
]
ALPHA = 0.25


def _dyadic(rng, shape, scale=1.0):
    """Multiples of 2^-10: fine enough that no pre-activation is 0 by accident, coarse enough that
    the first two layers are computed exactly in float64."""
    return np.round(rng.standard_normal(shape) * scale * 1024) / 1024


def make_case(sizes, n, zeros, seed=0, mnist=None):
    """Problem and point: random dyadic weights (so that planted zeros are exact), synthetic data."""
    from ialam_verify.model import Problem
    from ialam_verify.model.network import forward
    from ialam_verify.solver.api import default_beta

    rng = np.random.default_rng(seed)
    L = len(sizes) - 1
    W = [_dyadic(rng, (o, i), 1 / np.sqrt(i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [_dyadic(rng, (o,), 0.1) for o in sizes[1:]]
    if mnist is not None and sizes[0] == 784:
        X, Y = mnist
        X, Y = X[:, :n], Y[:, :n]
    else:
        X = _dyadic(rng, (sizes[0], n))
        teacher = [rng.standard_normal(w.shape) / np.sqrt(w.shape[1]) for w in W]
        _, Vt = forward(teacher, [np.zeros(w.shape[0]) for w in W], X, ALPHA)
        Y = Vt[-1] + 0.1 * rng.standard_normal(Vt[-1].shape)
    planted = 0
    for k in range(zeros):  # bottom-up, one sample per unit; layer 1 then layer 2
        l = 0 if k < sizes[1] else 1
        i = k if l == 0 else (k - sizes[1]) % sizes[2]
        U, V = forward(W, b, X, ALPHA)
        prev = X if l == 0 else V[l - 1]
        j = int(rng.integers(n))
        b[l][i] = -(W[l][i] @ prev[:, j])
        planted += 1
    problem = Problem.create(X, Y, sizes, ALPHA, 1e-4, 0.0, default_beta(Y, L))
    point = problem.lift(W, b)
    zeros_found = sum(int(np.sum(U == 0)) for U in point.U)
    return problem, point, zeros_found


def forward_backward(problem, point, clock=time.perf_counter) -> float:
    """One forward pass and one backward pass of the loss (numpy), seconds of ``clock`` (the mean
    over repeats filling at least 0.2 s)."""
    reps, total = 0, 0.0
    while total < 0.2 or (reps < 3 and total < 1.0):
        total += _forward_backward_once(problem, point, clock)
        reps += 1
    return total / reps


def _forward_backward_once(problem, point, clock=time.perf_counter) -> float:
    from ialam_verify.model.network import forward

    t0 = clock()
    U, V = forward(point.W, point.b, problem.X, problem.alpha)
    N = problem.n_samples
    delta = (2.0 / N) * (V[-1] - problem.Y) * np.where(U[-1] > 0, 1.0, problem.alpha)
    grads = []
    for l in reversed(range(len(U))):
        prev = problem.X if l == 0 else V[l - 1]
        grads.append(delta @ prev.T)
        if l > 0:
            delta = (point.W[l].T @ delta) * np.where(U[l - 1] > 0, 1.0, problem.alpha)
    return clock() - t0


#: stages of the structured certifier reported by ``--profile``: (label, module suffix, function)
STAGES = [
    ("lift (forward pass of the weights)", "model/problem.py", "lift"),
    ("constraint residual (feasibility report)", "model/problem.py", "residual"),
    ("activity masks", "network_data.py", "at"),
    ("activity masks (cached per level)", "network_data.py", "activity"),
    ("entry classes (Structure.of)", "network_program.py", "of"),
    ("backward pass (multipliers)", "network_program.py", "backward"),
    ("witness assembly", "network_program.py", "witness"),
    ("witness residual (one pass, all norms)", "network_check.py", "residual_summary"),
    ("membership rules", "network_check.py", "membership_violation"),
    ("proof forward pass (propagate_direction)", "network_check.py", "propagate_direction"),
    ("direction re-check (check_direction)", "network_check.py", "check_direction"),
    ("reduced program build", "network_program.py", "build"),
    ("(P) least-squares witness", "network.py", "_least_squares_witness"),
    ("LP/SOCP solves (cvxpy)", "network_program.py", "solve"),
    ("band: evidence re-checked at the ends", "network.py", "_all_confirmed"),
    ("decide (PP) + (P), all runs", "network.py", "decide_notions"),
]


def print_profile(stats) -> None:
    """Inclusive CPU seconds of each of :data:`STAGES` from a ``pstats.Stats``."""
    rows = {}
    for (path, _, func), (_, ncalls, _, cum, _) in stats.stats.items():
        for label, suffix, name in STAGES:
            if func == name and path.replace("\\", "/").endswith(suffix):
                c, t = rows.get(label, (0, 0.0))
                rows[label] = (c + ncalls, t + cum)
    for label, _, _ in STAGES:
        if label in rows:
            c, t = rows[label]
            print(f"    {label:44s} {t:7.2f} s  ({c} calls)")


def _generic_child(sizes, n, zeros, q):
    from ialam_verify.stationarity import certify

    problem, point, _ = make_case(sizes, n, zeros)
    t0 = time.perf_counter()
    rep = certify(problem, point, method="generic")
    q.put((time.perf_counter() - t0, rep.summary_line()))


def generic_time(sizes, n, zeros, cap):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=_generic_child, args=(sizes, n, zeros, q))
    proc.start()
    proc.join(cap)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return None, f"stopped at the cap {cap:g} s"
    return q.get() if not q.empty() else (None, "child failed")


def talk(args) -> int:
    import warnings

    from ialam_verify.data import TALK_SHAPES, synthetic
    from ialam_verify.solver import fit
    from ialam_verify.stationarity import certify

    print(f"{'shape':6s} {'N':>5s} {'fit s':>6s} {'cert s':>6s}  KKT (eps / bound)  |  summary")
    for shape, sizes in TALK_SHAPES.items():
        data = synthetic(sizes, n_samples=args.n, seed=0)
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = fit(
                data, sizes, seed=0, start="talk", refine=False, certify=False,
                max_seconds=args.fit_seconds,
            )
        tf = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = certify(res, method="structured")
        tc = time.perf_counter() - t0
        v = rep.verdict("KKT")
        lb = rep.lower_bound("KKT")
        eps = "-" if v.epsilon is None else f"{v.epsilon:.2g}"
        lbs = "-" if lb is None else f"{lb:.2g}"
        print(f"{shape:6s} {args.n:5d} {tf:6.1f} {tc:6.2f}  {v.outcome.value} ({eps} / {lbs})  |  "
              f"{rep.summary_line().split(' [')[0]}")
        if res.problem.n_samples * sum(sizes[1:]) <= 12000:
            tg0 = time.perf_counter()
            g = certify(res, method="generic")
            print(f"{'':6s} generic ({time.perf_counter() - tg0:.1f} s): "
                  f"{g.summary_line().split(' [')[0]}; KKT smallest residual "
                  f"{g.pp.results['KKT'].min_residual:.2g}")
        sys.stdout.flush()
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--generic-cap", type=float, default=60.0)
    ap.add_argument("--skip-large", action="store_true", help="skip 784-200-100-10 at N = 60000")
    ap.add_argument("--mnist", default=None, help=".npz with X, Y (optional; never read by default)")
    ap.add_argument("--talk", action="store_true", help="IALAM on the talk's shapes, then certify")
    ap.add_argument("--n", type=int, default=100, help="--talk: samples")
    ap.add_argument("--fit-seconds", type=float, default=20.0, help="--talk: IALAM time budget")
    ap.add_argument("--cpu-time", action="store_true", help="also CPU seconds and their ratio")
    ap.add_argument("--only", action="append", default=None, metavar="NAME:N",
                    help="run only this case (e.g. 784-200-100-10:60000); repeatable")
    ap.add_argument("--profile", action="store_true", help="CPU seconds per certifier stage")
    args = ap.parse_args(argv)
    if args.talk:
        return talk(args)
    import cvxpy  # noqa: F401  (imported once here: its ~3 s import is not the certifier's time)

    from ialam_verify.stationarity import certify

    mnist = None
    if args.mnist:
        z = np.load(args.mnist)
        X = np.asarray(z["X"], dtype=float)
        X = X.T if X.shape[0] != 784 else X
        y = np.asarray(z["Y"])
        Y = np.eye(10)[y.astype(int)].T if y.ndim == 1 else (y.T if y.shape[0] != 10 else y)
        mnist = (X / max(1.0, X.max()), Y.astype(float))
    cpu_head = f" {'cpu f+b s':>9s} {'cpu str s':>9s} {'cpu ratio':>9s}" if args.cpu_time else ""
    print(f"{'case':16s} {'N':>6s} {'zeros':>5s} {'fwd+bwd s':>9s} {'structured s':>12s} "
          f"{'ratio':>6s}{cpu_head} {'generic s':>10s}  structured verdicts")
    for name, sizes, n, zeros in CASES:
        if args.skip_large and n >= 60000:
            continue
        if args.only and f"{name}:{n}" not in args.only:
            continue
        problem, point, found = make_case(sizes, n, zeros, mnist=mnist)
        fb = min(forward_backward(problem, point) for _ in range(3))
        fbc = min(forward_backward(problem, point, time.process_time) for _ in range(3))
        prof = None
        if args.profile:
            import cProfile

            prof = cProfile.Profile(time.process_time)
        t0, c0 = time.perf_counter(), time.process_time()
        if prof is not None:
            prof.enable()
        rep = certify(problem, point, method="structured")
        if prof is not None:
            prof.disable()
        ts, tc = time.perf_counter() - t0, time.process_time() - c0
        gen = "-"
        if n * sum(sizes[1:]) <= 12000:
            tg, msg = generic_time(sizes, n, zeros, args.generic_cap)
            gen = f"{tg:.1f}" if tg is not None else f"> {args.generic_cap:g}"
        verdicts = rep.summary_line().split(" [")[0]
        cpu = f" {fbc:9.4f} {tc:9.2f} {tc / fbc:9.1f}" if args.cpu_time else ""
        print(f"{name:16s} {n:6d} {found:5d} {fb:9.4f} {ts:12.2f} {ts / fb:6.1f}{cpu} {gen:>10s}  "
              f"{verdicts}")
        if prof is not None:
            import pstats

            print_profile(pstats.Stats(prof))
        sys.stdout.flush()
    if args.cpu_time:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"peak resident memory of this run: {peak:.1f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
