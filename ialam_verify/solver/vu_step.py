r"""The closed-form (v, u) step of the alternating minimization (talk, eq. (6)).

With the proximal term :math:`\mathcal P` of the talk (the matrix :math:`S_\ell = \tau_\ell I - \rho
M_\ell^T M_\ell`, :math:`M_\ell = [-W_\ell\ \ I]`), the coupling :math:`\frac\rho2\|U_\ell - W_\ell
V_{\ell-1} - b_\ell 1^T\|^2` of layers :math:`\ell \ge 2` is replaced by its linearization plus
:math:`\frac{\tau_\ell}2\|\cdot\|^2`, and the step separates into one problem per entry:

.. math::

    \min_{v, u}\ \tfrac a2 v^2 - p v + \tfrac c2 u^2 - q u - \beta\sigma(u)
    \quad\text{s.t.}\quad v \ge u,\ v \ge \alpha u,

with :math:`a, c > 0`, :math:`\beta \ge 0`, :math:`0 \le \alpha < 1`. Since :math:`\sigma(u) = u` on
:math:`u \ge 0` and :math:`\alpha u` on :math:`u \le 0`, it is the better of two strictly convex QPs over
polyhedral cones (``docs/algorithm.md`` derives both):

- branch :math:`u \ge 0`: :math:`\min \frac a2 v^2 - pv + \frac c2 u^2 - (q+\beta)u` on
  :math:`\{u \ge 0,\ v \ge u\}`;
- branch :math:`u \le 0`: :math:`\min \frac a2 v^2 - pv + \frac c2 u^2 - (q+\alpha\beta)u` on
  :math:`\{u \le 0,\ v \ge \alpha u\}`.

Each cone is bounded by two rays; the minimizer of a strictly convex function over the cone is the
unconstrained minimizer when that lies in the cone, and otherwise the best of the clipped one-dimensional
minimizers on the two rays. Everything is vectorized over all entries, block by block (see :data:`BLOCK`).
"""

from __future__ import annotations

import math
import threading

import numpy as np

#: Entries per block of the vectorized closed form. Its scratch arrays (about 2 MB in all) are
#: allocated once per thread and reused, where whole-layer temporaries cost a fresh allocation each:
#: measured 6.4 ms for the closed form on a 100 x 1000 layer against 0.03 ms for one addition, mostly
#: page faults of the temporaries and ``np.where`` on masks without a pattern.
BLOCK = 16384

_scratch = threading.local()


def _scratch_arrays() -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per-thread scratch of the block kernel: float, int64 (bit patterns) and bool arrays."""
    arrays = getattr(_scratch, "arrays", None)
    if arrays is None or arrays[0][0].shape[0] < BLOCK:  # (BLOCK may be lowered in tests)
        # F[12] holds zeros and is only read; F[13] is the u <= 0 branch's e
        floats = [np.empty(BLOCK) for _ in range(12)] + [np.zeros(BLOCK), np.empty(BLOCK)]
        ints = [np.empty(BLOCK, dtype=np.int64) for _ in range(3)]
        bools = [np.empty(BLOCK, dtype=bool) for _ in range(2)]
        arrays = _scratch.arrays = (floats, ints, bools)
    return arrays


def _bits(x: np.ndarray) -> np.ndarray:
    return x.view(np.int64)


def _select_into(mask_bits: np.ndarray, x: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> None:
    """``out = where(mask, x, out)`` bit for bit, with ``mask_bits`` 0 (keep) or -1 (take ``x``).

    ``out ^= (x ^ out) & mask`` on the bit patterns: three integer operations, about 20 times faster
    than ``np.where`` on a mask without a pattern (branch mispredictions).
    """
    ob = _bits(out)
    np.bitwise_xor(_bits(x), ob, out=tmp)
    tmp &= mask_bits
    ob ^= tmp


def _quad(a, p, c, q, v, u):
    return 0.5 * a * v * v - p * v + 0.5 * c * u * u - q * u


def _branch_block(a, p, c, qb, v0, ray_v, ray_e, e_v0, slope, sign, v, u, e, F, I, B) -> None:
    r"""One branch on a block: minimize :math:`\frac a2 v^2 - pv + \frac c2 u^2 - q_b u` over the cone
    :math:`\{\mathrm{sign}\cdot u \ge 0,\ v \ge \mathrm{slope}\cdot u\}`; the minimizer into ``v, u``.

    The minimum value is written into ``e`` as :math:`-e/2`, :math:`e = a v^2 + c u^2`: every candidate
    minimizes the quadratic over a linear subspace (the whole plane, or a ray's line with the optimum
    clipped to 0), where Euler's identity gives the value :math:`-\frac12(a v^2 + c u^2)`, so
    comparing values is comparing ``e``. ``sign = +1, slope = 1`` is the branch u >= 0,
    ``sign = -1, slope = alpha`` the branch u <= 0.

    What both branches share is passed in: :math:`v_0 = p/a` (unconstrained), the ray ``u = 0``
    (``ray_v`` :math:`= \max(v_0, 0)`, ``ray_e`` :math:`= a\,\mathrm{ray\_v}^2`) and ``e_v0``
    :math:`= a v_0^2`. With :math:`u_0 = q_b/c`, :math:`k = a\,\mathrm{slope}^2 + c` and
    :math:`t = (\mathrm{slope}\,p + q_b)/k` clipped to the cone's side (the ray ``v = slope u``),
    :math:`e_2 = k t^2`, the result is

    - ``v = where(inside, v0, where(e2 > ray_e, slope t, ray_v))``,
    - ``u = where(inside, u0, where(e2 > ray_e, t, 0))``,
    - ``e = where(inside, a v0^2 + c u0^2, max(ray_e, e2))``,

    ``inside`` meaning :math:`(v_0, u_0)` lies in the cone. These are the plain formulas operation for
    operation (multiplications by 1.0, exact, skipped), so results and ties are theirs bit for bit;
    only the temporaries are reused (``F, I, B``: float, int64, bool scratch).
    """
    n = p.shape[0]
    u0 = np.divide(qb, c, out=F[6][:n])
    if sign > 0:
        inside = np.greater_equal(v0, u0, out=B[0][:n])
        np.logical_and(inside, np.greater_equal(u0, 0.0, out=B[1][:n]), out=inside)
        k = a + c
        t = np.add(p, qb, out=F[8][:n])
    else:  # -u >= 0 is u <= 0
        inside = np.greater_equal(v0, np.multiply(slope, u0, out=F[7][:n]), out=B[0][:n])
        np.logical_and(inside, np.less_equal(u0, 0.0, out=B[1][:n]), out=inside)
        k = a * slope * slope + c
        t = np.multiply(slope, p, out=F[8][:n])
        t += qb
    t /= k
    zero = F[12][:n]  # maximum(t, 0.0) with an array 0 is the same, and twice as fast
    if sign > 0:
        np.maximum(t, zero, out=t)
        v_ray = t
    else:
        np.minimum(t, zero, out=t)
        v_ray = np.multiply(slope, t, out=F[7][:n])
    e2 = np.multiply(k, t, out=e)
    e2 *= t
    use2 = np.negative(np.greater(e2, ray_e, out=B[1][:n]), dtype=np.int64, out=I[0][:n])
    np.copyto(v, ray_v)
    _select_into(use2, v_ray, v, I[1][:n])
    np.bitwise_and(_bits(t), use2, out=_bits(u))  # where(e2 > ray_e, t, +0.0)
    np.maximum(ray_e, e2, out=e)
    e_in = np.multiply(c, u0, out=F[9][:n])
    e_in *= u0
    np.add(e_v0, e_in, out=e_in)
    inside_bits = np.negative(inside, dtype=np.int64, out=I[2][:n])
    _select_into(inside_bits, v0, v, I[1][:n])
    _select_into(inside_bits, u0, u, I[1][:n])
    _select_into(inside_bits, e_in, e, I[1][:n])


def _solve_vu_block(a, p, c, q, beta, alpha: float, v: np.ndarray, u: np.ndarray) -> None:
    """:func:`solve_vu` on one block: ``p, q, v, u`` 1-d of equal length, ``a, c, beta`` scalars or such
    blocks; the minimizer is written into ``v, u``."""
    F, I, B = _scratch_arrays()
    n = p.shape[0]
    v0 = np.divide(p, a, out=F[0][:n])
    ray_v = np.maximum(v0, F[12][:n], out=F[1][:n])
    ray_e = np.multiply(a, ray_v, out=F[2][:n])
    ray_e *= ray_v
    e_v0 = np.multiply(a, v0, out=F[3][:n])
    e_v0 *= v0
    ep = F[4][:n]
    qb = np.add(q, beta, out=F[5][:n])
    _branch_block(a, p, c, qb, v0, ray_v, ray_e, e_v0, 1.0, 1.0, v, u, ep, F, I, B)
    vn, un, en = F[10][:n], F[11][:n], F[13][:n]
    ab = np.multiply(alpha, beta, out=F[9][:n]) if np.ndim(beta) else alpha * beta
    qn = np.add(q, ab, out=F[5][:n])  # over qb, no longer needed
    _branch_block(a, p, c, qn, v0, ray_v, ray_e, e_v0, alpha, -1.0, vn, un, en, F, I, B)
    # the branch minima are -ep/2 and -en/2: the larger e wins, ties go to u >= 0
    take_neg = np.negative(np.greater(en, ep, out=B[0][:n]), dtype=np.int64, out=I[0][:n])
    _select_into(take_neg, vn, v, I[1][:n])
    _select_into(take_neg, un, u, I[1][:n])


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
        A global minimizer (new arrays of the broadcast shape). When both branches attain the same
        value (a tie, e.g. a minimizer with ``u = 0``), the branch ``u >= 0`` is returned.
    """
    shape = np.broadcast_shapes(np.shape(a), np.shape(p), np.shape(c), np.shape(q), np.shape(beta))
    m = math.prod(shape)
    # scalars stay scalars (the common case: per-layer a, c, beta); arrays become flat blocks
    a, p, c, q, beta = (
        float(x)
        if np.ndim(x) == 0
        else np.ravel(np.broadcast_to(np.asarray(x, dtype=float), shape))
        for x in (a, p, c, q, beta)
    )
    v = np.empty(m)
    u = np.empty(m)
    for k0 in range(0, m, BLOCK):
        blk = slice(k0, min(k0 + BLOCK, m))
        n = blk.stop - k0
        p_ = p[blk] if np.ndim(p) else np.full(n, p)
        a_, c_, q_, beta_ = (x[blk] if np.ndim(x) else x for x in (a, c, q, beta))
        _solve_vu_block(a_, p_, c_, q_, beta_, float(alpha), v[blk], u[blk])
    return v.reshape(shape), u.reshape(shape)


def vu_objective(a, p, c, q, beta, alpha, v, u) -> np.ndarray:
    r"""The entrywise objective :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u)` (no constraint)."""
    sig = np.where(u >= 0, u, alpha * u)
    return _quad(a, p, c, q, v, u) - beta * sig
