"""Performance profiles against a direct transcription of Dolan and Moré's definition."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ialam_verify.experiments.profiles import performance_ratios, plot_profile, profile

costs_st = arrays(
    float,
    st.tuples(st.integers(1, 6), st.integers(1, 4)),
    elements=st.one_of(
        st.floats(0, 1e3, allow_nan=False),
        st.sampled_from([0.0, 1.0, 2.0, math.inf, math.nan]),
    ),
)


def _brute_rho(costs: np.ndarray, tau: float) -> list[float]:
    P, S = costs.shape
    out = []
    for s in range(S):
        count = 0
        for p in range(P):
            ok = [c for c in costs[p] if math.isfinite(c)]
            c = costs[p, s]
            if not ok or not math.isfinite(c):
                continue
            best = min(ok)
            if best == 0.0:
                count += c == 0.0
            elif c <= tau * best:
                count += 1
        out.append(count / P)
    return out


@given(costs_st, st.floats(1.0, 50.0))
def test_profile_matches_definition(costs: np.ndarray, tau: float) -> None:
    rho = profile(performance_ratios(costs), [tau])[0]
    np.testing.assert_allclose(rho, _brute_rho(costs, tau), rtol=0, atol=1e-12)


@given(costs_st, st.floats(1e-3, 1e3))
def test_profile_properties(costs: np.ndarray, scale: float) -> None:
    r = performance_ratios(costs)
    taus = np.geomspace(1, 100, 20)
    rho = profile(r, taus)
    assert np.all((0 <= rho) & (rho <= 1))
    assert np.all(np.diff(rho, axis=0) >= 0)  # nondecreasing in tau
    solvable = np.mean(np.any(np.isfinite(np.where(np.isnan(costs), np.inf, costs)), axis=1))
    assert np.sum(rho[0]) >= solvable - 1e-12  # at tau = 1 every solved problem has a best method
    # ratios do not change when one problem's costs are all multiplied by the same factor
    scaled = costs.copy()
    scaled[0] *= scale
    r2 = performance_ratios(scaled)
    fin = np.isfinite(r) & np.isfinite(r2)
    np.testing.assert_allclose(r2[fin], r[fin], rtol=1e-9)


def test_bad_input_and_plot(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="costs"):
        performance_ratios(np.array([[-1.0, 2.0]]))
    with pytest.raises(ValueError, match="taus"):
        profile(np.ones((2, 2)), [0.5])
    pytest.importorskip("matplotlib")
    path = tmp_path / "p.png"
    plot_profile(np.array([[1.0, 2.0], [3.0, 1.0], [1.0, math.inf]]), ["A", "B"], path, "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
