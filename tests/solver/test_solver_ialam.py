r"""The IALAM outer loop: multiplier update, the gamma-window penalty rule, stopping, history.

The rule is recomputed here from the recorded residuals, independently of ``IALAM.update``:
:math:`\xi^{(k)} = \xi^{(k-1)} + \rho^{(k-1)} r^{(k)}`; :math:`\rho^{(k)} = \rho^{(k-1)}` if
:math:`k \le \gamma` or :math:`\|r^{(k)}\| \le \eta_1 \max_{k-\gamma \le t \le k-1}\|r^{(t)}\|`, otherwise
:math:`\rho^{(k)} = \max\{\eta_2\rho^{(k-1)}, \|\xi^{(k)}\|^{1+\eta_3}\}`.
"""

from __future__ import annotations

import numpy as np
import pytest
from _solver_common import augmented_lagrangian_by_loops, random_problem

from ialam_verify.solver import IALAM, initial_point


def small_problem(seed=0, sizes=(3, 4, 2), n=12):
    return random_problem(np.random.default_rng(seed), sizes, n, alpha=0.2)


def residual_blocks(prob, pt):
    """:math:`U_\\ell - W_\\ell V_{\\ell-1} - b_\\ell 1^T`, written out again."""
    prev = [prob.X, *pt.V[:-1]]
    return [U - W @ P - b[:, None] for U, W, P, b in zip(pt.U, pt.W, prev, pt.b, strict=True)]


def test_one_update_is_the_multiplier_step():
    prob = small_problem()
    solver = IALAM(prob, rho0=0.3, tau1=0.05, inner_max_iter=4)
    pt = initial_point(prob, seed=1)
    rng = np.random.default_rng(5)
    xi0 = [rng.standard_normal(U.shape) for U in pt.U]
    s0 = solver.init_state(pt, [x.copy() for x in xi0])
    s1 = solver.update(s0)
    R = residual_blocks(prob, s1.point)
    assert float(np.sqrt(sum(np.sum(r * r) for r in R))) > 1e-8  # the step is not vacuous
    for x1, x0, r in zip(s1.xi, xi0, R, strict=True):
        np.testing.assert_allclose(x1, x0 + 0.3 * r, rtol=1e-12, atol=1e-14)
    assert s1.error == pytest.approx(np.sqrt(sum(np.sum(r * r) for r in R)), rel=1e-12)
    assert s1.iter_num == 1 and s1.residuals == (s1.error,)
    assert s1.rho == 0.3  # k = 1 <= gamma = 1: rho kept


@pytest.mark.parametrize("gamma", [1, 2, 3])
def test_gamma_window_rule_recomputed_from_recorded_residuals(gamma):
    prob = small_problem(seed=gamma)
    eta1, eta2, eta3 = 0.6, 1.7, 1.3
    solver = IALAM(
        prob, rho0=0.02, tau1=0.01, eta1=eta1, eta2=eta2, eta3=eta3, gamma=gamma, inner_max_iter=3
    )
    state = solver.init_state(initial_point(prob, seed=gamma))
    rho, xi = state.rho, [x.copy() for x in state.xi]
    residuals: list[float] = []
    kept = raised = 0
    for k in range(1, 26):
        state = solver.update(state)
        R = residual_blocks(prob, state.point)
        r = float(np.sqrt(sum(np.sum(x * x) for x in R)))
        residuals.append(r)
        assert state.residuals == pytest.approx(tuple(residuals), rel=1e-12, abs=1e-300)
        xi = [x + rho * Rl for x, Rl in zip(xi, R, strict=True)]
        for a, b in zip(state.xi, xi, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
        if k <= gamma or r <= eta1 * max(residuals[k - 1 - gamma : k - 1]):
            expected = rho
            kept += k > gamma
        else:
            xnorm = float(np.sqrt(sum(np.sum(x * x) for x in xi)))
            expected = max(eta2 * rho, xnorm ** (1 + eta3))
            raised += 1
        assert state.rho == pytest.approx(expected, rel=1e-10), (k, state.rho, expected)
        rho = state.rho
    # both branches of the rule were exercised after the first gamma iterations
    assert kept > 0 and raised > 0, (kept, raised)


def test_callback_stops_the_run_and_history_has_one_entry_per_outer_iteration():
    prob = small_problem()
    solver = IALAM(prob, rho0=0.05, tau1=0.01, inner_max_iter=3)
    seen = []

    def cb(state):
        seen.append(state.iter_num)
        return state.iter_num >= 4

    res = solver.run(initial_point(prob), callback=cb)
    assert res.status == 3 and not res.success and res.nit == 4
    assert seen == [1, 2, 3, 4]
    assert set(res.history) >= {"residual", "rho", "feas_vi", "train_err", "objective"}
    for key, values in res.history.items():
        assert len(values) == res.nit, key
    # the last entries describe the returned point
    assert res.history["feas_vi"][-1] == pytest.approx(prob.feas_vi(res.point), rel=1e-12)
    assert res.history["residual"][-1] == pytest.approx(prob.residual_norm(res.point), rel=1e-12)
    assert res.history["rho"][-1] == res.rho
    assert res.history["objective"][-1] == pytest.approx(prob.objective(res.point), rel=1e-12)
    lifted = prob.lift(res.W, res.b)
    assert res.history["train_err"][-1] == pytest.approx(prob.loss(lifted.V[-1]), rel=1e-12)
    assert res.history["network_objective"][-1] == pytest.approx(
        prob.network_objective(res.W, res.b), rel=1e-12
    )
    L_ref = augmented_lagrangian_by_loops(prob, res.point, res.xi, res.rho)
    assert res.history["lagrangian"][-1] == pytest.approx(L_ref, rel=1e-10)
    inner = res.history["inner_iterations"]
    assert all(b >= a for a, b in zip(inner, inner[1:], strict=False))  # cumulative
    assert inner[-1] == res.nit_inner


def test_stop_statuses():
    prob = small_problem()
    pt = initial_point(prob)
    res = IALAM(prob, rho0=0.05, tau1=0.01, max_outer=3, inner_max_iter=2).run(pt)
    assert (res.status, res.nit, res.success) == (1, 3, False)
    for values in res.history.values():
        assert len(values) == 3
    # max_seconds = 0: any completed iteration has used >= 0 seconds
    res = IALAM(prob, rho0=0.05, tau1=0.01, max_seconds=0.0, inner_max_iter=2).run(pt)
    assert (res.status, res.nit) == (2, 1)
    # the penalty stopping test: a tiny factor fires at the first increase of rho
    res = IALAM(
        prob,
        rho0=0.05,
        tau1=0.01,
        rho_factor_stop=1.0 + 1e-9,
        inner_max_iter=2,
        success_feas_tol=float("inf"),
    ).run(pt)
    assert res.status == 0 and res.success and res.rho > (1.0 + 1e-9) * 0.05
    assert all(r == 0.05 for r in res.history["rho"][:-1])
    # the same stop at a point that is not feasible enough: status 5, not a success
    res5 = IALAM(
        prob,
        rho0=0.05,
        tau1=0.01,
        rho_factor_stop=1.0 + 1e-9,
        inner_max_iter=2,
        success_feas_tol=0.0,
    ).run(pt)
    assert prob.feas_vi(res5.point) > 0.0
    assert res5.status == 5 and not res5.success and "FeasVi" in res5.message

    def interrupt(state):
        if state.iter_num == 2:
            raise KeyboardInterrupt

    res = IALAM(prob, rho0=0.05, tau1=0.01, inner_max_iter=2).run(pt, callback=interrupt)
    assert res.status == 4 and res.nit == 2 and len(res.history["rho"]) == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("eta1", 0.0),
        ("eta1", 1.0),
        ("eta1", 1.5),
        ("eta2", 1.0),
        ("eta2", 0.5),
        ("rho0", 0.0),
        ("rho0", -1.0),
        ("tau1", 0.0),
        ("gamma", 0),
        ("gamma", 1.5),
        ("max_outer", 0),
    ],
)
def test_bad_settings_name_the_argument(name, value):
    prob = small_problem()
    kwargs = {"rho0": 0.1, "tau1": 0.1, name: value}
    with pytest.raises(ValueError, match=name):
        IALAM(prob, **kwargs)
