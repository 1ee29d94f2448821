"""The coverage check of (P) branch regions (network_biactive.covered) against brute force over every
combination of sign cells; its shortcut (a region free below) and its node cap."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.stationarity import network_biactive as nb
from ialam_verify.stationarity.kernel import pair_cells

CHARS = "f+-0"


def brute(notion, regions, K) -> bool:
    cells = pair_cells(notion)
    for combo in itertools.product(cells, repeat=K):
        if not any(
            all(c[0] in nb._CONTAINS[nu[d]] and c[1] in nb._CONTAINS[w[d]] for d, c in enumerate(combo))
            for nu, w in regions
        ):
            return False
    return True


region = st.integers(1, 5).flatmap(
    lambda K: st.tuples(
        st.just(K),
        st.lists(
            st.tuples(st.text(CHARS, min_size=K, max_size=K), st.text(CHARS, min_size=K, max_size=K)),
            min_size=0, max_size=6,
        ),
    )
)


@settings(max_examples=200, deadline=None)
@given(notion=st.sampled_from(["A", "C", "M", "S", "W"]), case=region)
def test_covered_equals_brute_force(notion, case):
    K, regs = case
    regions = [(np.array(list(nu)), np.array(list(w))) for nu, w in regs]
    assert nb.covered(notion, regions, K) == brute(notion, regions, K)


def test_many_entries_with_a_free_tail_are_quick_and_the_cap_says_not_covered(monkeypatch):
    K = 40  # 3^40 or more combinations: only the shortcut makes this finish
    free = (np.array(["f"] * K), np.array(["f"] * K))
    half = (np.array(["+"] + ["f"] * (K - 1)), np.array(["f"] * K))
    assert nb.covered("M", [half, free], K)
    # without a free tail the walk visits every combination: a covering set of explicit cells
    cells = pair_cells("M")
    K = 3
    every = [(np.array([c[0] for c in combo]), np.array([c[1] for c in combo]))
             for combo in itertools.product(cells, repeat=K)]
    assert brute("M", every, K) and nb.covered("M", every, K)
    monkeypatch.setattr(nb, "MAX_COVER_NODES", 5)  # the cap: "not shown to cover", never a wrong True
    assert nb.covered("M", every, K) is False
