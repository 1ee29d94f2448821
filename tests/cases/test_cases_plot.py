"""``ialam-verify cases NAME --plot FILE.png``: what it draws, checked against independent
computations, and its refusals."""

import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull

from ialam_verify.cases import leaky_relu, load_cases, relu
from ialam_verify.cases.functions import Max2, Min2
from ialam_verify.cases.plot import _choose_axes, _hull2d, _numeric, _slice_directions
from ialam_verify.cli import main

pytest.importorskip("matplotlib")
CASES = load_cases()
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(-6, 6), st.integers(-6, 6)), min_size=3, max_size=12))
def test_hull2d_agrees_with_scipy(points):
    pts = np.array(points, dtype=float)
    hull = _hull2d([tuple(p) for p in pts])
    if np.linalg.matrix_rank(pts - pts[0]) < 2:  # collinear (or one point): the extreme pair
        assert len(hull) <= 2
        return
    want = {tuple(pts[i]) for i in ConvexHull(pts).vertices}
    assert set(hull) == want
    # counter-clockwise: positive signed area
    xs, ys = np.array(hull).T
    assert 0.5 * np.sum(xs * np.roll(ys, -1) - np.roll(xs, -1) * ys) > 0


def test_numeric_function_of_the_slices_matches_exact_values():
    x, y = sp.symbols("x y")
    f = (
        (leaky_relu(x - y, sp.Rational(1, 4)) + relu(y) - sp.Abs(x)) ** 2
        + Max2(x, y)
        - Min2(x, 2 * y)
    )
    call = _numeric(f, [x, y])
    rng = np.random.default_rng(0)
    for _ in range(30):
        a, b = (sp.Rational(int(v), 7) for v in rng.integers(-20, 20, size=2))
        assert call(float(a), float(b)) == pytest.approx(float(f.subs({x: a, y: b})), abs=1e-12)


def test_the_sets_are_drawn_in_the_coordinates_where_they_vary():
    A = CASES["talk_example3"].analysis.at(sp.Rational(1, 4))
    pts = [tuple(float(c) for c in v) for v in A.clarke.vertices]
    assert _choose_axes(pts, 4) == ([0, 2], False)  # (g_w1, g_b1); g_w2 = g_b2 = 0 everywhere
    assert _choose_axes([(0, 0, 0), (1, 2, 3), (3, 1, 0)], 3) == ([0, 2], True)  # spreads 3, 2, 3
    labels = [label for label, _ in _slice_directions(A)]
    assert labels[0].startswith("descent ray") and "d = e(w1)" in labels and "d = e(b1)" in labels


@pytest.mark.parametrize(
    "name, extra", [("talk_chain_rule", []), ("talk_example3", ["--at", "1/3"])]
)
def test_plot_writes_a_png_and_the_table(name, extra, tmp_path, capsys):
    out = tmp_path / f"{name}.png"
    assert main(["cases", name, "--plot", str(out), *extra]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "CLAIMED" in text  # the claim-beside-truth table still prints
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 20_000
    assert not list(tmp_path.glob("*.tmp.png"))  # written atomically


def test_plot_refusals(tmp_path, capsys, monkeypatch):
    png = str(tmp_path / "a.png")
    assert main(["cases", "--plot", png]) == 2
    assert "--plot needs a case NAME" in capsys.readouterr().err
    assert main(["cases", "classic_abs", "--plot", str(tmp_path / "a.pdf")]) == 2
    assert "must end in .png" in capsys.readouterr().err
    assert main(["cases", "classic_abs", "--plot", str(tmp_path / "no" / "a.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["cases", "classic_abs", "--at", "1/4"]) == 2
    assert "--at is only used with --plot" in capsys.readouterr().err
    assert main(["cases", "talk_example3", "--plot", png, "--at", "3/4"]) == 2
    assert "0 < α < 1/2" in capsys.readouterr().err
    assert main(["cases", "talk_example3_lifted", "--plot", png]) == 2
    assert "custom case" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    assert main(["cases", "classic_abs", "--plot", png]) == 2
    assert "needs matplotlib" in capsys.readouterr().err
    assert not (tmp_path / "a.png").exists()
