r"""Refinement on the identified piece: active-set Newton on the kink manifold.

``refine(problem, W, b)`` takes a network (IALAM's output or any warm start) and drives it to a point
where KKT of (PP) can be certified, keeping exact zero columns exactly zero.

**Objective.** The network objective at the feasible lift (the (PP) objective there, the penalty
being 0): :math:`F(\theta) = \tfrac1N\|V_L - Y\|^2 + \lambda_v\sum_\ell\|V_\ell\|^2 + \lambda_w\sum_{\ell,j}
\|(W_\ell)_{:,j}\|`, :math:`V_\ell = \sigma(W_\ell V_{\ell-1} + b_\ell 1^T)`, :math:`\theta = (W, b)`.

**State** (the identified piece): a sign pattern :math:`P \in \{+1, -1, 0\}` for every pre-activation
:math:`u`; the kink set :math:`\mathcal A = \{P = 0\}` (entries held at :math:`u = 0`); the zero columns
:math:`\mathcal Z` (held at exactly 0: they are not variables, so they stay ``== 0.0``). On the piece,
:math:`\sigma` has slope :math:`s = 1` where :math:`P = +1` and :math:`\alpha` where :math:`P = -1`;
:math:`F` equals the smooth function :math:`F_s` of :mod:`.refine_piece` on the manifold
:math:`\mathcal M = \{\theta: u_{\mathcal A}(\theta) = 0,\ \theta_{\mathcal Z} = 0\}`.

**Newton step on the manifold.** With :math:`C = \partial u_{\mathcal A}/\partial\theta` (free columns),
least-squares kink multipliers :math:`t = -(CC^T)^{-1}C\nabla F_s`, reduced gradient
:math:`r = \nabla F_s + C^T t = P\nabla F_s`, :math:`P = I - C^T(CC^T)^{-1}C` (a pseudo-inverse when
:math:`C` loses rank). :math:`H` is the Hessian of the Lagrangian :math:`F_s + t^T u_{\mathcal A}`.
Up to ``dense_max`` free parameters the step is saddle-free Newton in the null space,
:math:`h = -Z Q (|\Lambda|_{\ge 10^{-8}\max|\Lambda|} + \delta\max|\Lambda|)^{-1} Q^T Z^T r` with
:math:`Z` an orthonormal basis of :math:`\ker C` and :math:`Z^T H Z = Q\Lambda Q^T` (:math:`H`
assembled from the layers' Jacobians, :func:`.refine_piece.hessian_matrix`); the Levenberg term
:math:`\delta` grows x10 after a short step that
no crossing explains (flat directions such as the rescaling :math:`W_\ell \to cW_\ell`,
:math:`W_{\ell+1} \to W_{\ell+1}/c`) and shrinks after a full step. Above ``dense_max``: conjugate
gradients on :math:`PHPh = -r` with Hessian-vector products only (cost per product: about two forward
and backward passes), stopped at negative curvature (:math:`h = -r` if the first direction has
some). The trial point :math:`\theta + a h` is projected back onto :math:`\mathcal M` by Gauss-Newton
(:math:`\theta \leftarrow \theta - C^T(CC^T)^{-1}u_{\mathcal A}`, free entries only) and accepted on the
true objective: :math:`F(\theta^+) \le F(\theta) + 10^{-4} a\, r^T h`, halving :math:`a` otherwise, so
:math:`F` never increases. A point counts as manifold-stationary when :math:`\|r\|_\infty \le`
``grad_tol``, or at the rounding floor (within 10 ``grad_tol`` and not halved over 4 steps); the run
stops ("stalled") after 25 steps that neither decrease :math:`F` nor change the piece.

**Crossings (a new piece).** A sign change of a pre-activation off :math:`\mathcal A` means the step
leaves the piece. Along the linearization :math:`u + a\dot u` the first entry to reach 0 fixes
:math:`a_\times = -u_i/\dot u_i`; the step is cut there and the entry joins :math:`\mathcal A` (it is then
held at 0 by the projection). A trial point whose other entries changed sign (curvature) is rejected
and :math:`a` halved (``crossing="cut"``, the default). With ``crossing="follow"`` the step also tries :math:`a = 1, 1/2, \dots` while
:math:`a > a_\times` (and below the first column event) with the pattern set to the signs of :math:`u`
at the trial point (kinks kept and projected), passing the same descent test on the true
:math:`F`, which is continuous across pieces; the first that passes competes with the cut step and
the lower :math:`F` is taken. (On MNIST N = 1000 the cut alone made one kink per step:
``docs/benchmarks.md`` section 2.) Likewise a nonzero column whose radial component :math:`w^T(w + a h_w)` would reach
0 is cut at that :math:`a` and set to exactly 0 (joins :math:`\mathcal Z`) if the objective agrees.

**Release rules** (at a manifold-stationary point, :math:`\|r\|_\infty \le` ``grad_tol``). For a kink
:math:`i`, with :math:`d_i = \partial L/\partial v_i` from the backward pass, moving :math:`u_i` to the
positive side changes :math:`F` at rate :math:`d_i - t_i`, to the negative side at rate
:math:`t_i - \alpha d_i`.

- rule ``"B"``: release :math:`i` when :math:`t_i \notin [\alpha d_i, d_i]` (some one-sided move
  descends), to the side of the larger rate; at the end every kink has :math:`\alpha d \le t \le d`,
  a Fréchet-stationary kink, which implies the (PP) KKT condition there when :math:`g = \beta + d \ge 0`.
- rule ``"PP"`` (default): release only what KKT of (PP) rejects,
  :math:`t_i \notin [\alpha d - (1-\alpha)\beta, d] \cup [\alpha d, d + (1-\alpha)\beta]` (the U- and
  V-equations of (PP) at a kink with :math:`\xi = -t`, :math:`\mu^1, \mu^2 \ge 0`, slope in
  :math:`\{\alpha, 1\}`). Measured: from a short warm start rule "B" keeps training through many
  pieces (tens of seconds on L2, N = 100, where "PP" needs 2-5 s).
- zero column :math:`j` of layer :math:`\ell`: released when the ball test
  :math:`\|q_j\| \le \lambda_w`, :math:`q_j = (G_\ell V_{\ell-1}^T)_{:,j}`, fails; its first step is the
  projection of :math:`-(1 - \lambda_w/\|q_j\|) q_j` (the minimal-norm subgradient).

A released kink takes the slope of its side; the first step after a release is the projected
gradient :math:`-r` (for a single release it moves :math:`u_i` to the released side to first order).
When a multi-release step cannot place every released entry on its side (some return to
:math:`\mathcal A` at once, or no decrease), the release is undone and the largest violator alone is
released; a single release that cannot be placed is blocked until the next accepted step. Releases
are capped (``max_releases``, the churn cap).

**End.** Multipliers of (PP) from the backward pass (:mod:`.refine_multipliers`), the verdict of KKT
of (PP) (:func:`.refine_multipliers.kkt_verdict`), ``success`` iff it holds. KKT of (PP) also needs
:math:`\beta_\ell + D_\ell \ge 0` at every entry (:math:`D = \partial L/\partial V`): no step of
refine changes that; when it fails the result says which :math:`\beta` would be exact
(``multipliers["beta_needed"]``).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.linalg as sla

from ..model.network import check_network, forward
from ..model.problem import Problem
from ..stationarity import Tolerances
from .refine_multipliers import kkt_verdict, pp_multipliers, pp_residual
from .refine_piece import (
    ParamLayout,
    group_lasso_grad,
    hessian_matrix,
    hessian_vector,
    kink_jacobian,
    piece_backward,
    piece_forward,
    tangent,
)
from .refine_settings import STATUS_MESSAGES, RefineResult, RefineSettings, _check_tolerances

_ARMIJO = 1e-4

__all__ = ["STATUS_MESSAGES", "RefineResult", "RefineSettings", "refine"]


class _Gram:
    """Solves with :math:`CC^T` (Cholesky; eigenvalue pseudo-inverse when rank-deficient)."""

    def __init__(self, C: np.ndarray) -> None:
        self.C = C
        self.deficient = False
        if C.shape[0] == 0:
            return
        K = C @ C.T
        try:
            self.fac = sla.cho_factor(K, check_finite=False)
            self.pinv = None
        except np.linalg.LinAlgError:
            self.deficient = True
            lam, Q = np.linalg.eigh(K)
            keep = lam > 1e-12 * max(lam.max(), 1e-300)
            self.pinv = (Q[:, keep] / lam[keep]) @ Q[:, keep].T

    def solve(self, y: np.ndarray) -> np.ndarray:
        if self.C.shape[0] == 0:
            return np.zeros(0)
        if self.pinv is not None:
            return self.pinv @ y
        return sla.cho_solve(self.fac, y, check_finite=False)

    def project(self, x: np.ndarray) -> np.ndarray:
        if self.C.shape[0] == 0:
            return x
        return x - self.C.T @ self.solve(self.C @ x)


class _Refiner:
    def __init__(self, problem: Problem, settings: RefineSettings) -> None:
        self.p = problem
        self.s = settings
        self.lay = ParamLayout.of(problem.sizes)
        self.damping = 0.0  # Levenberg term, relative to the largest curvature (dense steps)

    # -------------------------------------------------------------------------------- pieces
    def slopes(self, pattern: list[np.ndarray]) -> list[np.ndarray]:
        a = self.p.alpha
        return [np.where(P > 0, 1.0, np.where(P < 0, a, 0.0)) for P in pattern]

    def objective(self, theta: np.ndarray) -> float:
        W, b = self.lay.unpack(theta)
        return self.p.objective_bar(self.p.lift(W, b))

    def kink_scale(self, U: list[np.ndarray]) -> float:
        return self.s.kink_tol * max(1.0, max(float(np.max(np.abs(Ul))) for Ul in U))

    def evaluate(self, theta, pattern, zero_cols, opened=()) -> dict[str, Any]:
        """Everything a step needs at ``theta``: forward pass, kink Jacobian, multipliers, reduced gradient."""
        lay, p = self.lay, self.p
        W, b = lay.unpack(theta)
        S = self.slopes(pattern)
        U, V = piece_forward(W, b, p.X, S)
        kinks = [np.nonzero(P == 0) for P in pattern]
        free = lay.free_mask(zero_cols)
        C = kink_jacobian(lay, W, V, p.X, S, kinks)[:, free]
        g, _, _ = piece_backward(p, lay, W, V, S)
        g = g + group_lasso_grad(lay, W, p.lambda_w, zero_cols)
        for l, j in opened:  # a column leaving zero: the minimal-norm element of its subdifferential
            idx = lay.column(l, j)
            q = g[idx]
            nq = np.linalg.norm(q)
            g[idx] = q * max(0.0, 1.0 - p.lambda_w / nq) if nq > 0 else 0.0
        gf = g[free]
        gram = _Gram(C)
        t = -gram.solve(C @ gf) if C.shape[0] else np.zeros(0)
        r = gf + C.T @ t if C.shape[0] else gf.copy()
        T = [np.zeros_like(Ul) for Ul in U]
        i = 0
        for l, (ks, ns) in enumerate(kinks):
            T[l][ks, ns] = t[i : i + ks.size]
            i += ks.size
        _, G, D = piece_backward(p, lay, W, V, S, T)
        return dict(W=W, b=b, S=S, U=U, V=V, kinks=kinks, free=free, C=C, gram=gram, t=t, r=r, G=G, D=D)

    def project(self, theta, pattern, zero_cols) -> tuple[np.ndarray, bool]:
        """Gauss-Newton back onto ``u_A = 0`` (free parameters only)."""
        lay, p = self.lay, self.p
        free = lay.free_mask(zero_cols)
        kinks = [np.nonzero(P == 0) for P in pattern]
        if sum(k[0].size for k in kinks) == 0:
            return theta, True
        S = self.slopes(pattern)
        for _ in range(12):
            W, b = lay.unpack(theta)
            U, V = piece_forward(W, b, p.X, S)
            uA = np.concatenate([U[l][ks, ns] for l, (ks, ns) in enumerate(kinks)])
            if np.max(np.abs(uA)) <= self.kink_scale(U):
                return theta, True
            C = kink_jacobian(lay, W, V, p.X, S, kinks)[:, free]
            theta = theta.copy()
            theta[free] -= C.T @ _Gram(C).solve(uA)
            if not np.all(np.isfinite(theta)):
                return theta, False
        return theta, False

    def pattern_ok(self, theta, pattern) -> bool:
        W, b = self.lay.unpack(theta)
        U, _ = piece_forward(W, b, self.p.X, self.slopes(pattern))
        return all(
            bool(np.all((P == 0) | ((P > 0) & (Ul > 0)) | ((P < 0) & (Ul < 0))))
            for P, Ul in zip(pattern, U, strict=True)
        )

    # --------------------------------------------------------------------------------- steps
    def newton_direction(
        self, ev: dict[str, Any], zero_cols, max_iter: int, deadline: float = math.inf
    ) -> np.ndarray:
        """Projected CG on :math:`PHPh = -r` (free parameters), at most ``max_iter`` iterations and
        not past ``deadline`` (a ``time.perf_counter()`` value: at N = 60000 one Hessian-vector
        product costs seconds, so the stage's time cap is honoured inside a step too; the partial
        CG iterate is still a descent direction, the line search decides)."""
        lay, free, gram, r = self.lay, ev["free"], ev["gram"], ev["r"]

        def Hop(x: np.ndarray) -> np.ndarray:
            full = np.zeros(lay.n)
            full[free] = x
            hv = hessian_vector(self.p, lay, ev["W"], ev["V"], ev["S"], ev["G"], zero_cols, full)
            return gram.project(hv[free])

        rn = float(np.linalg.norm(r))
        x = np.zeros_like(r)
        res = -r
        pdir = res.copy()
        rr = rn**2
        tol = min(0.5, np.sqrt(rn)) * rn
        for k in range(max_iter):
            if k > 0 and time.perf_counter() > deadline:
                break
            Hp = Hop(pdir)
            curv = float(pdir @ Hp)
            if curv <= 0:
                return -r if k == 0 else x
            step = rr / curv
            x = x + step * pdir
            res = res - step * Hp
            rr_new = float(res @ res)
            if np.sqrt(rr_new) <= tol:
                break
            pdir = gram.project(res + (rr_new / rr) * pdir)
            rr = rr_new
        return gram.project(x)

    def dense_newton_direction(self, ev: dict[str, Any], zero_cols) -> np.ndarray:
        r"""Saddle-free Newton in the null space: :math:`h = -Z Q|\Lambda|_+^{-1}Q^T Z^T r`,
        :math:`Z` an orthonormal basis of :math:`\ker C`, :math:`Z^T H Z = Q\Lambda Q^T`."""
        free, C, r = ev["free"], ev["C"], ev["r"]
        idx = np.flatnonzero(free)
        H = hessian_matrix(self.p, self.lay, ev["W"], ev["V"], ev["S"], ev["G"], zero_cols)
        H = H[np.ix_(idx, idx)]
        H = 0.5 * (H + H.T)  # symmetric up to the rounding of the products
        Z = sla.null_space(C) if C.shape[0] else np.eye(idx.size)
        if Z.shape[1] == 0:
            return np.zeros_like(r)
        lam, Q = np.linalg.eigh(Z.T @ H @ Z)
        top = float(np.max(np.abs(lam)))
        lam = np.maximum(np.abs(lam), max(1e-8 * top, 1e-300)) + self.damping * top
        return -Z @ (Q @ ((Q.T @ (Z.T @ r)) / lam))

    def line_search(self, theta, pattern, zero_cols, ev, h_free, F0, deadline: float = math.inf):
        """Backtracking with crossing cuts (module docstring). Returns the accepted state or ``None``
        (also when a halving would begin past ``deadline``, a ``time.perf_counter()`` value)."""
        lay = self.lay
        h = np.zeros(lay.n)
        h[ev["free"]] = h_free
        slope = float(ev["r"] @ h_free)
        if not slope < 0:
            return None
        dU, _ = tangent(lay, ev["W"], ev["V"], self.p.X, ev["S"], h)
        a_ev, event = np.inf, None
        a_col = np.inf
        for l, (P, Ul, dUl) in enumerate(zip(pattern, ev["U"], dU, strict=True)):
            bad = (P != 0) & (P * dUl < 0)
            if np.any(bad):
                a = np.where(bad, -Ul / np.where(bad, dUl, 1.0), np.inf)
                a = np.maximum(a, 0.0)
                i = int(np.argmin(a))
                if a.flat[i] < a_ev:
                    a_ev, event = float(a.flat[i]), ("kink", l, np.unravel_index(i, a.shape))
        dW, _ = lay.unpack(h)
        for l, (Wl, dWl) in enumerate(zip(ev["W"], dW, strict=True)):
            c = np.sum(Wl * dWl, axis=0)
            nrm2 = np.sum(Wl**2, axis=0)
            bad = (~zero_cols[l]) & (nrm2 > 0) & (c < 0)
            if np.any(bad):
                a = np.where(bad, -nrm2 / np.where(bad, c, -1.0), np.inf)
                j = int(np.argmin(a))
                a_col = min(a_col, float(a[j]))
                if a[j] < a_ev:
                    a_ev, event = float(a[j]), ("column", l, j)
        # crossing="follow": a step into the next pieces competes with the cut step; the lower
        # objective wins (alone, follow steps bounced across a kink with tiny decreases and stalled
        # 2 of 3 small runs of tests/solver/test_refine.py that the cut certifies)
        follow = None
        if self.s.crossing == "follow" and event is not None and event[0] == "kink" and a_ev < 1.0:
            follow = self._follow(theta, pattern, zero_cols, h, F0, slope, a_ev, a_col, deadline)
        a = min(1.0, a_ev)
        eps_f = 4.0 * np.finfo(float).eps * max(1.0, abs(F0))
        for trial in range(self.s.max_backtracks):
            if trial > 0 and time.perf_counter() > deadline:
                return follow
            P2, Z2 = pattern, zero_cols
            th = theta + a * h
            hit = event is not None and a == a_ev
            if hit:
                kind, l, idx = event
                if kind == "kink":
                    P2 = [P.copy() for P in pattern]
                    P2[l][idx] = 0
                else:
                    Z2 = [z.copy() for z in zero_cols]
                    Z2[l][idx] = True
                    th[lay.column(l, idx)] = 0.0
            th, ok = self.project(th, P2, Z2)
            if ok and self.pattern_ok(th, P2):
                F1 = self.objective(th)
                if F1 <= F0 + _ARMIJO * a * slope or (hit and F1 <= F0 + eps_f):
                    if follow is not None and follow[3] < F1:
                        return follow
                    return th, P2, Z2, F1, a, (event if hit else None)
            a *= 0.5
        return follow

    def _follow(self, theta, pattern, zero_cols, h, F0, slope, a_kink, a_col, deadline):
        """``crossing="follow"``: steps ``a = 1, 1/2, ...`` in ``(a_kink, a_col)`` with the pattern of the
        trial point's signs (kinks kept), accepted by the descent test on the true objective; ``None``
        when none passes (the caller cuts at ``a_kink``)."""
        a = 1.0
        for trial in range(self.s.max_backtracks):
            if a <= a_kink or (trial > 0 and time.perf_counter() > deadline):
                return None
            if a < a_col:
                th = theta + a * h
                W, b = self.lay.unpack(th)
                U, _ = forward(W, b, self.p.X, self.p.alpha)
                # off the kink set the pattern is the sign at the trial point (u = 0 counts as -1:
                # either slope gives v = 0 there)
                P2 = [
                    np.where(P == 0, np.int8(0), np.where(Ul > 0, np.int8(1), np.int8(-1)))
                    for P, Ul in zip(pattern, U, strict=True)
                ]
                th, ok = self.project(th, P2, zero_cols)
                if ok and self.pattern_ok(th, P2):
                    F1 = self.objective(th)
                    if F1 <= F0 + _ARMIJO * a * slope:
                        return th, P2, zero_cols, F1, a, None
            a *= 0.5
        return None

    # ------------------------------------------------------------------------------ releases
    def release_candidates(self, ev, pattern, zero_cols) -> list[tuple[float, str, int, Any, int]]:
        """``(violation, kind, layer, index, side)`` of every kink / zero column to release."""
        a, out = self.p.alpha, []
        for l, (ks, ns) in enumerate(ev["kinks"]):
            if ks.size == 0:
                continue
            t, d = ev["G"][l][ks, ns], ev["D"][l][ks, ns]
            up, down = t - d, a * d - t  # descent rates to the + and - side
            if self.s.release == "B":
                viol = np.maximum(np.maximum(up, down), 0.0)
            else:
                slack = (1.0 - a) * self.p.beta[l]
                in1 = np.maximum(np.maximum(a * d - slack - t, t - d), 0.0)
                in2 = np.maximum(np.maximum(a * d - t, t - d - slack), 0.0)
                viol = np.where(np.maximum(up, down) > 0, np.minimum(in1, in2), 0.0)
            for i in np.flatnonzero(viol > self.s.release_tol):
                out.append((float(viol[i]), "kink", l, (int(ks[i]), int(ns[i])), 1 if up[i] >= down[i] else -1))
        lam = self.p.lambda_w
        for l, zc in enumerate(zero_cols):
            if not np.any(zc):
                continue
            prev = self.p.X if l == 0 else ev["V"][l - 1]
            qn = np.linalg.norm(ev["G"][l] @ prev.T, axis=0)
            for j in np.flatnonzero(zc & (qn > lam + self.s.release_tol)):
                out.append((float(qn[j] - lam), "column", l, int(j), 0))
        out.sort(key=lambda c: -c[0])
        return out

    def try_release(self, theta, pattern, zero_cols, cands, F0):
        P2 = [P.copy() for P in pattern]
        Z2 = [z.copy() for z in zero_cols]
        opened = []
        for _, kind, l, idx, side in cands:
            if kind == "kink":
                P2[l][idx] = side
            else:
                Z2[l][idx] = False
                opened.append((l, idx))
        ev = self.evaluate(theta, P2, Z2, opened)
        res = self.line_search(theta, P2, Z2, ev, -ev["r"], F0)
        if res is None:
            return None
        th, P3, Z3, F1, a, event = res
        for _, kind, l, idx, _side in cands:  # every released entry must sit on its side
            if kind == "kink" and P3[l][idx] == 0:
                return None
            if kind == "column" and (Z3[l][idx] or np.all(self.lay.unpack(th)[0][l][:, idx] == 0)):
                return None
        return th, P3, Z3, F1


#: seconds of the final evaluation, multipliers and release test in units of one evaluation's
#: (measured at MNIST N = 60000, 784-200-100-10: 7.4 s against 3.0 s): reserved inside max_seconds
FINISH_EVALUATIONS = 2.5


def _initial_state(problem: Problem, lay: ParamLayout, W, b, kink_tol: float):
    U, _ = forward(W, b, problem.X, problem.alpha)
    scale = kink_tol * max(1.0, max(float(np.max(np.abs(Ul))) for Ul in U))
    pattern = [np.where(np.abs(Ul) <= scale, 0, np.sign(Ul)).astype(np.int8) for Ul in U]
    zero_cols = [np.all(Wl == 0.0, axis=0) for Wl in W]
    return lay.pack(W, b), pattern, zero_cols


def refine(
    problem: Problem,
    W: Sequence[np.ndarray],
    b: Sequence[np.ndarray],
    *,
    settings: RefineSettings | dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], bool | None] | None = None,
    tolerances: Tolerances | None = None,
) -> RefineResult:
    r"""Refine the network ``(W, b)`` on its identified piece until KKT of (PP) can be certified.

    See the module docstring for the method. ``callback(info)`` is called after every accepted step
    with ``iteration``, ``objective``, ``reduced_gradient``, ``kinks``, ``zero_columns``,
    ``releases``; returning ``True`` stops the run (status ``"stopped"``). ``tolerances`` (a
    :class:`ialam_verify.stationarity.Tolerances`; ``None``: ``Tolerances()``, tol 1e-6 relative to
    the problem's scale) is passed to the final certificate. ``KeyboardInterrupt`` returns the current point (the best so
    far: the objective never increases) with status ``"interrupted"``.
    """
    t_start = time.perf_counter()
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem; got {type(problem).__name__}")
    if problem.relu_bias_bound is not None:
        raise ValueError("refine supports (PP) with leaky ReLU (alpha in (0, 1)); got a (PP_b) problem")
    if settings is None:
        settings = RefineSettings()
    elif isinstance(settings, dict):
        settings = RefineSettings.from_options(settings)
    elif not isinstance(settings, RefineSettings):
        raise ValueError(f"settings must be a RefineSettings, a dict or None; got {type(settings).__name__}")
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable; got {type(callback).__name__}")
    tolerances = _check_tolerances(tolerances)
    Wc, bc, _ = check_network(list(W), list(b), problem.alpha, allow_relu=False)
    for l, (n_in, n_out) in enumerate(zip(problem.sizes[:-1], problem.sizes[1:], strict=True)):
        if l >= len(Wc) or Wc[l].shape != (n_out, n_in):
            raise ValueError(
                f"W must hold {problem.n_layers} layers of shapes {list(zip(problem.sizes[1:], problem.sizes[:-1], strict=True))}; "
                f"layer {l} has {None if l >= len(Wc) else Wc[l].shape}"
            )
    if len(Wc) != problem.n_layers:
        raise ValueError(f"W must hold {problem.n_layers} layers; got {len(Wc)}")
    for l, (Wl, bl) in enumerate(zip(Wc, bc, strict=True)):
        if not (np.all(np.isfinite(Wl)) and np.all(np.isfinite(bl))):
            raise ValueError(f"W[{l}] and b[{l}] must be finite")

    rf = _Refiner(problem, settings)
    lay = rf.lay
    theta, pattern, zero_cols = _initial_state(problem, lay, Wc, bc, settings.kink_tol)
    theta, ok = rf.project(theta, pattern, zero_cols)
    if not ok:  # the start's near-zero entries cannot all be held at 0: keep only exact ones
        theta = lay.pack(Wc, bc)
        pattern = [np.where(P == 0, np.int8(1), P) for P in pattern]
    F = rf.objective(theta)
    F_start = F
    history: list[dict[str, Any]] = []
    status, it, releases = "max_iter", 0, 0
    blocked: set = set()
    cg_budget = settings.cg_max_iter
    r_hist: list[float] = []
    no_progress = 0
    # the time cap is kept by prediction (at N = 60000 one iteration took 13 s against a 12 s cap
    # when the clock was read only between Hessian-vector products, and the final evaluation and
    # multipliers 7 s more): the steps end by a deadline that leaves FINISH_EVALUATIONS evaluations'
    # seconds for the final multipliers; an iteration is not begun when the last one's seconds would
    # carry it past the deadline, nor a Newton step when an evaluation's seconds say the direction
    # and its line search cannot both end before it
    t_iteration = t_eval = 0.0

    def deadline() -> float:
        return t_start + settings.max_seconds - FINISH_EVALUATIONS * t_eval

    ev: dict[str, Any] | None = None  # the evaluation at the current (theta, pattern, zero_cols)
    try:
        while True:
            if it >= settings.max_iter:
                status = "max_iter"
                break
            if time.perf_counter() + t_iteration > deadline():
                status = "max_seconds"
                break
            t_begin = time.perf_counter()
            if ev is None:
                ev = rf.evaluate(theta, pattern, zero_cols)
                t_eval = time.perf_counter() - t_begin
            rnorm = float(np.max(np.abs(ev["r"]), initial=0.0))
            r_hist.append(rnorm)
            # rounding floor: within 10 grad_tol and no halving over the last 4 steps counts as stationary
            floor = len(r_hist) > 4 and rnorm <= 10 * settings.grad_tol and rnorm > 0.5 * min(r_hist[-5:-1])
            step_kind, res = None, None
            if rnorm > settings.grad_tol and not floor:
                # a direction costs at least one Hessian-vector product and its line search one
                # evaluation, each about an evaluation's seconds
                end = deadline()
                if time.perf_counter() + 2.0 * t_eval > end:
                    status = "max_seconds"
                    break
                # after a step cut short by a crossing, the next one usually is too: spend little on it
                if int(np.count_nonzero(ev["free"])) <= settings.dense_max:
                    h = rf.dense_newton_direction(ev, zero_cols)
                else:
                    h = rf.newton_direction(ev, zero_cols, cg_budget, deadline=end - t_eval)
                res = rf.line_search(theta, pattern, zero_cols, ev, h, F, deadline=end)
                step_kind = "newton"
                if res is None and time.perf_counter() > end:
                    status = "max_seconds"
                    break
                if res is None:
                    res = rf.line_search(theta, pattern, zero_cols, ev, -ev["r"], F, deadline=end)
                    step_kind = "gradient"
                if res is None and rnorm > 1e3 * settings.grad_tol:
                    res = None  # fall through to the release test only when nearly stationary
                    cands = []
                    status = "stalled"
                    break
            if res is not None:
                F_before = F
                theta, pattern, zero_cols, F, a_taken, event = res
                ev = None
                # Levenberg damping: raised after a short step not cut by a crossing (a nearly flat
                # direction, e.g. the rescaling symmetry of the layers), lowered after a full step
                if event is None and a_taken < 0.1:
                    rf.damping = max(10.0 * rf.damping, 1e-8)
                elif a_taken == 1.0:
                    rf.damping = rf.damping / 10.0 if rf.damping > 1e-12 else 0.0
                # a step cut at a crossing changes the piece: progress even when F does not move
                stuck = event is None and F >= F_before - 1e-15 * abs(F_before)
                no_progress = no_progress + 1 if stuck else 0
                if no_progress >= 25:
                    status = "stalled"
                    it += 1
                    break
                cg_budget = settings.cg_max_iter if event is None or a_taken > 0.1 else 10
                blocked.clear()
            else:
                cands = [c for c in rf.release_candidates(ev, pattern, zero_cols) if (c[1], c[2], c[3]) not in blocked]
                if not cands:
                    status = "converged" if not blocked else "stalled"
                    break
                chosen = cands if settings.multi_release else cands[:1]
                out = rf.try_release(theta, pattern, zero_cols, chosen, F)
                if out is None and len(chosen) > 1:
                    chosen = cands[:1]
                    out = rf.try_release(theta, pattern, zero_cols, chosen, F)
                if out is None:
                    blocked.add((chosen[0][1], chosen[0][2], chosen[0][3]))
                    continue
                releases += len(chosen)
                theta, pattern, zero_cols, F = out
                ev = None
                r_hist.clear()
                step_kind, event = f"release x{len(chosen)}", None
                if releases > settings.max_releases:
                    status = "churn_cap"
                    it += 1
                    break
            it += 1
            t_iteration = time.perf_counter() - t_begin
            n_k = int(sum(np.count_nonzero(P == 0) for P in pattern))
            n_z = int(sum(np.count_nonzero(z) for z in zero_cols))
            rec = dict(iteration=it, objective=F, reduced_gradient=rnorm, kinks=n_k, zero_columns=n_z,
                       releases=releases, step=step_kind, event=None if event is None else event[0])
            history.append(rec)
            if settings.verbose:
                print(f"refine {it:5d} {step_kind:>12s} F={F:.12e} |r|={rnorm:.2e} kinks={n_k} "
                      f"zero_cols={n_z} releases={releases}", file=sys.stderr)
            if callback is not None and callback(dict(rec)):
                status = "stopped"
                break
    except KeyboardInterrupt:
        status = "interrupted"
    return _finish(problem, rf, theta, pattern, zero_cols, status, it, releases, F, F_start, history,
                   t_start, tolerances, ev)


def _finish(problem, rf, theta, pattern, zero_cols, status, it, releases, F, F_start, history, t_start,
            tolerances, ev=None) -> RefineResult:
    # ev: the loop's evaluation when it is at the returned (theta, pattern, zero_cols), else None
    lay, s = rf.lay, rf.s
    if ev is None:
        ev = rf.evaluate(theta, pattern, zero_cols)
    W, b = lay.unpack(theta.copy())
    W = [Wl.copy() for Wl in W]
    b = [bl.copy() for bl in b]
    for l, zc in enumerate(zero_cols):  # held columns are exactly zero by construction; say so loudly
        assert np.all(W[l][:, zc] == 0.0)
    point = problem.lift(W, b)
    mult = pp_multipliers(problem, point, pattern, ev["G"], ev["D"], zero_cols)
    mult["kink_mask"] = [P == 0 for P in pattern]
    mult["zero_column_mask"] = [z.copy() for z in zero_cols]
    mult["pp_residual"] = pp_residual(problem, point, mult)
    rnorm = float(np.max(np.abs(ev["r"]), initial=0.0))
    cands = rf.release_candidates(ev, pattern, zero_cols)
    verdict, vinfo = kkt_verdict(problem, point, mult, tolerances=tolerances, method=s.certify)
    success = verdict is not None and bool(verdict)
    n_k = int(sum(np.count_nonzero(P == 0) for P in pattern))
    n_z = int(sum(np.count_nonzero(z) for z in zero_cols))
    msg = STATUS_MESSAGES[status]
    if verdict is None:
        msg += "; not certified (certify='none')"
    else:
        msg += f"; KKT of (PP): {verdict.outcome.value}"
        if not success:
            msg += f" ({verdict.reason})"
    if mult["beta_shortfall"] > 0:
        need = ", ".join(f"{x:.3g}" for x in mult["beta_needed"])
        msg += (f"; beta is too small for an exact penalty here (beta + dL/dV < 0 by "
                f"{mult['beta_shortfall']:.3g}; KKT of (PP) needs beta_l >= [{need}])")
    info = dict(vinfo, tolerances=tolerances, open_releases=len(cands),
                kink_gram_rank_deficient=bool(ev["gram"].deficient))
    return RefineResult(W, b, point, success, status, msg, time.perf_counter() - t_start, it, n_k, n_z,
                        mult, verdict, F_start, F, releases, rnorm, history, info)
