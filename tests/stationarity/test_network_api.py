"""certify_network (numpy and torch), the CertifyReport reading surface, and the certify CLI's
--data / --require / --json paths."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _network_instances import planted_instance

from ialam_verify.cli import main
from ialam_verify.solver.api import default_beta
from ialam_verify.stationarity import certify, certify_network
from ialam_verify.verdict import Verdict


@pytest.fixture(scope="module")
def holding():
    """A planted network where (PP) KKT holds exactly (mirrored pairs, beta large)."""
    inst = planted_instance(3, (2, 3, 1), 2, alpha=0.5, beta=4.0, n_zeros=2)
    rep = certify(inst.problem, inst.point)
    assert rep.verdict("KKT") == "holds", rep.text()
    return inst, rep


def test_report_reading_surface(holding):
    inst, rep = holding
    v = rep.verdict("KKT")
    assert isinstance(v, Verdict) and v and v.epsilon is not None and v.epsilon <= rep.pp.tol
    for n in ("KKT", "Clarke", "B", "W", "A", "C", "M", "S", "B_P"):
        assert isinstance(rep.verdict(n), Verdict)
    with pytest.raises(ValueError, match="notion must be one of"):
        rep.verdict("Q")
    line = rep.summary_line()
    assert line.startswith("(PP) KKT holds") and "\n" not in line and "| (P) W" in line
    text = rep.text()
    assert len(text.splitlines()) >= 10 and "(PP) KKT (limiting)" in text and "eps" in text
    r = repr(rep)
    assert len(r) < 300 and "KKT='holds'" in r
    assert "<table>" in rep._repr_html_() and "| notion |" in rep._repr_markdown_()
    d = rep.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["format_version"] == 2 and d["notions"]["KKT"]["outcome"] == "holds"
    assert rep.check()["accepted"]
    t = rep.talk_multipliers("KKT")
    assert t is not None and all(np.all(M >= -rep.pp.tol) for M in t["M1"])


def test_a_forged_witness_is_rejected_by_check(holding):
    inst, rep = holding
    import copy

    forged = copy.deepcopy(rep)
    wit = forged.pp.results["KKT"].witness
    wit["Xi"][0] = wit["Xi"][0] + 1.0
    assert not forged.check()["accepted"]
    forged = copy.deepcopy(rep)
    forged.pp.results["KKT"].witness["M1"][0][:] = np.nan
    assert not forged.check()["accepted"]
    # the caller's tolerance, not the certificate's: a tolerance below the witness residual rejects
    from ialam_verify.stationarity import Tolerances

    eps = rep.verdict("KKT").epsilon
    if eps > 0:
        assert not rep.check(Tolerances(tol=eps / 2))["accepted"]
    assert rep.check(Tolerances(tol=1e-6))["accepted"]


def test_certify_structured_and_generic_give_the_same_verdicts_here(holding):
    inst, rep = holding
    gen = certify(inst.problem, inst.point, method="generic")
    for n in ("KKT", "Clarke", "W", "S"):
        a, b = rep.verdict(n), gen.verdict(n)
        if a.decided and b.decided:
            assert a.outcome == b.outcome, (n, a, b)
    with pytest.raises(ValueError, match="method"):
        certify(inst.problem, inst.point, method="fast")


def test_certify_network_numpy_rows_and_columns_and_default_beta(holding):
    inst, _ = holding
    prob, pt = inst.problem, inst.point
    net = (pt.W, pt.b)
    a = certify_network(net, prob.X, prob.Y, alpha=prob.alpha, lambda_w=0.0, beta=4.0)
    b = certify_network(net, prob.X.T, prob.Y.T, alpha=prob.alpha, lambda_w=0.0, beta=4.0,
                        samples="rows")
    assert a.summary_line().split("[")[0] == b.summary_line().split("[")[0]
    assert a.verdict("KKT") == "holds"
    c = certify_network(net, prob.X, prob.Y, alpha=prob.alpha, lambda_w=0.0)
    assert c.problem.beta == default_beta(prob.Y, 2)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(alpha=1.5), "alpha"),
        (dict(alpha=0.0), "alpha"),
        (dict(lambda_w=-1.0), "lambda_w"),
        (dict(lambda_v=-1.0), "lambda_v"),
        (dict(samples="cols"), "samples"),
        (dict(X=np.full((2, 4), np.nan)), "X"),
        (dict(X=np.zeros((3, 4))), "X must have 2 features"),
        (dict(Y=np.zeros((1, 5))), "same number of samples"),
        (dict(network=([np.zeros((3, 2))], [np.zeros(2)])), "biases\\[0\\]"),
        (dict(network=([np.zeros((3, 2)), np.zeros((1, 2))], [np.zeros(3), np.zeros(1)])), "weights\\[1\\]"),
        (dict(network="net"), "network must be"),
    ],
)
def test_certify_network_rejects_bad_input(kw, match):
    args = dict(
        network=([np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)]),
        X=np.zeros((2, 4)),
        Y=np.zeros((1, 4)),
        alpha=0.5,
        lambda_w=0.0,
    )
    args.update(kw)
    net, X, Y = args.pop("network"), args.pop("X"), args.pop("Y")
    with pytest.raises(ValueError, match=match):
        certify_network(net, X, Y, **args)


@pytest.mark.torch
def test_certify_network_from_torch_sequential(holding):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    inst, _ = holding
    prob, pt = inst.problem, inst.point
    seq = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.5), nn.Linear(3, 1), nn.LeakyReLU(0.5))
    with torch.no_grad():
        for lin, W, b in zip((seq[0], seq[2]), pt.W, pt.b, strict=True):
            lin.weight.copy_(torch.tensor(W))
            lin.bias.copy_(torch.tensor(b))
    a = certify_network(seq.double(), prob.X.T, prob.Y.T, alpha=0.5, lambda_w=0.0, beta=4.0,
                        samples="rows")
    assert a.verdict("KKT") == "holds"
    with pytest.raises(ValueError, match="LeakyReLU"):
        certify_network(nn.Sequential(nn.Linear(2, 1), nn.ReLU()), prob.X.T, prob.Y.T, alpha=0.5,
                        lambda_w=0.0, samples="rows")
    with pytest.raises(ValueError, match="negative_slope"):
        certify_network(nn.Sequential(nn.Linear(2, 1), nn.LeakyReLU(0.1)), prob.X.T, prob.Y.T,
                        alpha=0.5, lambda_w=0.0, samples="rows")
    with pytest.raises(ValueError, match="Linear"):
        certify_network(nn.Sequential(nn.Tanh()), prob.X.T, prob.Y.T, alpha=0.5, lambda_w=0.0,
                        samples="rows")


def _write_network(tmp_path, inst, break_pair=False):
    prob, pt = inst.problem, inst.point
    w = tmp_path / "net.npz"
    np.savez(w, **{f"W{l}": W for l, W in enumerate(pt.W)}, **{f"b{l}": b for l, b in enumerate(pt.b)})
    Y = prob.Y.copy()
    if break_pair:
        Y[0, 0] += 1.0
    d = tmp_path / "data.npz"
    np.savez(d, X=prob.X, Y=Y)
    return str(w), str(d)


def test_cli_certify_weights_with_data_and_require(holding, tmp_path, capsys):
    inst, _ = holding
    w, d = _write_network(tmp_path, inst)
    base = ["certify", w, "--data", d, "--alpha", "0.5", "--beta", "4"]
    assert main([*base, "--require", "KKT"]) == 0
    assert "KKT" in capsys.readouterr().out
    assert main([*base, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format_version"] == 2 and out["notions"]["KKT"]["outcome"] == "holds"
    # beta = 0: the sign conditions fail at the active entries -> proved failure, exit 4
    assert main(["certify", w, "--data", d, "--alpha", "0.5", "--beta", "0", "--require", "KKT"]) == 4
    capsys.readouterr()
    # a mirrored pair broken: KKT fails; "undetermined" gets exit 5 (B_P at biactive entries,
    # left to the generic path, with --method structured)
    code = main([*base, "--require", "B_P", "--method", "structured"])
    assert code in (0, 4, 5)
    rep = certify_network((inst.point.W, inst.point.b), inst.problem.X, inst.problem.Y, alpha=0.5,
                          lambda_w=0.0, beta=4.0, method="structured")
    expected = {"holds": 0, "fails": 4, "undetermined": 5}[str(rep.verdict("B_P"))]
    assert code == expected
    capsys.readouterr()


def test_cli_certify_bad_inputs_say_what_is_wrong(holding, tmp_path, capsys):
    inst, _ = holding
    w, d = _write_network(tmp_path, inst)
    assert main(["certify", w]) == 2
    assert "not a result" in capsys.readouterr().err
    assert main(["certify", w, "--data", d]) == 2
    assert "--alpha is required" in capsys.readouterr().err
    assert main(["certify", w, "--data", d, "--alpha", "1.5"]) == 2
    assert "alpha" in capsys.readouterr().err
    assert main(["certify", d, "--data", d, "--alpha", "0.5"]) == 2
    assert "W0" in capsys.readouterr().err
    assert main(["certify", w, "--data", str(tmp_path / "none.npz"), "--alpha", "0.5"]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_text("not a zip")
    assert main(["certify", w, "--data", str(bad), "--alpha", "0.5"]) == 2
    assert "not a readable" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse: exit 2 and the list of notions
        main(["certify", w, "--data", d, "--alpha", "0.5", "--require", "XYZ"])
    assert exc.value.code == 2 and "B_P" in capsys.readouterr().err
