r"""The alternating minimization: descent of :math:`\mathcal L_\rho + \mathcal P`, the (v, u) step as the
exact minimizer of its subproblem, and its per-entry coefficients.

References are computed independently: :math:`\mathcal L_\rho` sample by sample, :math:`\mathcal P` with
the matrices :math:`S_\ell` built explicitly, the (v, u) subproblem as one convex QP per sign pattern of
``U`` solved by cvxpy.
"""

from __future__ import annotations

import itertools

import cvxpy as cp
import numpy as np
import pytest
from _solver_common import (
    augmented_lagrangian_by_loops,
    proximal_term_by_definition,
    random_feasible_point,
    random_problem,
)
from hypothesis import given
from hypothesis import strategies as st

import ialam_verify.solver.inner as inner_mod
from ialam_verify.model import LiftedPoint, leaky_relu
from ialam_verify.solver import AlternatingMinimization, augmented_lagrangian, proximal_term

SHAPES = [(1, 1, 1), (2, 3, 1), (3, 2, 2, 2), (2, 3, 2, 2, 1), (2, 2)]


def setup(seed, sizes, n, rho, tau1, relu=False, xi_scale=1.0):
    rng = np.random.default_rng(seed)
    prob = random_problem(rng, sizes, n, relu=relu)
    pt = random_feasible_point(rng, prob)
    xi = [xi_scale * rng.standard_normal(Ul.shape) for Ul in pt.U]
    am = AlternatingMinimization(prob, tau1, wb_tol=1e-10, wb_max_iter=2000)
    return rng, prob, pt, xi, am


def phi(prob, new: LiftedPoint, old: LiftedPoint, xi, rho, tau1) -> float:
    r""":math:`\mathcal L_\rho(\text{new}) + \mathcal P(\text{new}; \text{old})`, both by definition."""
    return augmented_lagrangian_by_loops(prob, new, xi, rho) + proximal_term_by_definition(
        new, old, rho, tau1
    )


# ----------------------------------------------------------------- the two functions themselves
@given(
    seed=st.integers(0, 10_000),
    sizes=st.sampled_from(SHAPES),
    n=st.integers(1, 5),
    rho=st.floats(1e-3, 1e2),
    tau1=st.floats(1e-3, 1.0),
)
def test_lagrangian_and_proximal_term_match_their_definitions(seed, sizes, n, rho, tau1):
    rng, prob, pt, xi, _ = setup(seed, sizes, n, rho, tau1)
    other = random_feasible_point(rng, prob)
    L_ref = augmented_lagrangian_by_loops(prob, pt, xi, rho)
    assert augmented_lagrangian(prob, pt, xi, rho) == pytest.approx(L_ref, rel=1e-12, abs=1e-12)
    P_ref = proximal_term_by_definition(pt, other, rho, tau1)
    assert proximal_term(pt, other, rho, tau1) == pytest.approx(P_ref, rel=1e-10, abs=1e-12)
    # S_l >= tau1 I: the proximal term is at least tau1/2 times the squared distance it measures
    dist2 = float(np.sum((pt.U[0] - other.U[0]) ** 2))
    for ell in range(1, len(pt.W)):
        dist2 += float(np.sum((pt.V[ell - 1] - other.V[ell - 1]) ** 2))
        dist2 += float(np.sum((pt.U[ell] - other.U[ell]) ** 2))
    assert P_ref >= 0.5 * tau1 * dist2 * (1 - 1e-9)


# --------------------------------------------------------------------------------- descent
@given(
    seed=st.integers(0, 10_000),
    sizes=st.sampled_from(SHAPES),
    n=st.integers(1, 6),
    rho=st.floats(1e-3, 1e2),
    tau1=st.floats(1e-3, 1.0),
    relu=st.booleans(),
    xi_scale=st.sampled_from([0.0, 0.1, 1.0, 10.0]),
    solver_defaults=st.booleans(),
)
def test_alternating_minimization_never_increases_lagrangian_plus_proximal(
    seed, sizes, n, rho, tau1, relu, xi_scale, solver_defaults
):
    r"""Every iteration: :math:`\mathcal L(w^{j+1}, v^{j+1}) + \mathcal P \le \mathcal L(w^{j+1}, v^j)
    \le \mathcal L(w^j, v^j)` (the talk's Theorem 4 rests on it), with accurate (w, b) steps and
    with the solver's default (inexact, warm-started) ones."""
    _, prob, pt, xi, am = setup(seed, sizes, n, rho, tau1, relu, xi_scale)
    if solver_defaults:
        am = AlternatingMinimization(prob, tau1)
    state = am.init_state(pt)
    for _ in range(6):
        new, state = am.update(pt, state, xi, rho)
        mid = LiftedPoint(new.W, new.b, pt.V, pt.U)
        L_old = augmented_lagrangian_by_loops(prob, pt, xi, rho)
        L_mid = augmented_lagrangian_by_loops(prob, mid, xi, rho)
        L_new = augmented_lagrangian_by_loops(prob, new, xi, rho)
        P = proximal_term_by_definition(new, pt, rho, tau1)
        scale = 1.0 + abs(L_old) + abs(L_mid) + abs(L_new) + abs(P)
        assert P >= -1e-12 * scale
        assert L_new + P <= L_mid + 1e-10 * scale, (L_new + P, L_mid)
        assert L_mid <= L_old + 1e-10 * scale, (L_mid, L_old)
        # the iterate stays in the feasible set of (4)
        assert prob.inequality_violation(new) <= 1e-12 * (1 + max(np.abs(U).max() for U in new.U))
        if relu:
            assert all(np.all(bl >= prob.relu_bias_bound) for bl in new.b)
        pt = new


# ------------------------------------------------------------- the (v, u) step is exact
def cvxpy_vu_subproblem(prob, W, b, old: LiftedPoint, xi, rho, tau1) -> float:
    r"""Global minimum of :math:`\mathcal L_\rho(w, b, \cdot, \cdot) + \mathcal P` over
    :math:`\{v \ge u, v \ge \alpha u\}`: for each sign pattern of ``U`` the penalty
    :math:`-\beta\sigma(u)` is linear and the problem a convex QP; the best of all patterns.
    :math:`\mathcal P` uses the explicit PSD matrices :math:`S_\ell` (``cp.quad_form``)."""
    L, N, al = prob.n_layers, prob.n_samples, prob.alpha
    n_u = sum(prob.sizes[1:]) * N
    best = np.inf
    Ss = []
    for ell in range(1, L):
        M = np.hstack([-W[ell], np.eye(W[ell].shape[0])])
        tau = rho * np.linalg.svd(M, compute_uv=False)[0] ** 2 + tau1
        S = tau * np.eye(M.shape[1]) - rho * M.T @ M
        Ss.append(0.5 * (S + S.T))
    for pattern in itertools.product((1.0, -1.0), repeat=n_u):
        V = [cp.Variable((o, N)) for o in prob.sizes[1:]]
        U = [cp.Variable((o, N)) for o in prob.sizes[1:]]
        sgn, k = [], 0
        for o in prob.sizes[1:]:
            sgn.append(np.reshape(pattern[k : k + o * N], (o, N)))
            k += o * N
        obj = cp.sum_squares(V[-1] - prob.Y) / N
        cons = []
        prev = prob.X
        for ell in range(L):
            slope = np.where(sgn[ell] > 0, 1.0, al)
            obj += prob.lambda_v * cp.sum_squares(V[ell])
            obj += prob.beta[ell] * (cp.sum(V[ell]) - cp.sum(cp.multiply(slope, U[ell])))
            R = U[ell] - W[ell] @ prev - np.outer(b[ell], np.ones(N))
            obj += cp.sum(cp.multiply(xi[ell], R)) + 0.5 * rho * cp.sum_squares(R)
            cons += [cp.multiply(sgn[ell], U[ell]) >= 0, V[ell] >= U[ell], V[ell] >= al * U[ell]]
            prev = V[ell]
        obj += 0.5 * tau1 * cp.sum_squares(U[0] - old.U[0])
        for ell in range(1, L):
            for n in range(N):
                d = cp.hstack(
                    [V[ell - 1][:, n] - old.V[ell - 1][:, n], U[ell][:, n] - old.U[ell][:, n]]
                )
                obj += 0.5 * cp.quad_form(d, Ss[ell - 1], assume_PSD=True)
        pr = cp.Problem(cp.Minimize(obj), cons)
        pr.solve(solver=cp.CLARABEL)
        assert pr.status == cp.OPTIMAL, pr.status
        best = min(best, float(pr.value))
    # the constant part of the group lasso, which cvxpy does not see
    return best + prob.group_lasso(W)


@pytest.mark.parametrize(
    ("sizes", "n", "seed"),
    [((1, 1, 1), 1, 0), ((1, 2, 1), 1, 1), ((1, 1, 1), 2, 2), ((2, 1, 1, 1), 1, 3)],
)
@pytest.mark.parametrize("relu", [False, True])
def test_vu_step_is_the_exact_minimizer(sizes, n, seed, relu):
    rng, prob, pt, xi, am = setup(seed, sizes, n, rho=0.7, tau1=0.05, relu=relu)
    rho, tau1 = 0.7, 0.05
    W, b, _ = am.wb_step(pt, am.init_state(pt), xi, rho)
    V, U = am.vu_step(W, b, pt, xi, rho)
    opt = LiftedPoint(W, b, V, U)
    f_opt = phi(prob, opt, pt, xi, rho, tau1)
    ref = cvxpy_vu_subproblem(prob, W, b, pt, xi, rho, tau1)
    scale = 1.0 + abs(ref)
    assert f_opt <= ref + 1e-7 * scale
    assert f_opt >= ref - 1e-6 * scale  # cvxpy is a brute force: the two agree
    # random feasible points, far and near: none is better
    for k in range(300):
        s = 2.0 if k < 100 else (0.1 if k < 200 else 1e-4)
        Uc = [Ul + s * rng.standard_normal(Ul.shape) for Ul in U]
        Vc = [Vl + s * rng.standard_normal(Vl.shape) for Vl in V]
        Vc = [np.maximum(Vl, leaky_relu(Ul, prob.alpha)) for Vl, Ul in zip(Vc, Uc, strict=True)]
        cand = LiftedPoint(W, b, Vc, Uc)
        assert phi(prob, cand, pt, xi, rho, tau1) >= f_opt - 1e-12 * scale


# ------------------------------------------------------------ the per-entry coefficients
def captured_coefficients(monkeypatch, am, W, b, pt, xi, rho):
    """Run ``vu_step`` with ``solve_vu`` wrapped, recording its arguments layer by layer (the numpy
    path: the compiled one forms the same coefficients inside its loop, ``==`` by
    ``test_solver_compiled.py``)."""
    calls = []
    real = inner_mod.solve_vu
    monkeypatch.setattr(inner_mod.compiled, "ENABLED", False)

    def spy(a, p, c, q, beta, alpha):
        calls.append(tuple(np.broadcast_arrays(*(np.asarray(x, float) for x in (a, p, c, q)))))
        calls[-1] = (*calls[-1], float(beta), float(alpha))
        return real(a, p, c, q, beta, alpha)

    monkeypatch.setattr(inner_mod, "solve_vu", spy)
    V, U = am.vu_step(W, b, pt, xi, rho)
    monkeypatch.setattr(inner_mod, "solve_vu", real)
    return calls, V, U


def entry_model(coef, idx, v, u):
    a, p, c, q, beta, alpha = coef
    a, p, c, q = (x[idx] for x in (a, p, c, q))
    sig = u if u >= 0 else alpha * u
    return 0.5 * a * v * v - p * v + 0.5 * c * u * u - q * u - beta * sig


@pytest.mark.parametrize(
    ("sizes", "n", "seed"), [((2, 3, 2, 2), 3, 0), ((2, 2), 2, 1), ((3, 2, 1), 2, 2)]
)
def test_vu_coefficients_per_entry(monkeypatch, sizes, n, seed):
    r"""Restricted to one entry (others fixed), :math:`\mathcal L_\rho + \mathcal P` equals
    :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u) + \text{const}`: the difference is the
    same at 9 points (both signs of ``u``, so the kink and the absence of a (v, u) cross term count)."""
    rho, tau1 = 0.9, 0.07
    rng, prob, pt, xi, am = setup(seed, sizes, n, rho, tau1)
    W, b, _ = am.wb_step(pt, am.init_state(pt), xi, rho)
    calls, _, _ = captured_coefficients(monkeypatch, am, W, b, pt, xi, rho)
    assert len(calls) == prob.n_layers
    pts = [(v, u) for v in (-1.3, 0.4, 2.1) for u in (-1.7, 0.25, 1.9)]
    for ell in range(prob.n_layers):
        assert calls[ell][4] == prob.beta[ell] and calls[ell][5] == prob.alpha
        for idx in np.ndindex(pt.U[ell].shape):
            diffs = []
            for v, u in pts:
                z = LiftedPoint(W, b, [Vl.copy() for Vl in pt.V], [Ul.copy() for Ul in pt.U])
                z.V[ell][idx], z.U[ell][idx] = v, u
                diffs.append(phi(prob, z, pt, xi, rho, tau1) - entry_model(calls[ell], idx, v, u))
            scale = 1.0 + max(abs(d) for d in diffs)
            assert max(diffs) - min(diffs) <= 1e-9 * scale, (ell, idx, diffs)

    # and the whole function separates: phi(Z1) - phi(Z2) = sum over entries of the model differences
    for _ in range(3):
        Z = [random_feasible_point(rng, prob) for _ in range(2)]
        Z = [LiftedPoint(W, b, z.V, z.U) for z in Z]
        lhs = phi(prob, Z[0], pt, xi, rho, tau1) - phi(prob, Z[1], pt, xi, rho, tau1)
        rhs = 0.0
        for ell in range(prob.n_layers):
            for idx in np.ndindex(pt.U[ell].shape):
                rhs += entry_model(calls[ell], idx, Z[0].V[ell][idx], Z[0].U[ell][idx])
                rhs -= entry_model(calls[ell], idx, Z[1].V[ell][idx], Z[1].U[ell][idx])
        assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("relu", [False, True])
def test_wb_step_optimality_fixes_the_multiplier_sign(relu):
    r"""After the (w, b) step, :math:`\xi^+ = \xi + \rho\, r(w^{j+1}, b^{j+1}, v^j, u^j)` satisfies the
    first KKT lines of (PP) with the sign of :math:`\mathcal L_\rho = O + \langle\xi, r\rangle + \dots`:
    :math:`\Psi(v)^T\xi^+ \in \partial_w \mathcal R_1(w)`, i.e. :math:`0 \in \partial_w\bar O - \Psi^T\xi^+`
    (the talk prints :math:`+\Psi(v)^T\xi`), and :math:`A^T\xi^+ = 0` (per layer
    :math:`\Xi^+_\ell 1 = 0`; with the (PP_b) bound, only where the bias is off the bound)."""
    rho, tau1 = 0.8, 0.1
    _, prob, pt, xi, _ = setup(9, (3, 4, 3, 2), 8, rho, tau1, relu=relu)
    prob = type(prob).create(
        prob.X, prob.Y, prob.sizes, prob.alpha, 2.0, prob.lambda_v, prob.beta, prob.relu_bias_bound
    )
    am = AlternatingMinimization(prob, tau1, wb_tol=1e-13, wb_max_iter=20_000, wb_work=float("inf"))
    W, b, _ = am.wb_step(pt, am.init_state(pt), xi, rho)
    prev = [prob.X, *pt.V[:-1]]
    lam = prob.lambda_w
    n_zero = n_nonzero = 0
    for ell in range(prob.n_layers):
        Xp = xi[ell] + rho * (pt.U[ell] - W[ell] @ prev[ell] - b[ell][:, None])
        G = Xp @ prev[ell].T  # Psi(v)^T xi+, layer block
        norms = np.linalg.norm(W[ell], axis=0)
        nz = norms > 0
        n_zero += int(np.sum(~nz))
        n_nonzero += int(np.sum(nz))
        np.testing.assert_allclose(G[:, nz], lam * W[ell][:, nz] / norms[nz], atol=1e-7)
        assert np.all(np.linalg.norm(G[:, ~nz], axis=0) <= lam * (1 + 1e-7))
        # the talk's sign would need -G in the subdifferential: it is not
        if nz.any():
            assert not np.allclose(-G[:, nz], lam * W[ell][:, nz] / norms[nz], atol=1e-3)
        off = b[ell] > (prob.relu_bias_bound if relu else -np.inf)
        np.testing.assert_allclose(Xp.sum(axis=1)[off], 0.0, atol=1e-7)
        if relu:  # on the bound: the multiplier of b >= bound is -Xi+ 1 >= 0
            assert np.all(Xp.sum(axis=1)[~off] <= 1e-7)
    assert (
        n_zero > 0 and n_nonzero > 0
    )  # lambda_w = 2 zeroes some columns, not all: both cases of the subdifferential seen


def test_run_stops_on_tolerance_or_cap():
    _, prob, pt, xi, _ = setup(4, (2, 3, 1), 5, 0.5, 0.1)
    am = AlternatingMinimization(prob, 0.1, tol=1e-300, max_iter=7)
    _, st_ = am.run(pt, xi, 0.5)
    assert st_.iter_num == 7
    am = AlternatingMinimization(prob, 0.1, tol=0.5, max_iter=1000)
    _, st_ = am.run(pt, xi, 0.5)
    assert st_.error <= 0.5 and st_.iter_num < 1000


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relative_change_is_the_plain_formula_bit_for_bit(seed):
    """``update``'s stopping measure, computed in one reused buffer, equals the plain formula exactly
    (small arrays and ones large enough for numpy's blocked pairwise summation)."""
    from ialam_verify.solver.inner import _relative_change

    rng = np.random.default_rng(seed)
    shapes = [(3, 7), (100, 1000), (1, 1), (50, 333)]
    new = [rng.standard_normal(s) * 10.0 ** rng.integers(-6, 6) for s in shapes]
    old = [rng.standard_normal(s) * 10.0 ** rng.integers(-6, 6) for s in shapes]
    num = sum(float(np.sum((a - c) ** 2)) for a, c in zip(new, old, strict=True))
    den = sum(float(np.sum(c * c)) for c in old)
    assert _relative_change(new, old) == float(np.sqrt(num / max(den, 1e-300)))
