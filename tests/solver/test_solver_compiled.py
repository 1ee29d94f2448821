"""The compiled kernels (``ialam_verify/solver/compiled.py``, numba) against the numpy path they mirror.

The numpy path is the reference and the fallback: each kernel is checked against it on
hypothesis-generated inputs, edge cases included (zero columns, exact zeros in the coefficients,
alpha near 0 and 1, dead columns, bias bounds, several blocks per sweep), and the fallback is checked
with numba hidden. The (v, u) kernels promise the numpy numbers exactly (``==``, up to the sign of a
zero); the (w, b) kernels the same iterates up to rounding.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from _solver_common import random_feasible_point, random_problem
from hypothesis import given
from hypothesis import strategies as st

import ialam_verify.solver.inner as inner_mod
from ialam_verify.solver import AlternatingMinimization, compiled
from ialam_verify.solver.inner import _relative_change
from ialam_verify.solver.vu_step import _solve_vu_flat
from ialam_verify.solver.wb_bcd import group_lasso_bcd
from ialam_verify.solver.wb_step import centred_gram, wb_layer_step, wb_layer_step_from_output

pytestmark = pytest.mark.skipif(not compiled.ENABLED, reason="numba not installed (extra 'fast')")


def assert_close(got, expected, what, rtol=1e-9):
    scale = 1.0 + float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(got, expected, rtol=0, atol=rtol * scale, err_msg=what)


# ------------------------------------------------------------------------ the (v, u) closed form
special = st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 1e-12, 50.0, -50.0])
entries = st.one_of(special, st.floats(-60.0, 60.0), st.integers(-5, 5).map(float))


@given(
    a=st.one_of(st.floats(1e-6, 1e6), st.sampled_from([1e-12, 1.0, 1e12])),
    c=st.one_of(st.floats(1e-6, 1e6), st.sampled_from([1e-12, 1.0, 1e12])),
    beta=st.one_of(st.just(0.0), st.floats(0.0, 30.0)),
    alpha=st.one_of(
        st.just(0.0), st.floats(0.0, 0.999), st.sampled_from([1e-12, 1e-4, 0.5, 1.0 - 1e-12])
    ),
    pq=st.lists(st.tuples(entries, entries), min_size=1, max_size=60),
)
def test_vu_kernel_gives_the_numpy_kernel_s_numbers(a, c, beta, alpha, pq):
    p = np.array([x for x, _ in pq])
    q = np.array([y for _, y in pq])
    v, u = compiled.solve_vu_compiled(a, p, c, q, beta, alpha)
    compiled_enabled = compiled.ENABLED
    try:
        compiled.ENABLED = False
        ve, ue = _solve_vu_flat(a, p, c, q, beta, alpha)
    finally:
        compiled.ENABLED = compiled_enabled
    np.testing.assert_array_equal(v, ve, err_msg=f"v: a={a} c={c} beta={beta} alpha={alpha}")
    np.testing.assert_array_equal(u, ue, err_msg=f"u: a={a} c={c} beta={beta} alpha={alpha}")


@given(
    seed=st.integers(0, 10_000),
    sizes=st.sampled_from([(3, 4, 2), (2, 1), (5, 3, 3, 1)]),
    n=st.integers(1, 12),
    rho=st.floats(1e-3, 10.0),
    relu=st.booleans(),
)
def test_compiled_vu_step_equals_the_numpy_vu_step(seed, sizes, n, rho, relu):
    """The fused coefficients + closed form of the compiled (v, u) step, on a random point with
    random multipliers: the numpy step's numbers exactly."""
    rng = np.random.default_rng(seed)
    prob = random_problem(rng, sizes, n, relu=relu)
    pt = random_feasible_point(rng, prob)
    xi = [rng.standard_normal(Ul.shape) for Ul in pt.U]
    am = AlternatingMinimization(prob, 0.05)
    W = [Wl + 0.1 * rng.standard_normal(Wl.shape) for Wl in pt.W]
    got = am.vu_step(W, pt.b, pt, xi, rho)
    compiled.ENABLED = False
    try:
        expected = am.vu_step(W, pt.b, pt, xi, rho)
    finally:
        compiled.ENABLED = True
    for k, (g, e) in enumerate(zip(got[0] + got[1], expected[0] + expected[1], strict=True)):
        np.testing.assert_array_equal(g, e, err_msg=f"(V + U)[{k}]")


def test_relative_change_agrees_with_the_numpy_formula():
    rng = np.random.default_rng(3)
    old = [rng.standard_normal(s) for s in [(3, 7), (2, 7), (1, 1)]]
    new = [x + 1e-3 * rng.standard_normal(x.shape) for x in old]
    got = compiled.relative_change_compiled(new, old)
    assert got == pytest.approx(_relative_change(new, old), rel=1e-13)
    assert compiled.relative_change_compiled(old, old) == 0.0
    zeros = [np.zeros((2, 3))]
    assert compiled.relative_change_compiled([np.ones((2, 3))], zeros) == _relative_change(
        [np.ones((2, 3))], zeros
    )


# ------------------------------------------------------------------------------ the (w, b) sweeps
@st.composite
def gram_problems(draw):
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    m = draw(st.integers(1, 5))
    n = draw(st.sampled_from([1, 2, 5, 9, 40, 130]))
    N = draw(st.integers(2, 60))
    P = rng.standard_normal((n, N)) * rng.uniform(0.1, 3.0, (n, 1))
    dead = draw(st.booleans()) and n > 1
    if dead:  # a zero input row: G_jj = 0 (the solver sets that column to 0)
        P[rng.integers(n)] = 0.0
    bias = draw(st.booleans())
    if bias:
        P = np.vstack([P, np.ones(N)])
    G = P @ P.T
    C = rng.standard_normal((m, N)) @ P.T
    W0 = rng.standard_normal((m, G.shape[0])) * draw(st.sampled_from([0.0, 0.1, 1.0]))
    if draw(st.booleans()):  # some exact zero columns in the warm start
        W0[:, rng.random(G.shape[0]) < 0.4] = 0.0
    lam = draw(st.sampled_from([0.0, 0.1, 1.0])) * float(np.linalg.norm(C, axis=0).mean())
    n_pen = n
    bias_bound = draw(st.sampled_from([-0.5, 0.0])) if bias else None
    return G, C, W0, lam, n_pen, bias_bound, draw(st.integers(1, 6))


@given(problem=gram_problems(), block=st.sampled_from([1, 3, 64]), carried=st.booleans())
def test_compiled_sweeps_give_the_numpy_iterates(problem, block, carried):
    """``tol = 0``: both make exactly ``max_iter`` sweeps; the iterates agree to rounding, and the
    returned ``W G`` is the product at the returned ``W`` (checked against a fresh product)."""
    G, C, W0, lam, n_pen, bias_bound, max_iter = problem
    kw = dict(n_pen=n_pen, bias_bound=bias_bound, tol=0.0, max_iter=max_iter)
    if carried:
        kw["gram_product"] = W0 @ G
    old_block = compiled.BCD_BLOCK
    compiled.BCD_BLOCK = block
    try:
        W, info = group_lasso_bcd(G, C, W0, lam, **kw)
    finally:
        compiled.BCD_BLOCK = old_block
    compiled.ENABLED = False
    try:
        We, infoe = group_lasso_bcd(G, C, W0, lam, **kw)
    finally:
        compiled.ENABLED = True
    # (counts may differ only where one path reached residual 0 exactly, the other 1e-17)
    assert info.iterations == infoe.iterations or min(info.residual, infoe.residual) < 1e-12, (
        info,
        infoe,
    )
    assert_close(W, We, f"W after {max_iter} sweeps (block {block})", rtol=1e-8)
    scale = max(1.0, float(np.linalg.norm(C)))
    assert info.residual == pytest.approx(infoe.residual, rel=1e-6, abs=1e-9)
    assert info.scale == pytest.approx(scale, rel=1e-12)
    assert_close(info.gram_product, W @ G, "the carried W G", rtol=1e-10)
    if bias_bound is not None:
        assert np.all(W[:, -1] >= bias_bound)


@given(problem=gram_problems(), block=st.sampled_from([1, 4, 64]))
def test_forward_only_last_sweep_gives_the_same_iterate(problem, block):
    """From the gradient ``W0 G - C`` (no C, no W0 G) with the last sweep forward only: the iterate
    of the full sweeps (numpy path), not converged, the residual the one at the last sweep's start."""
    G, C, W0, lam, n_pen, bias_bound, max_iter = problem
    if bias_bound is not None or np.any(np.diagonal(G) <= 0.0):
        G, C, W0 = G[:-1, :-1] + np.eye(G.shape[0] - 1), C[:, :-1], W0[:, :-1]
        n_pen = G.shape[0]
    if n_pen == 0:
        return
    old_block = compiled.BCD_BLOCK
    compiled.BCD_BLOCK = block
    try:
        scale = max(1.0, float(np.linalg.norm(C)))
        W, it, res, conv = compiled.group_lasso_bcd_from_gradient(
            G, W0 @ G - C, W0, lam, n_pen, scale, 0.0, max_iter
        )
    finally:
        compiled.BCD_BLOCK = old_block
    compiled.ENABLED = False
    try:
        We, infoe = group_lasso_bcd(G, C, W0, lam, tol=0.0, max_iter=max_iter)
        Wb, infob = group_lasso_bcd(G, C, W0, lam, tol=0.0, max_iter=max_iter - 1)
    finally:
        compiled.ENABLED = True
    # (a solve that reaches residual 0 exactly on one path stops early there; the other path's
    # gradient is 0 only up to rounding)
    assert it == infoe.iterations or min(res, infoe.residual) < 1e-12, (it, res, infoe)
    assert_close(W, We, f"W after {max_iter} sweeps, the last forward only", rtol=1e-8)
    if infoe.iterations == max_iter and it == max_iter:
        assert not conv
        assert res == pytest.approx(infob.residual, rel=1e-6, abs=1e-9)


def _layer_data(seed, n_in, n_out, N, const_rows):
    rng = np.random.default_rng(seed)
    P = rng.standard_normal((n_in, N))
    for j in const_rows:
        P[j] = rng.uniform(-2.0, 2.0) if j % 2 else 0.0
    T = rng.standard_normal((n_out, N)) + rng.standard_normal((n_out, 1))
    W0 = rng.standard_normal((n_out, n_in))
    b0 = rng.standard_normal(n_out)
    return rng, P, T, W0, b0


@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(1, 8),
    n_out=st.integers(1, 4),
    N=st.integers(1, 30),
    n_const=st.integers(0, 8),
    lam=st.sampled_from([0.0, 0.3, 3.0]),
    max_iter=st.integers(1, 8),
)
def test_one_call_layer_step_matches_the_numpy_layer_step(
    seed, n_in, n_out, N, n_const, lam, max_iter
):
    """Means, constant rows (all of them, too), centred Gram matrix, C and bias in one compiled call:
    the numpy ``wb_layer_step``'s W and b (the constant rows' columns exactly 0)."""
    const = list(range(min(n_const, n_in)))
    rng, P, T, W0, b0 = _layer_data(seed, n_in, n_out, N, const)
    W, b, info = wb_layer_step(T, P, W0, b0, lam, tol=0.0, max_iter=max_iter)
    compiled.ENABLED = False
    try:
        We, be, infoe = wb_layer_step(T, P, W0, b0, lam, tol=0.0, max_iter=max_iter)
    finally:
        compiled.ENABLED = True
    assert info.iterations == infoe.iterations or min(info.residual, infoe.residual) < 1e-12, (
        info,
        infoe,
    )
    assert_close(W, We, "W", rtol=1e-8)
    assert_close(b, be, "b", rtol=1e-8)
    fixed = np.all(P == P[:, :1], axis=1)
    assert np.all(W[:, fixed] == 0.0)


@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(2, 9),
    n_const=st.integers(0, 2),
    lam=st.sampled_from([0.0, 0.3, 3.0]),
    max_iter=st.integers(1, 5),
)
def test_layer_step_from_the_output_matches_the_layer_step(seed, n_in, n_const, lam, max_iter):
    """The first layer's step started from ``W0 P + b0`` (the (v, u) step's output) instead of ``C``
    and ``W0 G``: the W and b of ``wb_layer_step`` with the same budget (numpy path)."""
    rng, P, T, W0, b0 = _layer_data(seed, n_in, 3, 25, list(range(n_const)))
    fixed = np.all(P == P[:, :1], axis=1)
    keep = np.flatnonzero(~fixed)
    gram = centred_gram(P)[np.ix_(keep, keep)]
    scale = max(1.0, float(np.linalg.norm((T - T.mean(axis=1, keepdims=True)) @ P.T)))
    out = wb_layer_step_from_output(
        T, P, W0, W0 @ P + b0[:, None], lam, gram=gram, fixed_rows=fixed,
        input_mean=P.mean(axis=1), scale=scale, tol=0.0, max_iter=max_iter,
    )  # fmt: skip
    assert out is not None
    compiled.ENABLED = False
    try:
        We, be, _ = wb_layer_step(T, P, W0, b0, lam, tol=0.0, max_iter=max_iter)
    finally:
        compiled.ENABLED = True
    assert_close(out[0], We, "W", rtol=1e-8)
    assert_close(out[1], be, "b", rtol=1e-8)
    assert np.all(out[0][:, fixed] == 0.0)


# --------------------------------------------------------------------------- whole inner iterations
@pytest.mark.parametrize(
    ("sizes", "n", "relu"), [((6, 5, 3, 2), 40, False), ((5, 3, 2), 30, True), ((70, 4, 2), 50, False)]
)
def test_compiled_inner_iterations_follow_the_numpy_iterations(sizes, n, relu, monkeypatch):
    """Eight chained ``update`` calls (the default solver, "bcd"), compiled against numpy: the same
    iterates to rounding; the first layer's later steps start from the carried output (counted)."""
    rng = np.random.default_rng(sum(sizes) + n)
    prob = random_problem(rng, sizes, n, relu=relu)
    start = random_feasible_point(rng, prob)
    xi = [rng.standard_normal(Ul.shape) for Ul in start.U]
    rho, am = 0.3, AlternatingMinimization(prob, 0.05, wb_work=np.inf, wb_max_iter=3)
    calls = []
    real = inner_mod.wb_layer_step_from_output
    monkeypatch.setattr(
        inner_mod, "wb_layer_step_from_output", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    got, st_g = start, am.init_state(start)
    for _ in range(8):
        got, st_g = am.update(got, st_g, xi, rho)
    assert len(calls) == (0 if relu else 7), "the output-started step was not used"
    compiled.ENABLED = False
    try:
        exp, st_e = start, am.init_state(start)
        for _ in range(8):
            exp, st_e = am.update(exp, st_e, xi, rho)
    finally:
        compiled.ENABLED = True
    for name in ("W", "b", "V", "U"):
        for ell, (g, e) in enumerate(zip(getattr(got, name), getattr(exp, name), strict=True)):
            assert_close(g, e, f"{name}[{ell}] after 8 iterations", rtol=1e-7)
    # run() starts from fresh products: no carried W_1 G, no carried output
    calls.clear()
    _, fresh = am.run(got, xi, rho, state=st_g, tol=np.inf)
    assert fresh.iter_num == 1 and calls == [], "run() reused a carried output"


def test_fallback_without_numba_and_the_switch(monkeypatch):
    """numba hidden: the module imports, ``ENABLED`` is False and the solver runs the numpy path
    (the same numbers as with the switch off); ``IALAM_NO_NUMBA=1`` turns the kernels off."""
    rng = np.random.default_rng(0)
    prob = random_problem(rng, (4, 3, 2), 20)
    start = random_feasible_point(rng, prob)
    xi = [np.zeros_like(Ul) for Ul in start.U]
    am = AlternatingMinimization(prob, 0.05)
    try:
        monkeypatch.setitem(sys.modules, "numba", None)  # import numba now fails
        importlib.reload(compiled)
        assert compiled.numba is None and not compiled.ENABLED
        hidden, _ = am.update(start, am.init_state(start), xi, 0.3)
        monkeypatch.delitem(sys.modules, "numba")
        monkeypatch.setenv("IALAM_NO_NUMBA", "1")
        importlib.reload(compiled)
        assert compiled.numba is not None and not compiled.ENABLED
        switched, _ = am.update(start, am.init_state(start), xi, 0.3)
    finally:
        monkeypatch.undo()
        importlib.reload(compiled)
    assert compiled.ENABLED
    for name in ("W", "b", "V", "U"):
        for g, e in zip(getattr(hidden, name), getattr(switched, name), strict=True):
            np.testing.assert_array_equal(g, e, err_msg=name)
