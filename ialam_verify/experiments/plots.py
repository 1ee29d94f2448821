"""PNG plots (matplotlib, Agg backend) of every metric against wall time and against epochs.

Reading aids: one colour-and-style per method (:mod:`.styles`), the legend outside the data, the
shared start (epoch 0, which a log axis cannot show) drawn as a star left of the axis break, a
method's end marked with a large ``X`` and its status when it stopped infeasible or failed, ratios
(sparsity, accuracy) in percent.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write
from .runner import SHORT, USABLE
from .styles import method_style

PLOT_METRICS = (
    "train_err",
    "test_err",
    "accuracy",
    "test_accuracy",
    "column_sparse_ratio",
    "column_sparse_ratio_excl_zero_inputs",
)
_LOG = {"train_err", "test_err"}
#: metrics that are shares in [0, 1], plotted in percent
PERCENT = {
    "accuracy",
    "test_accuracy",
    "column_sparse_ratio",
    "column_sparse_ratio_excl_zero_inputs",
    "first_layer_sparse_ratio",
    "first_layer_sparse_ratio_excl_zero_inputs",
}
#: statuses whose end is marked with an X (the run stopped, but not where a good run stops)
MARKED_END = {"infeasible": "infeasible", "failed": "failed", "diverged": "diverged"}


def _points(h: dict[str, list], axis: str, metric: str) -> np.ndarray:
    """``(x, y)`` rows with ``x > 0`` and ``y`` known (a log axis cannot show ``x = 0``)."""
    scale = 100.0 if metric in PERCENT else 1.0
    pts = [
        (x, y * scale)
        for x, y in zip(h[axis], h[metric], strict=True)
        if x is not None and x > 0 and y is not None
    ]
    return np.array(pts, dtype=float).reshape(-1, 2)


def _start_value(runs: dict[str, dict], metric: str) -> float | None:
    """The metric at the shared start: the epoch-0 entry (all methods start from one network)."""
    scale = 100.0 if metric in PERCENT else 1.0
    for r in runs.values():
        h = r["history"]
        if h["epochs"] and h["epochs"][0] == 0 and h[metric][0] is not None:
            return float(h[metric][0]) * scale
    return None


def plot_comparison(
    result: dict[str, Any], folder: str | os.PathLike[str], prefix: str
) -> list[Path]:
    """One PNG per metric, ``{prefix}_{metric}.png``: left against seconds, right against epochs.

    Both axes are logarithmic in ``x`` (the runs span orders of magnitude); the shared start at 0 is
    drawn as a star left of the data. Error axes are logarithmic in ``y``. Metrics no method has are
    skipped. Methods without a history (diverged in the learning-rate search) are listed in the title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    runs = {
        n: r
        for n, r in result["methods"].items()
        if (r["status"] in USABLE or r["status"] in MARKED_END) and r.get("history")
    }
    missing = [n for n in result["methods"] if n not in runs]
    order = sorted(runs, key=lambda n: -method_style(n)["lw"])  # thick first, thin on top
    for metric in PLOT_METRICS:
        if not any(any(v is not None for v in r["history"][metric]) for r in runs.values()):
            continue
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
        start = _start_value(runs, metric)
        for ax, axis in zip(axes, ("seconds", "epochs"), strict=True):
            lows = [_points(runs[n]["history"], axis, metric) for n in order]
            xmin = min((p[:, 0].min() for p in lows if len(p)), default=1.0)
            for k, (name, pts) in enumerate(zip(order, lows, strict=True)):
                if not len(pts):
                    continue
                st = method_style(name)
                ax.plot(
                    pts[:, 0],
                    pts[:, 1],
                    label=name,
                    color=st["color"],
                    ls=st["ls"],
                    lw=st["lw"],
                    marker=st["marker"],
                    mfc=st["mfc"],
                    ms=5,
                    markevery=(0.02 + 0.013 * k, 0.2),  # staggered, so markers do not pile up
                    zorder=st["zorder"],
                )
                status = runs[name]["status"]
                if status in MARKED_END:
                    ax.plot(
                        pts[-1, 0],
                        pts[-1, 1],
                        marker="X",
                        ms=13,
                        mfc=st["color"],
                        mec="k",
                        ls="none",
                        zorder=5,
                    )
                    ax.annotate(
                        f"{name}: {MARKED_END[status]}",
                        (pts[-1, 0], pts[-1, 1]),
                        textcoords="offset points",
                        xytext=(-8, 9),
                        ha="right",
                        fontsize=8,
                        zorder=6,
                        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
                    )
            ax.set_xscale("log")
            if start is not None:
                x0 = xmin / 4  # where epoch / second 0 is drawn, left of an axis break
                ax.plot(x0, start, marker="*", ms=15, color="k", ls="none", zorder=6)
                ys = np.concatenate([p[:, 1] for p in lows if len(p)] or [np.array([start])])
                low = start <= float(np.median(ys))  # label on the side away from the tick labels
                ax.annotate(
                    "start\n(0, shared)",
                    (x0, start),
                    textcoords="offset points",
                    xytext=(6, 7) if low else (6, -5),
                    fontsize=8,
                    va="bottom" if low else "top",
                    bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
                )
                ax.axvline(xmin / 2, color="0.5", lw=0.8, ls=":", zorder=1)
                ax.set_xlim(left=x0 / 1.6)
            ax.set_xlabel("wall time (s)" if axis == "seconds" else "epochs")
            ax.grid(True, which="major", alpha=0.35)
            if metric in _LOG:
                ax.set_yscale("log")
        ylabel = SHORT.get(metric, metric) + (" (%)" if metric in PERCENT else "")
        axes[0].set_ylabel(ylabel)
        if metric in PERCENT:
            axes[0].set_ylim(-3, 103)
        handles, labels = axes[0].get_legend_handles_labels()
        h2, l2 = axes[1].get_legend_handles_labels()
        for h, lab in zip(h2, l2, strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
        by_name = dict(zip(labels, handles, strict=True))
        listed = (result.get("settings") or {}).get("methods") or list(result["methods"])
        names = [n for n in listed if n in by_name]
        fig.legend(
            [by_name[n] for n in names],
            names,
            loc="center left",
            bbox_to_anchor=(0.83, 0.5),
            fontsize=8,
            frameon=False,
        )
        title = f"{SHORT.get(metric, metric)}: {result['data']}"
        if missing:
            title += f"   (not drawn: {', '.join(missing)})"
        fig.suptitle(title, fontsize=10)
        fig.tight_layout(rect=(0, 0, 0.83, 1))
        path = folder / f"{prefix}_{metric}.png"
        try:
            atomic_write(path, lambda fh, fig=fig: fig.savefig(fh, format="png", dpi=100))
        finally:
            plt.close(fig)
        written.append(path)
    return written
