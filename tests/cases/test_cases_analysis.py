"""The exact machinery against independent numerical computations, on random and hand-made inputs."""

import numpy as np
import pytest
import sympy as sp
from _cases_random_pl import numeric, pl_functions, sampled_gradients
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from ialam_verify.cases import Undetermined, analyze, leaky_relu, relu
from ialam_verify.cases.params import ParamSpace


def hull_distance_inf(G: np.ndarray) -> float:
    """min ||Σ λ_i g_i||_∞ over the simplex, by an LP (scipy HiGHS)."""
    m, n = G.shape
    c = np.r_[np.zeros(m), 1.0]
    A_ub = np.block([[G.T, -np.ones((n, 1))], [-G.T, -np.ones((n, 1))]])
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=np.zeros(2 * n),
        A_eq=np.r_[np.ones(m), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    assert res.status == 0
    return float(res.fun)


def numeric_gradient(call, P: np.ndarray, step: float = 1e-8) -> np.ndarray:
    n = P.shape[0]
    return np.array(
        [
            (call((P + step * e)[None])[0] - call((P - step * e)[None])[0]) / (2 * step)
            for e in np.eye(n)
        ]
    )


@settings(max_examples=15)
@given(pl_functions(), st.integers(0, 2**16))
def test_clarke_agrees_with_sampled_gradients_and_lp(fX, seed):
    f, X = fX
    n = len(X)
    A = analyze(f, X, [0] * n)
    call = numeric(f, X)
    exact = np.array([[float(c) for c in g] for g in A.gradients.values()])
    G = sampled_gradients(f, X, [0.0] * n, n_dirs=20000, seed=seed)
    assert len(G) > 1000
    # every sampled gradient is one of the exact piece gradients (soundness of the pattern list)
    dist = np.min(np.max(np.abs(G[:, None, :] - exact[None, :, :]), axis=2), axis=1)
    assert np.max(dist) < 1e-5
    # every essentially active pattern is realized: f evaluated near x along the LP's interior
    # direction d has gradient g_p there (thin cones may escape random sampling, not this check)
    for p, ok, cert in A.patterns:
        if ok:
            d = np.array([float(sp.Rational(c)) for c in cert[5:-1].split(",") if c.strip()])
            nd = np.linalg.norm(d)
            g_num = numeric_gradient(
                call, 1e-4 * d / nd if nd > 0 else np.zeros(n)
            )  # nd = 0: no kink
            assert np.max(np.abs(g_num - np.array([float(c) for c in A.gradients[p]]))) < 1e-5
            G = np.vstack([G, g_num])
    # and the LP on the hull of these numerically sampled gradients gives the exact Clarke verdict
    verdict = A.clarke_stationary
    assert verdict.value is not None
    assert verdict.value == (hull_distance_inf(G) < 1e-7)


@settings(max_examples=15)
@given(pl_functions(), st.lists(st.integers(-3, 3), min_size=3, max_size=3))
def test_directional_derivative_matches_difference_quotient(fX, d):
    f, X = fX
    d = d[: len(X)]
    A = analyze(f, X, [0] * len(X))
    call = numeric(f, X)
    t = 1e-7
    fd = (call(np.array([d], float) * t)[0] - call(np.zeros((1, len(X))))[0]) / t
    assert float(A.directional_derivative(d)) == pytest.approx(fd, abs=1e-6)


@settings(max_examples=12)
@given(pl_functions(max_dim=2))
def test_frechet_stationarity_matches_direction_grid(fX):
    """0 ∈ Fréchet set  ⟺  f'(0; d) ≥ 0 for all d (checked on 720 directions and the axes, numerically)."""
    f, X = fX
    A = analyze(f, X, [0] * len(X))
    call = numeric(f, X)
    n = len(X)
    if n == 1:
        D = np.array([[1.0], [-1.0]])
    else:
        th = np.linspace(0, 2 * np.pi, 720, endpoint=False)
        D = np.c_[np.cos(th), np.sin(th)]
    t = 1e-7
    dd = (call(D * t) - call(np.zeros((1, n)))[0]) / t
    verdict = A.frechet_stationary.value
    if verdict:
        assert dd.min() > -1e-6
    else:
        # a certified descent ray exists; the grid sees negative slopes in a neighbourhood of it
        assert dd.min() < 1e-6
        v, w = A.local_minimizer, A.descent_witness
        assert v.value is False
        dirn = np.array([float(c) for c in w.direction])
        assert (call(dirn[None, :] * 1e-6)[0] - call(np.zeros((1, n)))[0]) < 0


@settings(max_examples=12)
@given(pl_functions(max_dim=2))
def test_limiting_set_sits_between_frechet_and_clarke(fX):
    f, X = fX
    A = analyze(f, X, [0] * len(X))
    try:
        L = A.limiting
    except Undetermined:
        pytest.skip("limiting undetermined for this draw")  # only non-PA inputs; never for PL
    C = A.clarke
    from ialam_verify.cases.case import set_subset

    assert set_subset(A.frechet, L, A.ps)[0] if not A.frechet.empty else True
    assert set_subset(L, C, A.ps)[0]
    # the convex hull of the limiting set is the Clarke set: every Clarke vertex is a limiting point
    assert set_subset(C.__class__(tuple((v,) and v for v in C.vertices)), L, A.ps)[0] or all(
        any(v in P.vertices for P in L.pieces) for v in C.vertices
    )
    # verdict chain: Fréchet-stationary ⇒ limiting-stationary ⇒ Clarke-stationary
    if A.frechet_stationary.value:
        assert A.limiting_stationary.value
    if A.limiting_stationary.value:
        assert A.clarke_stationary.value


def test_hand_examples():
    x, y = sp.symbols("x y")
    A = analyze(sp.Abs(x) - sp.Abs(y), [x, y], [0, 0])
    assert A.clarke_stationary.value and not A.limiting_stationary.value
    assert A.frechet.empty
    B = analyze(relu(x) - relu(-x), [x], [0])
    assert B.ad_gradient == (0,)
    assert B.clarke.vertices == ((1,),)
    C = analyze(sp.Max(x, y) + (x - 1) ** 2, [x, y], [0, 0])  # smooth selections, not affine
    assert C.clarke.vertices and not C.clarke_stationary.value
    a = sp.Rational(1, 4)
    D = analyze(leaky_relu(x, a) ** 2 + y**2, [x, y], [0, 0])
    assert D.local_minimizer.value is True


def test_symbolic_alpha_sign_decisions():
    a = sp.Symbol("a")
    ps = ParamSpace(a, sp.Interval.open(0, sp.Rational(1, 2)))
    assert ps.sign(2 - 4 * a) == 1
    assert ps.sign(a - 1) == -1
    assert ps.sign(a * (a - 1) + a - a**2) == 0
    with pytest.raises(Undetermined, match="changes"):
        ps.sign(a - sp.Rational(1, 4))


def test_bad_input_is_rejected_before_work():
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="point"):
        analyze(relu(x), [x], [0, 1])
    with pytest.raises(ValueError, match="exact"):
        analyze(relu(x), [x], [0.5])
    with pytest.raises(ValueError, match="variables"):
        analyze(relu(x), ["x"], [0])
    with pytest.raises(ValueError, match="Piecewise"):
        analyze(sp.Piecewise((x, x > 0), (0, True)), [x], [0])
    with pytest.raises(ValueError, match="neither variables nor params"):
        analyze(relu(x) + sp.Symbol("z"), [x], [0])


@st.composite
def leaky_networks(draw):
    """Σ_n (w2 σ_α(w1 x_n + b1) + b2 - y_n)^2 at (0, 1, 0, 0) with random small data, α symbolic."""
    n = draw(st.integers(1, 3))
    xs = [draw(st.integers(-2, 2)) for _ in range(n)]
    ys = [draw(st.integers(-3, 3)) for _ in range(n)]
    return xs, ys


@settings(max_examples=4)
@given(leaky_networks())
def test_symbolic_alpha_verdicts_match_exact_rational_samples(data):
    """Decided for symbolic α on (0, 1/2), then recomputed independently at rational α samples."""
    xs, ys = data
    w1, w2, b1, b2, al = sp.symbols("w1 w2 b1 b2 α")
    f = sum((w2 * leaky_relu(w1 * x + b1, al) + b2 - y) ** 2 for x, y in zip(xs, ys, strict=True))
    S = analyze(f, [w1, w2, b1, b2], [0, 1, 0, 0], {al: sp.Interval.open(0, sp.Rational(1, 2))})
    for a in (sp.Rational(1, 7), sp.Rational(12, 25)):
        R = analyze(f.subs(al, a), [w1, w2, b1, b2], [0, 1, 0, 0])
        for notion in ("clarke_stationary", "frechet_stationary", "limiting_stationary"):
            sym = getattr(S, notion).value
            if sym is not None:
                assert sym == getattr(R, notion).value
        if S.local_minimizer.value is not None:
            assert S.local_minimizer.value == R.local_minimizer.value
        # the symbolic Clarke set specializes to the rational one
        sv = {tuple(sp.nsimplify(c.subs(al, a)) for c in v) for v in S.clarke.vertices}
        assert set(R.clarke.vertices) <= sv


@settings(max_examples=12)
@given(pl_functions(max_dim=2), st.integers(0, 2**16))
def test_every_stratum_set_is_the_frechet_set_at_points_of_the_stratum(fX, seed):
    """PL f: at y = x + δ d_F on stratum F, every point of P_F satisfies g·u ≤ f'(y; u) (numerically),
    and a point pushed beyond P_F does not. So each piece of the limiting set is a Fréchet set nearby."""
    f, X = fX
    n = len(X)
    A = analyze(f, X, [0] * n)
    call = numeric(f, X)
    rng = np.random.default_rng(seed)
    U = rng.normal(size=(800, n))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    if n == 1:
        U = np.array([[1.0], [-1.0]])
    for F, P, exact in A.limiting_pieces:
        assert exact
        cert = A.face_directions[F]
        d = np.array([float(sp.Rational(c)) for c in cert[5:-1].split(",") if c.strip()])
        y = 1e-4 * d / np.linalg.norm(d) if np.linalg.norm(d) > 0 else np.zeros(n)
        h = 1e-8
        slopes = (call(y[None] + h * U) - call(y[None])[0]) / h
        if P.empty:
            continue
        V = np.array([[float(c) for c in v] for v in P.vertices])
        c = V.mean(axis=0)
        for g in list(V) + [c]:
            assert np.all(U @ g <= slopes + 1e-5)
        if len(V) > 1:
            far = V[0] + 0.5 * (V[0] - c)  # beyond a vertex, outside the polytope
            assert not np.all(U @ far <= slopes + 1e-5)


def test_outside_the_exact_class_the_answer_is_undetermined():
    x, y = sp.symbols("x y")
    # switch x² − y² has zero gradient at 0: first-order activity proves nothing
    A = analyze(relu(x**2 - y**2), [x, y], [0, 0])
    assert not A.pa_kinks
    with pytest.raises(Undetermined):
        _ = A.clarke
    assert A.clarke_stationary.value is None and A.limiting_stationary.value is None
    # the exact parts stay exact: directional derivatives and AD
    assert A.directional_derivative([1, 0]) == 0 and A.ad_gradient == (0, 0)
    # non-affine switch with a nonzero gradient: both patterns are proven active, Clarke is exact
    B = analyze(relu(x**2 - y), [x, y], [0, 0])
    assert {tuple(v) for v in B.clarke.vertices} == {(0, -1), (0, 0)}
    assert B.frechet_stationary.value is None  # Fréchet needs PA kinks


def test_smooth_function_has_its_gradient_everywhere():
    x, y = sp.symbols("x y")
    A = analyze((x - 1) ** 2 + x * y, [x, y], [1, 2])
    assert A.clarke.vertices == ((2, 1),)
    assert A.limiting.pieces[0].vertices == ((2, 1),)
    assert A.frechet.vertices == ((2, 1),)
    assert A.ad_gradient == (2, 1)
    assert A.local_minimizer.value is False
