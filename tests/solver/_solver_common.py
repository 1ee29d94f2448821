"""Helpers shared by the solver tests: exact and brute-force reference computations.

Nothing here calls the solver; every function is an independent computation the solver is checked
against.
"""

from __future__ import annotations

from fractions import Fraction

import cvxpy as cp
import numpy as np

from ialam_verify.model import LiftedPoint, Problem, leaky_relu


# --------------------------------------------------------------------------- the (v, u) problem
def vu_value(a, p, c, q, beta, alpha, v, u):
    r"""Objective :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u)` (any number type)."""
    sig = u if u >= 0 else alpha * u
    return a * v * v / 2 - p * v + c * u * u / 2 - q * u - beta * sig


def vu_feasible(v, u, alpha, tol=0.0) -> bool:
    """``v >= u`` and ``v >= alpha u`` (up to ``tol``)."""
    return v >= u - tol and v >= alpha * u - tol


def exact_vu_minimum(a, p, c, q, beta, alpha) -> tuple[Fraction, Fraction, Fraction]:
    r"""Global minimum of the (v, u) problem in exact rational arithmetic, by active-set enumeration.

    On each branch (``u >= 0`` with :math:`\sigma(u) = u`; ``u <= 0`` with :math:`\sigma(u) = \alpha u`)
    the objective is a strictly convex quadratic and the feasible set a polyhedron with two inequality
    constraints; its minimizer is the minimizer on the affine hull of one face (no constraint, either
    one, both), so the smallest value among the *feasible* face minimizers is the branch minimum.
    Returns ``(value, v, u)``.
    """
    a, p, c, q, beta, alpha = (Fraction(x) for x in (a, p, c, q, beta, alpha))
    best = None
    for sign, slope, Q in ((1, Fraction(1), q + beta), (-1, alpha, q + alpha * beta)):
        cands = [
            (p / a, Q / c),  # no constraint active
            (p / a, Fraction(0)),  # u = 0
            (Fraction(0), Fraction(0)),  # both active
        ]
        t = (slope * p + Q) / (a * slope * slope + c)  # v = slope * u active
        cands.append((slope * t, t))
        for v, u in cands:
            if sign * u >= 0 and v >= slope * u:
                val = a * v * v / 2 - p * v + c * u * u / 2 - Q * u
                if best is None or val < best[0]:
                    best = (val, v, u)
    assert best is not None
    return best


def cvxpy_vu_minimum(a, p, c, q, beta, alpha) -> float:
    r"""Global minimum of the (v, u) problem as the better of two convex QPs solved by cvxpy (Clarabel).

    The variables are scaled, :math:`x = \sqrt a\,v`, :math:`y = \sqrt c\,u`, so that the model stays
    well conditioned for huge or tiny curvatures; the value is unchanged by the substitution.
    """
    sa, sc = np.sqrt(a), np.sqrt(c)
    values = []
    for sign, slope, Q in ((1.0, 1.0, q + beta), (-1.0, alpha, q + alpha * beta)):
        x, y = cp.Variable(), cp.Variable()
        obj = 0.5 * cp.square(x) - (p / sa) * x + 0.5 * cp.square(y) - (Q / sc) * y
        cons = [sign * y >= 0, sc * x >= slope * sa * y]
        prob = cp.Problem(cp.Minimize(obj), cons)
        prob.solve(solver=cp.CLARABEL)
        assert prob.status == cp.OPTIMAL, prob.status
        values.append(float(prob.value))
    return min(values)


def vu_scale(a, p, c, q, beta) -> float:
    """Size of the optimal value: the tolerance unit of the (v, u) comparisons."""
    return 1.0 + p * p / a + (abs(q) + beta) ** 2 / c


# --------------------------------------------------------------------------- lifted problems
def random_problem(
    rng: np.random.Generator,
    sizes: tuple[int, ...],
    n: int,
    *,
    alpha: float | None = None,
    relu: bool = False,
) -> Problem:
    """A random (PP) instance with random positive parameters."""
    X = rng.standard_normal((sizes[0], n))
    Y = rng.standard_normal((sizes[-1], n))
    if relu:
        alpha = 0.0
    elif alpha is None:
        alpha = float(rng.uniform(0.05, 0.9))
    L = len(sizes) - 1
    beta = tuple(float(x) for x in rng.uniform(0.0, 0.5, L))
    return Problem.create(
        X,
        Y,
        sizes,
        alpha,
        float(rng.uniform(0.0, 0.1)),
        float(rng.uniform(0.0, 0.1)),
        beta,
        -3.0 if relu else None,
    )


def random_feasible_point(rng: np.random.Generator, prob: Problem) -> LiftedPoint:
    """Random weights and a random (V, U) with ``V >= sigma(U)`` (not on the network: residual != 0)."""
    sizes, N = prob.sizes, prob.n_samples
    W = [
        rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    b = [0.3 * rng.standard_normal(o) for o in sizes[1:]]
    U = [rng.standard_normal((o, N)) for o in sizes[1:]]
    V = [leaky_relu(Ul, prob.alpha) + 0.3 * np.abs(rng.standard_normal(Ul.shape)) for Ul in U]
    return LiftedPoint(W, b, V, U)


def proximal_term_by_definition(
    new: LiftedPoint, old: LiftedPoint, rho: float, tau1: float
) -> float:
    r"""The talk's :math:`\mathcal P` with the matrices :math:`S_\ell` built explicitly, sample by sample.

    :math:`S_\ell = \tau_\ell I - \rho M_\ell^T M_\ell`, :math:`M_\ell = [-W_\ell\ I]` with the *new*
    :math:`W_\ell`, :math:`\tau_\ell = \rho\|M_\ell\|_2^2 + \tau_1` (spectral norm from an SVD);
    :math:`\mathcal P = \frac12\sum_n\sum_{\ell\ge2} d_{n\ell}^T S_\ell d_{n\ell}
    + \frac{\tau_1}2\sum_n\|u_{n,1} - u^{(j)}_{n,1}\|^2`.
    """
    N = new.U[0].shape[1]
    total = 0.5 * tau1 * float(np.sum((new.U[0] - old.U[0]) ** 2))
    for ell in range(1, len(new.W)):
        Wl = new.W[ell]
        M = np.hstack([-Wl, np.eye(Wl.shape[0])])
        tau = rho * np.linalg.svd(M, compute_uv=False)[0] ** 2 + tau1
        S = tau * np.eye(M.shape[1]) - rho * M.T @ M
        for n in range(N):
            d = np.concatenate(
                [new.V[ell - 1][:, n] - old.V[ell - 1][:, n], new.U[ell][:, n] - old.U[ell][:, n]]
            )
            total += 0.5 * float(d @ S @ d)
    return total


def augmented_lagrangian_by_loops(
    prob: Problem, pt: LiftedPoint, xi: list[np.ndarray], rho: float
) -> float:
    r""":math:`\mathcal L_\rho` written sample by sample from the talk's definitions (no vectorization)."""
    N, L, al = prob.n_samples, prob.n_layers, prob.alpha
    total = 0.0
    for n in range(N):
        total += float(np.sum((pt.V[-1][:, n] - prob.Y[:, n]) ** 2)) / N
        prev = prob.X[:, n]
        for ell in range(L):
            v, u = pt.V[ell][:, n], pt.U[ell][:, n]
            r = u - (pt.W[ell] @ prev + pt.b[ell])
            total += prob.lambda_v * float(v @ v)
            total += prob.beta[ell] * float(np.sum(v - np.maximum(u, al * u)))
            total += float(xi[ell][:, n] @ r) + 0.5 * rho * float(r @ r)
            prev = v
    for Wl in pt.W:
        for j in range(Wl.shape[1]):
            total += prob.lambda_w * float(np.sqrt(np.sum(Wl[:, j] ** 2)))
    return total
