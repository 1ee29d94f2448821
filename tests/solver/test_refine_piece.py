"""The piece calculus of refine against finite differences of the project's own objective."""

from __future__ import annotations

import numpy as np
from _refine_common import small_problem
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.model.network import forward, init_weights
from ialam_verify.model.problem import Problem
from ialam_verify.solver.refine_piece import (
    ParamLayout,
    group_lasso_grad,
    hessian_columns,
    hessian_matrix,
    hessian_vector,
    kink_jacobian,
    piece_backward,
    piece_forward,
)

SHAPES = [(10, 4, 2), (10, 5, 5, 2), (10, 4, 3, 3, 2)]


def _setup(shape_i: int, seed: int, lambda_v: float):
    pr = small_problem(SHAPES[shape_i], 15, seed, lambda_w=1e-2, lambda_v=lambda_v)
    rng = np.random.default_rng(seed)
    W, b = init_weights(pr.sizes, rng)
    b = [rng.standard_normal(x.shape) for x in b]
    lay = ParamLayout.of(pr.sizes)
    theta = lay.pack(W, b)
    U, _ = forward(W, b, pr.X, pr.alpha)
    S = [np.where(u >= 0, 1.0, pr.alpha) for u in U]
    zc = [np.zeros(n, dtype=bool) for n in pr.sizes[:-1]]
    return pr, lay, theta, S, zc


@given(st.integers(0, 2), st.integers(0, 10**6), st.sampled_from([0.0, 0.03]))
def test_gradient_is_the_finite_difference_of_objective_bar(shape_i, seed, lambda_v):
    pr, lay, theta, S, zc = _setup(shape_i, seed, lambda_v)

    def F(th):
        W, b = lay.unpack(th)
        return pr.objective_bar(pr.lift(W, b))

    W, b = lay.unpack(theta)
    _, V = piece_forward(W, b, pr.X, S)
    g = piece_backward(pr, lay, W, V, S)[0] + group_lasso_grad(lay, W, pr.lambda_w, zc)
    e = 1e-6
    E = np.eye(lay.n)
    fd = np.array([(F(theta + e * E[i]) - F(theta - e * E[i])) / (2 * e) for i in range(lay.n)])
    np.testing.assert_allclose(g, fd, atol=1e-6 * max(1.0, np.max(np.abs(g))), err_msg="gradient != FD")


@given(st.integers(0, 2), st.integers(0, 10**6), st.sampled_from([0.0, 0.03]))
def test_hessian_vector_is_the_derivative_of_the_lagrangian_gradient(shape_i, seed, lambda_v):
    pr, lay, theta, S, zc = _setup(shape_i, seed, lambda_v)
    rng = np.random.default_rng(seed + 1)
    # kink multipliers injected at some entries (as refine does), slopes 0 there
    T = [np.where(rng.random(s.shape) < 0.2, rng.standard_normal(s.shape), 0.0) for s in S]
    S = [np.where(t != 0, 0.0, s) for s, t in zip(S, T, strict=True)]

    def grad(th):
        W, b = lay.unpack(th)
        _, V = piece_forward(W, b, pr.X, S)
        return piece_backward(pr, lay, W, V, S, T)[0] + group_lasso_grad(lay, W, pr.lambda_w, zc)

    W, b = lay.unpack(theta)
    _, V = piece_forward(W, b, pr.X, S)
    _, G, _ = piece_backward(pr, lay, W, V, S, T)
    d = rng.standard_normal(lay.n)
    hv = hessian_vector(pr, lay, W, V, S, G, zc, d)
    e = 1e-5
    fd = (grad(theta + e * d) - grad(theta - e * d)) / (2 * e)
    np.testing.assert_allclose(hv, fd, atol=1e-6 * max(1.0, np.max(np.abs(hv))), err_msg="Hv != FD")


@given(st.integers(0, 2), st.integers(0, 10**6))
def test_kink_jacobian_is_the_finite_difference_of_u(shape_i, seed):
    pr, lay, theta, S, _ = _setup(shape_i, seed, 0.0)
    rng = np.random.default_rng(seed + 2)
    kinks = [np.nonzero(rng.random(s.shape) < 0.3) for s in S]
    W, b = lay.unpack(theta)
    _, V = piece_forward(W, b, pr.X, S)
    C = kink_jacobian(lay, W, V, pr.X, S, kinks)

    def uA(th):
        W, b = lay.unpack(th)
        U, _ = piece_forward(W, b, pr.X, S)
        return np.concatenate([U[l][ks, ns] for l, (ks, ns) in enumerate(kinks)])

    e = 1e-6
    E = np.eye(lay.n)
    fd = np.stack([(uA(theta + e * E[i]) - uA(theta - e * E[i])) / (2 * e) for i in range(lay.n)], axis=1)
    np.testing.assert_allclose(C, fd, atol=1e-6, err_msg="kink Jacobian != FD")


@given(st.integers(0, 2), st.integers(0, 10**6), st.sampled_from([0.0, 0.03]))
def test_hessian_columns_are_finite_differences_of_the_lagrangian_gradient(shape_i, seed, lambda_v):
    """The batched product (the dense Newton step's Hessian) against central differences of the
    gradient, column by column, with kink multipliers and a held zero column."""
    pr, lay, theta, S, zc = _setup(shape_i, seed, lambda_v)
    rng = np.random.default_rng(seed + 3)
    T = [np.where(rng.random(s.shape) < 0.2, rng.standard_normal(s.shape), 0.0) for s in S]
    S = [np.where(t != 0, 0.0, s) for s, t in zip(S, T, strict=True)]
    zc[0][int(rng.integers(zc[0].size))] = True
    theta = theta.copy()
    W0, _ = lay.unpack(theta)
    W0[0][:, zc[0]] = 0.0  # a held column is exactly zero (the group lasso term skips it)

    def grad(th):
        W, b = lay.unpack(th)
        _, V = piece_forward(W, b, pr.X, S)
        return piece_backward(pr, lay, W, V, S, T)[0] + group_lasso_grad(lay, W, pr.lambda_w, zc)

    W, b = lay.unpack(theta)
    _, V = piece_forward(W, b, pr.X, S)
    _, G, _ = piece_backward(pr, lay, W, V, S, T)
    k = 5
    dirs = rng.standard_normal((lay.n, k))
    dirs[lay.column(0, int(np.flatnonzero(zc[0])[0]))] = 0.0  # held parameters do not move
    H = hessian_columns(pr, lay, W, V, S, G, zc, dirs)
    assert H.shape == (lay.n, k)
    # central differences extrapolated (Richardson: (4 D(e/2) - D(e)) / 3, error O(e^4)): plain
    # central differences at e = 1e-5 missed by 1.6e-5 = c e^2 on a hypothesis-drawn network with a
    # large third derivative (shape 0, seed 18770: the miss fell 100x per 10x smaller e)
    e = 1e-5
    for c in range(k):

        def central(h: float, c: int = c) -> np.ndarray:
            return (grad(theta + h * dirs[:, c]) - grad(theta - h * dirs[:, c])) / (2 * h)

        fd = (4.0 * central(e / 2) - central(e)) / 3.0
        np.testing.assert_allclose(
            H[:, c], fd, atol=1e-6 * max(1.0, np.max(np.abs(H[:, c]))), err_msg=f"H d_{c} != FD"
        )
        single = hessian_vector(pr, lay, W, V, S, G, zc, dirs[:, c])
        np.testing.assert_allclose(H[:, c], single, rtol=1e-12, atol=1e-12, err_msg="batched != single")


@given(st.integers(0, 2), st.integers(0, 10**6), st.sampled_from([0.0, 0.03]), st.sampled_from([0.0, 1e-2]))
def test_hessian_matrix_is_the_finite_difference_jacobian_of_the_gradient(shape_i, seed, lambda_v, lambda_w):
    """The assembled Hessian (J^T J + cross terms + group lasso, used by the dense Newton step)
    against central differences of the Lagrangian's gradient along every unit direction, with kink
    multipliers and a held zero column (its rows and columns are not compared: the caller drops
    them); and symmetric."""
    pr, lay, theta, S, zc = _setup(shape_i, seed, lambda_v)
    pr = Problem.create(pr.X, pr.Y, pr.sizes, pr.alpha, lambda_w, lambda_v, pr.beta)
    rng = np.random.default_rng(seed + 4)
    T = [np.where(rng.random(s.shape) < 0.2, rng.standard_normal(s.shape), 0.0) for s in S]
    S = [np.where(t != 0, 0.0, s) for s, t in zip(S, T, strict=True)]
    zc[1][int(rng.integers(zc[1].size))] = True
    theta = theta.copy()
    W0, _ = lay.unpack(theta)
    W0[1][:, zc[1]] = 0.0

    def grad(th):
        W, b = lay.unpack(th)
        _, V = piece_forward(W, b, pr.X, S)
        return piece_backward(pr, lay, W, V, S, T)[0] + group_lasso_grad(lay, W, pr.lambda_w, zc)

    W, b = lay.unpack(theta)
    _, V = piece_forward(W, b, pr.X, S)
    _, G, _ = piece_backward(pr, lay, W, V, S, T)
    H = hessian_matrix(pr, lay, W, V, S, G, zc)
    free = lay.free_mask(zc)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-13 * max(1.0, np.max(np.abs(H))), err_msg="not symmetric")
    e = 1e-5
    E = np.eye(lay.n)

    def central(h: float) -> np.ndarray:
        cols = [(grad(theta + h * E[i]) - grad(theta - h * E[i])) / (2 * h) for i in np.flatnonzero(free)]
        return np.stack(cols, axis=1)

    fd = (4.0 * central(e / 2) - central(e)) / 3.0  # Richardson: error O(e^4), see the test above
    got = H[:, free]
    np.testing.assert_allclose(got[free], fd[free], atol=1e-6 * max(1.0, np.max(np.abs(got))), err_msg="H != FD")


@given(st.integers(0, 2), st.integers(0, 10**6), st.integers(1, 16))
def test_hessian_matrix_does_not_depend_on_the_sample_chunks(shape_i, seed, chunk):
    """Summing the Jacobian products over chunks of samples (bounded memory) gives the one-chunk
    Hessian, whatever the chunk size, including sizes that do not divide N."""
    import ialam_verify.solver.refine_piece as rp

    pr, lay, theta, S, zc = _setup(shape_i, seed, 0.03)
    W, b = lay.unpack(theta)
    _, V = piece_forward(W, b, pr.X, S)
    _, G, _ = piece_backward(pr, lay, W, V, S)
    saved = rp._CHUNK_NUMBERS
    try:
        rp._CHUNK_NUMBERS = 10**9
        whole = hessian_matrix(pr, lay, W, V, S, G, zc)
        rp._CHUNK_NUMBERS = chunk * lay.n * sum(lay.sizes[1:])
        parts = hessian_matrix(pr, lay, W, V, S, G, zc)
    finally:
        rp._CHUNK_NUMBERS = saved
    np.testing.assert_allclose(parts, whole, rtol=1e-12, atol=1e-12 * np.max(np.abs(whole)), err_msg="chunked != whole")
