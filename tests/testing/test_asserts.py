"""The assertions: pass on proved verdicts only, and fail with a message that says what differs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings

from ialam_verify.model import Problem
from ialam_verify.stationarity import Certificate, certify, classify
from ialam_verify.testing import (
    assert_certified,
    assert_not_stationary,
    assert_stationary,
    save_certificate,
    verdicts_of,
)
from ialam_verify.testing._diagnose import lifted_variable_name
from ialam_verify.testing.strategies import mpcc_instances, problems
from ialam_verify.verdict import Verdict

N_EXAMPLES = 200
ORDER = ("W", "A", "C", "M", "S")


def first(strategy):
    """The first example drawn: deterministic and not shrunk (shrinking costs seconds)."""
    return find(
        strategy,
        lambda _: True,
        settings=settings(phases=[Phase.generate], database=None, derandomize=True),
    )


@settings(max_examples=N_EXAMPLES)
@given(mpcc_instances())
def test_assertions_follow_the_known_class(ex):
    """One certificate per example: every notion of the class passes assert_certified, every other
    one makes it raise, and the verdicts read back are the expected ones."""
    cert = classify(ex.problem)
    for notion in ORDER:
        if ex.expected[notion] == "holds":
            assert_certified(cert, notion, problem=ex.problem)
        else:
            with pytest.raises(AssertionError, match=f"expected {notion} to hold"):
                assert_certified(cert, notion, problem=ex.problem)
    assert {k: str(v) for k, v in verdicts_of(cert, ORDER).items()} == {
        k: ex.expected[k] for k in ORDER
    }


def test_assert_stationary_and_not_on_mpcc_data():
    ex = first(mpcc_instances("C", unique=True))
    cert = assert_stationary(ex.problem, notion="C")
    assert isinstance(cert, Certificate)
    assert_not_stationary(ex.problem, notion="S")
    with pytest.raises(AssertionError, match="expected C to fail"):
        assert_not_stationary(ex.problem, notion="C")


def planted_non_stationary():
    """One neuron, two samples with positive pre-activations (no kink), targets 0, no group lasso:
    the loss derivative in the output bias is (2/N) sum(v - y) = 3 != 0, so no multiplier makes
    the b-equation of (PP) hold: KKT fails, by hand."""
    X = np.array([[1.0, 2.0]])
    Y = np.zeros((1, 2))
    W, b = [np.array([[1.0]])], [np.array([0.0])]
    return (W, b), (X, Y)


def test_planted_non_stationary_network_message():
    net, data = planted_non_stationary()
    with pytest.raises(AssertionError) as info:
        assert_stationary(net, data, notion="KKT", alpha=0.25, lambda_w=0.0, beta=1.0)
    msg = str(info.value)
    # independent: the certificate of the same point, read directly
    problem = Problem.create(data[0], data[1], (1, 1), 0.25, 0.0, 0.0, 1.0)
    rep = certify(problem, problem.lift(*net))
    v = rep.verdict("KKT")  # the certifier's own reading
    assert v == "fails" and v.epsilon is not None
    assert "expected KKT to hold" in msg
    assert re.search(r"notion: +KKT", msg)
    assert re.search(r"verdict: +fails -- ", msg)
    assert f"residual: {v.residual:.3g}" in msg
    assert f"epsilon:  {v.epsilon:.3g}  (KKT holds for tol >= epsilon" in msg
    assert f"relative to the problem scale {rep.pp.scale:.3g}" in msg
    assert "worst violated condition:" in msg
    assert "other notions: Clarke fails" in msg
    # and the same point passes the opposite assertion
    assert_not_stationary(net, data, notion="KKT", alpha=0.25, lambda_w=0.0, beta=1.0)


def test_worst_violated_condition_names_the_broken_rule():
    """S fails while W holds: the message names the sign rule of the W witness that S breaks."""
    ex = first(mpcc_instances("C", unique=True, max_pairs=1))
    with pytest.raises(AssertionError) as info:
        assert_stationary(ex.problem, notion="S")
    assert "pair_rule = " in str(info.value)
    assert "for the W witness" in str(info.value)


def test_undetermined_passes_neither_assertion():
    """G = 3e-6 lies in the activity band around act_tol = 1e-6, so W is undetermined
    (tests/stationarity/test_known_answers.py has the derivation)."""
    from ialam_verify.stationarity import MPCC

    prob = MPCC.create([-1.0, -1.0], G=[3e-6], JG=[[1.0, 0.0]], H=[0.0], JH=[[0.0, 1.0]])
    cert = classify(prob)
    assert cert.results["W"].verdict == "undetermined"
    with pytest.raises(AssertionError, match="verdict: +undetermined"):
        assert_certified(cert, "W", problem=prob)
    with pytest.raises(AssertionError, match="expected W to fail"):
        assert_not_stationary(prob, notion="W")


def test_a_tampered_witness_fails_the_recheck():
    ex = first(mpcc_instances("S", unique=True, max_pairs=1))
    cert = classify(ex.problem)
    data = cert.to_dict()
    data["results"]["S"]["witness"]["nu"] = [-5.0]
    bad = Certificate.from_dict(data)
    with pytest.raises(AssertionError, match="re-check: the witness did not pass check"):
        assert_certified(bad, "S", problem=ex.problem)


def test_save_to_writes_the_certificate_only_on_failure(tmp_path):
    net, data = planted_non_stationary()
    out = tmp_path / "failing.json"
    with pytest.raises(AssertionError, match=f"certificate saved to {re.escape(str(out))}"):
        assert_stationary(net, data, alpha=0.25, beta=1.0, save_to=out)
    doc = json.loads(out.read_text())
    assert doc["notion"] == "KKT" and Verdict.from_dict(doc["verdict"]) == "fails"
    assert doc["certificate"]["PP"]["verdicts"]["KKT"] == "fails"
    assert "KKT" in json.dumps(doc["certificate"]["PP_certificate"])  # the full certificate too
    ok = tmp_path / "not-written.json"
    assert_not_stationary(net, data, alpha=0.25, beta=1.0, save_to=ok)
    assert not ok.exists()


def test_save_certificate_handles_infinities_and_folders(tmp_path):
    ex = first(mpcc_instances("none", unique=True, max_pairs=1))
    cert = classify(ex.problem)
    path = save_certificate(cert, tmp_path, extra={"note": np.float64(np.inf)})
    assert path == tmp_path / "certificate.json"
    doc = json.loads(path.read_text())
    assert doc["extra"]["note"] == "inf"
    assert Certificate.from_dict(doc["certificate"]).verdicts() == cert.verdicts()
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left no temporary file


@pytest.mark.parametrize(
    ("args", "kw", "match"),
    [
        (("not a problem", None), {}, "problem_or_network must be"),
        ((([], []), "no data"), {}, "point must be the data"),
        (
            (([np.eye(1)], [np.zeros(1)]), (np.ones((1, 2)), np.ones((1, 2)))),
            {},
            "alpha is required",
        ),
        (
            (([np.eye(1)], [np.zeros(1)]), (np.ones((1, 2)), np.ones((1, 2)))),
            {"alpha": 0.5, "gamma": 1},
            "unknown network options",
        ),
        ((), {"notion": 3}, "notion must be a str"),
    ],
)
def test_bad_input_is_named(args, kw, match):
    if not args:
        args = planted_non_stationary()
    with pytest.raises(ValueError, match=match):
        assert_stationary(*args, **kw)


@settings(max_examples=50)
@given(problems())
def test_lifted_variable_names_match_the_vector_layout(pn):
    """Independent of the Layout offsets: encode every entry of a point by its own name, flatten
    with LiftedPoint.to_vectors, and read each index's name back."""
    problem, _ = pn
    point = problem.lift([np.zeros_like(W) for W in pn[1].weights], list(pn[1].biases))
    names = {}
    for key in ("W", "b", "V", "U"):
        for l, A in enumerate(getattr(point, key)):
            for idx in np.ndindex(A.shape):
                code = float(len(names) + 1)
                A[idx] = code
                names[code] = (
                    f"{key}[{l}][{idx[0]}]" if key == "b" else f"{key}[{l}][{idx[0]}, {idx[1]}]"
                )
    x = np.concatenate(point.to_vectors())
    for i, code in enumerate(x):
        assert lifted_variable_name(problem, i) == names[code]


def test_worst_equation_points_at_the_planted_bias():
    """One neuron, no kink: the only unsatisfiable equations are those of b and of the samples'
    outputs; the diagnostic names one of them."""
    net, data = planted_non_stationary()
    with pytest.raises(AssertionError) as info:
        assert_stationary(net, data, alpha=0.25, beta=1.0)
    assert re.search(
        r"worst at the equation of (b\[0\]\[0\]|[UV]\[0\]\[0, [01]\]|W\[0\]\[0, 0\])",
        str(info.value),
    )
