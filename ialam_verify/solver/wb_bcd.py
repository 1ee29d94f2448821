r"""Block coordinate descent over columns for the (w, b) group-lasso subproblem (skglm / glmnet style).

The problem of :mod:`.wb_step` in its Gram form,

.. math::

    \min_W\ F(W) = \tfrac12\operatorname{tr}(WGW^T) - \operatorname{tr}(WC^T)
        + \lambda\sum_{j < n_{pen}}\|W_{:,j}\|\quad(\text{and } W_{:,n} \ge b_{\min}
        \text{ for a bias column}),

is a quadratic in each column :math:`w_j` with Hessian :math:`G_{jj} I` (because
:math:`\operatorname{tr}(WGW^T) = \sum_{jk} G_{jk} w_j^Tw_k`). So each column has an exact block
minimizer, the group soft-threshold of a gradient step of length :math:`1/G_{jj}`:

.. math::

    g_j = (WG - C)_{:,j},\qquad
    w_j \leftarrow \max\Bigl(0, 1 - \frac{\lambda/G_{jj}}{\|z_j\|}\Bigr) z_j,\quad
    z_j = w_j - g_j / G_{jj},

and the bias column (Hessian :math:`G_{nn} I = N I`, bound entrywise) is projected,
:math:`b \leftarrow \max(b_{\min}, b - g_b/N)`. Why it is here: the proximal-gradient method shrinks
*every* column by :math:`\lambda/L` per iteration with one global :math:`L = \lambda_{\max}(G)`; on
MNIST :math:`L \approx 5000` while a rarely lit pixel has :math:`G_{jj}` orders smaller, so columns that
are zero at the subproblem's solution stayed nonzero within a few iterations. Here a column reaches
its exact zero in one update once the others are nearly optimal.

A sweep visits the working set: the nonzero columns and the zero columns that violate their optimality
condition :math:`\|g_j\| \le \lambda` (a zero column that satisfies it would stay zero under its
update). The solve stops on the subproblem's own optimality measure (:func:`optimality_residuals`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg.blas import dger

from . import compiled


class BCDInfo(NamedTuple):
    r"""What the solve did: sweeps, the final scaled optimality measure, whether it reached ``tol``;
    ``gram_product`` is :math:`WG` at the returned ``W`` (None when the solve failed), ``scale`` the
    stopping test's :math:`\max(1, \|C\|)`."""

    iterations: int
    residual: float
    converged: bool
    gram_product: np.ndarray | None = None
    scale: float | None = None


def optimality_residuals(
    W: np.ndarray,
    grad: np.ndarray,
    lam: float,
    n_pen: int,
    bias_bound: float | None = None,
    bias_curvature: float = 1.0,
) -> np.ndarray:
    r"""Per column, the distance of :math:`-\nabla_j` to the subdifferential of the column's term.

    - penalized nonzero column: :math:`\|g_j + \lambda w_j/\|w_j\|\|`;
    - penalized zero column: :math:`\max(0, \|g_j\| - \lambda)`;
    - unpenalized column (index :math:`\ge n_{pen}`), without a bound: :math:`\|g_j\|`;
      with the bound :math:`w_j \ge b_{\min}`: :math:`c\|w_j - \max(b_{\min}, w_j - g_j/c)\|` (the
      projected-gradient mapping with step :math:`1/c`, ``bias_curvature``), zero exactly at the KKT
      points of the bound.

    All are zero exactly at a minimizer (the problem is convex).
    """
    out = np.empty(W.shape[1])
    Wp, gp = W[:, :n_pen], grad[:, :n_pen]
    norms = np.sqrt(np.add.reduce(Wp * Wp, axis=0))
    nz = norms > 0.0
    gnorm = np.sqrt(np.add.reduce(gp * gp, axis=0))
    res = np.maximum(gnorm - lam, 0.0)
    if np.any(nz):
        D = gp[:, nz] + lam * Wp[:, nz] / norms[nz]
        res[nz] = np.sqrt(np.add.reduce(D * D, axis=0))
    out[:n_pen] = res
    for j in range(n_pen, W.shape[1]):
        g = grad[:, j]
        if bias_bound is None:
            out[j] = float(np.sqrt(g @ g))
        else:
            step = W[:, j] - np.maximum(bias_bound, W[:, j] - g / bias_curvature)
            out[j] = bias_curvature * float(np.sqrt(step @ step))
    return out


def group_lasso_bcd(
    G: np.ndarray,
    C: np.ndarray,
    W0: np.ndarray,
    lam: float,
    *,
    n_pen: int | None = None,
    bias_bound: float | None = None,
    tol: float = 1e-8,
    max_iter: int = 500,
    gram_product: np.ndarray | None = None,
) -> tuple[np.ndarray, BCDInfo]:
    r"""Minimize :math:`\frac12\operatorname{tr}(WGW^T) - \operatorname{tr}(WC^T) + \lambda\sum_{j<n_{pen}}\|W_{:,j}\|`.

    Parameters
    ----------
    G : ndarray (n, n)
        Symmetric positive semidefinite.
    C : ndarray (m, n)
    W0 : ndarray (m, n)
        Warm start.
    lam : float
        :math:`\lambda \ge 0`.
    n_pen : int, optional
        Number of penalized leading columns (default all); the others are free, or with ``bias_bound``
        the one last column is bounded below entrywise.
    tol, max_iter :
        Stop when the Euclidean norm of :func:`optimality_residuals` is at most
        ``tol * max(1, ||C||)``, or after ``max_iter`` sweeps.
    gram_product : ndarray (m, n), optional
        :math:`W_0G` if the caller has it (e.g. ``info.gram_product`` of the solve that returned
        ``W0``): spares that product. Only valid when no penalized column of ``W0`` has
        :math:`G_{jj} = 0` (such columns are zeroed before the start).

    A penalized column with :math:`G_{jj} = 0` has zero gradient part from ``G`` (``G`` is PSD, so its
    row is zero): its minimizer is 0 if :math:`\|C_{:,j}\| \le \lambda`; the solver sets it to 0 (the
    caller removes constant inputs, where :math:`C_{:,j} = 0` exactly, before).

    Returns ``(W, info)``: ``info.iterations`` sweeps, ``info.residual`` the scaled optimality measure,
    ``info.gram_product`` :math:`WG` at the result.

    With numba (:mod:`.compiled`, ``ENABLED``) the sweeps run compiled with blocked updates of
    :math:`WG`: the same iterates up to rounding; this numpy loop is the reference and the fallback.
    """
    m, n = W0.shape
    n_pen = n if n_pen is None else n_pen
    if compiled.ENABLED:
        W, it, res, WG, scale = compiled.group_lasso_bcd_compiled(
            G, C, W0, lam, n_pen, bias_bound, tol, max_iter, gram_product
        )
        if W is None:
            return np.array(W0, dtype=float, copy=True), BCDInfo(it, float("inf"), False)
        return W, BCDInfo(it, res, bool(res <= tol), WG, scale)
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(C)) and np.all(np.isfinite(W0))):
        return np.array(W0, dtype=float, copy=True), BCDInfo(0, float("inf"), False)
    scale = max(1.0, float(np.linalg.norm(C)))
    # W and R = W G kept as (n, m) C-ordered transposes: a column of W is a contiguous row, and the
    # rank-one update R += delta G_j^T is one BLAS dger on the Fortran view R^T.T
    Wt = np.array(W0.T, dtype=float, order="C", copy=True)
    diag = np.array(np.diagonal(G), dtype=float)
    dead = np.zeros(n, dtype=bool)
    dead[:n_pen] = diag[:n_pen] <= 0.0
    Wt[dead] = 0.0
    Ct = np.ascontiguousarray(C.T, dtype=float)
    if gram_product is not None and not np.any(dead):
        Rt = np.array(gram_product.T, dtype=float, order="C", copy=True)
    else:
        Rt = np.ascontiguousarray((Wt.T @ G).T)
    curv_b = diag[n - 1] if (bias_bound is not None and n > n_pen) else 1.0
    Gf = np.asfortranarray(G)  # G[:, j] contiguous (G is symmetric: the row G_j)

    def residual() -> float:
        r = optimality_residuals(Wt.T, (Rt - Ct).T, lam, n_pen, bias_bound, curv_b)
        r[dead] = 0.0
        return float(np.sqrt(r @ r))

    res = residual()
    it = 0
    for it in range(1, max_iter + 1):
        if res <= tol * scale:
            return Wt.T.copy(), BCDInfo(it - 1, res / scale, True, Rt.T, scale)
        # working set: nonzero penalized columns, violating zero ones, every unpenalized one
        gt = Rt[:n_pen] - Ct[:n_pen]
        gnorm = np.sqrt(np.add.reduce(gt * gt, axis=1))
        wnorm = np.sqrt(np.add.reduce(Wt[:n_pen] * Wt[:n_pen], axis=1))
        work = np.flatnonzero(((wnorm > 0.0) | (gnorm > lam)) & ~dead[:n_pen]).tolist()
        work += list(range(n_pen, n))
        for j in work:
            d = diag[j]
            if d <= 0.0:
                continue
            w = Wt[j]
            z = w - (Rt[j] - Ct[j]) / d
            if j < n_pen:
                nrm = float(np.sqrt(z @ z))
                thr = lam / d
                new = z * (1.0 - thr / nrm) if nrm > thr else np.zeros_like(z)
            elif bias_bound is not None:
                new = np.maximum(z, bias_bound)
            else:
                new = z
            delta = new - w
            if not np.any(delta):
                continue
            Wt[j] = new
            dger(1.0, delta, Gf[:, j], a=Rt.T, overwrite_a=True)
        # the rank-one updates drift by rounding only; one product per sweep restores R exactly
        Rt = np.ascontiguousarray((Wt.T @ G).T)
        if not np.all(np.isfinite(Rt)):
            return np.array(W0, dtype=float, copy=True), BCDInfo(it, float("inf"), False)
        res = residual()
    return Wt.T.copy(), BCDInfo(it, res / scale, bool(res <= tol * scale), Rt.T, scale)
