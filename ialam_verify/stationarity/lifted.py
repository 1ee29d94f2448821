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
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from .certificate import Certificate, DualCertificate, NotionResult
from .classify import classify
from .kernel import Multipliers, Tolerances
from .mpcc import MPCC
from .report import CertifyReport


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


# --------------------------------------------------------------- structured <-> general multipliers
def _vec(blocks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(np.asarray(B, dtype=float), order="F") for B in blocks])


def talk_to_general(problem: Problem, wit: dict[str, list[np.ndarray]], kind: str) -> Multipliers:
    r"""The inverse of :func:`talk_multipliers`: per-layer ``Xi, M1, M2, Z`` (and ``S`` for (PP)) as
    the general multipliers of :func:`pp_problem` (``kind="PP"``: :math:`\lambda = (M^1; M^2)`,
    :math:`\mu_h = -\xi`, ``s``) or :func:`p_problem` (``"P"``: :math:`\nu = M^1`, :math:`w = M^2`)."""
    zs = []
    if problem.lambda_w > 0:
        for Z in wit["Z"]:
            zs.extend(np.asarray(Z[:, j], dtype=float).copy() for j in range(Z.shape[1]))
    m1, m2, xi = _vec(wit["M1"]), _vec(wit["M2"]), _vec(wit["Xi"])
    if kind == "PP":
        lam = np.concatenate([m1, m2])
        if problem.relu_bias_bound is not None:
            lam = np.concatenate([lam, np.zeros(sum(problem.sizes[1:]))])
        return Multipliers(lam, -xi, np.zeros(0), np.zeros(0), zs, _vec(wit["S"]))
    return Multipliers(np.zeros(0), -xi, m1, m2, zs, np.zeros(0))


def _region(cert: Any, problem: Problem, point: LiftedPoint, name: str, y: np.ndarray) -> DualCertificate:
    """The multiplier set a structured proof of failure bounds, in :class:`DualCertificate` terms."""
    from .network_check import Activity as NetActivity
    from .network_check import fixed_slopes

    act = NetActivity.at(problem, point, cert.act_tol, cert.kind)
    G, H = _vec(act.G) > 0, _vec(act.H) > 0
    z = "".join(
        ("b" if zc else "p") for zcs in act.zero_cols for zc in zcs
    ) if problem.lambda_w > 0 else ""
    if cert.kind == "PP":
        lam = "".join("+" if a else "0" for a in np.concatenate([G, H]))
        kz = _vec(act.kz) > 0
        fixed = _vec(fixed_slopes(problem, point))
        lo = np.where(kz, problem.alpha, fixed)
        hi = np.where(kz, 1.0, fixed)
        return DualCertificate(lam, "", "", z, lo, hi, y)
    bi = G & H
    inner = "+" if cert.results[name].cone == "S" else "f"  # the cone the direction was built in
    nu = "".join((inner if b else "f") if g else "0" for g, b in zip(G, bi, strict=True))
    w = "".join((inner if b else "f") if h else "0" for h, b in zip(H, bi, strict=True))
    return DualCertificate("", nu, w, z, np.zeros(0), np.zeros(0), y)


def network_certificate_to_generic(cert: Any, problem: Problem, point: LiftedPoint) -> Certificate:
    """A structured certificate as a :class:`~.certificate.Certificate` of :func:`pp_problem` (at
    ``point``) or :func:`p_problem` (``point`` = the lift): full multiplier vectors for "holds";
    for "fails" the direction ``d`` as a dual certificate ``y = -d`` over the notion's whole set (and
    as B's descent direction), so that :func:`~.check.check` re-proves it on the full Jacobian."""
    results = {}
    for name, r in cert.results.items():
        wit = r.witness
        bw = None
        method = r.method
        if isinstance(wit, list) and r.branch_patterns:  # (P) B: one per piece
            from .network_biactive import generic_branch_patterns

            bw = []
            pats = generic_branch_patterns(problem, point, cert.act_tol, r)
            for wb, (nu_s, w_s) in zip(wit, pats, strict=True):
                m = talk_to_general(problem, wb, cert.kind)
                m.branch = {"nu": nu_s, "w": w_s, "s_lo": [], "s_hi": []}
                bw.append(m)
            wit = None
        elif isinstance(wit, list):  # B by branch enumeration: one witness per slope branch
            bw = []
            for wb, slopes in zip(wit, r.branch_slopes or [], strict=False):
                m = talk_to_general(problem, wb, cert.kind)
                m.branch = {"nu": "", "w": "", "s_lo": slopes[0].tolist(), "s_hi": slopes[1].tolist()}
                bw.append(m)
            wit = None
        elif name == "B" and str(r.verdict) == "holds":
            method = "implication"  # B from the KKT (S) witness: no concave kink at zero
        gw = None if wit is None else talk_to_general(problem, wit, cert.kind)
        proof, dd = None, None
        if str(r.verdict) == "fails" and (r.direction is not None or r.regions):
            d = r.direction if r.direction is not None else r.regions[0].direction
            vec = np.concatenate([_vec(d["W"]), _vec(d["b"]), _vec(d["V"]), _vec(d["U"])])
            vec = vec / max(float(np.sum(np.abs(vec))), 1e-300)
            if name == "B":
                dd = vec
            elif r.regions:  # (P) A/C/M: one proved region per branch node
                from .network_biactive import generic_regions

                proof = generic_regions(problem, point, cert.act_tol, r)
            else:
                proof = [_region(cert, problem, point, name, -vec)]
        results[name] = NotionResult(
            r.verdict, r.reason, r.epsilon, r.witness_residual, gw, 0, method, dd, bw, proof,
            r.verdict.epsilon,
        )
    kind = "nlp" if cert.kind == "PP" else "mpcc"
    return Certificate(
        kind, cert.tolerances, "limiting", cert.margin, dict(cert.activity), results,
        dict(cert.feasibility), cert.seconds, list(cert.notes), cert.scale,
    )


# ------------------------------------------------------------------------------------ certify
_METHODS = ("auto", "structured", "generic")
#: largest number of variables of (PP) for which "auto" also runs the generic certifier on the
#: notions the structured path leaves undetermined
GENERIC_FALLBACK_MAX_VARIABLES = 2000


def _tolerances(tolerances: Tolerances | None, tol, act_tol, band) -> Tolerances:
    """``tolerances`` (default ``Tolerances()``: tol 1e-6 scaled, act_tol 1e-6, band 10) with the
    legacy keywords replacing their fields."""
    import dataclasses

    if tolerances is None:
        tolerances = Tolerances()
    if not isinstance(tolerances, Tolerances):
        raise ValueError(f"tolerances must be a Tolerances; got {type(tolerances).__name__}")
    kw = {k: v for k, v in (("tol", tol), ("act_tol", act_tol), ("band", band)) if v is not None}
    return dataclasses.replace(tolerances, **kw) if kw else tolerances


def certify(
    result: Any,
    point: LiftedPoint | None = None,
    *,
    tolerances: Tolerances | None = None,
    method: str = "auto",
    tol: float | None = None,
    act_tol: float | None = None,
    band: float | None = None,
    max_branches: int = 64,
    xi: list[np.ndarray] | None = None,
    witness: dict | None = None,
) -> CertifyReport:
    r"""Certify a point: ``certify(result)`` (an object with ``.problem``, ``.point`` and optionally
    ``.xi``) or ``certify(problem, point)``.

    (PP) is certified at the point as given (KKT = limiting, Clarke, B); (P) at the feasible lift
    ``problem.lift(W, b)`` of the point's weights (MPCC W/A/C/M/S, B).

    Parameters
    ----------
    tolerances : Tolerances, optional
        Default ``Tolerances()``: residual tolerance ``tol = 1e-6`` relative to the problem's scale
        (:func:`~.kernel.problem_scale`; ``scaled=False`` for absolute), ``act_tol = 1e-6``,
        ``band = 10``. ``tol``, ``act_tol``, ``band`` replace those fields.
    method : {"auto", "structured", "generic"}
        ``"structured"``: the backward-pass certifier (:mod:`.network`), whose cost is a few forward
        and backward passes plus a program over the degenerate entries; ``"generic"``: the reference
        :func:`~.classify.classify` on the full problem (small instances only); ``"auto"``
        (default): structured, then generic for the notions left undetermined when (PP) has at most
        :data:`GENERIC_FALLBACK_MAX_VARIABLES` variables. (PP_b) (the ReLU bias bound) is generic.
    max_branches : int
        Largest number of disjunction branches enumerated.
    xi : list of arrays, optional
        The solver's :math:`\xi`: adds the smallest (PP) residual with it fixed (generic, small).
    witness : dict, optional
        Multipliers of (PP) at ``point`` from the caller, as
        :attr:`ialam_verify.solver.refine.RefineResult.multipliers` has them (per-layer ``xi``,
        ``mu1``, ``mu2``, ``slopes``, ``group_subgradients``). The structured path re-checks them
        (:func:`.network_check.check_witness`, at ``tolerances``) and says KKT (and Clarke) "holds"
        with them only if they pass; a rejected witness is ignored (noted in the certificate) and
        the normal search runs. Never used for "fails", B or (P). Needs the structured path
        (``method="generic"`` with a witness is an error; (PP_b) under ``"auto"`` ignores it).
    """
    t0 = time.perf_counter()
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}; got {method!r}")
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
    tols = _tolerances(tolerances, tol, act_tol, band)
    if int(max_branches) != max_branches or max_branches < 1:
        raise ValueError(f"max_branches must be a positive integer; got {max_branches!r}")
    if method == "structured" and problem.relu_bias_bound is not None:
        raise ValueError("method='structured' does not cover (PP_b) (relu_bias_bound); use 'generic'")
    if witness is not None and method == "generic":
        raise ValueError("witness is re-checked by the structured certifier; use method='auto' or 'structured'")
    lay = Layout.of(problem)
    feas = problem.lift(point.W, point.b)
    used = method
    if method == "auto" and problem.relu_bias_bound is not None:
        used = "generic"
    kw = dict(tolerances=tols, max_branches=max_branches)
    if used == "generic":
        cert_pp = classify(pp_problem(problem, point), **kw)
        cert_p = classify(p_problem(problem, feas), **kw)
    else:
        from .network import decide_notions

        cert_pp = decide_notions(problem, point, "PP", witness=witness, **kw)
        cert_p = decide_notions(problem, feas, "P", **kw)
        if method == "auto" and lay.n <= GENERIC_FALLBACK_MAX_VARIABLES:
            _fill_undetermined(cert_pp, lambda: classify(pp_problem(problem, point), **kw))
            _fill_undetermined(cert_p, lambda: classify(p_problem(problem, feas), **kw))
        used = "structured"
    at_xi = None
    if xi is not None:
        at_xi = _at_solver_xi(problem, point, xi, tols)
    info = {
        "sizes": list(problem.sizes),
        "n_samples": problem.n_samples,
        "n_variables": lay.n,
        "N_times_Nbar": problem.n_samples * int(sum(problem.sizes[1:])),
        "feasibility_PP_point": {
            "residual_norm": problem.residual_norm(point),
            "inequality_violation": problem.inequality_violation(point),
        },
        "P_point": "feasible lift problem.lift(W, b) of the point's weights",
    }
    return CertifyReport(
        cert_pp, cert_p, at_xi, info, time.perf_counter() - t0, problem, point, used
    )


def _fill_undetermined(cert: Any, generic: Any) -> None:
    """Where the structured path left a notion undetermined, take the generic verdict (its
    witness or proof stays in the generic form, re-checked by :func:`check_report`)."""
    from .network import NetworkNotionResult

    names = [k for k, r in cert.results.items() if not r.verdict.decided]
    if not names:
        return
    g = generic()
    for k in names:
        r = g.results[k]
        if not r.verdict.decided:
            continue
        v = r.verdict
        res = NetworkNotionResult(
            Verdict(v.outcome, "generic: " + r.reason, v.residual, v.epsilon), "generic",
            epsilon=r.epsilon,
        )
        res.generic = (g, r)  # type: ignore[attr-defined]
        cert.results[k] = res
    cert.notes.append(f"undetermined notions {names} re-decided by the generic certifier")


def _at_solver_xi(problem: Problem, point: LiftedPoint, xi: list[np.ndarray], tols: Tolerances) -> dict:
    if len(xi) != problem.n_layers:
        raise ValueError(f"xi must hold {problem.n_layers} layers; got {len(xi)}")
    pp = pp_problem(problem, point)
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
    c = classify(fixed, tolerances=tols, notions=("KKT",), b_stationarity=False)
    r = c.results["KKT"]
    return {"verdict": str(r.verdict), "min_residual": r.min_residual, "reason": r.reason}


def check_report(rep: CertifyReport, tolerances: Tolerances | None = None) -> dict[str, Any]:
    """See :meth:`CertifyReport.check`."""
    from .check import check as generic_check
    from .network_check import check_direction, check_witness, network_scale

    assert rep.problem is not None and rep.point is not None
    tols = tolerances if tolerances is not None else Tolerances()
    problem, point = rep.problem, rep.point
    lift = problem.lift(point.W, point.b)
    per: dict[str, Any] = {}
    ok = True
    for tag, cert, pt, kind in (("PP", rep.pp, point, "PP"), ("P", rep.p, lift, "P")):
        full = None
        if isinstance(cert, Certificate):
            full = (pp_problem if kind == "PP" else p_problem)(problem, pt)
            ck = generic_check(cert, full, tols)
            per[tag] = ck
            ok &= bool(ck.accepted)
            continue
        tau = tols.tol * (network_scale(problem, pt, kind) if tols.scaled else 1.0)
        a = tols.act_tol
        for name, r in cert.results.items():
            key = f"{tag}.{name}"
            if not r.verdict.decided:
                continue
            gen = getattr(r, "generic", None)
            if gen is not None:
                full = full or (pp_problem if kind == "PP" else p_problem)(problem, pt)
                ck = generic_check(gen[0], full, tols)
                per[key] = {"accepted": ck.per_notion[name]["status"] == "proved", "by": "generic"}
            elif r.regions or r.branch_patterns:
                from .network_biactive import recheck

                per[key] = recheck(problem, pt, name, r, a, tau)
            elif str(r.verdict) == "holds":
                wits = r.witness if isinstance(r.witness, list) else [r.witness]
                notion = name
                if name == "B":
                    notion = "KKT" if kind == "PP" else ("S" if r.method == "implication" else "W")
                worst = 0.0
                for w in wits:
                    worst = np.inf if w is None else max(
                        worst, check_witness(problem, pt, kind, notion, w, a)["max"]
                    )
                per[key] = {"max_violation": worst, "accepted": bool(worst <= tau)}
            elif r.direction is None:
                per[key] = {"accepted": False, "reason": "no proof stored"}
            else:
                notion = "S" if r.cone == "S" else ("W" if kind == "P" else "Clarke")
                ck = check_direction(problem, pt, kind, notion, r.direction, a, r.slopes)
                per[key] = {**ck, "accepted": bool(ck["valid"] and ck["bound"] > tau)}
            ok &= bool(per[key]["accepted"])
    return {"per_notion": per, "accepted": bool(ok)}


def report_talk_multipliers(rep: CertifyReport, notion: str) -> dict[str, list[np.ndarray]] | None:
    res = rep.pp.results.get(notion)
    if res is None or str(res.verdict) != "holds" or res.witness is None:
        return None
    assert rep.problem is not None and rep.point is not None
    if isinstance(rep.pp, Certificate):
        out = talk_multipliers(rep.problem, rep.point, res.witness, "PP")
        lay = Layout.of(rep.problem)
        s = np.asarray(res.witness["s"], dtype=float)
        out["S"] = [
            np.reshape(s[lay.v_off[l] : lay.v_off[l] + U.size], U.shape, order="F")
            for l, U in enumerate(rep.point.U)
        ]
        return out
    wit = res.witness[0] if isinstance(res.witness, list) else res.witness
    return {k: [np.asarray(a) for a in wit[k]] for k in ("Xi", "M1", "M2", "S")}
