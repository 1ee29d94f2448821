r"""Numpy-only re-check of structured certificates of (PP) and (P) at a point of a network.

Nothing here builds the big Jacobian or calls a solver: the residual of a witness is computed layer
by layer (:func:`residual_blocks`), the membership rules entry by entry (:func:`membership_violation`),
and a proof of failure (a direction ``d``) by one forward pass (:func:`direction_bound`). At small
sizes these numbers equal those of the generic :func:`~.classify.check` on :func:`~.lifted.pp_problem`
/ :func:`~.lifted.p_problem` (tested in ``tests/stationarity/test_network_check.py``).

Convention (docs/stationarity.md, :func:`~.lifted.pp_residual_blocks`): with
:math:`G_\ell = \tfrac2N(V_L - Y)[\ell = L] + 2\lambda_v V_\ell + \beta_\ell - W_{\ell+1}^T\Xi_{\ell+1}`
(:math:`\beta = 0` for (P)), the (PP) system is

.. math::

    R^W_\ell = Z_\ell - \Xi_\ell V_{\ell-1}^T,\quad R^b_\ell = -\Xi_\ell 1,\quad
    R^V_\ell = G_\ell - M^1_\ell - M^2_\ell,\quad
    R^U_\ell = \Xi_\ell + M^1_\ell + \alpha M^2_\ell - \beta_\ell S_\ell ,

and (P) is the same with :math:`\beta = 0` and no :math:`S` (:math:`M^1 = \nu`, :math:`M^2 = w`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model.problem import LiftedPoint, Problem

PP_NOTIONS = ("KKT", "Clarke")
P_NOTIONS = ("W", "A", "C", "M", "S")
# (P): per biactive entry the branches of each notion as (nu pattern, w pattern), as in classify.
PAIR_BRANCHES: dict[str, list[tuple[str, str]]] = {
    "W": [("f", "f")],
    "A": [("+", "f"), ("f", "+")],
    "C": [("+", "+"), ("-", "-")],
    "M": [("+", "+"), ("0", "f"), ("f", "0")],
    "S": [("+", "+")],
}


def _pattern_violation(pattern: str, x: np.ndarray) -> np.ndarray:
    if pattern == "+":
        return np.maximum(-x, 0.0)
    if pattern == "-":
        return np.maximum(x, 0.0)
    if pattern == "0":
        return np.abs(x)
    return np.zeros_like(x)


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
        if problem.lambda_w > 0:
            zc = [np.linalg.norm(W, axis=0) <= a for W in point.W]
        else:
            zc = [np.zeros(W.shape[1], dtype=bool) for W in point.W]
        return cls(float(a), G, H, kz, zc)

    def key(self) -> tuple:
        return tuple(
            np.packbits(m).tobytes() for ms in (self.G, self.H, self.kz, self.zero_cols) for m in ms
        )


def fixed_slopes(problem: Problem, point: LiftedPoint) -> list[np.ndarray]:
    """Slope of :math:`\\sigma` at each ``u`` off the kink: 1 if ``u > 0`` else ``alpha``."""
    return [np.where(U > 0, 1.0, problem.alpha) for U in point.U]


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


def network_scale(problem: Problem, point: LiftedPoint, kind: str) -> float:
    r""":func:`~.kernel.problem_scale` of :func:`~.lifted.pp_problem` (``kind="PP"``) or
    :func:`~.lifted.p_problem` (``"P"``) without building them: the largest entry of the smooth
    gradient (only its ``v`` block is nonzero), of the group weights (each ``w`` coordinate is in one
    group: :math:`\lambda_w`) and of the kink terms (each ``u`` has one, :math:`|{-\beta_\ell}|\cdot 1`),
    floored at 1."""
    s = max(1.0, max(float(np.max(np.abs(G), initial=0.0)) for G in loss_and_ridge_gradient(problem, point, kind)))
    if problem.lambda_w > 0:
        s = max(s, problem.lambda_w)
    if kind == "PP":
        s = max(s, max(problem.beta))
    return s


def residual_blocks(
    problem: Problem, point: LiftedPoint, kind: str, wit: dict[str, list[np.ndarray]]
) -> dict[str, list[np.ndarray]]:
    """The four residual blocks (module docstring) of the witness ``wit`` (keys ``Xi, M1, M2, Z``
    and, for (PP), ``S``; lists of per-layer arrays)."""
    L = problem.n_layers
    grads = loss_and_ridge_gradient(problem, point, kind)
    out: dict[str, list[np.ndarray]] = {"W": [], "b": [], "V": [], "U": []}
    for l in range(L):
        Xi = wit["Xi"][l]
        Vprev = problem.X if l == 0 else point.V[l - 1]
        out["W"].append(wit["Z"][l] - Xi @ Vprev.T)
        out["b"].append(-Xi.sum(axis=1))
        RV = grads[l] - wit["M1"][l] - wit["M2"][l]
        if l < L - 1:
            RV = RV - point.W[l + 1].T @ wit["Xi"][l + 1]
        out["V"].append(RV)
        RU = Xi + wit["M1"][l] + problem.alpha * wit["M2"][l]
        if kind == "PP":
            RU = RU - problem.beta[l] * wit["S"][l]
        out["U"].append(RU)
    return out


def _max(x: np.ndarray) -> float:
    return float(np.max(x, initial=0.0))


def membership_violation(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    wit: dict[str, list[np.ndarray]],
    act: Activity,
) -> dict[str, float]:
    """Largest violation of each rule of ``notion``'s multiplier set (0 = member), entry by entry."""
    al = problem.alpha
    out = {"M1": 0.0, "M2": 0.0, "pair_rule": 0.0, "kink_slope": 0.0, "group_subgradient": 0.0}
    s_fix = fixed_slopes(problem, point)
    for l in range(problem.n_layers):
        M1, M2, G, H = wit["M1"][l], wit["M2"][l], act.G[l], act.H[l]
        out["M1"] = max(out["M1"], _max(np.abs(M1[~G])))
        out["M2"] = max(out["M2"], _max(np.abs(M2[~H])))
        if kind == "PP":
            out["M1"] = max(out["M1"], _max(-M1[G]))
            out["M2"] = max(out["M2"], _max(-M2[H]))
            S, kz = wit["S"][l], act.kz[l]
            out["kink_slope"] = max(out["kink_slope"], _max(np.abs(S - s_fix[l])[~kz]))
            Sk = S[kz]
            if notion == "KKT" and problem.beta[l] > 0:  # concave kink: two limiting slopes
                kv = np.minimum(np.abs(Sk - al), np.abs(Sk - 1.0))
            else:
                kv = np.maximum(np.maximum(al - Sk, Sk - 1.0), 0.0)
            out["kink_slope"] = max(out["kink_slope"], _max(kv))
        else:
            bi = G & H
            nu, w = M1[bi], M2[bi]
            best = np.full(nu.shape, np.inf)
            for pn, pw in PAIR_BRANCHES[notion]:
                best = np.minimum(
                    best, np.maximum(_pattern_violation(pn, nu), _pattern_violation(pw, w))
                )
            out["pair_rule"] = max(out["pair_rule"], _max(best))
    fixed = group_terms(problem, point, act)
    for l, (Z, zc) in enumerate(zip(wit["Z"], act.zero_cols, strict=True)):
        nz = np.linalg.norm(Z[:, zc], axis=0) - problem.lambda_w
        dev = np.linalg.norm(Z[:, ~zc] - fixed[l][:, ~zc], axis=0)
        out["group_subgradient"] = max(out["group_subgradient"], _max(nz), _max(dev))
    return out


def check_witness(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    wit: dict[str, list[np.ndarray]],
    act_tol: float,
    blocks: dict[str, list[np.ndarray]] | None = None,
) -> dict[str, float]:
    """Residual (:math:`\\|\\cdot\\|_\\infty` of all blocks) and membership violations of a witness,
    activity recomputed at ``act_tol``; ``"max"`` is the largest of them (NaN counts as infinite).
    ``blocks``: the :func:`residual_blocks` of ``wit`` if already computed (saves a pass)."""
    _validate_witness(problem, point, kind, wit)
    act = Activity.at(problem, point, act_tol, kind)
    if blocks is None:
        blocks = residual_blocks(problem, point, kind, wit)
    out = {
        f"residual_{k}": max(float(np.max(np.abs(B), initial=0.0)) for B in v)
        for k, v in blocks.items()
    }
    out.update(membership_violation(problem, point, kind, notion, wit, act))
    vals = np.array(list(out.values()))
    out["max"] = float(np.inf if not np.all(np.isfinite(vals)) else np.max(vals))
    return out


def _validate_witness(problem: Problem, point: LiftedPoint, kind: str, wit: dict) -> None:
    keys = ("Xi", "M1", "M2", "Z") + (("S",) if kind == "PP" else ())
    for k in keys:
        if k not in wit:
            raise ValueError(f"witness must have key {k!r}; it has {sorted(wit)}")
        if len(wit[k]) != problem.n_layers:
            raise ValueError(
                f"witness[{k!r}] must hold {problem.n_layers} layers; got {len(wit[k])}"
            )
        for l, arr in enumerate(wit[k]):
            shape = point.W[l].shape if k == "Z" else point.U[l].shape
            if np.shape(arr) != shape:
                raise ValueError(
                    f"witness[{k!r}][{l}] must have shape {shape}; got {np.shape(arr)}"
                )


# ------------------------------------------------------------------------- proofs of failure
def propagate_direction(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    act: Activity,
    dW: list[np.ndarray],
    db: list[np.ndarray],
    seed: tuple[int, int, int, float] | None = None,
    robust: Activity | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    r"""Directions :math:`dU, dV` with :math:`J_h d = 0` (linearized forward pass) that stay in the
    cone of ``notion``: where :math:`v - u` is active :math:`dv \ge du`, where :math:`v - \alpha u`
    is active :math:`dv \ge \alpha du` ((PP) and (P)-S; equalities off the biactive entries for
    (P)), taking the smallest such ``dv``. ``seed = (l, i, n, value)`` adds ``value`` to one
    :math:`dv`. For (P)-W/A/C/M a biactive entry needs ``du = 0``; ``None`` if that fails."""
    al = problem.alpha
    dU, dV = [], []
    prev_d = np.zeros_like(problem.X)
    prev = problem.X
    for l in range(problem.n_layers):
        du = dW[l] @ prev + point.W[l] @ prev_d + db[l][:, None]
        G, H = act.G[l], act.H[l]
        # slope 1 where only v - u is active (or neither, u > 0), alpha where only v - alpha u is
        slope = np.where(G & ~H, 1.0, np.where(H & ~G, al, np.where(point.U[l] > 0, 1.0, al)))
        dv = slope * du
        bi = G & H
        if robust is not None and kind == "PP":
            # dv = sigma(du) where both constraints are active at the larger activity of the band:
            # then d is in the (PP) cone at every activity level of the band (one proof for all)
            bi = bi | (robust.G[l] & robust.H[l])
        if bi.any():
            if kind == "P" and notion != "S":
                # W/A/C/M: both pair multipliers are free at a biactive entry, so d must keep
                # v - u and v - alpha u at 0 there: dv = 0; du = 0 is checked by direction_bound
                dv[bi] = 0.0
            else:
                dv[bi] = np.maximum(du[bi], al * du[bi])
        if seed is not None and seed[0] == l:
            dv = dv.copy()
            dv[seed[1], seed[2]] += seed[3]
        dU.append(du)
        dV.append(dv)
        prev, prev_d = point.V[l], dv
    return dU, dV


def direction_bound(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    act: Activity,
    d: dict[str, list[np.ndarray]],
    slopes: list[np.ndarray] | None = None,
) -> dict[str, float]:
    r"""A lower bound on the stationarity residual of every multiplier of ``notion``'s set.

    For ``d`` with :math:`J_h d = 0` and :math:`\langle J_c d, m\rangle \ge 0` for every admissible
    constraint multiplier ``m`` (the cone rules of :func:`propagate_direction`),
    :math:`d^T r \le D := \sup_{z, s}\, (\nabla f + \textstyle\sum z + T^T(c\odot s))^T d`, hence
    :math:`\|r\|_\infty \ge -D / \|d\|_1`. Returns ``D``, ``norm1``, ``bound`` and the largest
    violations of :math:`J_h d = 0` (``h``) and of the cone (``cone``); the bound is valid only
    when both are 0 (up to rounding, reported). ``slopes`` fixes :math:`s` at the kinks at zero (one
    branch of the limiting set)."""
    al = problem.alpha
    L = problem.n_layers
    dW, db, dV, dU = d["W"], d["b"], d["V"], d["U"]
    grads = loss_and_ridge_gradient(problem, point, kind)
    D = 0.0
    norm1 = 0.0
    h_viol = 0.0
    cone = 0.0
    s_fix = fixed_slopes(problem, point)
    prev, prev_d = problem.X, np.zeros_like(problem.X)
    for l in range(L):
        D += float(np.sum(grads[l] * dV[l]))
        if kind == "PP" and problem.beta[l] != 0:
            kz = act.kz[l]
            du = dU[l]
            if slopes is not None:
                s = np.where(kz, slopes[l], s_fix[l])
            else:  # sup over s in [alpha, 1] (or {alpha, 1}) of -beta s du: the smaller slope term
                s = np.where(kz, np.where(du > 0, al, 1.0), s_fix[l])
            D += float(np.sum(-problem.beta[l] * s * du))
        norm1 += sum(float(np.sum(np.abs(a))) for a in (dW[l], db[l], dV[l], dU[l]))
        lin = dU[l] - dW[l] @ prev - point.W[l] @ prev_d - db[l][:, None]
        h_viol = max(h_viol, float(np.max(np.abs(lin), initial=0.0)))
        G, H = act.G[l], act.H[l]
        gv, hv = dV[l] - dU[l], dV[l] - al * dU[l]
        if kind == "PP" or notion == "S":
            need_eq_G = (G & ~H) if kind == "P" else np.zeros_like(G)
            need_eq_H = (H & ~G) if kind == "P" else np.zeros_like(H)
            cone = max(cone, _max(-gv[G]), _max(-hv[H]), _max(np.abs(gv[need_eq_G])))
            cone = max(cone, _max(np.abs(hv[need_eq_H])))
        else:
            cone = max(cone, _max(np.abs(gv[G])), _max(np.abs(hv[H])))
        prev, prev_d = point.V[l], dV[l]
    if problem.lambda_w > 0:
        for W, dWl, zc in zip(point.W, dW, act.zero_cols, strict=True):
            nrm = np.linalg.norm(W, axis=0)
            nzc = ~zc
            D += problem.lambda_w * float(
                np.sum(np.sum(W[:, nzc] * dWl[:, nzc], axis=0) / nrm[nzc])
            )
            D += problem.lambda_w * float(np.sum(np.linalg.norm(dWl[:, zc], axis=0)))
    bound = -D / norm1 if norm1 > 0 else 0.0
    return {"D": D, "norm1": norm1, "bound": bound, "h": h_viol, "cone": cone}


def check_direction(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    d: dict[str, list[np.ndarray]],
    act_tol: float,
    slopes: list[np.ndarray] | None = None,
) -> dict[str, Any]:
    """Re-check a proof of failure: the bound of :func:`direction_bound` with the activity recomputed
    at ``act_tol``; ``valid`` when ``d`` is finite, :math:`J_h d = 0` and the cone rules hold up to
    rounding (``1e-12`` relative to ``d``)."""
    for k in ("W", "b", "V", "U"):
        if k not in d or len(d[k]) != problem.n_layers:
            raise ValueError(f"direction must have key {k!r} with {problem.n_layers} layers")
        if not all(np.all(np.isfinite(a)) for a in d[k]):
            return {"valid": False, "bound": 0.0, "reason": "direction is not finite"}
    act = Activity.at(problem, point, act_tol, kind)
    out: dict[str, Any] = direction_bound(problem, point, kind, notion, act, d, slopes)
    scale = max(1.0, max(float(np.max(np.abs(a), initial=0.0)) for a in d["V"] + d["U"]))
    out["valid"] = bool(out["h"] <= 1e-12 * scale * 10 and out["cone"] <= 1e-12 * scale * 10)
    return out
