r"""Certificate types and :func:`check`: the second half of the trusted kernel (numpy only).

A certificate claims, per notion, ``holds`` / ``fails`` / ``undetermined`` / ``inconclusive``.
:func:`check` re-proves every decided claim from the certificate's evidence alone, with the *caller's*
:class:`~.kernel.Tolerances` (never the certificate's own numbers):

* ``holds`` (W, A, C, M, S, KKT, Clarke): the witness multipliers are finite, of the problem's sizes,
  have :math:`\|r(m)\|_\infty \le \tau` and violate the notion's set by at most :math:`\tau`, with the
  activity recomputed at the caller's ``act_tol``.
* ``holds`` (B): one witness per B branch (every branch at the caller's activity covered), or
  ``method == "implication"`` from a re-proved S (KKT) witness, accepted only where
  :math:`S \Rightarrow B` is a theorem: no concave kink at zero.
* ``fails`` (a multiplier notion): dual certificates :math:`(R_i, y_i)`. Each region :math:`R_i` is a
  product of simple sets (sign patterns, balls, slope intervals); for every :math:`m \in R_i`,
  :math:`\|r(m)\|_\infty \ge y_i^T r(m)/\|y_i\|_1 \ge \beta_i` where :math:`\beta_i` is computed in
  closed form by :func:`dual_lower_bound`. The claim is re-proved when every :math:`\beta_i > \tau`,
  every cone violation of :math:`y_i` is at most ``dual_tol``, and the union of the regions covers the
  notion's multiplier set at the caller's activity (:func:`covers`).
* ``fails`` (B): a direction :math:`d` with :math:`f'(x; d) < -\tau\|d\|_\infty` whose violation of the
  linearized cone is at most :math:`\tau\|d\|_\infty`.

A decided claim without such evidence is reported ``unproved``; the certificate is ``accepted`` only
when every decided claim is re-proved.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..verdict import Outcome, Verdict
from .kernel import (
    _CONTAINS,
    ALL_NOTIONS,
    FORMAT_VERSION,
    PAIR_BRANCHES,
    Activity,
    Branch,
    Multipliers,
    Tolerances,
    _finite_vector,
    _nanmax,
    branch_violation,
    branches,
    cone_violation,
    directional_derivative,
    kink_mode,
    kink_options,
    kink_slopes_fixed,
    multiplier_violation,
    residual_norm,
)
from .mpcc import MPCC


# ------------------------------------------------------------------------------ dual certificates
@dataclass
class DualCertificate:
    r"""A region of multipliers and a dual vector :math:`y` bounding the residual on it.

    ``lam`` ('+' or '0' per g), ``nu``/``w`` (per pair, chars of 'f+-0'), ``z`` (per group: 'b' the
    ball :math:`\|z_J\|\le\lambda_J`, 'p' the point :math:`\lambda_J x_J/\|x_J\|`), ``s_lo``/``s_hi``
    (a slope interval per kink; :math:`\mu` is always free).
    """

    lam: str
    nu: str
    w: str
    z: str
    s_lo: np.ndarray
    s_hi: np.ndarray
    y: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "lam": self.lam,
            "nu": self.nu,
            "w": self.w,
            "z": self.z,
            "s_lo": np.asarray(self.s_lo, dtype=float).tolist(),
            "s_hi": np.asarray(self.s_hi, dtype=float).tolist(),
            "y": np.asarray(self.y, dtype=float).tolist(),
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "proof") -> DualCertificate:
        if isinstance(d, DualCertificate):
            return d
        if not isinstance(d, dict):
            raise ValueError(f"{where} must be a dict; got {type(d).__name__}")
        for k in ("lam", "nu", "w", "z", "s_lo", "s_hi", "y"):
            if k not in d:
                raise ValueError(f"{where}: missing key {k!r}")
        allowed = {"lam": "+0", "nu": "f+-0", "w": "f+-0", "z": "bp"}
        for k, chars in allowed.items():
            if not isinstance(d[k], str) or set(d[k]) - set(chars):
                raise ValueError(f"{where}.{k} must be a string over {chars!r}; got {d[k]!r}")
        return cls(
            d["lam"],
            d["nu"],
            d["w"],
            d["z"],
            _finite_vector(f"{where}.s_lo", d["s_lo"], None),
            _finite_vector(f"{where}.s_hi", d["s_hi"], None),
            _finite_vector(f"{where}.y", d["y"], None),
        )

    def validate(self, prob: MPCC, where: str) -> None:
        """``ValueError`` naming the field when a length does not match the problem."""
        for k, n in (
            ("lam", prob.g.size),
            ("nu", prob.n_pairs),
            ("w", prob.n_pairs),
            ("z", len(prob.groups)),
            ("s_lo", prob.n_kinks),
            ("s_hi", prob.n_kinks),
            ("y", prob.n),
        ):
            if len(getattr(self, k)) != n:
                raise ValueError(f"{where}.{k} must have length {n}; got {len(getattr(self, k))}")


def dual_lower_bound(prob: MPCC, cert: DualCertificate) -> tuple[float, float]:
    r"""``(beta, violation)``: :math:`\beta = \min_{m \in R} y^T r(m) / \|y\|_1` in closed form,
    ignoring the unbounded blocks, and the largest violation (per unit :math:`\|y\|_1`) of the cone
    conditions that make those blocks vanish (:math:`J_h y = 0`; :math:`(J_g y)_i \le 0` on '+';
    :math:`J_G y` resp. :math:`J_H y` :math:`\le 0` on '+', :math:`\ge 0` on '-', :math:`= 0` on 'f').

    Terms: :math:`y^T\nabla f`; a ball :math:`-\lambda_J\|y_J\|_2`, a point :math:`z_J^T y_J`; a
    slope interval :math:`\min(c_k (T y)_k\,lo,\ c_k (T y)_k\,hi)`. Returns ``(-inf, inf)`` for a
    non-finite or zero :math:`y`, or a 'p' group with :math:`x_J = 0`.
    """
    y = np.asarray(cert.y, dtype=float)
    l1 = float(np.sum(np.abs(y)))
    if not np.all(np.isfinite(y)) or l1 == 0.0:
        return -math.inf, math.inf
    val = float(y @ prob.grad_f)
    for j, gr in enumerate(prob.groups):
        yj = y[gr.indices]
        if cert.z[j] == "b":
            val -= gr.weight * float(np.linalg.norm(yj))
        else:
            nrm = float(np.linalg.norm(gr.value))
            if nrm == 0.0:
                return -math.inf, math.inf
            val += float(gr.weight * gr.value / nrm @ yj)
    if prob.n_kinks:
        tk = prob.kink_coef * (prob.kink_matrix() @ y)
        val += float(np.sum(np.minimum(tk * cert.s_lo, tk * cert.s_hi)))
    viol = [0.0]
    if prob.g.size:
        a = prob.Jg @ y
        viol += [max(a[i], 0.0) for i, c in enumerate(cert.lam) if c == "+"]
    if prob.h.size:
        viol.append(float(np.max(np.abs(prob.Jh @ y))))
    for J, pat in ((prob.JG, cert.nu), (prob.JH, cert.w)):
        if J.shape[0]:
            a = J @ y
            for i, c in enumerate(pat):
                viol.append(
                    {"+": max(a[i], 0.0), "-": max(-a[i], 0.0), "f": abs(a[i]), "0": 0.0}[c]
                )
    return val / l1, _nanmax(viol) / l1


def covers(
    prob: MPCC, act: Activity, notion: str, mode: str, regions: list[DualCertificate]
) -> tuple[bool, str]:
    """Whether the union of ``regions`` contains ``notion``'s multiplier set at ``act`` (kink mode
    ``mode``), and if not, a message naming what is left out."""
    concave_lim = prob.concave_kinks() & act.kinks_at_zero & (mode == "limiting")
    fixed = kink_slopes_fixed(prob)
    kz = np.flatnonzero(act.kinks_at_zero)
    kopts = dict(zip(kz.tolist(), kink_options(prob, act, mode), strict=True))

    def common_ok(R: DualCertificate) -> bool:
        for i in range(prob.g.size):
            if act.g_active[i] and R.lam[i] != "+":
                return False
        for i in range(prob.n_pairs):
            if act.biactive[i]:
                continue
            need_nu = "f" if act.G_active[i] else "0"
            need_w = "f" if act.H_active[i] else "0"
            if need_nu not in _CONTAINS[R.nu[i]] or need_w not in _CONTAINS[R.w[i]]:
                return False
        for j in range(len(prob.groups)):
            if act.zero_groups[j] and R.z[j] != "b":
                return False
        for k in range(prob.n_kinks):
            if k not in kopts:
                if not (R.s_lo[k] <= fixed[k] <= R.s_hi[k]):
                    return False
            elif not concave_lim[k]:
                lo, hi = kopts[k][0]
                if not (R.s_lo[k] <= lo and hi <= R.s_hi[k]):
                    return False
        return True

    cands = [R for R in regions if common_ok(R)]
    choices: list[tuple[str, int, list]] = []
    for i in np.flatnonzero(act.biactive):
        choices.append(("pair", int(i), PAIR_BRANCHES[notion]))
    for k in np.flatnonzero(concave_lim):
        choices.append(("kink", int(k), kopts[int(k)]))

    def admits(R: DualCertificate, ch: tuple[str, int, list], o: Any) -> bool:
        kind, i, _ = ch
        if kind == "pair":
            return o[0] in _CONTAINS[R.nu[i]] and o[1] in _CONTAINS[R.w[i]]
        return R.s_lo[i] <= o[0] and o[1] <= R.s_hi[i]

    def rec(regs: list[DualCertificate], rest: list) -> str | None:
        if not regs:
            return "no region"
        if not rest or any(all(admits(R, ch, o) for ch in rest for o in ch[2]) for R in regs):
            return None
        ch, tail = rest[0], rest[1:]
        for o in ch[2]:
            miss = rec([R for R in regs if admits(R, ch, o)], tail)
            if miss is not None:
                return f"{ch[0]} {ch[1]} option {o}: {miss}"
        return None

    if not cands:
        return False, "no region contains the non-branching part of the set"
    miss = rec(cands, choices)
    return (miss is None), ("" if miss is None else f"not covered: {miss}")


# ------------------------------------------------------------------------------ results
def _enc_float(x: float | None) -> float | str | None:
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _dec_float(d: dict[str, Any], key: str, where: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"{where}.{key} must be a number or null; got {v!r}") from None


@dataclass
class NotionResult:
    """The verdict on one notion and its evidence.

    ``verdict`` is a :class:`~ialam_verify.verdict.Verdict` (``res.verdict == "holds"`` works; a str
    is converted); ``reason`` says why; ``min_residual`` the smallest residual the programs reported
    (absolute); ``witness_residual`` the numpy residual of ``witness`` (:class:`Multipliers`, for
    ``holds``); ``epsilon`` the smallest tolerance (relative if scaled) at which the notion holds, as
    far as the search established it; ``proof`` the dual certificates of a ``fails``;
    ``descent_direction`` B's proof of ``fails``; ``branch_witnesses`` B's witnesses per branch.
    """

    verdict: Verdict | str
    reason: str = ""
    min_residual: float | None = None
    witness_residual: float | None = None
    witness: Multipliers | None = None
    branches: int = 0
    method: str = "enumeration"
    descent_direction: np.ndarray | None = None
    branch_witnesses: list[Multipliers] | None = None
    proof: list[DualCertificate] | None = None
    epsilon: float | None = None

    def __post_init__(self) -> None:
        outcome = self.verdict.outcome if isinstance(self.verdict, Verdict) else self.verdict
        if not self.reason and isinstance(self.verdict, Verdict):
            self.reason = self.verdict.reason
        self.set(outcome, self.reason)

    def set(self, outcome: Outcome | str, reason: str) -> None:
        """Change the outcome and reason (the Verdict is rebuilt from the fields)."""
        self.reason = reason
        residual = self.witness_residual if self.witness_residual is not None else self.min_residual
        if residual is not None and math.isnan(residual):
            residual = None
        eps = None if self.epsilon is None or math.isnan(self.epsilon) else self.epsilon
        self.verdict = Verdict(outcome, reason, residual, eps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "reason": self.reason,
            "min_residual": _enc_float(self.min_residual),
            "witness_residual": _enc_float(self.witness_residual),
            "epsilon": _enc_float(self.epsilon),
            "witness": None if self.witness is None else self.witness.to_dict(),
            "branches": self.branches,
            "method": self.method,
            "descent_direction": None
            if self.descent_direction is None
            else np.asarray(self.descent_direction).tolist(),
            "branch_witnesses": None
            if self.branch_witnesses is None
            else [m.to_dict() for m in self.branch_witnesses],
            "proof": None if self.proof is None else [p.to_dict() for p in self.proof],
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "result") -> NotionResult:
        if not isinstance(d, dict):
            raise ValueError(f"{where} must be a dict; got {type(d).__name__}")
        if "verdict" not in d:
            raise ValueError(f"{where}: missing key 'verdict'")
        v = d["verdict"]
        if isinstance(v, dict):
            v = v.get("outcome")
        if v not in [o.value for o in Outcome]:
            raise ValueError(
                f"{where}.verdict must be one of {[o.value for o in Outcome]}; got {v!r}"
            )
        reason = d.get("reason", "")
        if not isinstance(reason, str):
            raise ValueError(f"{where}.reason must be a string")
        wit = d.get("witness")
        bw = d.get("branch_witnesses")
        if bw is not None and not isinstance(bw, list):
            raise ValueError(f"{where}.branch_witnesses must be a list or null")
        proof = d.get("proof")
        if proof is not None and not isinstance(proof, list):
            raise ValueError(f"{where}.proof must be a list or null")
        dd = d.get("descent_direction")
        try:
            nb = int(d.get("branches", 0))
        except (TypeError, ValueError):
            raise ValueError(f"{where}.branches must be an integer") from None
        method = d.get("method", "enumeration")
        if not isinstance(method, str):
            raise ValueError(f"{where}.method must be a string")
        return cls(
            v,
            reason,
            _dec_float(d, "min_residual", where),
            _dec_float(d, "witness_residual", where),
            None if wit is None else Multipliers.from_dict(wit, f"{where}.witness"),
            nb,
            method,
            None if dd is None else _finite_vector(f"{where}.descent_direction", dd, None),
            None
            if bw is None
            else [
                Multipliers.from_dict(m, f"{where}.branch_witnesses[{i}]") for i, m in enumerate(bw)
            ],
            None
            if proof is None
            else [DualCertificate.from_dict(p, f"{where}.proof[{i}]") for i, p in enumerate(proof)],
            _dec_float(d, "epsilon", where),
        )


@dataclass
class Certificate:
    """What :func:`~.classify.classify` found: activity sets, one :class:`NotionResult` per notion,
    the strongest notions that hold, the tolerances, scale and timing. JSON via :meth:`save` /
    :meth:`load` (with ``format_version``)."""

    kind: str  # "mpcc" or "nlp"
    tolerances: Tolerances
    nonsmooth: str
    margin: float
    activity: dict[str, Any]
    results: dict[str, NotionResult]
    feasibility: dict[str, float]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    scale: float = 1.0

    @property
    def tol(self) -> float:
        return self.tolerances.tol

    @property
    def act_tol(self) -> float:
        return self.tolerances.act_tol

    @property
    def band(self) -> float:
        return self.tolerances.band

    @property
    def strongest(self) -> list[str]:
        """The notions that hold and are not implied by another one that holds."""
        order = ["S", "M", "A", "C", "W"] if self.kind == "mpcc" else ["KKT", "Clarke"]
        implied = {
            "S": {"M", "A", "C", "W"},
            "M": {"A", "C", "W"},
            "A": {"W"},
            "C": {"W"},
            "W": set(),
            "KKT": {"Clarke"},
            "Clarke": set(),
        }
        held = [n for n in order if n in self.results and self.results[n].verdict == "holds"]
        covered: set[str] = set()
        out = []
        for n in held:
            if n not in covered:
                out.append(n)
            covered |= implied[n]
        return out

    def verdicts(self) -> dict[str, str]:
        """``{notion: "holds" | "fails" | "undetermined" | "inconclusive"}``."""
        return {k: str(v.verdict) for k, v in self.results.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "tolerances": self.tolerances.to_dict(),
            "tol": self.tol,
            "act_tol": self.act_tol,
            "band": self.band,
            "scale": self.scale,
            "nonsmooth": self.nonsmooth,
            "margin": self.margin,
            "activity": self.activity,
            "results": {k: v.to_dict() for k, v in self.results.items()},
            "strongest": self.strongest,
            "feasibility": {k: _enc_float(v) for k, v in self.feasibility.items()},
            "seconds": self.seconds,
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Any) -> Certificate:
        """Read a certificate (format 1, without ``format_version``, or 2); every field is checked
        and a bad one raises ``ValueError`` naming it."""
        if not isinstance(d, dict):
            raise ValueError(f"a certificate must be a dict; got {type(d).__name__}")
        version = d.get("format_version", 1)
        if version not in (1, 2):
            raise ValueError(f"format_version must be 1 or 2; got {version!r}")
        for k in ("kind", "nonsmooth", "results"):
            if k not in d:
                raise ValueError(f"certificate: missing key {k!r}")
        if d["kind"] not in ("mpcc", "nlp"):
            raise ValueError(f"certificate.kind must be 'mpcc' or 'nlp'; got {d['kind']!r}")
        if d["nonsmooth"] not in ("limiting", "clarke"):
            raise ValueError(
                f"certificate.nonsmooth must be 'limiting' or 'clarke'; got {d['nonsmooth']!r}"
            )
        if "tolerances" in d:
            tols = Tolerances.from_dict(d["tolerances"])
        else:
            for k in ("tol", "act_tol"):
                if k not in d:
                    raise ValueError(f"certificate: missing key {k!r} (or 'tolerances')")
            tols = Tolerances(
                tol=d["tol"], act_tol=d["act_tol"], band=d.get("band", 10.0), scaled=False
            )
        if not isinstance(d["results"], dict):
            raise ValueError("certificate.results must be a dict {notion: result}")
        results = {}
        for k, v in d["results"].items():
            if k not in ALL_NOTIONS:
                raise ValueError(
                    f"certificate.results: unknown notion {k!r}; expected {ALL_NOTIONS}"
                )
            results[k] = NotionResult.from_dict(v, f"results[{k!r}]")
        feas = d.get("feasibility", {})
        if not isinstance(feas, dict):
            raise ValueError("certificate.feasibility must be a dict")
        return cls(
            d["kind"],
            tols,
            d["nonsmooth"],
            float(_dec_float(d, "margin", "certificate") or 0.0),
            d.get("activity", {}),
            results,
            {k: float(v) for k, v in feas.items()},
            float(_dec_float(d, "seconds", "certificate") or 0.0),
            list(d.get("notes", [])),
            float(_dec_float(d, "scale", "certificate") or 1.0),
        )

    def save(self, path: str) -> None:
        from ..io import atomic_write_json

        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str) -> Certificate:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read a certificate from {path!r}: {exc}") from exc
        return cls.from_dict(data)


# ------------------------------------------------------------------------------ check
@dataclass
class CheckResult:
    """What :func:`check` found.

    ``accepted``: every decided claim re-proved; ``per_notion``: ``{notion: {"claimed", "status",
    ...numbers}}`` with status "proved", "rejected", "unproved" or "no claim"; ``max_violation``: the
    worst violation of a "holds" witness (residual or set membership); ``messages``: what differs.
    ``result["accepted"]`` etc. also work.
    """

    accepted: bool
    per_notion: dict[str, dict[str, Any]]
    max_violation: float
    messages: list[str]
    tolerances: Tolerances
    residual_tol: float

    def __getitem__(self, key: str) -> Any:
        if key not in ("accepted", "per_notion", "max_violation", "messages"):
            raise KeyError(key)
        return getattr(self, key)

    def __bool__(self) -> bool:
        return self.accepted

    def __repr__(self) -> str:
        status = {k: v["status"] for k, v in self.per_notion.items()}
        return f"CheckResult(accepted={self.accepted}, {status}, messages={self.messages})"


def _check_witness(
    prob: MPCC, act: Activity, wit: Multipliers, tau: float, rules: dict[str, float] | None
) -> tuple[dict[str, float], list[str]]:
    """Residual and membership numbers of a witness whose sizes were validated; ``rules`` are the
    membership violations (computed by the caller for the right set)."""
    entry: dict[str, float] = {}
    msgs = []
    if not wit.is_finite():
        return {"residual": math.inf}, ["witness has NaN or inf entries"]
    r = residual_norm(prob, wit)
    entry["residual"] = r
    if r > tau:
        msgs.append(f"witness residual {r:.3g} > tolerance {tau:.3g}")
    for k, v in (rules or {}).items():
        entry[k] = v
        if not v <= tau:
            msgs.append(f"witness violates {k} by {v:.3g} > {tau:.3g}")
    return entry, msgs


def check(
    cert: Certificate | dict[str, Any], prob: MPCC, tolerances: Tolerances | None = None
) -> CheckResult:
    """Re-prove every decided claim of ``cert`` at ``prob`` with numpy, at the caller's tolerances.

    Parameters
    ----------
    cert : Certificate or dict
        The certificate (a dict is read with :meth:`Certificate.from_dict`).
    prob : MPCC
        The problem the certificate is about.
    tolerances : Tolerances, optional
        The caller's tolerances (default ``Tolerances()``: tol 1e-6 scaled, act_tol 1e-6). The
        certificate's own tolerances are never used.

    Returns
    -------
    CheckResult
        See the module docstring for what each claim needs. Malformed certificates (missing keys,
        wrong lengths, unknown verdicts) raise ``ValueError`` naming the field.
    """
    if isinstance(cert, dict):
        cert = Certificate.from_dict(cert)
    if not isinstance(cert, Certificate):
        raise ValueError(f"cert must be a Certificate; got {type(cert).__name__}")
    if not isinstance(prob, MPCC):
        raise ValueError(f"prob must be an MPCC; got {type(prob).__name__}")
    if tolerances is None:
        tolerances = Tolerances()
    if not isinstance(tolerances, Tolerances):
        raise ValueError(f"tolerances must be a Tolerances; got {type(tolerances).__name__}")
    tau = tolerances.residual_tol(prob)
    act = Activity.at(prob, tolerances.act_tol)
    per: dict[str, dict[str, Any]] = {}
    messages: list[str] = []
    worst = 0.0

    def witness_of(name: str, res: NotionResult) -> tuple[dict[str, float], list[str]]:
        if res.witness is None:
            return {"residual": math.inf}, ["no witness"]
        wit = res.witness.validate(prob, f"results[{name!r}].witness")
        rules = multiplier_violation(prob, act, wit, name, kink_mode(name, cert.nonsmooth))
        return _check_witness(prob, act, wit, tau, rules)

    for name, res in cert.results.items():
        outcome = res.verdict.outcome if isinstance(res.verdict, Verdict) else Outcome(res.verdict)
        entry: dict[str, Any] = {"claimed": outcome.value}
        msgs: list[str] = []
        if outcome is Outcome.HOLDS:
            if name == "B" and res.method == "implication":
                s_name = "KKT" if prob.is_nlp else "S"
                if np.any(prob.concave_kinks() & act.kinks_at_zero):
                    msgs.append(
                        f"B by implication from {s_name} is not a theorem here: a concave kink is at "
                        "zero (f'(x; d) is then a minimum of two slopes)"
                    )
                elif s_name not in cert.results or cert.results[s_name].verdict != "holds":
                    msgs.append(f"B by implication needs {s_name} to hold in the certificate")
                else:
                    nums, m2 = witness_of(s_name, cert.results[s_name])
                    entry.update(nums)
                    msgs += [f"{s_name} witness: {m}" for m in m2]
            elif name == "B":
                msgs += _check_b_witnesses(prob, act, res, tau, entry)
            else:
                nums, m2 = witness_of(name, res)
                entry.update(nums)
                msgs += m2
            viol = [
                v for k, v in entry.items() if isinstance(v, float) and not k.startswith("branches")
            ]
            worst = max(worst, _nanmax(viol))
            entry["status"] = "rejected" if msgs else "proved"
        elif outcome is Outcome.FAILS:
            if name == "B":
                status, m2 = _check_b_direction(prob, act, res, tau, entry)
            else:
                status, m2 = _check_dual_proof(
                    prob, act, name, kink_mode(name, cert.nonsmooth), res, tau, tolerances, entry
                )
            entry["status"] = status
            msgs += m2
        else:
            entry["status"] = "no claim"
        for m in msgs:
            messages.append(f"{name} {outcome.value}: {m}")
        per[name] = entry
    accepted = all(e["status"] in ("proved", "no claim") for e in per.values())
    return CheckResult(accepted, per, worst, messages, tolerances, tau)


def _check_b_witnesses(
    prob: MPCC, act: Activity, res: NotionResult, tau: float, entry: dict[str, Any]
) -> list[str]:
    if not res.branch_witnesses:
        return ["no branch witnesses (and not by implication)"]
    _, gen = branches(prob, act, "B", "limiting")
    expected = {b.key() for b in gen}
    covered = set()
    msgs = []
    entry["residual"] = 0.0
    for i, wit in enumerate(res.branch_witnesses):
        wit = wit.validate(prob, f"results['B'].branch_witnesses[{i}]")
        if wit.branch is None:
            continue
        br = Branch(
            np.array(list(wit.branch["nu"]), dtype="<U1"),
            np.array(list(wit.branch["w"]), dtype="<U1"),
            np.asarray(wit.branch["s_lo"], dtype=float),
            np.asarray(wit.branch["s_hi"], dtype=float),
        )
        if br.key() not in expected:
            continue
        nums, m2 = _check_witness(prob, act, wit, tau, branch_violation(prob, act, wit, br))
        for k, v in nums.items():
            entry[k] = max(entry.get(k, 0.0), v) if not math.isnan(v) else math.inf
        if m2:
            msgs += [f"branch {br.key()}: {m}" for m in m2]
        else:
            covered.add(br.key())
    entry["branches_covered"] = float(len(covered))
    entry["branches_missing"] = float(len(expected - covered))
    if expected - covered:
        msgs.append(
            f"{len(expected - covered)} of {len(expected)} B branches have no valid witness"
        )
    return msgs


def _check_b_direction(
    prob: MPCC, act: Activity, res: NotionResult, tau: float, entry: dict[str, Any]
) -> tuple[str, list[str]]:
    if res.descent_direction is None:
        return "unproved", ["no descent direction stored"]
    d = _finite_vector("results['B'].descent_direction", res.descent_direction, prob.n)
    nd = float(np.max(np.abs(d))) if np.all(np.isfinite(d)) else math.nan
    if not (np.isfinite(nd) and nd > 0):
        return "rejected", ["descent direction is zero or not finite"]
    fd = directional_derivative(prob, act, d / nd)
    cv = cone_violation(prob, act, d / nd)
    entry.update(directional_derivative=fd, cone_violation=cv)
    msgs = []
    if not fd < -tau:
        msgs.append(f"f'(x; d)/||d|| = {fd:.3g} is not below -{tau:.3g}")
    if not cv <= tau:
        msgs.append(f"direction leaves the linearized cone by {cv:.3g} > {tau:.3g}")
    return ("rejected" if msgs else "proved"), msgs


def _check_dual_proof(
    prob: MPCC,
    act: Activity,
    name: str,
    mode: str,
    res: NotionResult,
    tau: float,
    tols: Tolerances,
    entry: dict[str, Any],
) -> tuple[str, list[str]]:
    if not res.proof:
        return "unproved", ["no dual certificate stored"]
    bounds, viols = [], []
    for i, p in enumerate(res.proof):
        p.validate(prob, f"results[{name!r}].proof[{i}]")
        b, v = dual_lower_bound(prob, p)
        bounds.append(b)
        viols.append(v)
    entry["lower_bound"] = min(bounds)
    entry["dual_violation"] = _nanmax(viols)
    msgs = []
    if not min(bounds) > tau:
        msgs.append(f"a dual bound {min(bounds):.3g} does not exceed the tolerance {tau:.3g}")
    if not entry["dual_violation"] <= tols.dual_tol:
        msgs.append(f"a dual vector violates its cone conditions by {entry['dual_violation']:.3g}")
    ok, why = covers(prob, act, name, mode, res.proof)
    if not ok:
        msgs.append(f"the regions do not cover the multiplier set of {name}: {why}")
    if not msgs:
        return "proved", msgs
    # a bound that is valid but too small for these tolerances leaves the claim unproved; a broken
    # dual vector or a region set with holes is a wrong proof
    broken = (not entry["dual_violation"] <= tols.dual_tol) or not ok
    return ("rejected" if broken else "unproved"), msgs
