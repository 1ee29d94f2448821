"""Known-answer tests of classify: textbook MPCC examples and points built to have an exact class."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from ialam_verify.stationarity import MPCC, Certificate, check, classify, stationarity_residual
from ialam_verify.stationarity.classify import Activity, multiplier_violation

x, y = sp.symbols("x y")


def verdicts(prob: MPCC, **kw) -> dict[str, str]:
    cert = classify(prob, **kw)
    rep = check(cert, prob)
    assert rep["accepted"], rep
    return cert.verdicts()


# Textbook: min f(x, y) s.t. 0 <= x _|_ y >= 0 at the origin (biactive). grad f = (nu, w) is the unique
# multiplier (the Jacobians of G, H are e1, e2), so the class is read off its signs by hand:
#   f = x + y:  (1, 1)  strongly stationary, a global minimizer  -> all hold, B holds
#   f = -x - y: (-1,-1) C only (nu w >= 0); descent along either axis -> B fails
#   f = x - y:  (1, -1) A only; y-axis is a descent direction
#   f = -y:     (0, -1) M (nu = 0), hence A and C; not S; descent along y
@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (x + y, dict(W="holds", A="holds", C="holds", M="holds", S="holds", B="holds")),
        (-x - y, dict(W="holds", A="fails", C="holds", M="fails", S="fails", B="fails")),
        (x - y, dict(W="holds", A="holds", C="fails", M="fails", S="fails", B="fails")),
        (-y, dict(W="holds", A="holds", C="holds", M="holds", S="fails", B="fails")),
        (
            (x - 1) ** 2 + (y - 1) ** 2,
            dict(W="holds", A="fails", C="holds", M="fails", S="fails", B="fails"),
        ),
    ],
)
def test_textbook_two_variable_mpcc(f, expected):
    prob = MPCC.from_sympy(f, [x, y], [0, 0], G=[x], H=[y])
    assert verdicts(prob) == expected


def test_scheel_scholtes_m_stationary_minimizer():
    """min x1 + x2 - x3 s.t. 4 x1 - x3 >= 0, 4 x2 - x3 >= 0, 0 <= x1 _|_ x2 >= 0 (the example used by
    Scheel & Scholtes (2000), Math. Oper. Res. 25(1), to show a local minimizer that is M- but not
    S-stationary; MPEC-LICQ fails). By hand: lam1 + lam2 = 1, nu = 1 - 4 lam1, w = 4 lam1 - 3, so
    S needs lam1 <= 1/4 and >= 3/4 (impossible), M holds at lam1 = 1/4 (nu = 0), C on [1/4, 3/4].
    The origin is a local minimizer, so B (linearized) holds although S fails."""
    x1, x2, x3 = sp.symbols("x1 x2 x3")
    prob = MPCC.from_sympy(
        x1 + x2 - x3, [x1, x2, x3], [0, 0, 0], g=[4 * x1 - x3, 4 * x2 - x3], G=[x1], H=[x2]
    )
    cert = classify(prob)
    assert cert.verdicts() == dict(W="holds", A="holds", C="holds", M="holds", S="fails", B="holds")
    assert cert.strongest == ["M"]
    assert check(cert, prob)["accepted"]
    lam = cert.results["M"].witness["lam"]
    nu, w = cert.results["M"].witness["nu"][0], cert.results["M"].witness["w"][0]
    # every M multiplier satisfies the hand-derived relations
    assert np.isclose(lam.sum(), 1.0, atol=1e-6)
    assert np.isclose(nu, 1 - 4 * lam[0], atol=1e-6) and np.isclose(w, 4 * lam[0] - 3, atol=1e-6)
    assert min(abs(nu), abs(w)) <= 1e-6 or (nu >= -1e-9 and w >= -1e-9)
    # the central multiplier (lam1 = lam2 = 1/2, what an interior-point method returns) is
    # nu = w = -1: it alone would only show C; the decision over the whole set finds M
    central = {
        "lam": np.array([0.5, 0.5]),
        "mu": np.zeros(0),
        "nu": np.array([-1.0]),
        "w": np.array([-1.0]),
        "z": [],
        "s": np.zeros(0),
    }
    assert np.max(np.abs(stationarity_residual(prob, central))) == 0.0
    act = Activity.at(prob, 1e-6)
    assert max(multiplier_violation(prob, act, central, "M", "limiting").values()) == 1.0
    assert max(multiplier_violation(prob, act, central, "C", "limiting").values()) == 0.0


@given(st.floats(min_value=0.05, max_value=0.95))
def test_talk_example_3_lifted(alpha):
    r"""The talk's example (3) as an MPCC in lifted form at (w1, w2, b1, b2) = (0, 1, 0, 0).

    Variables (w1, w2, b1, b2, u1, u2, v1, v2); u_n = w1 x_n + b1 with x = (1, 2); pairs
    v_n - u_n >= 0 _|_ v_n - alpha u_n >= 0; f = (w2 v1 + b2 + 1)^2 + (w2 v2 + b2 - 1)^2. Both pairs are
    biactive. By hand the multipliers are unique: mu_h = 0, nu_n = -alpha w_n,
    w_1 = 2/(1 - alpha), w_2 = -2/(1 - alpha). Pair 1 has nu < 0 < w, pair 2 has w < 0 < nu: A holds,
    C, M, S fail, for every alpha in (0, 1) -- although the talk calls the point C-stationary in
    the Clarke sense of the unlifted problem (3). B fails: w1 = eps decreases f (5 eps^2 - 2 eps + 2).
    """
    a = sp.nsimplify(alpha)
    w1, w2, b1, b2, u1, u2, v1, v2 = sp.symbols("w1 w2 b1 b2 u1 u2 v1 v2")
    f = (w2 * v1 + b2 + 1) ** 2 + (w2 * v2 + b2 - 1) ** 2
    prob = MPCC.from_sympy(
        f,
        [w1, w2, b1, b2, u1, u2, v1, v2],
        [0, 1, 0, 0, 0, 0, 0, 0],
        h=[u1 - w1 - b1, u2 - 2 * w1 - b1],
        G=[v1 - u1, v2 - u2],
        H=[v1 - a * u1, v2 - a * u2],
    )
    cert = classify(prob)
    assert cert.verdicts() == dict(W="holds", A="holds", C="fails", M="fails", S="fails", B="fails")
    assert check(cert, prob)["accepted"]
    wit = cert.results["A"].witness
    c = 2 / (1 - alpha)
    np.testing.assert_allclose(wit["w"], [c, -c], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(wit["nu"], [-alpha * c, alpha * c], rtol=1e-5, atol=1e-6)
    d = cert.results["B"].descent_direction
    assert d is not None and prob.grad_f @ d < 0


PAIR_VALUES = [
    (1.0, 1.0),
    (1.0, -1.0),
    (-1.0, 1.0),
    (-1.0, -1.0),
    (0.0, -1.0),
    (-1.0, 0.0),
    (0.0, 0.0),
    (2.0, 0.0),
]


def expected_by_signs(pairs):
    """Class of a point whose multiplier is unique, from the sign rules of each notion."""
    rules = {
        "W": lambda a, b: True,
        "A": lambda a, b: a >= 0 or b >= 0,
        "C": lambda a, b: a * b >= 0,
        "M": lambda a, b: (a >= 0 and b >= 0) or a == 0 or b == 0,
        "S": lambda a, b: a >= 0 and b >= 0,
    }
    out = {k: "holds" if all(r(a, b) for a, b in pairs) else "fails" for k, r in rules.items()}
    out["B"] = out["S"]  # under MPEC-LICQ, B (linearized) = S
    return out


@given(
    st.lists(st.sampled_from(PAIR_VALUES), min_size=1, max_size=3),
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_constructed_points_have_exactly_the_intended_class(pairs, n_h, seed):
    """Choose the multipliers, set grad f := the Lagrangian combination with Jacobians of full row
    rank (MPEC-LICQ, so the multiplier is unique): exactly the notions allowed by the chosen signs
    hold."""
    rng = np.random.default_rng(seed)
    k = len(pairs)
    n = 2 * k + n_h + 1 + int(rng.integers(0, 2))
    J = rng.standard_normal((2 * k + n_h + 1, n))
    JG, JH, Jh, Jg = J[:k], J[k : 2 * k], J[2 * k : 2 * k + n_h], J[2 * k + n_h :]
    nu = np.array([p[0] for p in pairs])
    w = np.array([p[1] for p in pairs])
    mu = rng.standard_normal(n_h)
    lam = np.array([abs(rng.standard_normal()) + 0.5])
    grad = JG.T @ nu + JH.T @ w + Jh.T @ mu + Jg.T @ lam
    prob = MPCC.create(
        grad,
        g=[0.0],
        Jg=Jg,
        h=np.zeros(n_h),
        Jh=Jh.reshape(n_h, n),
        G=np.zeros(k),
        JG=JG,
        H=np.zeros(k),
        JH=JH,
    )
    assert verdicts(prob) == expected_by_signs(pairs)


def test_nonbiactive_pairs_fix_one_multiplier():
    """G-active only (H > 0): w must vanish, nu is free; so f = -x at x = 0, y = 1 is S-stationary."""
    prob = MPCC.from_sympy(-x + (y - 1) ** 2, [x, y], [0, 1], G=[x], H=[y])
    assert verdicts(prob) == dict(W="holds", A="holds", C="holds", M="holds", S="holds", B="holds")
    # and the sign of nu does not matter there, but the value of w does: f = -y at (0, 1) is not
    prob2 = MPCC.from_sympy(-y, [x, y], [0, 1], G=[x], H=[y])
    assert verdicts(prob2)["W"] == "fails"


def test_kink_terms_clarke_versus_limiting():
    """f = gamma x - beta sigma(x), sigma leaky ReLU (slopes alpha, 1), at x = 0: 0 in gamma - beta s.
    Clarke: s in [alpha, 1]; limiting (concave term): s in {alpha, 1}."""
    alpha, beta = 0.25, 2.0

    def prob(gamma):
        return MPCC.create(
            [gamma], kink_t=[0.0], T=[[1.0]], kink_coef=[-beta], slope_neg=alpha, slope_pos=1.0
        )

    mid = prob(beta * (1 + alpha) / 2)
    assert verdicts(mid) == dict(KKT="fails", Clarke="holds", B="fails")
    end = prob(beta)
    assert verdicts(end) == dict(KKT="holds", Clarke="holds", B="fails")
    out = prob(3 * beta)
    assert verdicts(out) == dict(KKT="fails", Clarke="fails", B="fails")
    # the convex term +beta sigma: limiting = Clarke = the interval, and 0 is a minimizer for gamma in it
    convex = MPCC.create(
        [-beta * (1 + alpha) / 2],
        kink_t=[0.0],
        T=[[1.0]],
        kink_coef=[beta],
        slope_neg=alpha,
        slope_pos=1.0,
    )
    assert verdicts(convex) == dict(KKT="holds", Clarke="holds", B="holds")


@given(
    st.lists(st.floats(min_value=-3, max_value=3), min_size=1, max_size=4),
    st.floats(min_value=0.1, max_value=3),
)
def test_group_lasso_at_zero_closed_form(c, lam):
    """f = c.x + lam ||x|| at x = 0 is stationary iff ||c||_2 <= lam (the subdifferential is a ball)."""
    c = np.array(c)
    n = c.size
    prob = MPCC.create(c, groups=[(np.arange(n), np.zeros(n), lam)])
    nc = np.linalg.norm(c)
    v = verdicts(prob)
    if nc <= lam * (1 - 1e-4):
        assert v["KKT"] == "holds" and v["B"] == "holds"
    elif nc >= lam * (1 + 1e-4) + 1e-5:
        assert v["KKT"] == "fails" and v["B"] == "fails"


def test_activity_band_makes_verdict_undetermined():
    """G = 3e-6 lies in the band [1e-7, 1e-5] around act_tol = 1e-6: counted active the pair is biactive
    and f = -x - y is C but not S; counted inactive only w is free and f = -y + ... fails W. The
    verdicts change within the band, so they are undetermined."""
    prob = MPCC.create([-1.0, -1.0], G=[3e-6], JG=[[1.0, 0.0]], H=[0.0], JH=[[0.0, 1.0]])
    cert = classify(prob, act_tol=1e-6)
    assert cert.results["W"].verdict == "undetermined"
    assert "band" in cert.results["W"].reason
    cert2 = classify(prob, act_tol=1e-3)  # far from the band: G counts as 0
    assert cert2.results["W"].verdict == "holds" and cert2.results["C"].verdict == "holds"


def test_check_rejects_a_tampered_certificate(tmp_path):
    prob = MPCC.from_sympy(x + y, [x, y], [0, 0], G=[x], H=[y])
    cert = classify(prob)
    path = tmp_path / "cert.json"
    cert.save(str(path))
    back = Certificate.load(str(path))
    assert back.verdicts() == cert.verdicts()
    assert check(back, prob)["accepted"]
    data = json.loads(path.read_text())
    data["results"]["S"]["witness"]["nu"] = [-1.0]
    bad = Certificate.from_dict(data)
    rep = check(bad, prob)
    assert not rep["accepted"] and rep["per_notion"]["S"]["pair_rule"] >= 1.0
    # a certificate checked against another problem fails too
    other = MPCC.from_sympy(x + 2 * y, [x, y], [0, 0], G=[x], H=[y])
    assert not check(cert, other)["accepted"]


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="G and H"):
        MPCC.create([1.0], G=[0.0], JG=[[1.0]])
    with pytest.raises(ValueError, match="Jg must have shape"):
        MPCC.create([1.0, 2.0], g=[0.0], Jg=[[1.0]])
    with pytest.raises(ValueError, match="grad_f must be finite"):
        MPCC.create([np.nan])
    prob = MPCC.create([1.0])
    with pytest.raises(ValueError, match="tol"):
        classify(prob, tol=-1)
    with pytest.raises(ValueError, match="nonsmooth"):
        classify(prob, nonsmooth="frechet")
    with pytest.raises(ValueError, match="point must have"):
        MPCC.from_sympy(x, [x, y], [0])


@given(
    st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    st.lists(st.floats(-2, 2), min_size=3, max_size=3),
    st.sampled_from([-1.5, 0.5]),
)
def test_directional_derivative_matches_one_sided_differences(c, t, d, coef):
    """f(x) = c.x + 0.7 ||(x0, x1)|| + coef * sigma(t.x) at x = 0 (group at zero, kink at zero):
    f'(0; d) from the first-order data equals (f(eps d) - f(0)) / eps (f is positively homogeneous)."""
    from ialam_verify.stationarity.classify import Activity, directional_derivative

    c, t, d = np.array(c), np.array(t), np.array(d)
    alpha = 0.3
    prob = MPCC.create(
        c,
        groups=[([0, 1], [0.0, 0.0], 0.7)],
        kink_t=[0.0],
        T=[t],
        kink_coef=[coef],
        slope_neg=alpha,
        slope_pos=1.0,
    )

    def f(x):
        s = t @ x
        return c @ x + 0.7 * np.linalg.norm(x[:2]) + coef * (s if s >= 0 else alpha * s)

    eps = 1e-3
    fd = (f(eps * d) - f(0 * d)) / eps
    act = Activity.at(prob, 1e-9)
    assert directional_derivative(prob, act, d) == pytest.approx(fd, abs=1e-9)
