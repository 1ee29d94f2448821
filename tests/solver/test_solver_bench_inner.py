"""``benchmarks/bench_inner.py`` on a tiny case: the rows it prints are consistent (no timing asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_inner.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_inner_under_test", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_ratio_rows_are_inner_over_products(bench):
    (row,) = bench.inner_ratios([((3, 4, 2), 20)], repeat=1, reference=True, clock="cpu")
    assert row["ratio"] == pytest.approx(row["inner_ms"] / row["products_ms"])
    assert row["reference_ratio"] == pytest.approx(row["reference_inner_ms"] / row["products_ms"])
    assert row["before_ratio"] is None  # not one of the documented cases


def test_breakdown_counts_the_solver_s_own_iterations(bench):
    from ialam_verify.solver.inner import AlternatingMinimization

    (row,) = bench.inner_breakdown([((3, 4, 2), 20)], repeat=1, clock="cpu")
    prob, am, point, state, xi, rho = bench._setup((3, 4, 2), 20)
    assert isinstance(am, AlternatingMinimization)
    _, _, total = am.wb_step(point, state, xi, rho)
    assert sum(row["wb_iterations"]) == total, row
    assert row["wb_caps"] == [am.wb_iteration_cap(ell) for ell in range(prob.n_layers)]
    assert all(1 <= k <= cap for k, cap in zip(row["wb_iterations"], row["wb_caps"], strict=True))
    assert row["rest_ms"] == pytest.approx(row["inner_ms"] - row["wb_ms"] - row["vu_ms"])


def test_unknown_clock_is_refused(bench):
    with pytest.raises(ValueError, match="clock"):
        bench.inner_ratios([((3, 4, 2), 20)], repeat=1, clock="sundial")
