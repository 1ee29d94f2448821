"""Sparsity with and without the columns of always-zero inputs, by brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.data import Dataset
from ialam_verify.experiments.measure import Context, measure, sparsity, zero_input_rows
from ialam_verify.metrics import evaluate


@st.composite
def networks(draw):
    sizes = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    W = []
    for i, o in zip(sizes[:-1], sizes[1:], strict=True):
        Wl = rng.standard_normal((o, i))
        Wl[:, rng.random(i) < 0.4] = 0.0
        W.append(Wl)
    zero = np.flatnonzero(rng.random(sizes[0]) < 0.3)
    return W, zero


@given(networks())
def test_sparsity_brute_force(net) -> None:
    W, zero = net
    cols = [(layer, j) for layer, Wl in enumerate(W) for j in range(Wl.shape[1])]
    is_zero = {c: bool(np.all(W[c[0]][:, c[1]] == 0.0)) for c in cols}
    dead = {(0, int(j)) for j in zero}

    def share(sel):
        sel = list(sel)
        return sum(is_zero[c] for c in sel) / len(sel) if sel else None

    got = sparsity(W, zero)
    want = {
        "column_sparse_ratio": share(cols),
        "column_sparse_ratio_excl_zero_inputs": share(c for c in cols if c not in dead),
        "first_layer_sparse_ratio": share(c for c in cols if c[0] == 0),
        "first_layer_sparse_ratio_excl_zero_inputs": share(
            c for c in cols if c[0] == 0 and c not in dead
        ),
    }
    for k, v in want.items():
        if v is None:
            assert np.isnan(got[k])
        else:
            assert got[k] == v


def test_measure_agrees_with_evaluate_and_objective() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 30))
    X[2] = 0.0
    Y = rng.standard_normal((2, 30))
    d = Dataset(X, Y, X[:, :5], Y[:, :5])
    W = [rng.standard_normal((3, 4)), rng.standard_normal((2, 3))]
    b = [rng.standard_normal(3), rng.standard_normal(2)]
    ctx = Context(d, 0.2, 0.01, zero_input_rows(X), X[:, 5:9], Y[:, 5:9])
    m = measure(W, b, ctx)
    ev = evaluate(W, b, 0.2, X, Y, X[:, :5], Y[:, :5])
    assert list(zero_input_rows(X)) == [2]
    assert m["train_err"] == ev["train_err"] and m["test_err"] == ev["test_err"]
    # objective (1) by a separate loop over samples and columns
    loss = 0.0
    for n in range(30):
        h = X[:, n]
        for Wl, bl in zip(W, b, strict=True):
            z = Wl @ h + bl
            h = np.maximum(z, 0.2 * z)
        loss += np.sum((h - Y[:, n]) ** 2) / 30
    reg = 0.01 * sum(np.sqrt(np.sum(Wl[:, j] ** 2)) for Wl in W for j in range(Wl.shape[1]))
    np.testing.assert_allclose(m["objective"], loss + reg, rtol=1e-12)
    assert m["official_test_err"] == evaluate(W, b, 0.2, X[:, 5:9], Y[:, 5:9])["train_err"]
