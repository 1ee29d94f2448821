"""Verdicts are the shared Verdict (a "no" cannot pass an assert), sets come out as data, and the
Jupyter representations read; each checked against an independent computation."""

import itertools
import json

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import linprog
from scipy.spatial import ConvexHull

from ialam_verify.cases import (
    AD_VERDICT_NAMES,
    VERDICT_NAMES,
    Case,
    RayWitness,
    Verdict,
    analyze,
    load_cases,
)
from ialam_verify.cli import main

CASES = load_cases()
x, y = sp.symbols("x y")


def test_a_no_verdict_cannot_pass_an_assert():
    A = analyze(sp.Abs(x), [x], [1])  # smooth there, f'(1) = 1: nothing holds
    v = A.clarke_stationary
    assert isinstance(v, Verdict) and v.outcome == "fails" and v.proved_false
    assert bool(v) is False
    with pytest.raises(AssertionError):
        assert A.clarke_stationary
    with pytest.raises(AssertionError):
        assert A.local_minimizer
    assert A.descent_witness is not None  # the proof of "no": f(1 - t) < f(1)
    B = analyze(sp.Abs(x), [x], [0])
    assert B.clarke_stationary and B.local_minimizer and B.descent_witness is None


def test_undetermined_is_falsy_but_not_a_proof():
    # switch x² − y² has zero gradient at 0: outside the exact class
    A = analyze(sp.Abs(x**2 - y**2), [x, y], [0, 0])
    v = A.clarke_stationary
    assert v.outcome == "undetermined" and not v and not v.proved_false and v.reason


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if isinstance(c, Case)))
def test_every_verdict_attribute_is_a_verdict_and_descent_witnesses_descend(name):
    A = CASES[name].analysis
    if A.ps.symbolic:
        A = A.at(A.ps.samples(3)[1])
    for attr in VERDICT_NAMES + AD_VERDICT_NAMES:
        v = getattr(A, attr)
        assert isinstance(v, Verdict), f"{name}.{attr} is {type(v).__name__}, not a Verdict"
        assert bool(v) == (v.outcome == "holds")
    assert set(A.verdicts) == set(VERDICT_NAMES + AD_VERDICT_NAMES)
    w = A.descent_witness
    assert (w is not None) == (A.local_minimizer.outcome == "fails")
    if w is not None:
        assert isinstance(w, RayWitness)
        # independent: evaluate f exactly at x + t d for a rational t inside the claimed interval
        t0 = sp.Rational(1, 100) if w.t0 in (None, sp.oo) else min(w.t0 / 2, sp.Rational(1, 100))
        t0 = sp.nsimplify(t0)
        at = {v: p + t0 * d for v, p, d in zip(A.variables, A.point, w.direction, strict=True)}
        assert sp.nsimplify(A.f.subs(at)) < A.value
        assert sp.simplify(A.f.subs(at) - A.value - w.decrease.subs(w.t, t0)) == 0


def _in_hull_lp(G: np.ndarray, q: np.ndarray) -> bool:
    m = G.shape[0]
    res = linprog(
        np.zeros(m),
        A_eq=np.vstack([G.T, np.ones(m)]),
        b_eq=np.r_[q, 1.0],
        bounds=[(0, None)] * m,
        method="highs",
    )
    return res.status == 0


@pytest.mark.parametrize(
    "name", ["classic_abs", "classic_max", "talk_chain_rule", "classic_neg_abs"]
)
def test_ad_in_clarke_against_scipy_lp(name):
    A = CASES[name].analysis
    G = np.array([[float(c) for c in v] for v in A.clarke.vertices])
    g = np.array([float(c) for c in A.ad_gradient])
    assert A.ad_in_clarke.value == _in_hull_lp(G, g)


def _cli_json(capsys, *args):
    assert main(["cases", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_sets_are_data_matching_independent_piece_gradients(capsys):
    """talk_example3: the Clarke vertices in the JSON are the gradients of the four smooth pieces,
    computed here by sympy with σ replaced by k·s for the slopes k₁, k₂ ∈ {α, 1}."""
    payload = _cli_json(capsys, "talk_example3")
    (case,) = payload["cases"]
    clarke = case["analysis"]["sets"]["clarke"]
    assert clarke["kind"] == "polytope" and clarke["ambient_dimension"] == 4
    got = {tuple(sp.sympify(c) for c in v) for v in clarke["vertices"]}
    w1, w2, b1, b2 = sp.symbols("w1 w2 b1 b2")
    al = sp.Symbol("α")
    want = set()
    for k1, k2 in itertools.product((al, 1), repeat=2):
        f = (w2 * k1 * (w1 + b1) + b2 + 1) ** 2 + (w2 * k2 * (2 * w1 + b1) + b2 - 1) ** 2
        at = {w1: 0, w2: 1, b1: 0, b2: 0}
        want.add(tuple(sp.expand(sp.diff(f, v).subs(at)) for v in (w1, w2, b1, b2)))
    assert {tuple(sp.expand(c) for c in v) for v in got} == want
    # the row of the claimed box carries the claim as data too (Box corners)
    row = next(r for r in case["rows"] if r["notion"] == "clarke")
    assert row["claimed_data"]["kind"] == "polytope" and len(row["claimed_data"]["vertices"]) == 4
    assert row["computed"] == clarke["pretty"] and row["erratum"] is True
    assert case["analysis"]["verdicts"]["clarke_stationary"]["outcome"] == "fails"
    assert case["analysis"]["verdicts"]["clarke_stationary"]["word"] == "no"


def test_json_segments_are_the_convex_hull_edges_by_scipy():
    """At α = 1/4 the Clarke set of example (3) is a parallelogram in (g_w1, g_b1): its JSON segments
    are the edges scipy's ConvexHull finds."""
    A = CASES["talk_example3"].analysis.at(sp.Rational(1, 4))
    d = A.to_json()["sets"]["clarke"]
    V = np.array([[float(sp.Rational(c)) for c in v] for v in d["vertices"]])
    hull = ConvexHull(V[:, [0, 2]])
    want = {tuple(sorted(s)) for s in hull.simplices}
    assert {tuple(sorted(s)) for s in d["segments"]} == want
    # a 3-D simplex: every pair is an edge; a square's diagonals are not
    sq = analyze(sp.Abs(x) + sp.Abs(y), [x, y], [0, 0]).to_json()["sets"]["clarke"]
    V = np.array([[float(sp.Rational(c)) for c in v] for v in sq["vertices"]])
    want = {tuple(sorted(s)) for s in ConvexHull(V).simplices}
    assert {tuple(sorted(s)) for s in sq["segments"]} == want and len(want) == 4


def test_every_to_json_is_a_dict():
    A = CASES["classic_saddle_abs"].analysis
    for obj in (A, A.clarke, A.limiting, A.frechet, A.descent_witness, CASES["classic_abs"]):
        assert isinstance(obj.to_json(), dict), type(obj).__name__
    lifted = CASES["talk_example3_lifted"].to_json()
    assert isinstance(lifted, dict) and lifted["analysis"] is None
    assert all(isinstance(r, dict) for r in lifted["rows"])
    json.dumps(A.to_json())  # JSON-ready


def test_jupyter_representations_are_short_and_say_the_answer():
    A = CASES["talk_example3_corrected"].analysis
    r = repr(A)
    assert r.startswith("Analysis(") and "object at" not in r and len(r) < 300
    md = A._repr_markdown_()
    assert r"\partial^{C} f(\bar x)" in md and "| C-stationary | **yes** |" in md
    assert "| l-stationary | **no** |" in md and "Descent witness" in md
    assert len(md.splitlines()) < 20
    tex = A._repr_latex_()
    assert tex.startswith("$\\begin{aligned}") and tex.endswith("\\end{aligned}$")
    assert tex.count("{") == tex.count("}")
    assert "\\text{C-stationary: yes}" in tex
    assert A.clarke._repr_latex_().startswith("$\\mathrm{co}")
