"""The IALAM solver: outer augmented-Lagrangian loop, alternating-minimization inner loop, and the steps."""

from .api import default_beta, default_rho0, fit, initial_point, relu_bias_bound, relu_thetas
from .ialam import IALAM, IALAMResult, IALAMState
from .inner import AlternatingMinimization, AMState, augmented_lagrangian, proximal_term
from .storage import load_result, save_result, summary
from .vu_step import solve_vu
from .wb_step import group_soft_threshold, wb_layer_step

__all__ = [
    "IALAM",
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
