r"""Calculus of the network objective on one *piece* (fixed slopes), for :mod:`.refine`.

Parameters are one flat vector :math:`\theta = (\mathrm{vec}_C W_1, b_1, \dots, \mathrm{vec}_C W_L, b_L)`
(``vec_C``: row-major ravel). A piece fixes a slope :math:`s \in \{1, \alpha, 0\}` for every
pre-activation entry: 1 where :math:`u > 0`, :math:`\alpha` where :math:`u < 0`, 0 on the kink set
:math:`\mathcal A` (entries held at :math:`u = 0`, where :math:`\sigma(u) = 0` whatever the slope).
With :math:`V_0 = X`,

.. math::

    U_\ell = W_\ell V_{\ell-1} + b_\ell 1^T,\qquad V_\ell = S_\ell \odot U_\ell,\qquad
    \ell(\theta) = \tfrac1N\|V_L - Y\|_F^2 + \lambda_v \textstyle\sum_\ell \|V_\ell\|_F^2 .

Backward pass with kink multipliers :math:`t` injected at the kink entries (this is the gradient of
the Lagrangian :math:`\ell(\theta) + \sum_{i \in \mathcal A} t_i u_i(\theta)`):

.. math::

    D_L = \tfrac2N (V_L - Y) + 2\lambda_v V_L,\quad G_\ell = S_\ell \odot D_\ell + T_\ell,\quad
    D_{\ell-1} = 2\lambda_v V_{\ell-1} + W_\ell^T G_\ell,\quad
    \nabla_{W_\ell} = G_\ell V_{\ell-1}^T,\ \nabla_{b_\ell} = G_\ell 1 .

:math:`D_\ell = \partial/\partial V_\ell` and :math:`G_\ell = \partial/\partial U_\ell` of the
Lagrangian. The Hessian-vector product is the directional derivative of this pass (forward tangents
:math:`\dot U_\ell = \dot W_\ell V_{\ell-1} + W_\ell \dot V_{\ell-1} + \dot b_\ell 1^T`,
:math:`\dot V_\ell = S_\ell \odot \dot U_\ell`, then the backward pass differentiated with :math:`t`
held fixed). The group lasso :math:`\lambda_w\|w\|` of a nonzero column adds
:math:`\lambda_w w/\|w\|` and :math:`\lambda_w(I/\|w\| - w w^T/\|w\|^3)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.problem import Problem


@dataclass(frozen=True)
class ParamLayout:
    """Offsets of ``W_l`` and ``b_l`` in the flat parameter vector."""

    sizes: tuple[int, ...]
    w_off: tuple[int, ...]
    b_off: tuple[int, ...]
    n: int

    @classmethod
    def of(cls, sizes: tuple[int, ...]) -> ParamLayout:
        w_off, b_off = [], []
        i = 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            w_off.append(i)
            i += n_in * n_out
            b_off.append(i)
            i += n_out
        return cls(tuple(sizes), tuple(w_off), tuple(b_off), i)

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def unpack(self, theta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Views ``W_l`` (``N_l x N_{l-1}``) and ``b_l`` into ``theta``."""
        W, b = [], []
        for l in range(self.n_layers):
            n_in, n_out = self.sizes[l], self.sizes[l + 1]
            W.append(theta[self.w_off[l] : self.w_off[l] + n_in * n_out].reshape(n_out, n_in))
            b.append(theta[self.b_off[l] : self.b_off[l] + n_out])
        return W, b

    def pack(self, W: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.concatenate([np.ravel(Wl), bl]) for Wl, bl in zip(W, b, strict=True)])

    def column(self, l: int, j: int) -> np.ndarray:
        """Indices in ``theta`` of the column ``W_l[:, j]``."""
        n_in, n_out = self.sizes[l], self.sizes[l + 1]
        return self.w_off[l] + np.arange(n_out) * n_in + j

    def free_mask(self, zero_cols: list[np.ndarray]) -> np.ndarray:
        """``True`` for every parameter not in a column held at zero."""
        free = np.ones(self.n, dtype=bool)
        for l, zc in enumerate(zero_cols):
            for j in np.flatnonzero(zc):
                free[self.column(l, j)] = False
        return free


def piece_forward(
    W: list[np.ndarray], b: list[np.ndarray], X: np.ndarray, S: list[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``U_l`` and ``V_l = S_l * U_l`` of the piece."""
    U, V = [], []
    prev = X
    for Wl, bl, Sl in zip(W, b, S, strict=True):
        Ul = Wl @ prev + bl[:, None]
        U.append(Ul)
        prev = Sl * Ul
        V.append(prev)
    return U, V


def piece_backward(
    problem: Problem,
    lay: ParamLayout,
    W: list[np.ndarray],
    V: list[np.ndarray],
    S: list[np.ndarray],
    T: list[np.ndarray] | None = None,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Gradient of ``loss + ridge (+ t . u_A)`` in ``theta``; also ``G_l`` (d/dU) and ``D_l`` (d/dV)."""
    N, L, lv = problem.n_samples, problem.n_layers, problem.lambda_v
    grad = np.empty(lay.n)
    G: list[np.ndarray] = [None] * L  # type: ignore[list-item]
    D: list[np.ndarray] = [None] * L  # type: ignore[list-item]
    Dl = (2.0 / N) * (V[-1] - problem.Y) + 2.0 * lv * V[-1]
    for l in range(L - 1, -1, -1):
        D[l] = Dl
        Gl = S[l] * Dl
        if T is not None:
            Gl = Gl + T[l]
        G[l] = Gl
        prev = problem.X if l == 0 else V[l - 1]
        n_in, n_out = lay.sizes[l], lay.sizes[l + 1]
        grad[lay.w_off[l] : lay.w_off[l] + n_in * n_out] = np.ravel(Gl @ prev.T)
        grad[lay.b_off[l] : lay.b_off[l] + n_out] = Gl.sum(axis=1)
        if l > 0:
            Dl = 2.0 * lv * V[l - 1] + W[l].T @ Gl
    return grad, G, D


def group_lasso_grad(
    lay: ParamLayout, W: list[np.ndarray], lam: float, zero_cols: list[np.ndarray]
) -> np.ndarray:
    r""":math:`\lambda_w w_j/\|w_j\|` on the nonzero columns, 0 elsewhere (held columns included)."""
    out = np.zeros(lay.n)
    if lam == 0:
        return out
    for l, Wl in enumerate(W):
        nrm = np.linalg.norm(Wl, axis=0)
        live = (~zero_cols[l]) & (nrm > 0)
        Gl = np.zeros_like(Wl)
        Gl[:, live] = lam * Wl[:, live] / nrm[live]
        out[lay.w_off[l] : lay.w_off[l] + Wl.size] = np.ravel(Gl)
    return out


def tangent(
    lay: ParamLayout, W: list[np.ndarray], V: list[np.ndarray], X: np.ndarray, S: list[np.ndarray], d: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Forward tangents ``dU_l``, ``dV_l`` along the parameter direction ``d``."""
    dW, db = lay.unpack(d)
    dU, dV = [], []
    for l in range(lay.n_layers):
        prev = X if l == 0 else V[l - 1]
        dUl = dW[l] @ prev + db[l][:, None]
        if l > 0:
            dUl = dUl + W[l] @ dV[l - 1]
        dU.append(dUl)
        dV.append(S[l] * dUl)
    return dU, dV


def kink_jacobian(
    lay: ParamLayout,
    W: list[np.ndarray],
    V: list[np.ndarray],
    X: np.ndarray,
    S: list[np.ndarray],
    kinks: list[tuple[np.ndarray, np.ndarray]],
) -> np.ndarray:
    r"""Dense Jacobian :math:`\partial u_i/\partial\theta` of the kink entries, one row per kink.

    ``kinks[l] = (rows, samples)`` of layer ``l`` (the order of ``np.nonzero``). Each row is a
    backward pass of one sample seeded with :math:`e_k` at :math:`U_\ell`; only that sample's
    activations enter, so a row costs one per-sample backward pass.
    """
    blocks = []
    for l, (ks, ns) in enumerate(kinks):
        m = ks.size
        if m == 0:
            continue
        C = np.zeros((m, lay.n))
        G = np.zeros((m, lay.sizes[l + 1]))
        G[np.arange(m), ks] = 1.0
        for q in range(l, -1, -1):
            prev = (X if q == 0 else V[q - 1])[:, ns].T  # m x N_{q-1}
            n_in, n_out = lay.sizes[q], lay.sizes[q + 1]
            C[:, lay.w_off[q] : lay.w_off[q] + n_in * n_out] = (G[:, :, None] * prev[:, None, :]).reshape(m, -1)
            C[:, lay.b_off[q] : lay.b_off[q] + n_out] = G
            if q > 0:
                G = (G @ W[q]) * S[q - 1][:, ns].T
        blocks.append(C)
    if not blocks:
        return np.zeros((0, lay.n))
    return np.vstack(blocks)


def hessian_vector(
    problem: Problem,
    lay: ParamLayout,
    W: list[np.ndarray],
    V: list[np.ndarray],
    S: list[np.ndarray],
    G: list[np.ndarray],
    zero_cols: list[np.ndarray],
    d: np.ndarray,
) -> np.ndarray:
    """Hessian of the Lagrangian (``G`` from :func:`piece_backward` with the kink multipliers) times ``d``."""
    return hessian_columns(problem, lay, W, V, S, G, zero_cols, np.asarray(d)[:, None])[:, 0]


def hessian_columns(
    problem: Problem,
    lay: ParamLayout,
    W: list[np.ndarray],
    V: list[np.ndarray],
    S: list[np.ndarray],
    G: list[np.ndarray],
    zero_cols: list[np.ndarray],
    dirs: np.ndarray,
) -> np.ndarray:
    r"""Hessian of the Lagrangian times the ``k`` columns of ``dirs`` (``n x k``): ``n x k``.

    The directional derivative of :func:`piece_backward` (module docstring) for ``k`` directions at
    once. Every batched array is stored unit-major, ``(N_l, k, N)`` for tangents of :math:`U_\ell`,
    :math:`V_\ell`, :math:`D_\ell`, :math:`G_\ell` and ``(N_l, k, N_{l-1})`` for
    :math:`\dot W_\ell`, so that every product is one 2-D matrix product (one BLAS call) instead
    of ``k`` small ones: with the ``k`` parameter directions of the dense Newton step this was the
    refinement's main cost.
    """
    N, L, lv, lam = problem.n_samples, problem.n_layers, problem.lambda_v, problem.lambda_w
    k = dirs.shape[1]
    n_s = problem.X.shape[1]
    dW, dV = _batched_tangents(lay, W, V, S, problem.X, dirs)
    # the backward pass differentiated (t held fixed)
    out = np.empty((lay.n, k))
    dD = (2.0 / N + 2.0 * lv) * dV[-1]
    for l in range(L - 1, -1, -1):
        n_in, n_out = lay.sizes[l], lay.sizes[l + 1]
        dG = S[l][:, None, :] * dD
        prev = problem.X if l == 0 else V[l - 1]
        hW = (dG.reshape(n_out * k, n_s) @ prev.T).reshape(n_out, k, n_in)
        if l > 0:  # G_l dV_{l-1}^T
            hW += (G[l] @ dV[l - 1].reshape(n_in * k, n_s).T).reshape(n_out, n_in, k).transpose(0, 2, 1)
        if lam > 0:  # lambda_w (I/|w| - w w^T/|w|^3) on the nonzero columns
            nrm = np.linalg.norm(W[l], axis=0)
            live = (~zero_cols[l]) & (nrm > 0)
            if np.any(live):
                w, r = W[l][:, live][:, None, :], nrm[live]
                dw = dW[l][:, :, live]
                hW[:, :, live] += lam * (dw / r - w * (np.sum(w * dw, axis=0, keepdims=True) / r**3))
        out[lay.w_off[l] : lay.w_off[l] + n_in * n_out] = hW.transpose(0, 2, 1).reshape(n_out * n_in, k)
        out[lay.b_off[l] : lay.b_off[l] + n_out] = dG.sum(axis=2)
        if l > 0:  # dD_{l-1} = 2 lambda_v dV_{l-1} + dW_l^T G_l + W_l^T dG_l
            dD = (W[l].T @ dG.reshape(n_out, k * n_s)).reshape(n_in, k, n_s)
            dD += (G[l].T @ dW[l].reshape(n_out, k * n_in)).reshape(n_s, k, n_in).transpose(2, 1, 0)
            if lv:
                dD += 2.0 * lv * dV[l - 1]
    return out


def _batched_tangents(
    lay: ParamLayout,
    W: list[np.ndarray],
    V: list[np.ndarray],
    S: list[np.ndarray],
    X: np.ndarray,
    dirs: np.ndarray,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r"""Forward tangents for the ``k`` columns of ``dirs``, unit-major: :math:`\dot W_\ell` as
    ``(N_l, k, N_{l-1})`` and :math:`\dot V_\ell = S_\ell \odot (\dot W_\ell V_{\ell-1} + W_\ell
    \dot V_{\ell-1} + \dot b_\ell 1^T)` as ``(N_l, k, N)``."""
    L, k, n_s = lay.n_layers, dirs.shape[1], X.shape[1]
    dW, dV = [], []
    for l in range(L):
        n_in, n_out = lay.sizes[l], lay.sizes[l + 1]
        blk = dirs[lay.w_off[l] : lay.w_off[l] + n_in * n_out].reshape(n_out, n_in, k)
        dW.append(np.ascontiguousarray(blk.transpose(0, 2, 1)))  # (n_out, k, n_in)
        prev = X if l == 0 else V[l - 1]
        # in place where possible: these arrays are large (N_l k N) and fresh allocations of that
        # size cost more than the arithmetic on a loaded machine (measured)
        dU = (dW[l].reshape(n_out * k, n_in) @ prev).reshape(n_out, k, n_s)
        if l > 0:
            dU += (W[l] @ dV[l - 1].reshape(n_in, k * n_s)).reshape(n_out, k, n_s)
        dU += dirs[lay.b_off[l] : lay.b_off[l] + n_out][:, :, None]
        dU *= S[l][:, None, :]
        dV.append(dU)
    return dW, dV


#: numbers of the Jacobians held at once by :func:`hessian_matrix` (2**16 doubles, 512 kB: bounded
#: memory for any N, and cache-sized; measured on L4, N = 500: 2**15 to 2**16 about 1.7x faster than
#: one chunk of all samples)
_CHUNK_NUMBERS = 2**16


def hessian_matrix(
    problem: Problem,
    lay: ParamLayout,
    W: list[np.ndarray],
    V: list[np.ndarray],
    S: list[np.ndarray],
    G: list[np.ndarray],
    zero_cols: list[np.ndarray],
) -> np.ndarray:
    r"""The full ``n x n`` Hessian of the Lagrangian, assembled from the Jacobians of the layers.

    With :math:`J_\ell = \partial\,\mathrm{vec}V_\ell/\partial\theta` (the forward tangents of
    the unit directions) and the adjoints :math:`G_\ell` of :func:`piece_backward` (kink multipliers
    included), for directions :math:`d, e`:

    .. math::

        d^T H e = \sum_\ell c_\ell \langle \dot V_\ell[d], \dot V_\ell[e]\rangle
            + \sum_\ell \langle G_\ell, \dot W_\ell[d]\,\dot V_{\ell-1}[e]
            + \dot W_\ell[e]\,\dot V_{\ell-1}[d]\rangle + \text{group lasso},

    :math:`c_L = 2/N + 2\lambda_v`, :math:`c_\ell = 2\lambda_v` below (:math:`V_\ell` is linear in
    :math:`U_\ell` on a piece and :math:`U_\ell` bilinear in :math:`(W_\ell, V_{\ell-1})`, so these
    are all the second-order terms). So :math:`H = \sum_\ell c_\ell J_\ell^T J_\ell + C + C^T +
    H_{\text{lasso}}`, :math:`C[(W_\ell)_{ij}, q] = \sum_n (G_\ell)_{in} (J_{\ell-1})_{(j,n),q}`:
    a few large matrix products instead of the differentiated backward pass of
    :func:`hessian_columns` for every column (equal to it to rounding; tested). Rows and columns of
    held zero columns carry no group-lasso term (the caller drops them).
    """
    N, L, lv, lam = problem.n_samples, problem.n_layers, problem.lambda_v, problem.lambda_w
    n, n_s = lay.n, problem.X.shape[1]
    eye = np.eye(n)
    H = np.zeros((n, n))
    # samples in chunks: J holds n * (N_1 + ... + N_L) numbers per sample (memory, and cache)
    chunk = max(1, min(n_s, _CHUNK_NUMBERS // (n * sum(lay.sizes[1:]))))
    for a in range(0, n_s, chunk):
        cols = slice(a, min(a + chunk, n_s))
        Vc, Sc = [v[:, cols] for v in V], [x[:, cols] for x in S]
        _, J = _batched_tangents(lay, W, Vc, Sc, problem.X[:, cols], eye)
        m = J[0].shape[2]
        for l in range(L):
            c = 2.0 / N + 2.0 * lv if l == L - 1 else 2.0 * lv
            if c:
                H += c * np.tensordot(J[l], J[l], axes=([0, 2], [0, 2]))
        for l in range(1, L):
            n_in, n_out = lay.sizes[l], lay.sizes[l + 1]
            Jp = J[l - 1].transpose(2, 0, 1).reshape(m, n_in * n)  # (samples, n_in * n)
            C = (G[l][:, cols] @ Jp).reshape(n_out * n_in, n)
            H[lay.w_off[l] : lay.w_off[l] + n_out * n_in] += C
            H[:, lay.w_off[l] : lay.w_off[l] + n_out * n_in] += C.T
    if lam > 0:
        for l, Wl in enumerate(W):
            nrm = np.linalg.norm(Wl, axis=0)
            for j in np.flatnonzero((~zero_cols[l]) & (nrm > 0)):
                w, r = Wl[:, j], nrm[j]
                idx = lay.column(l, j)
                H[np.ix_(idx, idx)] += lam * (np.eye(w.size) / r - np.outer(w, w) / r**3)
    return H
