"""The shared Verdict type: truth value, comparison, validation, JSON round trip."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from ialam_verify.verdict import Outcome, Verdict

outcomes = st.sampled_from(list(Outcome))
finite_or_none = st.none() | st.floats(allow_nan=False)


def first(strategy):
    """The first example drawn: deterministic and not shrunk (shrinking costs seconds)."""
    return find(
        strategy,
        lambda _: True,
        settings=settings(phases=[Phase.generate], database=None, derandomize=True),
    )


def test_bool_is_true_only_for_holds():
    assert Verdict.holds("witness")
    for v in (Verdict.fails("proof"), Verdict.undetermined("why"), Verdict.inconclusive("solver")):
        assert not v
        with pytest.raises(AssertionError):
            assert v  # a "no" can never pass an assert


def test_from_bool_and_value():
    assert Verdict.from_bool(True).outcome is Outcome.HOLDS
    assert Verdict.from_bool(False).outcome is Outcome.FAILS
    assert Verdict.from_bool(None, "open").outcome is Outcome.UNDETERMINED
    assert [Verdict.from_bool(b).value for b in (True, False, None)] == [True, False, None]
    assert Verdict.fails().proved_false and not Verdict.undetermined("x").proved_false


def test_compares_to_its_outcome_string():
    assert Verdict.holds() == "holds"
    assert Verdict.fails() != "holds"
    assert str(Verdict.undetermined("r")) == "undetermined"


@pytest.mark.parametrize("bad", ["yes", "HOLDS ", 1, None])
def test_unknown_outcome_refused(bad):
    with pytest.raises(ValueError, match="outcome must be one of"):
        Verdict(bad)


def test_nan_residual_refused():
    with pytest.raises(ValueError, match="residual must not be NaN"):
        Verdict.holds(residual=float("nan"))


@given(outcomes, st.text(max_size=20), finite_or_none, finite_or_none)
def test_json_round_trip(outcome, reason, residual, epsilon):
    v = Verdict(outcome, reason, residual, epsilon)
    d = json.loads(json.dumps(v.to_dict(), allow_nan=False))
    w = Verdict.from_dict(d)
    assert w == v and hash(w) == hash(v)
    assert bool(w) is (outcome is Outcome.HOLDS)


def test_infinite_residual_round_trip():
    v = Verdict.fails("no multiplier", residual=math.inf)
    assert Verdict.from_dict(json.loads(json.dumps(v.to_dict(), allow_nan=False))) == v


def test_no_from_the_cases_cannot_pass_an_assert():
    """The issue's example: |x| at x = 1 has Clarke set {1}, so "Clarke stationary" is "no"."""
    import sympy as sp

    from ialam_verify.cases import analyze

    x = sp.Symbol("x")
    v = analyze(sp.Abs(x), [x], [1]).clarke_stationary
    assert isinstance(v, Verdict) and v.proved_false
    with pytest.raises(AssertionError):
        assert v
    assert analyze(sp.Abs(x), [x], [0]).clarke_stationary  # and a "yes" does pass


@pytest.mark.parametrize("klass", ["S", "M", "C", "A", "W", "none"])
def test_no_from_a_certificate_cannot_pass_an_assert(klass):
    """Every verdict a certificate reports, read through ialam_verify.testing, is truthy exactly
    when it holds; and once NotionResult.verdict is itself a Verdict, the same holds for it."""
    from ialam_verify.stationarity import classify
    from ialam_verify.testing import verdicts_of
    from ialam_verify.testing.strategies import mpcc_instances

    ex = first(mpcc_instances(klass, unique=True, max_pairs=2))
    cert = classify(ex.problem)
    for notion, v in verdicts_of(cert).items():
        assert isinstance(v, Verdict)
        assert bool(v) is (ex.expected[notion] == "holds")
        if not v:
            with pytest.raises(AssertionError):
                assert v
        raw = cert.results[notion].verdict
        if isinstance(raw, Verdict):
            assert bool(raw) is bool(v)
