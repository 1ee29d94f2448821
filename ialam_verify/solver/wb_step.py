r"""The (w, b) step of the alternating minimization (talk, eq. (5)): one group-lasso problem per layer.

For fixed :math:`(v, u)` and multiplier :math:`\Xi`, layer :math:`\ell` solves

.. math::

    \min_{W, b}\ \langle \Xi_\ell, U_\ell - W V_{\ell-1} - b 1^T\rangle
      + \tfrac\rho2 \|U_\ell - W V_{\ell-1} - b1^T\|_F^2 + \lambda_w \sum_j \|W_{:,j}\|
    = \min_{W,b}\ \tfrac\rho2\|T - W P - b 1^T\|_F^2 + \lambda_w\|W\|_{2,1} + \text{const},

with :math:`T = U_\ell + \Xi_\ell/\rho` and :math:`P = V_{\ell-1}`. Without a bound on ``b`` the bias is
eliminated exactly, :math:`b = \bar t - W\bar p` (column means), which leaves the centred problem

.. math::

    \min_W\ \tfrac12 \operatorname{tr}(W G W^T) - \operatorname{tr}(W C^T) + \tfrac{\lambda_w}{\rho}\|W\|_{2,1},
    \qquad G = P_c P_c^T,\ C = T_c P_c^T,

whose data are the Gram matrices: after one pass over the samples to form ``G`` and ``C`` an iteration
costs :math:`O(N_\ell N_{\ell-1}^2)`, nothing in ``N``. With the (PP_b) bound :math:`b \ge b_{\min}` the
pair ``[W b]`` is solved jointly on the uncentred Gram matrix of ``[P; 1^T]``, the prox projecting ``b``.

The solver is the proximal gradient method with Barzilai-Borwein steps and a nonmonotone (GLL / SpaRSA)
acceptance test, warm-started (Dai & Fletcher 2005; Wright, Nowak & Figueiredo 2009).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


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
