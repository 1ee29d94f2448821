"""The matrix-free least-squares witness of (P) (network_lsq) against the reduced program's dense
matrix B (built by other code, network_program), and the proof it gives where the dense program is
refused. Each check is a second formulation: B's columns, the residual's norm, B^T r = 0."""

from __future__ import annotations

import numpy as np
import pytest
from _network_instances import planted_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from ialam_verify.stationarity import Tolerances, check, classify, p_problem
from ialam_verify.stationarity import network_program as npg
from ialam_verify.stationarity.network import _Decider, decide_notions
from ialam_verify.stationarity.network_candidates import least_squares_solution
from ialam_verify.stationarity.network_lsq import free_entry_columns, least_squares_witness

SIZES = [(2, 3, 1), (3, 4, 2), (3, 4, 3, 2), (2, 2, 2, 1)]


def decider(seed: int, sizes, n_zero_columns: int, lam: float, break_pair: bool):
    inst = planted_instance(
        seed, sizes, 3, alpha=0.25, lambda_w=lam, n_zeros=4,
        n_zero_columns=n_zero_columns, break_pair=break_pair,
    )
    pt = inst.problem.lift(inst.point.W, inst.point.b)
    return _Decider(inst.problem, pt, "P", 1e-6, 1e-9, 64)


def full_rows(dec, wit) -> np.ndarray:
    """The R^W, R^b vector of ``wit`` in the reduced program's row order (vec by columns, then
    R^b, per layer), zero columns of the point with Z = 0 (as the program counts them)."""
    b = dec.blocks(wit)
    out = []
    for l in range(dec.p.n_layers):
        RW = np.array(b["W"][l], copy=True)
        zc = dec.st.act.zero_cols[l]
        RW[:, zc] -= wit["Z"][l][:, zc]
        out += [np.ravel(RW, order="F"), np.asarray(b["b"][l])]
    return np.concatenate(out)


cases = st.tuples(
    st.integers(0, 10**6), st.sampled_from(SIZES), st.integers(0, 2), st.sampled_from([0.0, 0.5]),
    st.booleans(),
)


@settings(deadline=None)
@given(cases)
def test_columns_equal_the_dense_program(case):
    dec = decider(*case)
    if dec.st.n_free == 0:
        return
    rp = dec.program()
    A, P = free_entry_columns(dec.st)
    cols = []
    for Al, Pl in zip(A, P, strict=True):
        cols.append(np.vstack([-np.stack([np.ravel(np.outer(Al[:, k], Pl[:, k]), order="F")
                                         for k in range(rp.K)], axis=1), -Al]))
    B = np.vstack(cols)
    np.testing.assert_allclose(B[rp.rows], rp.B, rtol=0, atol=1e-12)
    others = np.setdiff1d(np.arange(B.shape[0]), rp.rows)
    assert np.all(B[others] == 0), "a column moves a row the dense program calls unmoving"


@settings(deadline=None)
@given(cases)
def test_least_squares_matches_dense_lstsq_and_is_orthogonal(case):
    dec = decider(*case)
    if dec.st.n_free == 0:
        return
    rp = dec.program()
    wit0, _ = dec.default_witness("W")
    mf = least_squares_witness(dec.st, wit0, dec.blocks(wit0))
    dense = rp.to_witness("W", least_squares_solution(rp))
    r_mf, r_dense = full_rows(dec, mf), full_rows(dec, dense)
    n_mf, n_dense = np.linalg.norm(r_mf), np.linalg.norm(r_dense)
    scale = max(n_dense, 1.0) * max(1.0, np.abs(rp.B).max())
    assert abs(n_mf - n_dense) <= 1e-9 * scale, (n_mf, n_dense)
    # the normal equations B^T r = 0 with the dense B: du = 0 at the free entries for d = -r
    assert np.abs(rp.B.T @ r_mf[rp.rows]).max() <= 1e-9 * scale


def test_too_many_free_entries_or_pp_is_refused(monkeypatch):
    dec = decider(3, (3, 4, 2), 0, 0.0, True)
    wit0, _ = dec.default_witness("W")
    from ialam_verify.stationarity import network_lsq

    monkeypatch.setattr(network_lsq, "MAX_FREE", 0)
    assert least_squares_witness(dec.st, wit0, dec.blocks(wit0)) is None
    pp = _Decider(dec.p, dec.pt, "PP", 1e-6, 1e-9, 64)
    with pytest.raises(ValueError, match="kind 'P'"):
        least_squares_witness(pp.st, wit0, dec.blocks(wit0))


@pytest.mark.parametrize(("seed", "want"), [(0, "fails"), (5, "fails"), (7, "fails"), (4, "holds"), (9, "holds")])
def test_w_decided_where_the_dense_program_is_refused(seed, want, monkeypatch):
    """With the dense program of (P) refused (a cell budget of 1), W at biactive entries is still
    decided: "fails" by the least-squares direction, "holds" by the least-squares witness; every
    decided verdict agrees with the generic path, and the kernel re-checks the certificate on the
    full Jacobian."""
    inst = planted_instance(seed, (3, 4, 2), 3, alpha=0.25, n_zeros=4, break_pair=True)
    prob, pt = inst.problem, inst.problem.lift(inst.point.W, inst.point.b)
    tols = Tolerances()
    build = npg.ReducedProgram.build.__func__

    def refuse(cls, st_, max_free=400, max_cells=5_000_000):
        return build(cls, st_, max_free, 1 if st_.kind == "P" else max_cells)

    monkeypatch.setattr(npg.ReducedProgram, "build", classmethod(refuse))
    stc = decide_notions(prob, pt, "P", tolerances=tols)
    assert isinstance(_Decider(prob, pt, "P", 1e-6, 1e-6, 64).program(), str)  # refused
    gen = classify(p_problem(prob, pt), tolerances=tols)
    assert stc.activity["biactive"] > 0
    assert str(stc.results["W"].verdict) == want, stc.results["W"].reason
    assert stc.results["W"].method in ("direction", "least squares"), stc.results["W"].method
    for name, r in stc.results.items():
        if r.verdict.decided:
            assert str(gen.results[name].verdict) == str(r.verdict), name
    ck = check(stc.to_generic(prob, pt), p_problem(prob, pt), tols)
    assert ck.accepted, ck.messages
