r"""The (w, b) step against cvxpy group-lasso solves, and the group soft threshold against its definition.

:math:`\min_{W,b} \frac12\|T - WP - b1^T\|_F^2 + \lambda\sum_j\|W_{:,j}\|` (and ``b >= bias_bound``).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.solver import group_soft_threshold, wb_layer_step
from ialam_verify.solver.wb_step import augmented_gram, centred_gram

CLARABEL_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 400}


def group_lasso_value(T, P, W, b, lam) -> float:
    R = T - W @ P - b[:, None]
    return 0.5 * float(np.sum(R * R)) + lam * float(np.sum(np.linalg.norm(W, axis=0)))


def _newton_polish(T, P, lam, bias_bound, W, b, cols, free_b, steps=30):
    r"""Newton's method on the problem restricted to the support found by cvxpy.

    On the columns ``cols`` (norms bounded away from 0) and the free biases the objective is smooth:
    with :math:`A = [W_S\ b]`, :math:`Z = [P_S; 1^T]`, the least-squares Hessian is
    :math:`ZZ^T \otimes I` (column-major vec) and each column norm adds
    :math:`\lambda (I - \hat w\hat w^T)/\|w\|`.
    """
    n_out, k = T.shape[0], int(np.sum(cols))
    Z = np.vstack([P[cols], np.ones((1, P.shape[1]))])
    H_ls = np.kron(Z @ Z.T, np.eye(n_out))
    keep = np.concatenate([np.ones(n_out * k, dtype=bool), free_b])
    A = np.hstack([W[:, cols], b[:, None]])
    if bias_bound is not None:
        A[~free_b, -1] = bias_bound
    for _ in range(steps):
        R = T - A @ Z
        G = -R @ Z.T
        H = H_ls.copy()
        for j in range(k):
            w = A[:, j]
            nw = float(np.linalg.norm(w))
            G[:, j] += lam * w / nw
            blk = slice(j * n_out, (j + 1) * n_out)
            H[blk, blk] += lam * (np.eye(n_out) - np.outer(w, w) / nw**2) / nw
        g = np.ravel(G, order="F")[keep]
        step = np.linalg.solve(H[np.ix_(keep, keep)], g)
        x0 = np.ravel(A, order="F")
        f0 = group_lasso_value(T, Z[:-1], A[:, :k], A[:, k], lam)
        t = 1.0
        while t > 1e-8:  # damped: never accept an increase
            x = x0.copy()
            x[keep] -= t * step
            An = np.reshape(x, A.shape, order="F")
            if group_lasso_value(T, Z[:-1], An[:, :k], An[:, k], lam) <= f0 + 1e-15 * abs(f0):
                break
            t /= 2
        A = An
        if t * np.linalg.norm(step) <= 1e-15 * max(1.0, float(np.linalg.norm(x))):
            break
    Wf = np.zeros_like(W)
    Wf[:, cols] = A[:, :k]
    return Wf, A[:, k].copy()


def cvxpy_group_lasso(T, P, lam, bias_bound=None):
    r"""Reference solution: cvxpy (Clarabel) for the support, Newton's method for the values.

    An interior-point method approaches a zero column (the apex of a second-order cone) only to about
    the square root of its tolerance, and its solution is measured 1e-6 off elsewhere too. So the cvxpy
    solve identifies the zero columns (norm below 1e-5 of the largest) and the biases at the bound,
    and Newton's method polishes the smooth problem restricted to the rest; near a threshold the
    support is corrected by an active-set loop on the optimality conditions. The result is then
    certified by the optimality conditions: zero gradient on the support,
    :math:`\|\nabla_{W_{:,j}}\| \le \lambda` on every dropped column, and a gradient pushing every bias
    at the bound against it.
    """
    n_out, n_in = T.shape[0], P.shape[0]
    W = cp.Variable((n_out, n_in))
    b = cp.Variable(n_out)
    R = T - W @ P - cp.reshape(b, (n_out, 1), order="F") @ np.ones((1, P.shape[1]))
    obj = 0.5 * cp.sum_squares(R)
    if lam > 0:
        obj = obj + lam * cp.sum(cp.norm(W, 2, axis=0))
    cons = [] if bias_bound is None else [b >= bias_bound]
    prob = cp.Problem(cp.Minimize(obj), cons)
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == cp.OPTIMAL, prob.status
    W1, b1 = W.value, np.asarray(b.value, dtype=float)
    norms = np.linalg.norm(W1, axis=0)
    cols = norms > 1e-5 * max(1.0, float(norms.max()))
    free_b = np.ones(n_out, dtype=bool)
    if bias_bound is not None:
        free_b = b1 > bias_bound + 1e-7 * max(1.0, abs(bias_bound))
    # active-set refinement near thresholds: re-admit a dropped column whose gradient exceeds lam,
    # drop a kept column that Newton drives to 0, free a bias whose gradient pulls it up
    Wr, br = W1, b1
    for _ in range(8):
        Wr, br = _newton_polish(T, P, lam, bias_bound, Wr, br, cols, free_b)
        R = T - Wr @ P - br[:, None]
        gW, gb = -R @ P.T, -R.sum(axis=1)
        gn = np.linalg.norm(gW, axis=0)
        add = ~cols & (gn > lam * (1 + 1e-9))
        nW = np.linalg.norm(Wr, axis=0)
        kkt = np.linalg.norm(gW + lam * Wr / np.maximum(nW, 1e-300), axis=0)
        drop = cols & ((nW < 1e-12) | ((kkt > 1e-9 * (1 + lam)) & (gn <= lam)))
        unfix = ~free_b & (gb < 0)
        fix = free_b & (br < bias_bound) if bias_bound is not None else np.zeros(n_out, bool)
        if not (add.any() or drop.any() or unfix.any() or fix.any()):
            break
        br[fix] = bias_bound
        for jj in np.flatnonzero(add):
            Wr[:, jj] = -1e-9 * gW[:, jj] / gn[jj]
        Wr[:, drop] = 0.0
        cols = (cols | add) & ~drop
        free_b = (free_b | unfix) & ~fix
    # certificate of optimality of the polished reference
    R = T - Wr @ P - br[:, None]
    gW = -R @ P.T
    gb = -R.sum(axis=1)
    scale = max(1.0, float(np.linalg.norm(T)) * float(np.linalg.norm(P)))
    nr = np.linalg.norm(Wr[:, cols], axis=0)
    assert np.all(nr > 0)
    assert np.linalg.norm(gW[:, cols] + lam * Wr[:, cols] / nr) <= 1e-10 * scale
    assert np.all(np.linalg.norm(gW[:, ~cols], axis=0) <= lam * (1 + 1e-9) + 1e-10 * scale)
    assert np.linalg.norm(gb[free_b]) <= 1e-10 * scale
    assert np.all(gb[~free_b] >= -1e-10 * scale)
    if bias_bound is not None:
        assert np.all(br >= bias_bound)
    return Wr, br, group_lasso_value(T, P, Wr, br, lam)


def instance(seed, n_in=4, n_out=3, N=30, t_shift=0.0):
    rng = np.random.default_rng(seed)
    P = rng.standard_normal((n_in, N)) * rng.uniform(0.2, 2.0, (n_in, 1))
    T = rng.standard_normal((n_out, n_in)) @ P + 0.5 * rng.standard_normal((n_out, N)) + t_shift
    return T, P, rng


def zero_column_threshold(T, P) -> np.ndarray:
    r"""Per column j, the smallest :math:`\lambda` at which :math:`W_{:,j} = 0` alone is optimal
    given all other columns zero (the norm of the centred correlation :math:`T_cP_{c,j}^T`)."""
    Tc = T - T.mean(axis=1, keepdims=True)
    Pc = P - P.mean(axis=1, keepdims=True)
    return np.linalg.norm(Tc @ Pc.T, axis=0)


def assert_matches(T, P, W, b, lam, bias_bound=None, rtol=1e-6):
    Wc, bc, fc = cvxpy_group_lasso(T, P, lam, bias_bound)
    f = group_lasso_value(T, P, W, b, lam)
    assert abs(f - fc) <= rtol * max(1.0, abs(fc)), (f, fc)
    scale = max(1.0, float(np.linalg.norm(Wc)), float(np.linalg.norm(bc)))
    assert np.linalg.norm(W - Wc) <= rtol * scale
    assert np.linalg.norm(b - bc) <= rtol * scale
    if bias_bound is not None:
        assert np.all(b >= bias_bound)
    return Wc, bc


# lam_frac = 1 exactly is the degenerate threshold where the IPM cannot tell the support (its
# columns are ~1e-5 instead of 0); the library's zeros there are checked in test_whole_columns_vanish
@given(
    seed=st.integers(0, 10_000),
    lam_frac=st.one_of(st.floats(0.0, 0.95), st.floats(1.05, 1.5)),
    n_in=st.integers(1, 5),
    n_out=st.integers(1, 4),
)
def test_matches_cvxpy_without_bias_bound(seed, lam_frac, n_in, n_out):
    T, P, rng = instance(seed, n_in, n_out)
    lam = lam_frac * float(np.max(zero_column_threshold(T, P)))
    W0 = rng.standard_normal((n_out, n_in))
    b0 = rng.standard_normal(n_out)
    W, b, info = wb_layer_step(T, P, W0, b0, lam)
    assert info.converged
    assert_matches(T, P, W, b, lam)
    if lam_frac > 1.0:  # above every column's threshold, W = 0 exactly, b = mean of T
        assert np.all(W == 0.0)
        np.testing.assert_allclose(b, T.mean(axis=1), rtol=1e-12, atol=1e-12)


@given(
    seed=st.integers(0, 10_000),
    lam_frac=st.one_of(st.floats(0.0, 0.95), st.floats(1.05, 1.5)),
    shift=st.floats(-8.0, 2.0),
)
def test_matches_cvxpy_with_bias_bound(seed, lam_frac, shift):
    T, P, rng = instance(seed, t_shift=shift)
    lam = lam_frac * float(np.max(zero_column_threshold(T, P)))
    bound = -1.0
    W0 = rng.standard_normal((3, 4))
    b0 = np.full(3, bound) + np.abs(rng.standard_normal(3))
    W, b, info = wb_layer_step(T, P, W0, b0, lam, bias_bound=bound)
    assert info.converged
    assert_matches(T, P, W, b, lam, bias_bound=bound)


def test_bias_bound_active():
    """Targets with mean -5 and bound -1: the unconstrained bias would be near -5; the bound binds."""
    T, P, rng = instance(3, t_shift=-5.0)
    lam = 0.3 * float(np.max(zero_column_threshold(T, P)))
    W_free, b_free, _ = wb_layer_step(T, P, np.zeros((3, 4)), np.zeros(3), lam)
    assert np.all(b_free < -2.0)
    W, b, _ = wb_layer_step(T, P, np.zeros((3, 4)), np.zeros(3), lam, bias_bound=-1.0)
    np.testing.assert_array_equal(b, -1.0)  # the prox is a projection: exactly on the bound
    assert_matches(T, P, W, b, lam, bias_bound=-1.0)


def test_whole_columns_vanish_exactly():
    """P has one row of tiny scale and one of large scale: a middle lambda zeroes some columns only."""
    rng = np.random.default_rng(11)
    N = 40
    P = rng.standard_normal((5, N)) * np.array([[0.05], [0.1], [1.0], [2.0], [3.0]])
    T = rng.standard_normal((3, 5)) @ P + 0.3 * rng.standard_normal((3, N))
    thr = zero_column_threshold(T, P)
    lam = float(np.median(thr))
    W, b, info = wb_layer_step(T, P, rng.standard_normal((3, 5)), np.zeros(3), lam)
    assert info.converged
    Wc, _ = assert_matches(T, P, W, b, lam)
    zero = np.all(W == 0.0, axis=0)
    assert 0 < zero.sum() < 5  # some but not all columns vanish: the test is not vacuous
    cvx_norms = np.linalg.norm(Wc, axis=0)
    assert np.all(cvx_norms[zero] < 1e-6)
    assert np.all(cvx_norms[~zero] > 1e-4)
    # optimality of a zero column (independent of both solvers): the partial gradient of the smooth
    # part has norm <= lambda there; a nonzero column has gradient = -lambda * W_j / ||W_j||
    R = T - W @ P - b[:, None]
    grad = -R @ P.T
    gnorm = np.linalg.norm(grad, axis=0)
    assert np.all(gnorm[zero] <= lam * (1 + 1e-6))
    Wn = W[:, ~zero] / np.linalg.norm(W[:, ~zero], axis=0)
    np.testing.assert_allclose(grad[:, ~zero], -lam * Wn, atol=1e-6 * max(1.0, lam))


@pytest.mark.parametrize("bias_bound", [None, -0.5])
def test_warm_starts_reach_the_same_solution(bias_bound):
    T, P, rng = instance(5, t_shift=-1.0)
    lam = 0.4 * float(np.max(zero_column_threshold(T, P)))
    Wc, bc, fc = cvxpy_group_lasso(T, P, lam, bias_bound)
    starts = [
        (np.zeros((3, 4)), np.zeros(3)),
        (100.0 * rng.standard_normal((3, 4)), np.abs(rng.standard_normal(3))),
        (Wc + 1e-3 * rng.standard_normal((3, 4)), np.maximum(bc, -0.5)),
    ]
    for W0, b0 in starts:
        W, b, info = wb_layer_step(T, P, W0, b0, lam, bias_bound=bias_bound)
        assert info.converged
        assert_matches(T, P, W, b, lam, bias_bound)
    # starting at the solution: few iterations, and the value does not go up
    W1, b1, _ = wb_layer_step(T, P, np.zeros((3, 4)), np.zeros(3), lam, bias_bound=bias_bound)
    f1 = group_lasso_value(T, P, W1, b1, lam)
    W2, b2, info2 = wb_layer_step(T, P, W1, b1, lam, bias_bound=bias_bound)
    assert info2.iterations <= 3
    assert group_lasso_value(T, P, W2, b2, lam) <= f1 + 1e-12 * max(1.0, f1)


def test_precomputed_gram_gives_the_same_result():
    T, P, _ = instance(8)
    lam = 0.5
    a = wb_layer_step(T, P, np.zeros((3, 4)), np.zeros(3), lam)
    b = wb_layer_step(T, P, np.zeros((3, 4)), np.zeros(3), lam, gram=centred_gram(P))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-12, atol=1e-14)
    Pc = P - P.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(centred_gram(P), Pc @ Pc.T, rtol=1e-12, atol=1e-12)
    P1 = np.vstack([P, np.ones((1, P.shape[1]))])
    np.testing.assert_allclose(augmented_gram(P), P1 @ P1.T, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------- group soft threshold
@given(
    seed=st.integers(0, 10_000),
    t=st.floats(0.0, 5.0),
    shape=st.tuples(st.integers(1, 4), st.integers(1, 5)),
)
def test_group_soft_threshold_is_the_prox(seed, t, shape):
    r"""Against the definition :math:`\mathrm{prox}(Z) = \arg\min_X \frac12\|X-Z\|_F^2 + t\sum_j\|X_{:,j}\|`
    solved by cvxpy, and against random perturbations (none has a smaller prox objective)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal(shape) * rng.uniform(0.1, 3.0, (1, shape[1]))
    out = group_soft_threshold(Z, t)

    def h(X):
        return 0.5 * float(np.sum((X - Z) ** 2)) + t * float(np.sum(np.linalg.norm(X, axis=0)))

    # cvxpy at default tolerances: an IPM reaches a zero column (the cone apex) only to ~1e-5
    X = cp.Variable(shape)
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X - Z) + t * cp.sum(cp.norm(X, 2, axis=0))))
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == cp.OPTIMAL
    np.testing.assert_allclose(out, X.value, atol=1e-4)
    assert h(out) <= prob.value + 1e-7
    # 1-D argument per column: for any x, its projection s z/||z|| onto the ray of z (s = <x, z>/||z||
    # clipped at 0) has ||.|| no larger and distance to z no larger, so the prox lies on the segment
    # [0, z]; minimize 1/2 (s - ||z||)^2 + t s over s in [0, ||z||] on a fine grid
    for j in range(shape[1]):
        z = Z[:, j]
        nz = float(np.linalg.norm(z))
        s = np.linspace(0.0, nz, 200_001)
        vals = 0.5 * (s - nz) ** 2 + t * s
        s_best = s[np.argmin(vals)]
        assert abs(float(np.linalg.norm(out[:, j])) - s_best) <= nz / 200_000 + 1e-12
        ref = s_best * z / nz if nz > 0 else np.zeros_like(z)
        np.testing.assert_allclose(out[:, j], ref, atol=nz / 100_000 + 1e-12)
    for _ in range(20):
        assert h(out) <= h(out + 1e-3 * rng.standard_normal(shape)) + 1e-15
    # columns shorter than t are exactly zero; the others keep their direction
    short = np.linalg.norm(Z, axis=0) <= t
    assert np.all(out[:, short] == 0.0)


def test_group_soft_threshold_zero_and_zero_columns():
    Z = np.array([[0.0, 3.0], [0.0, 4.0]])
    np.testing.assert_array_equal(group_soft_threshold(Z, 0.0), Z)
    out = group_soft_threshold(Z, 1.0)  # column (3, 4) of norm 5 shrinks to norm 4
    np.testing.assert_allclose(out, [[0.0, 2.4], [0.0, 3.2]], rtol=1e-15)
    assert np.all(np.isfinite(out))


def test_rank_deficient_layer_input_still_reaches_the_minimum():
    r"""The talk calls the (w, b) subproblem strongly convex; it is not when :math:`[P; 1^T]` lacks full
    row rank (here N = 3 samples for 6 inputs: the Gram matrix is singular). The minimizer is then not
    unique, but the value still matches cvxpy's."""
    rng = np.random.default_rng(21)
    P = rng.standard_normal((6, 3))
    T = rng.standard_normal((2, 3))
    assert np.linalg.eigvalsh(augmented_gram(P))[0] < 1e-10  # singular: not strongly convex
    lam = 0.05
    W, b, info = wb_layer_step(T, P, rng.standard_normal((2, 6)), np.zeros(2), lam, max_iter=5000)
    Wv = cp.Variable((2, 6))
    bv = cp.Variable(2)
    R = T - Wv @ P - cp.reshape(bv, (2, 1), order="F") @ np.ones((1, 3))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(R) + lam * cp.sum(cp.norm(Wv, 2, axis=0))))
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == cp.OPTIMAL
    assert group_lasso_value(T, P, W, b, lam) <= prob.value + 1e-6 * max(1.0, abs(prob.value))
    assert group_lasso_value(T, P, W, b, lam) >= prob.value - 1e-6 * max(1.0, abs(prob.value))


# ------------------------------------------------- the optimized code against the plain formulas
# ``_speed_reference`` keeps the implementation from before the speed work. The proximal-gradient loop
# is now written in place with the same operations in the same order: its iterates are the same to
# rounding (in fact bit for bit, which matters: the nonmonotone test is decided at rounding level
# near convergence). The assertion asks for 1e-12 relative, and for the same counts and status.
def assert_close(got, ref, what):
    scale = max(1.0, float(np.max(np.abs(ref), initial=0.0)))
    np.testing.assert_allclose(
        got, ref, rtol=1e-12, atol=1e-12 * scale, err_msg=f"{what} differs from the reference"
    )


def assert_same_solve(got, ref, what):
    for g, r, name in zip(got[:2], ref[:2], ("W", "b"), strict=True):
        assert_close(g, r, f"{what}: {name}")
    gi, ri = got[2], ref[2]
    assert (gi.iterations, gi.converged) == (ri.iterations, ri.converged), (what, gi, ri)
    assert gi.residual == pytest.approx(ri.residual, rel=1e-9, abs=1e-300), (what, gi, ri)


@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(1, 9),
    n_out=st.integers(1, 5),
    N=st.integers(2, 40),
    lam_frac=st.one_of(st.just(0.0), st.floats(0.0, 1.5)),
    bias_bound=st.one_of(st.none(), st.floats(-2.0, 0.5)),
    max_iter=st.sampled_from([1, 3, 30, 500]),
    tol=st.sampled_from([1e-4, 1e-8, 1e-12]),
    precomputed=st.booleans(),
)
def test_layer_step_matches_the_plain_formulas(
    seed, n_in, n_out, N, lam_frac, bias_bound, max_iter, tol, precomputed
):
    import _speed_reference as ref

    T, P, rng = instance(seed, n_in, n_out, N, t_shift=float(rng_shift(seed)))
    lam = lam_frac * float(np.max(zero_column_threshold(T, P)))
    W0 = rng.standard_normal((n_out, n_in))
    b0 = rng.standard_normal(n_out)
    if bias_bound is not None:
        b0 = np.maximum(b0, bias_bound)
    kw = dict(bias_bound=bias_bound, tol=tol, max_iter=max_iter)
    if precomputed:
        G = centred_gram(P) if bias_bound is None else augmented_gram(P)
        kw.update(gram=G, gram_lmax=float(np.linalg.eigvalsh(G)[-1]))
    args = (T, P, W0.copy(), b0.copy(), lam)
    mean = {"input_mean": P.mean(axis=1)} if precomputed else {}
    got = wb_layer_step(*args, **kw, **mean, method="prox_grad")
    expected = ref.wb_layer_step(*args, **kw)
    assert_same_solve(got, expected, f"wb_layer_step({kw.get('bias_bound')}, {max_iter}, {tol})")
    np.testing.assert_array_equal(args[2], W0, err_msg="the warm start was changed")


def rng_shift(seed: int) -> float:
    return (seed % 7) - 3.0


@given(
    seed=st.integers(0, 10_000),
    sizes=st.sampled_from([(1, 1, 1), (3, 2, 2, 2), (2, 4, 3, 1), (4, 3)]),
    # n >= 2: with one sample every input row is constant, whose column the closed form of
    # wb_layer_step sets to 0 (tests/solver/test_solver_wb_bcd.py); the reference has no closed form
    n=st.integers(2, 12),
    rho=st.floats(1e-3, 1e2),
    relu=st.booleans(),
)
def test_wb_step_method_and_whole_iterations_match_the_plain_formulas(seed, sizes, n, rho, relu):
    """``AlternatingMinimization.wb_step`` and three whole inner iterations (w, b then v, u) against
    the methods as they were, from a random point with random multipliers."""
    import _speed_reference as ref
    from _solver_common import random_feasible_point, random_problem

    from ialam_verify.model import LiftedPoint
    from ialam_verify.solver import AlternatingMinimization

    rng = np.random.default_rng(seed)
    prob = random_problem(rng, sizes, n, relu=relu)
    pt = random_feasible_point(rng, prob)
    xi = [rng.standard_normal(Ul.shape) for Ul in pt.U]
    am = AlternatingMinimization(prob, 0.05, wb_max_iter=40, wb_solver="prox_grad")
    state = am.init_state(pt)
    got, expected = pt, pt
    for it in range(3):
        Wg, bg, its_g = am.wb_step(got, state, xi, rho)
        We, be, its_e = ref.wb_step_reference(am, expected, state, xi, rho)
        inputs = [prob.X, *got.V[:-1]]
        if relu:
            fixed = any(np.any(~np.any(P, axis=1)) for P in inputs)
        else:
            fixed = any(np.any(np.all(P == P[:, :1], axis=1)) for P in inputs)
        # a fixed input row's column is 0 in closed form now (test_solver_wb_bcd.py), where the
        # reference iterated on it: the same minimizer, maybe another count (hypothesis: sizes
        # (1, 1, 1), n = 2, an all-zero V_1 under the bias bound, 6 against 7)
        if not fixed:
            assert its_g == its_e, (it, its_g, its_e)
        for name, g, r in zip(("W", "b"), (Wg, bg), (We, be), strict=True):
            for ell in range(prob.n_layers):
                assert_close(g[ell], r[ell], f"iteration {it}, {name}[{ell}]")
        Vg, Ug = am.vu_step(Wg, bg, got, xi, rho)
        Ve, Ue = ref.vu_step_reference(am, We, be, expected, xi, rho)
        got, expected = LiftedPoint(Wg, bg, Vg, Ug), LiftedPoint(We, be, Ve, Ue)
        for k, (a, r) in enumerate(zip(got.V + got.U, expected.V + expected.U, strict=True)):
            assert_close(a, r, f"iteration {it}, (V + U)[{k}]")


@pytest.mark.parametrize("t", [0.0, 1e-3, 0.5, 1.0, 3.0, np.inf])
def test_group_soft_threshold_matches_the_plain_formula_on_odd_columns(t):
    """Zero, tiny, NaN and infinite columns: the in-place shrink gives the formula's numbers exactly."""
    import _speed_reference as ref

    rng = np.random.default_rng(0)
    Z = rng.standard_normal((4, 6))
    Z[:, 0] = 0.0
    Z[1, 1] = np.nan
    Z[2, 2] = np.inf
    Z[:, 3] *= 1e-300
    Z[:, 4] = Z[:, 4] / np.linalg.norm(Z[:, 4]) * 0.5  # norm exactly at a threshold
    with np.errstate(invalid="ignore"):
        got, expected = group_soft_threshold(Z, t), ref.group_soft_threshold(Z, t)
    np.testing.assert_array_equal(got, expected, err_msg=f"t = {t}")
