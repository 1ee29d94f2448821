"""Plot reading aids: distinct method styles, round log ticks, the marks the plots promise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.experiments.baselines import all_methods
from ialam_verify.experiments.profiles import log_ticks, tick_label
from ialam_verify.experiments.runner import IALAM_METHODS
from ialam_verify.experiments.styles import method_style


def test_every_method_has_its_own_colour_and_style() -> None:
    names = [*IALAM_METHODS, *all_methods()]
    assert len(names) == 15
    keys = {}
    for n in names:
        s = method_style(n)
        keys[n] = (s["color"], str(s["ls"]), s["marker"], s["mfc"])
    colours = [k[0] for k in keys.values()]
    assert len(set(colours)) == len(names), f"colours shared: {sorted(colours)}"
    assert len(set(keys.values())) == len(names)
    # a proximal variant is drawn thinner than its subgradient sibling, so both stay visible
    for n in all_methods():
        if "+prox" in n:
            assert method_style(n)["lw"] < method_style(n.split("+")[0])["lw"], n


@given(st.floats(1.05, 1e12))
def test_log_ticks_are_few_round_increasing_and_distinct(hi: float) -> None:
    ticks = log_ticks(1.0, hi)
    assert 2 <= len(ticks) <= 8, (hi, ticks)
    assert ticks[0] >= 1.0 and ticks[-1] <= hi * (1 + 1e-12), (hi, ticks)
    assert all(a < b for a, b in zip(ticks, ticks[1:], strict=False)), ticks
    labels = [tick_label(t) for t in ticks]
    assert len(set(labels)) == len(labels), labels
    assert all(len(lab) <= 6 for lab in labels), labels  # "1.02", "2.5", "1e+06": never "1.02x10^0"
    assert np.allclose([float(lab) for lab in labels], ticks, rtol=1e-12, atol=0)


def test_log_ticks_refuses_a_bad_range() -> None:
    for lo, hi in ((1.0, 1.0), (0.5, 2.0), (1.0, np.inf)):
        with pytest.raises(ValueError, match="need 1 <= lo < hi"):
            log_ticks(lo, hi)


def _fake_result() -> dict:
    def hist(vals: list[float]) -> dict:
        n = len(vals)
        keys = ("train_err", "test_err", "accuracy", "test_accuracy", "column_sparse_ratio")
        return {
            "seconds": [0.0, *np.geomspace(0.01, 1, n - 1)],
            "epochs": [0.0, *range(1, n)],
            **{k: list(vals) for k in keys},
            "column_sparse_ratio_excl_zero_inputs": [None] * n,
        }

    methods = {
        "IALAM": {"status": "infeasible", "history": hist([0.9, 0.5, 0.4, 0.45])},
        "Adam": {"status": "ok", "history": hist([0.9, 0.3, 0.2, 0.1])},
        "Adam+prox": {"status": "ok", "history": hist([0.9, 0.3, 0.2, 0.1])},
        "SGD": {"status": "diverged", "history": {}},
    }
    return {"data": "fake", "settings": {"methods": list(methods)}, "methods": methods}


def test_comparison_plot_marks_start_and_infeasible_end(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from ialam_verify.experiments import plots

    seen = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig: (seen.append(fig), real_close(fig)))
    paths = plots.plot_comparison(_fake_result(), tmp_path, "f")
    assert [p.name for p in paths] == [
        "f_train_err.png",
        "f_test_err.png",
        "f_accuracy.png",
        "f_test_accuracy.png",
        "f_column_sparse_ratio.png",
    ]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    fig = seen[paths.index(tmp_path / "f_column_sparse_ratio.png")]
    ax = fig.axes[1]
    texts = [t.get_text() for t in ax.texts]
    assert "start\n(0, shared)" in texts and "IALAM: infeasible" in texts, texts
    star = [ln for ln in ax.lines if ln.get_marker() == "*"]
    assert len(star) == 1 and star[0].get_ydata()[0] == pytest.approx(90.0)  # 0.9 in percent
    assert star[0].get_xdata()[0] < 1  # left of the first epoch on the log axis
    ends = [ln for ln in ax.lines if ln.get_marker() == "X"]
    assert len(ends) == 1 and ends[0].get_ydata()[0] == pytest.approx(45.0)
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["IALAM", "Adam", "Adam+prox"]
    assert "not drawn: SGD" in fig._suptitle.get_text()
    json.dumps(_fake_result())  # the fake is a valid result document
