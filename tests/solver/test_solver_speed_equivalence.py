"""Whole alternating-minimization runs of the optimized code against the verbatim slow reference.

``tests/solver/_speed_reference.py`` keeps the (w, b) and (v, u) steps as they were before the speed
work. The per-step tests (``test_solver_vu_step.py``, ``test_solver_wb_step.py``) promise agreement to
1e-12; these runs check the stronger fact that chained iterations from seeded inputs give the same
numbers exactly (``==``: the (w, b) loop and the coefficients are the same operations in the same
order, and the (v, u) kernel's min/max formulas return the enumeration's candidate whenever rounding
does not reorder two nearly equal numbers). A drift would otherwise grow over iterations unseen.
"""

from __future__ import annotations

from unittest import mock

import _speed_reference as ref
import numpy as np
import pytest
from _solver_common import random_feasible_point, random_problem

import ialam_verify.solver.vu_step as vu_mod
from ialam_verify.model import LiftedPoint
from ialam_verify.solver import AlternatingMinimization


@pytest.mark.parametrize(
    ("sizes", "n", "relu", "block"),
    [
        ((4, 6, 3, 2), 40, False, None),
        ((5, 3, 2), 30, True, None),  # the (PP_b) bias bound: joint [W b] solve
        ((3, 8, 8, 1), 25, False, 7),  # blocks smaller than a layer: 7-entry blocks
    ],
)
def test_twenty_chained_inner_iterations_equal_the_reference(sizes, n, relu, block):
    rng = np.random.default_rng(sum(sizes) + n)
    prob = random_problem(rng, sizes, n, relu=relu)
    start = random_feasible_point(rng, prob)
    xi = [rng.standard_normal(Ul.shape) for Ul in start.U]
    rho = 0.3
    # the reference is the proximal-gradient (w, b) solver (block coordinate descent is the default
    # now, tested against it in test_solver_wb_bcd.py)
    am = AlternatingMinimization(prob, 0.05, wb_max_iter=40, wb_solver="prox_grad")
    state = am.init_state(start)
    got, expected = start, start
    with mock.patch.object(vu_mod, "BLOCK", block or vu_mod.BLOCK):
        for it in range(20):
            got, state = am.update(got, state, xi, rho)
            W, b, _ = ref.wb_step_reference(am, expected, state, xi, rho)
            V, U = ref.vu_step_reference(am, W, b, expected, xi, rho)
            expected = LiftedPoint(W, b, V, U)
            for name in ("W", "b", "V", "U"):
                for ell, (g, e) in enumerate(
                    zip(getattr(got, name), getattr(expected, name), strict=True)
                ):
                    np.testing.assert_array_equal(
                        g, e, err_msg=f"{sizes}, iteration {it}: {name}[{ell}] differs"
                    )
    assert state.iter_num == 20


def test_proximal_taus_equal_the_norm_formula_exactly():
    """``proximal_taus`` takes the spectral norm from the SVD directly: the same numbers as
    ``np.linalg.norm(W, 2)`` in the reference, on tall, wide, square, rank-one and zero matrices."""
    from ialam_verify.solver.inner import proximal_taus

    rng = np.random.default_rng(5)
    W = [rng.standard_normal((3, 4))]
    W += [
        rng.standard_normal(s) * 10.0 ** rng.integers(-5, 5) for s in [(2, 10), (50, 100), (7, 3)]
    ]
    W += [np.outer(rng.standard_normal(4), rng.standard_normal(6)), np.zeros((3, 3))]
    for rho, tau1 in [(0.3, 0.05), (1e-4, 1e-6), (7.0, 1.0)]:
        assert proximal_taus(W, rho, tau1) == ref._proximal_taus(W, rho, tau1)
