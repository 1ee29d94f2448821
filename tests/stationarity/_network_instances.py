"""Random networks with planted degenerate entries, in exact (dyadic) arithmetic.

Integer weights, inputs and biases and alpha in {1/4, 1/2} keep every forward value a dyadic rational,
so a bias chosen as minus a pre-activation makes that pre-activation exactly 0 (a kink of (PP), a
biactive pair of (P)); a column set to 0 is exactly a zero group. Samples come in pairs with the same
input and targets mirrored about the output (``y' = 2 V_L - y``), so the loss gradients of a pair cancel
and stationarity can hold exactly; ``break_pair`` moves one target to make it fail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ialam_verify.model import LiftedPoint, Problem
from ialam_verify.model.network import forward


@dataclass
class Instance:
    problem: Problem
    point: LiftedPoint  # the point of (PP); (P) is certified at problem.lift(point.W, point.b)
    planted_zeros: int
    zero_columns: int


def planted_instance(
    seed: int,
    sizes: tuple[int, ...],
    n_pairs: int,
    *,
    alpha: float = 0.5,
    beta: float = 1.0,
    lambda_w: float = 0.0,
    lambda_v: float = 0.0,
    n_zeros: int = 1,
    n_zero_columns: int = 0,
    break_pair: bool = False,
    slack_entries: int = 0,
) -> Instance:
    rng = np.random.default_rng(seed)
    L = len(sizes) - 1
    x = rng.integers(-2, 3, size=(sizes[0], n_pairs)).astype(float)
    X = np.concatenate([x, x], axis=1)
    W = [
        rng.integers(-2, 3, size=(o, i)).astype(float)
        for i, o in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    b = [rng.integers(-2, 3, size=o).astype(float) for o in sizes[1:]]
    zc = 0
    for _ in range(n_zero_columns):
        l = int(rng.integers(L))
        j = int(rng.integers(W[l].shape[1]))
        if np.any(W[l][:, j] != 0):
            zc += 1
        W[l][:, j] = 0.0
    # plant zeros bottom-up: a bias change in layer l moves only layers >= l
    plants = sorted(
        (int(rng.integers(L)), int(rng.integers(10**6)), int(rng.integers(n_pairs)))
        for _ in range(n_zeros)
    )
    for l, i_raw, p in plants:
        i = i_raw % sizes[l + 1]
        U, V = forward(W, b, X, alpha)
        prev = X if l == 0 else V[l - 1]
        b[l][i] = -(W[l][i] @ prev[:, p])
    U, V = forward(W, b, X, alpha)
    y = rng.integers(-2, 3, size=(sizes[-1], n_pairs)).astype(float)
    Y = np.concatenate([y, 2 * V[-1][:, :n_pairs] - y], axis=1)
    if break_pair:
        Y[0, 0] += 1.0
    problem = Problem.create(X, Y, sizes, alpha, lambda_w, lambda_v, beta)
    point = problem.lift(W, b)
    for _ in range(slack_entries):  # v > sigma(u) at some entries: a (PP) point off the lift
        l = int(rng.integers(L))
        i, n = int(rng.integers(sizes[l + 1])), int(rng.integers(2 * n_pairs))
        point.V[l][i, n] += 1.0
    nz = sum(int(np.sum(u == 0)) for u in point.U)
    return Instance(problem, point, nz, zc)
