"""Stationarity certificates: which notions hold at a point, with multipliers anyone can check.

General part: :class:`MPCC` (first-order data), :func:`classify`, :func:`check`, :class:`Certificate`,
:class:`Tolerances`, :class:`Multipliers`. The trusted kernel (numpy only) is :mod:`.kernel` and
:mod:`.certificate`; the programs are in :mod:`.programs`. The talk's problems: :func:`pp_problem`,
:func:`p_problem`, :func:`certify`.
"""

from .certificate import Certificate, DualCertificate, NotionResult
from .check import CheckResult, check, dual_lower_bound
from .classify import classify
from .kernel import (
    MPCC_NOTIONS,
    NLP_NOTIONS,
    Activity,
    Multipliers,
    Tolerances,
    problem_scale,
    stationarity_residual,
)
from .lifted import (
    CertifyReport,
    certify,
    constraint_jacobian,
    p_problem,
    pp_problem,
    pp_residual_blocks,
)
from .mpcc import MPCC, GroupTerm
from .network_input import certify_network

__all__ = [
    "MPCC",
    "MPCC_NOTIONS",
    "NLP_NOTIONS",
    "Activity",
    "Certificate",
    "CertifyReport",
    "CheckResult",
    "DualCertificate",
    "dual_lower_bound",
    "GroupTerm",
    "Multipliers",
    "NotionResult",
    "Tolerances",
    "certify",
    "certify_network",
    "check",
    "classify",
    "constraint_jacobian",
    "p_problem",
    "pp_problem",
    "pp_residual_blocks",
    "problem_scale",
    "stationarity_residual",
]
