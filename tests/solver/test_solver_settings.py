"""Settings: one option table, every option checked before work, every setting reaches the run, Status."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _solver_common import random_problem

from ialam_verify.solver import IALAM, OPTIONS, STATUS_MESSAGES, Status, initial_point
from ialam_verify.solver.settings import (
    IALAMSettings,
    InnerSettings,
    WarmupSettings,
    settings_fields,
    split_options,
)

#: a valid value different from the default for every option
NON_DEFAULT = {
    "rho0": 0.37,
    "tau1": 0.021,
    "eta1": 0.33,
    "eta2": 1.7,
    "eta3": 1.9,
    "xi_weight": 0.011,
    "gamma": 3,
    "rho_factor_stop": 77.0,
    "max_outer": 4,
    "feas_tol": 1e-9,
    "feas_change_tol": 1e-5,
    "max_seconds": 123.0,
    "success_feas_tol": 3e-5,
    "inner_max_iter": 3,
    "inner_tol0": 2e-2,
    "inner_tol_decay": 0.5,
    "inner_tol_min": 1e-9,
    "wb_tol": 1e-4,
    "wb_max_iter": 11,
    "wb_work": math.inf,
    "wb_solver": "prox_grad",
    "warmup_seconds": 0.7,
    "warmup_max_iter": 9,
    "warmup_lr": 0.02,
    "warmup_batch_size": 7,
    "warmup_seed": 3,
}
#: a value every option refuses (and the right kind of wrong for each)
BAD = {
    "rho0": [0.0, -1.0, math.inf, math.nan, "1"],
    "tau1": [0.0, math.inf],
    "eta1": [0.0, 1.0],
    "eta2": [1.0, math.inf],
    "eta3": [0.0, -1.0],
    "xi_weight": [0.0, -1.0],
    "gamma": [0, 1.5],
    "rho_factor_stop": [1.0],
    "max_outer": [0, 2.5, math.inf],
    "feas_tol": [-1.0, math.inf],
    "feas_change_tol": [-1.0],
    "max_seconds": [-1.0, math.nan],
    "success_feas_tol": [-1.0],
    "inner_max_iter": [0],
    "inner_tol0": [0.0],
    "inner_tol_decay": [0.0, 1.5],
    "inner_tol_min": [-1.0],
    "wb_tol": [0.0, math.nan],
    "wb_max_iter": [0, True],
    "wb_work": [0.0, -1.0],
    "wb_solver": ["cd", 1, None],
    "warmup_seconds": [0.0, -1.0],
    "warmup_max_iter": [0],
    "warmup_lr": [0.0, math.inf],
    "warmup_batch_size": [0, 2.5],
    "warmup_seed": [-1, 1.5],
}


def test_every_option_has_a_home_and_a_test_value():
    assert set(NON_DEFAULT) == set(OPTIONS) == set(BAD)
    homes = settings_fields()
    for name, opt in OPTIONS.items():
        assert opt.attr in homes[opt.group], name
    # and every field of the tree is reachable by exactly one option name
    reached = {(o.group, o.attr) for o in OPTIONS.values()}
    assert reached == {(g, a) for g, attrs in homes.items() for a in attrs}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD.items() for v in vs])
def test_every_bad_value_is_refused_naming_the_option(name, value):
    with pytest.raises(ValueError, match=name):
        split_options({name: value})


def test_unknown_option_names_the_closest():
    with pytest.raises(TypeError, match="did you mean 'wb_work'"):
        split_options({"wb_wrok": 1.0})
    with pytest.raises(TypeError, match="known options"):
        split_options({"zzzz": 1.0})
    prob = random_problem(np.random.default_rng(0), (3, 4, 2), 8)
    with pytest.raises(TypeError, match="did you mean 'eta2'"):
        IALAM(prob, rho0=0.1, tau1=0.1, eta22=2.0)


def test_every_setting_reaches_the_solver():
    """The wb_work bug: an option accepted and reported but not used by the inner solver."""
    prob = random_problem(np.random.default_rng(0), (3, 4, 2), 8)
    solver_opts = {n: v for n, v in NON_DEFAULT.items() if OPTIONS[n].group != "warmup"}
    solver = IALAM(prob, **solver_opts)
    assert solver.settings.flat() == solver_opts
    am = solver._inner
    assert (am.tau1, am.max_iter, am.wb_tol, am.wb_max_iter, am.wb_work, am.wb_solver) == (
        0.021,
        3,
        1e-4,
        11,
        math.inf,
        "prox_grad",
    )
    assert IALAM(prob, rho0=0.1, tau1=0.1, wb_work=math.inf)._inner.wb_work == math.inf
    # the inexactness rule of the outer loop uses the inner settings
    assert solver.inner_tol(0) == 2e-2 and solver.inner_tol(40) == 1e-9


class _Recording:
    """Mixin that records which fields of a settings object are read."""

    read: set[str] = set()

    def __getattribute__(self, name):
        if not name.startswith("_"):
            _Recording.read.add(f"{type(self).__name__}.{name}")
        return object.__getattribute__(self, name)


class RecIALAM(_Recording, IALAMSettings):
    pass


class RecInner(_Recording, InnerSettings):
    pass


def test_every_outer_and_inner_setting_is_read_during_a_run():
    prob = random_problem(np.random.default_rng(1), (3, 4, 2), 10, alpha=0.2)
    settings = RecIALAM(
        rho0=0.05, tau1=0.01, feas_tol=1e-30, max_outer=3, inner=RecInner(max_iter=2)
    )
    solver = IALAM(prob, settings)
    _Recording.read.clear()
    solver.run(initial_point(prob, seed=1))
    used = {r.split(".", 1)[1] for r in _Recording.read}
    # fields the run reads directly; the (w, b) settings and tau1 go to the inner solver at
    # construction (checked above), and the raise rule (eta2, eta3, xi_weight) on a raise
    direct = {
        "rho0", "eta1", "gamma", "rho_factor_stop", "max_outer", "feas_tol", "feas_change_tol",
        "max_seconds", "success_feas_tol", "tol0", "tol_decay", "tol_min",
    }  # fmt: skip
    assert direct <= used, direct - used
    # force a raise of rho at every iteration: eta1 tiny makes every residual "not decreasing"
    s2 = RecIALAM(rho0=0.05, tau1=0.01, eta1=1e-12, max_outer=3, inner=RecInner(max_iter=2))
    _Recording.read.clear()
    res = IALAM(prob, s2).run(initial_point(prob, seed=1))
    used = {r.split(".", 1)[1] for r in _Recording.read}
    assert {"eta2", "eta3", "xi_weight"} <= used
    assert res.history["rho"][-1] > 0.05


def test_warmup_settings_reach_the_warmup():
    from ialam_verify.data import TALK_SHAPES, synthetic
    from ialam_verify.solver import fit

    data = synthetic(TALK_SHAPES["L2"], 20, seed=0)
    res = fit(
        data,
        TALK_SHAPES["L2"],
        warmup_max_iter=9,
        warmup_lr=0.02,
        warmup_seconds=50.0,
        max_outer=1,
        refine=False,
        certify=False,
    )
    assert res.stages[0]["message"] == "prox-Adam, lr 0.02, 9 iterations"
    assert res.settings["warmup_max_seconds"] == 50.0
    assert WarmupSettings(max_seconds=50.0, max_iter=9, lr=0.02) == WarmupSettings(
        **{OPTIONS[k].attr: v for k, v in {"warmup_seconds": 50.0, "warmup_max_iter": 9, "warmup_lr": 0.02}.items()}
    )


def test_status_is_an_enum_with_one_message_table():
    assert set(STATUS_MESSAGES) == set(Status)
    assert [int(s) for s in Status] == list(range(7))
    assert Status.CONVERGED.success and not any(s.success for s in Status if s != 0)
    prob = random_problem(np.random.default_rng(0), (3, 4, 2), 8)
    res = IALAM(prob, rho0=0.05, tau1=0.01, max_outer=2).run(initial_point(prob))
    assert res.status is Status.MAX_OUTER and res.status == 1
    assert res.status_name == STATUS_MESSAGES[Status.MAX_OUTER]
