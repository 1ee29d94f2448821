"""certify() on (problem, point) and on IALAM results; the ``ialam-verify certify`` command."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from ialam_verify.cli import main
from ialam_verify.data import synthetic
from ialam_verify.model import Problem
from ialam_verify.solver import fit, save_result
from ialam_verify.stationarity import Certificate, certify, check, classify, p_problem, pp_problem


@pytest.fixture(scope="module")
def trained():
    data = synthetic((3, 3, 2), n_samples=8, seed=2)
    return fit(data, (3, 3, 2), lambda_w=1e-4, max_outer=150)


def test_certify_result_object_and_problem_point_agree(trained):
    a = certify(trained)
    b = certify(trained.problem, trained.point, xi=trained.xi)
    assert a.pp.verdicts() == b.pp.verdicts() and a.p.verdicts() == b.p.verdicts()
    assert a.pp_at_solver_xi is not None
    # the verdicts are backed by checkable multipliers: structured re-check, and the generic check
    # on the full Jacobian of the certificate expanded to full multiplier vectors
    assert a.check()["accepted"]
    assert check(a.pp.to_generic(trained.problem, trained.point), pp_problem(trained.problem, trained.point))["accepted"]
    lift = trained.problem.lift(trained.point.W, trained.point.b)
    assert check(a.p.to_generic(trained.problem, lift), p_problem(trained.problem, lift))["accepted"]
    d = a.to_dict()
    json.dumps(d, allow_nan=False)
    assert set(d["PP"]["verdicts"]) == {"KKT", "Clarke", "B"}
    assert set(d["P"]["verdicts"]) == {"W", "A", "C", "M", "S", "B"}
    # solver xi fixed can only be worse than the best multiplier
    r = a.pp_at_solver_xi["min_residual"]
    g = certify(trained, method="generic")
    assert r is not None and r >= g.pp.results["KKT"].min_residual - 1e-7


def test_certify_on_a_lifted_random_point_fails_stationarity():
    """A random lifted point is not stationary: KKT fails, a descent direction is returned and
    checked, and the (P) verdicts follow the hierarchy S => M => A, C => W."""
    rng = np.random.default_rng(0)
    prob = Problem.create(
        rng.standard_normal((2, 5)), rng.standard_normal((1, 5)), (2, 3, 1), 0.2, 0.01, 0.0, 1.0
    )
    W = [rng.standard_normal((3, 2)), rng.standard_normal((1, 3))]
    b = [rng.standard_normal(3), rng.standard_normal(1)]
    pt = prob.lift(W, b)
    rep = certify(prob, pt)
    assert rep.pp.verdicts()["KKT"] == "fails" and rep.pp.verdicts()["B"] == "fails"
    cp = pp_problem(prob, pt)
    ck = check(rep.pp.to_generic(prob, pt), cp)
    assert ck["accepted"] and ck["per_notion"]["B"]["directional_derivative"] < 0
    v = rep.p.verdicts()
    order = ["S", "M", "A", "W"]
    for strong, weak in zip(order, order[1:], strict=False):
        if v[strong] == "holds":
            assert v[weak] == "holds"


def test_certify_rejects_bad_input(trained):
    with pytest.raises(ValueError, match="result must have"):
        certify(object())
    with pytest.raises(ValueError, match="xi must hold"):
        certify(trained.problem, trained.point, xi=[np.zeros(1)])
    with pytest.raises(ValueError, match="tol"):
        classify(pp_problem(trained.problem, trained.point), tol=0.0)


def test_cli_certify_json_and_text(trained, tmp_path, capsys):
    path = tmp_path / "res"
    save_result(trained, path)
    assert main(["certify", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"PP", "P", "tolerances", "seconds", "PP_at_solver_xi"}
    assert out["tolerances"]["tol"] == 1e-6
    for key in ("PP", "P"):
        assert all(
            v in ("holds", "fails", "undetermined", "inconclusive")
            for v in out[key]["verdicts"].values()
        )
    direct = certify(trained)
    assert out["PP"]["verdicts"] == direct.pp.verdicts()
    assert main(["certify", str(path)]) == 0
    text = capsys.readouterr().out
    assert "(PP) at the point" in text and "(P) at the feasible lift" in text
    # full certificates on disk, checkable later without cvxpy
    prefix = tmp_path / "cert"
    assert main(["certify", str(path), "--certificates", str(prefix)]) == 0
    capsys.readouterr()
    pp = Certificate.load(f"{prefix}_PP.json")
    p = Certificate.load(f"{prefix}_P.json")
    assert check(pp, pp_problem(trained.problem, trained.point))["accepted"]
    lift = trained.problem.lift(trained.point.W, trained.point.b)
    assert check(p, p_problem(trained.problem, lift))["accepted"]
    assert pp.verdicts() == direct.pp.verdicts()


def test_cli_certify_bad_input(tmp_path, capsys):
    assert main(["certify", str(tmp_path / "missing")]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["certify", "x", "--tol", "-1"]) == 2


def test_certify_with_solver_like_object():
    """Any object with .problem, .point (and .xi) works, e.g. a point built by Problem.lift."""
    rng = np.random.default_rng(3)
    prob = Problem.create(
        rng.standard_normal((2, 4)), rng.standard_normal((1, 4)), (2, 2, 1), 0.3, 0.1, 0.0, 0.5
    )
    pt = prob.lift([np.zeros((2, 2)), np.zeros((1, 2))], [np.zeros(2), np.zeros(1)])
    rep = certify(SimpleNamespace(problem=prob, point=pt))
    # W = 0, b = 0: every u is 0 (biactive (P) pairs, kinks of (PP) at 0), all groups zero
    assert rep.p.activity["biactive"] == pt.U[0].size + pt.U[1].size
    assert rep.pp.activity["kinks_at_zero"] == pt.U[0].size + pt.U[1].size
    assert check(rep.pp.to_generic(prob, pt), pp_problem(prob, pt))["accepted"]
    assert rep.check()["accepted"]


def test_kkt_witness_in_the_talks_terms(trained):
    """With tol set just above the point's smallest KKT residual (so that KKT holds whatever the
    solver's accuracy), the witness translated to the talk's Xi, M1, M2 (and slopes S, group
    subgradients Z) has M1, M2 >= 0, vanishes on inactive constraints, and the per-layer system of
    pp_residual_blocks (written out independently of the sparse Jacobians) has exactly the
    witness's residual."""
    from ialam_verify.stationarity import pp_residual_blocks

    r = certify(trained, method="generic").pp.results["KKT"].min_residual
    rep = certify(trained, tol=2 * r + 1e-6, method="generic")
    assert rep.pp.verdicts()["KKT"] == "holds"
    t = rep.talk_multipliers("KKT")
    prob, pt = trained.problem, trained.point
    for M1, M2, V, U in zip(t["M1"], t["M2"], pt.V, pt.U, strict=True):
        assert np.all(M1 >= 0) and np.all(M2 >= 0)
        assert np.all(M1[V - U > 1e-6] == 0) and np.all(M2[V - prob.alpha * U > 1e-6] == 0)
    z = rep.pp.results["KKT"].witness["z"]
    Z, j = [], 0
    for W in pt.W:
        Z.append(np.column_stack([z[j + c] for c in range(W.shape[1])]))
        j += W.shape[1]
    blocks = pp_residual_blocks(prob, pt, t["Xi"], t["M1"], t["M2"], t["S"], Z)
    worst = max(np.max(np.abs(a)) for k in blocks for a in blocks[k])
    assert worst == pytest.approx(rep.pp.results["KKT"].witness_residual, rel=1e-8, abs=1e-12)
    assert worst <= rep.pp.tol
    assert rep.talk_multipliers("Clarke") is not None and rep.talk_multipliers("nope") is None


def test_relu_variant_adds_the_bias_bound():
    """(PP_b), alpha = 0: the bias bound b >= -Nbar(theta_w + theta_v) enters g; inactive here."""
    rng = np.random.default_rng(5)
    prob = Problem.create(
        rng.standard_normal((2, 3)),
        rng.standard_normal((1, 3)),
        (2, 2, 1),
        0.0,
        0.1,
        0.0,
        1.0,
        -5.0,
    )
    pt = prob.lift(
        [rng.standard_normal((2, 2)), rng.standard_normal((1, 2))], [np.zeros(2), np.zeros(1)]
    )
    pp = pp_problem(prob, pt)
    m = sum(U.size for U in pt.U)
    assert pp.g.size == 2 * m + 3 and np.allclose(pp.g[2 * m :], 5.0)
    rep = certify(prob, pt)
    assert check(rep.pp, pp)["accepted"]


def test_cli_json_stays_pure_json_on_the_milp_path(trained, tmp_path, capfd):
    """At W = 0, b = 0 every u is 0: (PP) kinks and (P) pairs all at 0, so the MILP (HiGHS) is used;
    the solver's banner must not leak into the --json output."""
    import dataclasses

    prob = trained.problem
    zero = prob.lift([np.zeros_like(W) for W in trained.W], [np.zeros_like(b) for b in trained.b])
    res = dataclasses.replace(
        trained, point=zero, W=zero.W, b=zero.b, xi=[np.zeros_like(U) for U in zero.U]
    )
    path = tmp_path / "zero"
    save_result(res, path)
    assert main(["certify", str(path), "--json", "--max-branches", "4"]) == 0
    out = json.loads(capfd.readouterr().out)
    assert out["P"]["activity_sizes"]["biactive"] == sum(U.size for U in zero.U)
    assert out["PP"]["activity_sizes"]["kinks_at_zero"] == sum(U.size for U in zero.U)
