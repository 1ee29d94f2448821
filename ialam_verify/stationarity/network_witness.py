r"""A (PP) witness handed in by the caller (e.g. :attr:`ialam_verify.solver.refine.RefineResult.multipliers`).

The multipliers come in the convention of :func:`ialam_verify.stationarity.pp_residual_blocks`,
:math:`L = O + \langle\xi, u - \Psi(v)w - Ab\rangle - \langle\mu^1, v-u\rangle - \langle\mu^2, v-\alpha u\rangle`,
as per-layer arrays: ``xi``, ``mu1``, ``mu2``, ``slopes`` (:math:`N_\ell \times N` each) and
``group_subgradients`` (:math:`N_\ell \times N_{\ell-1}`). They are renamed to the structured
certifier's blocks (:math:`\Xi, M^1, M^2, S, Z`) and never trusted: :func:`.network.decide_notions`
re-checks them with :func:`.network_check.check_witness` at the caller's tolerances and uses them only
if every residual block and membership rule is within ``tol``; otherwise the normal search runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..model.problem import LiftedPoint, Problem

#: the keys of a handed-in witness and the structured certifier's name of each block
WITNESS_KEYS = {"xi": "Xi", "mu1": "M1", "mu2": "M2", "slopes": "S", "group_subgradients": "Z"}


def witness_from_multipliers(
    problem: Problem, point: LiftedPoint, multipliers: Any
) -> dict[str, list[np.ndarray]]:
    """The structured certifier's witness dict from a multipliers dict (module docstring).

    Raises ``ValueError`` naming the key, layer and expected shape on a missing key, a wrong
    number of layers, a wrong shape or a non-finite entry (extra keys, such as refine's
    ``kink_t``, are ignored)."""
    if not isinstance(multipliers, dict):
        raise ValueError(
            f"witness must be a dict with keys {sorted(WITNESS_KEYS)}; got {type(multipliers).__name__}"
        )
    out: dict[str, list[np.ndarray]] = {}
    for key, name in WITNESS_KEYS.items():
        if key not in multipliers:
            raise ValueError(f"witness must have key {key!r} (keys needed: {sorted(WITNESS_KEYS)})")
        blocks = multipliers[key]
        if not isinstance(blocks, list | tuple) or len(blocks) != problem.n_layers:
            raise ValueError(f"witness[{key!r}] must be a list of {problem.n_layers} per-layer arrays")
        arrs = []
        for l, B in enumerate(blocks):
            shape = point.W[l].shape if key == "group_subgradients" else point.U[l].shape
            A = np.asarray(B, dtype=float)
            if A.shape != shape:
                raise ValueError(f"witness[{key!r}][{l}] must have shape {shape}; got {A.shape}")
            if not np.all(np.isfinite(A)):
                raise ValueError(f"witness[{key!r}][{l}] must be finite; it has NaN or inf")
            arrs.append(A)
        out[name] = arrs
    return out
