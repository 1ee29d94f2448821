"""Certificate types of the structured certifier (:mod:`.network`): one result per notion and the
certificate of (PP) or (P), with the reading surface of :class:`~.certificate.Certificate`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from .certificate import ToleranceFields
from .kernel import Tolerances


@dataclass
class NetworkNotionResult:
    """One notion: its :class:`~ialam_verify.verdict.Verdict`, how it was decided, the witness
    (``Xi, M1, M2, S, Z``: per-layer arrays; ``None`` unless it holds; for B a list, one per branch),
    the proof of failure (``direction``: per-layer ``W, b, V, U``; ``slopes`` of its branch) and the
    numbers: ``epsilon`` (best witness residual: the notion holds at every tol above it) and
    ``lower_bound`` (proved: no multiplier of the set has a smaller residual)."""

    verdict: Verdict
    method: str
    witness: dict[str, list[np.ndarray]] | list[dict[str, list[np.ndarray]]] | None = None
    direction: dict[str, list[np.ndarray]] | None = None
    slopes: list[np.ndarray] | None = None
    epsilon: float | None = None
    lower_bound: float | None = None
    cone: str = ""  # the cone of ``direction``: "PP", "W" (every (P) notion) or "S"
    branch_slopes: list[tuple[np.ndarray, np.ndarray]] | None = None
    # (P) at biactive entries (:mod:`.network_biactive`): the proved regions of a "fails" of A/C/M
    # (one per branch node, together covering the set), and for B the pieces' patterns and the
    # positions of their biactive entries in the reduced program
    regions: list[Any] | None = None
    branch_patterns: list[Any] | None = None
    branch_loc: Any = None

    @property
    def reason(self) -> str:
        return self.verdict.reason

    @property
    def min_residual(self) -> float | None:
        return self.epsilon

    @property
    def witness_residual(self) -> float | None:
        return self.epsilon if self.verdict.outcome.value == "holds" else None


@dataclass
class NetworkCertificate(ToleranceFields):
    """Certificate of (PP) (``kind="PP"``: KKT, Clarke, B) or (P) (``kind="P"``: W, A, C, M, S, B)
    at one point; the same reading surface as :class:`.classify.Certificate`."""

    kind: str
    tolerances: Tolerances
    scale: float
    margin: float
    results: dict[str, NetworkNotionResult]
    activity: dict[str, Any]
    feasibility: dict[str, float]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    nonsmooth: str = "limiting"


    @property
    def residual_tol(self) -> float:
        """The absolute residual tolerance used: ``tol`` times ``scale`` (1 when not scaled)."""
        return self.tolerances.tol * (self.scale if self.tolerances.scaled else 1.0)

    @property
    def strongest(self) -> list[str]:
        order = ["S", "M", "A", "C", "W"] if self.kind == "P" else ["KKT", "Clarke"]
        implied = {"S": {"M", "A", "C", "W"}, "M": {"A", "C", "W"}, "A": {"W"}, "C": {"W"}}
        implied.update({"W": set(), "KKT": {"Clarke"}, "Clarke": set()})
        covered: set[str] = set()
        out = []
        for n in order:
            if n in self.results and self.results[n].verdict == "holds":
                if n not in covered:
                    out.append(n)
                covered |= implied[n]
        return out

    def verdicts(self) -> dict[str, str]:
        return {k: str(v.verdict) for k, v in self.results.items()}

    def to_generic(self, problem: Problem, point: LiftedPoint):
        """This certificate as a :class:`.classify.Certificate` of the full problem (``point``: the
        point for "PP", the lift for "P"), for :func:`.classify.check` (small sizes)."""
        from .lifted import network_certificate_to_generic

        return network_certificate_to_generic(self, problem, point)
