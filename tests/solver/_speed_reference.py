"""The (v, u) closed form and the (w, b) step as they were before the speed work (commit a63f5df),
kept verbatim as a slow reference: the optimized functions in the package must agree with these to
rounding (``test_solver_vu_step.py``, ``test_solver_wb_step.py``). Not part of the package on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def _proximal_taus(W, rho, tau1):
    return [tau1] + [rho * (np.linalg.norm(Wl, 2) ** 2 + 1.0) + tau1 for Wl in W[1:]]


# ----------------------------------------------------------------- vu_step.py
def _quad(a, p, c, q, v, u):
    return 0.5 * a * v * v - p * v + 0.5 * c * u * u - q * u


def _branch(
    a: np.ndarray | float,
    p: np.ndarray,
    c: np.ndarray | float,
    q: np.ndarray,
    slope: float,
    sign: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Minimize :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu` over the cone
    :math:`\{\mathrm{sign}\cdot u \ge 0,\ v \ge \mathrm{slope}\cdot u\}`.

    Returns ``(v, u, e)`` with the minimum value equal to :math:`-e/2`,
    :math:`e = a v^2 + c u^2`. Every candidate minimizes the quadratic over a linear subspace (the
    whole plane, or a ray's line with the optimum clipped to 0), where Euler's identity gives the value
    :math:`-\frac12(a v^2 + c u^2)`; comparing values is comparing ``e``. ``sign = +1, slope = 1`` is the
    branch u >= 0, ``sign = -1, slope = alpha`` the branch u <= 0.
    """
    v0 = p / a
    u0 = q / c
    inside = (sign * u0 >= 0.0) & (v0 >= slope * u0)
    # ray 1: u = 0, v >= 0
    v1 = np.maximum(v0, 0.0)
    e1 = a * v1 * v1
    # ray 2: (v, u) = (slope t, t), sign * t >= 0; 1-D minimizer of k/2 t^2 - (slope p + q) t
    k = a * slope * slope + c
    t = (slope * p + q) / k
    t = np.maximum(t, 0.0) if sign > 0 else np.minimum(t, 0.0)
    e2 = k * t * t
    use2 = e2 > e1
    v = np.where(inside, v0, np.where(use2, slope * t, v1))
    u = np.where(inside, u0, np.where(use2, t, 0.0))
    e = np.where(inside, a * v0 * v0 + c * u0 * u0, np.maximum(e1, e2))
    return v, u, e


def solve_vu(
    a: np.ndarray | float,
    p: np.ndarray | float,
    c: np.ndarray | float,
    q: np.ndarray | float,
    beta: np.ndarray | float,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact minimizer of :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u)` s.t.
    :math:`v \ge u,\ v \ge \alpha u`, entrywise.

    Parameters
    ----------
    a, c : array_like, > 0
        Curvatures in v and u (scalars or arrays, broadcast with the others).
    p, q : array_like
        Linear coefficients.
    beta : array_like, >= 0
        Penalty weight of :math:`-\beta\sigma(u)`.
    alpha : float
        Leaky-ReLU slope, ``0 <= alpha < 1``.

    Returns
    -------
    v, u : ndarray
        A global minimizer. When both branches attain the same value (a tie, e.g. a minimizer with
        ``u = 0``), the branch ``u >= 0`` is returned.
    """
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    vp, up, ep = _branch(a, p, c, q + beta, 1.0, 1.0)
    vn, un, en = _branch(a, p, c, q + alpha * beta, alpha, -1.0)
    # the branch minima are -ep/2 and -en/2: the larger e wins, ties go to u >= 0
    take_neg = en > ep
    v = np.where(take_neg, vn, vp)
    u = np.where(take_neg, un, up)
    shape = np.broadcast_shapes(np.shape(a), p.shape, np.shape(c), q.shape, np.shape(beta))
    return np.broadcast_to(v, shape).copy(), np.broadcast_to(u, shape).copy()


# ----------------------------------------------------------------- wb_step.py
def group_soft_threshold(W: np.ndarray, t: float) -> np.ndarray:
    r"""Proximal map of :math:`t\sum_j\|W_{:,j}\|`: each column shrunk by ``t`` in norm, to 0 if shorter."""
    if t <= 0.0:
        return W.copy()
    norms = np.linalg.norm(W, axis=0)
    keep = norms > t
    scale = np.zeros_like(norms)
    scale[keep] = 1.0 - t / norms[keep]
    return W * scale[None, :]


@dataclass(frozen=True)
class ProxGradInfo:
    """What the proximal-gradient solve did: iterations, the final scaled prox-gradient residual, status."""

    iterations: int
    residual: float
    converged: bool


def prox_gradient_bb(
    G: np.ndarray,
    C: np.ndarray,
    W0: np.ndarray,
    prox: Callable[[np.ndarray, float], np.ndarray],
    penalty: Callable[[np.ndarray], float],
    *,
    tol: float = 1e-8,
    max_iter: int = 500,
    memory: int = 5,
    sigma: float = 1e-4,
    lipschitz: float | None = None,
) -> tuple[np.ndarray, ProxGradInfo]:
    r"""Minimize :math:`F(W) = \frac12\operatorname{tr}(WGW^T) - \operatorname{tr}(WC^T) + r(W)`.

    ``prox(Z, t)`` is the proximal map of :math:`t\,r` and ``penalty(W)`` is :math:`r(W)`. Steps are
    Barzilai-Borwein, :math:`\alpha_k = \langle D, DG\rangle / \langle D, D\rangle`, accepted when
    :math:`F(W^+) \le \max_{i \le M} F(W^{k-i}) - \frac\sigma2\alpha\|W^+ - W\|^2` (else
    :math:`\alpha \leftarrow \min(2\alpha, L)`). Stops when the prox-gradient residual
    :math:`\alpha\|W^+ - W\|` is at most ``tol * max(1, ||C||)``.

    ``lipschitz`` is :math:`L = \lambda_{\max}(G)`. At :math:`\alpha = L` the descent lemma gives
    :math:`F(W^+) \le F(W) - \frac L2\|W^+ - W\|^2`, so the test always passes there: the line search
    never needs more than :math:`\log_2(L/\alpha)` trials, and ``alpha`` is kept in
    :math:`[10^{-6}L, L]` (without the cap an ill-conditioned ``G``, such as MNIST's pixel Gram matrix,
    made BB steps that took dozens of rejected trials).
    """
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(C)) and np.all(np.isfinite(W0))):
        return W0.copy(), ProxGradInfo(0, float("inf"), False)
    if lipschitz is None:
        lipschitz = largest_eigenvalue(G)
    L_max = max(float(lipschitz), 1e-300)
    L_min = 1e-6 * L_max
    W = W0.copy()
    WG = W @ G
    grad = WG - C
    f = 0.5 * np.sum(W * WG) - np.sum(W * C) + penalty(W)
    hist = [f]
    alpha = L_max  # safe first step; BB takes over from the second
    scale = max(1.0, float(np.linalg.norm(C)))
    res = np.inf
    it = 0
    for it in range(1, max_iter + 1):
        fref = max(hist[-memory:])
        for _trial in range(64):  # at most log2(L_max / L_min) < 21 doublings reach L_max
            Wn = prox(W - grad / alpha, 1.0 / alpha)
            D = Wn - W
            DG = D @ G
            WGn = WG + DG
            fn = 0.5 * np.sum(Wn * WGn) - np.sum(Wn * C) + penalty(Wn)
            dd = float(np.sum(D * D))
            if fn <= fref - 0.5 * sigma * alpha * dd or dd == 0.0 or alpha >= L_max:
                break
            alpha = min(2.0 * alpha, L_max)
        if not (np.isfinite(fn) and np.isfinite(dd)):
            # non-finite data (a diverged outer iterate): return the start, flagged not converged;
            # the outer loop sees the non-finite iterate and stops with status 6
            return W0.copy(), ProxGradInfo(it, float("inf"), False)
        res = alpha * np.sqrt(dd)
        W, WG, f = Wn, WGn, fn
        grad = WG - C
        hist.append(f)
        if res <= tol * scale:
            return W, ProxGradInfo(it, res / scale, True)
        curv = float(np.sum(D * DG))
        alpha = min(max(curv / dd, L_min), L_max) if dd > 0 else alpha
    return W, ProxGradInfo(it, res / scale, bool(res <= tol * scale))


def wb_layer_step(
    T: np.ndarray,
    P: np.ndarray,
    W0: np.ndarray,
    b0: np.ndarray,
    lam: float,
    *,
    gram: np.ndarray | None = None,
    gram_lmax: float | None = None,
    bias_bound: float | None = None,
    tol: float = 1e-8,
    max_iter: int = 500,
) -> tuple[np.ndarray, np.ndarray, ProxGradInfo]:
    r"""Solve :math:`\min_{W,b} \frac12\|T - WP - b1^T\|_F^2 + \text{lam}\,\|W\|_{2,1}` (b >= bias_bound if given).

    Parameters
    ----------
    T : ndarray (N_l, N)
        Targets :math:`U_\ell + \Xi_\ell/\rho`.
    P : ndarray (N_{l-1}, N)
        Inputs of the layer, :math:`V_{\ell-1}` (or ``X``).
    W0, b0 : ndarray
        Warm start.
    lam : float
        :math:`\lambda_w/\rho`.
    gram : ndarray, optional
        A precomputed Gram matrix of ``P`` (centred :math:`P_cP_c^T` without a bias bound, the uncentred
        Gram of ``[P; 1^T]`` with one), e.g. the fixed one of the first layer.
    """
    N = P.shape[1]
    pbar = P.mean(axis=1)
    tbar = T.mean(axis=1)
    if bias_bound is None:
        G = gram if gram is not None else centred_gram(P)
        C = T @ P.T - N * np.outer(tbar, pbar)
        W, info = prox_gradient_bb(
            G,
            C,
            W0,
            lambda Z, t: group_soft_threshold(Z, t * lam),
            lambda Z: lam * float(np.sum(np.linalg.norm(Z, axis=0))),
            tol=tol,
            lipschitz=gram_lmax if gram is not None else None,
            max_iter=max_iter,
        )
        return W, tbar - W @ pbar, info
    n_in = P.shape[0]
    G = gram if gram is not None else augmented_gram(P)
    C = np.hstack([T @ P.T, N * tbar[:, None]])

    def prox(Z: np.ndarray, t: float) -> np.ndarray:
        out = np.empty_like(Z)
        out[:, :n_in] = group_soft_threshold(Z[:, :n_in], t * lam)
        out[:, n_in] = np.maximum(Z[:, n_in], bias_bound)
        return out

    Wb, info = prox_gradient_bb(
        G,
        C,
        np.hstack([W0, b0[:, None]]),
        prox,
        lambda Z: lam * float(np.sum(np.linalg.norm(Z[:, :n_in], axis=0))),
        tol=tol,
        lipschitz=gram_lmax if gram is not None else None,
        max_iter=max_iter,
    )
    return Wb[:, :n_in].copy(), Wb[:, n_in].copy(), info


def largest_eigenvalue(G: np.ndarray) -> float:
    r""":math:`\lambda_{\max}` of a symmetric positive semidefinite matrix (LAPACK ``syevd``)."""
    if G.shape[0] == 0:
        return 0.0
    return float(np.linalg.eigvalsh(G)[-1])


def centred_gram(P: np.ndarray) -> np.ndarray:
    r""":math:`P_cP_c^T = PP^T - N\bar p\bar p^T`."""
    pbar = P.mean(axis=1)
    return P @ P.T - P.shape[1] * np.outer(pbar, pbar)


def augmented_gram(P: np.ndarray) -> np.ndarray:
    r"""Gram matrix of :math:`[P; 1^T]`."""
    N = P.shape[1]
    s = P.sum(axis=1)
    G = np.empty((P.shape[0] + 1, P.shape[0] + 1))
    G[:-1, :-1] = P @ P.T
    G[:-1, -1] = s
    G[-1, :-1] = s
    G[-1, -1] = N
    return G


# --------------------------------------------------- inner.py methods (self = the solver)
def wb_step_reference(
    self, point, state, xi: list[np.ndarray], rho: float
) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """Solve (5): per layer, the group-lasso least squares on targets ``U + Xi / rho``."""
    prob = self.problem
    W, b = [], []
    its = 0
    for ell in range(prob.n_layers):
        P = prob.X if ell == 0 else point.V[ell - 1]
        Wl, bl, info = wb_layer_step(
            point.U[ell] + xi[ell] / rho,
            P,
            point.W[ell],
            point.b[ell],
            prob.lambda_w / rho,
            gram=state.gram0 if ell == 0 else None,
            gram_lmax=state.gram0_lmax if ell == 0 else None,
            bias_bound=prob.relu_bias_bound,
            tol=self.wb_tol,
            max_iter=self.wb_iteration_cap(ell),
        )
        W.append(Wl)
        b.append(bl)
        its += info.iterations
    return W, b, its


def vu_step_reference(
    self,
    W: list[np.ndarray],
    b: list[np.ndarray],
    point,
    xi: list[np.ndarray],
    rho: float,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r"""Solve (6) in closed form, all layers and entries at once.

    Coefficients of :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta_\ell\sigma(u)` for the entries
    of layer :math:`\ell` (``docs/algorithm.md``), with :math:`G_\ell = \Xi_\ell + \rho R_\ell^{(j)}`:

    - :math:`a = 2\lambda_v + 2/N` and :math:`p = 2Y/N - \beta_L` on the last layer;
      :math:`a = 2\lambda_v + \tau_{\ell+1}` and
      :math:`p = \tau_{\ell+1}V_\ell^{(j)} + W_{\ell+1}^TG_{\ell+1} - \beta_\ell` below it;
    - :math:`c = \rho + \tau_1`, :math:`q = \rho(W_1X + b_1) - \Xi_1 + \tau_1U_1^{(j)}` on the first
      layer; :math:`c = \tau_\ell`, :math:`q = \tau_\ell U_\ell^{(j)} - G_\ell` above it.
    """
    prob = self.problem
    L, N = prob.n_layers, prob.n_samples
    taus = _proximal_taus(W, rho, self.tau1)
    prev = [prob.X, *point.V[:-1]]
    lin = [Wl @ Pl + bl[:, None] for Wl, Pl, bl in zip(W, prev, b, strict=True)]
    Gs = [xi[ell] + rho * (point.U[ell] - lin[ell]) for ell in range(L)]
    V_new, U_new = [], []
    for ell in range(L):
        beta = prob.beta[ell]
        if ell == L - 1:
            a = 2.0 * prob.lambda_v + 2.0 / N
            p = 2.0 * prob.Y / N - beta
        else:
            t_next = taus[ell + 1]
            a = 2.0 * prob.lambda_v + t_next
            p = t_next * point.V[ell] + W[ell + 1].T @ Gs[ell + 1] - beta
        if ell == 0:
            c = rho + self.tau1
            q = rho * lin[0] - xi[0] + self.tau1 * point.U[0]
        else:
            c = taus[ell]
            q = taus[ell] * point.U[ell] - Gs[ell]
        v, u = solve_vu(a, p, c, q, beta, prob.alpha)
        V_new.append(v)
        U_new.append(u)
    return V_new, U_new
