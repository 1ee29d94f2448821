"""Wrong answers of the old classify, each fixed and pinned here against an independent computation
(closed forms by hand, classification at a single threshold, brute-force enumeration)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.stationarity import MPCC, Tolerances, check, classify, problem_scale
from ialam_verify.stationarity.kernel import PAIR_BRANCHES
from ialam_verify.testing.oracles import brute_min_residual
from ialam_verify.testing.strategies import degenerate_mpccs

x, y = sp.symbols("x y")


def certified(prob: MPCC, **kw):
    cert = classify(prob, **kw)
    rep = check(cert, prob, kw.get("tolerances"))
    assert rep.accepted, rep
    return cert


# ---------------------------------------------------------------- (a) near-zero groups
def group_problem(x1: float) -> MPCC:
    """f = 0.5 x1 + ||x||_2 at (x1, 0). By hand: at x = 0 the subdifferential is (0.5, 0) + unit
    ball, which contains 0 (KKT holds); at x1 > 0 it is {(1.5, 0)} (fails)."""
    return MPCC.create([0.5, 0.0], groups=[([0, 1], [x1, 0.0], 1.0)])


def test_group_below_act_tol_is_zero_everywhere():
    at_zero = certified(group_problem(0.0)).verdicts()
    tiny = certified(group_problem(1e-8)).verdicts()
    assert at_zero == tiny == dict(KKT="holds", Clarke="holds", B="holds")
    far = certified(group_problem(1e-3)).verdicts()
    assert far == dict(KKT="fails", Clarke="fails", B="fails")


def test_group_inside_the_band_is_undetermined():
    """||x_J|| = 3e-6 lies in [1e-7, 1e-5]: counted zero KKT holds, counted nonzero it fails."""
    cert = certified(group_problem(3e-6))
    assert cert.verdicts()["KKT"] == "undetermined"
    assert "band" in cert.results["KKT"].reason
    assert classify(group_problem(3e-6), act_tol=1e-5, band=1).verdicts()["KKT"] == "holds"
    assert classify(group_problem(3e-6), act_tol=1e-6, band=1).verdicts()["KKT"] == "fails"


@given(
    st.lists(st.floats(-2, 2), min_size=2, max_size=3),
    st.floats(0.1, 2.0),
    st.lists(st.floats(-1, 1), min_size=3, max_size=3),
)
@settings(max_examples=15)
def test_tiny_group_value_decides_like_zero(c, lam, direction):
    """f = c.x + lam ||x|| at a point with 0 < ||x|| <= act_tol/band: the verdict is the one at 0,
    which is KKT iff ||c||_2 <= lam (closed form)."""
    c = np.array(c)
    n = c.size
    d = np.array(direction[:n])
    if np.linalg.norm(d) == 0:
        d = np.ones(n)
    val = 1e-8 * d / np.linalg.norm(d)
    nc = np.linalg.norm(c)
    if abs(nc - lam) < 1e-3:
        return
    v = certified(MPCC.create(c, groups=[(np.arange(n), val, lam)])).verdicts()
    assert v["KKT"] == ("holds" if nc <= lam else "fails")


# ---------------------------------------------------------------- (b) from_sympy refuses kinks
@pytest.mark.parametrize(
    "f",
    [
        -sp.Abs(x) + y,
        sp.Max(x, 0) + y,
        sp.Min(x, y),
        sp.sign(x) * y,
        sp.Heaviside(x) + y,
        sp.Piecewise((x, x > 0), (-x, True)),
    ],
)
def test_from_sympy_refuses_nonsmooth_expressions(f):
    with pytest.raises(ValueError, match="ialam_verify.cases.analyze"):
        MPCC.from_sympy(f, [x, y], [0, 0], G=[x], H=[y])


def test_abs_written_as_a_kink_term_is_not_b_stationary():
    """f = -|x| + y with 0 <= x _|_ y >= 0 at 0: f(t, 0) = -t, so B fails. Written as the kink term
    (-1) * sigma(x), sigma with slopes (-1, 1) (a concave term), the certificate says so, with a
    direction along which f itself decreases."""
    prob = MPCC.create(
        [0.0, 1.0],
        G=[0.0],
        JG=[[1.0, 0.0]],
        H=[0.0],
        JH=[[0.0, 1.0]],
        kink_t=[0.0],
        T=[[1.0, 0.0]],
        kink_coef=[-1.0],
        slope_neg=-1.0,
        slope_pos=1.0,
    )
    cert = certified(prob)
    assert cert.verdicts()["B"] == "fails"
    d = cert.results["B"].descent_direction
    t = 1e-3
    fval = lambda p: -abs(p[0]) + p[1]  # noqa: E731
    assert fval(t * d) < fval(np.zeros(2))  # a true descent along the direction found


# ---------------------------------------------------------------- (c) fails without big-M
def unique_multiplier_mpcc(nu: np.ndarray, w: np.ndarray, seed: int) -> MPCC:
    """Biactive pairs with Jacobians of full row rank (MPEC-LICQ): the multiplier is unique."""
    k = nu.size
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((2 * k, 2 * k + 1))
    return MPCC.create(J[:k].T @ nu + J[k:].T @ w, G=np.zeros(k), JG=J[:k], H=np.zeros(k), JH=J[k:])


def test_four_biactive_pairs_fail_m_and_c_without_big_m():
    """nu = 1, w = -1 on each of 4 pairs: A holds, C, M, S fail (by the sign rules)."""
    prob = unique_multiplier_mpcc(np.ones(4), -np.ones(4), seed=0)
    cert = certified(prob)
    v = cert.verdicts()
    assert (v["W"], v["A"], v["C"], v["M"], v["S"], v["B"]) == (
        "holds",
        "holds",
        "fails",
        "fails",
        "fails",
        "fails",
    )
    assert cert.results["M"].proof and cert.results["C"].proof


@pytest.mark.parametrize("seed", [1, 2])
def test_ten_biactive_pairs(seed):
    """10 biactive pairs, unique multiplier with chosen signs: every notion by the sign rules."""
    rng = np.random.default_rng(seed)
    cells = [(1.0, 1.0), (1.0, -1.0), (-1.0, -1.0), (0.0, -1.0), (2.0, 0.0)]
    pairs = [cells[i] for i in rng.integers(0, len(cells), 10)]
    nu = np.array([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs])
    prob = unique_multiplier_mpcc(nu, w, seed)
    cert = certified(prob)
    rules = {
        "W": lambda a, b: True,
        "A": lambda a, b: a >= 0 or b >= 0,
        "C": lambda a, b: a * b >= 0,
        "M": lambda a, b: (a >= 0 and b >= 0) or a == 0 or b == 0,
        "S": lambda a, b: a >= 0 and b >= 0,
    }
    for name, rule in rules.items():
        want = "holds" if all(rule(a, b) for a, b in pairs) else "fails"
        assert cert.verdicts()[name] == want, (name, cert.results[name].reason)
        assert cert.results[name].branches == len(PAIR_BRANCHES[name]) ** 10


# ---------------------------------------------------------------- (d) every split of the band
def band_problem() -> MPCC:
    """Pair 1: G = 0, H = 2e-7 (JG = e1, JH = e2); pair 2: G = 0, H = 5e-7 (JG = e2, JH = -e1);
    grad f = (-1, 0). By hand: no H counted active: nu free, S holds; only H1 active: nu1 >= 0 is
    needed for the first coordinate, S fails; both active: w2 = 1 serves, S holds."""
    return MPCC.create(
        [-1.0, 0.0],
        G=[0.0, 0.0],
        JG=[[1.0, 0.0], [0.0, 1.0]],
        H=[2e-7, 5e-7],
        JH=[[0.0, 1.0], [-1.0, 0.0]],
    )


def test_band_split_inside_the_band_flips_s():
    prob = band_problem()
    # the three classifications, each at one threshold (band = 1: no band)
    assert classify(prob, act_tol=1e-7, band=1).verdicts()["S"] == "holds"
    assert classify(prob, act_tol=3e-7, band=1).verdicts()["S"] == "fails"
    assert classify(prob, act_tol=1e-6, band=1).verdicts()["S"] == "holds"
    assert classify(prob, act_tol=1e-5, band=1).verdicts()["S"] == "holds"
    cert = certified(prob)  # act_tol 1e-6, band 10: both ends hold, the middle split fails
    assert cert.verdicts()["S"] == "undetermined", cert.results["S"].reason
    assert any("3 threshold splits" in n for n in cert.notes)


# ---------------------------------------------------------------- (4) scaled tolerance, epsilon
def test_scaled_tolerance_and_epsilon_closed_form():
    """min over lam >= 0 of ||kappa (1, delta) - lam (1, 0)||_inf = kappa |delta| (lam = kappa); the
    scale is max(1, ||grad||_inf) = kappa, so epsilon = |delta| scaled and kappa |delta| absolute."""
    kappa, delta = 1e4, 1e-8
    prob = MPCC.create([kappa, kappa * delta], g=[0.0], Jg=[[1.0, 0.0]])
    assert problem_scale(prob) == kappa
    rel = certified(prob)
    assert rel.verdicts()["KKT"] == "holds"
    assert rel.results["KKT"].epsilon == pytest.approx(delta, rel=1e-3, abs=1e-10)
    assert rel.results["KKT"].verdict.epsilon == rel.results["KKT"].epsilon
    # absolute: residual 1e-4 > tol 1e-6, but within the solver margin 1e-6 * scale = 1e-2
    assert certified(prob, tolerances=Tolerances(scaled=False)).verdicts()["KKT"] == "undetermined"
    ab = certified(prob, tolerances=Tolerances(scaled=False, margin=1e-9), notions=("KKT",))
    assert ab.verdicts()["KKT"] == "fails"
    assert ab.results["KKT"].epsilon == pytest.approx(kappa * delta, rel=1e-3)


@given(degenerate_mpccs())
@settings(max_examples=15)
def test_epsilon_is_the_brute_force_minimum_over_the_scale(prob):
    """epsilon * scale equals the smallest residual over the notion's set found by brute-force
    enumeration (scipy linprog over the nine sign cells of every pair)."""
    cert = classify(prob, tolerances=Tolerances(band=1.0))
    s = problem_scale(prob)
    for name in ("W", "A", "C", "M", "S"):
        eps = cert.results[name].epsilon
        assert eps is not None, cert.results[name].reason
        assert eps * s == pytest.approx(brute_min_residual(prob, name), abs=1e-5)


def test_epsilon_is_exact_for_notions_whose_failure_is_implied():
    """Found by hypothesis: grad f = 1, no constraint acts on x, one biactive pair (G = H = 0 with zero
    gradients). W fails, and A/C/M/S lie inside W's set, so their failure is implied; their epsilon must
    still be the exact minimum (here 1 for every notion: the multipliers cannot touch grad f)."""
    prob = MPCC.create(
        [1.0], G=[0.0, 0.0], JG=[[0.0], [0.0]], H=[0.0, 1.0], JH=[[0.0], [0.0]]
    )
    cert = classify(prob, tolerances=Tolerances(band=1.0))
    for name in ("W", "A", "C", "M", "S"):
        assert cert.verdicts()[name] == "fails"
        assert cert.results[name].epsilon == pytest.approx(brute_min_residual(prob, name), abs=1e-6)


# ---------------------------------------------------------------- the sets check covers with
def test_pair_cells_match_the_definitions_of_the_notions():
    """kernel.pair_cells (from the branch table) against the predicates written from the definitions
    in ialam_verify.testing.oracles (independent): the same closed sign cells for every notion."""
    from ialam_verify.stationarity.kernel import pair_cells
    from ialam_verify.testing.oracles import CELLS, PREDICATES

    sign = {1: "+", -1: "-", 0: "0"}
    for notion in ("W", "A", "C", "M", "S"):
        want = {(sign[a], sign[b]) for a, b in CELLS if PREDICATES[notion](a, b)}
        assert set(pair_cells(notion)) == want, notion
