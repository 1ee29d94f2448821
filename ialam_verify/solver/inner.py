r"""Alternating minimization for the augmented-Lagrangian subproblem (talk, eq. (4)).

.. math::

    \min_{(w,b,v,u):\ v \ge u,\ v \ge \alpha u}\ \mathcal L_\rho(w,b,v,u;\xi) = O(w,v,u)
      + \langle \xi, u - \Psi(v)w - Ab\rangle + \tfrac\rho2\|u - \Psi(v)w - Ab\|^2

Each iteration does the (w, b) step (:mod:`.wb_step`, exact up to ``wb_tol``) and the proximal (v, u)
step (:mod:`.vu_step`, closed form). Because the proximal matrix :math:`S_\ell \succeq \tau_1 I`, every
iteration satisfies :math:`\mathcal L_\rho(z^{j+1}) + \mathcal P(z^{j+1}; z^j) \le \mathcal
L_\rho(z^j)`: the value never increases (the talk's Theorem 4 rests on it; ``tests/solver`` checks it).

The solver follows the ``init_state`` / ``update`` / ``run`` pattern; its state is a named tuple that
always carries the iteration count and an error measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from ..model.problem import LiftedPoint, Problem
from .vu_step import solve_vu
from .wb_step import augmented_gram, centred_gram, largest_eigenvalue, wb_layer_step


def augmented_lagrangian(
    problem: Problem, point: LiftedPoint, xi: list[np.ndarray], rho: float
) -> float:
    r""":math:`\mathcal L_\rho(w,b,v,u;\xi) = O + \langle\xi, r\rangle + \frac\rho2\|r\|^2`, :math:`r = u - \Psi(v)w - Ab`."""
    R = problem.residual(point)
    lin = sum(float(np.sum(Xl * Rl)) for Xl, Rl in zip(xi, R, strict=True))
    quad = sum(float(np.sum(Rl * Rl)) for Rl in R)
    return problem.objective(point) + lin + 0.5 * rho * quad


def proximal_taus(W: list[np.ndarray], rho: float, tau1: float) -> list[float]:
    r""":math:`\tau_\ell = \rho\|[-W_\ell\ I]\|_2^2 + \tau_1 = \rho(\|W_\ell\|_2^2 + 1) + \tau_1`; entry 0 is :math:`\tau_1`.

    :math:`\|W\|_2` is the largest singular value, taken as ``np.linalg.norm(W, 2)`` takes it (the
    maximum of ``svd(W, compute_uv=False)``, the same number) without its wrapper: 12 us against 5 us
    on a 2 x 10 matrix, once per layer and inner iteration.
    """
    svd = np.linalg.svd
    return [tau1] + [rho * (svd(Wl, compute_uv=False).max() ** 2 + 1.0) + tau1 for Wl in W[1:]]


def proximal_term(point: LiftedPoint, previous: LiftedPoint, rho: float, tau1: float) -> float:
    r"""The talk's :math:`\mathcal P(u, v; u^{(j)}, v^{(j)}, \tau^{(j)})` with :math:`S_\ell` built from ``point.W``."""
    taus = proximal_taus(point.W, rho, tau1)
    total = 0.5 * tau1 * float(np.sum((point.U[0] - previous.U[0]) ** 2))
    for ell in range(1, len(point.W)):
        dv = point.V[ell - 1] - previous.V[ell - 1]
        du = point.U[ell] - previous.U[ell]
        Md = du - point.W[ell] @ dv  # [-W I] applied to (dv; du)
        total += 0.5 * (
            taus[ell] * float(np.sum(dv * dv) + np.sum(du * du)) - rho * float(np.sum(Md * Md))
        )
    return total


class AMState(NamedTuple):
    """State of the alternating minimization."""

    iter_num: int
    #: relative change of (v, u) in the last iteration: the inner stopping measure
    error: float
    #: total proximal-gradient iterations spent in (w, b) steps
    wb_iterations: int
    #: the first layer's Gram matrix (fixed: its inputs are the data)
    gram0: np.ndarray
    #: its largest eigenvalue (the Lipschitz constant of the first layer's (w, b) step)
    gram0_lmax: float


@dataclass(frozen=True)
class AlternatingMinimization:
    r"""Alternating minimization of :math:`\mathcal L_\rho` over the (w, b) and (v, u) blocks.

    Parameters
    ----------
    problem : Problem
    tau1 : float
        :math:`\tau_1 > 0` of the proximal term.
    tol : float
        Stop when the relative change of (v, u) is at most ``tol``.
    max_iter : int
        Iteration cap.
    wb_tol, wb_max_iter : float, int
        Accuracy and cap of each (w, b) group-lasso solve.
    wb_work : float
        Work budget of a (w, b) solve relative to the layer's unavoidable products: an iteration costs
        :math:`N_\ell N_{\ell-1}^2` against :math:`N_\ell N_{\ell-1} N` for one product with the data,
        so layer :math:`\ell` gets at most ``max(3, ceil(wb_work * N / N_{l-1}))`` iterations (and
        ``wb_max_iter``). Warm starts carry the solve on across inner iterations, and an early stop
        never increases the value (``docs/algorithm.md`` 3.1). ``inf`` disables the budget.
    wb_solver : str
        Method of the (w, b) solves (``wb_step.WB_METHODS``).
    """

    problem: Problem
    tau1: float
    tol: float = 1e-4
    max_iter: int = 20
    wb_tol: float = 1e-6
    wb_max_iter: int = 30
    wb_work: float = 2.0
    wb_solver: str = "bcd"

    def wb_iteration_cap(self, ell: int) -> int:
        """Iteration cap of layer ``ell``'s (w, b) solve (see ``wb_work``)."""
        if not np.isfinite(self.wb_work):
            return self.wb_max_iter
        n_in = self.problem.sizes[ell]
        budget = int(np.ceil(self.wb_work * self.problem.n_samples / n_in))
        return min(self.wb_max_iter, max(3, budget))

    def init_state(self, point: LiftedPoint) -> AMState:
        X = self.problem.X
        gram0 = centred_gram(X) if self.problem.relu_bias_bound is None else augmented_gram(X)
        return AMState(0, np.inf, 0, gram0, largest_eigenvalue(gram0))

    def wb_step(
        self, point: LiftedPoint, state: AMState, xi: list[np.ndarray], rho: float
    ) -> tuple[list[np.ndarray], list[np.ndarray], int]:
        """Solve (5): per layer, the group-lasso least squares on targets ``U + Xi / rho``."""
        prob = self.problem
        W, b = [], []
        its = 0
        for ell in range(prob.n_layers):
            P = prob.X if ell == 0 else point.V[ell - 1]
            Wl, bl, info = wb_layer_step(
                point.U[ell] + xi[ell] / rho,
                P,
                point.W[ell],
                point.b[ell],
                prob.lambda_w / rho,
                gram=state.gram0 if ell == 0 else None,
                gram_lmax=state.gram0_lmax if ell == 0 else None,
                input_mean=self._data_mean if ell == 0 else None,
                bias_bound=prob.relu_bias_bound,
                tol=self.wb_tol,
                max_iter=self.wb_iteration_cap(ell),
                method=self.wb_solver,
            )
            W.append(Wl)
            b.append(bl)
            its += info.iterations
        return W, b, its

    def vu_step(
        self,
        W: list[np.ndarray],
        b: list[np.ndarray],
        point: LiftedPoint,
        xi: list[np.ndarray],
        rho: float,
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        r"""Solve (6) in closed form, all layers and entries at once.

        Coefficients of :math:`\frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta_\ell\sigma(u)` for the entries
        of layer :math:`\ell` (``docs/algorithm.md``), with :math:`G_\ell = \Xi_\ell + \rho R_\ell^{(j)}`:

        - :math:`a = 2\lambda_v + 2/N` and :math:`p = 2Y/N - \beta_L` on the last layer;
          :math:`a = 2\lambda_v + \tau_{\ell+1}` and
          :math:`p = \tau_{\ell+1}V_\ell^{(j)} + W_{\ell+1}^TG_{\ell+1} - \beta_\ell` below it;
        - :math:`c = \rho + \tau_1`, :math:`q = \rho(W_1X + b_1) - \Xi_1 + \tau_1U_1^{(j)}` on the first
          layer; :math:`c = \tau_\ell`, :math:`q = \tau_\ell U_\ell^{(j)} - G_\ell` above it.
        """
        prob = self.problem
        L, N = prob.n_layers, prob.n_samples
        taus = proximal_taus(W, rho, self.tau1)
        # lin = W P + b and G = Xi + rho (U - lin), per layer; the operations are those of the plain
        # formulas (bit for bit the same values), written in place to spare temporaries
        Gs = []
        for ell in range(L):
            P = prob.X if ell == 0 else point.V[ell - 1]
            lin = W[ell] @ P
            lin += b[ell][:, None]
            if ell == 0:  # the first layer's lin is needed again for q
                lin0 = lin
                g = point.U[0] - lin
            else:
                g = np.subtract(point.U[ell], lin, out=lin)
            g *= rho
            g += xi[ell]
            Gs.append(g)
        V_new, U_new = [], []
        # one scratch for the products scalar * array (the plain formulas' temporaries)
        tmp = np.empty(max(Ul.size for Ul in point.U))
        for ell in range(L):
            beta = prob.beta[ell]
            scratch = tmp[: point.U[ell].size].reshape(point.U[ell].shape)
            if ell == L - 1:
                a = 2.0 * prob.lambda_v + 2.0 / N
                p = self._last_layer_p
            else:
                t_next = taus[ell + 1]
                a = 2.0 * prob.lambda_v + t_next
                p = W[ell + 1].T @ Gs[ell + 1]
                p += np.multiply(t_next, point.V[ell], out=scratch)
                p -= beta
            if ell == 0:
                c = rho + self.tau1
                q = np.multiply(lin0, rho, out=lin0)
                q -= xi[0]
                q += np.multiply(self.tau1, point.U[0], out=scratch)
            else:
                c = taus[ell]
                # q = tau U - G, written over G (this call's array, not needed after this line)
                q = np.subtract(
                    np.multiply(taus[ell], point.U[ell], out=scratch), Gs[ell], out=Gs[ell]
                )
            v, u = solve_vu(a, p, c, q, beta, prob.alpha)
            V_new.append(v)
            U_new.append(u)
        return V_new, U_new

    @cached_property
    def _data_mean(self) -> np.ndarray:
        """Row means of the data ``X``, the first layer's input (fixed for the whole run)."""
        return self.problem.X.mean(axis=1)

    @cached_property
    def _last_layer_p(self) -> np.ndarray:
        r""":math:`p = 2Y/N - \beta_L` of the last layer's (v, u) problem: fixed for the whole run."""
        prob = self.problem
        return 2.0 * prob.Y / prob.n_samples - prob.beta[-1]

    def update(
        self, point: LiftedPoint, state: AMState, xi: list[np.ndarray], rho: float
    ) -> tuple[LiftedPoint, AMState]:
        W, b, its = self.wb_step(point, state, xi, rho)
        V, U = self.vu_step(W, b, point, xi, rho)
        err = _relative_change(V + U, point.V + point.U)
        new_state = state._replace(
            iter_num=state.iter_num + 1, error=err, wb_iterations=state.wb_iterations + its
        )
        return LiftedPoint(W, b, V, U), new_state

    def run(
        self,
        point: LiftedPoint,
        xi: list[np.ndarray],
        rho: float,
        state: AMState | None = None,
        tol: float | None = None,
    ) -> tuple[LiftedPoint, AMState]:
        """Iterate :meth:`update` until the relative change is at most ``tol`` or ``max_iter``."""
        tol = self.tol if tol is None else tol
        state = (
            self.init_state(point) if state is None else state._replace(iter_num=0, error=np.inf)
        )
        while state.iter_num < self.max_iter:
            point, state = self.update(point, state, xi, rho)
            if state.error <= tol:
                break
        return point, state


def _relative_change(new: list[np.ndarray], old: list[np.ndarray]) -> float:
    r""":math:`\sqrt{\sum\|a - c\|^2 / \max(\sum\|c\|^2, 10^{-300})}` over the pairs ``(a, c)`` of ``new, old``.

    Bit for bit ``sum(float(np.sum((a - c) ** 2)))`` over ``sum(float(np.sum(c * c)))``: the same
    elementwise operations (``x ** 2`` is ``x * x``) and the same ``np.sum`` calls, into one reused
    buffer instead of two temporaries per array.
    """
    num = 0.0
    den = 0.0
    buf = np.empty(max(x.size for x in old))
    for a, c in zip(new, old, strict=True):
        d = buf[: c.size].reshape(c.shape)
        np.subtract(a, c, out=d)
        np.multiply(d, d, out=d)
        num += float(np.sum(d))
    for c in old:
        d = buf[: c.size].reshape(c.shape)
        np.multiply(c, c, out=d)
        den += float(np.sum(d))
    return float(np.sqrt(num / max(den, 1e-300)))


def feasible_projection(problem: Problem, point: LiftedPoint) -> LiftedPoint:
    """The point with ``(W, b)`` kept and ``(V, U)`` recomputed by the network (a feasible point of (P))."""
    return problem.lift(point.W, point.b)


__all__ = [
    "AMState",
    "AlternatingMinimization",
    "augmented_lagrangian",
    "feasible_projection",
    "proximal_taus",
    "proximal_term",
]
