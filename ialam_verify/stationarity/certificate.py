"""Certificate types (numpy only, part of the trusted kernel): :class:`NotionResult`,
:class:`Certificate` (JSON with ``format_version``) and :class:`DualCertificate` (the evidence of a
"fails"). :mod:`.check` re-proves them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..verdict import Outcome, Verdict
from .kernel import (
    ALL_NOTIONS,
    FORMAT_VERSION,
    Multipliers,
    Tolerances,
    _float_vector,
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
            _float_vector(f"{where}.s_lo", d["s_lo"], None),
            _float_vector(f"{where}.s_hi", d["s_hi"], None),
            _float_vector(f"{where}.y", d["y"], None),
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
        # dicts (the pre-Multipliers form) are read into the typed evidence
        if isinstance(self.witness, dict):
            self.witness = Multipliers.from_dict(self.witness, "witness")
        if self.branch_witnesses is not None:
            self.branch_witnesses = [
                Multipliers.from_dict(m, f"branch_witnesses[{i}]")
                for i, m in enumerate(self.branch_witnesses)
            ]
        if self.proof is not None:
            self.proof = [
                DualCertificate.from_dict(p, f"proof[{i}]") for i, p in enumerate(self.proof)
            ]
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
            None if dd is None else _float_vector(f"{where}.descent_direction", dd, None),
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


class ToleranceFields:
    """``tol``, ``act_tol`` and ``band`` read from a ``tolerances`` attribute (both certificate
    types carry a :class:`~.kernel.Tolerances` and show these three as their own)."""

    tolerances: Tolerances

    @property
    def tol(self) -> float:
        return self.tolerances.tol

    @property
    def act_tol(self) -> float:
        return self.tolerances.act_tol

    @property
    def band(self) -> float:
        return self.tolerances.band


@dataclass
class Certificate(ToleranceFields):
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
