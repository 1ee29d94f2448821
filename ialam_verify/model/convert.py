"""A network given by the user, in any of the accepted forms, as checked lists ``(W, b)``.

Accepted: ``(weights, biases)`` (two sequences of arrays, ``W_l`` of shape ``N_l x N_{l-1}``), a torch
``nn.Sequential`` of ``Linear`` and ``LeakyReLU`` (the talk applies sigma after every layer, the last one
included, so the module must end with ``LeakyReLU``; ``ReLU`` only when ``alpha = 0``), or an ``.npz``
file holding ``W_0, ..., b_0, ...`` (what :func:`ialam_verify.solver.save_result` writes). torch is
imported only when a torch module is given.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .network import check_network


def _is_torch_module(obj: Any) -> bool:
    return type(obj).__module__.startswith("torch.") and hasattr(obj, "named_children")


def network_from_torch(module: Any, alpha: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights and biases of an ``nn.Sequential`` of ``Linear`` + ``LeakyReLU(alpha)`` pairs."""
    import torch.nn as nn

    if not isinstance(module, nn.Sequential):
        raise ValueError(
            f"a torch network must be an nn.Sequential of Linear and LeakyReLU; got {type(module).__name__}"
        )
    layers = list(module)
    W: list[np.ndarray] = []
    b: list[np.ndarray] = []
    for i, layer in enumerate(layers):
        expect_linear = i % 2 == 0
        kind = type(layer).__name__
        if expect_linear:
            if not isinstance(layer, nn.Linear):
                raise ValueError(
                    f"network layer {i} must be nn.Linear (Linear and LeakyReLU alternate); got {kind}"
                )
            W.append(layer.weight.detach().cpu().double().numpy().copy())
            bias = layer.bias
            b.append(
                np.zeros(layer.out_features)
                if bias is None
                else bias.detach().cpu().double().numpy().copy()
            )
        else:
            if isinstance(layer, nn.LeakyReLU):
                slope = float(layer.negative_slope)
            elif isinstance(layer, nn.ReLU):
                slope = 0.0
            else:
                raise ValueError(
                    f"network layer {i} must be nn.LeakyReLU (Linear and LeakyReLU alternate); got {kind}"
                )
            if abs(slope - alpha) > 1e-12:
                raise ValueError(
                    f"network layer {i}: LeakyReLU slope {slope} differs from alpha = {alpha}"
                )
    if not layers or len(layers) % 2 != 0:
        raise ValueError(
            "a torch network must end with LeakyReLU after its last Linear (sigma acts on every "
            f"layer in the talk's problem (1)); got {len(layers)} modules"
        )
    return W, b


def load_network_npz(path: str | os.PathLike[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``W_0, W_1, ...`` and ``b_0, b_1, ...`` from an ``.npz`` file (a saved result or your own)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"network file {p} does not exist")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"network file {p} is not a readable .npz: {exc}") from exc
    W, b = [], []
    while f"W_{len(W)}" in arrays:
        W.append(arrays[f"W_{len(W)}"])
    while f"b_{len(b)}" in arrays:
        b.append(arrays[f"b_{len(b)}"])
    if not W:
        raise ValueError(
            f"network file {p} holds no W_0 (expected arrays W_0, ..., b_0, ...); "
            f"it has {sorted(arrays)[:8]}"
        )
    return W, b


def as_network(
    network: Any, sizes: Sequence[int], alpha: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Checked float copies ``(W, b)`` of ``network`` for a problem with layer widths ``sizes``.

    Raises ``ValueError`` naming what is wrong (form, layer kind, slope, shape, NaN) before any work.
    """
    if isinstance(network, (str, os.PathLike)):
        W, b = load_network_npz(network)
    elif _is_torch_module(network):
        W, b = network_from_torch(network, alpha)
    elif isinstance(network, (tuple, list)) and len(network) == 2:
        W, b = network
        if not (isinstance(W, (list, tuple)) and isinstance(b, (list, tuple))):
            raise ValueError(
                "a network given as (weights, biases) needs two lists of arrays; "
                f"got ({type(W).__name__}, {type(b).__name__})"
            )
    else:
        raise ValueError(
            "start must be 'warmup', 'talk', a network (weights, biases), a torch nn.Sequential "
            f"or an .npz file; got {type(network).__name__}"
        )
    Wc, bc, _ = check_network(W, b, alpha, allow_relu=True)
    Wc, bc = [w.copy() for w in Wc], [x.copy() for x in bc]  # never alias the caller's arrays
    sizes = tuple(int(s) for s in sizes)
    if len(Wc) != len(sizes) - 1:
        raise ValueError(
            f"the start network has {len(Wc)} layers; the problem's sizes {sizes} need {len(sizes) - 1}"
        )
    for i, Wl in enumerate(Wc):
        if Wl.shape != (sizes[i + 1], sizes[i]):
            raise ValueError(
                f"the start network's W[{i}] must have shape {(sizes[i + 1], sizes[i])} for sizes "
                f"{sizes}; got {Wl.shape}"
            )
    return Wc, bc
