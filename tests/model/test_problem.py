"""The model: objective parts, residual, FeasVi, vector ordering, input checks."""

import numpy as np
import pytest

from ialam_verify.data import synthetic
from ialam_verify.model import LiftedPoint, Problem, forward, init_weights, leaky_relu


def small_problem(alpha=0.2, beta=(0.3, 0.5), lambda_w=0.1, lambda_v=0.01):
    data = synthetic((3, 4, 2), n_samples=7, alpha=alpha, seed=1)
    return Problem.create(data.X, data.Y, (3, 4, 2), alpha, lambda_w, lambda_v, beta)


def test_lifted_feasible_point_has_zero_residual_and_penalty():
    prob = small_problem()
    W, b = init_weights(prob.sizes, np.random.default_rng(0))
    p = prob.lift(W, b)
    assert prob.residual_norm(p) == pytest.approx(0.0, abs=1e-12)
    assert prob.penalty(p.V, p.U) == pytest.approx(0.0, abs=1e-12)
    assert prob.feas_vi(p) == pytest.approx(0.0, abs=1e-12)
    # (PP)'s objective at a feasible point of (P) is the network objective plus the ridge term.
    assert prob.objective(p) == pytest.approx(prob.network_objective(W, b) + prob.ridge(p.V))


def test_objective_parts_by_explicit_loops():
    prob = small_problem()
    rng = np.random.default_rng(3)
    W, b = init_weights(prob.sizes, rng)
    p = prob.lift(W, b)
    p.V[0] = p.V[0] + np.abs(rng.standard_normal(p.V[0].shape))  # v > sigma(u): penalty > 0
    p.U[1] = p.U[1] + 0.1 * rng.standard_normal(p.U[1].shape)  # residual != 0
    N = prob.n_samples
    loss = sum(np.sum((p.V[-1][:, n] - prob.Y[:, n]) ** 2) for n in range(N)) / N
    gl = prob.lambda_w * sum(
        np.sqrt(sum(Wl[i, j] ** 2 for i in range(Wl.shape[0])))
        for Wl in p.W
        for j in range(Wl.shape[1])
    )
    ridge = prob.lambda_v * sum(float(x) ** 2 for Vl in p.V for x in Vl.ravel())
    pen = 0.0
    feas = 0.0
    for ell in range(2):
        prev = prob.X if ell == 0 else p.V[0]
        for n in range(N):
            for i in range(p.V[ell].shape[0]):
                u, v = p.U[ell][i, n], p.V[ell][i, n]
                s = u if u >= 0 else prob.alpha * u
                pen += prob.beta[ell] * (v - s)
                r = u - (p.W[ell][i, :] @ prev[:, n] + p.b[ell][i])
                feas += (v - s) ** 2 + r**2
    assert prob.objective(p) == pytest.approx(loss + gl + ridge + pen, rel=1e-12)
    assert prob.feas_vi(p) == pytest.approx(feas / N, rel=1e-12)


def test_vector_round_trip_uses_talk_ordering():
    prob = small_problem()
    W, b = init_weights(prob.sizes, np.random.default_rng(0))
    p = prob.lift(W, b)
    w, bb, v, u = p.to_vectors()
    # the talk's v lists v_{1,1}, v_{2,1}, ..., v_{N,1}, v_{1,2}, ...: first block is sample 1 of layer 1
    assert np.array_equal(v[: prob.sizes[1]], p.V[0][:, 0])
    q = LiftedPoint.from_vectors(prob.sizes, prob.n_samples, w, bb, v, u)
    for a, c in zip(p.W + p.b + p.V + p.U, q.W + q.b + q.V + q.U, strict=True):
        assert np.array_equal(a, c)


def test_forward_matches_leaky_relu_definition():
    z = np.array([-2.0, -0.0, 0.0, 3.0])
    assert np.array_equal(leaky_relu(z, 0.25), np.array([-0.5, 0.0, 0.0, 3.0]))
    W = [np.array([[1.0, -1.0]])]
    b = [np.array([0.5])]
    U, V = forward(W, b, np.array([[1.0, 0.0], [3.0, 0.0]]), 0.5)
    assert np.allclose(U[0], [[-1.5, 0.5]]) and np.allclose(V[0], [[-0.75, 0.5]])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": float("nan")}, "alpha"),
        ({"lambda_w": -1.0}, "lambda_w"),
        ({"lambda_v": float("inf")}, "lambda_v"),
        ({"beta": (0.1, -0.2)}, "beta"),
        ({"beta": (0.1, 0.2, 0.3)}, "beta"),
    ],
)
def test_bad_parameters_are_named(kwargs, message):
    data = synthetic((3, 4, 2), n_samples=5, seed=0)
    args = {"alpha": 0.2, "lambda_w": 0.1, "lambda_v": 0.0, "beta": (0.1, 0.2)} | kwargs
    with pytest.raises(ValueError, match=message):
        Problem.create(data.X, data.Y, (3, 4, 2), **args)


def test_bad_data_is_named():
    data = synthetic((3, 4, 2), n_samples=5, seed=0)
    X = data.X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        Problem.create(X, data.Y, (3, 4, 2), 0.2, 0.1, 0.0, 0.1)
    with pytest.raises(ValueError, match="Y must have shape"):
        Problem.create(data.X, data.Y[:, :4], (3, 4, 2), 0.2, 0.1, 0.0, 0.1)
    with pytest.raises(ValueError, match="sizes"):
        Problem.create(data.X, data.Y, (3,), 0.2, 0.1, 0.0, 0.1)


def test_synthetic_teacher_is_not_the_initialization_of_the_same_seed():
    # regression: data and initialization once shared one random stream, so a student with the
    # data's seed started as a scaled copy of the teacher
    from ialam_verify.model.network import predict

    sizes = (10, 10, 2)
    data = synthetic(sizes, 200, alpha=0.1, seed=0)
    W, b = init_weights(sizes, np.random.default_rng(0), scale=1.0)
    err = np.mean((predict(W, b, data.X, 0.1) - data.Y) ** 2) / np.mean(data.Y**2)
    assert err > 0.2  # a copy of the teacher would give about 0 (only the small biases differ)
