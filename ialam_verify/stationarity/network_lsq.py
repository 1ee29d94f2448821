r"""The least-squares witness of (P) without the reduced program's dense matrix.

At the free (biactive) entries of (P) the values :math:`\xi` of :math:`\Xi` are free; the
:math:`R^W, R^b` residual rows are affine in them, :math:`r(\xi) = e_0 + B\xi`
(:class:`.network_program.ReducedProgram`). The :math:`\xi` of least :math:`\|r\|_2` gives, by the
adjoint of the backward pass, :math:`B^T r = 0`, which is :math:`du = 0` at the free entries for the
direction :math:`d = -r` pushed forward: a direction in the cone of W (hence of every (P) notion),
the seed of :func:`.network_proof.fails_by_direction` that proves failures at biactive entries.

``ReducedProgram`` stores :math:`B` densely, one row per entry of every :math:`W_\ell`
(178,110 rows for 784-200-100-10): it refuses more than a few dozen free entries, so at N = 60,000
the proof was out of reach. Here :math:`B` is never formed. A free entry :math:`k` at layer
:math:`\ell_k`, sample :math:`n_k` moves :math:`\Xi` only in sample :math:`n_k`, at layers
:math:`\ell \le \ell_k`, by a column :math:`a_{\ell k}` (one per layer; the unit at the entry, then
:math:`a_{\ell-1,k} = c_1 \odot (-W_\ell^T a_{\ell k})` with the other free entries of the sample held),
so its column of :math:`B` is, per layer, :math:`-\mathrm{vec}(a_{\ell k} p_{\ell k}^T)` and
:math:`-a_{\ell k}` with :math:`p_{\ell k}` the layer's input at sample :math:`n_k`. Hence

.. math::

    B\delta = \big(-(A_\ell \operatorname{diag}\delta) P_\ell^T,\ -A_\ell\delta\big)_\ell,\qquad
    B^T y = -\textstyle\sum_\ell \big(\mathbf 1^T (A_\ell \odot Y^W_\ell P_\ell) + A_\ell^T y^b_\ell\big),

.. math::

    B^T B = \textstyle\sum_\ell (A_\ell^T A_\ell) \odot (P_\ell^T P_\ell + 1),

all of size ``N_l x K`` or ``K x K``. The normal equations are solved on the eigenvalues of
:math:`B^T B` (a pseudo-inverse: rank-deficient :math:`B` is common, e.g. two free entries in one
row of one sample), then refined twice on the residual (:math:`B^T r` computed from its definition,
not from the Gram matrix), which brings :math:`B^T r` to rounding level. Nothing here decides a
verdict: the witness is re-checked by :func:`.network_check.check_witness` and its direction by
:func:`.network_check.check_direction`.
"""

from __future__ import annotations

import numpy as np

from .network_program import Structure, backward, witness

#: most free entries handled (the K x K Gram matrix and its eigenvalues); above it: None
MAX_FREE = 3000

#: eigenvalues of B^T B below this fraction of the largest are treated as 0 (pseudo-inverse)
EIG_RTOL = 1e-13


def free_entry_columns(st: Structure) -> tuple[list[np.ndarray], list[np.ndarray]]:
    r"""Per layer :math:`A_\ell` (``N_l x K``: how each free entry's :math:`\xi` moves
    :math:`\Xi_\ell` of its sample) and :math:`P_\ell` (``N_{l-1} x K``: the layer's input at the
    entry's sample); free entries in the order of :func:`.network_program.backward` (layer by
    layer, ``np.nonzero`` order within a layer)."""
    p, pt = st.problem, st.point
    L = p.n_layers
    loc = [st.free_idx(l) for l in range(L)]
    counts = [li[0].size for li in loc]
    K = int(sum(counts))
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(int)
    sample = np.concatenate([loc[l][1] for l in range(L)]).astype(int) if K else np.zeros(0, int)
    A = [np.zeros((W.shape[0], K)) for W in pt.W]
    prev = [p.X] + list(pt.V[:-1])
    P = [pv[:, sample] for pv in prev]
    for n in np.unique(sample):
        per = []
        for l in range(L):
            sel = np.flatnonzero(loc[l][1] == n)
            per.append((loc[l][0][sel], starts[l] + sel))
        cols = np.concatenate([k for _, k in per])
        pos = {int(k): j for j, k in enumerate(cols)}
        Xs = None
        for l in reversed(range(L)):
            if Xs is None:
                gs = np.zeros((pt.W[l].shape[0], cols.size))
            else:
                gs = -pt.W[l + 1].T @ Xs
            _, c1 = st.c0c1(l)
            Xs = c1[:, n, None] * gs
            ii, kk = per[l]
            Xs[ii] = 0.0  # the sample's free entries of this layer are held at their own xi
            for i, k in zip(ii, kk, strict=True):
                Xs[i, pos[int(k)]] = 1.0
            A[l][:, cols] = Xs
    return A, P


def _apply(A, P, delta):
    """:math:`B\\delta` per layer: (W rows, b rows)."""
    return [(-(Al * delta) @ Pl.T, -(Al @ delta)) for Al, Pl in zip(A, P, strict=True)]


def _apply_t(A, P, rows) -> np.ndarray:
    """:math:`B^T y` for ``rows`` = per layer (Y^W, y^b)."""
    out = np.zeros(A[0].shape[1])
    for Al, Pl, (YW, yb) in zip(A, P, rows, strict=True):
        out -= np.sum(Al * (YW @ Pl), axis=0) + Al.T @ yb
    return out


def least_squares_witness(
    st: Structure, wit0: dict, blocks0: dict, refine: int = 2
) -> dict | None:
    r"""(P): the witness whose :math:`\xi` at the free entries minimizes :math:`\|R^W, R^b\|_2`
    (zero columns of the point counted with :math:`Z = 0`, then given the projection onto the
    ball, as :func:`.network_candidates.least_squares_solution`), from the backward-pass witness
    ``wit0`` of ``st`` and its residual blocks ``blocks0``. None without free entries or above
    :data:`MAX_FREE` of them."""
    if st.kind != "P":
        raise ValueError("least_squares_witness: (P) only (kind 'P')")
    K = st.n_free
    if K == 0 or K > MAX_FREE:
        return None
    A, P = free_entry_columns(st)
    L = st.problem.n_layers
    # r0: the residual rows at the backward-pass witness, zero columns with Z = 0
    r0 = []
    for l in range(L):
        RW = np.array(blocks0["W"][l], dtype=float, copy=True)
        zc = st.act.zero_cols[l]
        if zc.any():
            RW[:, zc] -= wit0["Z"][l][:, zc]
        r0.append((RW, np.asarray(blocks0["b"][l], dtype=float)))
    if not all(np.all(np.isfinite(a)) for pair in r0 for a in pair):
        return None
    gram = np.zeros((K, K))
    for Al, Pl in zip(A, P, strict=True):
        gram += (Al.T @ Al) * (Pl.T @ Pl + 1.0)
    w, Q = np.linalg.eigh(gram)
    keep = w > EIG_RTOL * max(float(w[-1]), 0.0) if K else np.zeros(0, bool)
    if not keep.any():
        return None
    Qk, wk = Q[:, keep], w[keep]

    def solve(rhs: np.ndarray) -> np.ndarray:
        return Qk @ ((Qk.T @ rhs) / wk)

    delta = solve(-_apply_t(A, P, r0))
    for _ in range(refine):  # iterative refinement on the residual's own normal equations
        r = [(RW + dW, rb + db) for (RW, rb), (dW, db) in zip(r0, _apply(A, P, delta), strict=True)]
        delta = delta + solve(-_apply_t(A, P, r))
    xi0 = np.concatenate([wit0["Xi"][l][st.free_idx(l)] for l in range(L)])
    xi = xi0 + delta
    parts, start = [], 0
    for l in range(L):
        m = st.free_idx(l)[0].size
        parts.append(xi[start : start + m])
        start += m
    Xi, G = backward(st, parts)
    return witness(st, "W", Xi, G, [np.zeros(x.size) for x in parts])
