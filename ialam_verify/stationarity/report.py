"""What :func:`~.lifted.certify` returns: one readable report for (PP) and (P) at a point."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict

#: version of the dictionary of :meth:`CertifyReport.to_dict` (and of ``certify --json``)
FORMAT_VERSION = 2
PP_NOTIONS = ("KKT", "Clarke", "B")
P_NOTIONS = ("W", "A", "C", "M", "S", "B_P")
NOTIONS = PP_NOTIONS + P_NOTIONS
_TITLES = {
    "KKT": "(PP) KKT (limiting)",
    "Clarke": "(PP) Clarke",
    "B": "(PP) B",
    "W": "(P) MPCC W",
    "A": "(P) MPCC A",
    "C": "(P) MPCC C",
    "M": "(P) MPCC M",
    "S": "(P) MPCC S",
    "B_P": "(P) B",
}


def _as_verdict(res: Any) -> Verdict:
    """A notion result of either certifier as a :class:`Verdict` (``epsilon``: the best witness
    residual, i.e. the notion holds at every tolerance above it)."""
    v = res.verdict
    if isinstance(v, Verdict):
        return v
    eps = res.witness_residual if res.witness_residual is not None else res.min_residual
    if eps is not None and not np.isfinite(eps):
        eps = None
    return Verdict(str(v), res.reason, res.witness_residual, eps)


@dataclass
class CertifyReport:
    """Certificates of (PP) at the point (``pp``) and of (P) at the feasible lift of its weights
    (``p``), from the structured certifier (``method == "structured"``) or the generic one.

    Read it with :meth:`verdict`, :meth:`summary_line`, ``print(report)`` (one line per notion:
    verdict, epsilon, why), :meth:`to_dict`; re-check it with :meth:`check`.
    """

    pp: Any
    p: Any
    pp_at_solver_xi: dict[str, Any] | None
    info: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    problem: Problem | None = field(default=None, repr=False)
    point: LiftedPoint | None = field(default=None, repr=False)
    method: str = "structured"

    # ------------------------------------------------------------------------------ reading
    def verdict(self, notion: str) -> Verdict:
        """The :class:`Verdict` of ``notion``: ``KKT``, ``Clarke``, ``B`` ((PP) at the point) or
        ``W``, ``A``, ``C``, ``M``, ``S``, ``B_P`` ((P) at the feasible lift)."""
        if notion not in NOTIONS:
            raise ValueError(f"notion must be one of {list(NOTIONS)}; got {notion!r}")
        if notion in PP_NOTIONS:
            return _as_verdict(self.pp.results[notion])
        return _as_verdict(self.p.results["B" if notion == "B_P" else notion])

    def verdicts(self) -> dict[str, Verdict]:
        return {n: self.verdict(n) for n in NOTIONS}

    def lower_bound(self, notion: str) -> float | None:
        """The proved lower bound on the residual of every multiplier of ``notion``, in the units of
        ``epsilon`` (relative to the scale when the tolerance is scaled; structured certifier only,
        ``None`` when not computed)."""
        self.verdict(notion)
        cert = self.pp if notion in PP_NOTIONS else self.p
        res = cert.results["B" if notion == "B_P" else notion]
        lb = getattr(res, "lower_bound", None)
        if lb is None:
            return None
        return lb / cert.scale if cert.tolerances.scaled else lb

    def summary_line(self) -> str:
        """One line: ``(PP) KKT holds, Clarke holds, B undetermined | (P) W holds, ... [0.12 s]``."""
        pp = ", ".join(f"{n} {self.verdict(n)}" for n in PP_NOTIONS)
        p = ", ".join(f"{n} {self.verdict(n)}" for n in P_NOTIONS)
        return f"(PP) {pp} | (P) {p} [{self.method}, {self.seconds:.2f} s]"

    def rows(self) -> list[dict[str, Any]]:
        """One row per notion: notion, title, outcome, epsilon, lower bound, reason."""
        out = []
        for n in NOTIONS:
            v = self.verdict(n)
            out.append(
                {
                    "notion": n,
                    "title": _TITLES[n],
                    "outcome": v.outcome.value,
                    "epsilon": v.epsilon,
                    "lower_bound": self.lower_bound(n),
                    "reason": v.reason,
                }
            )
        return out

    def header(self) -> str:
        i = self.info
        tol = self.pp.tol
        kind = "relative to the scale" if self.pp.tolerances.scaled else "absolute"
        return (
            f"sizes {i.get('sizes')}, N = {i.get('n_samples')}, method {self.method}; "
            f"tol {tol:g} ({kind}: (PP) {self.pp.scale:.3g}, (P) {self.p.scale:.3g}), act_tol "
            f"{self.pp.act_tol:g}, band x{self.pp.band:g}; epsilon in units of the scale"
        )

    def text(self) -> str:
        """The readable report: a header, then one line per notion (verdict, epsilon = the
        smallest tolerance at which the witness found would pass, why)."""
        lines = [self.header()]
        for r in self.rows():
            eps = "-" if r["epsilon"] is None else f"{r['epsilon']:.2g}"
            lines.append(f"  {r['title']:20s} {r['outcome']:13s} eps {eps:>8s}  {r['reason']}")
        for tag, cert in (("(PP)", self.pp), ("(P)", self.p)):
            for note in cert.notes:
                lines.append(f"  note {tag}: {note}")
        if self.pp_at_solver_xi:
            s = self.pp_at_solver_xi
            mr = s.get("min_residual")
            lines.append(
                f"  (PP) with the solver's xi fixed: {s['verdict']}, smallest residual "
                f"{'-' if mr is None else f'{mr:.3g}'}"
            )
        lines.append(f"  seconds {self.seconds:.2f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        i = self.info
        kkt = self.verdict("KKT")
        return (
            f"CertifyReport(sizes={i.get('sizes')}, N={i.get('n_samples')}, method={self.method!r}, "
            f"KKT={kkt.outcome.value!r}, strongest_PP={list(self.pp.strongest)}, "
            f"strongest_P={list(self.p.strongest)})"
        )

    def _repr_markdown_(self) -> str:
        lines = [
            f"**{self.header()}**",
            "",
            "| notion | verdict | epsilon | why |",
            "|---|---|---|---|",
        ]
        for r in self.rows():
            eps = "" if r["epsilon"] is None else f"{r['epsilon']:.2g}"
            why = r["reason"].replace("|", "\\|")
            lines.append(f"| {r['title']} | {r['outcome']} | {eps} | {why} |")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr><td>{}</td><td><b>{}</b></td><td>{}</td><td>{}</td></tr>".format(
                html.escape(r["title"]),
                html.escape(r["outcome"]),
                "" if r["epsilon"] is None else f"{r['epsilon']:.2g}",
                html.escape(r["reason"]),
            )
            for r in self.rows()
        )
        return (
            f"<p>{html.escape(self.header())}</p><table><tr><th>notion</th><th>verdict</th>"
            f"<th>epsilon</th><th>why</th></tr>{rows}</table>"
        )

    # -------------------------------------------------------------------------- re-checking
    def check(self, tolerances: Any = None) -> dict[str, Any]:
        """Re-verify every decided verdict with numpy at the caller's tolerances (default
        ``Tolerances()``, never the certificate's): witnesses of "holds" and directions of "fails".
        Structured certificates are re-checked layer by layer (:mod:`.network_check`), generic ones
        by :func:`~.check.check` on the full problem. Returns ``{"per_notion", "accepted"}``."""
        from .lifted import check_report

        return check_report(self, tolerances)

    def talk_multipliers(self, notion: str = "KKT") -> dict[str, list[np.ndarray]] | None:
        """The (PP) witness of ``notion`` in the talk's terms: ``Xi``, ``M1``, ``M2``, ``S`` (lists
        of ``N_l x N``); ``None`` unless ``notion`` holds."""
        from .lifted import report_talk_multipliers

        return report_talk_multipliers(self, notion)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no multipliers); carries ``format_version``."""

        def enc(x: Any) -> Any:
            if isinstance(x, float) and not np.isfinite(x):
                return None
            return x

        def short(c: Any) -> dict[str, Any]:
            return {
                "verdicts": {k: str(v) for k, v in c.verdicts().items()},
                "strongest": list(c.strongest),
                "residuals": {
                    k: {
                        "min_residual": enc(r.min_residual),
                        "witness_residual": enc(r.witness_residual),
                    }
                    for k, r in c.results.items()
                },
                "reasons": {k: r.reason for k, r in c.results.items()},
                "activity_sizes": {
                    k: (len(v) if isinstance(v, list) else v)
                    for k, v in c.activity.items()
                    if k != "activity_tol"
                },
                "feasibility": c.feasibility,
                "seconds": c.seconds,
                "notes": list(c.notes),
            }

        notions = {}
        for r in self.rows():
            notions[r["notion"]] = {
                k: enc(r[k]) for k in ("outcome", "epsilon", "lower_bound", "reason")
            }
        return {
            "format_version": FORMAT_VERSION,
            "method": self.method,
            "summary": self.summary_line(),
            "notions": notions,
            "tolerances": {
                "tol": self.pp.tol,
                "act_tol": self.pp.act_tol,
                "band": self.pp.band,
                "scaled": bool(self.pp.tolerances.scaled),
                "scale_PP": self.pp.scale,
                "scale_P": self.p.scale,
                "margin_PP": self.pp.margin,
                "margin_P": self.p.margin,
            },
            "PP": short(self.pp),
            "P": short(self.p),
            "PP_at_solver_xi": self.pp_at_solver_xi,
            "info": self.info,
            "seconds": self.seconds,
        }
