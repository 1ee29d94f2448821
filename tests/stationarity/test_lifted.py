"""(PP) and (P) of the talk: Jacobians and the stationarity system against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.model import LiftedPoint, Problem
from ialam_verify.stationarity import (
    MPCC,
    check,
    classify,
    constraint_jacobian,
    p_problem,
    pp_problem,
    pp_residual_blocks,
    stationarity_residual,
)
from ialam_verify.stationarity.lifted import Layout, talk_multipliers

shapes = st.sampled_from([(2, 3, 1), (3, 2, 2), (2, 2, 2, 1), (1, 1)])


def random_setup(sizes, N, seed, alpha=0.2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((sizes[0], N))
    Y = rng.standard_normal((sizes[-1], N))
    prob = Problem.create(
        X, Y, sizes, alpha, 0.3, 0.05, [0.7 + 0.1 * l for l in range(len(sizes) - 1)]
    )
    W = [rng.standard_normal((o, i)) for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    b = [rng.standard_normal(o) for o in sizes[1:]]
    V = [rng.standard_normal((o, N)) for o in sizes[1:]]
    # u bounded away from the kink so that sigma is differentiable there
    U = [np.sign(z) * (0.3 + np.abs(z)) for z in (rng.standard_normal((o, N)) for o in sizes[1:])]
    return prob, LiftedPoint(W, b, V, U), rng


def flat(blocks):
    return np.concatenate([np.ravel(a, order="F") for a in blocks])


@given(shapes, st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_constraint_jacobian_matches_finite_differences(sizes, N, seed):
    prob, pt, _ = random_setup(sizes, N, seed)
    h, J = constraint_jacobian(prob, pt)
    x0 = np.concatenate(pt.to_vectors())
    lay = Layout.of(prob)

    def hfun(x):
        w, b, v, u = np.split(x, [lay.nw, lay.nw + lay.nb, lay.nw + lay.nb + lay.m])
        p = LiftedPoint.from_vectors(prob.sizes, N, w, b, v, u)
        return flat(prob.residual(p))

    np.testing.assert_allclose(h, hfun(x0), atol=1e-12)
    eps = 1e-6
    fd = np.column_stack(
        [(hfun(x0 + eps * e) - hfun(x0 - eps * e)) / (2 * eps) for e in np.eye(x0.size)]
    )
    np.testing.assert_allclose(J.toarray(), fd, atol=1e-7)


def lagrangian(prob, p, Xi, M1, M2):
    """L = O + <Xi, u - Psi(v) w - A b> - <M1, v - u> - <M2, v - alpha u> (the AL's sign of xi)."""
    val = prob.objective(p)
    val += sum(np.sum(X * R) for X, R in zip(Xi, prob.residual(p), strict=True))
    val -= sum(np.sum(A * (V - U)) for A, V, U in zip(M1, p.V, p.U, strict=True))
    val -= sum(np.sum(A * (V - prob.alpha * U)) for A, V, U in zip(M2, p.V, p.U, strict=True))
    return val


@given(shapes, st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_pp_system_is_the_gradient_of_the_lagrangian(sizes, N, seed):
    """The per-layer system (the lead's derivation) equals the finite-difference gradient of the
    Lagrangian written with the augmented Lagrangian's <xi, u - Psi(v)w - Ab>, at a point where
    everything is differentiable; the talk's w-equation (+Psi(v)^T xi) does not."""
    prob, pt, rng = random_setup(sizes, N, seed)
    Xi = [rng.standard_normal(U.shape) for U in pt.U]
    M1 = [rng.standard_normal(U.shape) for U in pt.U]
    M2 = [rng.standard_normal(U.shape) for U in pt.U]
    S = [np.where(U > 0, 1.0, prob.alpha) for U in pt.U]
    Z = [prob.lambda_w * W / np.linalg.norm(W, axis=0) for W in pt.W]
    blocks = pp_residual_blocks(prob, pt, Xi, M1, M2, S, Z)
    lay = Layout.of(prob)
    x0 = np.concatenate(pt.to_vectors())

    def L(x):
        w, b, v, u = np.split(x, [lay.nw, lay.nw + lay.nb, lay.nw + lay.nb + lay.m])
        return lagrangian(prob, LiftedPoint.from_vectors(prob.sizes, N, w, b, v, u), Xi, M1, M2)

    eps = 1e-6
    fd = np.array([(L(x0 + eps * e) - L(x0 - eps * e)) / (2 * eps) for e in np.eye(x0.size)])
    mine = np.concatenate(
        [flat(blocks["W"]), flat(blocks["b"]), flat(blocks["V"]), flat(blocks["U"])]
    )
    np.testing.assert_allclose(mine, fd, atol=1e-6 * max(1.0, np.max(np.abs(fd))))
    # the talk's w-equation, Z + Xi V^T, is off by 2 Xi V^T
    prev = [prob.X, *pt.V[:-1]]
    talk_w = flat([Zl + Xl @ P.T for Zl, Xl, P in zip(Z, Xi, prev, strict=True)])
    assert np.max(np.abs(talk_w - fd[: lay.nw])) > 1e-3


@given(shapes, st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_general_residual_equals_the_per_layer_system(sizes, N, seed):
    """pp_problem + stationarity_residual (sparse Jacobians) = pp_residual_blocks (dense formulas),
    with lambda = (mu1; mu2) and mu_h = -xi; likewise p_problem with nu = mu1, w = mu2 (beta = 0)."""
    prob, pt, rng = random_setup(sizes, N, seed)
    lay = Layout.of(prob)
    m = lay.m
    pp = pp_problem(prob, pt)
    mult = {
        "lam": rng.standard_normal(2 * m),
        "mu": rng.standard_normal(m),
        "nu": np.zeros(0),
        "w": np.zeros(0),
        "z": [rng.standard_normal(gr.indices.size) for gr in pp.groups],
        "s": rng.uniform(prob.alpha, 1.0, m),
    }
    r = stationarity_residual(pp, mult)
    t = talk_multipliers(prob, pt, mult, "PP")
    S = [
        np.reshape(mult["s"][lay.v_off[l] : lay.v_off[l] + U.size], U.shape, order="F")
        for l, U in enumerate(pt.U)
    ]
    Z, j = [], 0
    for W in pt.W:
        Z.append(np.column_stack([mult["z"][j + c] for c in range(W.shape[1])]))
        j += W.shape[1]
    blocks = pp_residual_blocks(prob, pt, t["Xi"], t["M1"], t["M2"], S, Z)
    mine = np.concatenate(
        [flat(blocks["W"]), flat(blocks["b"]), flat(blocks["V"]), flat(blocks["U"])]
    )
    np.testing.assert_allclose(r, mine, atol=1e-10)
    # (P): same system without the penalty (beta = 0 in the V- and U-blocks)
    P = p_problem(prob, pt)
    pm = {
        "lam": np.zeros(0),
        "mu": mult["mu"],
        "nu": mult["lam"][:m],
        "w": mult["lam"][m:],
        "z": mult["z"],
        "s": np.zeros(0),
    }
    rP = stationarity_residual(P, pm)
    prob0 = Problem.create(
        prob.X, prob.Y, prob.sizes, prob.alpha, prob.lambda_w, prob.lambda_v, 0.0
    )
    b0 = pp_residual_blocks(prob0, pt, t["Xi"], t["M1"], t["M2"], S, Z)
    np.testing.assert_allclose(
        rP, np.concatenate([flat(b0[k]) for k in ("W", "b", "V", "U")]), atol=1e-10
    )


@given(
    st.integers(-20, 20).map(lambda k: k / 10),
    st.integers(-20, 20).map(lambda k: k / 10),
)
def test_limiting_versus_clarke_at_a_biactive_entry(p, q):
    r"""One entry of (PP) with u = v = 0 (both constraints active, mu1, mu2 >= 0 free), the coupling to
    the rest summarized by p (V-equation) and q (= xi_i): f = (beta + p) v + q u - beta sigma(u).
    With c = mu1 + mu2 = beta + p, the U-equation asks beta s - q in [alpha c, c]. Closed form:
    Clarke iff [alpha c, c] meets [alpha beta - q, beta - q]; limiting iff it contains an endpoint.
    They differ only when c < beta (then [alpha c, c] is shorter and may sit strictly inside)."""
    alpha, beta = 0.25, 2.0
    prob = MPCC.create(
        [beta + p, q],
        g=[0.0, 0.0],
        Jg=[[1.0, -1.0], [1.0, -alpha]],
        kink_t=[0.0],
        T=[[0.0, 1.0]],
        kink_coef=[-beta],
        slope_neg=alpha,
        slope_pos=1.0,
    )
    cert = classify(prob)
    assert check(cert, prob)["accepted"]
    c, e = beta + p, 1e-9
    clarke = c >= -e and max(alpha * c, alpha * beta - q) <= min(c, beta - q) + e
    limiting = c >= -e and any(alpha * c - e <= a <= c + e for a in (beta - q, alpha * beta - q))
    assert cert.results["Clarke"].verdict == ("holds" if clarke else "fails")
    assert cert.results["KKT"].verdict == ("holds" if limiting else "fails")
    if clarke and not limiting:
        assert c < beta


def test_clarke_but_not_limiting_example():
    """p = -1, q = 1/2 (c = 1 < beta = 2): [alpha c, c] = [0.25, 1] lies strictly inside
    [alpha beta - q, beta - q] = [0, 1.5]: Clarke holds, the limiting (KKT) condition fails."""
    alpha, beta = 0.25, 2.0
    prob = MPCC.create(
        [beta - 1.0, 0.5],
        g=[0.0, 0.0],
        Jg=[[1.0, -1.0], [1.0, -alpha]],
        kink_t=[0.0],
        T=[[0.0, 1.0]],
        kink_coef=[-beta],
        slope_neg=alpha,
        slope_pos=1.0,
    )
    cert = classify(prob)
    assert cert.verdicts()["Clarke"] == "holds" and cert.verdicts()["KKT"] == "fails"


def test_away_from_kinks_limiting_and_clarke_coincide():
    """No u_i near 0: every slope is fixed, one branch, KKT and Clarke give the same residual."""
    prob, pt, _ = random_setup((2, 3, 1), 3, 0)
    pt = prob.lift(pt.W, pt.b)
    cert = classify(pp_problem(prob, pt))
    assert cert.activity["kinks_at_zero"] == []
    assert cert.results["KKT"].branches == 1
    assert cert.results["KKT"].min_residual == pytest.approx(
        cert.results["Clarke"].min_residual, rel=1e-6
    )


def test_pp_rejects_bad_input():
    prob, pt, _ = random_setup((2, 3, 1), 3, 0)
    bad = pt.copy()
    bad.W[0] = bad.W[0][:, :1]
    with pytest.raises(ValueError, match="point.W"):
        pp_problem(prob, bad)
    with pytest.raises(ValueError, match="problem must be a Problem"):
        p_problem("nope", pt)
