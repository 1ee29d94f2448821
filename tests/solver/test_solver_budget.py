"""The (w, b) work budget and the Lipschitz-capped line search: cheaper, never worse in value."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.data import synthetic
from ialam_verify.model.problem import Problem
from ialam_verify.solver import initial_point
from ialam_verify.solver.inner import AlternatingMinimization
from ialam_verify.solver.wb_step import (
    centred_gram,
    group_soft_threshold,
    largest_eigenvalue,
    prox_gradient_bb,
)


def _problem(sizes, n):
    d = synthetic(sizes, n, alpha=0.1, seed=0)
    return Problem.create(d.X, d.Y, sizes, 0.1, 1e-3, 0.0, 0.01)


def test_iteration_cap_follows_the_work_budget():
    prob = _problem((40, 6, 2), 50)
    am = AlternatingMinimization(prob, 0.01, wb_max_iter=30, wb_work=2.0)
    # layer 0: floor(2 * 50 / 40) = 2; layer 1: floor(2 * 50 / 6) = 16
    assert [am.wb_iteration_cap(0), am.wb_iteration_cap(1)] == [2, 16]
    default = AlternatingMinimization(prob, 0.01)  # wb_work = 1: floor(50 / 40) = 1, floor(50 / 6) = 8
    assert [default.wb_iteration_cap(0), default.wb_iteration_cap(1)] == [1, 8]
    assert AlternatingMinimization(prob, 0.01, wb_max_iter=5).wb_iteration_cap(1) == 5
    assert AlternatingMinimization(prob, 0.01, wb_work=float("inf")).wb_iteration_cap(0) == 30
    tiny = AlternatingMinimization(prob, 0.01, wb_work=1e-9)
    assert tiny.wb_iteration_cap(0) == 1  # never fewer than one iteration


def _objective(G, C, W, lam):
    return 0.5 * np.sum(W * (W @ G)) - np.sum(W * C) + lam * np.sum(np.linalg.norm(W, axis=0))


@given(
    seed=st.integers(0, 10_000),
    max_iter=st.integers(1, 4),
    cond=st.floats(1.0, 1e8),
    lam=st.floats(0.0, 1.0),
)
def test_early_stopped_solve_never_increases_the_value(seed, max_iter, cond, lam):
    rng = np.random.default_rng(seed)
    n_out, n_in = 3, 6
    Q, _ = np.linalg.qr(rng.standard_normal((n_in, n_in)))
    G = (Q * np.geomspace(1.0, 1.0 / cond, n_in)) @ Q.T
    C = rng.standard_normal((n_out, n_in))
    W0 = rng.standard_normal((n_out, n_in))
    W, info = prox_gradient_bb(
        G,
        C,
        W0,
        lambda Z, t: group_soft_threshold(Z, t * lam),
        lambda Z: lam * float(np.sum(np.linalg.norm(Z, axis=0))),
        max_iter=max_iter,
    )
    assert info.iterations <= max_iter
    assert _objective(G, C, W, lam) <= _objective(G, C, W0, lam) + 1e-12 * (
        1 + abs(_objective(G, C, W0, lam))
    )


def test_given_lipschitz_constant_gives_the_same_minimizer():
    rng = np.random.default_rng(4)
    P = rng.standard_normal((8, 40))
    P[3] = P[2] + 1e-2 * rng.standard_normal(40)  # nearly collinear rows: ill-conditioned Gram
    G = centred_gram(P)
    C = rng.standard_normal((4, 40)) @ (P - P.mean(axis=1, keepdims=True)).T
    lam = 0.3
    args = (
        lambda Z, t: group_soft_threshold(Z, t * lam),
        lambda Z: lam * float(np.sum(np.linalg.norm(Z, axis=0))),
    )
    W1, i1 = prox_gradient_bb(G, C, np.zeros((4, 8)), *args, tol=1e-10, max_iter=50_000)
    W2, i2 = prox_gradient_bb(
        G, C, np.zeros((4, 8)), *args, tol=1e-10, max_iter=50_000, lipschitz=largest_eigenvalue(G)
    )
    assert i1.converged and i2.converged
    assert abs(_objective(G, C, W1, lam) - _objective(G, C, W2, lam)) <= 1e-9 * (
        1 + abs(_objective(G, C, W1, lam))
    )
    assert largest_eigenvalue(G) == np.linalg.eigvalsh(G)[-1] or np.isclose(
        largest_eigenvalue(G), np.linalg.eigvalsh(G)[-1], rtol=1e-12
    )


def test_budgeted_inner_loop_is_still_monotone():
    prob = _problem((30, 5, 2), 20)  # layer 0 budget: max(3, ceil(40/30)) = 3 iterations
    from ialam_verify.solver.inner import augmented_lagrangian

    pt = initial_point(prob, 1)
    rng = np.random.default_rng(0)
    xi = [0.01 * rng.standard_normal(U.shape) for U in pt.U]
    rho = 0.05
    am = AlternatingMinimization(prob, 0.01)
    state = am.init_state(pt)
    values = [augmented_lagrangian(prob, pt, xi, rho)]
    for _ in range(15):
        pt, state = am.update(pt, state, xi, rho)
        values.append(augmented_lagrangian(prob, pt, xi, rho))
    assert all(b <= a + 1e-10 * (1 + abs(a)) for a, b in zip(values, values[1:], strict=False))


def test_divergence_stops_with_status_6_and_the_last_finite_iterate(monkeypatch):
    from ialam_verify.solver import IALAM

    prob = _problem((4, 3, 2), 12)
    pt = initial_point(prob, 0)
    real_vu = AlternatingMinimization.vu_step
    calls = {"n": 0}

    def poisoned(self, W, b, point, xi, rho):
        calls["n"] += 1
        V, U = real_vu(self, W, b, point, xi, rho)
        if calls["n"] >= 7:  # the 7th inner iteration diverges
            V = [np.full_like(v, np.inf) for v in V]
        return V, U

    monkeypatch.setattr(AlternatingMinimization, "vu_step", poisoned)
    res = IALAM(prob, rho0=0.01, tau1=0.01, inner_max_iter=3, max_outer=10).run(pt)
    assert res.status == 6 and not res.success and "non-finite" in res.message
    assert res.nit == 2  # outer iterations 1 and 2 (inner 1-6) completed; the 3rd diverged
    assert all(np.all(np.isfinite(a)) for a in res.point.V + res.point.U + res.W + res.xi)
    assert len(res.history["rho"]) == 2


def test_prox_gradient_refuses_non_finite_data():
    G = np.eye(3)
    C = np.array([[1.0, np.nan, 0.0]])
    W0 = np.zeros((1, 3))
    W, info = prox_gradient_bb(G, C, W0, lambda Z, t: Z, lambda Z: 0.0)
    assert not info.converged and np.array_equal(W, W0)


def test_default_rho0_keeps_the_group_lasso_threshold_below_the_column_correlations():
    from ialam_verify.data import Dataset
    from ialam_verify.solver import default_rho0, fit
    from ialam_verify.solver.api import RHO0

    d = synthetic((20, 6, 3), 60, alpha=0.1, seed=3)
    small = Dataset(0.01 * d.X, d.Y)  # faint inputs, as MNIST pixels against one-hot targets
    prob = Problem.create(small.X, small.Y, (20, 6, 3), 0.1, 1e-2, 0.0, 0.1)
    pt = initial_point(prob, 0)
    rho0 = default_rho0(prob, pt)
    # recompute the medians independently, column by column
    meds = []
    prev = [prob.X, *pt.V[:-1]]
    for U, P in zip(pt.U, prev, strict=True):
        cols = []
        for j in range(P.shape[0]):
            c = sum((U[:, n] - U.mean(axis=1)) * (P[j, n] - P[j].mean()) for n in range(P.shape[1]))
            if np.linalg.norm(c) > 0:
                cols.append(np.linalg.norm(c))
        meds.append(np.median(cols))
    assert rho0 >= RHO0 / prob.n_samples
    assert prob.lambda_w / rho0 <= min(meds) * (1 + 1e-9)
    assert np.isclose(rho0, max(RHO0 / prob.n_samples, prob.lambda_w / min(meds)), rtol=1e-9)
    # with it, the first (w, b) steps leave the network non-zero; with RHO0/N they zero it
    talk = dict(start="talk", certify=False)  # the talk's regime, where default_rho0 applies
    keep = fit(small, (20, 6, 3), lambda_w=1e-2, max_outer=2, **talk)
    wiped = fit(small, (20, 6, 3), lambda_w=1e-2, max_outer=2, rho0=RHO0 / 60, **talk)
    assert keep.metrics["column_sparse_ratio"] < 1.0
    assert wiped.metrics["column_sparse_ratio"] == 1.0
    zero_l = Problem.create(small.X, small.Y, (20, 6, 3), 0.1, 0.0, 0.0, 0.1)
    assert default_rho0(zero_l, initial_point(zero_l, 0)) == RHO0 / 60
