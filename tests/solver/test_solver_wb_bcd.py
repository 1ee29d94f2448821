r"""The (w, b) subproblem's block coordinate descent and its closed-form zero columns.

:math:`\min_{W,b} \frac12\|T - WP - b1^T\|_F^2 + \lambda\sum_j\|W_{:,j}\|` (and ``b >= bias_bound``),
checked against independent computations: the optimality conditions written from the *uncentred*
formula (gradient :math:`-(T - WP - b1^T)P^T`), cvxpy + Newton (``cvxpy_group_lasso``), the
proximal-gradient solver run to high accuracy, and planted minimizers (data built so that a chosen
``W*`` satisfies the optimality conditions).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from test_solver_wb_step import (
    cvxpy_group_lasso,
    group_lasso_value,
    instance,
    zero_column_threshold,
)

from ialam_verify.solver.wb_bcd import group_lasso_bcd, optimality_residuals
from ialam_verify.solver.wb_step import WB_METHODS, wb_layer_step

TIGHT = {"tol": 1e-13, "max_iter": 20_000}


def kkt_violation(T, P, W, b, lam, bias_bound=None) -> float:
    r"""Largest violation of the optimality conditions, from the uncentred formula (no Gram matrix).

    Nonzero column: :math:`\nabla_j + \lambda w_j/\|w_j\| = 0`; zero column: :math:`\|\nabla_j\| \le
    \lambda`; bias: :math:`\nabla_b = 0` where free, :math:`\nabla_b \ge 0` at the bound. Relative to
    :math:`\max(1, \|T\|\|P\|)`.
    """
    R = T - W @ P - b[:, None]
    gW, gb = -R @ P.T, -R.sum(axis=1)
    norms = np.linalg.norm(W, axis=0)
    nz = norms > 0
    viol = [0.0]
    if nz.any():
        viol.append(float(np.max(np.linalg.norm(gW[:, nz] + lam * W[:, nz] / norms[nz], axis=0))))
    if (~nz).any():
        viol.append(float(np.max(np.linalg.norm(gW[:, ~nz], axis=0) - lam)))
    if bias_bound is None:
        viol.append(float(np.max(np.abs(gb), initial=0.0)))
    else:
        assert np.all(b >= bias_bound), "a bias below its bound"
        free = b > bias_bound
        viol.append(float(np.max(np.abs(gb[free]), initial=0.0)))
        viol.append(float(np.max(-gb[~free], initial=0.0)))
    return max(viol) / max(1.0, float(np.linalg.norm(T) * np.linalg.norm(P)))


def planted_instance(seed, n_in, n_out, N, const_rows, zero_rows):
    rng = np.random.default_rng(seed)
    P = rng.standard_normal((n_in, N)) * rng.uniform(0.2, 2.0, (n_in, 1))
    for j in const_rows:
        P[j] = rng.uniform(-3.0, 3.0)
    for j in zero_rows:
        P[j] = 0.0
    T = rng.standard_normal((n_out, n_in)) @ P + 0.5 * rng.standard_normal((n_out, N))
    T += rng.uniform(-2.0, 2.0)
    return T, P, rng


# --------------------------------------------------------------- 1. the closed-form zero columns
@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(2, 6),
    n_out=st.integers(1, 4),
    N=st.integers(2, 30),
    lam_frac=st.floats(0.0, 0.9),
    method=st.sampled_from(WB_METHODS),
    data=st.data(),
)
def test_constant_input_rows_give_exactly_zero_columns(
    seed, n_in, n_out, N, lam_frac, method, data
):
    """Planted constant rows (nonzero constants and zeros): their columns are exactly 0, the returned
    point satisfies the optimality conditions of the whole problem (the constant columns included:
    their gradient is :math:`-c\\,R1 = 0` at the optimal bias), and cvxpy finds the same value."""
    rows = data.draw(st.lists(st.integers(0, n_in - 1), min_size=1, max_size=n_in - 1, unique=True))
    split = data.draw(st.integers(0, len(rows)))
    T, P, rng = planted_instance(seed, n_in, n_out, N, rows[:split], rows[split:])
    lam = lam_frac * float(np.max(zero_column_threshold(T, P), initial=0.0)) + 1e-3
    W0 = rng.standard_normal((n_out, n_in))  # a warm start with the constant columns nonzero
    W, b, info = wb_layer_step(T, P, W0, rng.standard_normal(n_out), lam, method=method, **TIGHT)
    # the closed form does not depend on convergence: exact zeros for every input
    np.testing.assert_array_equal(W[:, rows], 0.0, err_msg="a constant input row's column is not 0")
    # with fewer samples than inputs (plus the bias) the data term is not strongly convex and a
    # first-order method converges sublinearly: 20,000 iterations need not reach KKT 1e-9 there
    # (found by hypothesis at N = 3, n_in = 3 and 5; the same on the code before the compiled
    # kernels); the value is still checked against cvxpy, to the looser 1e-6
    well_posed = N >= n_in + 2
    if well_posed:
        assert info.converged, info
        assert kkt_violation(T, P, W, b, lam) <= 1e-9
    _, _, f_ref = cvxpy_group_lasso(T, P, lam)
    f = group_lasso_value(T, P, W, b, lam)
    assert f <= f_ref + (1e-8 if well_posed else 1e-6) * max(1.0, abs(f_ref)), (f, f_ref)


@pytest.mark.parametrize("method", WB_METHODS)
def test_zero_rows_under_a_bias_bound_and_constant_rows_that_are_not_fixed(method):
    """With ``b >= b_min`` a zero input row still gives a zero column; a nonzero constant row does
    not have to (it acts as a bias past the bound): here the bound binds and that column is used."""
    rng = np.random.default_rng(4)
    N = 25
    P = rng.standard_normal((4, N))
    P[1] = 0.0
    P[2] = 1.0  # a constant row that can lower the bias below the bound
    T = rng.standard_normal((2, 4)) @ P - 6.0 + 0.1 * rng.standard_normal((2, N))
    lam, bound = 0.5, -1.0
    W, b, info = wb_layer_step(T, P, rng.standard_normal((2, 4)), np.zeros(2), lam,
                               bias_bound=bound, method=method, **TIGHT)  # fmt: skip
    assert info.converged
    np.testing.assert_array_equal(W[:, 1], 0.0)
    assert np.linalg.norm(W[:, 2]) > 1.0, "the constant row should stand in for the bounded bias"
    assert kkt_violation(T, P, W, b, lam, bound) <= 1e-9
    _, _, f_ref = cvxpy_group_lasso(T, P, lam, bound)
    assert group_lasso_value(T, P, W, b, lam) <= f_ref + 1e-8 * max(1.0, abs(f_ref))


# ----------------------------------------------------- 2. block coordinate descent against others
@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(1, 8),
    n_out=st.integers(1, 5),
    N=st.integers(3, 40),
    lam_frac=st.one_of(st.floats(0.0, 1.5), st.just(0.0)),
    bias_bound=st.one_of(st.none(), st.floats(-2.0, 0.5)),
    shift=st.floats(-4.0, 2.0),
)
def test_bcd_matches_proximal_gradient_and_the_optimality_conditions(
    seed, n_in, n_out, N, lam_frac, bias_bound, shift
):
    """Both solvers to high accuracy: the same value and point, the same zero columns where the
    optimality conditions leave no doubt, and the BCD point passes the uncentred conditions."""
    T, P, rng = instance(seed, n_in, n_out, N, t_shift=shift)
    # coordinate descent converges at a rate set by the conditioning of the Gram matrix (with N = 3
    # samples and 2 inputs hypothesis found cond 6e7: 1e5 sweeps left a residual of 1e-4); the
    # comparison to high accuracy is asked of well-conditioned instances
    Pc = P - P.mean(axis=1, keepdims=True) if bias_bound is None else np.vstack([P, np.ones(N)])
    assume(np.linalg.cond(Pc @ Pc.T) <= 1e5)
    lam = lam_frac * float(np.max(zero_column_threshold(T, P)))
    W0 = rng.standard_normal((n_out, n_in))
    b0 = rng.standard_normal(n_out) if bias_bound is None else bias_bound + rng.uniform(0, 1, n_out)
    Wc, bc, ic = wb_layer_step(T, P, W0, b0, lam, bias_bound=bias_bound, method="bcd", **TIGHT)
    Wp, bp, ip = wb_layer_step(T, P, W0, b0, lam, bias_bound=bias_bound, method="prox_grad", **TIGHT)
    assert ic.converged, ic
    assert kkt_violation(T, P, Wc, bc, lam, bias_bound) <= 1e-9
    fc, fp = group_lasso_value(T, P, Wc, bc, lam), group_lasso_value(T, P, Wp, bp, lam)
    assert abs(fc - fp) <= 1e-9 * max(1.0, abs(fp)), (fc, fp)
    # columns whose gradient norm at the solution is clearly below lam are 0 for both solvers
    R = T - Wc @ P - bc[:, None]
    clear = np.linalg.norm(R @ P.T, axis=0) < lam * (1 - 1e-3)
    np.testing.assert_array_equal(Wc[:, clear], 0.0, err_msg="BCD: a clearly zero column is not 0")
    if ip.converged:
        np.testing.assert_array_equal(Wp[:, clear], 0.0, err_msg="prox_grad: a zero column")


@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 8),
    m=st.integers(1, 5),
    zero_frac=st.floats(0.0, 1.0),
    lam=st.floats(0.01, 3.0),
)
def test_bcd_recovers_a_planted_minimizer(seed, n, m, zero_frac, lam):
    r"""Choose :math:`W^*` with some zero columns and subgradients :math:`S` (unit direction on the
    nonzero columns, norm < 1 on the zero ones), put :math:`C = W^*G + \lambda S`: then :math:`W^*`
    is the unique minimizer (G definite), and its optimality residual is zero. (A singular G with two
    equal inputs is left to test_solver_wb_step's rank-deficient test: coordinate descent splits the
    weight between equal columns only at the slow rate the penalty's curvature allows.)"""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n + 2))
    G = A @ A.T + 0.1 * np.eye(n)
    Ws = rng.standard_normal((m, n))
    zero = rng.uniform(size=n) < zero_frac
    Ws[:, zero] = 0.0
    S = rng.standard_normal((m, n))
    S[:, ~zero] = Ws[:, ~zero] / np.linalg.norm(Ws[:, ~zero], axis=0)
    S[:, zero] *= rng.uniform(0.0, 0.95, zero.sum()) / np.maximum(
        np.linalg.norm(S[:, zero], axis=0), 1e-300
    )
    C = Ws @ G + lam * S
    res_star = optimality_residuals(Ws, Ws @ G - C, lam, n)
    np.testing.assert_allclose(res_star, 0.0, atol=1e-12 * max(1.0, float(np.abs(C).max())))
    W, info = group_lasso_bcd(G, C, rng.standard_normal((m, n)), lam, **TIGHT)
    assert info.converged, info

    def F(X):
        return 0.5 * np.sum(X * (X @ G)) - np.sum(X * C) + lam * np.sum(np.linalg.norm(X, axis=0))

    assert F(W) <= F(Ws) + 1e-10 * max(1.0, abs(F(Ws))), (F(W), F(Ws))
    np.testing.assert_allclose(W, Ws, atol=1e-8 * max(1.0, float(np.abs(Ws).max())))
    # strict complementarity (||S_j|| <= 0.95): the planted zeros are exact zeros
    np.testing.assert_array_equal(W[:, zero], 0.0)


def test_optimality_residuals_are_the_distance_to_the_subdifferential():
    r"""Against a numerical minimum over the subdifferential (SLSQP): :math:`\min_s\|g + \lambda s\|`
    over :math:`s = w/\|w\|` (nonzero column) or the unit ball (zero column); the bias column by its
    projected-gradient formula written out."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    lam = 0.7
    W = rng.standard_normal((3, 5))
    W[:, 1] = 0.0
    W[:, 3] = 0.0
    grad = rng.standard_normal((3, 5))
    grad[:, 3] *= 0.1  # inside the ball: residual 0
    W[0, 4] = -1.0  # the bias column (bound -1): entry 0 at the bound
    grad[0, 4] = 0.3  # pushes against the bound: no violation there
    got = optimality_residuals(W, grad, lam, 4, bias_bound=-1.0, bias_curvature=2.0)
    for j in range(4):
        g = grad[:, j]
        if np.any(W[:, j]):
            ref = np.linalg.norm(g + lam * W[:, j] / np.linalg.norm(W[:, j]))
        else:
            sol = minimize(lambda s, g=g: np.sum((g + lam * s) ** 2), np.zeros(3), method="SLSQP",
                           constraints=[{"type": "ineq", "fun": lambda s: 1.0 - s @ s}],
                           options={"ftol": 1e-14})  # fmt: skip
            ref = float(np.sqrt(max(sol.fun, 0.0)))
        assert got[j] == pytest.approx(ref, abs=1e-6), (j, got[j], ref)
    b, gb = W[:, 4], grad[:, 4]
    step = [bi - max(-1.0, bi - gi / 2.0) for bi, gi in zip(b, gb, strict=True)]
    assert step[0] == 0.0  # at the bound with the gradient pushing against it: no violation
    assert got[4] == pytest.approx(2.0 * float(np.linalg.norm(step)), rel=1e-12)


# ------------------------------------------------------------------ 3. plumbing and bad input
def test_the_wb_solver_setting_reaches_every_layer_step(monkeypatch):
    """``wb_solver`` given to IALAM is the method of every (w, b) solve of the run."""
    from _solver_common import random_problem

    from ialam_verify.solver import IALAM, initial_point
    from ialam_verify.solver import inner as inner_mod

    seen = []
    real = inner_mod.wb_layer_step

    def recording(*args, **kwargs):
        seen.append(kwargs.get("method"))
        return real(*args, **kwargs)

    monkeypatch.setattr(inner_mod, "wb_layer_step", recording)
    prob = random_problem(np.random.default_rng(0), (3, 4, 2), 8)
    for method in WB_METHODS:
        seen.clear()
        solver = IALAM(prob, rho0=0.1, tau1=0.1, max_outer=2, wb_solver=method)
        solver.run(initial_point(prob, seed=1))
        assert seen and set(seen) == {method}, (method, set(seen))


def test_unknown_method_is_an_error_before_any_work():
    T, P, rng = instance(0)
    with pytest.raises(ValueError, match="method must be one of"):
        wb_layer_step(T, P, np.zeros((3, 4)), np.zeros(3), 0.1, method="cd")


def test_bcd_leaves_the_warm_start_alone_and_flags_nonfinite_data():
    T, P, rng = instance(1)
    W0 = rng.standard_normal((3, 4))
    keep = W0.copy()
    wb_layer_step(T, P, W0, np.zeros(3), 0.2, method="bcd")
    np.testing.assert_array_equal(W0, keep, err_msg="the warm start was changed")
    T[0, 0] = np.nan
    W, b, info = wb_layer_step(T, P, W0, np.zeros(3), 0.2, method="bcd")
    assert not info.converged and info.residual == np.inf
    np.testing.assert_array_equal(W, W0)
