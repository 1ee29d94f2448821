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
minimizers on the two rays. Everything is vectorized over all entries.
"""

from __future__ import annotations

import numpy as np


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


def vu_objective(a, p, c, q, beta, alpha, v, u) -> np.ndarray:
    r"""The entrywise objective :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u)` (no constraint)."""
    sig = np.where(u >= 0, u, alpha * u)
    return _quad(a, p, c, q, v, u) - beta * sig
