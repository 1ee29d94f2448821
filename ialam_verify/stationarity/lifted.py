r"""The talk's problems (PP) and (P) as first-order data, and :func:`certify`.

Variables :math:`x = (w, b, v, u)` in the ordering of :meth:`LiftedPoint.to_vectors`. The linear
constraint :math:`h(x) = u - \Psi(v) w - A b = 0` has, per layer
:math:`H_\ell = U_\ell - W_\ell V_{\ell-1} - b_\ell 1^T` (column-major ``vec``),

.. math::

    \frac{\partial h_\ell}{\partial \mathrm{vec} W_\ell} = -(V_{\ell-1}^T \otimes I),\quad
    \frac{\partial h_\ell}{\partial b_\ell} = -(1_N \otimes I),\quad
    \frac{\partial h_\ell}{\partial \mathrm{vec} V_{\ell-1}} = -(I_N \otimes W_\ell),\quad
    \frac{\partial h_\ell}{\partial \mathrm{vec} U_\ell} = I.

Lagrangian (same sign of :math:`\xi` as the augmented Lagrangian):
:math:`L = O + \langle\xi, u - \Psi(v)w - Ab\rangle - \langle\mu^1, v-u\rangle - \langle\mu^2, v-\alpha u\rangle`.
In the general convention of :mod:`.mpcc` (``grad f = J^T multipliers``) this is
:math:`\lambda = (\mu^1; \mu^2)`, :math:`\mu_h = -\xi` for (PP), and :math:`\nu = \mu^1`,
:math:`w = \mu^2`, :math:`\mu_h = -\xi` for (P). The per-layer system is :func:`pp_residual_blocks`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..model.problem import LiftedPoint, Problem
from .classify import Certificate, classify
from .mpcc import MPCC


@dataclass(frozen=True)
class Layout:
    """Offsets of the blocks of :math:`x = (w, b, v, u)`."""

    sizes: tuple[int, ...]
    N: int
    w_off: tuple[int, ...]
    b_off: tuple[int, ...]
    v_off: tuple[int, ...]
    nw: int
    nb: int
    m: int

    @classmethod
    def of(cls, problem: Problem) -> Layout:
        sizes, N = problem.sizes, problem.n_samples
        w_off, b_off, v_off = [], [], []
        iw = ib = iv = 0
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            w_off.append(iw)
            b_off.append(ib)
            v_off.append(iv)
            iw += n_in * n_out
            ib += n_out
            iv += n_out * N
        return cls(sizes, N, tuple(w_off), tuple(b_off), tuple(v_off), iw, ib, iv)

    @property
    def n(self) -> int:
        return self.nw + self.nb + 2 * self.m

    def w(self, l: int) -> int:
        return self.w_off[l]

    def b(self, l: int) -> int:
        return self.nw + self.b_off[l]

    def v(self, l: int) -> int:
        return self.nw + self.nb + self.v_off[l]

    def u(self, l: int) -> int:
        return self.nw + self.nb + self.m + self.v_off[l]


def constraint_jacobian(problem: Problem, point: LiftedPoint) -> tuple[np.ndarray, sp.csr_matrix]:
    r"""Values and sparse Jacobian of :math:`h = u - \Psi(v)w - Ab` at ``point`` (see module doc)."""
    problem.check_point(point)
    lay = Layout.of(problem)
    N = lay.N
    blocks = []
    for l, n_out in enumerate(lay.sizes[1:]):
        rows = n_out * N
        Vprev = problem.X if l == 0 else point.V[l - 1]
        I_out = sp.identity(n_out, format="csr")
        parts = [
            (lay.w(l), -sp.kron(sp.csr_matrix(Vprev.T), I_out)),
            (lay.b(l), -sp.kron(sp.csr_matrix(np.ones((N, 1))), I_out)),
            (lay.u(l), sp.identity(rows, format="csr")),
        ]
        if l > 0:
            parts.append((lay.v(l - 1), -sp.kron(sp.identity(N), sp.csr_matrix(point.W[l]))))
        coo_r, coo_c, coo_v = [], [], []
        for off, mat in parts:
            mat = sp.coo_matrix(mat)
            coo_r.append(mat.row)
            coo_c.append(mat.col + off)
            coo_v.append(mat.data)
        blocks.append(
            sp.csr_matrix(
                (np.concatenate(coo_v), (np.concatenate(coo_r), np.concatenate(coo_c))),
                shape=(rows, lay.n),
            )
        )
    J = sp.vstack(blocks, format="csr")
    h = np.concatenate([np.ravel(R, order="F") for R in problem.residual(point)])
    return h, J


def _smooth_gradient(problem: Problem, point: LiftedPoint, with_penalty: bool) -> np.ndarray:
    lay = Layout.of(problem)
    grad = np.zeros(lay.n)
    L = problem.n_layers
    for l in range(L):
        G = 2.0 * problem.lambda_v * point.V[l]
        if with_penalty:
            G = G + problem.beta[l]
        if l == L - 1:
            G = G + (2.0 / lay.N) * (point.V[l] - problem.Y)
        grad[lay.v(l) : lay.v(l) + G.size] = np.ravel(G, order="F")
    return grad


def _groups(problem: Problem, point: LiftedPoint) -> list[tuple[np.ndarray, np.ndarray, float]]:
    if problem.lambda_w == 0:
        return []
    lay = Layout.of(problem)
    out = []
    for l, Wl in enumerate(point.W):
        n_out = Wl.shape[0]
        for j in range(Wl.shape[1]):
            idx = lay.w(l) + n_out * j + np.arange(n_out)
            out.append((idx, Wl[:, j].copy(), problem.lambda_w))
    return out


def _lifted_data(problem: Problem, point: LiftedPoint):
    """What (PP) and (P) share at a point: the layout, ``h`` and its Jacobian, ``v``, ``u``, and the
    selection matrices of ``v`` and ``u`` in the full variable vector."""
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem; got {type(problem).__name__}")
    problem.check_point(point)
    lay = Layout.of(problem)
    m, n = lay.m, lay.n
    hv, Jh = constraint_jacobian(problem, point)
    _, _, v, u = point.to_vectors()
    Iv = sp.csr_matrix((np.ones(m), (np.arange(m), lay.v(0) + np.arange(m))), shape=(m, n))
    Iu = sp.csr_matrix((np.ones(m), (np.arange(m), lay.u(0) + np.arange(m))), shape=(m, n))
    return lay, hv, Jh, v, u, Iv, Iu


def pp_problem(problem: Problem, point: LiftedPoint) -> MPCC:
    r"""(PP) at ``point`` as an NLP with group and kink terms.

    :math:`f = \tfrac1N\|V_L - Y\|^2 + \lambda_v\|v\|^2 + \beta^T v` (smooth) :math:`+ \mathcal R_1(w)`
    (groups) :math:`+ \sum_i (-\beta_{\ell(i)})\,\sigma(u_i)` (kinks, slopes :math:`(\alpha, 1)`);
    :math:`g = (v - u;\ v - \alpha u) \ge 0` (and :math:`b - b_{\min} \ge 0` for (PP_b));
    :math:`h = u - \Psi(v)w - Ab = 0`.
    """
    lay, hv, Jh, v, u, Iv, Iu = _lifted_data(problem, point)
    n = lay.n
    a = problem.alpha
    g = [v - u, v - a * u]
    Jg = [Iv - Iu, Iv - a * Iu]
    if problem.relu_bias_bound is not None:
        _, bvec, _, _ = point.to_vectors()
        Ib = sp.csr_matrix(
            (np.ones(lay.nb), (np.arange(lay.nb), lay.b(0) + np.arange(lay.nb))), shape=(lay.nb, n)
        )
        g.append(bvec - problem.relu_bias_bound)
        Jg.append(Ib)
    coef = np.concatenate(
        [np.full(point.U[l].size, -problem.beta[l]) for l in range(problem.n_layers)]
    )
    return MPCC.create(
        _smooth_gradient(problem, point, with_penalty=True),
        g=np.concatenate(g),
        Jg=sp.vstack(Jg, format="csr"),
        h=hv,
        Jh=Jh,
        groups=_groups(problem, point),
        kink_t=u,
        T=Iu,
        kink_coef=coef,
        slope_neg=a,
        slope_pos=1.0,
    )


def p_problem(problem: Problem, point: LiftedPoint) -> MPCC:
    r"""(P) at ``point`` as an MPCC: :math:`f = \bar O` (loss, group lasso, ridge),
    :math:`h = u - \Psi(v)w - Ab`, pairs :math:`G = v - u`, :math:`H = v - \alpha u`."""
    lay, hv, Jh, v, u, Iv, Iu = _lifted_data(problem, point)
    a = problem.alpha
    return MPCC.create(
        _smooth_gradient(problem, point, with_penalty=False),
        h=hv,
        Jh=Jh,
        G=v - u,
        JG=Iv - Iu,
        H=v - a * u,
        JH=Iv - a * Iu,
        groups=_groups(problem, point),
    )


def pp_residual_blocks(
    problem: Problem,
    point: LiftedPoint,
    Xi: list[np.ndarray],
    M1: list[np.ndarray],
    M2: list[np.ndarray],
    S: list[np.ndarray],
    Z: list[np.ndarray],
) -> dict[str, list[np.ndarray]]:
    r"""The per-layer stationarity system of (PP), written out (the lead's derivation):

    .. math::

        R^W_\ell = Z_\ell - \Xi_\ell V_{\ell-1}^T,\qquad R^b_\ell = -\Xi_\ell 1,\\
        R^V_\ell = 2\lambda_v V_\ell + \beta_\ell - M^1_\ell - M^2_\ell - W_{\ell+1}^T \Xi_{\ell+1}
        \ (+\tfrac2N (V_L - Y) \text{ for } \ell = L),\\
        R^U_\ell = -\beta_\ell S_\ell + \Xi_\ell + M^1_\ell + \alpha M^2_\ell,

    where :math:`Z_\ell` holds group-lasso subgradients (columns) and :math:`S_\ell` the chosen slopes
    of :math:`\sigma` at :math:`U_\ell`. The point is stationary when all blocks vanish.
    """
    L = problem.n_layers
    N = problem.n_samples
    out: dict[str, list[np.ndarray]] = {"W": [], "b": [], "V": [], "U": []}
    for l in range(L):
        Vprev = problem.X if l == 0 else point.V[l - 1]
        out["W"].append(Z[l] - Xi[l] @ Vprev.T)
        out["b"].append(-Xi[l] @ np.ones(N))
        RV = 2 * problem.lambda_v * point.V[l] + problem.beta[l] - M1[l] - M2[l]
        if l < L - 1:
            RV = RV - point.W[l + 1].T @ Xi[l + 1]
        else:
            RV = RV + (2.0 / N) * (point.V[l] - problem.Y)
        out["V"].append(RV)
        out["U"].append(-problem.beta[l] * S[l] + Xi[l] + M1[l] + problem.alpha * M2[l])
    return out


def talk_multipliers(problem: Problem, point: LiftedPoint, mult: dict[str, Any], kind: str) -> dict:
    """Translate general multipliers of :func:`pp_problem` / :func:`p_problem` to the talk's
    ``Xi``, ``M1``, ``M2`` (lists of ``N_l x N`` arrays)."""
    lay = Layout.of(problem)
    m = lay.m
    if kind == "PP":
        mu1, mu2 = mult["lam"][:m], mult["lam"][m : 2 * m]
    else:
        mu1, mu2 = mult["nu"], mult["w"]
    xi = -np.asarray(mult["mu"])

    def split(vec: np.ndarray) -> list[np.ndarray]:
        out = []
        for l, n_out in enumerate(lay.sizes[1:]):
            blk = vec[lay.v_off[l] : lay.v_off[l] + n_out * lay.N]
            out.append(np.reshape(blk, (n_out, lay.N), order="F"))
        return out

    return {"Xi": split(xi), "M1": split(np.asarray(mu1)), "M2": split(np.asarray(mu2))}


# ------------------------------------------------------------------------------------ certify
@dataclass
class CertifyReport:
    """Certificates of (PP) at the point and of (P) at the feasible lift of its weights."""

    pp: Certificate
    p: Certificate
    pp_at_solver_xi: dict[str, Any] | None
    info: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    problem: Problem | None = field(default=None, repr=False)
    point: LiftedPoint | None = field(default=None, repr=False)

    def talk_multipliers(self, notion: str = "KKT") -> dict[str, list[np.ndarray]] | None:
        """The (PP) witness of ``notion`` in the talk's terms: ``Xi``, ``M1``, ``M2`` (lists of
        ``N_l x N``; ``M1, M2 >= 0``), and ``S`` (slopes of sigma used at each ``u``); ``None``
        unless ``notion`` holds."""
        res = self.pp.results.get(notion)
        if res is None or res.verdict != "holds" or res.witness is None:
            return None
        assert self.problem is not None and self.point is not None
        out = talk_multipliers(self.problem, self.point, res.witness, "PP")
        lay = Layout.of(self.problem)
        s = np.asarray(res.witness["s"], dtype=float)
        out["S"] = [
            np.reshape(s[lay.v_off[l] : lay.v_off[l] + U.size], U.shape, order="F")
            for l, U in enumerate(self.point.U)
        ]
        return out

    def to_dict(self) -> dict[str, Any]:
        def short(c: Certificate) -> dict[str, Any]:
            return {
                "verdicts": c.verdicts(),
                "strongest": c.strongest,
                "residuals": {
                    k: {"min_residual": r.min_residual, "witness_residual": r.witness_residual}
                    for k, r in c.results.items()
                },
                "reasons": {k: r.reason for k, r in c.results.items()},
                "activity_sizes": {k: len(v) for k, v in c.activity.items() if isinstance(v, list)},
                "feasibility": c.feasibility,
                "seconds": c.seconds,
                "notes": c.notes,
            }

        return {
            "tolerances": {
                "tol": self.pp.tol,
                "act_tol": self.pp.act_tol,
                "band": self.pp.band,
                "margin_PP": self.pp.margin,
                "margin_P": self.p.margin,
            },
            "PP": short(self.pp),
            "P": short(self.p),
            "PP_at_solver_xi": self.pp_at_solver_xi,
            "info": self.info,
            "seconds": self.seconds,
        }


def certify(
    result: Any,
    point: LiftedPoint | None = None,
    *,
    tol: float = 1e-6,
    act_tol: float = 1e-6,
    band: float = 10.0,
    max_branches: int = 64,
    xi: list[np.ndarray] | None = None,
) -> CertifyReport:
    r"""Certify a trained result: ``certify(result)`` (an object with ``.problem``, ``.point`` and
    optionally ``.xi``) or ``certify(problem, point)``.

    (PP) is classified at the point as given (KKT = l-stationarity, Clarke, B); (P) at the feasible
    lift ``problem.lift(W, b)`` of the point's weights (MPCC W/A/C/M/S, B). With the solver's
    :math:`\xi`, also the smallest (PP) residual over the remaining multipliers with :math:`\xi`
    fixed (:math:`\mu_h = -\xi`).
    """
    t0 = time.perf_counter()
    if point is None:
        for attr in ("problem", "point"):
            if not hasattr(result, attr):
                raise ValueError(
                    f"result must have .problem and .point (or call certify(problem, point)); missing .{attr}"
                )
        problem, point = result.problem, result.point
        if xi is None:
            xi = getattr(result, "xi", None)
    else:
        problem = result
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be a Problem; got {type(problem).__name__}")
    if not isinstance(point, LiftedPoint):
        raise ValueError(f"point must be a LiftedPoint; got {type(point).__name__}")
    problem.check_point(point)
    kw = dict(tol=tol, act_tol=act_tol, band=band, max_branches=max_branches)
    pp = pp_problem(problem, point)
    cert_pp = classify(pp, **kw)
    feas = problem.lift(point.W, point.b)
    cert_p = classify(p_problem(problem, feas), **kw)
    at_xi = None
    if xi is not None:
        if len(xi) != problem.n_layers:
            raise ValueError(f"xi must hold {problem.n_layers} layers; got {len(xi)}")
        xvec = np.concatenate([np.ravel(np.asarray(X, dtype=float), order="F") for X in xi])
        if xvec.size != pp.h.size:
            raise ValueError(f"xi must have {pp.h.size} entries in total; got {xvec.size}")
        fixed = MPCC.create(
            pp.grad_f + pp.Jh.T @ xvec,  # grad f - Jh^T mu_h with mu_h = -xi
            g=pp.g,
            Jg=pp.Jg,
            groups=[(gr.indices, gr.value, gr.weight) for gr in pp.groups],
            kink_t=pp.kink_t,
            T=pp.T,
            kink_coef=pp.kink_coef,
            slope_neg=pp.slope_neg,
            slope_pos=pp.slope_pos,
        )
        c = classify(fixed, notions=("KKT",), b_stationarity=False, **kw)
        r = c.results["KKT"]
        at_xi = {"verdict": str(r.verdict), "min_residual": r.min_residual, "reason": r.reason}
    info = {
        "sizes": list(problem.sizes),
        "n_samples": problem.n_samples,
        "n_variables": pp.n,
        "N_times_Nbar": problem.n_samples * int(sum(problem.sizes[1:])),
        "feasibility_PP_point": {
            "residual_norm": problem.residual_norm(point),
            "inequality_violation": problem.inequality_violation(point),
        },
        "P_point": "feasible lift problem.lift(W, b) of the point's weights",
    }
    return CertifyReport(cert_pp, cert_p, at_xi, info, time.perf_counter() - t0, problem, point)
