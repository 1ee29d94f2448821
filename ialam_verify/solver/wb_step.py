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
from dataclasses import dataclass, field

import numpy as np

from . import compiled
from .wb_bcd import group_lasso_bcd


def group_soft_threshold(W: np.ndarray, t: float) -> np.ndarray:
    r"""Proximal map of :math:`t\sum_j\|W_{:,j}\|`: each column shrunk by ``t`` in norm, to 0 if shorter.

    :math:`W_{:,j} \mapsto \max(0, 1 - t/\|W_{:,j}\|)\,W_{:,j}` (a column of norm at most ``t``, also a
    zero column, becomes exactly 0).
    """
    out = np.array(W, dtype=float, copy=True)
    if t <= 0.0:
        return out
    _shrink_columns(out, t)
    return out


def _column_norms(Z: np.ndarray) -> np.ndarray:
    r""":math:`\|Z_{:,j}\|` for every column; bit for bit ``np.linalg.norm(Z, axis=0)``, without its wrapper."""
    return np.sqrt(np.add.reduce(Z * Z, axis=0))


def _shrink_columns(Z: np.ndarray, t: float) -> None:
    r"""In place: :math:`Z_{:,j} \leftarrow (1 - t/\|Z_{:,j}\|) Z_{:,j}` if :math:`\|Z_{:,j}\| > t`, else 0.

    Each kept column is scaled by the same number ``1 - t/norm`` as in the textbook formula; ``t > 0``.
    """
    if t == np.inf:  # every column is scaled by 0 (as by the formula: no norm exceeds t)
        Z *= 0.0
        return
    norms = _column_norms(Z)
    # 1 - t/fmax(norm, t) is 1 - t/norm where norm > t and exactly 1 - t/t = 0 elsewhere, also for a
    # zero or NaN norm (fmax ignores NaN): the formula's scale, without a division by zero or np.where
    scale = np.fmax(norms, t)
    np.divide(t, scale, out=scale)
    np.subtract(1.0, scale, out=scale)
    Z *= scale


@dataclass(frozen=True)
class ProxGradInfo:
    """What the proximal-gradient solve did: iterations, the final scaled prox-gradient residual, status;
    ``gram_product`` is :math:`WG` at the returned ``W`` of the Gram-form problem solved (``"bcd"``
    only; None otherwise), to be passed back as ``gram_product`` with the same Gram matrix."""

    iterations: int
    residual: float
    converged: bool
    gram_product: np.ndarray | None = field(default=None, repr=False, compare=False)
    #: the stopping test's scale max(1, ||C||) (``"bcd"`` only)
    scale: float | None = field(default=None, repr=False, compare=False)


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

    def prox_and_penalty(Z: np.ndarray, t: float) -> tuple[np.ndarray, float]:
        Wn = prox(Z, t)
        if Wn is not Z and np.may_share_memory(Wn, Z):
            Wn = Wn.copy()  # Z is overwritten by the next trial
        return Wn, penalty(Wn)

    return _prox_gradient(
        G, C, W0, prox_and_penalty, penalty, tol, max_iter, memory, sigma, lipschitz
    )


def _prox_gradient(
    G: np.ndarray,
    C: np.ndarray,
    W0: np.ndarray,
    prox_and_penalty: Callable[[np.ndarray, float], tuple[np.ndarray, float]],
    penalty: Callable[[np.ndarray], float],
    tol: float,
    max_iter: int,
    memory: int,
    sigma: float,
    lipschitz: float | None,
) -> tuple[np.ndarray, ProxGradInfo]:
    r"""The iteration of :func:`prox_gradient_bb`; ``prox_and_penalty(Z, t)`` returns the prox of
    :math:`t\,r` at ``Z`` and :math:`r` there, and may overwrite ``Z`` (a scratch array) and return it;
    ``penalty(W)`` is :math:`r(W)`, used once at the start.

    Why it is written this way: at the sizes of a network layer each trial is a dozen array operations
    on small matrices, so their count and temporaries matter. The sums are the same ``add.reduce`` calls
    in the same order as ``np.sum`` (bit for bit: the nonmonotone test is decided at rounding level near
    convergence, and a different rounding there would change the iterates far beyond rounding); the
    matrix products go into buffers allocated once per solve.
    """
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(C)) and np.all(np.isfinite(W0))):
        return W0.copy(), ProxGradInfo(0, float("inf"), False)
    if lipschitz is None:
        lipschitz = largest_eigenvalue(G)
    add_reduce = np.add.reduce
    L_max = max(float(lipschitz), 1e-300)
    L_min = 1e-6 * L_max
    W = np.array(W0, dtype=float, copy=True)
    WG = W @ G
    grad = WG - C
    f = 0.5 * add_reduce(W * WG, axis=None) - add_reduce(W * C, axis=None) + penalty(W)
    hist = [f]
    alpha = L_max  # safe first step; BB takes over from the second
    scale = max(1.0, float(np.linalg.norm(C)))
    res = np.inf
    it = 0
    D = np.empty_like(W)
    DG = np.empty_like(WG)
    WGn = np.empty_like(WG)
    Z = np.empty_like(W)
    S = np.empty_like(
        W
    )  # products summed at once: np.sum(X * Y) is add.reduce(multiply(X, Y, out=S))

    def inner(X: np.ndarray, Y: np.ndarray):
        return add_reduce(np.multiply(X, Y, out=S), axis=None)

    for it in range(1, max_iter + 1):
        fref = max(hist[-memory:])
        for _trial in range(64):  # at most log2(L_max / L_min) < 21 doublings reach L_max
            np.divide(grad, alpha, out=Z)
            np.subtract(W, Z, out=Z)
            Wn, pen = prox_and_penalty(Z, 1.0 / alpha)
            np.subtract(Wn, W, out=D)
            np.matmul(D, G, out=DG)
            np.add(WG, DG, out=WGn)
            fn = 0.5 * inner(Wn, WGn) - inner(Wn, C) + pen
            dd = float(inner(D, D))
            if fn <= fref - 0.5 * sigma * alpha * dd or dd == 0.0 or alpha >= L_max:
                break
            alpha = min(2.0 * alpha, L_max)
        if not (np.isfinite(fn) and np.isfinite(dd)):
            # non-finite data (a diverged outer iterate): return the start, flagged not converged;
            # the outer loop sees the non-finite iterate and stops with status 6
            return W0.copy(), ProxGradInfo(it, float("inf"), False)
        res = alpha * np.sqrt(dd)
        # accept: the candidate becomes the iterate; the old iterate's arrays become scratch
        if Wn is Z:
            W, Z = Z, W
        else:
            W = Wn
        WG, WGn = WGn, WG
        f = fn
        np.subtract(WG, C, out=grad)
        hist.append(f)
        if res <= tol * scale:
            return W, ProxGradInfo(it, res / scale, True)
        curv = float(inner(D, DG))
        alpha = min(max(curv / dd, L_min), L_max) if dd > 0 else alpha
    return W, ProxGradInfo(it, res / scale, bool(res <= tol * scale))


def _group_lasso_penalty(lam: float, n_in: int) -> Callable[[np.ndarray], float]:
    r""":math:`\lambda\sum_{j < n_{in}}\|W_{:,j}\|` (the columns past ``n_in``, a bias, are not penalized)."""

    def penalty(W: np.ndarray) -> float:
        return lam * float(np.add.reduce(_column_norms(W[:, :n_in])))

    return penalty


def _group_lasso_prox(lam: float) -> Callable[[np.ndarray, float], tuple[np.ndarray, float]]:
    r"""``(Z, t) -> (prox of t lam ||.||_{2,1} at Z, lam ||result||_{2,1})``, shrinking ``Z`` in place."""

    def prox_and_penalty(Z: np.ndarray, t: float) -> tuple[np.ndarray, float]:
        thr = t * lam
        if thr > 0.0:
            _shrink_columns(Z, thr)
        return Z, lam * float(np.add.reduce(_column_norms(Z)))

    return prox_and_penalty


def _group_lasso_bias_prox(
    lam: float, n_in: int, bias_bound: float
) -> Callable[[np.ndarray, float], tuple[np.ndarray, float]]:
    r"""As :func:`_group_lasso_prox` on ``Z[:, :n_in]``; the last column (the bias) projected on
    ``>= bias_bound``."""

    def prox_and_penalty(Z: np.ndarray, t: float) -> tuple[np.ndarray, float]:
        Wz = Z[:, :n_in]
        thr = t * lam
        if thr > 0.0:
            _shrink_columns(Wz, thr)
        np.maximum(Z[:, n_in], bias_bound, out=Z[:, n_in])
        return Z, lam * float(np.add.reduce(_column_norms(Wz)))

    return prox_and_penalty


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
    input_mean: np.ndarray | None = None,
    method: str = "bcd",
    gram_product: np.ndarray | None = None,
    fixed_rows: np.ndarray | None = None,
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
    gram_lmax : float, optional
        Its largest eigenvalue (computed when not given).
    input_mean : ndarray (N_{l-1},), optional
        ``P.mean(axis=1)`` if already known (the first layer's input is the fixed data).
    method : {"bcd", "prox_grad"}
        ``"bcd"``: block coordinate descent over columns (:mod:`.wb_bcd`), stopping on the
        subproblem's optimality measure; ``"prox_grad"``: the proximal gradient method with BB steps
        (:func:`prox_gradient_bb`), stopping on its prox-gradient residual. ``tol`` and ``max_iter``
        (sweeps or iterations) mean the same for both.
    gram_product : ndarray, optional
        ``info.gram_product`` of the previous call that returned ``W0`` (``b0``) with the same ``P``
        and ``gram``: the product of the warm start with the Gram matrix of the problem solved (the
        fixed columns below removed), which spares that product (the first layer's, 784 x 784 on
        MNIST, carried across inner iterations by :class:`.inner.AlternatingMinimization`).
        ``"bcd"`` only (ignored by ``"prox_grad"``).
    fixed_rows : ndarray of bool (N_{l-1},), optional
        The rows of ``P`` whose columns are 0 in closed form (below), if already known (the first
        layer's input is fixed). With it, a given ``gram`` must be the Gram matrix *without* those
        rows and columns (the bias's kept), as the solve uses it.

    Exact zeros in closed form (both methods): a column whose input row is constant over the samples
    is exactly 0 at the minimum when ``b`` is unbounded (its effect :math:`w_jc1^T` is a bias, absorbed
    by :math:`b`; only the penalty depends on it), and a column whose input row is 0 is exactly 0 also
    with the bound. Those columns are set to 0 and the rest solved as the same problem without them.
    """
    if method not in WB_METHODS:
        raise ValueError(f"method must be one of {WB_METHODS}; got {method!r}")
    if (
        compiled.ENABLED
        and method == "bcd"
        and bias_bound is None
        and gram is None
        and fixed_rows is None
        and P.shape[1] > 0
    ):  # the whole step in one compiled call (its set-up is most of the time on small layers)
        fast = compiled.wb_layer_compiled(T, P, W0, lam, tol, max_iter)
        if fast is not None:
            W, b, it, res, conv = fast
            return W, b, ProxGradInfo(it, res, conv)
    N = P.shape[1]
    n_in = P.shape[0]
    pbar = P.mean(axis=1) if input_mean is None else input_mean
    tbar = T.mean(axis=1)
    # rows whose column is 0 in closed form (see the docstring): constant rows, or only zero rows
    # under a bias bound (a nonzero constant row then plays the part of a bias past its bound)
    if fixed_rows is not None:
        fixed = fixed_rows
    elif bias_bound is None:
        fixed = np.all(P == P[:, :1], axis=1) if N > 0 else np.ones(n_in, dtype=bool)
    else:
        fixed = ~np.any(P, axis=1)
    keep = np.flatnonzero(~fixed) if fixed.any() else None
    # a given Gram matrix is already without the fixed rows when the caller passed fixed_rows
    reduce_gram = fixed_rows is None or gram is None
    if bias_bound is None:
        G = gram if gram is not None else centred_gram(P, pbar)
        C = T @ P.T
        C -= N * np.outer(tbar, pbar)
        Ws = W0
        if keep is not None:  # the problem without the fixed columns: rows and columns of G dropped
            G = G[np.ix_(keep, keep)] if reduce_gram else G
            C, Ws = C[:, keep], W0[:, keep]
        Ws, info = _solve(method, G, C, Ws, lam, n_in - int(fixed.sum()), None, tol, max_iter,
                          gram_lmax if gram is not None else None, gram_product)  # fmt: skip
        W = _scatter(Ws, keep, W0.shape)
        return W, tbar - W @ pbar, info
    G = gram if gram is not None else augmented_gram(P)
    C = np.empty((T.shape[0], n_in + 1))
    C[:, :n_in] = T @ P.T
    C[:, n_in] = N * tbar
    Wb0 = np.empty((W0.shape[0], n_in + 1))
    Wb0[:, :n_in] = W0
    Wb0[:, n_in] = b0
    n_pen = n_in
    if keep is not None:
        keep = np.append(keep, n_in)  # the bias column stays
        G = G[np.ix_(keep, keep)] if reduce_gram else G
        C, Wb0 = C[:, keep], Wb0[:, keep]
        n_pen = len(keep) - 1
    Wb, info = _solve(method, G, C, Wb0, lam, n_pen, bias_bound, tol, max_iter,
                      gram_lmax if gram is not None else None, gram_product)  # fmt: skip
    Wb = _scatter(Wb, keep, (W0.shape[0], n_in + 1))
    return Wb[:, :n_in].copy(), Wb[:, n_in].copy(), info


def wb_layer_step_from_output(
    T: np.ndarray,
    P: np.ndarray,
    W0: np.ndarray,
    output: np.ndarray,
    lam: float,
    *,
    gram: np.ndarray,
    fixed_rows: np.ndarray,
    input_mean: np.ndarray,
    scale: float,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, ProxGradInfo] | None:
    r""":func:`wb_layer_step` (unbounded ``b``, ``"bcd"``, compiled) started from the layer's output.

    The centred problem's gradient at the warm start is
    :math:`W_0G - C = (W_0P_c - T_c)P_c^T = (W_0P + b_01^T - T)_cP^T` (:math:`A_c`: the row means
    removed; :math:`A_cP_c^T = A_cP^T`), so with ``output`` :math:`= W_0P + b_0 1^T`, which the (v, u)
    step forms anyway, one product with ``P`` gives it: the product :math:`TP^T` the usual path makes
    (for ``C``), and neither :math:`C` nor :math:`W_0G`. The last sweep is forward only
    (:func:`.compiled.group_lasso_bcd_from_gradient`): half the updates of :math:`WG` a full sweep
    makes. What differs from :func:`wb_layer_step`: the iterates are the same up to rounding, but
    the stopping test's scale :math:`\max(1, \|C\|)` is ``scale`` (the caller's, from an earlier
    solve: ``C`` is not formed) and after a forward-only sweep ``info.residual`` is the one at its start.

    ``gram`` and ``fixed_rows`` as in :func:`wb_layer_step` (``gram`` without the fixed rows, finite),
    ``input_mean`` the row means of ``P``. Returns None where it does not apply (numba absent, data
    not finite, a kept column with :math:`G_{jj} \le 0`): then call :func:`wb_layer_step`.
    """
    if not compiled.ENABLED:
        return None
    M = np.subtract(output, T)
    mbar = M.mean(axis=1)
    grad = M @ P.T
    grad -= P.shape[1] * np.outer(mbar, input_mean)  # (M - mbar 1^T) P^T
    keep = np.flatnonzero(~fixed_rows) if fixed_rows.any() else None
    Ws = W0
    if keep is not None:
        grad, Ws = grad[:, keep], W0[:, keep]
    Ws, it, res, converged = compiled.group_lasso_bcd_from_gradient(
        gram, grad, Ws, lam, Ws.shape[1], scale, tol, max_iter
    )
    if Ws is None:
        return None
    W = _scatter(Ws, keep, W0.shape)
    return W, T.mean(axis=1) - W @ input_mean, ProxGradInfo(it, res, converged, None, scale)


#: the (w, b) subproblem solvers :func:`wb_layer_step` knows (the ``wb_solver`` setting)
WB_METHODS = ("bcd", "prox_grad")


def _scatter(Ws: np.ndarray, keep: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """``Ws`` placed in the columns ``keep`` of a zero matrix of ``shape`` (``Ws`` itself if None)."""
    if keep is None:
        return Ws
    W = np.zeros(shape)
    W[:, keep] = Ws
    return W


def _solve(
    method: str,
    G: np.ndarray,
    C: np.ndarray,
    W0: np.ndarray,
    lam: float,
    n_pen: int,
    bias_bound: float | None,
    tol: float,
    max_iter: int,
    lipschitz: float | None,
    gram_product: np.ndarray | None = None,
) -> tuple[np.ndarray, ProxGradInfo]:
    r"""The Gram-form problem (``n_pen`` penalized leading columns; a bounded last column if
    ``bias_bound``) by ``method``; ``lipschitz`` bounds :math:`\lambda_{\max}(G)` (prox_grad only)."""
    if method == "bcd":
        W, binfo = group_lasso_bcd(
            G, C, W0, lam, n_pen=n_pen, bias_bound=bias_bound, tol=tol, max_iter=max_iter,
            gram_product=gram_product,
        )  # fmt: skip
        return W, ProxGradInfo(*binfo)
    if bias_bound is None:
        prox = _group_lasso_prox(lam)
    else:
        prox = _group_lasso_bias_prox(lam, n_pen, bias_bound)
    return _prox_gradient(
        G, C, W0, prox, _group_lasso_penalty(lam, n_pen), tol, max_iter, 5, 1e-4, lipschitz
    )


def largest_eigenvalue(G: np.ndarray) -> float:
    r""":math:`\lambda_{\max}` of a symmetric positive semidefinite matrix (LAPACK ``syevd``)."""
    if G.shape[0] == 0:
        return 0.0
    return float(np.linalg.eigvalsh(G)[-1])


def centred_gram(P: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    r""":math:`P_cP_c^T = PP^T - N\bar p\bar p^T` (``mean``: :math:`\bar p` if already computed)."""
    pbar = P.mean(axis=1) if mean is None else mean
    G = P @ P.T
    G -= P.shape[1] * np.outer(pbar, pbar)
    return G


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
