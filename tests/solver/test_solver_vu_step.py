r"""The closed-form (v, u) step against brute force: cvxpy branch solves, exact rationals, grid search.

Problem: :math:`\min \frac a2 v^2 - pv + \frac c2 u^2 - qu - \beta\sigma(u)` s.t. :math:`v \ge u`,
:math:`v \ge \alpha u`, with :math:`a, c > 0`, :math:`\beta \ge 0`, :math:`0 \le \alpha < 1`.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from _solver_common import (
    cvxpy_vu_minimum,
    exact_vu_minimum,
    vu_feasible,
    vu_scale,
    vu_value,
)
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.solver import solve_vu
from ialam_verify.solver.vu_step import vu_objective

curv = st.floats(1e-3, 1e3)
lin = st.floats(-50.0, 50.0)
betas = st.one_of(st.just(0.0), st.floats(0.0, 20.0))
alphas = st.one_of(
    st.just(0.0), st.floats(0.0, 0.999), st.sampled_from([1e-9, 1e-4, 0.5, 0.999, 1.0 - 1e-9])
)


def closed_form(a, p, c, q, beta, alpha) -> tuple[float, float, float]:
    v, u = solve_vu(a, p, c, q, beta, alpha)
    assert v.shape == () and u.shape == ()
    v, u = float(v), float(u)
    return vu_value(a, p, c, q, beta, alpha, v, u), v, u


def assert_global_min(a, p, c, q, beta, alpha, ref_value, rel=1e-7):
    val, v, u = closed_form(a, p, c, q, beta, alpha)
    scale = vu_scale(a, p, c, q, beta)
    assert np.isfinite(v) and np.isfinite(u)
    # feasibility (exact up to one rounding of alpha * u)
    assert vu_feasible(v, u, alpha, tol=1e-15 * (1 + abs(u))), (v, u)
    assert val <= ref_value + rel * scale, (val, ref_value)
    return val


@given(a=curv, p=lin, c=curv, q=lin, beta=betas, alpha=alphas)
def test_closed_form_matches_cvxpy_branch_solves(a, p, c, q, beta, alpha):
    ref = cvxpy_vu_minimum(a, p, c, q, beta, alpha)
    val = assert_global_min(a, p, c, q, beta, alpha, ref)
    # cvxpy is a brute force, not a bound: the closed form is not much better either
    assert val >= ref - 1e-7 * vu_scale(a, p, c, q, beta)


@given(
    a=st.sampled_from([1e-8, 1e-5, 1.0, 1e5, 1e8]),
    c=st.sampled_from([1e-8, 1e-5, 1.0, 1e5, 1e8]),
    p=lin,
    q=lin,
    beta=betas,
    alpha=alphas,
)
def test_closed_form_with_huge_and_tiny_curvatures(a, p, c, q, beta, alpha):
    """Against the exact enumeration (rationals do not care about scale) always, and against cvxpy
    while the curvature ratio is at most 1e8 (beyond that the cone is too thin for Clarabel, which
    answers 'optimal_inaccurate' at a = 1e-8, c = 1e8)."""
    exact, _, _ = exact_vu_minimum(a, p, c, q, beta, alpha)
    val, v, u = closed_form(a, p, c, q, beta, alpha)
    val_exact_arith = vu_value(
        Fraction(a),
        Fraction(p),
        Fraction(c),
        Fraction(q),
        Fraction(beta),
        Fraction(alpha),
        Fraction(v),
        Fraction(u),
    )
    assert float(val_exact_arith - exact) <= 1e-12 * vu_scale(a, p, c, q, beta)
    assert vu_feasible(v, u, alpha, tol=1e-15 * (1 + abs(u)))
    if max(a, c) / min(a, c) <= 1e8:
        ref = cvxpy_vu_minimum(a, p, c, q, beta, alpha)
        assert_global_min(a, p, c, q, beta, alpha, ref, rel=1e-6)


ints = st.integers(-40, 40)
pos = st.integers(1, 40)


@given(
    a=st.fractions(Fraction(1, 50), 50),
    c=st.fractions(Fraction(1, 50), 50),
    p=st.fractions(-30, 30, max_denominator=20),
    q=st.fractions(-30, 30, max_denominator=20),
    beta=st.one_of(st.just(Fraction(0)), st.fractions(0, 10, max_denominator=20)),
    alpha=st.one_of(st.just(Fraction(0)), st.fractions(0, Fraction(99, 100), max_denominator=100)),
)
def test_closed_form_matches_exact_rational_enumeration(a, p, c, q, beta, alpha):
    exact, _, _ = exact_vu_minimum(a, p, c, q, beta, alpha)
    args = tuple(float(x) for x in (a, p, c, q, beta, alpha))
    val, v, u = closed_form(*args)
    # the closed-form point, evaluated exactly, is within rounding of the exact minimum
    val_exact_arith = vu_value(a, p, c, q, beta, alpha, Fraction(v), Fraction(u))
    scale = vu_scale(*args[:5])
    assert float(val_exact_arith - exact) <= 1e-12 * scale
    assert vu_feasible(v, u, args[5], tol=1e-15 * (1 + abs(u)))


def tie_instance(a, c, beta, alpha):
    r"""Inputs with p = 0 whose two branch minima are equal (derivation in the test docstring)."""
    s = np.sqrt(c / (a + c))
    q = -beta * (alpha + s) / (1 + s)
    return q


@given(a=curv, c=curv, beta=st.floats(0.1, 20.0), alpha=st.floats(0.0, 0.99))
def test_ties_between_branches(a, c, beta, alpha):
    r"""With :math:`p = 0`: the branch ``u >= 0`` has its minimum on the ray ``v = u``,
    :math:`-(q+\beta)^2/(2(a+c))`, and the branch ``u <= 0`` at the interior point
    :math:`(0, (q+\alpha\beta)/c)`, :math:`-(q+\alpha\beta)^2/(2c)`. They are equal when
    :math:`q + \alpha\beta = -s(q+\beta)`, :math:`s = \sqrt{c/(a+c)}`, i.e.
    :math:`q = -\beta(\alpha+s)/(1+s)`; then :math:`q+\beta > 0 > q + \alpha\beta`: two distinct minimizers.
    """
    q = tie_instance(a, c, beta, alpha)
    s = np.sqrt(c / (a + c))
    f_pos = -((q + beta) ** 2) / (2 * (a + c))
    f_neg = -((q + alpha * beta) ** 2) / (2 * c)
    assert f_pos == pytest.approx(f_neg, rel=1e-9)
    assert q + beta > 0 > q + alpha * beta
    ref = cvxpy_vu_minimum(a, 0.0, c, q, beta, alpha)
    assert abs(ref - f_pos) <= 1e-7 * vu_scale(a, 0.0, c, q, beta)
    assert_global_min(a, 0.0, c, q, beta, alpha, min(f_pos, f_neg), rel=1e-9)
    assert s < 1


def test_exact_tie_in_rationals_returns_branch_u_nonnegative():
    r"""a = 3, c = 1, p = 0, beta = 3, alpha = 1/2: s = 1/2, q = -2; both branch minima are -1/8,
    at (1/4, 1/4) and (0, -1/2). The docstring promises the branch u >= 0 at a tie."""
    a, c, p, q, beta, alpha = 3, 1, 0, -2, 3, Fraction(1, 2)
    exact, _, _ = exact_vu_minimum(a, p, c, q, beta, alpha)
    assert exact == Fraction(-1, 8)
    assert vu_value(a, p, c, q, beta, alpha, Fraction(1, 4), Fraction(1, 4)) == exact
    assert vu_value(a, p, c, q, beta, alpha, Fraction(0), Fraction(-1, 2)) == exact
    v, u = solve_vu(a, p, c, q, beta, float(alpha))
    assert (float(v), float(u)) == (0.25, 0.25)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # a=c=1, p=q=1, beta=0, alpha=1/2: the unconstrained minimizer (1, 1) is feasible (v = u).
        ((1, 1, 1, 1, 0, Fraction(1, 2)), (Fraction(1), Fraction(1))),
        # a=1, c=1, p=0, q=2, beta=0: unconstrained (0, 2) violates v >= u; on v = u:
        # (a + c)/2 t^2 - (p + q) t -> t = 2/2 = 1; value -1. Branch u <= 0: best is (0, 0), value 0.
        ((1, 0, 1, 2, 0, Fraction(1, 4)), (Fraction(1), Fraction(1))),
        # a=2, c=1, p=-1, q=-3, beta=1, alpha=1/4. Branch u <= 0: Q = q + alpha beta = -11/4;
        # unconstrained (-1/2, -11/4) has v >= alpha u = -11/16? -1/2 >= -11/16 yes: value
        # -p^2/(2a) - Q^2/(2c) = -1/4 - 121/32 = -129/32. Branch u >= 0: Q = -2, u = 0, v = max(p/a, 0)
        # = 0: value 0. So (v, u) = (-1/2, -11/4).
        ((2, -1, 1, -3, 1, Fraction(1, 4)), (Fraction(-1, 2), Fraction(-11, 4))),
        # same with alpha = 0 (ReLU): Q = -3, u = -3, v = -1/2 violates v >= 0; on the ray v = 0:
        # u = Q/c = -3, value -9/2; on u = 0: v = 0, value 0. So (0, -3).
        ((2, -1, 1, -3, 1, Fraction(0)), (Fraction(0), Fraction(-3))),
        # a=1, c=4, p=-2, q=1, beta=0, alpha=1/2. Branch u >= 0: unconstrained (-2, 1/4) infeasible;
        # ray u = 0: v = max(-2, 0) = 0, value 0; ray v = u >= 0: t = (p + q)/(a + c) = -1/5 -> 0.
        # Branch u <= 0: Q = 1, u = 1/4 > 0 infeasible; ray u = 0: value 0; ray v = u/2, u <= 0:
        # t = (alpha p + Q)/(a alpha^2 + c) = 0/(17/4) = 0. Minimum 0 at (0, 0).
        ((1, -2, 4, 1, 0, Fraction(1, 2)), (Fraction(0), Fraction(0))),
    ],
)
def test_hand_derived_cases_exactly(args, expected):
    v, u = solve_vu(*(float(x) for x in args))
    assert Fraction(float(v)) == pytest.approx(expected[0], abs=1e-15)
    assert Fraction(float(u)) == pytest.approx(expected[1], abs=1e-15)
    # the hand derivation agrees with the exact enumeration
    exact, ve, ue = exact_vu_minimum(*args)
    assert (ve, ue) == expected
    assert vu_value(*args, *expected) == exact


@pytest.mark.parametrize(
    "args",
    [
        (1.0, 0.7, 2.0, -1.3, 0.4, 0.1),
        (0.5, -1.0, 1.5, 2.0, 1.0, 0.0),
        (3.0, 2.0, 0.2, -0.1, 0.0, 0.9),
        (1.0, 0.0, 1.0, -0.75, 1.5, 0.5),  # near a tie
        (2.0, -0.5, 0.5, 0.3, 2.0, 0.3),
    ],
)
def test_dense_grid_search(args):
    """On a 1201 x 1201 grid of the box [-6, 6]^2 (spacing h = 0.01) restricted to the feasible set."""
    a, p, c, q, beta, alpha = args
    val, v, u = closed_form(*args)
    assert max(abs(v), abs(u)) < 5.0  # the minimizer lies well inside the box
    g = np.linspace(-6.0, 6.0, 1201)
    VV, UU = np.meshgrid(g, g, indexing="ij")
    F = vu_objective(a, p, c, q, beta, alpha, VV, UU)
    F = np.where((VV >= UU) & (VV >= alpha * UU), F, np.inf)
    grid_min = float(F.min())
    assert val <= grid_min + 1e-12
    # a feasible grid point lies within h*sqrt(2) of the minimizer (the feasible set is a cone with
    # the vertex on the grid), and the gradient is bounded on the box: the grid cannot be far above
    h = g[1] - g[0]
    lip = a * 6 + abs(p) + c * 6 + abs(q) + beta
    assert grid_min <= val + 2 * h * lip


def test_vectorized_over_arrays_and_broadcasting():
    rng = np.random.default_rng(7)
    shape = (4, 5)
    a = rng.uniform(0.1, 3, shape)
    p = rng.normal(0, 2, shape)
    c = rng.uniform(0.1, 3, shape)
    q = rng.normal(0, 2, shape)
    beta, alpha = 0.7, 0.2
    v, u = solve_vu(a, p, c, q, beta, alpha)
    assert v.shape == u.shape == shape
    for idx in np.ndindex(shape):
        vi, ui = solve_vu(a[idx], p[idx], c[idx], q[idx], beta, alpha)
        assert (float(vi), float(ui)) == (v[idx], u[idx])
        exact, _, _ = exact_vu_minimum(a[idx], p[idx], c[idx], q[idx], beta, alpha)
        got = vu_value(a[idx], p[idx], c[idx], q[idx], beta, alpha, v[idx], u[idx])
        assert got <= float(exact) + 1e-12 * vu_scale(a[idx], p[idx], c[idx], q[idx], beta)


# ------------------------------------------------- the optimized code against the plain formulas
# ``_speed_reference`` keeps the implementation from before the speed work (one np.where per case,
# whole-array temporaries); the block kernel must give the same numbers. It decides between the two
# branches with the very same numbers (same operations, same order), but takes each branch's minimizer
# from min/max formulas instead of the enumeration's selections: the same candidate, except where
# rounding orders u0 and t the other way than exact arithmetic (then the two differ by that rounding),
# and the sign of a zero may differ (-0.0 for +0.0). Measured on 3.2e7 random entries (integers, ties,
# curvatures 1e-6..1e6): equal (==) everywhere. The assertion asks for 1e-12 relative, the promise.
def assert_same(got, ref, what):
    for g, r, name in zip(got, ref, ("v", "u"), strict=True):
        assert g.shape == r.shape, f"{what}: {name} has shape {g.shape}, reference {r.shape}"
        scale = max(1.0, float(np.max(np.abs(r), initial=0.0)))
        np.testing.assert_allclose(
            g,
            r,
            rtol=1e-12,
            atol=1e-12 * scale,
            err_msg=f"{what}: {name} differs from the reference",
        )


def _coef(draw, shape, lo, hi, positive=False):
    """A scalar or an array of ``shape``; integers now and then (exact ties, zeros)."""
    kind = draw(st.sampled_from(["scalar", "array", "integers"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if kind == "scalar":
        x = draw(st.floats(lo, hi)) if not positive else draw(st.floats(max(lo, 1e-3), hi))
        return abs(x) if positive else x
    x = rng.uniform(lo, hi, shape)
    if kind == "integers":
        x = np.round(x)
    if positive:
        x = np.abs(x) + 1e-3
    return x


@st.composite
def vu_inputs(draw):
    shape = draw(st.sampled_from([(), (7,), (3, 5), (4, 9), (2, 40)]))
    a = _coef(draw, shape, 1e-3, 50.0, positive=True)
    c = _coef(draw, shape, 1e-3, 50.0, positive=True)
    p = _coef(draw, shape, -30.0, 30.0)
    q = _coef(draw, shape, -30.0, 30.0)
    beta = draw(st.one_of(st.just(0.0), st.floats(0.0, 20.0)))
    if draw(st.booleans()):
        beta = np.abs(_coef(draw, shape, 0.0, 20.0))
    alpha = draw(alphas)
    return a, p, c, q, beta, alpha


@given(args=vu_inputs(), block=st.sampled_from([1, 3, 16, None]))
def test_block_kernel_matches_the_plain_formulas(args, block):
    """Random inputs (scalars and arrays, integer ties), blocks smaller than the arrays included."""
    from unittest import mock

    import _speed_reference as ref

    import ialam_verify.solver.vu_step as vu_mod

    expected = ref.solve_vu(*args)
    with mock.patch.object(vu_mod, "BLOCK", block or vu_mod.BLOCK):
        got = solve_vu(*args)
    assert_same(got, expected, f"solve_vu(block={block})")


def test_block_kernel_on_the_talk_tie_and_across_block_boundaries():
    """The exact tie of ``test_exact_tie_in_rationals...`` repeated over 3 blocks and a partial one."""
    import _speed_reference as ref

    import ialam_verify.solver.vu_step as vu_mod

    m = 3 * vu_mod.BLOCK + 5
    rng = np.random.default_rng(3)
    p = np.where(rng.random(m) < 0.5, 0.0, rng.normal(0, 2, m))
    q = np.where(rng.random(m) < 0.5, -2.0, rng.normal(0, 2, m))
    got = solve_vu(3.0, p, 1.0, q, 3.0, 0.5)
    assert_same(got, ref.solve_vu(3.0, p, 1.0, q, 3.0, 0.5), "large solve_vu")
    tie = (p == 0.0) & (q == -2.0)
    assert tie.any() and np.all(got[0][tie] == 0.25) and np.all(got[1][tie] == 0.25)


@given(
    seed=st.integers(0, 10_000),
    sizes=st.sampled_from([(1, 1, 1), (3, 2, 2, 2), (2, 4, 3, 1), (4, 3)]),
    n=st.integers(1, 12),
    rho=st.floats(1e-3, 1e2),
    tau1=st.floats(1e-3, 1.0),
    relu=st.booleans(),
)
def test_vu_step_method_matches_the_plain_formulas(seed, sizes, n, rho, tau1, relu):
    """``AlternatingMinimization.vu_step`` (coefficients built in place, cached last-layer ``p``)
    against the method as it was, on random points, multipliers and weights."""
    import _speed_reference as ref
    from _solver_common import random_feasible_point, random_problem

    from ialam_verify.solver import AlternatingMinimization

    rng = np.random.default_rng(seed)
    prob = random_problem(rng, sizes, n, relu=relu)
    pt = random_feasible_point(rng, prob)
    xi = [rng.standard_normal(Ul.shape) for Ul in pt.U]
    W = [Wl + 0.1 * rng.standard_normal(Wl.shape) for Wl in pt.W]
    b = [bl + 0.1 * rng.standard_normal(bl.shape) for bl in pt.b]
    am = AlternatingMinimization(prob, tau1)
    before = [x.copy() for x in (*pt.V, *pt.U, *xi)]
    for _ in range(2):  # twice: the cached coefficient must not be changed by the first call
        got = am.vu_step(W, b, pt, xi, rho)
        expected = ref.vu_step_reference(am, W, b, pt, xi, rho)
        for ell in range(prob.n_layers):
            assert_same(
                (got[0][ell], got[1][ell]), (expected[0][ell], expected[1][ell]), f"layer {ell}"
            )
    for x, y in zip(before, (*pt.V, *pt.U, *xi), strict=True):
        np.testing.assert_array_equal(x, y, err_msg="vu_step changed its inputs")


@pytest.mark.parametrize("alpha", [0.0, 1e-9, 0.1, 0.5, 0.999])
def test_block_kernel_values_equal_the_enumeration_on_a_seeded_batch(alpha):
    """Stronger than the 1e-12 promise where it holds: on 2e5 seeded entries (integer coefficients with
    exact ties and zeros, and floats over 16 decades) the min/max kernel returns the enumeration's
    values exactly (``==``; only the sign of a zero may differ)."""
    import _speed_reference as ref

    rng = np.random.default_rng(11)
    m = 50_000
    batches = [
        (np.round(rng.normal(0, 3, m)), np.round(rng.normal(0, 4, m)) / 2, 2.0, 1.0, 3.0),
        (rng.normal(0, 3, m), rng.normal(0, 3, m), 0.37, 5.1, 0.8),
        (
            rng.normal(0, 1, m) * 10.0 ** rng.integers(-8, 8, m),
            rng.normal(0, 1, m) * 10.0 ** rng.integers(-8, 8, m),
            1e-6,
            1e5,
            0.0,
        ),
        (
            np.where(rng.random(m) < 0.5, 0.0, rng.normal(0, 2, m)),
            rng.normal(0, 2, m),
            3.0,
            1.0,
            2.5,
        ),
    ]
    for k, (p, q, a, c, beta) in enumerate(batches):
        got = solve_vu(a, p, c, q, beta, alpha)
        expected = ref.solve_vu(a, p, c, q, beta, alpha)
        for g, r, name in zip(got, expected, ("v", "u"), strict=True):
            np.testing.assert_array_equal(g, r, err_msg=f"batch {k}, alpha {alpha}: {name}")
