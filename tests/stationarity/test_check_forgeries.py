"""check() against certificates made to fool it: every forgery of issue 9 is rejected, malformed ones
raise ValueError naming the field, and "fails" needs a proof that check re-verifies."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.stationarity import (
    MPCC,
    Certificate,
    Multipliers,
    Tolerances,
    check,
    classify,
)

x, y = sp.symbols("x y")


def pair_problem(f) -> MPCC:
    return MPCC.from_sympy(f, [x, y], [0, 0], G=[x], H=[y])


def as_dict(cert: Certificate) -> dict:
    return json.loads(cert.to_json())


def test_a_genuine_certificate_round_trips_and_is_accepted(tmp_path):
    prob = pair_problem(x - y)
    cert = classify(prob)
    path = tmp_path / "cert.json"
    cert.save(str(path))
    data = json.loads(path.read_text())
    assert data["format_version"] == 2
    back = Certificate.load(str(path))
    assert back.verdicts() == cert.verdicts()
    rep = check(back, prob)
    assert rep.accepted and rep["accepted"], rep
    assert {e["status"] for e in rep.per_notion.values()} == {"proved"}


def test_nan_witness_claiming_s_is_rejected():
    """f = x - y: the unique multiplier is (1, -1), S fails. A witness of NaNs makes max() drop the
    violation; check must not."""
    prob = pair_problem(x - y)
    data = as_dict(classify(prob))
    forged = copy.deepcopy(data["results"]["W"])
    forged["verdict"] = "holds"
    forged["witness"]["nu"] = [float("nan")]
    forged["witness"]["w"] = [float("nan")]
    data["results"]["S"] = forged
    rep = check(Certificate.from_dict(data), prob)
    assert not rep.accepted
    assert rep.per_notion["S"]["status"] == "rejected"
    assert any("NaN" in m for m in rep.messages), rep.messages
    # the same through JSON text (json accepts NaN literals)
    text = json.dumps(data)
    assert not check(Certificate.from_dict(json.loads(text)), prob).accepted


@pytest.mark.parametrize("field,value", [("tol", 5.0), ("act_tol", 10.0)])
def test_edited_certificate_tolerances_are_ignored(field, value):
    """A "holds" edited to tol = 5 (S with the W multiplier (1, -1)) or act_tol = 10 (KKT with a
    multiplier on the inactive constraint g = 5 - x >= 0 at x = 0) is rejected: check uses the
    caller's tolerances."""
    if field == "tol":
        prob = pair_problem(x - y)
        data = as_dict(classify(prob))
        data["results"]["S"] = dict(data["results"]["W"], verdict="holds")
        name = "S"
    else:
        prob = MPCC.create([-1.0], g=[5.0], Jg=[[-1.0]])  # f = -x, g = 5 - x: KKT needs lam = 1
        data = as_dict(classify(prob))
        assert data["results"]["KKT"]["verdict"] == "fails"
        data["results"]["KKT"]["verdict"] = "holds"
        data["results"]["KKT"]["witness"] = Multipliers(
            np.array([1.0]), np.zeros(0), np.zeros(0), np.zeros(0), [], np.zeros(0)
        ).to_dict()
        name = "KKT"
    data[field] = value
    data["tolerances"][field] = value
    cert = Certificate.from_dict(data)
    rep = check(cert, prob)
    assert not rep.accepted and rep.per_notion[name]["status"] == "rejected", rep
    # even the certificate's own numbers, passed explicitly, do not rescue the act_tol forgery's sign
    if field == "tol":
        assert rep.per_notion["S"]["pair_rule"] == pytest.approx(1.0)


def kink_problem(gamma: float) -> MPCC:
    """f = gamma x - beta sigma(x), sigma leaky ReLU (alpha, 1), beta = 2, at x = 0 (concave kink)."""
    return MPCC.create(
        [gamma], kink_t=[0.0], T=[[1.0]], kink_coef=[-2.0], slope_neg=0.25, slope_pos=1.0
    )


def test_b_by_implication_at_a_concave_kink_is_rejected():
    """gamma = beta: KKT holds with slope 1, but f(-t) = -2t + 0.5t < 0: B fails. S => B is not a
    theorem at a concave kink, so a certificate claiming B "holds" by implication is rejected."""
    prob = kink_problem(2.0)
    cert = classify(prob)
    assert cert.verdicts() == dict(KKT="holds", Clarke="holds", B="fails")
    f = lambda t: 2.0 * t - 2.0 * (t if t >= 0 else 0.25 * t)  # noqa: E731
    assert f(-1e-3) < f(0.0)  # B fails, independently
    data = as_dict(cert)
    data["results"]["B"] = dict(
        data["results"]["KKT"], method="implication", descent_direction=None
    )
    rep = check(Certificate.from_dict(data), prob)
    assert not rep.accepted
    assert any("concave kink" in m for m in rep.messages), rep.messages


def test_b_by_implication_is_accepted_where_it_is_a_theorem():
    """Convex kink: S (KKT) => B holds; the implication is accepted."""
    prob = MPCC.create(
        [-1.25], kink_t=[0.0], T=[[1.0]], kink_coef=[2.0], slope_neg=0.25, slope_pos=1.0
    )
    data = as_dict(classify(prob))
    assert data["results"]["KKT"]["verdict"] == "holds"
    data["results"]["B"] = dict(data["results"]["KKT"], method="implication")
    assert check(Certificate.from_dict(data), prob).accepted


def test_malformed_certificates_raise_value_error_naming_the_field():
    prob = pair_problem(x + y)
    good = as_dict(classify(prob))

    def broken(edit):
        d = copy.deepcopy(good)
        edit(d)
        return d

    cases = [
        (lambda d: d["results"]["S"].pop("verdict"), r"results\['S'\].*verdict"),
        (lambda d: d["results"]["S"]["witness"].pop("nu"), r"witness.*nu"),
        (lambda d: d["results"]["S"].__setitem__("verdict", "probably"), r"verdict must be one of"),
        (lambda d: d["results"].__setitem__("Q", d["results"]["S"]), r"unknown notion 'Q'"),
        (lambda d: d.pop("kind"), r"kind"),
        (lambda d: d.__setitem__("format_version", 99), r"format_version"),
    ]
    for edit, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            check(Certificate.from_dict(broken(edit)), prob)
    # wrong length: detected against the problem, naming the field
    d = broken(lambda d: d["results"]["S"]["witness"].__setitem__("nu", [1.0, 2.0]))
    with pytest.raises(ValueError, match=r"results\['S'\].witness.nu must have length 1"):
        check(Certificate.from_dict(d), prob)
    with pytest.raises(ValueError, match="tolerances must be a Tolerances"):
        check(Certificate.from_dict(good), prob, tolerances={"tol": 1.0})


def test_fails_needs_a_proof_that_check_re_verifies():
    """f = x + y: S holds. A forged "S fails" without proof is unproved; with the proof of another
    problem's failure it is rejected; a genuine failure's proof is re-proved."""
    prob = pair_problem(x + y)
    data = as_dict(classify(prob))
    data["results"]["S"] = {"verdict": "fails", "reason": "forged"}
    rep = check(Certificate.from_dict(data), prob)
    assert not rep.accepted and rep.per_notion["S"]["status"] == "unproved"
    other = pair_problem(x - y)  # S fails there, with a dual certificate
    other_cert = classify(other)
    assert check(other_cert, other).per_notion["S"]["status"] == "proved"
    data["results"]["S"] = as_dict(other_cert)["results"]["S"]
    rep = check(Certificate.from_dict(data), prob)
    assert not rep.accepted and rep.per_notion["S"]["status"] != "proved", rep
    # a dual vector scaled up does not help: the bound is per unit ||y||_1
    data2 = as_dict(other_cert)
    for p in data2["results"]["S"]["proof"]:
        p["y"] = [1e6 * v for v in p["y"]]
    assert check(Certificate.from_dict(data2), other).per_notion["S"]["status"] == "proved"
    # a proof whose region misses part of the set (nu free replaced by nu >= 0 on the W proof of
    # a failing W elsewhere) is rejected by the cover test
    data3 = as_dict(other_cert)
    data3["results"]["W"] = dict(data3["results"]["S"])
    rep3 = check(Certificate.from_dict(data3), other)
    assert rep3.per_notion["W"]["status"] == "rejected", rep3


def test_forged_b_descent_direction_is_rejected():
    """f = x + y is B-stationary; a "B fails" with a direction outside the cone (or not a descent
    direction) is rejected, however it is scaled."""
    prob = pair_problem(x + y)
    data = as_dict(classify(prob))
    for d in ([-1.0, 0.0], [1e9, 0.0], [-1e-9, -1e-9], [float("nan"), 0.0]):
        data["results"]["B"] = {"verdict": "fails", "reason": "forged", "descent_direction": d}
        rep = check(Certificate.from_dict(data), prob)
        assert rep.per_notion["B"]["status"] == "rejected", (d, rep)


def test_the_callers_tolerance_decides():
    """A witness with residual 1e-7 holds at tol 1e-6 and is rejected by a caller asking 1e-9."""
    prob = MPCC.create([1e-7])
    cert = classify(prob)
    assert cert.verdicts()["KKT"] == "holds"
    assert check(cert, prob).accepted
    strict = check(cert, prob, Tolerances(tol=1e-9))
    assert not strict.accepted
    assert any("residual" in m for m in strict.messages)


def test_a_fails_proof_too_weak_for_the_callers_tolerance_is_unproved():
    """f = x - y: the residual is (1 - nu, -1 - w), so over nu, w >= 0 its inf-norm is at least
    |1 + w| >= 1, attained at nu = 1, w = 0: S fails with smallest residual 1. At a caller's tol of
    10 the stored bound no longer exceeds the tolerance: "unproved", not "rejected"."""
    prob = pair_problem(x - y)
    cert = classify(prob)
    bound = check(cert, prob).per_notion["S"]["lower_bound"]
    assert bound == pytest.approx(1.0, abs=1e-6)
    rep = check(cert, prob, Tolerances(tol=10.0))
    assert rep.per_notion["S"]["status"] == "unproved" and not rep.accepted


def test_format_1_certificates_are_still_read():
    """A certificate written before format_version (tol/act_tol at top level, absolute tolerance)
    is read; its claims are re-proved like any other."""
    prob = pair_problem(x + y)
    data = as_dict(classify(prob))
    for k in ("format_version", "tolerances", "scale"):
        data.pop(k)
    for r in data["results"].values():
        r.pop("proof", None)
        r.pop("epsilon", None)
    old = Certificate.from_dict(data)
    assert old.tolerances.scaled is False and old.verdicts() == classify(prob).verdicts()
    assert check(old, prob).accepted


def _instances():
    from test_bruteforce import instances

    return instances()


@given(st.deferred(_instances), st.sampled_from(["W", "A", "C", "M", "S"]))
@settings(max_examples=20)
def test_check_never_accepts_what_brute_force_refutes(prob, source):
    """Forge every claim from one notion's evidence: "holds" with its witness (when it has one) and
    "fails" with its dual certificates (when it has them). Whatever check accepts agrees with
    brute-force enumeration (scipy linprog over the sign cells, written from the definitions)."""
    from _bruteforce import brute_min_residual

    from ialam_verify.stationarity import problem_scale

    cert = classify(prob, tolerances=Tolerances(band=1.0))
    src = cert.results[source]
    tau = 1e-6 * problem_scale(prob)
    data = as_dict(cert)
    for name in ("W", "A", "C", "M", "S"):
        forged = dict(as_dict(cert)["results"][source])
        forged["verdict"] = "holds" if src.witness is not None else "fails"
        data["results"][name] = forged
    data["results"].pop("B")
    rep = check(Certificate.from_dict(data), prob)
    if src.verdict.decided:  # the genuine evidence, under its own name, is re-proved
        assert rep.per_notion[source]["status"] == "proved", rep
    for name in ("W", "A", "C", "M", "S"):
        if rep.per_notion[name]["status"] == "proved":
            rho = brute_min_residual(prob, name)
            if rep.per_notion[name]["claimed"] == "holds":
                assert rho <= tau + 1e-9, (name, source, rho)
            else:
                assert rho > tau, (name, source, rho)
