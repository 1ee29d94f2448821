r"""Proofs of failure for the structured certifier: directions ``d`` with :math:`J_h d = 0` in a
notion's cone whose bound :math:`-D/\|d\|_1` exceeds ``tol`` (checked by
:func:`.network_check.check_direction`). Moved out of :mod:`.network` unchanged.
"""

from __future__ import annotations

import numpy as np

from .network_check import (
    Activity,
    PointData,
    check_direction,
    propagate_direction,
    residual_summary,
)
from .network_program import Structure, backward

#: relative slack on a proved bound: rounding in the forward pass of ``d``
BOUND_SLACK = 1e-9


def fails_by_direction(
    st: Structure,
    notion: str,
    wit: dict,
    tol: float,
    slopes=None,
    extra: list | None = None,
    blocks: dict | None = None,
    robust: Activity | None = None,
    data: PointData | None = None,
    G: list[np.ndarray] | None = None,
):
    """The best proved lower bound among a few directions: minus the :math:`R^W, R^b` residual of
    the best witness pushed through the network, and a unit push of ``v`` at the entries whose sign
    condition is most violated. ``data``: the point's :class:`.network_check.PointData`; ``G``: the
    :math:`G` of the backward pass of ``st`` if already computed."""
    p, pt = st.problem, st.point
    data = PointData.of(p, pt, data)
    if blocks is None:
        blocks = residual_summary(p, pt, st.kind, wit, data)
    best = (0.0, None)

    def attempt(dW, db, seed):
        nonlocal best
        prop = propagate_direction(p, pt, st.kind, notion, st.act, dW, db, seed, robust, data)
        if prop is None:
            return
        d = {"W": dW, "b": db, "U": prop[0], "V": prop[1]}
        chk = check_direction(p, pt, st.kind, notion, d, st.act.a, slopes, data)
        if chk["valid"] and chk["bound"] > best[0]:
            best = (chk["bound"], d)

    def done() -> bool:
        return best[0] > tol * (1 + BOUND_SLACK)

    attempt([-R for R in blocks["W"]], [-r for r in blocks["b"]], None)
    for w in extra or []:
        if done():
            return best
        RW, Rb = pushed_rows(w, wit, blocks, data)
        attempt([-R for R in RW], [-r for r in Rb], None)
    if done():
        return best
    zW = [np.zeros_like(W) for W in pt.W]
    zb = [np.zeros_like(b) for b in pt.b]
    if G is None:
        G = backward(st)[1]
    seeds = []
    for l, g in enumerate(G):
        if st.kind == "PP":
            v1 = np.where(st.cond[l] == 1, np.maximum(-g, 0.0), 0.0)
            v2 = np.where(st.cond[l] == 2, np.abs(g), 0.0)
            v = np.maximum(v1, v2)
        elif notion == "S":
            v = np.where(st.act.G[l] & st.act.H[l], np.maximum(-g, 0.0), 0.0)
        else:
            continue
        for flat in np.argsort(v, axis=None)[::-1][:5]:
            i, n = np.unravel_index(flat, v.shape)
            if v[i, n] > 0:
                sign = -np.sign(g[i, n]) if st.cond[l][i, n] == 2 else 1.0
                seeds.append((v[i, n], (l, int(i), int(n), float(sign))))
    seeds.sort(key=lambda x: -x[0])
    for _, seed in seeds[:5]:
        attempt(zW, zb, seed)
        if done():
            break
    return best


def pushed_rows(wit: dict, base: dict, base_blocks: dict, data: PointData):
    r""":math:`R^W, R^b` of ``wit`` from those of ``base`` (``base_blocks``): :math:`R^W_\ell = Z_\ell -
    \Xi_\ell V_{\ell-1}^T` changes only through the samples where the two :math:`\Xi_\ell` differ
    (a backward pass with other values at a few free entries changes only their samples), so the
    product is taken over those samples only. Used to build a proof's direction, which
    :func:`.network_check.check_direction` then re-checks in full; never to accept a witness."""
    RW, Rb = [], []
    for l, (Xi, Xb) in enumerate(zip(wit["Xi"], base["Xi"], strict=True)):
        cols = np.flatnonzero(np.any(Xi != Xb, axis=0))
        R = base_blocks["W"][l] + (wit["Z"][l] - base["Z"][l])
        if cols.size:
            R -= (Xi[:, cols] - Xb[:, cols]) @ data.prev[l][:, cols].T
        RW.append(R)
        Rb.append(-Xi.sum(axis=1))
    return RW, Rb
