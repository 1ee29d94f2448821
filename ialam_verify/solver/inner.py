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
from . import compiled
from .vu_step import _REAL, solve_vu
from .wb_step import (
    augmented_gram,
    centred_gram,
    largest_eigenvalue,
    wb_layer_step,
    wb_layer_step_from_output,
)


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
    #: ``(W_1, W_1 G)``: the first layer's weights returned by the last (w, b) step and their product
    #: with its Gram matrix (without the fixed rows), which the next step starts from instead of
    #: recomputing it (block coordinate descent only; reset at every :meth:`~AlternatingMinimization.run`)
    gram0_product: tuple[np.ndarray, np.ndarray] | None = None
    #: ``(W_1, W_1 X + b_1, scale)``: the first layer's weights, the output the compiled (v, u) step
    #: formed with them, and the stopping scale of the last (w, b) step that formed ``C``: the next
    #: (w, b) step's gradient comes from it (``wb_step.wb_layer_step_from_output``; reset at every run)
    layer0_output: tuple[np.ndarray, np.ndarray, float] | None = None


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
        so layer :math:`\ell` gets ``max(1, floor(wb_work * N / N_{l-1}))`` iterations (and at most
        ``wb_max_iter``): with the default 1 its solve costs at most one product with its input.
        Warm starts carry the solve on across inner iterations, and an early stop never increases
        the value (``docs/algorithm.md`` 3.1). ``inf`` disables the budget. (On MNIST, 784-100-50-10,
        N = 1000 that is one sweep of the first layer per inner iteration, which meets the speed goal;
        ``wb_work = 2`` with at least 3 sweeps, the rule before, ended runs with more exact zero
        columns at equal accuracy: 293 against 274 at lambda_w 1e-4, 466 against 460 at 1e-3:
        ``docs/benchmarks.md`` section 5.)
    wb_solver : str
        Method of the (w, b) solves (``wb_step.WB_METHODS``).
    """

    problem: Problem
    tau1: float
    tol: float = 1e-4
    max_iter: int = 20
    wb_tol: float = 1e-6
    wb_max_iter: int = 30
    wb_work: float = 1.0
    wb_solver: str = "bcd"

    def __post_init__(self) -> None:
        # the compiled kernels are compiled or loaded now, not inside a clocked run
        compiled.warm_up()

    def wb_iteration_cap(self, ell: int) -> int:
        """Iteration cap of layer ``ell``'s (w, b) solve (see ``wb_work``)."""
        if not np.isfinite(self.wb_work):
            return self.wb_max_iter
        n_in = self.problem.sizes[ell]
        budget = int(np.floor(self.wb_work * self.problem.n_samples / n_in))
        return min(self.wb_max_iter, max(1, budget))

    def init_state(self, point: LiftedPoint) -> AMState:
        X = self.problem.X
        gram0 = centred_gram(X) if self.problem.relu_bias_bound is None else augmented_gram(X)
        return AMState(0, np.inf, 0, gram0, largest_eigenvalue(gram0))

    def wb_step(
        self, point: LiftedPoint, state: AMState, xi: list[np.ndarray], rho: float
    ) -> tuple[list[np.ndarray], list[np.ndarray], int]:
        """Solve (5): per layer, the group-lasso least squares on targets ``U + Xi / rho``."""
        W, b, its, _, _ = self._wb_step(point, state, xi, rho)
        return W, b, its

    def _wb_step(
        self, point: LiftedPoint, state: AMState, xi: list[np.ndarray], rho: float
    ) -> tuple[list[np.ndarray], list[np.ndarray], int, tuple[np.ndarray, np.ndarray] | None, float]:
        """:meth:`wb_step`, the ``gram0_product`` of the state after it and the first layer's stopping
        scale."""
        prob = self.problem
        W, b = [], []
        its = 0
        carried = state.gram0_product
        fixed0, gram0 = self._input0
        wg0 = carried[1] if carried is not None and carried[0] is point.W[0] else None
        out0 = state.layer0_output
        if out0 is not None and out0[0] is not point.W[0]:
            out0 = None
        carry = None
        scale0 = np.nan
        for ell in range(prob.n_layers):
            P = prob.X if ell == 0 else point.V[ell - 1]
            first = ell == 0
            step = None
            if first and out0 is not None and self.wb_solver == "bcd":
                step = wb_layer_step_from_output(
                    point.U[0] + xi[0] / rho,
                    P,
                    point.W[0],
                    out0[1],
                    prob.lambda_w / rho,
                    gram=gram0,
                    fixed_rows=fixed0,
                    input_mean=self._data_mean,
                    scale=out0[2],
                    tol=self.wb_tol,
                    max_iter=self.wb_iteration_cap(0),
                )
            Wl, bl, info = step if step is not None else wb_layer_step(
                point.U[ell] + xi[ell] / rho,
                P,
                point.W[ell],
                point.b[ell],
                prob.lambda_w / rho,
                gram=gram0 if first else None,
                gram_lmax=state.gram0_lmax if first else None,
                input_mean=self._data_mean if first else None,
                bias_bound=prob.relu_bias_bound,
                tol=self.wb_tol,
                max_iter=self.wb_iteration_cap(ell),
                method=self.wb_solver,
                gram_product=wg0 if first else None,
                fixed_rows=fixed0 if first else None,
            )
            if first:
                scale0 = np.nan if info.scale is None else info.scale
                if info.gram_product is not None:
                    carry = (Wl, info.gram_product)
            W.append(Wl)
            b.append(bl)
            its += info.iterations
        return W, b, its, carry, scale0

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
        if compiled.ENABLED and all(isinstance(x, _REAL) for x in prob.beta):
            V, U, output0 = self._vu_step_compiled(W, b, point, xi, rho, taus)
            # for update(): the first layer's output with these weights (W[0] names it)
            self._outputs["layer0"] = (W[0], output0)
            return V, U
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

    def _vu_step_compiled(
        self,
        W: list[np.ndarray],
        b: list[np.ndarray],
        point: LiftedPoint,
        xi: list[np.ndarray],
        rho: float,
        taus: list[float],
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """:meth:`vu_step` with the elementwise work in compiled loops (:mod:`.compiled`): the same
        coefficients by the same operations in the same order, one pass per layer instead of a dozen;
        also returns the first layer's output :math:`W_1X + b_1`."""
        prob = self.problem
        L, N = prob.n_layers, prob.n_samples
        Gs = []
        q0 = None
        for ell in range(L):
            P = prob.X if ell == 0 else point.V[ell - 1]
            lin = W[ell] @ P  # becomes G in place
            q = compiled.coupling_compiled(
                lin, b[ell], point.U[ell], xi[ell], rho, self.tau1, first=ell == 0
            )
            if ell == 0:
                q0, output0 = q
            Gs.append(lin)
        V_new, U_new = [], []
        for ell in range(L):
            if ell == L - 1:
                a, t, PW, Vl = 2.0 * prob.lambda_v + 2.0 / N, 0.0, self._last_layer_p, None
            else:
                t = taus[ell + 1]
                a, PW, Vl = 2.0 * prob.lambda_v + t, W[ell + 1].T @ Gs[ell + 1], point.V[ell]
            if ell == 0:
                c, Ul, Q = rho + self.tau1, None, q0
            else:
                c, Ul, Q = taus[ell], point.U[ell], Gs[ell]
            v, u = compiled.vu_layer_compiled(a, c, prob.beta[ell], prob.alpha, PW, t, Vl, c, Ul, Q)
            V_new.append(v)
            U_new.append(u)
        return V_new, U_new, output0

    @cached_property
    def _outputs(self) -> dict:
        """What the last compiled :meth:`vu_step` formed that :meth:`update` passes on (the first
        layer's output ``W_1 X + b_1``, with the ``W_1`` it belongs to)."""
        return {}

    @cached_property
    def _input0(self) -> tuple[np.ndarray, np.ndarray]:
        """The first layer's fixed input rows (their columns are 0 in closed form, ``wb_layer_step``)
        and its Gram matrix without them: both depend on the data only, computed once."""
        X = self.problem.X
        if self.problem.relu_bias_bound is None:
            fixed = np.all(X == X[:, :1], axis=1) if X.shape[1] > 0 else np.ones(len(X), bool)
            gram = centred_gram(X)
            keep = np.flatnonzero(~fixed)
        else:
            fixed = ~np.any(X, axis=1)
            gram = augmented_gram(X)
            keep = np.append(np.flatnonzero(~fixed), X.shape[0])
        return fixed, (gram[np.ix_(keep, keep)] if fixed.any() else gram)

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
        W, b, its, carry, scale0 = self._wb_step(point, state, xi, rho)
        self._outputs.clear()
        V, U = self.vu_step(W, b, point, xi, rho)
        formed = self._outputs.pop("layer0", None)
        output0 = None
        if (
            formed is not None
            and formed[0] is W[0]
            and self.problem.relu_bias_bound is None
            and np.isfinite(scale0)
        ):
            output0 = (W[0], formed[1], scale0)
        change = compiled.relative_change_compiled if compiled.ENABLED else _relative_change
        err = change(V + U, point.V + point.U)
        new_state = state._replace(
            iter_num=state.iter_num + 1,
            error=err,
            wb_iterations=state.wb_iterations + its,
            gram0_product=carry,
            layer0_output=output0,
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
            self.init_state(point)
            if state is None
            # W_1 G afresh at every run: the compiled sweeps update it without a restoring product
            # and C of the first layer formed again (the stopping scale of the output-started steps)
            else state._replace(iter_num=0, error=np.inf, gram0_product=None, layer0_output=None)
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
