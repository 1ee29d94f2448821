r"""Per-point quantities of the structured certifier's checks (:mod:`.network_check`): the activity
masks, the fixed slopes, the smooth gradient, the group terms, the scale, and :class:`PointData`, which
computes them once per point and is shared by every check and every activity level of one certificate.
Numpy only, like the checks that read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.problem import LiftedPoint, Problem


@dataclass(frozen=True)
class Activity:
    """Per-layer activity masks at tolerance ``a`` (the rules of :meth:`.classify.Activity.at`).

    ``G``: :math:`v - u \\le a`; ``H``: :math:`v - \\alpha u \\le a`; ``kz``: :math:`|u| \\le a`
    ((PP) only: a kink of :math:`-\\beta\\sigma` at zero); ``zero_cols[l]``: columns of ``W_l`` with
    norm at most ``a``.
    """

    a: float
    G: list[np.ndarray]
    H: list[np.ndarray]
    kz: list[np.ndarray]
    zero_cols: list[np.ndarray]

    @classmethod
    def at(cls, problem: Problem, point: LiftedPoint, a: float, kind: str) -> Activity:
        al = problem.alpha
        G = [(V - U) <= a for V, U in zip(point.V, point.U, strict=True)]
        H = [(V - al * U) <= a for V, U in zip(point.V, point.U, strict=True)]
        if kind == "PP":
            kz = [np.abs(U) <= a for U in point.U]
        else:
            kz = [np.zeros(U.shape, dtype=bool) for U in point.U]
        return cls(float(a), G, H, kz, cls.at_columns(problem, point, a))

    @staticmethod
    def at_columns(problem: Problem, point: LiftedPoint, a: float) -> list[np.ndarray]:
        """``zero_cols``: columns of each ``W_l`` with norm at most ``a`` (none when ``lambda_w = 0``)."""
        if problem.lambda_w > 0:
            return [np.linalg.norm(W, axis=0) <= a for W in point.W]
        return [np.zeros(W.shape[1], dtype=bool) for W in point.W]

    def key(self) -> tuple:
        return tuple(
            np.packbits(m).tobytes() for ms in (self.G, self.H, self.kz, self.zero_cols) for m in ms
        )


def _read_only(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Shared arrays are frozen: a caller that writes into one gets an error, not a wrong cache."""
    for a in arrays:
        a.flags.writeable = False
    return arrays


class PointData:
    r"""What every check at one point reads, computed once: the layer inputs
    :math:`V_{\ell-1}` (``prev``), the smooth gradient per kind (:func:`loss_and_ridge_gradient`),
    the fixed slopes, the activity per tolerance and, per direction, the part of
    :func:`direction_bound` that does not depend on the activity.

    The structured certifier builds one per point and hands it to the functions below as ``data``
    (then a re-check at another activity level costs elementwise work, not another forward pass);
    without ``data`` they build a fresh one, so a caller's own re-check never reads a cache. The
    point's arrays must not change while it is in use.
    """

    def __init__(self, problem: Problem, point: LiftedPoint):
        self.problem, self.point = problem, point
        self.prev = [problem.X, *point.V[:-1]]
        self._grads: dict[str, list[np.ndarray]] = {}
        self._act: dict[tuple[float, str], Activity] = {}
        self._s_fix: list[np.ndarray] | None = None
        self._slope: dict[int, tuple[Activity, list[np.ndarray]]] = {}
        self._dirs: dict[tuple[int, str], tuple[dict, dict]] = {}
        self._gaps: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] | None = None
        self._buf: list[np.ndarray] | None = None
        self._pairs: dict[int, tuple[Activity, list[tuple[np.ndarray, ...]]]] = {}

    def buf(self, l: int) -> np.ndarray:
        """A scratch array of layer ``l``'s shape (``N_l x N``), overwritten by every user."""
        if self._buf is None:
            self._buf = [np.empty(U.shape) for U in self.point.U]
        return self._buf[l]

    def pair_index(self, act: Activity, robust: Activity | None = None) -> list[tuple[np.ndarray, ...]]:
        """Per layer the indices of the entries with both constraints active (at ``act`` or, when
        given, at ``robust``): few, so the work on them is by index, not by mask."""
        key = id(act) if robust is None else (id(act), id(robust))
        if key not in self._pairs:
            out = []
            for l in range(len(act.G)):
                bi = act.G[l] & act.H[l]
                if robust is not None:
                    bi |= robust.G[l] & robust.H[l]
                out.append(np.nonzero(bi))
            self._pairs[key] = ((act, robust), out)
        return self._pairs[key][1]

    @classmethod
    def of(cls, problem: Problem, point: LiftedPoint, data: PointData | None) -> PointData:
        if data is None:
            return cls(problem, point)
        if data.problem is not problem or data.point is not point:
            raise ValueError("data: a PointData of another problem or point")
        return data

    def grads(self, kind: str) -> list[np.ndarray]:
        if kind not in self._grads:
            self._grads[kind] = _read_only(loss_and_ridge_gradient(self.problem, self.point, kind))
        return self._grads[kind]

    def s_fix(self) -> list[np.ndarray]:
        if self._s_fix is None:
            self._s_fix = _read_only(fixed_slopes(self.problem, self.point))
        return self._s_fix

    def gaps(self, kind: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        """Per layer the values the activity compares with a threshold: :math:`v - u`,
        :math:`v - \alpha u` and, for (PP), :math:`|u|` (None until a (PP) activity needs it)."""
        if self._gaps is None:
            al = self.problem.alpha
            self._gaps = [(V - U, V - al * U, None) for V, U in zip(self.point.V, self.point.U, strict=True)]
        if kind == "PP" and self._gaps[0][2] is None:
            self._gaps = [(g, h, np.abs(U)) for (g, h, _), U in zip(self._gaps, self.point.U, strict=True)]
        for arrays in self._gaps:
            for x in arrays:
                if x is not None:
                    x.flags.writeable = False
        return self._gaps

    def activity(self, a: float, kind: str) -> Activity:
        """:meth:`Activity.at` (the same masks: the gaps :math:`v - u`, :math:`v - \\alpha u`,
        :math:`|u|` are computed once and compared with ``a``)."""
        key = (float(a), kind)
        if key not in self._act:
            gaps = self.gaps(kind)
            G = [g <= a for g, _, _ in gaps]
            H = [h <= a for _, h, _ in gaps]
            if kind == "PP":
                kz = [u <= a for _, _, u in gaps]
            else:
                kz = [np.zeros(U.shape, dtype=bool) for U in self.point.U]
            zc = Activity.at_columns(self.problem, self.point, a)
            self._act[key] = Activity(float(a), G, H, kz, zc)
        return self._act[key]

    def slopes_off_pairs(self, act: Activity) -> list[np.ndarray]:
        r"""Per layer the slope :math:`dv/du` of a direction where at most one constraint is
        active (:func:`propagate_direction`): 1 where only :math:`v - u` is, :math:`\alpha`
        where only :math:`v - \alpha u` is, the slope of :math:`\sigma` at ``u`` where none is."""
        if id(act) not in self._slope:
            al = self.problem.alpha
            out = []
            for G, H, U in zip(act.G, act.H, self.point.U, strict=True):
                # 1 where only v - u is active or (neither, u > 0); alpha otherwise
                one = (G & ~H) | ((U > 0) & ~(H & ~G))
                out.append(_select(one, 1.0, al))
            self._slope[id(act)] = (act, out)
        return self._slope[id(act)][1]


def fixed_slopes(problem: Problem, point: LiftedPoint) -> list[np.ndarray]:
    """Slope of :math:`\\sigma` at each ``u`` off the kink: 1 if ``u > 0`` else ``alpha``."""
    return [_select(U > 0, 1.0, problem.alpha) for U in point.U]


def _select(mask: np.ndarray, a: float, b: float) -> np.ndarray:
    """``np.where(mask, a, b)`` for finite scalars, exactly (one of the two products is 0), in two
    products and a sum: several times faster than ``np.where`` on a random mask."""
    out = np.multiply(mask, a)
    out += np.multiply(~mask, b)
    return out


def loss_and_ridge_gradient(problem: Problem, point: LiftedPoint, kind: str) -> list[np.ndarray]:
    r"""Gradient of the smooth part of the objective in :math:`V_\ell`:
    :math:`2\lambda_v V_\ell + \beta_\ell` ((PP) only) :math:`+ \tfrac2N (V_L - Y)` (last layer)."""
    L, N = problem.n_layers, problem.n_samples
    out = []
    for l, V in enumerate(point.V):
        G = 2.0 * problem.lambda_v * V
        if kind == "PP":
            G = G + problem.beta[l]
        if l == L - 1:
            G = G + (2.0 / N) * (V - problem.Y)
        out.append(G)
    return out


def group_terms(problem: Problem, point: LiftedPoint, act: Activity) -> list[np.ndarray]:
    r""":math:`\lambda_w W_{:,j}/\|W_{:,j}\|` on the nonzero columns, 0 on the zero columns."""
    out = []
    for W, zc in zip(point.W, act.zero_cols, strict=True):
        if problem.lambda_w == 0:
            out.append(np.zeros_like(W))
            continue
        nrm = np.linalg.norm(W, axis=0)
        Z = problem.lambda_w * W / np.where(nrm > 0, nrm, 1.0)
        Z[:, zc] = 0.0
        out.append(Z)
    return out


def network_scale(
    problem: Problem, point: LiftedPoint, kind: str, data: PointData | None = None
) -> float:
    r""":func:`~.kernel.problem_scale` of :func:`~.lifted.pp_problem` (``kind="PP"``) or
    :func:`~.lifted.p_problem` (``"P"``) without building them: the largest entry of the smooth
    gradient (only its ``v`` block is nonzero), of the group weights (each ``w`` coordinate is in one
    group: :math:`\lambda_w`) and of the kink terms (each ``u`` has one, :math:`|{-\beta_\ell}|\cdot 1`),
    floored at 1. ``data``: the point's :class:`PointData` (its gradient, computed once)."""
    grads = data.grads(kind) if data is not None else loss_and_ridge_gradient(problem, point, kind)
    s = max(1.0, max(float(np.max(np.abs(G), initial=0.0)) for G in grads))
    if problem.lambda_w > 0:
        s = max(s, problem.lambda_w)
    if kind == "PP":
        s = max(s, max(problem.beta))
    return s
