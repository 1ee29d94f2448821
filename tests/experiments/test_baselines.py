"""The torch baselines against independent numpy / cvxpy computations."""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from ialam_verify.data import Dataset  # noqa: E402
from ialam_verify.experiments.baselines import (  # noqa: E402
    OPTIMIZERS,
    RECORD_FACTOR,
    _soft_threshold_,
    all_methods,
    group_soft_threshold,
    initial_network,
    objective_numpy,
    parse_method,
    search_lr,
    torch_objective,
    train_baseline,
)
from ialam_verify.experiments.measure import Context, measure, zero_input_rows  # noqa: E402
from ialam_verify.model import Problem, init_weights  # noqa: E402


@settings(max_examples=15)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 3.0))
def test_group_soft_threshold_is_the_prox(seed: int, t: float) -> None:
    # prox_{t||.||}(C) column by column = argmin_X 1/2||X - C||_F^2 + t sum_j ||X_j||, solved by cvxpy
    rng = np.random.default_rng(seed)
    C = rng.standard_normal((3, 4)) * rng.uniform(0.1, 2.0, 4)
    X = cp.Variable((3, 4))
    obj = 0.5 * cp.sum_squares(X - C) + t * sum(cp.norm(X[:, j], 2) for j in range(4))
    cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
    got = group_soft_threshold(C, t)

    def F(Z: np.ndarray) -> float:
        return 0.5 * np.sum((Z - C) ** 2) + t * np.sum(np.linalg.norm(Z, axis=0))

    # the closed form is at least as good as the solver's answer (which is accurate only to ~1e-6
    # near the kink ||c|| = t), and by 1-strong convexity ||got - X*||^2 <= 2 (F(got) - F(X*))
    assert F(got) <= F(X.value) + 1e-9
    np.testing.assert_allclose(got, X.value, atol=1e-3)
    # and the optimality condition 0 in x - c + t d||x|| column by column, exactly
    for j in range(4):
        c, x = C[:, j], got[:, j]
        if np.linalg.norm(c) <= t:
            assert np.all(x == 0.0)
        else:
            np.testing.assert_allclose(x - c + t * x / np.linalg.norm(x), 0.0, atol=1e-12)
    Wt = torch.tensor(C.copy(), dtype=torch.float64)
    _soft_threshold_(Wt, t)
    np.testing.assert_allclose(Wt.numpy(), got, atol=1e-14)


def _net(seed: int = 0, sizes=(4, 3, 2)):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], 12))
    Y = rng.standard_normal((sizes[-1], 12))
    W, b = init_weights(sizes, rng)
    b = [rng.standard_normal(bl.shape) for bl in b]
    return X, Y, W, b


def test_torch_objective_matches_the_model() -> None:
    X, Y, W, b = _net()
    prob = Problem.create(X, Y, (4, 3, 2), 0.3, 0.05, 0.0, 0.0)
    Wt = [torch.tensor(a) for a in W]
    bt = [torch.tensor(a) for a in b]
    f = torch_objective(Wt, bt, torch.tensor(X.T), torch.tensor(Y.T), 0.3, 0.05)
    np.testing.assert_allclose(float(f), prob.network_objective(W, b), rtol=1e-13)
    ctx = Context(Dataset(X, Y), 0.3, 0.05)
    np.testing.assert_allclose(objective_numpy(W, b, ctx), prob.network_objective(W, b), rtol=1e-13)


def test_torch_gradient_matches_finite_differences() -> None:
    X, Y, W, b = _net(1)
    prob = Problem.create(X, Y, (4, 3, 2), 0.3, 0.05, 0.0, 0.0)
    Wt = [torch.tensor(a, requires_grad=True) for a in W]
    bt = [torch.tensor(a, requires_grad=True) for a in b]
    torch_objective(Wt, bt, torch.tensor(X.T), torch.tensor(Y.T), 0.3, 0.05).backward()
    h = 1e-6
    for layer in range(2):
        for idx in np.ndindex(W[layer].shape):
            Wp = [a.copy() for a in W]
            Wm = [a.copy() for a in W]
            Wp[layer][idx] += h
            Wm[layer][idx] -= h
            fd = (prob.network_objective(Wp, b) - prob.network_objective(Wm, b)) / (2 * h)
            assert abs(fd - float(Wt[layer].grad[idx])) < 1e-6


def test_proximal_sgd_step_by_hand() -> None:
    # SGD+prox with the whole set as one batch, one epoch = one step:
    # W+ = prox_{lr lambda}(W - lr grad loss), gradient of the loss by central differences
    X, Y, _, _ = _net(2)
    lr, lam, alpha = 0.1, 0.3, 0.2
    ctx = Context(Dataset(X, Y), alpha, lam)
    rec = train_baseline(ctx, (4, 3, 2), 7, "SGD", "prox", lr, batch_size=12, max_epochs=1)
    W, b = initial_network(ctx, (4, 3, 2), 7)
    prob = Problem.create(X, Y, (4, 3, 2), alpha, 0.0, 0.0, 0.0)
    h = 1e-6

    def fd(which, layer, idx):
        P = [[a.copy() for a in W], [a.copy() for a in b]]
        M = [[a.copy() for a in W], [a.copy() for a in b]]
        P[which][layer][idx] += h
        M[which][layer][idx] -= h
        return (prob.network_objective(*P) - prob.network_objective(*M)) / (2 * h)

    gW = [
        np.array([[fd(0, k, (i, j)) for j in range(a.shape[1])] for i in range(a.shape[0])])
        for k, a in enumerate(W)
    ]
    gb = [np.array([fd(1, k, (i,)) for i in range(a.shape[0])]) for k, a in enumerate(b)]
    W1 = [group_soft_threshold(a - lr * g, lr * lam) for a, g in zip(W, gW, strict=True)]
    b1 = [a - lr * g for a, g in zip(b, gb, strict=True)]
    want = measure(W1, b1, ctx)
    assert rec.status == "ok" and rec.history["epochs"] == [0.0, 1.0]
    np.testing.assert_allclose(rec.final["train_err"], want["train_err"], rtol=1e-7)
    np.testing.assert_allclose(rec.final["objective"], want["objective"], rtol=1e-7)
    # epoch 0 is the shared initialization
    assert rec.history["train_err"][0] == measure(W, b, ctx)["train_err"]


def test_prox_zeroes_dead_inputs_and_subgradient_does_not() -> None:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 40))
    X[[1, 4]] = 0.0  # two inputs zero in every sample
    Y = rng.standard_normal((2, 40))
    ctx = Context(Dataset(X, Y), 0.1, 0.2, zero_input_rows(X))
    prox = train_baseline(ctx, (6, 4, 2), 0, "Adam", "prox", 0.05, batch_size=10, max_epochs=150)
    sub = train_baseline(
        ctx, (6, 4, 2), 0, "Adam", "subgradient", 0.05, batch_size=10, max_epochs=150
    )
    assert prox.final["first_layer_sparse_ratio"] >= 2 / 6
    assert sub.final["column_sparse_ratio"] == 0.0
    # with the dead columns left out, the prox ratio is the share of the 4 live inputs zeroed
    live_zero = prox.final["first_layer_sparse_ratio"] * 6 - 2
    assert prox.final["first_layer_sparse_ratio_excl_zero_inputs"] == pytest.approx(live_zero / 4)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_decreases_the_objective(optimizer: str) -> None:
    X, Y, _, _ = _net(4)
    ctx = Context(Dataset(X, Y), 0.1, 1e-3)
    found = search_lr(ctx, (4, 3, 2), 0, optimizer, "subgradient", epochs=5, batch_size=4)
    assert found["lr"] is not None
    vals = {float(k): v for k, v in found["tried"].items() if v is not None}
    assert found["objective"] == min(vals.values()) == vals[found["lr"]]
    rec = train_baseline(
        ctx, (4, 3, 2), 0, optimizer, "subgradient", found["lr"], batch_size=4, max_epochs=5
    )
    assert rec.final["objective"] < rec.history["objective"][0]


def test_divergence_is_a_status_not_a_number() -> None:
    X, Y, _, _ = _net(5)
    ctx = Context(Dataset(X, Y * 1e3), 0.1, 0.0)
    with np.errstate(all="ignore"):
        rec = train_baseline(
            ctx, (4, 3, 2), 0, "SGD", "subgradient", 1e6, batch_size=4, max_epochs=50
        )
    assert rec.status == "diverged" and rec.final is None


def test_bad_arguments() -> None:
    X, Y, _, _ = _net()
    ctx = Context(Dataset(X, Y), 0.1, 0.0)
    with pytest.raises(ValueError, match="optimizer"):
        train_baseline(ctx, (4, 3, 2), 0, "RMSprop", "prox", 0.1)
    with pytest.raises(ValueError, match="lasso"):
        train_baseline(ctx, (4, 3, 2), 0, "SGD", "l1", 0.1)
    with pytest.raises(ValueError, match="lr"):
        train_baseline(ctx, (4, 3, 2), 0, "SGD", "prox", -1.0)
    with pytest.raises(ValueError, match="sizes"):
        train_baseline(ctx, (5, 3, 2), 0, "SGD", "prox", 0.1)
    with pytest.raises(ValueError, match="both be infinite"):
        train_baseline(ctx, (4, 3, 2), 0, "SGD", "prox", 0.1, max_epochs=math.inf)
    with pytest.raises(ValueError, match="unknown method"):
        parse_method("Adam+l1")
    assert [parse_method(m) for m in all_methods()][:1] == [("SGD", "subgradient")]
    assert len(set(all_methods())) == 12


def test_history_is_log_spaced_and_official_set_measured_at_the_end() -> None:
    X, Y, _, _ = _net(6)
    ctx = Context(Dataset(X, Y), 0.1, 1e-3, X_official=X[:, :5], Y_official=Y[:, :5])
    rec = train_baseline(ctx, (4, 3, 2), 0, "SGD", "prox", 0.01, batch_size=12, max_epochs=40)
    e = rec.history["epochs"]
    assert e[:11] == [float(k) for k in range(11)] and e[-1] == 40.0
    for prev, nxt in zip(e[1:-2], e[2:-1], strict=True):  # after epoch 10: factor RECORD_FACTOR
        assert nxt == max(prev + 1, math.ceil(prev * RECORD_FACTOR))
    off = rec.history["official_test_err"]
    assert all(v is None for v in off[:-1]) and off[-1] is not None
    assert rec.final["official_test_err"] == off[-1]
