r"""Performance profiles (Dolan and Moré 2002).

For problems :math:`p \in P` and methods :math:`s \in S` with a cost :math:`t_{p,s} \ge 0` (smaller is
better: here TrainErr or TestErr after the same budget), the performance ratio is

.. math::
    r_{p,s} = \frac{t_{p,s}}{\min_{s'} t_{p,s'}},

with :math:`r_{p,s} = \infty` when method ``s`` failed on ``p`` (cost NaN or infinite), and the profile

.. math::
    \rho_s(\tau) = \frac{1}{|P|}\,\bigl|\{p \in P : r_{p,s} \le \tau\}\bigr|, \qquad \tau \ge 1,

the share of problems on which ``s`` is within a factor :math:`\tau` of the best. When the best cost
of a problem is 0, methods with cost 0 get ratio 1 and the others :math:`\infty`; a problem on which
every method failed gives every method :math:`\infty`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..io import atomic_write


def performance_ratios(costs: np.ndarray) -> np.ndarray:
    """The ratios :math:`r_{p,s}` of an ``n_problems x n_methods`` cost array (see the module)."""
    t = np.asarray(costs, dtype=float)
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
        raise ValueError(f"costs must be a non-empty 2-D array (problems x methods); got {t.shape}")
    if np.any(t[np.isfinite(t)] < 0):
        raise ValueError("costs must be >= 0 (NaN or inf mark a failure)")
    t = np.where(np.isfinite(t), t, np.inf)
    best = np.min(t, axis=1, keepdims=True)
    ratios = np.full(t.shape, np.inf)
    pos = np.isfinite(best[:, 0]) & (best[:, 0] > 0)
    with np.errstate(over="ignore"):  # a ratio beyond the float range is infinitely worse
        ratios[pos] = t[pos] / best[pos]
    zero = np.isfinite(best[:, 0]) & (best[:, 0] == 0)
    ratios[zero] = np.where(t[zero] == 0, 1.0, np.inf)
    return ratios


def profile(ratios: np.ndarray, taus: Sequence[float] | np.ndarray) -> np.ndarray:
    r""":math:`\rho_s(\tau)` for every ``tau`` (rows) and method (columns)."""
    r = np.asarray(ratios, dtype=float)
    tau = np.asarray(taus, dtype=float)
    if r.ndim != 2:
        raise ValueError(f"ratios must be a 2-D array; got shape {r.shape}")
    if tau.ndim != 1 or np.any(~np.isfinite(tau)) or np.any(tau < 1):
        raise ValueError("taus must be a 1-D array of finite numbers >= 1")
    return np.mean(r[None, :, :] <= tau[:, None, None], axis=1)


def default_taus(ratios: np.ndarray, n: int = 200) -> np.ndarray:
    """A log-spaced ``tau`` axis from 1 to a little past the largest finite ratio."""
    r = np.asarray(ratios, dtype=float)
    finite = r[np.isfinite(r)]
    top = max(float(finite.max()) if finite.size else 1.0, 1.0) * 1.05 + 1e-12
    return np.unique(np.concatenate([[1.0], np.geomspace(1.0, top, n)]))


def plot_profile(
    costs: np.ndarray,
    methods: Sequence[str],
    path: str | os.PathLike[str],
    title: str,
) -> None:
    """Plot :math:`\\rho_s(\\tau)` of every method (log ``tau`` axis) to a PNG file, atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ratios = performance_ratios(costs)
    taus = default_taus(ratios)
    rho = profile(ratios, taus)
    fig, ax = plt.subplots(figsize=(6, 4))
    for j, name in enumerate(methods):
        ax.step(taus, rho[:, j], where="post", label=name)
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(r"$\tau$ (within a factor $\tau$ of the best)")
    ax.set_ylabel(r"$\rho_s(\tau)$")
    ax.set_title(f"{title} ({costs.shape[0]} problems)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110))
    finally:
        plt.close(fig)
