"""The model: the leaky-ReLU network of problem (1) and the lifted problems (P), (PP), (PP_b)."""

from .dataset import Dataset
from .network import forward, init_weights, leaky_relu, mean_squared_error, predict
from .problem import LiftedPoint, Problem

__all__ = [
    "Dataset",
    "LiftedPoint",
    "Problem",
    "forward",
    "init_weights",
    "leaky_relu",
    "mean_squared_error",
    "predict",
]
