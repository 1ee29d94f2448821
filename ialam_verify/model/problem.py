r"""Problem (PP) of the talk, its parts kept apart from any solver.

.. math::

    O(w, v, u) = \underbrace{\tfrac1N \|V_L - Y\|_F^2}_{\text{loss}}
      + \underbrace{\lambda_w \sum_\ell \sum_j \|(W_\ell)_{:,j}\|}_{\mathcal R_1(w)}
      + \underbrace{\lambda_v \sum_\ell \|V_\ell\|_F^2}_{\mathcal R_2(v)}
      + \underbrace{\sum_\ell \beta_\ell\, 1^T (V_\ell - \sigma(U_\ell)) 1}_{\text{exact penalty}}

subject to :math:`V \ge U`, :math:`V \ge \alpha U` and the linear constraint
:math:`U_\ell = W_\ell V_{\ell-1} + b_\ell 1^T` (:math:`u = \Psi(v) w + A b`), :math:`V_0 = X`.
(P) is the same without the penalty and with :math:`V = \sigma(U)`. The ReLU variant (PP_b) takes
:math:`\alpha = 0` and adds the bound :math:`b \ge -\bar N (\theta_w + \theta_v) e`.

Vector ordering (used by the certificates): :math:`w = (\mathrm{vec}(W_1); \dots; \mathrm{vec}(W_L))`,
``vec`` column-major; :math:`b = (b_1; \dots; b_L)`; :math:`v = (\mathrm{vec}(V_1); \dots)`, so that the
block of layer ``l`` lists :math:`v_{1,\ell}, v_{2,\ell}, \dots, v_{N,\ell}` as in the talk; ``u`` likewise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._validation import (
    as_float_array,
    check_alpha,
    check_nonnegative,
    check_shape,
    check_sizes,
)
from .network import forward, leaky_relu


@dataclass
class LiftedPoint:
    """A point ``(w, b, v, u)`` of the lifted problems, stored layer by layer.

    ``W[l]`` is ``N_{l+1} x N_l``, ``b[l]`` has length ``N_{l+1}``, ``V[l]`` and ``U[l]`` are ``N_{l+1} x N``
    (Python index ``l`` is the talk's layer ``l + 1``).
    """

    W: list[np.ndarray]
    b: list[np.ndarray]
    V: list[np.ndarray]
    U: list[np.ndarray]

    def copy(self) -> LiftedPoint:
        return LiftedPoint(
            [a.copy() for a in self.W],
            [a.copy() for a in self.b],
            [a.copy() for a in self.V],
            [a.copy() for a in self.U],
        )

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.W[0].shape[1], *(Wl.shape[0] for Wl in self.W))

    def to_vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(w, b, v, u)`` as flat vectors in the talk's ordering (column-major ``vec``)."""

        def cat(blocks: Sequence[np.ndarray]) -> np.ndarray:
            return np.concatenate([np.ravel(a, order="F") for a in blocks])

        return cat(self.W), cat(self.b), cat(self.V), cat(self.U)

    @classmethod
    def from_vectors(
        cls,
        sizes: Sequence[int],
        n_samples: int,
        w: np.ndarray,
        b: np.ndarray,
        v: np.ndarray,
        u: np.ndarray,
    ) -> LiftedPoint:
        """Inverse of :meth:`to_vectors`."""
        sizes = check_sizes(sizes)
        W, B, V, U = [], [], [], []
        iw = ib = iv = 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            W.append(np.reshape(w[iw : iw + n_out * n_in], (n_out, n_in), order="F").copy())
            B.append(np.asarray(b[ib : ib + n_out], dtype=float).copy())
            V.append(
                np.reshape(v[iv : iv + n_out * n_samples], (n_out, n_samples), order="F").copy()
            )
            U.append(
                np.reshape(u[iv : iv + n_out * n_samples], (n_out, n_samples), order="F").copy()
            )
            iw += n_out * n_in
            ib += n_out
            iv += n_out * n_samples
        if iw != w.size or ib != b.size or iv != v.size or iv != u.size:
            raise ValueError("vector lengths do not match sizes and n_samples")
        return cls(W, B, V, U)


@dataclass(frozen=True)
class Problem:
    r"""Data and parameters of (PP).

    Parameters
    ----------
    X : ndarray, shape (N_0, N)
        Inputs, one sample per column.
    Y : ndarray, shape (N_L, N)
        Targets, one sample per column.
    sizes : sequence of int
        ``(N_0, N_1, ..., N_L)``; ``N_0`` and ``N_L`` must match ``X`` and ``Y``.
    alpha : float
        Leaky-ReLU slope in (0, 1); 0 only for the ReLU variant (PP_b), with ``relu_bias_bound``.
    lambda_w, lambda_v : float
        Weights of the group lasso :math:`\mathcal R_1` and of :math:`\mathcal R_2 = \lambda_v\|v\|^2`.
    beta : sequence of float
        Penalty parameters :math:`\beta_1, \dots, \beta_L \ge 0`.
    relu_bias_bound : float or None
        The lower bound :math:`-\bar N(\theta_w + \theta_v)` on every bias entry in (PP_b); ``None``
        for (PP).
    """

    X: np.ndarray
    Y: np.ndarray
    sizes: tuple[int, ...]
    alpha: float
    lambda_w: float
    lambda_v: float
    beta: tuple[float, ...]
    relu_bias_bound: float | None = None
    _meta: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def create(
        cls,
        X: np.ndarray,
        Y: np.ndarray,
        sizes: Sequence[int],
        alpha: float,
        lambda_w: float,
        lambda_v: float,
        beta: float | Sequence[float],
        relu_bias_bound: float | None = None,
    ) -> Problem:
        """Validate every argument and build the problem."""
        X = as_float_array("X", X, ndim=2)
        Y = as_float_array("Y", Y, ndim=2)
        sizes = check_sizes(sizes)
        if X.shape[0] != sizes[0]:
            raise ValueError(f"X must have sizes[0] = {sizes[0]} rows; got shape {X.shape}")
        check_shape("Y", Y, (sizes[-1], X.shape[1]))
        alpha = check_alpha(alpha, allow_zero=relu_bias_bound is not None)
        L = len(sizes) - 1
        if np.ndim(beta) == 0:
            beta_t = (check_nonnegative("beta", beta),) * L
        else:
            beta_t = tuple(check_nonnegative(f"beta[{i}]", x) for i, x in enumerate(beta))
            if len(beta_t) != L:
                raise ValueError(f"beta must have one entry per layer ({L}); got {len(beta_t)}")
        if relu_bias_bound is not None:
            relu_bias_bound = float(relu_bias_bound)
            if not np.isfinite(relu_bias_bound) or relu_bias_bound > 0:
                raise ValueError(
                    f"relu_bias_bound must be a finite number <= 0; got {relu_bias_bound}"
                )
        return cls(
            X,
            Y,
            sizes,
            alpha,
            check_nonnegative("lambda_w", lambda_w),
            check_nonnegative("lambda_v", lambda_v),
            beta_t,
            relu_bias_bound,
        )

    # ----------------------------------------------------------------------------------- sizes
    @property
    def n_samples(self) -> int:
        return self.X.shape[1]

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    # ------------------------------------------------------------------------------- the parts
    def loss(self, VL: np.ndarray) -> float:
        r"""Data term :math:`\frac1N\|V_L - Y\|_F^2`."""
        return float(np.sum((VL - self.Y) ** 2) / self.n_samples)

    def group_lasso(self, W: Sequence[np.ndarray]) -> float:
        r""":math:`\mathcal R_1(w) = \lambda_w \sum_\ell \sum_j \|(W_\ell)_{:,j}\|_2`."""
        return float(self.lambda_w * sum(np.sum(np.linalg.norm(Wl, axis=0)) for Wl in W))

    def ridge(self, V: Sequence[np.ndarray]) -> float:
        r""":math:`\mathcal R_2(v) = \lambda_v \sum_\ell \|V_\ell\|_F^2`."""
        return float(self.lambda_v * sum(np.sum(Vl**2) for Vl in V))

    def penalty(self, V: Sequence[np.ndarray], U: Sequence[np.ndarray]) -> float:
        r"""Exact penalty :math:`\sum_\ell \beta_\ell 1^T (V_\ell - \sigma(U_\ell)) 1`."""
        return float(
            sum(
                bl * np.sum(Vl - leaky_relu(Ul, self.alpha))
                for bl, Vl, Ul in zip(self.beta, V, U, strict=True)
            )
        )

    def objective_bar(self, p: LiftedPoint) -> float:
        r""":math:`\bar O(w, v)`, the objective of (P)."""
        return self.loss(p.V[-1]) + self.group_lasso(p.W) + self.ridge(p.V)

    def objective(self, p: LiftedPoint) -> float:
        r""":math:`O(w, v, u) = \bar O(w, v) + \beta^T (v - \sigma(u))`, the objective of (PP)."""
        return self.objective_bar(p) + self.penalty(p.V, p.U)

    def network_objective(self, W: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> float:
        r"""Objective of the talk's problem (1): :math:`\frac1N\sum_n\|\mathrm{net}(x_n)-y_n\|^2 + \mathcal R_1(w)`."""
        _, V = forward(W, b, self.X, self.alpha)
        return self.loss(V[-1]) + self.group_lasso(W)

    # ------------------------------------------------------------------------ the constraints
    def residual(self, p: LiftedPoint) -> list[np.ndarray]:
        r"""Linear-constraint residual :math:`u - \Psi(v) w - A b`, per layer: :math:`U_\ell - W_\ell V_{\ell-1} - b_\ell 1^T`."""
        prev = [self.X, *p.V[:-1]]
        return [
            Ul - Wl @ Vp - bl[:, None] for Ul, Wl, Vp, bl in zip(p.U, p.W, prev, p.b, strict=True)
        ]

    def residual_norm(self, p: LiftedPoint) -> float:
        r""":math:`\|u - \Psi(v) w - A b\|_2` (all layers and samples)."""
        return float(np.sqrt(sum(np.sum(R**2) for R in self.residual(p))))

    def inequality_violation(self, p: LiftedPoint) -> float:
        """Largest violation of ``v >= u`` and ``v >= alpha u`` (0 when both hold)."""
        return float(
            max(
                np.max(np.maximum(leaky_relu(Ul, self.alpha) - Vl, 0.0))
                for Vl, Ul in zip(p.V, p.U, strict=True)
            )
        )

    def feas_vi(self, p: LiftedPoint) -> float:
        r"""FeasVi of the talk.

        .. math::
            \frac1N\sum_{n,\ell}\|v_{n,\ell}-\sigma(u_{n,\ell})\|^2
            + \frac1N\sum_{n,\ell}\|u_{n,\ell}-(W_\ell v_{n,\ell-1}+b_\ell)\|^2
        """
        a = sum(
            np.sum((Vl - leaky_relu(Ul, self.alpha)) ** 2) for Vl, Ul in zip(p.V, p.U, strict=True)
        )
        r = sum(np.sum(R**2) for R in self.residual(p))
        return float((a + r) / self.n_samples)

    def lift(self, W: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> LiftedPoint:
        """The feasible lifted point of given weights: ``U = W V + b``, ``V = sigma(U)`` layer by layer."""
        U, V = forward(W, b, self.X, self.alpha)
        return LiftedPoint(
            [np.array(a, dtype=float) for a in W], [np.array(a, dtype=float) for a in b], V, U
        )

    def check_point(self, p: LiftedPoint) -> None:
        """Raise ``ValueError`` unless every block of ``p`` has this problem's shape and is finite."""
        N = self.n_samples
        for name, blocks in (("W", p.W), ("b", p.b), ("V", p.V), ("U", p.U)):
            if len(blocks) != self.n_layers:
                raise ValueError(
                    f"point.{name} must hold {self.n_layers} layers; got {len(blocks)}"
                )
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            for name, arr, shape in (
                ("W", p.W[i], (n_out, n_in)),
                ("b", p.b[i], (n_out,)),
                ("V", p.V[i], (n_out, N)),
                ("U", p.U[i], (n_out, N)),
            ):
                a = as_float_array(f"point.{name}[{i}]", arr)
                check_shape(f"point.{name}[{i}]", a, shape)
