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
    a: np.ndarray, p: np.ndarray, c: np.ndarray, q: np.ndarray, slope: float, sign: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Minimize :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu` over the cone
    :math:`\{\mathrm{sign}\cdot u \ge 0,\ v \ge \mathrm{slope}\cdot u\}`.

    Returns ``(v, u, value)``. ``sign = +1, slope = 1`` is the branch u >= 0, ``sign = -1, slope = alpha``
    the branch u <= 0.
    """
    # interior candidate: the unconstrained minimizer
    v0 = p / a
    u0 = q / c
    inside = (sign * u0 >= 0.0) & (v0 >= slope * u0)
    # ray 1: u = 0, v >= 0
    v1 = np.maximum(p / a, 0.0)
    u1 = np.zeros_like(v1)
    f1 = _quad(a, p, c, q, v1, u1)
    # ray 2: v = slope * t, u = t, sign * t >= 0; 1-D minimizer of (a slope^2 + c)/2 t^2 - (slope p + q) t
    t = (slope * p + q) / (a * slope * slope + c)
    t = np.maximum(sign * t, 0.0) * sign
    v2 = slope * t
    f2 = _quad(a, p, c, q, v2, t)
    use2 = f2 < f1
    vb = np.where(use2, v2, v1)
    ub = np.where(use2, t, u1)
    fb = np.where(use2, f2, f1)
    v = np.where(inside, v0, vb)
    u = np.where(inside, u0, ub)
    f = np.where(inside, _quad(a, p, c, q, v0, u0), fb)
    return v, u, f


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
        Curvatures in v and u (broadcast together with the others).
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
    a, p, c, q, beta = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (a, p, c, q, beta))
    )
    vp, up, fp = _branch(a, p, c, q + beta, 1.0, 1.0)
    vn, un, fn = _branch(a, p, c, q + alpha * beta, alpha, -1.0)
    take_neg = fn < fp
    return np.where(take_neg, vn, vp), np.where(take_neg, un, up)


def vu_objective(a, p, c, q, beta, alpha, v, u) -> np.ndarray:
    r"""The entrywise objective :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u)` (no constraint)."""
    sig = np.where(u >= 0, u, alpha * u)
    return _quad(a, p, c, q, v, u) - beta * sig
