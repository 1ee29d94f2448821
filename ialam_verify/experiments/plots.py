"""PNG plots (matplotlib, Agg backend) of every metric against wall time and against epochs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write
from .baselines import OPTIMIZERS
from .runner import SHORT, USABLE

PLOT_METRICS = (
    "train_err",
    "test_err",
    "accuracy",
    "test_accuracy",
    "column_sparse_ratio",
    "column_sparse_ratio_excl_zero_inputs",
)
_LOG = {"train_err", "test_err"}


def plot_comparison(
    result: dict[str, Any], folder: str | os.PathLike[str], prefix: str
) -> list[Path]:
    """One PNG per metric, ``{prefix}_{metric}.png``: left against seconds, right against epochs.

    Both axes are logarithmic in ``x`` (the runs span orders of magnitude), so the measurement at 0 is
    left out; error axes are logarithmic in ``y``. Metrics no method has are skipped.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    runs = {n: r for n, r in result["methods"].items() if r["status"] in USABLE and r["history"]}
    for metric in PLOT_METRICS:
        if not any(any(v is not None for v in r["history"][metric]) for r in runs.values()):
            continue
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        for name, r in runs.items():
            h = r["history"]
            style: dict[str, Any] = {"lw": 2.2, "color": "k"}
            if name != "IALAM":  # one colour per optimizer, dashed for the proximal variant
                opt = name.split("+")[0]
                idx = OPTIMIZERS.index(opt) if opt in OPTIMIZERS else 0
                style = {"lw": 1.1, "color": f"C{idx}", "ls": "--" if "+prox" in name else "-"}
            for ax, axis in zip(axes, ("seconds", "epochs"), strict=True):
                pts = [
                    (x, y)
                    for x, y in zip(h[axis], h[metric], strict=True)
                    if x is not None and x > 0 and y is not None
                ]
                if pts:
                    xs, ys = np.array(pts).T
                    ax.plot(xs, ys, label=name, **style)
        for ax, axis in zip(axes, ("wall time (s)", "epochs"), strict=True):
            ax.set_xscale("log")
            ax.set_xlabel(axis)
            ax.grid(True, which="both", alpha=0.3)
            if metric in _LOG:
                ax.set_yscale("log")
        axes[0].set_ylabel(SHORT.get(metric, metric))
        axes[1].legend(fontsize=7, ncol=2)
        fig.suptitle(f"{SHORT.get(metric, metric)}: {result['data']}")
        fig.tight_layout()
        path = folder / f"{prefix}_{metric}.png"
        try:
            atomic_write(path, lambda fh, fig=fig: fig.savefig(fh, format="png", dpi=100))
        finally:
            plt.close(fig)
        written.append(path)
    return written
