"""One comparison run end to end on a tiny synthetic problem, and the table logic by brute force."""

from __future__ import annotations

import inspect
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("torch")

from ialam_verify.data import synthetic  # noqa: E402
from ialam_verify.experiments.measure import METRICS, Context, measure  # noqa: E402
from ialam_verify.experiments.plots import plot_comparison  # noqa: E402
from ialam_verify.experiments.runner import (  # noqa: E402
    HIGHER_IS_BETTER,
    Settings,
    format_table,
    run_comparison,
    value_at,
    winners,
)
from ialam_verify.model import Problem, init_weights, predict  # noqa: E402
from ialam_verify.solver import fit, initial_point  # noqa: E402

SIZES = (10, 4, 2)


@pytest.fixture(scope="module")
def result() -> dict:
    data = synthetic(SIZES, 40, 0.1, seed=1)
    ctx = Context(data, 0.1, 1e-3)
    s = Settings(
        sizes=SIZES,
        alpha=0.1,
        lambda_w=1e-3,
        seed=2,
        methods=("IALAM", "SGD", "Adam+prox"),
        max_seconds=20.0,
        max_epochs=6,
        batch_size=10,
        lr={"SGD": 0.05},
        search_epochs=2,
        ialam_options={"inner_max_iter": 3},
    )
    return run_comparison(ctx, s, progress=False)


def test_every_method_starts_from_the_same_network(result: dict) -> None:
    data = synthetic(SIZES, 40, 0.1, seed=1)
    # IALAM's own initial point (the solver's function), so IALAM and the baselines share it
    prob = Problem.create(data.X, data.Y, SIZES, 0.1, 1e-3, 0.0, 0.0)
    # the run follows the solver's default for output-scale matching
    default = inspect.signature(fit).parameters["match_targets"].default
    assert result["settings"]["match_targets"] == default
    p = initial_point(prob, 2, "fan_in", match_targets=default)
    W, b = init_weights(SIZES, np.random.default_rng(2))
    if default:
        rms = np.sqrt(np.mean(data.Y**2)) / np.sqrt(np.mean(predict(W, b, data.X, 0.1) ** 2))
        np.testing.assert_allclose(p.W[0] / W[0], rms ** (1 / 2))  # one factor c, c^L = ratio
    else:
        assert all(np.array_equal(a, c) for a, c in zip(p.W, W, strict=True))
    first = measure(p.W, p.b, Context(data, 0.1, 1e-3))
    for name, r in result["methods"].items():
        assert r["status"] in ("ok", "converged", "max_outer", "time_cap"), (name, r["message"])
        assert {k: r["history"][k][0] for k in METRICS} == first
        assert r["history"]["epochs"][0] == 0.0 and r["history"]["seconds"][0] == 0.0
        assert all(np.diff(r["history"]["epochs"]) > 0) and all(
            np.diff(r["history"]["seconds"]) >= 0
        )
    assert result["methods"]["SGD"]["lr"] == 0.05  # given, not searched
    assert "SGD" not in result["lr_search"] and "Adam+prox" in result["lr_search"]
    assert result["methods"]["SGD"]["history"]["epochs"][-1] == 6.0


def test_table_data_by_brute_force(result: dict) -> None:
    cmp_ = result["comparison"]
    E = cmp_["E_epochs"]
    assert E == min(r["history"]["epochs"][-1] for r in result["methods"].values())
    for name, r in result["methods"].items():
        h = r["history"]
        last = max(i for i, e in enumerate(h["epochs"]) if e <= E * 1.01)
        assert cmp_["at_epochs"][name]["train_err"] == h["train_err"][last]
    for metric in ("train_err", "test_err"):
        vals = {m: v[metric] for m, v in cmp_["at_time"].items()}
        assert cmp_["winners_at_time"][metric] == [min(vals, key=vals.get)]
    text = format_table(result)
    for name in result["methods"]:
        assert f"| {name} |" in text
    assert "At equal wall time" in text and "At equal epochs" in text
    json.dumps(result, allow_nan=False)


def test_plots(result: dict, tmp_path: Path) -> None:
    paths = plot_comparison(result, tmp_path, "tiny")
    assert {p.name for p in paths} >= {
        "tiny_train_err.png",
        "tiny_test_err.png",
        "tiny_column_sparse_ratio.png",
    }
    for p in paths:
        assert p.read_bytes()[:4] == b"\x89PNG"


@given(
    st.lists(st.tuples(st.floats(0, 10), st.floats(0, 5)), min_size=1, max_size=8), st.floats(0, 12)
)
def test_value_at(points, limit) -> None:
    xs = sorted(p[0] for p in points)
    h = {"seconds": xs, "train_err": [p[1] for p in points]}
    want = None
    for x, y in zip(xs, h["train_err"], strict=True):
        if x <= limit * 1.01 + 1e-12:
            want = y
    assert value_at(h, "seconds", limit, "train_err") == want


@given(
    st.dictionaries(
        st.sampled_from(["A", "B", "C"]),
        st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0])),
        min_size=1,
    )
)
def test_winners(vals) -> None:
    values = {m: {k: v for k in METRICS} for m, v in vals.items()}
    w = winners(values)
    for k in METRICS:
        present = {m: v for m, v in vals.items() if v is not None}
        if not present:
            assert w[k] == []
            continue
        best = (max if HIGHER_IS_BETTER[k] else min)(present.values())
        assert w[k] == sorted(m for m, v in present.items() if v == best)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        Settings(sizes=SIZES, methods=("Adam", "LBFGS")).validate()
    with pytest.raises(ValueError, match="lr given"):
        Settings(sizes=SIZES, methods=("Adam",), lr={"SGD": 0.1}).validate()
    with pytest.raises(ValueError, match="max_seconds"):
        Settings(sizes=SIZES, max_seconds=-1).validate()
    with pytest.raises(ValueError, match=r"lr\['Adam'\] must be > 0"):
        Settings(sizes=SIZES, methods=("Adam",), lr={"Adam": 0.0}).validate()
    with pytest.raises(ValueError, match="unknown IALAM option"):
        Settings(sizes=SIZES, ialam_options={"inner_maxiter": 3}).validate()
    with pytest.raises(ValueError, match="both be infinite"):
        Settings(sizes=SIZES, max_seconds=math.inf).validate()


def test_an_infeasible_ialam_stop_is_reported_and_plotted(tmp_path: Path) -> None:
    # success_feas_tol = 0 makes the solver's own stop end with status 5 (infeasible): its network is
    # still a trained network, so the comparison must table and plot it, flagged, not drop it
    data = synthetic(SIZES, 40, 0.1, seed=1)
    ctx = Context(data, 0.1, 1e-3)
    s = Settings(
        sizes=SIZES,
        alpha=0.1,
        lambda_w=1e-3,
        seed=2,
        methods=("IALAM",),
        max_seconds=20.0,
        max_epochs=400,
        batch_size=10,
        search_epochs=2,
        ialam_options={"inner_max_iter": 2, "rho_factor_stop": 10.0, "success_feas_tol": 0.0},
    )
    res = run_comparison(ctx, s, progress=False)
    rec = res["methods"]["IALAM"]
    assert rec["status"] == "infeasible", rec["message"]
    table = format_table(res)
    assert "Not usable" not in table and "infeasible" in table
    paths = plot_comparison(res, tmp_path, "infeasible")
    assert paths and all(Path(p).stat().st_size > 0 for p in paths)
