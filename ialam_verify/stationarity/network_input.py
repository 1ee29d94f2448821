"""``certify_network``: certify any leaky-ReLU network (numpy lists or torch ``nn.Sequential``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_float_array, check_alpha, check_nonnegative
from ..model.problem import Problem
from .report import CertifyReport


def _from_torch(net: Any, alpha: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import torch.nn as nn

    layers = list(net)
    W, b = [], []
    i = 0
    while i < len(layers):
        lin = layers[i]
        if not isinstance(lin, nn.Linear):
            raise ValueError(
                f"network[{i}] must be torch.nn.Linear (the network alternates Linear and "
                f"LeakyReLU); got {type(lin).__name__}"
            )
        if i + 1 >= len(layers) or not isinstance(layers[i + 1], nn.LeakyReLU):
            got = type(layers[i + 1]).__name__ if i + 1 < len(layers) else "the end"
            raise ValueError(
                f"network[{i + 1}] must be torch.nn.LeakyReLU: the talk's network applies sigma "
                f"after every Linear, the last included; got {got}"
            )
        slope = float(layers[i + 1].negative_slope)
        if not np.isclose(slope, alpha, rtol=0, atol=1e-12):
            raise ValueError(
                f"network[{i + 1}].negative_slope = {slope} differs from alpha = {alpha}"
            )
        Wl = lin.weight.detach().cpu().double().numpy().copy()
        bl = (
            np.zeros(Wl.shape[0])
            if lin.bias is None
            else lin.bias.detach().cpu().double().numpy().copy()
        )
        W.append(Wl)
        b.append(bl)
        i += 2
    if not W:
        raise ValueError("network must hold at least one Linear + LeakyReLU pair")
    return W, b


def _as_network(network: Any, alpha: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if type(network).__module__.startswith("torch"):
        return _from_torch(network, alpha)
    if not (isinstance(network, (tuple, list)) and len(network) == 2):
        raise ValueError(
            "network must be (weights, biases), two lists of arrays, or a torch nn.Sequential of "
            f"Linear + LeakyReLU; got {type(network).__name__}"
        )
    weights, biases = network
    if len(weights) != len(biases) or len(weights) == 0:
        raise ValueError(
            f"weights and biases must be non-empty lists of the same length; got {len(weights)} "
            f"and {len(biases)}"
        )
    W = [as_float_array(f"weights[{i}]", w, ndim=2) for i, w in enumerate(weights)]
    b = [as_float_array(f"biases[{i}]", v, ndim=1) for i, v in enumerate(biases)]
    for i in range(len(W)):
        if b[i].shape[0] != W[i].shape[0]:
            raise ValueError(
                f"biases[{i}] must have length {W[i].shape[0]} (rows of weights[{i}]); got {b[i].shape[0]}"
            )
        if i > 0 and W[i].shape[1] != W[i - 1].shape[0]:
            raise ValueError(
                f"weights[{i}] must have {W[i - 1].shape[0]} columns (rows of weights[{i - 1}]); "
                f"got shape {W[i].shape}"
            )
    return W, b


def certify_network(
    network: Any,
    X: Any,
    Y: Any,
    *,
    alpha: float,
    lambda_w: float,
    lambda_v: float = 0.0,
    beta: float | list[float] | None = None,
    samples: str = "columns",
    tolerances: Any = None,
    method: str = "auto",
) -> CertifyReport:
    r"""Certify the network ``network`` on data ``(X, Y)``: (PP) at its feasible lift and (P) there.

    Parameters
    ----------
    network : (weights, biases) or torch.nn.Sequential
        Lists of arrays ``W_l`` (``N_l x N_{l-1}``) and ``b_l`` (``N_l``), or a ``Sequential`` of
        ``Linear`` + ``LeakyReLU(alpha)`` pairs (every Linear followed by the activation, as in the
        talk's network; any other layer is refused).
    X, Y : arrays
        Inputs and targets; ``samples="columns"`` (the talk: ``N_0 x N``, ``N_L x N``) or
        ``"rows"`` (torch: ``N x N_0``, ``N x N_L``).
    alpha : float
        Leaky-ReLU slope, in (0, 1).
    lambda_w, lambda_v : float
        Group-lasso and ridge weights (>= 0).
    beta : float, sequence or None
        Penalty parameters of (PP); default :func:`ialam_verify.solver.api.default_beta`
        (:math:`\beta_\ell = 2\max(1, \max|Y|)/N`, the solver's default).
    tolerances : Tolerances, optional
        Passed to :func:`~.lifted.certify` (default ``Tolerances()``: tol 1e-6 relative to the
        problem's scale, act_tol 1e-6).
    method : {"auto", "structured", "generic"}
        As in :func:`~.lifted.certify`.
    """
    alpha = check_alpha(alpha)
    lambda_w = check_nonnegative("lambda_w", lambda_w)
    lambda_v = check_nonnegative("lambda_v", lambda_v)
    if samples not in ("columns", "rows"):
        raise ValueError(f"samples must be 'columns' or 'rows'; got {samples!r}")
    W, b = _as_network(network, alpha)
    X = as_float_array("X", X, ndim=2)
    Y = as_float_array("Y", Y, ndim=2)
    if samples == "rows":
        X, Y = X.T.copy(), Y.T.copy()
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must hold the same number of samples ({samples}); got {X.shape[1]} and {Y.shape[1]}"
        )
    if X.shape[0] != W[0].shape[1]:
        raise ValueError(
            f"X must have {W[0].shape[1]} features (columns of weights[0]) per sample; got {X.shape[0]}"
        )
    if Y.shape[0] != W[-1].shape[0]:
        raise ValueError(
            f"Y must have {W[-1].shape[0]} outputs (rows of the last weights) per sample; got {Y.shape[0]}"
        )
    sizes = (W[0].shape[1], *(w.shape[0] for w in W))
    if beta is None:
        from ..solver.api import default_beta

        beta = default_beta(Y, len(W))
    problem = Problem.create(X, Y, sizes, alpha, lambda_w, lambda_v, beta)
    from .lifted import certify

    return certify(problem, problem.lift(W, b), tolerances=tolerances, method=method)
