r"""Multipliers of (PP) at a refined network, and the KKT verdict, for :mod:`.refine`.

Convention of ``docs/stationarity.md`` (:func:`ialam_verify.stationarity.pp_residual_blocks`):
:math:`L = O + \langle\xi, u - \Psi(v)w - Ab\rangle - \langle\mu^1, v-u\rangle - \langle\mu^2, v-\alpha u\rangle`.
From the backward pass of :mod:`.refine_piece` (``G_l = dL/dU_l`` with the kink multipliers
:math:`t` injected, ``D_l = dL/dV_l``), with :math:`g_\ell = \beta_\ell + D_\ell`:

.. math::

    \Xi_\ell = -G_\ell,\qquad
    \mu^1 = g,\ \mu^2 = 0,\ S = 1 \ (u > 0),\qquad \mu^1 = 0,\ \mu^2 = g,\ S = \alpha \ (u < 0),

and at a kink (:math:`u = 0`, :math:`\xi = -t`), for a slope :math:`S \in \{\alpha, 1\}`:
:math:`\mu^1 + \mu^2 = g`, :math:`\mu^1 + \alpha\mu^2 = \beta S + t`, i.e.
:math:`\mu^2 = (g - \beta S - t)/(1-\alpha)`, :math:`\mu^1 = g - \mu^2`; the slope giving the larger
:math:`\min(\mu^1, \mu^2)` is chosen. Group subgradients: :math:`Z_j = \lambda_w w_j/\|w_j\|` on nonzero
columns, :math:`Z_j = (\Xi_\ell V_{\ell-1}^T)_{:,j}` (put in the ball of radius :math:`\lambda_w`) on
zero columns. Then the V- and U-equations of (PP) hold by construction wherever :math:`g \ge 0`, and
the W- and b-equations are the reduced gradient of the network objective, which Newton drives to 0.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict


def pp_multipliers(
    problem: Problem,
    point: LiftedPoint,
    pattern: list[np.ndarray],
    G: list[np.ndarray],
    D: list[np.ndarray],
    zero_cols: list[np.ndarray],
) -> dict[str, Any]:
    """The (PP) multipliers described in the module docstring (lists of per-layer arrays)."""
    a = problem.alpha
    out: dict[str, Any] = {"xi": [], "mu1": [], "mu2": [], "slopes": [], "group_subgradients": []}
    kink_t, kink_d, beta_short, beta_needed = [], [], 0.0, []
    for l in range(problem.n_layers):
        P, beta = pattern[l], problem.beta[l]
        Xi = -G[l]
        g = beta + D[l]
        beta_short = max(beta_short, float(np.max(-g, initial=0.0)))
        beta_needed.append(float(np.max(-D[l], initial=0.0)))
        S = np.where(P > 0, 1.0, a)
        M1 = np.where(P > 0, g, 0.0)
        M2 = np.where(P < 0, g, 0.0)
        kk = P == 0
        if np.any(kk):
            t, gk = G[l][kk], g[kk]
            best_s = np.ones_like(t)
            best_m = np.full_like(t, -np.inf)
            for s in (1.0, a):
                m2 = (gk - beta * s - t) / (1.0 - a)
                m1 = gk - m2
                better = np.minimum(m1, m2) > best_m
                best_s[better] = s
                best_m[better] = np.minimum(m1, m2)[better]
            m2 = (gk - beta * best_s - t) / (1.0 - a)
            S[kk], M2[kk], M1[kk] = best_s, m2, gk - m2
            kink_t.append(t)
            kink_d.append(D[l][kk])
        prev = problem.X if l == 0 else point.V[l - 1]
        Z = Xi @ prev.T
        nrm = np.linalg.norm(point.W[l], axis=0)
        live = nrm > 0
        Z[:, live] = problem.lambda_w * point.W[l][:, live] / nrm[live]
        zn = np.linalg.norm(Z[:, ~live], axis=0)
        over = zn > problem.lambda_w
        if np.any(over):
            cols = np.flatnonzero(~live)[over]
            Z[:, cols] *= problem.lambda_w / zn[over]
        out["xi"].append(Xi)
        out["mu1"].append(np.maximum(M1, 0.0))
        out["mu2"].append(np.maximum(M2, 0.0))
        out["slopes"].append(S)
        out["group_subgradients"].append(Z)
    out["kink_t"] = np.concatenate(kink_t) if kink_t else np.zeros(0)
    out["kink_d"] = np.concatenate(kink_d) if kink_d else np.zeros(0)
    out["beta_shortfall"] = beta_short
    out["beta_needed"] = beta_needed  # smallest beta_l with beta_l + D_l >= 0 (exact penalty here)
    return out


def pp_residual(problem: Problem, point: LiftedPoint, mult: dict[str, Any]) -> float:
    r""":math:`\|\cdot\|_\infty` of the (PP) system of ``pp_residual_blocks`` at the multipliers."""
    from ..stationarity import pp_residual_blocks

    blocks = pp_residual_blocks(
        problem, point, mult["xi"], mult["mu1"], mult["mu2"], mult["slopes"], mult["group_subgradients"]
    )
    return float(max(np.max(np.abs(B), initial=0.0) for bl in blocks.values() for B in bl))


def _witness(problem: Problem, mult: dict[str, Any]):
    """The multipliers in the general convention of :func:`pp_problem` (``lam``, ``mu``, ``z``, ``s``)."""
    from ..stationarity import Multipliers

    def vec(blocks: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.ravel(B, order="F") for B in blocks])

    z = []
    if problem.lambda_w > 0:
        for Z in mult["group_subgradients"]:
            z.extend(Z[:, j].copy() for j in range(Z.shape[1]))
    return Multipliers(
        lam=np.concatenate([vec(mult["mu1"]), vec(mult["mu2"])]),
        mu=-vec(mult["xi"]),
        nu=np.zeros(0),
        w=np.zeros(0),
        z=z,
        s=vec(mult["slopes"]),
    )


#: the kernel's generic check builds the sparse Jacobian of (PP): nnz about N * sum N_l N_{l-1}
KERNEL_CHECK_MAX_NNZ = 5_000_000


def check_witness(problem: Problem, point: LiftedPoint, mult: dict[str, Any], tolerances) -> dict[str, Any]:
    r"""Re-check refine's multipliers as a KKT witness of (PP), at ``tolerances``.

    Always with the layer-by-layer numpy check of the structured certifier
    (:func:`ialam_verify.stationarity.network_check.check_witness`: residual of every block and every
    membership rule, activity at ``act_tol``; tolerance :math:`\tau = ` tol times ``network_scale``
    when scaled); also with the kernel's generic :func:`ialam_verify.stationarity.check` on
    :func:`~ialam_verify.stationarity.pp_problem` while its Jacobian stays small
    (``KERNEL_CHECK_MAX_NNZ``). Accepted only if every check run accepts.
    """
    from ..stationarity import Certificate, NotionResult, check, pp_problem
    from ..stationarity.network_check import check_witness as network_check_witness
    from ..stationarity.network_check import network_scale

    wit = {"Xi": mult["xi"], "M1": mult["mu1"], "M2": mult["mu2"], "S": mult["slopes"],
           "Z": mult["group_subgradients"]}
    tau = tolerances.tol * (network_scale(problem, point, "PP") if tolerances.scaled else 1.0)
    nc = network_check_witness(problem, point, "PP", "KKT", wit, tolerances.act_tol)
    accepted = nc["max"] <= tau
    messages = [] if accepted else [f"network check: largest violation {nc['max']:.3g} > {tau:.3g}"]
    out: dict[str, Any] = {"residual_tol": tau, "max_violation": nc["max"], "numbers": nc,
                           "checks": ["network_check"]}
    nnz = problem.n_samples * sum(a * b for a, b in zip(problem.sizes[:-1], problem.sizes[1:], strict=True))
    if nnz <= KERNEL_CHECK_MAX_NNZ:
        pp = pp_problem(problem, point)
        nr = NotionResult("holds", "refine's multipliers", witness=_witness(problem, mult), method="refine")
        cert = Certificate("nlp", tolerances, "limiting", 0.0, {}, {"KKT": nr}, {})
        chk = check(cert, pp, tolerances)
        accepted = accepted and bool(chk.accepted)
        messages += [f"kernel check: {m}" for m in chk.messages]
        out["checks"].append("kernel check")
        out["kernel_max_violation"] = float(chk.max_violation)
        out["max_violation"] = max(out["max_violation"], float(chk.max_violation))
        out["residual_tol"] = min(tau, float(chk.residual_tol))
    out["accepted"] = accepted
    out["messages"] = messages
    return out


def kkt_verdict(
    problem: Problem,
    point: LiftedPoint,
    mult: dict[str, Any],
    *,
    tolerances,
    method: str,
) -> tuple[Verdict | None, dict[str, Any]]:
    """Verdict of (PP) KKT at ``point`` at ``tolerances`` (a :class:`~ialam_verify.stationarity.Tolerances`).

    ``method``: ``"witness"``: refine's multipliers re-checked by the kernel's numpy ``check``
    (proves "holds" only; otherwise "undetermined"); ``"structured"`` / ``"generic"``:
    :func:`ialam_verify.stationarity.certify` with that method (all multipliers; can prove "fails");
    ``"auto"``: the witness first, ``certify(method="auto")`` when it is rejected; ``"none"``: no verdict.
    """
    from ..stationarity import certify

    info: dict[str, Any] = {}
    if method == "none":
        return None, info
    t0 = time.perf_counter()
    if method in ("witness", "auto"):
        wc = check_witness(problem, point, mult, tolerances)
        info["witness_check"] = wc
        info["witness_max_violation"] = wc["max_violation"]
        if wc["accepted"]:
            info["certify_seconds"] = time.perf_counter() - t0
            return (
                Verdict.holds(
                    f"refine's multipliers pass {' and '.join(wc['checks'])} (largest violation "
                    f"{wc['max_violation']:.3g} <= {wc['residual_tol']:.3g}: residual and every membership rule)",
                    residual=wc["max_violation"],
                ),
                info,
            )
        if method == "witness":
            info["certify_seconds"] = time.perf_counter() - t0
            return (
                Verdict.undetermined(
                    "refine's multipliers rejected by stationarity.check: " + "; ".join(wc["messages"]),
                    residual=wc["max_violation"],
                ),
                info,
            )
    rep = certify(problem, point, tolerances=tolerances, method="auto" if method == "auto" else method)
    v = rep.verdict("KKT")
    info["certify_summary"] = rep.summary_line()
    info["certify_seconds"] = time.perf_counter() - t0
    return v, info
