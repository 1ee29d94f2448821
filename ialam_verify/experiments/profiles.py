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


def log_ticks(lo: float, hi: float) -> list[float]:
    """Round tick positions for a log axis from ``lo`` to ``hi`` (``1 <= lo < hi``), about 4-8 of them.

    Over less than a decade, evenly spaced round numbers (1, 1.02, 1.04, ...); over more, the 1-2-5
    sequence. Labels are :func:`tick_label` and there are no minor labels, so they never overlap.
    """
    if not (1 <= lo < hi and np.isfinite(hi)):
        raise ValueError(f"need 1 <= lo < hi < inf; got lo={lo}, hi={hi}")
    if hi / lo < 10:
        span = hi - lo
        step = 10.0 ** np.floor(np.log10(span / 4))
        for mult in (1, 2, 2.5, 5, 10):
            if span / (step * mult) <= 6:
                step *= mult
                break
        first = np.ceil(lo / step - 1e-9) * step
        ticks = np.arange(first, hi + step * 1e-9, step)
        return [float(f"{t:.10g}") for t in ticks]
    out = []
    for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1):
        for m in (1, 2, 5):
            t = m * 10.0**e
            if lo <= t <= hi * (1 + 1e-12):
                out.append(t)
    if len(out) > 8:  # many decades: powers of ten only, every k-th one
        powers = [t for t in out if float(f"{t:e}".split("e")[0]) == 1.0]
        k = -(-len(powers) // 7)
        out = powers[::k]
    return out


def tick_label(x: float) -> str:
    """``"1.02"``, ``"50"``, ``"1e+06"``: six significant digits at most, never a product with 10^0."""
    return f"{x:g}"


def plot_profile(
    costs: np.ndarray,
    methods: Sequence[str],
    path: str | os.PathLike[str],
    title: str,
) -> None:
    """Plot :math:`\\rho_s(\\tau)` of every method (log ``tau`` axis) to a PNG file, atomically.

    One colour-and-style per method (:func:`.styles.method_style`), thick lines first so that a thin
    one lying on a thick one stays visible; the legend sits outside the axes; the share of problems
    each method failed on (ratio infinite) is printed after its name.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    from .styles import method_style

    costs = np.asarray(costs, dtype=float)
    ratios = performance_ratios(costs)
    taus = default_taus(ratios)
    rho = profile(ratios, taus)
    fig, ax = plt.subplots(figsize=(8.2, 4.4))
    order = sorted(range(len(methods)), key=lambda j: -method_style(methods[j])["lw"])
    for j in order:
        st = method_style(methods[j])
        failed = int(np.sum(~np.isfinite(ratios[:, j])))
        label = methods[j] + (f"  (failed on {failed})" if failed else "")
        ax.plot(
            taus,
            rho[:, j],
            drawstyle="steps-post",
            label=label,
            color=st["color"],
            ls=st["ls"],
            lw=st["lw"],
            marker=st["marker"],
            mfc=st["mfc"],
            ms=5,
            markevery=(0.03 + 0.017 * j, 0.22),  # staggered markers tell overlapping lines apart
            zorder=st["zorder"],
        )
    ax.set_xscale("log")
    ax.set_xlim(taus[0], taus[-1])
    ticks = log_ticks(float(taus[0]), float(taus[-1]))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: tick_label(x)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(r"$\tau$ (within a factor $\tau$ of the best)")
    ax.set_ylabel(r"$\rho_s(\tau)$: share of problems")
    ax.set_title(f"{title} ({costs.shape[0]} problems)", fontsize=10)
    ax.grid(True, which="major", alpha=0.35)
    handles, labels = ax.get_legend_handles_labels()
    by_label = dict(zip(labels, handles, strict=True))
    names = [
        lab for j in range(len(methods)) for lab in labels if lab.split("  (")[0] == methods[j]
    ]
    ax.legend(
        [by_label[n] for n in names],
        names,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=110))
    finally:
        plt.close(fig)
