r"""Cost of one inner (alternating-minimization) iteration against the matrix products it cannot avoid.

One inner iteration is ``AlternatingMinimization.update``: the (w, b) step (one group-lasso solve per
layer, proximal gradient on Gram matrices within the ``wb_work`` budget) and the closed-form (v, u)
step, at the problem of ``benchmarks/bench_solver.py`` (synthetic data, ``rho = tau1 = 0.01 / N``,
zero multipliers, after three warm-up iterations so that the (w, b) solves are warm-started as in a
run).

**The unavoidable products** (``unavoidable_products`` below) are, per layer :math:`\ell` with input
:math:`P = X` (:math:`\ell = 1`) or :math:`V_{\ell-1}` and targets :math:`T = U_\ell + \Xi_\ell/\rho`:

- :math:`W_\ell P` (:math:`N_\ell \times N_{\ell-1}` times :math:`N_{\ell-1} \times N`): the forward
  product, needed for the residual :math:`U_\ell - W_\ell P - b_\ell 1^T` in the (v, u) step;
- :math:`T P^T`: the data term of the (w, b) step (its gradient at any W needs it);
- for :math:`\ell \ge 2` also :math:`P P^T` (the input's Gram matrix: the input changes every
  iteration) and :math:`W_\ell^T G_\ell`, :math:`G_\ell = \Xi_\ell + \rho R_\ell` (the coupling
  pulled back to :math:`V_{\ell-1}` in the (v, u) step).

The first layer's Gram :math:`XX^T` is fixed and not counted. Each product is one BLAS call on the
solver's own arrays, timed together; this is the definition ``bench_solver.py`` used when
``docs/benchmarks.md`` reported the ratios 101.4, 24.8, 5.5, 3.6 (column "before" below, commit
a63f5df), so the ratios compare.

Timings are the minimum over ``repeat`` alternating repeats of the iteration and of the products
(the machine may be shared; a ratio measured within one run is what to compare).

Run: ``python benchmarks/bench_inner.py`` (``--quick`` for fewer repeats, ``--with-reference`` to time
the implementation from before the speed work, kept in ``tests/solver/_speed_reference.py``, in the
same run; ``--cpu-time`` to time CPU seconds, e.g. ``OPENBLAS_NUM_THREADS=1 python
benchmarks/bench_inner.py --cpu-time --with-reference --floor`` on a loaded machine; ``--floor``
adds the same table with one (w, b) proximal-gradient iteration per layer: what the rest of an
iteration costs; ``--breakdown`` adds where the time goes: the (w, b) step, the (v, u) step, the rest,
and the first layer's Gram products). ``inner_ratios()`` returns the rows for ``bench_solver.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ialam_verify.data import TALK_SHAPES, synthetic
from ialam_verify.model.problem import Problem
from ialam_verify.solver import initial_point
from ialam_verify.solver.api import default_beta
from ialam_verify.solver.inner import AlternatingMinimization

#: (sizes, N) measured by default: the talk's L2 shape and an MNIST-sized network (random data)
CASES: tuple[tuple[tuple[int, ...], int], ...] = (
    (TALK_SHAPES["L2"], 500),
    (TALK_SHAPES["L2"], 20000),
    ((784, 100, 50, 10), 1000),
    ((784, 100, 50, 10), 10000),
)

#: docs/benchmarks.md at commit a63f5df (before the speed work): inner ms, products ms, ratio
BEFORE: dict[tuple[tuple[int, ...], int], tuple[float, float, float]] = {
    (TALK_SHAPES["L2"], 500): (1.80, 0.02, 101.4),
    (TALK_SHAPES["L2"], 20000): (16.08, 0.65, 24.8),
    ((784, 100, 50, 10), 1000): (23.85, 4.32, 5.5),
    ((784, 100, 50, 10), 10000): (158.31, 44.31, 3.6),
}


#: the (w, b) subproblem solver timed (``--wb-solver``; None: the package's default, ``"bcd"``)
WB_SOLVER: str | None = None


def _setup(sizes: tuple[int, ...], n: int):
    data = synthetic(sizes, n, alpha=0.1, seed=0)
    L = len(sizes) - 1
    prob = Problem.create(data.X, data.Y, sizes, 0.1, 1e-4, 0.0, default_beta(data.Y, L))
    point = initial_point(prob, 0)
    xi = [np.zeros_like(U) for U in point.U]
    rho = 0.01 / n
    opts = {} if WB_SOLVER is None else {"wb_solver": WB_SOLVER}
    am = AlternatingMinimization(prob, tau1=0.01 / n, **opts)
    state = am.init_state(point)
    for _ in range(3):  # warm starts as in a run
        point, state = am.update(point, state, xi, rho)
    return prob, am, point, state, xi, rho


def unavoidable_products(
    prob: Problem, point, xi: list[np.ndarray], rho: float
) -> Callable[[], None]:
    """The products of the module docstring, as one callable (inputs prepared outside the timing)."""
    prev = [prob.X, *point.V[:-1]]
    targets = [U + X / rho for U, X in zip(point.U, xi, strict=True)]
    W = point.W

    def products() -> None:
        for ell in range(prob.n_layers):
            P = prev[ell]
            _ = W[ell] @ P
            _ = targets[ell] @ P.T
            if ell > 0:
                _ = P @ P.T
                _ = W[ell].T @ targets[ell]

    return products


def _min_times(fns: Sequence[Callable[[], None]], repeat: int, clock: str) -> list[float]:
    now = {"wall": time.perf_counter, "cpu": time.process_time}[clock]
    best = [np.inf] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = now()
            fn()
            best[k] = min(best[k], now() - t0)
    return best


def inner_ratios(
    cases: Sequence[tuple[tuple[int, ...], int]] = CASES,
    repeat: int = 10,
    reference: bool = False,
    clock: str = "wall",
    wb_iterations: int | None = None,
) -> list[dict]:
    """One row per case: ``sizes, n, inner_ms, products_ms, ratio`` (inner / products), the figures of
    ``docs/benchmarks.md`` before the speed work (``before_inner_ms, before_products_ms, before_ratio``,
    None for other cases) and, with ``reference``, ``reference_inner_ms`` and ``reference_ratio``: the
    implementation from before the speed work timed in the same run (needs the repository's ``tests``).

    ``clock`` is "wall" (``time.perf_counter``) or "cpu" (``time.process_time``: the process's CPU
    time, steadier on a machine shared with other jobs; with one BLAS thread it is the wall time an
    idle machine would show, e.g. ``OPENBLAS_NUM_THREADS=1``).

    ``wb_iterations`` overrides the (w, b) work budget (``wb_iteration_cap``) with that many
    proximal-gradient iterations per layer: not the solver's behaviour, a measurement of what the rest
    of an iteration costs (with 1, the floor of this design: the closed form, the first layer's
    products with its Gram matrix, per-call overhead).
    """
    if clock not in ("wall", "cpu"):
        raise ValueError(f"clock must be 'wall' or 'cpu'; got {clock!r}")
    ref = _reference_module() if reference else None
    rows = []
    for sizes, n in cases:
        sizes = tuple(sizes)
        prob, am, point, state, xi, rho = _setup(sizes, n)
        if wb_iterations is not None:
            object.__setattr__(am, "wb_iteration_cap", lambda ell, k=int(wb_iterations): k)

        def update(am=am, point=point, state=state, xi=xi, rho=rho) -> None:
            am.update(point, state, xi, rho)

        fns = [update, unavoidable_products(prob, point, xi, rho)]
        if ref is not None:

            def reference_update(am=am, point=point, state=state, xi=xi, rho=rho):
                W, b, _ = ref.wb_step_reference(am, point, state, xi, rho)
                ref.vu_step_reference(am, W, b, point, xi, rho)

            fns.append(reference_update)
        times = _min_times(fns, repeat, clock)
        before = BEFORE.get((sizes, n), (None, None, None))
        row = {
            "sizes": sizes,
            "n": n,
            "inner_ms": 1e3 * times[0],
            "products_ms": 1e3 * times[1],
            "ratio": times[0] / times[1],
            "before_inner_ms": before[0],
            "before_products_ms": before[1],
            "before_ratio": before[2],
        }
        if ref is not None:
            row["reference_inner_ms"] = 1e3 * times[2]
            row["reference_ratio"] = times[2] / times[1]
        rows.append(row)
    return rows


def inner_breakdown(
    cases: Sequence[tuple[tuple[int, ...], int]] = CASES, repeat: int = 10, clock: str = "wall"
) -> list[dict]:
    """Where one inner iteration's time goes, per case (min over ``repeat``, each part timed alone):
    ``wb_ms`` (the (w, b) step, all layers), ``vu_ms`` (the closed-form (v, u) step, its products
    ``W_l P`` and ``W_l^T G_l`` included), ``rest_ms`` (``inner_ms`` minus both: the stopping measure,
    bookkeeping), ``products_ms``, the (w, b) iterations per layer ``wb_iterations`` (with the caps
    ``wb_caps``) and ``gram_ms``: ``max(1, iterations)`` products ``W_1 (X_c X_c^T)`` of the first
    layer alone, a yardstick for its (w, b) iterations, which the definition of the products does
    not count (a proximal-gradient iteration makes one such product, a block-coordinate sweep makes
    the same number of operations in blocks, its forward-only last sweep half; the product at the
    start of a solve is carried from the previous iteration or replaced by one with the data).
    """
    now = {"wall": time.perf_counter, "cpu": time.process_time}[clock]
    return [_breakdown_case(tuple(sizes), n, repeat, now) for sizes, n in cases]


def _breakdown_case(sizes: tuple[int, ...], n: int, repeat: int, now: Callable[[], float]) -> dict:
    from unittest import mock

    import ialam_verify.solver.inner as inner_module

    prob, am, point, state, xi, rho = _setup(sizes, n)
    iterations: list[int] = []

    def counting(real):
        def step(*args, **kwargs):
            out = real(*args, **kwargs)
            if out is not None:  # (the output-started first layer step may decline: None)
                iterations.append(out[2].iterations)
            return out

        return step

    with (
        mock.patch.object(inner_module, "wb_layer_step", counting(inner_module.wb_layer_step)),
        mock.patch.object(
            inner_module,
            "wb_layer_step_from_output",
            counting(inner_module.wb_layer_step_from_output),
        ),
    ):
        W, b, _ = am.wb_step(point, state, xi, rho)
    gram, W1, k = state.gram0, point.W[0], max(iterations[0], 1)

    def gram_products() -> None:
        for _ in range(k):
            _ = W1 @ gram

    fns = [
        lambda: am.update(point, state, xi, rho),
        lambda: am.wb_step(point, state, xi, rho),
        lambda: am.vu_step(W, b, point, xi, rho),
        unavoidable_products(prob, point, xi, rho),
        gram_products,
    ]
    best = [np.inf] * len(fns)
    for _ in range(repeat):
        for j, fn in enumerate(fns):
            t0 = now()
            fn()
            best[j] = min(best[j], now() - t0)
    inner, wb, vu, products, gram_t = (1e3 * t for t in best)
    return {
        "sizes": sizes,
        "n": n,
        "inner_ms": inner,
        "wb_ms": wb,
        "vu_ms": vu,
        "rest_ms": inner - wb - vu,
        "products_ms": products,
        "gram_ms": gram_t,
        "wb_iterations": iterations,
        "wb_caps": [am.wb_iteration_cap(ell) for ell in range(prob.n_layers)],
    }


def _reference_module():
    here = Path(__file__).resolve().parent.parent / "tests" / "solver"
    if not (here / "_speed_reference.py").exists():
        raise FileNotFoundError(
            f"--with-reference needs the repository's tests/solver/_speed_reference.py (looked in {here})"
        )
    sys.path.insert(0, str(here))
    import _speed_reference

    return _speed_reference


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 10")
    ap.add_argument(
        "--wb-solver", choices=("bcd", "prox_grad"), default=None,
        help="the (w, b) subproblem solver to time (default: the package's, bcd)",
    )  # fmt: skip
    ap.add_argument("--repeat", type=int, default=None, help="repeats (min is reported)")
    ap.add_argument(
        "--with-reference",
        action="store_true",
        help="also time the implementation from before the speed work in the same run",
    )
    ap.add_argument(
        "--floor",
        action="store_true",
        help="also measure with one (w,b) iteration (a proximal-gradient iteration or a sweep) per"
        " layer (not the solver's budget: what the rest of an iteration costs)",
    )
    ap.add_argument(
        "--breakdown",
        action="store_true",
        help="also print where an iteration's time goes: (w,b) step, (v,u) step, rest",
    )
    ap.add_argument(
        "--cpu-time",
        action="store_true",
        help="time CPU seconds of this process (steadier on a shared machine; use one BLAS thread)",
    )
    args = ap.parse_args(argv)
    repeat = args.repeat or (3 if args.quick else 10)
    if repeat < 1:
        ap.error(f"--repeat must be >= 1; got {repeat}")
    clock = "cpu" if args.cpu_time else "wall"
    global WB_SOLVER
    WB_SOLVER = args.wb_solver
    print(f"(w, b) subproblem solver: {args.wb_solver or 'the default (bcd)'}")
    rows = inner_ratios(CASES, repeat, reference=args.with_reference, clock=clock)
    print(
        f"One inner iteration against the matrix products it cannot avoid ({clock} time, min of"
        f" {repeat} repeats)"
    )
    head = f"{'sizes':<20}{'N':>7}{'inner [ms]':>12}{'products [ms]':>15}{'ratio':>8}"
    head += f"{'before: inner':>15}{'ratio':>7}"
    if args.with_reference:
        head += f"{'same run, old: inner':>22}{'ratio':>7}"
    print(head)
    for r in rows:
        line = f"{str(r['sizes']):<20}{r['n']:>7}{r['inner_ms']:>12.2f}{r['products_ms']:>15.2f}"
        line += f"{r['ratio']:>8.1f}"
        if r["before_ratio"] is None:
            line += f"{'-':>15}{'-':>7}"
        else:
            line += f"{r['before_inner_ms']:>15.2f}{r['before_ratio']:>7.1f}"
        if args.with_reference:
            line += f"{r['reference_inner_ms']:>22.2f}{r['reference_ratio']:>7.1f}"
        print(line)
    print("(before: docs/benchmarks.md at commit a63f5df, another run; goals: ratio <= 2 at")
    print(" 784-100-50-10 N=1000, <= 10 at 10-10-2 N=500)")
    if args.breakdown:
        print("\nWhere one inner iteration's time goes (each part timed alone; [ms])")
        print(
            f"{'sizes':<20}{'N':>7}{'inner':>8}{'(w,b)':>8}{'(v,u)':>8}{'rest':>7}{'products':>10}"
            f"{'layer-1 Gram':>14}  (w,b) iterations / caps"
        )
        for r in inner_breakdown(CASES, repeat, clock):
            its = "/".join(str(k) for k in r["wb_iterations"])
            caps = "/".join(str(k) for k in r["wb_caps"])
            print(
                f"{str(r['sizes']):<20}{r['n']:>7}{r['inner_ms']:>8.2f}{r['wb_ms']:>8.2f}"
                f"{r['vu_ms']:>8.2f}{r['rest_ms']:>7.2f}{r['products_ms']:>10.2f}"
                f"{r['gram_ms']:>14.2f}  {its} / {caps}"
            )
        print(
            "(layer-1 Gram: max(1, iterations) products W_1 (X_c X_c^T), the yardstick of the first"
        )
        print(
            " layer's (w,b) iterations, not among the unavoidable products; (v,u) includes its"
            " products W_l P and W_l^T G_l)"
        )
    if args.floor:
        floor = inner_ratios(CASES, repeat, clock=clock, wb_iterations=1)
        print(
            "\nThe same with ONE (w,b) iteration per layer (a sweep with bcd; not the solver's budget:"
        )
        print("what the rest of an iteration costs: the floor of this design)")
        print(f"{'sizes':<20}{'N':>7}{'inner [ms]':>12}{'products [ms]':>15}{'ratio':>8}")
        for r in floor:
            print(
                f"{str(r['sizes']):<20}{r['n']:>7}{r['inner_ms']:>12.2f}{r['products_ms']:>15.2f}"
                f"{r['ratio']:>8.1f}"
            )


if __name__ == "__main__":
    main()
