"""The IALAM family in ``compare``: ``IALAM`` (shared start, no refinement), ``ialam-talk`` (the talk's
start, no refinement) and ``pipeline`` (fit's defaults), the last two only when ``fit`` takes ``start``."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

pytest.importorskip("torch")

import ialam_verify.solver as solver  # noqa: E402
from ialam_verify.data import synthetic  # noqa: E402
from ialam_verify.experiments.baselines import initial_network  # noqa: E402
from ialam_verify.experiments.measure import Context  # noqa: E402
from ialam_verify.experiments.runner import (  # noqa: E402
    Settings,
    all_method_names,
    run_ialam,
)

SIZES = (10, 4, 2)
REAL_FIT = solver.fit


def _ctx() -> Context:
    return Context(synthetic(SIZES, 30, 0.1, seed=2), 0.1, 1e-3)


def test_each_family_member_calls_fit_as_documented(monkeypatch) -> None:
    calls: dict[str, dict] = {}
    current = {"name": "?"}
    accepted = set(inspect.signature(REAL_FIT).parameters)

    def fit_with_start(data, sizes, *, start="warmup", refine=True, certify=True, **kw):
        calls[current["name"]] = {"start": start, "refine": refine, "certify": certify, **kw}
        return REAL_FIT(data, sizes, **{k: v for k, v in kw.items() if k in accepted})

    monkeypatch.setattr(solver, "fit", fit_with_start)
    assert all_method_names()[:3] == ["IALAM", "ialam-talk", "pipeline"]
    ctx = _ctx()
    settings = Settings(
        sizes=SIZES, methods=("IALAM", "ialam-talk", "pipeline"), max_epochs=2, max_seconds=30
    ).validate()
    for name in settings.methods:
        current["name"] = name
        rec = run_ialam(ctx, settings, method=name)
        assert rec.method == name and rec.final is not None, (name, rec.status, rec.message)
    W0, b0 = initial_network(ctx, SIZES, settings.seed, settings.init_scale, settings.match_targets)
    ialam = calls["IALAM"]
    assert ialam["refine"] is False and isinstance(ialam["start"], tuple)
    for got, want in zip([*ialam["start"][0], *ialam["start"][1]], [*W0, *b0], strict=True):
        np.testing.assert_array_equal(got, want, err_msg="IALAM must start from the shared network")
    assert calls["ialam-talk"]["start"] == "talk" and calls["ialam-talk"]["refine"] is False
    assert calls["pipeline"]["start"] == "warmup" and calls["pipeline"]["refine"] is True
    assert [calls[n]["certify"] for n in settings.methods] == [False, False, True]
    # only IALAM's history has the shared start at epoch 0 (the others start elsewhere)


def test_pipeline_seconds_count_every_training_stage() -> None:
    """The callback sees IALAM's clock only: a warm-up before it shifts the history, the refinement and
    the final lift after it add a last entry, the verdict is not counted (not training)."""
    from types import SimpleNamespace

    from ialam_verify.experiments.baselines import empty_history
    from ialam_verify.experiments.runner import _on_the_pipeline_clock

    ctx = _ctx()
    W, b = initial_network(ctx, SIZES, 0, "fan_in", False)
    stages = [
        {"name": "warm-up", "status": "done", "seconds": 1.0},
        {"name": "IALAM", "status": "done", "seconds": 0.5},
        {"name": "refinement", "status": "done", "seconds": 2.0},
        {"name": "final lift", "status": "done", "seconds": 0.25},
        {"name": "verdict", "status": "done", "seconds": 5.0},
    ]
    res = SimpleNamespace(stages=stages, seconds=0.5, nit_inner=7, W=W, b=b)
    history = empty_history()
    history["seconds"] += [0.125, 0.5]
    history["epochs"] += [3.0, 7.0]
    for key in history:
        if key not in ("seconds", "epochs"):
            history[key] += [None, None]
    assert _on_the_pipeline_clock(res, history, ctx) == 3.75
    assert history["seconds"] == [1.125, 1.5, 3.75]
    assert history["epochs"] == [3.0, 7.0, 7.0]
    assert history["train_err"][-1] is not None
    # without a refinement nothing is appended (the last entry is IALAM's own last iterate)
    stages[2]["status"] = "skipped"
    history = empty_history()
    history["seconds"] += [0.5]
    history["epochs"] += [7.0]
    for key in history:
        if key not in ("seconds", "epochs"):
            history[key] += [None]
    assert _on_the_pipeline_clock(res, history, ctx) == 3.75 and history["seconds"] == [1.5]
    # a plain IALAM result (no stages) keeps its own clock
    plain = SimpleNamespace(stages=None, seconds=0.5)
    assert _on_the_pipeline_clock(plain, empty_history(), ctx) == 0.5
