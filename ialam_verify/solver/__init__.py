"""The IALAM solver: the pipeline (start, IALAM, refinement, verdict), the outer loop, the inner loop, the steps."""

from .api import default_beta, default_rho0, fit, initial_point, relu_bias_bound, relu_thetas
from .ialam import IALAM, IALAMResult, IALAMState
from .inner import AlternatingMinimization, AMState, augmented_lagrangian, proximal_term
from .pipeline import certify_kkt, run_pipeline
from .settings import OPTIONS, IALAMSettings, InnerSettings, WarmupSettings
from .status import STATUS_MESSAGES, Status
from .storage import load_result, save_result, summary
from .vu_step import solve_vu
from .warmup import warmup
from .wb_step import group_soft_threshold, wb_layer_step

__all__ = [
    "OPTIONS",
    "STATUS_MESSAGES",
    "IALAM",
    "IALAMSettings",
    "InnerSettings",
    "Status",
    "WarmupSettings",
    "certify_kkt",
    "run_pipeline",
    "warmup",
    "AMState",
    "AlternatingMinimization",
    "IALAMResult",
    "IALAMState",
    "augmented_lagrangian",
    "default_beta",
    "default_rho0",
    "fit",
    "group_soft_threshold",
    "initial_point",
    "load_result",
    "save_result",
    "summary",
    "proximal_term",
    "relu_bias_bound",
    "relu_thetas",
    "solve_vu",
    "wb_layer_step",
]
