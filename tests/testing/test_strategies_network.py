"""The network, data and lifted-point strategies produce what they promise, exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from ialam_verify.model import forward
from ialam_verify.stationarity import pp_problem
from ialam_verify.testing.strategies import (
    DYADIC_ALPHAS,
    VIOLATIONS,
    datasets,
    layer_sizes,
    lifted_points,
    networks,
    problems,
)

N_EXAMPLES = 200  # the issue asks for >= 200 examples per property of the strategies


@settings(max_examples=N_EXAMPLES)
@given(networks())
def test_planted_kinks_and_zero_columns_are_exact(net):
    U, V = forward(list(net.weights), list(net.biases), net.X, net.alpha)
    for l, i, n in net.kinks:
        assert U[l][i, n] == 0.0 and V[l][i, n] == 0.0
    for l, j in net.zero_columns:
        assert not np.any(net.weights[l][:, j])
    # and nothing else is exactly zero: the lists are complete
    assert sum(int(np.sum(Ul == 0)) for Ul in U) == len(net.kinks)
    assert net.alpha in DYADIC_ALPHAS
    assert net.X.shape == (net.sizes[0], net.Y.shape[1]) and net.Y.shape[0] == net.sizes[-1]


@settings(max_examples=N_EXAMPLES)
@given(networks())
def test_the_certifier_sees_the_planted_kinks(net):
    """The kink values of (PP) at the lift are exactly 0 where the strategy says (column-major u)."""
    problem = net.problem(lambda_w=0.25)
    point = net.lifted(problem)
    t = pp_problem(problem, point).kink_t
    zeros = set(np.flatnonzero(t == 0.0).tolist())
    offsets = np.cumsum([0] + [U.size for U in point.U])
    expected = {offsets[l] + n * point.U[l].shape[0] + i for l, i, n in net.kinks}
    assert zeros == expected


def test_deep_kinks_and_zero_columns_are_planted():
    """Degeneracies beyond the first layer occur (found by search, not assumed)."""
    net = find(  # the first example found, not shrunk (shrinking would cost minutes)
        networks(max_layers=3),
        lambda n: any(l >= 2 for l, _, _ in n.kinks) and any(l >= 1 for l, _ in n.zero_columns),
        settings=settings(max_examples=1000, phases=[Phase.generate], database=None),
    )
    assert net.kinks and net.zero_columns


@settings(max_examples=N_EXAMPLES)
@given(st.data())
def test_lifted_points_feasible_or_with_the_named_violation(data):
    problem, _ = data.draw(problems())
    feasible = data.draw(st.booleans())
    kind = data.draw(st.sampled_from(VIOLATIONS))
    p = data.draw(lifted_points(problem, feasible=feasible, violation=kind))
    h = problem.residual_norm(p)
    ineq = problem.inequality_violation(p)
    gap = max(
        float(np.max(V - np.maximum(U, problem.alpha * U))) for V, U in zip(p.V, p.U, strict=True)
    )
    gap_min = min(
        float(np.min(V - np.maximum(U, problem.alpha * U))) for V, U in zip(p.V, p.U, strict=True)
    )
    if feasible:
        assert h == 0.0 and ineq == 0.0 and gap == 0.0 == gap_min
    elif kind == "linear":
        assert h > 0 and ineq == 0.0 and gap == 0.0 == gap_min
    elif kind == "penalty":
        assert h == 0.0 and ineq == 0.0 and gap > 0
    else:
        assert h == 0.0 and ineq > 0


@settings(max_examples=N_EXAMPLES)
@given(st.data())
def test_sizes_and_data_follow_their_parameters(data):
    sizes = data.draw(layer_sizes(min_layers=2, max_layers=3, min_width=2, max_width=3))
    assert 3 <= len(sizes) <= 4 and all(2 <= s <= 3 for s in sizes)
    X, Y = data.draw(datasets(sizes[0], st.just(sizes[-1]), n_samples=5))
    assert X.shape == (sizes[0], 5) and Y.shape == (sizes[-1], 5)
    assert np.all(X * 4 == np.round(X * 4))  # dyadic
    net = data.draw(networks(sizes, n_samples=3, alpha=0.5, zero_columns=False, kinks=False))
    assert net.sizes == sizes and net.alpha == 0.5 and net.X.shape[1] == 3


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: layer_sizes(min_layers=0), "min_layers"),
        (lambda: layer_sizes(min_width=3, max_width=2), "min_width"),
        (lambda: lifted_points("not a problem"), "problem must be"),
    ],
)
def test_bad_parameters_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()
