"""The pipeline: every start kind, the lift, the best feasible iterate, the stages, the refinement guard."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _solver_common import random_problem

import ialam_verify.solver.pipeline as pipeline_mod
from ialam_verify.data import TALK_SHAPES, synthetic
from ialam_verify.model.network import init_weights
from ialam_verify.solver import IALAM, fit, initial_point, save_result
from ialam_verify.verdict import Verdict

SIZES = TALK_SHAPES["L2"]
QUICK = dict(warmup_max_iter=200, warmup_seconds=float("inf"), max_outer=3, refine=False)
STAGES = ["IALAM", "refinement", "final lift", "verdict"]


@pytest.fixture(scope="module")
def data():
    return synthetic(SIZES, 30, seed=1)


def a_network(seed=5, sizes=SIZES):
    return init_weights(sizes, np.random.default_rng(seed))


def check_final(res, data):
    prob = res.problem
    assert [s["name"] for s in res.stages][1:] == STAGES
    # the final point is the exact lift of the returned weights
    lift = prob.lift(res.W, res.b)
    for a, b in zip(lift.U + lift.V, res.point.U + res.point.V, strict=True):
        assert np.array_equal(a, b)
    assert prob.feas_vi(res.point) <= 1e-25
    assert res.stages[-2]["train_err"] == pytest.approx(prob.loss(lift.V[-1]), rel=1e-12)


def test_start_warmup_lowers_the_objective_then_lifts(data):
    res = fit(data, SIZES, **QUICK)
    check_final(res, data)
    warm = res.stages[0]
    assert warm["name"] == "warm-up" and "prox-Adam" in warm["message"]
    W0, b0 = init_weights(SIZES, np.random.default_rng(0))
    start_err = res.problem.loss(res.problem.lift(W0, b0).V[-1])
    assert warm["train_err"] < start_err  # the warm-up trained
    assert warm["feas_vi"] <= 1e-25  # lifted: exactly feasible


def test_start_talk_is_the_literal_method(data):
    res = fit(data, SIZES, start="talk", max_outer=3)  # refine defaults to off for the talk's start
    check_final(res, data)
    assert res.stages[0]["name"] == "start" and res.stages[2]["status"] == "skipped"
    assert res.settings["inner_max_iter"] == 5 and res.settings["feas_tol"] == 0.0  # talk's settings
    # IALAM started from the talk's random network, lifted
    W0, b0 = init_weights(SIZES, np.random.default_rng(0))
    assert res.stages[0]["train_err"] == pytest.approx(
        res.problem.loss(res.problem.lift(W0, b0).V[-1]), rel=1e-12
    )


@pytest.mark.parametrize("form", ["lists", "tuples", "npz"])
def test_start_from_a_given_network(data, form, tmp_path):
    W, b = a_network()
    W_copy = [w.copy() for w in W]
    if form == "lists":
        start = (W, b)
    elif form == "tuples":
        start = (tuple(W), tuple(b))
    else:
        start = str(tmp_path / "net.npz")
        np.savez(start, **{f"W_{i}": w for i, w in enumerate(W)}, **{f"b_{i}": x for i, x in enumerate(b)})
    res = fit(data, SIZES, start=start, **QUICK)
    check_final(res, data)
    assert res.stages[0]["name"] == "start" and res.settings["start"] == "network"
    assert res.stages[0]["train_err"] == pytest.approx(
        res.problem.loss(res.problem.lift(W, b).V[-1]), rel=1e-12
    )
    assert all(np.array_equal(a, c) for a, c in zip(W, W_copy, strict=True))  # input untouched
    # the feasible-start defaults (rho0 = 10 / N, 20 inner iterations)
    assert res.settings["rho0"] == pytest.approx(10.0 / data.n_samples)
    assert res.settings["inner_max_iter"] == 20


@pytest.mark.torch
def test_start_from_a_torch_sequential_equals_the_lists(data):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(10, 10), nn.LeakyReLU(0.1), nn.Linear(10, 2), nn.LeakyReLU(0.1))
    before = [p.detach().clone() for p in net.parameters()]
    W = [net[0].weight.detach().double().numpy(), net[2].weight.detach().double().numpy()]
    b = [net[0].bias.detach().double().numpy(), net[2].bias.detach().double().numpy()]
    kw = dict(certify=False, **QUICK, max_seconds=float("inf"))
    a = fit(data, SIZES, start=net, **kw)
    c = fit(data, SIZES, start=(W, b), **kw)
    for x, y in zip(a.W + a.b, c.W + c.b, strict=True):
        assert np.array_equal(x, y)
    assert all(torch.equal(p, q) for p, q in zip(net.parameters(), before, strict=True))


@pytest.mark.torch
@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda nn: nn.Sequential(nn.Linear(10, 10), nn.Tanh(), nn.Linear(10, 2), nn.LeakyReLU(0.1)), "layer 1 must be nn.LeakyReLU"),
        (lambda nn: nn.Sequential(nn.Linear(10, 10), nn.LeakyReLU(0.1), nn.Linear(10, 2)), "must end with LeakyReLU"),
        (lambda nn: nn.Sequential(nn.Linear(10, 10), nn.LeakyReLU(0.2), nn.Linear(10, 2), nn.LeakyReLU(0.2)), "differs from alpha"),
        (lambda nn: nn.Sequential(nn.Conv1d(1, 1, 3)), "layer 0 must be nn.Linear"),
        (lambda nn: nn.Linear(10, 2), "nn.Sequential"),
        (lambda nn: nn.Sequential(nn.Linear(10, 7), nn.LeakyReLU(0.1), nn.Linear(7, 2), nn.LeakyReLU(0.1)), "shape"),
    ],
)  # fmt: skip
def test_bad_torch_networks_are_refused(data, build, words, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(pipeline_mod, "warmup", _no_work)
    with pytest.raises(ValueError, match=words):
        fit(data, SIZES, start=build(torch.nn))


def _no_work(*a, **k):
    raise AssertionError("validation must happen before any work")


@pytest.mark.parametrize(
    ("start", "words"),
    [
        ("warmpu", "did you mean 'warmup'"),
        ("adam", "start must be"),
        (42, "start must be"),
        (([np.ones((10, 10))], [np.zeros(10)]), "has 1 layers.*need 2"),
        (([np.ones((10, 10)), np.ones((3, 10))], [np.zeros(10), np.zeros(3)]), r"W\[1\] must have shape \(2, 10\)"),
        (([np.full((10, 10), np.nan), np.ones((2, 10))], [np.zeros(10), np.zeros(2)]), "NaN"),
        (([np.ones((10, 10)), np.ones((2, 10))], [np.zeros(10), np.zeros(3)]), r"b\[1\]"),
        ((np.ones((10, 10)), np.zeros(10)), "two lists"),
        ("missing.npz", "does not exist"),
    ],
)  # fmt: skip
def test_bad_starts_are_refused_before_any_work(data, start, words, monkeypatch):
    monkeypatch.setattr(pipeline_mod, "warmup", _no_work)
    monkeypatch.setattr(pipeline_mod, "IALAM", _no_work)
    with pytest.raises((ValueError, FileNotFoundError), match=words):
        fit(data, SIZES, start=start)


def test_best_feasible_iterate_is_returned_not_the_last():
    """Recorded by a callback: objective (1) and FeasVi of every outer iterate; the run returns the
    argmin of (1) over the iterates with FeasVi within the threshold, even when it is not the last."""
    prob = random_problem(np.random.default_rng(3), (3, 4, 2), 20, alpha=0.2)
    pt = initial_point(prob, seed=3)
    base = dict(rho0=0.05, tau1=0.01, max_outer=12, inner_max_iter=2)
    rec: list[tuple[float, float, list]] = []

    def record(s):
        rec.append(
            (prob.network_objective(s.point.W, s.point.b), prob.feas_vi(s.point), [w.copy() for w in s.point.W])
        )

    IALAM(prob, **base, success_feas_tol=float("inf")).run(pt, callback=record)
    feas = np.array([r[1] for r in rec])
    scale = max(1.0, float(np.sum(prob.Y**2)) / prob.n_samples)
    cut = float(np.median(feas))  # some iterates count as feasible, some not
    res = IALAM(prob, **base, success_feas_tol=cut / scale).run(pt)
    ok = [i for i in range(len(rec)) if rec[i][1] <= cut]
    best = min(ok, key=lambda i: rec[i][0])
    assert 0 < len(ok) < len(rec)
    assert res.best_iteration == best + 1 and res.nit == len(rec)
    assert best + 1 != res.nit, "the case must exercise a best iterate that is not the last"
    for a, c in zip(res.W, rec[best][2], strict=True):
        assert np.array_equal(a, c)
    assert "best feasible iterate" in res.message


def test_refinement_not_available_is_reported(data, monkeypatch):
    monkeypatch.setattr(pipeline_mod, "_load_refine", lambda: None)
    res = fit(data, SIZES, **{**QUICK, "refine": True})
    stage = res.stages[2]
    assert (stage["name"], stage["status"]) == ("refinement", "not available")
    assert res.multipliers is None


def test_refinement_result_is_used_and_stored(data, monkeypatch, tmp_path):
    """A stand-in with the interface of ``refine``: zeroes the last hidden unit's column."""
    calls = {}

    def fake_refine(problem, W, b, *, settings=None, callback=None, tolerances=None):
        calls["W"] = [w.copy() for w in W]
        W2 = [w.copy() for w in W]
        W2[1][:, -1] = 0.0
        point = problem.lift(W2, b)
        xi = [np.full(U.shape, 0.5) for U in point.U]
        return SimpleNamespace(
            W=W2, b=b, point=point, success=True, status=0, message="stand-in", seconds=0.01,
            iterations=1, kinks=0, zero_columns=1, multipliers={"xi": xi}, verdict=None,
        )  # fmt: skip

    monkeypatch.setattr(pipeline_mod, "_load_refine", lambda: fake_refine)
    def fake_certify(p, x, t=None, witness=None):
        calls["witness"] = witness
        return Verdict.holds("stand-in"), "test"

    monkeypatch.setattr(pipeline_mod, "certify_kkt", fake_certify)
    res = fit(data, SIZES, **{**QUICK, "refine": True})
    # the refinement's multipliers are handed to the certificates as a witness to re-check
    assert calls["witness"] is not None and calls["witness"]["xi"][0][0, 0] == 0.5
    stage = res.stages[2]
    assert stage["status"] == "done" and stage["zero_columns"] == 1
    assert np.all(res.W[1][:, -1] == 0.0) and res.stages[3]["zero_columns"] == 1
    assert res.success and res.message.startswith("SUCCESS")
    # IALAM's network went into the refinement
    ialam_net = calls["W"]
    assert not np.all(ialam_net[1][:, -1] == 0.0)
    # storage keeps the multipliers, the stages and the verdict
    from ialam_verify.solver import load_result

    save_result(res, tmp_path / "run")
    back = load_result(tmp_path / "run")
    assert back.stages == res.stages and back.verdict == "holds" and back.success
    for a, c in zip(back.multipliers["xi"], res.multipliers["xi"], strict=True):
        assert np.array_equal(a, c)


def test_refinement_failure_keeps_ialams_network(data, monkeypatch):
    def broken(problem, W, b, **kw):
        raise np.linalg.LinAlgError("singular")

    monkeypatch.setattr(pipeline_mod, "_load_refine", lambda: broken)
    res = fit(data, SIZES, **{**QUICK, "refine": True})
    assert res.stages[2]["status"] == "failed" and "singular" in res.stages[2]["message"]
    assert res.stages[3]["train_err"] == pytest.approx(res.stages[1]["train_err"], rel=1e-12)


def test_verdict_of_a_small_problem_comes_from_the_generic_certifier(data):
    res = fit(data, SIZES, **QUICK)  # N * Nbar = 30 * 12 = 360
    assert isinstance(res.verdict, Verdict)
    assert res.stages[-1]["status"] == "done" and "(PP) KKT" in res.stages[-1]["message"]
    assert res.success == bool(res.verdict)
    assert res.message.startswith("SUCCESS" if res.success else "FAILED")


def test_large_problem_with_the_structured_certifier_gets_a_verdict():
    big = synthetic(SIZES, 300, seed=0)
    res = fit(big, SIZES, warmup_max_iter=20, warmup_seconds=float("inf"), max_outer=1, refine=False)
    assert isinstance(res.verdict, Verdict) and res.stages[-1]["status"] == "done"
    assert res.success == bool(res.verdict)


def test_the_default_pipeline_ends_certified_on_a_small_problem():
    """End to end, with the real refinement: warm-up, IALAM, refinement, lift, and the certificate's
    "holds" with multipliers (measured: about 5 s on a loaded 2-core machine)."""
    sizes = (4, 3, 2)
    d = synthetic(sizes, 20, seed=1)
    res = fit(d, sizes, seed=1, warmup_max_iter=1000, warmup_seconds=float("inf"))
    assert [s["status"] for s in res.stages] == ["done"] * 5, res.stages
    assert res.success and res.verdict == "holds" and res.message.startswith("SUCCESS")
    assert res.multipliers is not None and len(res.multipliers["xi"]) == 2
    # the certificate is re-derived by the caller, independently of the pipeline
    from ialam_verify.stationarity import certify

    assert certify(res.problem, res.point).verdict("KKT") == "holds"
