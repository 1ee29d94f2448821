"""Time to generate 200 examples from each public strategy of ialam_verify.testing (no-op test body).

Run: ``python benchmarks/bench_strategies.py`` (settings as the CI profile: derandomized, no
database). Prints examples drawn, CPU and wall seconds per strategy.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ialam_verify.testing.strategies as S

CI = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

STRATEGIES = {
    "networks()": S.networks(),
    "problems()": S.problems(),
    "lifted_points(feasible=any)": S.problems().flatmap(
        lambda pn: S.lifted_points(pn[0], feasible=st.booleans())
    ),
    "datasets()": S.datasets(),
    "mpcc_instances()": S.mpcc_instances(),
    "degenerate_mpccs(with_kinks=True)": S.degenerate_mpccs(with_kinks=True),
    "pl_functions()": S.pl_functions(),
    "pl_functions_with_subdifferentials()": S.pl_functions_with_subdifferentials(),
}


def time_strategy(strategy) -> tuple[int, float, float]:
    """``(examples drawn, cpu seconds, wall seconds)`` of one run of a no-op property."""
    count = [0]

    @CI
    @given(strategy)
    def draw_only(_example):
        count[0] += 1

    c0, w0 = time.process_time(), time.perf_counter()
    draw_only()
    return count[0], time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    total_c = total_w = 0.0
    for name, strategy in STRATEGIES.items():
        n, c, w = time_strategy(strategy)
        total_c, total_w = total_c + c, total_w + w
        print(f"{name:40s} {n:4d} examples  cpu {c:5.2f} s  wall {w:5.2f} s")
    print(f"{'total':40s}                cpu {total_c:5.2f} s  wall {total_w:5.2f} s")


if __name__ == "__main__":
    main()
