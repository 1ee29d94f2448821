"""The fast paths of the structured certifier compute the same numbers as straightforward references.

Issue 9 (speed at N = 60000) replaced masks by indices, ``np.where`` by products with masks, repeated
work by a per-point cache (:class:`~ialam_verify.stationarity.network_check.PointData`) and the
re-check of a direction at another activity level by its activity-dependent part only. Each is tested
here against a second formulation: the explicit sparse Jacobian of ``h`` for :math:`J_h d`, the
former ``np.where`` formulas (written out below) for the entry classes, the backward pass, the cone
and the bound, and fresh computations (no cache) for everything cached.
"""

from __future__ import annotations

import numpy as np
import pytest
from _network_instances import planted_instance
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.stationarity.lifted import constraint_jacobian
from ialam_verify.stationarity.network_check import (
    Activity,
    PointData,
    check_direction,
    check_witness,
    fixed_slopes,
    loss_and_ridge_gradient,
    propagate_direction,
    residual_blocks,
    residual_summary,
)
from ialam_verify.stationarity.network_program import Structure, backward, witness
from ialam_verify.stationarity.network_proof import pushed_rows

SIZES = [(1, 1, 1), (2, 3, 1), (2, 2, 2, 1), (3, 2, 2)]


def instance(seed, sizes, kind, slack=0):
    inst = planted_instance(seed, sizes, 3, beta=0.75, lambda_w=0.5, lambda_v=0.25, n_zeros=2,
                            n_zero_columns=1, slack_entries=slack)
    pt = inst.point if kind == "PP" else inst.problem.lift(inst.point.W, inst.point.b)
    return inst.problem, pt


def random_direction(point, rng, scale=1.0):
    return {
        "W": [rng.standard_normal(W.shape) * scale for W in point.W],
        "b": [rng.standard_normal(b.shape) * scale for b in point.b],
        "V": [rng.standard_normal(V.shape) * scale for V in point.V],
        "U": [rng.standard_normal(U.shape) * scale for U in point.U],
    }


def reference_bound(problem, point, kind, notion, act, d, slopes=None):
    """The bound of ``direction_bound`` as first written (masks, ``np.where``, every term summed over
    all entries), with ``J_h d`` from the explicit sparse Jacobian of ``h``."""
    al = problem.alpha
    grads = loss_and_ridge_gradient(problem, point, kind)
    s_fix = fixed_slopes(problem, point)
    D, norm1, cone = 0.0, 0.0, 0.0
    for l in range(problem.n_layers):
        D += float(np.sum(grads[l] * d["V"][l]))
        if kind == "PP" and problem.beta[l] != 0:
            kz, du = act.kz[l], d["U"][l]
            s = np.where(kz, slopes[l] if slopes is not None else np.where(du > 0, al, 1.0), s_fix[l])
            D += float(np.sum(-problem.beta[l] * s * du))
        norm1 += sum(float(np.sum(np.abs(a[l]))) for a in (d["W"], d["b"], d["V"], d["U"]))
        G, H = act.G[l], act.H[l]
        gv, hv = d["V"][l] - d["U"][l], d["V"][l] - al * d["U"][l]
        mx = lambda x: float(np.max(x, initial=0.0))  # noqa: E731
        if kind == "PP" or notion == "S":
            cone = max(cone, mx(-gv[G]), mx(-hv[H]))
            if kind == "P":
                cone = max(cone, mx(np.abs(gv[G & ~H])), mx(np.abs(hv[H & ~G])))
        else:
            cone = max(cone, mx(np.abs(gv[G])), mx(np.abs(hv[H])))
    if problem.lambda_w > 0:
        for W, dW, zc in zip(point.W, d["W"], act.zero_cols, strict=True):
            nrm = np.linalg.norm(W, axis=0)
            D += problem.lambda_w * float(np.sum(np.sum(W[:, ~zc] * dW[:, ~zc], axis=0) / nrm[~zc]))
            D += problem.lambda_w * float(np.sum(np.linalg.norm(dW[:, zc], axis=0)))
    _, J = constraint_jacobian(problem, point)
    vec = [np.ravel(a, order="F") for k in ("W", "b", "V", "U") for a in d[k]]
    h = float(np.max(np.abs(J @ np.concatenate(vec))))
    return {"D": D, "norm1": norm1, "bound": -D / norm1, "h": h, "cone": cone}


@given(seed=st.integers(0, 2**32 - 1), sizes=st.sampled_from(SIZES), kind=st.sampled_from(["PP", "P"]),
       notion_i=st.integers(0, 4), propagated=st.booleans())
def test_direction_check_equals_the_explicit_jacobian_and_the_reference(seed, sizes, kind, notion_i,
                                                                       propagated):
    """h (= max |J_h d|, by one forward pass) equals the explicit Jacobian's; D, norm1 and the cone
    equal the reference formulas; one PointData re-checking at three activity levels (cached
    activity-free part) gives what a fresh check gives at each."""
    problem, pt = instance(seed, sizes, kind)
    notion = ["Clarke", "KKT"][notion_i % 2] if kind == "PP" else "WACMS"[notion_i]
    rng = np.random.default_rng(seed)
    d = random_direction(pt, rng)
    act = Activity.at(problem, pt, 1e-6, kind)
    if propagated:
        prop = propagate_direction(problem, pt, kind, notion, act, d["W"], d["b"])
        if prop is None:
            return
        d["U"], d["V"] = prop
    data = PointData(problem, pt)
    for a in (1e-6, 1e-7, 10.0):
        mine = check_direction(problem, pt, kind, notion, d, a, data=data)
        fresh = check_direction(problem, pt, kind, notion, d, a)
        ref = reference_bound(problem, pt, kind, notion, Activity.at(problem, pt, a, kind), d)
        for key in ("D", "norm1", "bound", "h", "cone"):
            np.testing.assert_allclose(mine[key], ref[key], rtol=1e-12, atol=1e-12,
                                       err_msg=f"{key} differs from the reference at act_tol {a}")
            assert mine[key] == fresh[key], f"{key}: cached {mine[key]} vs fresh {fresh[key]}"
        assert mine["valid"] == fresh["valid"]
    if propagated:
        assert check_direction(problem, pt, kind, notion, d, 1e-6)["h"] <= 1e-12 * 10 * max(
            1.0, max(float(np.max(np.abs(a))) for a in d["U"] + d["V"]))


@given(seed=st.integers(0, 2**32 - 1), sizes=st.sampled_from(SIZES))
def test_pair_precheck_loses_no_proof(seed, sizes):
    """(P)-W/A/C/M: when the pre-check on the biactive samples refuses a direction, the full pass
    would have given a direction the check rejects."""
    import ialam_verify.stationarity.network_check as nc

    problem, pt = instance(seed, sizes, "P")
    rng = np.random.default_rng(seed)
    act = Activity.at(problem, pt, 1e-6, "P")
    d = random_direction(pt, rng)
    if propagate_direction(problem, pt, "P", "W", act, d["W"], d["b"]) is not None:
        return
    old = nc.PAIR_PRECHECK_RTOL
    try:
        nc.PAIR_PRECHECK_RTOL = np.inf
        dU, dV = propagate_direction(problem, pt, "P", "W", act, d["W"], d["b"])
    finally:
        nc.PAIR_PRECHECK_RTOL = old
    full = {"W": d["W"], "b": d["b"], "U": dU, "V": dV}
    assert not check_direction(problem, pt, "P", "W", full, 1e-6)["valid"]


def reference_structure(problem, point, kind, act):
    """Structure.of, backward's coefficients, as first written with np.where."""
    side, cond, free, s_def, c1s = [], [], [], [], []
    s_fix = [np.where(U > 0, 1.0, problem.alpha) for U in point.U]
    for l, U in enumerate(point.U):
        G, H, kz = act.G[l], act.H[l], act.kz[l]
        sd = np.where(G & ((U > 0) | ~H), 1, np.where(H, -1, 0))
        side.append(sd)
        if kind == "PP":
            cond.append(np.where(sd != 0, 1, 2))
            free.append((G & H) | (kz & (problem.beta[l] > 0)))
            s_def.append(np.where(kz, np.where(sd == 1, 1.0, problem.alpha), s_fix[l]))
        else:
            cond.append(np.zeros(U.shape, dtype=int))
            free.append(G & H)
            s_def.append(s_fix[l])
        c1s.append(np.where(sd == 1, -1.0, np.where(sd == -1, -problem.alpha, 0.0)))
    return side, cond, free, s_def, c1s


@given(seed=st.integers(0, 2**32 - 1), sizes=st.sampled_from(SIZES), kind=st.sampled_from(["PP", "P"]),
       slack=st.integers(0, 2))
def test_entry_classes_backward_pass_and_witness_equal_the_np_where_formulas(seed, sizes, kind, slack):
    problem, pt = instance(seed, sizes, kind, slack if kind == "PP" else 0)
    act = Activity.at(problem, pt, 1e-6, kind)
    data = PointData(problem, pt)
    assert data.activity(1e-6, kind).key() == act.key(), "cached activity differs from Activity.at"
    stc = Structure.of(problem, pt, kind, data.activity(1e-6, kind), data)
    side, cond, free, s_def, c1s = reference_structure(problem, pt, kind, act)
    for l in range(problem.n_layers):
        np.testing.assert_array_equal(stc.side[l], side[l], err_msg=f"side, layer {l}")
        np.testing.assert_array_equal(stc.cond[l], cond[l], err_msg=f"cond, layer {l}")
        np.testing.assert_array_equal(stc.free[l], free[l], err_msg=f"free, layer {l}")
        np.testing.assert_array_equal(stc.s_def[l], s_def[l], err_msg=f"s_def, layer {l}")
        np.testing.assert_array_equal(stc.c0c1(l)[1], c1s[l], err_msg=f"c1, layer {l}")
    rng = np.random.default_rng(seed)
    xi_free = [rng.standard_normal(int(f.sum())) for f in free]
    Xi, G = backward(stc, xi_free)
    grads = loss_and_ridge_gradient(problem, pt, kind)
    ref_Xi = [None] * problem.n_layers
    for l in reversed(range(problem.n_layers)):
        g = grads[l] if l == problem.n_layers - 1 else grads[l] - pt.W[l + 1].T @ ref_Xi[l + 1]
        c0 = problem.beta[l] * s_def[l] if kind == "PP" else 0.0
        X = c0 + c1s[l] * g
        X[free[l]] = xi_free[l]
        ref_Xi[l] = X
        np.testing.assert_array_equal(G[l], g, err_msg=f"G, layer {l}")
        np.testing.assert_array_equal(Xi[l], X, err_msg=f"Xi, layer {l}")
    wit = witness(stc, "Clarke" if kind == "PP" else "W", Xi, G)
    for l in range(problem.n_layers):
        np.testing.assert_array_equal(wit["M1"][l] + wit["M2"][l], np.where(side[l] != 0, G[l], 0.0))


@given(seed=st.integers(0, 2**32 - 1), sizes=st.sampled_from(SIZES), kind=st.sampled_from(["PP", "P"]))
def test_residual_summary_and_pushed_rows_equal_the_blocks(seed, sizes, kind):
    problem, pt = instance(seed, sizes, kind)
    data = PointData(problem, pt)
    stc = Structure.of(problem, pt, kind, data.activity(1e-6, kind), data)
    Xi, G = backward(stc)
    base = witness(stc, "Clarke" if kind == "PP" else "W", Xi, G)
    rng = np.random.default_rng(seed)
    xi_free = [rng.standard_normal(int(f.sum())) for f in stc.free]
    other = witness(stc, "Clarke" if kind == "PP" else "W", *backward(stc, xi_free), xi_free)
    for wit in (base, other):
        full = residual_blocks(problem, pt, kind, wit)
        summ = residual_summary(problem, pt, kind, wit, data)
        for k in ("W", "b", "V", "U"):
            assert summ["max"][k] == max(float(np.max(np.abs(B))) for B in full[k]), k
        for k in ("W", "b"):
            for a, b in zip(summ[k], full[k], strict=True):
                np.testing.assert_array_equal(a, b)
    RW, Rb = pushed_rows(other, base, residual_summary(problem, pt, kind, base, data), data)
    full = residual_blocks(problem, pt, kind, other)
    for l in range(problem.n_layers):
        np.testing.assert_allclose(RW[l], full["W"][l], rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(Rb[l], full["b"][l])


@given(seed=st.integers(0, 2**32 - 1), sizes=st.sampled_from(SIZES), kind=st.sampled_from(["PP", "P"]),
       key_i=st.integers(0, 4), layer=st.integers(0, 2), bad=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_a_non_finite_entry_anywhere_makes_the_witness_fail(seed, sizes, kind, key_i, layer, bad):
    """Regression: a NaN in a later layer's M1 once vanished in Python's max and the witness passed."""
    problem, pt = instance(seed, sizes, kind)
    stc = Structure.of(problem, pt, kind, Activity.at(problem, pt, 1e-6, kind))
    wit = witness(stc, "Clarke" if kind == "PP" else "W", *backward(stc))
    keys = ["Xi", "M1", "M2", "Z"] + (["S"] if kind == "PP" else [])
    k = keys[key_i % len(keys)]
    l = layer % problem.n_layers
    wit[k] = [a.copy() for a in wit[k]]
    rng = np.random.default_rng(seed)
    wit[k][l][tuple(int(rng.integers(s)) for s in wit[k][l].shape)] = bad
    out = check_witness(problem, pt, kind, "Clarke" if kind == "PP" else "W", wit, 1e-6)
    assert out["max"] == np.inf, out


def test_shared_arrays_are_read_only_and_data_belongs_to_its_point():
    problem, pt = instance(0, (2, 3, 1), "PP")
    data = PointData(problem, pt)
    with pytest.raises(ValueError, match="read-only"):
        data.grads("PP")[0][0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        data.s_fix()[0][0, 0] = 1.0
    other = problem.lift(pt.W, pt.b)
    with pytest.raises(ValueError, match="another problem or point"):
        check_direction(problem, other, "P", "W", random_direction(other, np.random.default_rng(0)),
                        1e-6, data=data)
    bad = random_direction(pt, np.random.default_rng(0))
    bad["U"][0] = bad["U"][0][:, :1]
    with pytest.raises(ValueError, match=r"direction\['U'\]\[0\] must have shape"):
        check_direction(problem, pt, "PP", "KKT", bad, 1e-6)
