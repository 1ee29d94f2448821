r"""Numpy-only re-check of structured certificates of (PP) and (P) at a point of a network.

Nothing here builds the big Jacobian or calls a solver: the residual of a witness is computed layer
by layer (:func:`residual_blocks`), the membership rules entry by entry (:func:`membership_violation`),
and a proof of failure (a direction ``d``) by one forward pass (:func:`direction_bound`); the
per-point quantities they read (activity masks, gradients, slopes) come from :mod:`.network_data`,
computed once per certificate when the certifier passes its ``data``. At small
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

import math
from typing import Any

import numpy as np

from ..model.problem import LiftedPoint, Problem
from .network_data import (  # noqa: F401  (re-exported: the checks' public names)
    Activity,
    PointData,
    fixed_slopes,
    group_terms,
    loss_and_ridge_gradient,
    network_scale,
)

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


def _masked_abs_max(x: np.ndarray, mask: np.ndarray, buf: np.ndarray | None = None) -> float:
    """:math:`\\max(0, \\max_{mask}|x|)` by a product with the mask (no copy of ``x[mask]``);
    infinite if ``x`` has a NaN or infinite entry anywhere (:math:`\\infty \\cdot 0` is NaN):
    never smaller than the true value."""
    y = np.multiply(x, mask, out=buf)
    hi, lo = float(np.max(y, initial=0.0)), float(np.min(y, initial=0.0))
    return math.inf if math.isnan(hi) or math.isnan(lo) else max(hi, -lo)


def _masked_neg_max(x: np.ndarray, mask: np.ndarray, buf: np.ndarray | None = None) -> float:
    """:math:`\\max(0, \\max_{mask} -x)`, infinite on NaN (as :func:`_masked_abs_max`)."""
    y = np.multiply(x, mask, out=buf)
    lo = float(np.min(y, initial=0.0))
    return math.inf if math.isnan(lo) else -lo


def residual_blocks(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    wit: dict[str, list[np.ndarray]],
    data: PointData | None = None,
) -> dict[str, list[np.ndarray]]:
    """The four residual blocks (module docstring) of the witness ``wit`` (keys ``Xi, M1, M2, Z``
    and, for (PP), ``S``; lists of per-layer arrays)."""
    data = PointData.of(problem, point, data)
    L = problem.n_layers
    grads = data.grads(kind)
    out: dict[str, list[np.ndarray]] = {"W": [], "b": [], "V": [], "U": []}
    for l in range(L):
        Xi = wit["Xi"][l]
        RW = wit["Z"][l] - Xi @ data.prev[l].T
        out["W"].append(RW)
        out["b"].append(-Xi.sum(axis=1))
        RV = np.subtract(grads[l], wit["M1"][l])
        RV -= wit["M2"][l]
        if l < L - 1:
            RV -= point.W[l + 1].T @ wit["Xi"][l + 1]
        out["V"].append(RV)
        RU = np.add(Xi, wit["M1"][l])
        RU += problem.alpha * wit["M2"][l]
        if kind == "PP":
            RU -= problem.beta[l] * wit["S"][l]
        out["U"].append(RU)
    return out


def _max(x: np.ndarray) -> float:
    return float(np.max(x, initial=0.0))


def residual_summary(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    wit: dict[str, list[np.ndarray]],
    data: PointData | None = None,
) -> dict:
    """What :func:`check_witness` and a proof of failure need of :func:`residual_blocks`, in one
    pass and without keeping the big blocks: ``"W"``, ``"b"`` (the blocks, per layer: a proof
    pushes them) and ``"max"``, the largest :math:`|\\cdot|` of each of the four blocks (the same
    arithmetic as :func:`residual_blocks`; :math:`R^V, R^U` are formed layer by layer in a scratch
    array). A NaN or infinite entry makes its maximum infinite."""
    data = PointData.of(problem, point, data)
    L = problem.n_layers
    grads = data.grads(kind)
    out: dict = {"W": [], "b": [], "max": {"W": 0.0, "b": 0.0, "V": 0.0, "U": 0.0}}
    worst = out["max"]
    for l in range(L):
        Xi = wit["Xi"][l]
        RW = wit["Z"][l] - Xi @ data.prev[l].T
        Rb = -Xi.sum(axis=1)
        out["W"].append(RW)
        out["b"].append(Rb)
        buf = data.buf(l)
        np.subtract(grads[l], wit["M1"][l], out=buf)
        buf -= wit["M2"][l]
        if l < L - 1:
            buf -= point.W[l + 1].T @ wit["Xi"][l + 1]
        for k, B in (("W", RW), ("b", Rb), ("V", buf)):
            worst[k] = _worst((worst[k], _abs_max(B)))
        np.add(Xi, wit["M1"][l], out=buf)
        buf += problem.alpha * wit["M2"][l]
        if kind == "PP":
            buf -= problem.beta[l] * wit["S"][l]
        worst["U"] = _worst((worst["U"], _abs_max(buf)))
    return out


def membership_violation(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    wit: dict[str, list[np.ndarray]],
    act: Activity,
    data: PointData | None = None,
) -> dict[str, float]:
    """Largest violation of each rule of ``notion``'s multiplier set (0 = member), entry by entry."""
    al = problem.alpha
    out = {"M1": 0.0, "M2": 0.0, "pair_rule": 0.0, "kink_slope": 0.0, "group_subgradient": 0.0}
    data = PointData.of(problem, point, data)
    s_fix = data.s_fix()
    for l in range(problem.n_layers):
        M1, M2, G, H = wit["M1"][l], wit["M2"][l], act.G[l], act.H[l]
        buf = data.buf(l)
        out["M1"] = max(out["M1"], _masked_abs_max(M1, ~G, buf))
        out["M2"] = max(out["M2"], _masked_abs_max(M2, ~H, buf))
        if kind == "PP":
            out["M1"] = max(out["M1"], _masked_neg_max(M1, G, buf))
            out["M2"] = max(out["M2"], _masked_neg_max(M2, H, buf))
            S, kz = wit["S"][l], act.kz[l]
            np.subtract(S, s_fix[l], out=buf)
            out["kink_slope"] = max(out["kink_slope"], _masked_abs_max(buf, ~kz, buf))
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
    data: PointData | None = None,
) -> dict[str, float]:
    """Residual (:math:`\\|\\cdot\\|_\\infty` of all blocks) and membership violations of a witness,
    activity recomputed at ``act_tol``; ``"max"`` is the largest of them, infinite when any entry of
    the witness is not finite (every number is then reported infinite: a NaN must not vanish in a
    maximum). ``blocks``: the :func:`residual_summary` (or :func:`residual_blocks`) of ``wit`` if
    already computed (saves a pass);
    ``data``: the :class:`PointData` of ``point`` (the certifier's; a fresh one when omitted)."""
    _validate_witness(problem, point, kind, wit)
    keys = ("residual_W", "residual_b", "residual_V", "residual_U", "M1", "M2", "pair_rule",
            "kink_slope", "group_subgradient")
    # a sum is finite only if every entry is (an overflow to inf only rejects, never accepts)
    if not all(math.isfinite(float(np.sum(a))) for k in keys_of(kind) for a in wit[k]):
        return {**dict.fromkeys(keys, np.inf), "max": np.inf}
    data = PointData.of(problem, point, data)
    act = data.activity(act_tol, kind)
    if blocks is None:
        blocks = residual_summary(problem, point, kind, wit, data)
    if "max" in blocks:  # a residual_summary
        out = {f"residual_{k}": float(v) for k, v in blocks["max"].items()}
    else:  # the four blocks of residual_blocks
        out = {f"residual_{k}": _worst(_abs_max(B) for B in v) for k, v in blocks.items()}
    out.update(membership_violation(problem, point, kind, notion, wit, act, data))
    vals = np.array(list(out.values()))
    out["max"] = float(np.inf if not np.all(np.isfinite(vals)) else np.max(vals))
    return out


def _abs_max(x: np.ndarray) -> float:
    """:math:`\\max|x|` in two reductions, without an ``abs`` temporary; NaN if ``x`` has one."""
    if x.size == 0:
        return 0.0
    hi, lo = float(np.max(x)), float(np.min(x))
    return math.nan if math.isnan(hi) or math.isnan(lo) else max(hi, -lo, 0.0)


def _worst(values) -> float:
    """The largest of ``values``, infinite if one is NaN (Python's ``max`` would drop it)."""
    vals = list(values)
    return math.inf if any(math.isnan(v) for v in vals) else max(vals, default=0.0)


def keys_of(kind: str) -> tuple[str, ...]:
    """The blocks of a witness of (PP) (``kind="PP"``) or (P)."""
    return ("Xi", "M1", "M2", "Z") + (("S",) if kind == "PP" else ())


def _validate_witness(problem: Problem, point: LiftedPoint, kind: str, wit: dict) -> None:
    for k in keys_of(kind):
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
#: a (P)-W/A/C/M direction whose du at a biactive entry exceeds this (relative to the direction's
#: size on those samples) cannot pass :func:`check_direction` (``1e-11``): it is not propagated
PAIR_PRECHECK_RTOL = 1e-6


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
    data: PointData | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]] | None:
    r"""Directions :math:`dU, dV` with :math:`J_h d = 0` (linearized forward pass) that stay in the
    cone of ``notion``: where :math:`v - u` is active :math:`dv \ge du`, where :math:`v - \alpha u`
    is active :math:`dv \ge \alpha du` ((PP) and (P)-S; equalities off the biactive entries for
    (P)), taking the smallest such ``dv``. ``seed = (l, i, n, value)`` adds ``value`` to one
    :math:`dv`. For (P)-W/A/C/M a biactive entry needs ``du = 0``: that is tried first on the
    samples holding biactive entries only, and ``None`` is returned when it fails there by more than
    :data:`PAIR_PRECHECK_RTOL` (no proof is lost that :func:`check_direction` would accept, up to
    that margin). Layer 1's input ``X`` does not move, and a zero ``dW_l`` costs no product."""
    data = PointData.of(problem, point, data)
    al = problem.alpha
    slopes = data.slopes_off_pairs(act)
    pairs_fixed = kind == "P" and notion != "S"
    # dv = sigma(du) where both constraints are active at the larger activity of the band (PP):
    # then d is in the (PP) cone at every activity level of the band (one proof for all)
    bis = data.pair_index(act, robust if kind == "PP" else None)
    if pairs_fixed and any(bi[0].size for bi in bis):
        cols = np.unique(np.concatenate([bi[1] for bi in bis]))
        viol, size = _linear_pass(point, dW, db, data, slopes, bis, cols, pairs_fixed, al)
        if viol > PAIR_PRECHECK_RTOL * size:
            return None
    dU, dV = _linear_pass(point, dW, db, data, slopes, bis, None, pairs_fixed, al, seed)
    return dU, dV


def _linear_pass(point, dW, db, data, slopes, bis, cols, pairs_fixed, al, seed=None):
    """The forward pass of :func:`propagate_direction`, on all samples (``cols=None``: returns
    ``dU, dV``) or on the samples ``cols`` (returns the largest :math:`|du|` at their biactive
    entries and :math:`\\max(1, |du|, |dv|)` there)."""
    dU, dV = [], []
    prev_d = None
    worst, size = 0.0, 1.0
    for l in range(len(point.W)):
        prev = data.prev[l] if cols is None else data.prev[l][:, cols]
        if dW[l].any():
            du = dW[l] @ prev
        else:
            du = np.zeros((point.W[l].shape[0], prev.shape[1]))
        if prev_d is not None:
            du += point.W[l] @ prev_d
        du += db[l][:, None]
        dv = (slopes[l] if cols is None else slopes[l][:, cols]) * du
        bi = bis[l]
        if cols is not None:  # the same entries in the columns of the restricted pass
            bi = (bi[0], np.searchsorted(cols, bi[1]))
        if bi[0].size:
            if pairs_fixed:
                # W/A/C/M: both pair multipliers are free at a biactive entry, so d must keep
                # v - u and v - alpha u at 0 there: dv = 0; du = 0 is checked by direction_bound
                if cols is not None:
                    worst = max(worst, _abs_max(du[bi]))
                dv[bi] = 0.0
            else:
                dv[bi] = np.maximum(du[bi], al * du[bi])
        if seed is not None and seed[0] == l:
            dv[seed[1], seed[2]] += seed[3]
        if cols is not None:
            size = max(size, _abs_max(du), _abs_max(dv))
        dU.append(du)
        dV.append(dv)
        prev_d = dv
    return (dU, dV) if cols is None else (worst, size)


def _direction_terms(problem: Problem, point: LiftedPoint, kind: str, d: dict,
                     data: PointData) -> dict[str, float]:
    r"""The parts of :func:`direction_bound` that no activity level changes: the smooth term
    :math:`\sum \langle G^0_\ell, dV_\ell\rangle` plus the kink terms at the fixed slopes
    :math:`-\beta_\ell \langle s_\ell, dU_\ell\rangle` ((PP)), :math:`\|d\|_1`, the largest entry
    of :math:`J_h d` (``h``; one forward pass of ``d``), the largest :math:`|dV|, |dU|` and whether
    ``d`` is finite."""
    dW, db, dV, dU = d["W"], d["b"], d["V"], d["U"]
    finite = all(math.isfinite(float(np.sum(a))) for k in ("W", "b", "V", "U") for a in d[k])
    out = {"finite": finite, "D0": 0.0, "norm1": 0.0, "h": 0.0, "size": 1.0}
    if not finite:
        return out
    grads = data.grads(kind)
    s_fix = data.s_fix()
    for l in range(problem.n_layers):
        out["D0"] += float(np.vdot(grads[l], dV[l]))
        if kind == "PP" and problem.beta[l] != 0:
            out["D0"] -= problem.beta[l] * float(np.vdot(s_fix[l], dU[l]))
        buf = data.buf(l)
        out["norm1"] += float(np.sum(np.abs(dW[l]))) + float(np.sum(np.abs(db[l])))
        for a in (dV[l], dU[l]):  # |a| once: its sum (norm1) and its largest entry (size)
            np.abs(a, out=buf)
            out["norm1"] += float(np.sum(buf))
            out["size"] = max(out["size"], float(np.max(buf)))
        lin = dU[l] - dW[l] @ data.prev[l] if dW[l].any() else dU[l].copy()
        if l > 0:
            lin -= point.W[l] @ dV[l - 1]
        lin -= db[l][:, None]
        out["h"] = max(out["h"], _abs_max(lin))
    return out


def direction_bound(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    act: Activity,
    d: dict[str, list[np.ndarray]],
    slopes: list[np.ndarray] | None = None,
    data: PointData | None = None,
) -> dict[str, float]:
    r"""A lower bound on the stationarity residual of every multiplier of ``notion``'s set.

    For ``d`` with :math:`J_h d = 0` and :math:`\langle J_c d, m\rangle \ge 0` for every admissible
    constraint multiplier ``m`` (the cone rules of :func:`propagate_direction`),
    :math:`d^T r \le D := \sup_{z, s}\, (\nabla f + \textstyle\sum z + T^T(c\odot s))^T d`, hence
    :math:`\|r\|_\infty \ge -D / \|d\|_1`. Returns ``D``, ``norm1``, ``bound`` and the largest
    violations of :math:`J_h d = 0` (``h``) and of the cone (``cone``); the bound is valid only
    when both are 0 (up to rounding, reported). ``slopes`` fixes :math:`s` at the kinks at zero (one
    branch of the limiting set). The activity-free part (:func:`_direction_terms`) is computed once
    per ``d`` and ``data``; the rest is elementwise."""
    data = PointData.of(problem, point, data)
    key = (id(d), kind)
    if key not in data._dirs or data._dirs[key][0] is not d:
        data._dirs[key] = (d, _direction_terms(problem, point, kind, d, data))
    terms = data._dirs[key][1]
    al = problem.alpha
    dW, dV, dU = d["W"], d["V"], d["U"]
    D = terms["D0"]
    cone = 0.0
    s_fix = data.s_fix()
    for l in range(problem.n_layers):
        if kind == "PP" and problem.beta[l] != 0 and act.kz[l].any():
            kz = act.kz[l]
            du = dU[l][kz]
            if slopes is not None:
                s = np.asarray(slopes[l])[kz]
            else:  # sup over s in [alpha, 1] (or {alpha, 1}) of -beta s du: the smaller slope term
                s = np.where(du > 0, al, 1.0)
            D -= problem.beta[l] * float(np.sum((s - s_fix[l][kz]) * du))
        G, H = act.G[l], act.H[l]
        buf = data.buf(l)
        for gap, mask, other in ((dV[l] - dU[l], G, H), (dV[l] - al * dU[l], H, G)):
            if kind == "PP" or notion == "S":
                cone = max(cone, _masked_neg_max(gap, mask, buf))
                if kind == "P":  # equality where only this constraint is active
                    cone = max(cone, _masked_abs_max(gap, mask & ~other, buf))
            else:
                cone = max(cone, _masked_abs_max(gap, mask, buf))
    if problem.lambda_w > 0:
        for W, dWl, zc in zip(point.W, dW, act.zero_cols, strict=True):
            nrm = np.linalg.norm(W, axis=0)
            nzc = ~zc
            D += problem.lambda_w * float(
                np.sum(np.sum(W[:, nzc] * dWl[:, nzc], axis=0) / nrm[nzc])
            )
            D += problem.lambda_w * float(np.sum(np.linalg.norm(dWl[:, zc], axis=0)))
    norm1 = terms["norm1"]
    bound = -D / norm1 if norm1 > 0 else 0.0
    return {"D": D, "norm1": norm1, "bound": bound, "h": terms["h"], "cone": cone,
            "size": terms["size"], "finite": terms["finite"]}


def check_direction(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    notion: str,
    d: dict[str, list[np.ndarray]],
    act_tol: float,
    slopes: list[np.ndarray] | None = None,
    data: PointData | None = None,
) -> dict[str, Any]:
    """Re-check a proof of failure: the bound of :func:`direction_bound` with the activity recomputed
    at ``act_tol``; ``valid`` when ``d`` is finite, :math:`J_h d = 0` and the cone rules hold up to
    rounding (``1e-12`` relative to ``d``). A key, layer count or shape that is not the point's
    raises ``ValueError``. ``data``: as in :func:`check_witness`."""
    for k, ref in (("W", point.W), ("b", point.b), ("V", point.V), ("U", point.U)):
        if k not in d or len(d[k]) != problem.n_layers:
            raise ValueError(f"direction must have key {k!r} with {problem.n_layers} layers")
        for l, (a, r) in enumerate(zip(d[k], ref, strict=True)):
            if np.shape(a) != r.shape:
                raise ValueError(f"direction[{k!r}][{l}] must have shape {r.shape}; got {np.shape(a)}")
    data = PointData.of(problem, point, data)
    act = data.activity(act_tol, kind)
    out: dict[str, Any] = direction_bound(problem, point, kind, notion, act, d, slopes, data)
    if not out.pop("finite"):
        return {"valid": False, "bound": 0.0, "reason": "direction is not finite"}
    scale = out.pop("size")
    out["valid"] = bool(out["h"] <= 1e-12 * scale * 10 and out["cone"] <= 1e-12 * scale * 10)
    return out
