"""The exact LP against scipy's HiGHS, and its certificates re-checked independently."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import linprog

from ialam_verify.cases.lp import feasible, phase1

small = st.integers(-3, 3)


@st.composite
def systems(draw):
    n = draw(st.integers(1, 3))
    mi = draw(st.integers(0, 4))
    me = draw(st.integers(0, 2))
    M = [[draw(small) for _ in range(n)] for _ in range(mi)]
    b = [draw(small) for _ in range(mi)]
    E = [[draw(small) for _ in range(n)] for _ in range(me)]
    e = [draw(small) for _ in range(me)]
    return n, M, b, E, e


@given(systems())
def test_feasibility_agrees_with_highs_and_certificates_hold(sys):
    n, M, b, E, e = sys
    res = feasible(M, b, E, e, n=n)
    kw = {}
    if M:
        kw.update(A_ub=-np.array(M, float), b_ub=-np.array(b, float))
    if E:
        kw.update(A_eq=np.array(E, float), b_eq=np.array(e, float))
    ref = linprog(np.zeros(n), bounds=[(None, None)] * n, method="highs", **kw)
    assert ref.status in (0, 2)
    assert res.feasible == (ref.status == 0)
    if res.feasible:
        d = res.point
        assert all(
            sum(Fraction(a) * x for a, x in zip(r, d, strict=False)) >= bi
            for r, bi in zip(M, b, strict=False)
        )
        assert all(
            sum(Fraction(a) * x for a, x in zip(r, d, strict=False)) == ei
            for r, ei in zip(E, e, strict=False)
        )
    else:
        u, v = res.farkas_u, res.farkas_v
        assert all(x >= 0 for x in u)
        for j in range(n):
            assert (
                sum(M[i][j] * u[i] for i in range(len(M)))
                + sum(E[k][j] * v[k] for k in range(len(E)))
                == 0
            )
        assert (
            sum(bi * ui for bi, ui in zip(b, u, strict=False))
            + sum(ei * vi for ei, vi in zip(e, v, strict=False))
            == 1
        )


def test_phase1_small_known_answers():
    assert phase1([[1, 1]], [Fraction(2)]) is not None
    assert phase1([[1, 1]], [Fraction(-1)]) is None  # x >= 0 cannot sum to -1


def test_rejects_floats_and_ragged_rows():
    with pytest.raises(ValueError, match="exact"):
        feasible([[0.5]], [1])
    with pytest.raises(ValueError, match="entries"):
        feasible([[1, 2], [1]], [0, 0])
