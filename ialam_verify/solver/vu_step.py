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
minimizers on the two rays. The kernel (:func:`_solve_vu_block`) gets each branch's minimizer from
min/max formulas (the branch is a convex one-dimensional problem once v is eliminated) and decides
between the branches with the enumeration's values, computed as the enumeration computes them.
Everything is vectorized over all entries, block by block (see :data:`BLOCK`).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from . import compiled

#: Entries per block of the vectorized closed form. Its scratch arrays (about 3.5 MB in all) are
#: allocated once per thread and reused, where whole-layer temporaries cost a fresh allocation each:
#: measured 6.4 ms for the closed form on a 100 x 1000 layer against 0.03 ms for one addition, mostly
#: page faults of the temporaries and ``np.where`` on masks without a pattern. Larger blocks mean fewer
#: Python-level calls: on the 784-100-50-10, N = 1000 layers 2048 / 8192 / 16384 / 32768 entries took
#: 5.9 / 2.9 / 2.5 / 2.3 ms (``benchmarks/bench_inner.py``'s machine, one BLAS thread).
BLOCK = 32768

_scratch = threading.local()


def _scratch_arrays() -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Per-thread scratch of the block kernel: float, int64 (bit patterns) and bool arrays."""
    arrays = getattr(_scratch, "arrays", None)
    if arrays is None or arrays[0][0].shape[0] < BLOCK:  # (BLOCK may be lowered in tests)
        # F[11] holds zeros and is only read
        floats = [np.empty(BLOCK) for _ in range(11)] + [np.zeros(BLOCK)]
        ints = [np.empty(BLOCK, dtype=np.int64) for _ in range(2)]
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


def _solve_vu_block(a, p, c, q, beta, alpha: float, v: np.ndarray, u: np.ndarray) -> None:
    r""":func:`solve_vu` on one block: ``p, q, v, u`` 1-d of equal length, ``a, c, beta`` scalars or such
    blocks; the minimizer is written into ``v, u``.

    Per branch (``+``: :math:`u \ge 0`, slope 1, :math:`q_+ = q + \beta`; ``-``: :math:`u \le 0`, slope
    :math:`\alpha`, :math:`q_- = q + \alpha\beta`), with :math:`v_0 = p/a`, :math:`u_0 = q_\pm/c`,
    :math:`k = a\,\mathrm{slope}^2 + c` and :math:`t = (\mathrm{slope}\cdot p + q_\pm)/k`:

    - **the minimizer.** For fixed u the best feasible v is :math:`\max(v_0, \mathrm{slope}\cdot u)`.
      What is left is a convex piecewise quadratic in u with one breakpoint :math:`B` (where
      :math:`\mathrm{slope}\cdot B = v_0`) and a continuous derivative there: unconstrained (minimizer
      :math:`u_0`) on the side of B containing the cone's interior points, on the ray
      :math:`v = \mathrm{slope}\cdot u` (minimizer t, a weighted mean of B and :math:`u_0`) beyond it. So
      the minimizer over the line is :math:`\min(u_0, t)`, over the half-line
      :math:`u_+ = \max(0, \min(u_0, t))` and :math:`u_- = \min(0, u_0, t)`; then
      :math:`v = \max(v_0, \sigma(u)) = \max(v_0, u, \alpha u)` (feasible by construction).
    - **its value** :math:`-e/2`, computed as the enumeration of candidates does (Euler's identity:
      each candidate minimizes the quadratic over a linear subspace, where the value is
      :math:`-\frac12(a v^2 + c u^2)`): :math:`e = a v_0^2 + c u_0^2` when :math:`(v_0, u_0)` lies in the
      cone, else :math:`\max(a \max(v_0, 0)^2,\ k t_c^2)`, :math:`t_c` = t clipped to the branch's side.

    The larger e wins, ties go to u >= 0. The e are the enumeration's numbers operation for operation
    (``tests/solver/_speed_reference.py``), so the branch decision is its decision bit for bit. v and u
    are the enumeration's candidate except where rounding orders :math:`u_0` and t (or :math:`v_0` and
    the ray's v) the other way than exact arithmetic (then both are the same point up to that rounding),
    where the enumeration's own comparison of two rays is decided by rounding (possible only when a and
    c differ by about 1/eps: then both points attain the minimum up to rounding of the value), and in
    the sign of a zero. Three selections (the enumeration needs ten: each costs about three additions).
    """
    F, I, B = _scratch_arrays()
    n = p.shape[0]
    zero = F[11][:n]  # maximum(t, zero) with an array of zeros: same values, twice as fast as 0.0
    v0 = np.divide(p, a, out=F[0][:n])
    ray_v = np.maximum(v0, zero, out=F[1][:n])  # the ray u = 0: v = max(v0, 0), e = a v^2
    ray_e = np.multiply(a, ray_v, out=F[2][:n])
    ray_e *= ray_v
    e_v0 = np.multiply(a, v0, out=F[1][:n])
    e_v0 *= v0
    # ---- branch u >= 0 (slope 1): u_+ into u, e_+ into ep
    qb = np.add(q, beta, out=F[3][:n])
    u0 = np.divide(qb, c, out=F[4][:n])
    k = a + c
    t = np.add(p, qb, out=F[5][:n])
    t /= k
    np.maximum(t, zero, out=t)
    ep = np.multiply(k, t, out=F[6][:n])
    ep *= t
    np.maximum(ray_e, ep, out=ep)
    np.minimum(u0, t, out=u)
    np.maximum(u, zero, out=u)
    inside = np.greater_equal(v0, u0, out=B[0][:n])
    np.logical_and(inside, np.greater_equal(u0, zero, out=B[1][:n]), out=inside)
    e_in = np.multiply(c, u0, out=F[7][:n])
    e_in *= u0
    e_in += e_v0
    _select_into(np.negative(inside, dtype=np.int64, out=I[0][:n]), e_in, ep, I[1][:n])
    # ---- branch u <= 0 (slope alpha): u_- into un, e_- into en
    ab = np.multiply(alpha, beta, out=F[3][:n]) if np.ndim(beta) else alpha * beta
    qn = np.add(q, ab, out=F[3][:n])
    u0 = np.divide(qn, c, out=F[4][:n])
    k = a * alpha * alpha + c
    t = np.multiply(alpha, p, out=F[5][:n])
    t += qn
    t /= k
    np.minimum(t, zero, out=t)
    en = np.multiply(k, t, out=F[8][:n])
    en *= t
    np.maximum(ray_e, en, out=en)
    un = np.minimum(u0, t, out=F[9][:n])
    inside = np.greater_equal(v0, np.multiply(alpha, u0, out=F[10][:n]), out=B[0][:n])
    np.logical_and(inside, np.less_equal(u0, zero, out=B[1][:n]), out=inside)
    e_in = np.multiply(c, u0, out=F[7][:n])
    e_in *= u0
    e_in += e_v0
    _select_into(np.negative(inside, dtype=np.int64, out=I[0][:n]), e_in, en, I[1][:n])
    # ---- the better branch (the larger e, ties to u >= 0), then v = max(v0, u, alpha u)
    take_neg = np.negative(np.greater(en, ep, out=B[0][:n]), dtype=np.int64, out=I[0][:n])
    _select_into(take_neg, un, u, I[1][:n])
    np.maximum(v0, u, out=v)
    np.maximum(v, np.multiply(u, alpha, out=F[10][:n]), out=v)


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
    if (
        type(p) is np.ndarray
        and type(q) is np.ndarray
        and p.dtype == np.float64
        and q.dtype == np.float64
        and p.shape == q.shape
        and isinstance(a, _REAL)
        and isinstance(c, _REAL)
        and isinstance(beta, _REAL)
    ):  # the solver's call (per-layer scalars, coefficient arrays): no broadcasting needed
        return _solve_vu_flat(float(a), p, float(c), q, float(beta), float(alpha))
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


_REAL = (float, int, np.floating, np.integer)


def _solve_vu_flat(
    a: float, p: np.ndarray, c: float, q: np.ndarray, beta: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`solve_vu` for scalar ``a, c, beta`` and float arrays ``p, q`` of one shape (same blocks);
    the compiled twin of the block kernel (:mod:`.compiled`) when numba is there."""
    if compiled.ENABLED:
        return compiled.solve_vu_compiled(a, p, c, q, beta, alpha)
    shape = p.shape
    p = p.reshape(-1)
    q = q.reshape(-1)
    m = p.shape[0]
    v = np.empty(m)
    u = np.empty(m)
    if m <= BLOCK:
        _solve_vu_block(a, p, c, q, beta, alpha, v, u)
    else:
        for k0 in range(0, m, BLOCK):
            k1 = k0 + BLOCK
            _solve_vu_block(a, p[k0:k1], c, q[k0:k1], beta, alpha, v[k0:k1], u[k0:k1])
    return v.reshape(shape), u.reshape(shape)


def vu_objective(a, p, c, q, beta, alpha, v, u) -> np.ndarray:
    r"""The entrywise objective :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u)` (no constraint)."""
    sig = np.where(u >= 0, u, alpha * u)
    return _quad(a, p, c, q, v, u) - beta * sig
