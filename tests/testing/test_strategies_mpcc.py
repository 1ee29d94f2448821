"""MPCC instances of a known class: the generic certifier and brute-force enumeration agree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings

from ialam_verify.stationarity import check, classify, stationarity_residual
from ialam_verify.stationarity.kernel import Activity, multiplier_violation
from ialam_verify.testing.oracles import brute_min_residual
from ialam_verify.testing.strategies import CLASSES, mpcc_instances, pair_notions

N_EXAMPLES = 200


def first(strategy):
    """The first example drawn: deterministic and not shrunk (shrinking costs seconds)."""
    return find(
        strategy,
        lambda _: True,
        settings=settings(phases=[Phase.generate], database=None, derandomize=True),
    )


@settings(max_examples=N_EXAMPLES)
@given(mpcc_instances())
def test_known_class_is_what_the_generic_certifier_finds(ex):
    cert = classify(ex.problem)
    assert {k: str(cert.results[k].verdict) for k in ex.expected} == ex.expected
    strongest = cert.strongest
    assert strongest == ([] if ex.klass == "none" else [ex.klass]) or (
        ex.klass == "W" and strongest == ["W"]
    )
    assert check(cert, ex.problem)["accepted"]
    if ex.multipliers is not None:  # the planted multiplier is a witness of the class
        assert np.max(np.abs(stationarity_residual(ex.problem, ex.multipliers))) < 1e-9
        act = Activity.at(ex.problem, 1e-6)
        viol = multiplier_violation(ex.problem, act, ex.multipliers, ex.klass, "limiting")
        assert max(viol.values()) == 0.0


def _agrees_with_enumeration(ex):
    for notion in ("W", "A", "C", "M", "S"):
        rho = brute_min_residual(ex.problem, notion)
        if ex.expected[notion] == "holds":
            assert rho <= 1e-9, (notion, rho)
        else:
            assert rho > 1e-3, (notion, rho)


@settings(max_examples=N_EXAMPLES)
@given(mpcc_instances(max_pairs=1))
def test_known_class_agrees_with_brute_force_enumeration(ex):
    """The construction checked without classify: the smallest residual over each notion's
    multiplier set, by enumerating sign cells with scipy's linprog, is 0 exactly when expected
    (one biactive pair: 9 cells; class W needs two, next test)."""
    _agrees_with_enumeration(ex)


@settings(max_examples=20)
@given(mpcc_instances("W", max_pairs=2))
def test_class_w_agrees_with_brute_force_enumeration(ex):
    _agrees_with_enumeration(ex)


@pytest.mark.parametrize("klass", CLASSES)
@pytest.mark.parametrize("unique", [True, False])
def test_every_class_is_reachable_with_and_without_unique_multipliers(klass, unique):
    ex = first(mpcc_instances(klass, unique=unique))
    assert ex.klass == klass and ex.unique is unique
    assert ("B" in ex.expected) is unique


def test_pair_sets_by_hand():
    """Spot values of the per-pair rule, derived by hand from the definitions."""
    assert pair_notions("point", -1.0, -1.0) == {"W", "C"}
    assert pair_notions("point", 1.0, -1.0) == {"W", "A"}
    assert pair_notions("point", 0.0, -1.0) == {"W", "A", "C", "M"}
    assert pair_notions("nu_free", -1.0, -1.0) == {"W", "A", "C", "M"}  # nu = 0 is allowed
    assert pair_notions("nu_down", -1.0, 1.0) == {"W", "A"}  # nu <= -1 < 0 < w
    assert pair_notions("w_up", -1.0, -1.0) == {"W", "A", "C", "M"}  # w >= -1 reaches 0


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(klass="X"), "klass must be one of"),
        (dict(klass="W", max_pairs=1), "needs max_pairs >= 2"),
        (dict(max_pairs=0), "max_pairs >= 1"),
    ],
)
def test_bad_parameters_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        mpcc_instances(**kw)
