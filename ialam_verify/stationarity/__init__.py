"""Stationarity certificates: which notions hold at a point, with multipliers anyone can check.

General part: :class:`MPCC` (first-order data), :func:`classify`, :func:`check`,
:class:`Certificate`. The talk's problems: :func:`pp_problem`, :func:`p_problem`, :func:`certify`.
"""

from .classify import (
    MPCC_NOTIONS,
    NLP_NOTIONS,
    Activity,
    Certificate,
    NotionResult,
    check,
    classify,
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
    "GroupTerm",
    "NotionResult",
    "certify",
    "certify_network",
    "check",
    "constraint_jacobian",
    "p_problem",
    "pp_problem",
    "pp_residual_blocks",
    "classify",
    "stationarity_residual",
]
