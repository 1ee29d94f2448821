"""Each case's verdicts, against independent derivations (explicit formulas, finite differences, LPs)."""

import numpy as np
import pytest
import sympy as sp
from _cases_random_pl import numeric
from scipy.optimize import linprog

from ialam_verify.cases import analyze, leaky_relu, load_cases
from ialam_verify.cases.lifted import certificates_crosscheck, kkt_feasible_at, lifted_analysis

CASES = load_cases()
ERRATA = {
    ("talk_example3", "clarke"),
    ("talk_example3", "limiting"),
    ("talk_example3", "clarke_stationary"),
}


@pytest.fixture(scope="module")
def rows():
    return {name: case.check() for name, case in CASES.items()}


def in_hull(G: np.ndarray, q: np.ndarray) -> bool:
    """q ∈ conv(rows of G), by scipy's LP (independent of the exact LP)."""
    m = G.shape[0]
    A_eq = np.vstack([G.T, np.ones(m)])
    res = linprog(
        np.zeros(m), A_eq=A_eq, b_eq=np.r_[q, 1.0], bounds=[(0, None)] * m, method="highs"
    )
    return res.status == 0


def num_grad(call, P, h=1e-8):
    return np.array(
        [
            (call((P + h * e)[None])[0] - call((P - h * e)[None])[0]) / (2 * h)
            for e in np.eye(len(P))
        ]
    )


def test_there_are_at_least_five_classic_cases_with_sources():
    classic = [c for n, c in CASES.items() if n.startswith("classic_")]
    assert len(classic) >= 5
    assert all(len(c.source) > 20 for c in classic)


def test_errata_are_exactly_the_three_wrong_claims_of_example_3(rows):
    found = {(r.case, r.notion) for rs in rows.values() for r in rs if r.erratum}
    assert found == ERRATA
    undecided = [
        (r.case, r.notion)
        for rs in rows.values()
        for r in rs
        if r.claimed != "—" and r.agrees is None
    ]
    assert undecided == []


def test_chain_rule_example_against_explicit_pieces():
    case = CASES["talk_chain_rule"]
    (z,) = case.variables
    call = numeric(case.f, [z])
    for t in (0.3, 1.7):  # z > 0: f = ½(z+1)² + ½ ;  z < 0: f = ½(z+1)² + ½(1+2z)²
        assert call(np.array([[t]]))[0] == pytest.approx(0.5 * (t + 1) ** 2 + 0.5)
        assert call(np.array([[-t]]))[0] == pytest.approx(
            0.5 * (1 - t) ** 2 + 0.5 * (1 - 2 * t) ** 2
        )
    A = case.analysis
    assert sorted(v[0] for v in A.clarke.vertices) == [1, 3]  # f'(0⁺) = 1, f'(0⁻) = 3
    assert A.directional_derivative([1]) == 1 and A.directional_derivative([-1]) == -3
    assert A.frechet.empty and A.ad_gradient == (0,)
    assert not A.clarke_stationary.value and A.local_minimizer.value is False


def test_chain_rule_typo_in_g_is_harmless():
    """g as printed uses x₂h(zy₂) where the chain rule gives y₂h(zy₂); h(z·0) = h(0) = 0 for all z."""

    def h(s):
        return 1.0 if max(s, 0.0) > 0 else 0.0

    x1, x2, y1, y2 = -1.0, 1.0, -2.0, 0.0

    def g(z, typo):
        a = -max(z * x1, 0) + max(z * x2, 0) + 1
        b = -max(z * y1, 0) + max(z * y2, 0) + 1
        second = (x2 if typo else y2) * h(z * y2)
        return a * (-x1 * h(z * x1) + x2 * h(z * x2)) + b * (-y1 * h(z * y1) + second)

    for z in np.linspace(-2, 2, 41):
        assert g(z, True) == g(z, False)
    assert g(0.0, False) == 0.0  # the value SGD uses at 0, outside the Clarke set [1, 3]


def test_example3_pieces_clarke_and_decrease_at_alpha_quarter():
    case = CASES["talk_example3"]
    A = case.analysis.at(sp.Rational(1, 4))
    a = 0.25
    call = numeric(A.f, A.variables)
    # four regions of (w1 + b1, 2w1 + b1) signs; gradient there by central differences
    pts = {
        (1, 1): (1e-5, 0),
        (1, -1): (-1e-5, 1.5e-5),
        (-1, 1): (1e-5, -1.5e-5),
        (-1, -1): (-1e-5, 0),
    }
    G = []
    for p, (dw, db) in pts.items():
        P = np.array([dw, 1.0, db, 0.0])
        assert np.sign(P[0] + P[2]) == p[0] and np.sign(2 * P[0] + P[2]) == p[1]
        g = num_grad(call, P, h=1e-9)
        assert np.allclose(g, [float(c) for c in A.gradients[p]], atol=1e-3)
        G.append(g)
    G = np.array(G)
    assert not in_hull(G, np.zeros(4))  # 0 ∉ Clarke: not C-stationary
    corner = np.array([2 - 4 * a, 0, -2 + 2 * a, 0])  # a corner of the talk's box
    assert not in_hull(G, corner)
    assert not A.clarke_stationary.value
    eps = sp.Symbol("eps", positive=True)
    w1, w2, b1, b2 = A.variables
    explicit = sp.expand(
        ((w2 * eps + b2 + 1) ** 2 + (w2 * 2 * eps + b2 - 1) ** 2).subs({w2: 1, b2: 0})
    )
    assert explicit == 5 * eps**2 - 2 * eps + 2


def test_example3_is_not_c_stationary_for_any_alpha_in_0_1():
    case = CASES["talk_example3"]
    al = sp.Symbol("α")
    S = analyze(case.f, case.variables, case.point, {al: sp.Interval.open(0, 1)})
    assert S.clarke_stationary.value is False  # symbolic certificate valid on all of (0, 1)
    for al in (sp.Rational(1, 100), sp.Rational(1, 2), sp.Rational(3, 4), sp.Rational(99, 100)):
        B = analyze(case.f, case.variables, case.point, {sp.Symbol("α"): al})
        assert B.clarke_stationary.value is False


def test_example3_limiting_set_contains_a_segment_midpoint():
    """At y on the stratum w1 + b1 = 0 (2w1 + b1 > 0), the segment midpoint is a Fréchet subgradient."""
    case = CASES["talk_example3"]
    A = case.analysis.at(sp.Rational(1, 4))
    call = numeric(A.f, A.variables)
    a = 0.25
    g_mid = 0.5 * (np.array([-2, 0, 0, 0]) + np.array([2 * a - 4, 0, 2 * a - 2, 0]))
    rng = np.random.default_rng(0)
    D = rng.normal(size=(2000, 4))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    for delta in (1e-2, 1e-3, 1e-4):
        y = np.array([delta, 1.0, -delta, 0.0])  # w1 + b1 = 0, 2w1 + b1 = delta > 0
        g_plus = num_grad(call, y + np.array([0, 0, 1e-7, 0]), h=1e-9)  # side w1 + b1 > 0
        g_minus = num_grad(call, y - np.array([0, 0, 1e-7, 0]), h=1e-9)  # side w1 + b1 < 0
        m_y = 0.5 * (g_plus + g_minus)
        h = 1e-7
        slopes = (call(y[None] + h * D) - call(y[None])) / h
        assert np.all(D @ m_y <= slopes + 1e-5)  # m_y is a Fréchet subgradient at y
        assert not np.all(
            D @ (m_y + 0.8 * (g_plus - g_minus)) <= slopes + 1e-5
        )  # beyond the segment: not
        assert np.max(np.abs(m_y - g_mid)) < 20 * delta  # and m_y -> g_mid as y -> x
    talk_points = [
        (-2 * a, 0, 0, 0),
        (2 * a - 4, 0, 2 * a - 2, 0),
        (2 - 4 * a, 0, 2 - 2 * a, 0),
        (-2, 0, 0, 0),
    ]
    assert all(np.max(np.abs(g_mid - np.array(p))) > 0.1 for p in talk_points)
    assert any(len(P.vertices) == 2 for P in A.limiting.pieces)


def test_corrected_example_has_the_wanted_properties():
    case = CASES["talk_example3_corrected"]
    A = case.analysis.at(sp.Rational(1, 4))
    call = numeric(A.f, A.variables)
    rng = np.random.default_rng(1)
    G = []
    for _ in range(3000):
        d = rng.normal(size=4)
        P = np.array([0, 1, 0, 0.0]) + 1e-3 * d / np.linalg.norm(d)
        G.append(num_grad(call, P, h=1e-9))
    G = np.round(np.array(G), 4)
    assert in_hull(np.unique(G, axis=0), np.zeros(4))  # C-stationary, independently
    assert A.clarke_stationary.value and A.limiting_stationary.value is False
    v, w = A.local_minimizer, A.descent_witness
    assert v.value is False
    d = np.array([float(c) for c in w.direction])
    for t in (1e-2, 1e-3):
        assert (
            call((np.array([0, 1, 0, 0.0]) + t * d)[None])[0] < call(np.array([[0, 1, 0, 0.0]]))[0]
        )
    assert case.corrects == "talk_example3"


def test_lifted_reading_beta_threshold_against_exact_lp():
    al, bt = sp.Symbol("α"), sp.Symbol("β", nonnegative=True)
    res = lifted_analysis(
        [1, 2], [-1, 1], [0, 1, 0, 0], al, sp.Interval.open(0, sp.Rational(1, 2)), bt
    )
    assert res.verdicts == {"W": "holds", "A": "holds", "C": "fails", "M": "fails", "S": "fails"}
    ((_, lo, hi),) = res.kkt_beta
    assert sp.simplify(lo - 2 / (1 - al)) == 0 and hi == sp.oo
    for a in (sp.Rational(1, 4), sp.Rational(1, 3), sp.Rational(2, 5)):
        thr = 2 / (1 - a)
        assert kkt_feasible_at([1, 2], [-1, 1], [0, 1, 0, 0], a, thr)
        assert kkt_feasible_at([1, 2], [-1, 1], [0, 1, 0, 0], a, thr + 5)
        assert not kkt_feasible_at([1, 2], [-1, 1], [0, 1, 0, 0], a, thr - sp.Rational(1, 100))
    # the W-multipliers satisfy the stationarity equations of (P) (residuals r = (1, -1), xi = 0)
    m = res.w_multipliers
    for n, r in enumerate((1, -1)):
        mu1, mu2 = m[sp.Symbol(f"mu1_{n}")], m[sp.Symbol(f"mu2_{n}")]
        assert sp.simplify(2 * r - mu1 - mu2) == 0 and sp.simplify(mu1 + al * mu2) == 0


def test_lifted_case_rows_and_explanation():
    case = CASES["talk_example3_lifted"]
    names = [r.notion for r in case.check()]
    assert "(P) MPCC C-stat." in names and "(PP) KKT point" in names
    assert "β" in case.explain()


def test_leaky_relu_network_value_matches_model_forward():
    """The symbolic network of example (3) agrees with ialam_verify.model's leaky_relu."""
    from ialam_verify.model.network import leaky_relu as np_leaky

    w1, w2, b1, b2 = sp.symbols("w1 w2 b1 b2")
    a = sp.Rational(1, 4)
    f = (w2 * leaky_relu(w1 + b1, a) + b2 + 1) ** 2
    rng = np.random.default_rng(2)
    for _ in range(20):
        v = rng.normal(size=4)
        exact = float(f.subs(dict(zip((w1, w2, b1, b2), map(sp.Float, v), strict=True))))
        ref = (v[1] * np_leaky(np.array(v[0] + v[2]), 0.25) + v[3] + 1) ** 2
        assert exact == pytest.approx(float(ref))


def test_lifted_reading_agrees_with_the_certificates_package():
    """ialam_verify.stationarity.classify (floating point) against the exact lifted verdicts."""
    xs, ys, pt = [1, 2], [-1, 1], [0, 1, 0, 0]
    exact = lifted_analysis(
        xs, ys, pt, sp.Symbol("α"), sp.Interval.open(0, sp.Rational(1, 2)), sp.Symbol("β")
    )
    for beta, kkt in (("3", True), ("5/2", False), ("10", True), ("1", False)):
        got = certificates_crosscheck(xs, ys, pt, "1/4", beta)
        for notion in ("W", "A", "C", "M", "S"):
            assert got["P"][notion] == exact.verdicts[notion].outcome.value
        assert got["PP"]["KKT"] == ("holds" if kkt else "fails")
        assert kkt == kkt_feasible_at(xs, ys, pt, "1/4", sp.Rational(beta))
