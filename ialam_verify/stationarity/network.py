r"""Structured certifier of (PP) at a point of a network and of (P) at its lift.

The multiplier of the constraint :math:`u = \Psi(v)w + Ab` is the backward pass
(:mod:`.network_program`): at every entry off the kink it is unique and closed form, so one forward and
one backward pass decide a notion when no entry is degenerate; "fails" is then proved by a direction
(:func:`.network_check.direction_bound`) computed by one more forward pass. Degenerate entries (both
constraints active, a kink of :math:`-\beta\sigma` at zero) and zero columns enter a program whose
size is their number, not ``N`` (:class:`.network_program.ReducedProgram`).

KKT of (PP) at many kinks (:math:`2^k` slope branches) is searched without enumerating them: a kink
with both constraints active allows :math:`\xi \in [\beta s - g, \beta s - \alpha g]` for
:math:`s \in \{\alpha, 1\}`; the two intervals overlap iff :math:`g \ge \beta` (then their union is
the Clarke hull). In order: a witness handed in by the caller; the Clarke LP's :math:`\xi` with each
kink's slope the one of the interval holding it (:func:`.network_program.best_kink_slopes`); the
least-squares :math:`\xi` (refine's kink multipliers); the dive (:meth:`_Decider._dive`: fix the
slopes of the kinks whose relaxed :math:`\xi` lies between the intervals, re-solve, a few rounds);
then the old roundings and, up to ``max_branches``, enumeration over the kinks whose choice can
matter. Every candidate is re-checked by :func:`.network_check.check_witness` before "holds".

Verdicts (the same promises as :func:`.classify.classify`):

* ``holds``: a witness (all multipliers, per layer) whose residual and membership violations,
  recomputed by :func:`.network_check.check_witness`, are at most ``tol``;
* ``fails``: a direction ``d`` with :math:`J_h d = 0`, in the notion's cone, whose bound
  :math:`-D/\|d\|_1 > \mathrm{tol}` (every multiplier of the set has a larger residual);
* ``undetermined`` otherwise, with the best witness residual (the notion holds at every
  tolerance above it: ``epsilon``) and the best proved lower bound.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from .kernel import Tolerances
from .network_band import decided_at_top, flag_values, settle_band
from .network_biactive import decide_biactive
from .network_candidates import DIVE_ROUNDS, kink_slacks, least_squares_solution, slope_matters
from .network_certificate import NetworkCertificate, NetworkNotionResult
from .network_check import (
    P_NOTIONS,
    PAIR_BRANCHES,
    PointData,
    check_witness,
    network_scale,
    residual_summary,
)
from .network_lsq import least_squares_witness
from .network_program import ReducedProgram, Structure, TooLarge, backward, witness
from .network_proof import BOUND_SLACK, fails_by_direction, pushed_rows

_BOUND_SLACK = BOUND_SLACK


# ------------------------------------------------------------------------------- deciding
def _flat(blocks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(b, order="F") for b in blocks])


def _least_squares_witness(dec: _Decider) -> dict | None:
    r"""(P): the witness whose :math:`\xi` at the biactive entries minimizes
    :math:`\|R^W, R^b\|_2`. Its residual ``r`` satisfies :math:`B^T r = 0`, which is, by the
    adjoint of the backward pass, :math:`du = 0` at the biactive entries for ``d = -r`` pushed
    forward: a direction in the cone of W (hence of every (P) notion)."""
    if dec.st.n_free == 0:
        return None
    wit0, _ = dec.default_witness("W")
    return least_squares_witness(dec.st, wit0, dec.blocks(wit0))


def _memo_key(label: str, kw: dict) -> tuple:
    return ("", label, repr(sorted((k, np.asarray(v).tobytes()) for k, v in kw.items())))


class _Decider:
    def __init__(self, problem, point, kind, tol, act_tol, max_branches, robust=None, given=None,
                 data: PointData | None = None):
        self.p, self.pt, self.kind = problem, point, kind
        # per-point quantities shared by every run at this point (activity levels of the band)
        self.data = PointData.of(problem, point, data)
        self.given = given  # a witness handed in by the caller (re-checked before use)
        self.given_rejected: dict[str, float] = {}
        self.tol, self.act_tol, self.max_branches = tol, act_tol, max_branches
        self.act = self.data.activity(act_tol, kind)
        self.robust = robust
        self.st = Structure.of(problem, point, kind, self.act, self.data)
        self.Xi, self.G = backward(self.st)
        self._rp: ReducedProgram | None | str = None
        self._memo: dict = {}
        self._default: dict = {}
        self._proofs: dict = {}
        self._blocks: dict = {}

    def relaxation_value(self) -> float:
        """Optimal value of the restricted program of the largest set (Clarke for (PP), W for (P)):
        no smaller set has a restricted witness below it."""
        rp = self.program()
        if isinstance(rp, str):
            return np.inf
        if self.kind == "PP":
            label, kw = "Clarke LP", {}
        else:
            label, kw = "LP", {"pair_patterns": (np.full(rp.K, "f"), np.full(rp.K, "f"))}
        key = _memo_key(label, kw)
        if key not in self._memo:
            self._memo[key] = rp.solve("Clarke" if self.kind == "PP" else "W", **kw)
        val = self._memo[key][1]
        return np.inf if val is None else val

    def program(self) -> ReducedProgram | str:
        if self._rp is None:
            try:
                self._rp = ReducedProgram.build(self.st)
            except TooLarge as exc:
                self._rp = str(exc)
        return self._rp

    def blocks(self, wit: dict) -> dict:
        key = id(wit)
        if key not in self._blocks:
            self._blocks[key] = (wit, residual_summary(self.p, self.pt, self.kind, wit, self.data))
        return self._blocks[key][1]

    def check(self, notion: str, wit: dict) -> float:
        b = self.blocks(wit)
        return check_witness(
            self.p, self.pt, self.kind, notion, wit, self.act_tol, b, self.data
        )["max"]

    def proof(self, notion: str, wit: dict, extra: list | None = None):
        cone = "PP" if self.kind == "PP" else ("S" if notion == "S" else "W")
        key = (cone, id(wit), len(extra or []))
        if key not in self._proofs:
            self._proofs[key] = fails_by_direction(
                self.st, notion, wit, self.tol, extra=extra, blocks=self.blocks(wit),
                robust=self.robust, data=self.data, G=self.G,
            )
        return self._proofs[key]

    def _ls_extra(self) -> list:
        if self.kind != "P" or not self.st.n_free:
            return []
        if "ls" not in self._default:
            self._default["ls"] = _least_squares_witness(self)
        ls = self._default["ls"]
        return [] if ls is None else [ls]

    def _fails(self, bound, d, best, notion) -> NetworkNotionResult:
        cone = "PP" if self.kind == "PP" else ("S" if notion == "S" else "W")
        return NetworkNotionResult(
            Verdict.fails(
                f"direction d with J_h d = 0 in the cone: every multiplier has residual >= "
                f"{bound:.3g} > tol {self.tol:g}",
                residual=best[0],
                epsilon=best[0],
            ),
            "direction",
            direction=d,
            epsilon=best[0],
            lower_bound=bound,
            cone=cone,
        )

    def try_solutions(self, notion: str, runs) -> tuple[float, dict | None, str]:
        """Run the programs of ``runs`` (keyword sets for :meth:`ReducedProgram.solve`, or a
        callable returning a solution directly) until a witness passes; return the best
        (residual, witness, method). Every candidate is re-checked by :meth:`check`."""
        rp = self.program()
        best: tuple[float, dict | None, str] = (np.inf, None, "")
        if isinstance(rp, str):
            return best
        for label, kw in runs:
            if callable(kw):  # a candidate computed without a solver
                sol = kw()
            else:
                key = _memo_key(label, kw)
                if key not in self._memo:
                    self._memo[key] = rp.solve(notion, **kw)
                sol = self._memo[key][2]
            if sol is None:
                continue
            wit = rp.to_witness(notion, sol)
            r = self.check(notion, wit)
            if r < best[0]:
                best = (r, wit, f"{label} over {rp.K} free entries")
            if r <= self.tol:
                break
        return best

    def default_witness(self, notion: str) -> tuple[dict, float]:
        """The backward-pass witness and its checked residual; computed once when it does not
        depend on the notion (no free entry: same multipliers, same membership numbers)."""
        if "wit0" not in self._default:
            # without chosen values at the free entries the witness does not depend on the notion
            # (one object: its residual blocks and its proofs are computed once for all notions)
            self._default["wit0"] = witness(self.st, notion, self.Xi, self.G)
        wit0 = self._default["wit0"]
        key = "any" if self.st.n_free == 0 else notion
        if key not in self._default:
            self._default[key] = (wit0, self.check(notion, wit0))
        return self._default[key]

    def decide(self, notion: str, proof_from: NetworkNotionResult | None = None):
        tol, st = self.tol, self.st
        if proof_from is not None and proof_from.verdict == "fails":
            # a subset of a set with no multiplier of residual <= tol has none either
            v = proof_from.verdict
            return NetworkNotionResult(
                Verdict.fails(f"implied: the larger set fails. {v.reason}", residual=v.residual,
                              epsilon=v.epsilon),
                "implied", direction=proof_from.direction, slopes=proof_from.slopes,
                epsilon=proof_from.epsilon, lower_bound=proof_from.lower_bound,
                cone=proof_from.cone,
            )
        if self.given is not None and notion in ("KKT", "Clarke"):
            rg = self.check(notion, self.given)
            if rg <= tol:
                return NetworkNotionResult(
                    Verdict.holds("the caller's witness, re-checked with numpy", residual=rg, epsilon=rg),
                    "caller's witness",
                    self.given,
                    epsilon=rg,
                )
            self.given_rejected[notion] = rg
        wit0, r0 = self.default_witness(notion)
        if r0 <= tol:
            return NetworkNotionResult(
                Verdict.holds("backward-pass witness checked with numpy", residual=r0, epsilon=r0),
                "backward pass",
                wit0,
                epsilon=r0,
            )
        best = (r0, wit0, "backward pass")
        for ls in self._ls_extra():  # (P): the least-squares witness, no solver needed
            # its R^W, R^b rows from the backward-pass witness's (few samples differ): when they
            # already exceed tol the full check (a product with every sample) cannot pass
            RW, Rb = pushed_rows(ls, wit0, self.blocks(wit0), self.data)
            if max(float(np.max(np.abs(R), initial=0.0)) for R in RW + Rb) > 2.0 * tol:
                continue
            r_ls = self.check(notion, ls)
            if r_ls <= tol:
                return NetworkNotionResult(
                    Verdict.holds("least-squares witness at the biactive entries, checked with numpy",
                                  residual=r_ls, epsilon=r_ls),
                    "least squares",
                    ls,
                    epsilon=r_ls,
                )
            if r_ls < best[0]:
                best = (r_ls, ls, "least squares")
        # a proof of failure makes any search useless: try it first (for (P) with the
        # least-squares witness too, which needs the program's matrices but no solver)
        bound, d = self.proof(notion, wit0, self._ls_extra())
        if bound > tol * (1 + _BOUND_SLACK):
            return self._fails(bound, d, best, notion)
        relax_ok = st.n_free and (
            notion in ("Clarke", "W") or self.relaxation_value() <= tol * (1 + 1e-6)
        )
        if relax_ok:
            for runs in self._runs(notion):
                cand = self.try_solutions(notion, runs)
                if cand[0] < best[0]:
                    best = cand
                if best[0] <= tol:
                    return NetworkNotionResult(
                        Verdict.holds(
                            f"witness from the {best[2]}, checked with numpy",
                            residual=best[0],
                            epsilon=best[0],
                        ),
                        best[2],
                        best[1],
                        epsilon=best[0],
                    )
        bound, d = self.proof(notion, best[1], self._ls_extra())
        if bound > tol * (1 + _BOUND_SLACK):
            return self._fails(bound, d, best, notion)
        why = f"best witness residual {best[0]:.3g} > tol {tol:g}; proved lower bound {bound:.3g}"
        rp = self.program() if st.n_free else None
        if isinstance(rp, str):
            why += f"; reduced program not built ({rp})"
        elif (
            st.n_free
            and notion in ("A", "C", "M", "KKT")
            and self._n_branches(notion) > self.max_branches
        ):
            why += f"; {self._n_branches(notion)} branches > max_branches {self.max_branches}"
        return NetworkNotionResult(
            Verdict.undetermined(why, residual=best[0], epsilon=best[0]),
            best[2],
            epsilon=best[0],
            lower_bound=bound,
        )

    def _n_branches(self, notion: str) -> int:
        rp = self.program()
        if isinstance(rp, str):
            return 0
        if notion == "KKT":
            return 2 ** int(slope_matters(rp).sum())
        if self.kind == "P":
            return len(PAIR_BRANCHES[notion]) ** rp.K
        return 1

    def _runs(self, notion: str):
        """Groups of programs to try, cheapest first."""
        rp = self.program()
        if isinstance(rp, str):
            return
        al = self.p.alpha
        if self.kind == "PP":
            yield [("Clarke LP", {})]
            if notion == "KKT" and rp.kz_beta.any():
                yield [("least-squares xi (refine's kink multipliers)", lambda: least_squares_solution(rp))]
                yield from self._dive()
                self.relaxation_value()
                sol = self._memo[("", "Clarke LP", repr([]))][2]
                if sol is not None and sol["s"] is not None:
                    snapped = np.where(np.abs(sol["s"] - al) <= np.abs(sol["s"] - 1), al, 1.0)
                    yield [("LP at the rounded slopes", {"slopes": snapped})]
                yield [("LP at the one-sided slopes", {"slopes": rp.s_fixed})]
                # kinks whose two intervals overlap whatever xi is stay relaxed (NaN)
                kb = np.flatnonzero(slope_matters(rp))
                if 2**kb.size <= self.max_branches:
                    runs = []
                    for choice in itertools.product((al, 1.0), repeat=kb.size):
                        s = np.where(rp.kz_beta, np.nan, rp.s_fixed)
                        s[kb] = choice
                        runs.append(("branch enumeration", {"slopes": s}))
                    yield runs
            return
        K = rp.K
        if notion == "W":
            yield [("LP", {"pair_patterns": (np.full(K, "f"), np.full(K, "f"))})]
            return
        yield [("S LP", {"pair_patterns": (np.full(K, "+"), np.full(K, "+"))})]
        if notion == "S":
            return
        branches = PAIR_BRANCHES[notion]
        if len(branches) ** K <= self.max_branches:
            runs = []
            for choice in itertools.product(branches, repeat=K):
                nu = np.array([c[0] for c in choice] or [], dtype="<U1")
                w = np.array([c[1] for c in choice] or [], dtype="<U1")
                runs.append(("branch enumeration", {"pair_patterns": (nu, w)}))
            yield runs

    def _dive(self):
        r"""Runs of the dive for KKT of (PP): from the Clarke relaxation (:math:`s \in [\alpha, 1]`
        at every kink), fix the slope of each kink whose :math:`\xi` lies in neither interval to the
        nearer one (:func:`kink_slacks`), keep the others relaxed, re-solve; at most
        ``DIVE_ROUNDS`` rounds, stopping when no kink is outside. Kinks inside an interval stay
        relaxed: the witness takes the slope of the interval holding :math:`\xi`
        (:func:`.network_program.best_kink_slopes`) and is re-checked before any "holds"."""
        rp = self.program()
        assert isinstance(rp, ReducedProgram)
        kb = rp.kz_beta
        slopes = np.full(rp.K, np.nan)
        self.relaxation_value()
        sol = self._memo[_memo_key("Clarke LP", {})][2]
        for rnd in range(DIVE_ROUNDS):
            if sol is None:
                return
            lo, hi = kink_slacks(rp, sol["xi"])
            outside = kb & (np.maximum(lo, hi) < -self.tol) & np.isnan(slopes)
            if not outside.any():
                return
            slopes[outside] = np.where(lo[outside] > hi[outside], self.p.alpha, 1.0)
            label = f"dive round {rnd + 1} ({int(np.sum(~np.isnan(slopes)))} of {int(kb.sum())} kink slopes fixed)"
            kw = {"slopes": slopes.copy()}
            yield [(label, kw)]
            sol = self._memo.get(_memo_key(label, kw), (None, None, None))[2]

    def decide_b(
        self, kkt_or_w: NetworkNotionResult, s_res: NetworkNotionResult | None = None
    ) -> NetworkNotionResult:
        """B of (PP) (of (P) when ``kind == "P"``; ``s_res`` is then the S result)."""
        rp_needed = self.st.n_free > 0
        if self.kind == "P":
            bi = sum(int((g & h).sum()) for g, h in zip(self.act.G, self.act.H, strict=True))
            w = kkt_or_w
            if bi and w.verdict == "fails" and w.cone == "W" and w.direction is not None:
                # every B branch lies in W's set; the W direction keeps G = H = 0 at the biactive
                # entries, so it is also a descent direction on the linearized MPCC cone
                v = w.verdict
                return NetworkNotionResult(
                    Verdict.fails("W fails, and each B branch lies in W's set. " + v.reason,
                                  residual=v.residual, epsilon=v.epsilon),
                    "implied", None, w.direction, None, w.epsilon, w.lower_bound, cone="W",
                )
            if bi and s_res is not None and s_res.verdict == "holds":
                v = s_res.verdict
                return NetworkNotionResult(
                    Verdict.holds("S holds and S => B (no kink in (P)). " + v.reason,
                                  residual=v.residual, epsilon=v.epsilon),
                    "implication", s_res.witness, None, None, s_res.epsilon,
                )
            if bi == 0:
                v = kkt_or_w.verdict
                return NetworkNotionResult(
                    Verdict(
                        v.outcome,
                        "no biactive entry: one branch, B <=> W. " + v.reason,
                        v.residual,
                        v.epsilon,
                    ),
                    "same as W",
                    kkt_or_w.witness,
                    kkt_or_w.direction,
                    None,
                    kkt_or_w.epsilon,
                    kkt_or_w.lower_bound,
                )
            return NetworkNotionResult(
                Verdict.undetermined(
                    f"{bi} biactive entries: B of (P) is left to method='generic'"
                ),
                "not decided",
            )
        nk = sum(int((kz & (b > 0)).sum()) for kz, b in zip(self.act.kz, self.p.beta, strict=True))
        if nk == 0 or kkt_or_w.verdict == "fails":
            v = kkt_or_w.verdict
            why = (
                "no concave kink at zero: one branch, B <=> KKT. "
                if nk == 0
                else "KKT fails and B implies KKT. "
            )
            return NetworkNotionResult(
                Verdict(v.outcome, why + v.reason, v.residual, v.epsilon),
                "same as KKT",
                kkt_or_w.witness,
                kkt_or_w.direction,
                None,
                kkt_or_w.epsilon,
                kkt_or_w.lower_bound,
            )
        if 2**nk > self.max_branches or not rp_needed or isinstance(self.program(), str):
            return NetworkNotionResult(
                Verdict.undetermined(
                    f"{nk} kinks at zero: 2^{nk} branches > max_branches {self.max_branches}"
                ),
                "not decided",
            )
        rp = self.program()
        assert isinstance(rp, ReducedProgram)
        al = self.p.alpha
        kb = np.flatnonzero(rp.kz_beta)
        wits, worst, branch_slopes = [], 0.0, []
        for choice in itertools.product((al, 1.0), repeat=nk):
            s = rp.s_fixed.copy()
            s[kb] = choice
            _, _, sol = rp.solve("KKT", slopes=s)
            # the branch prescribes the slopes: keep them (choose_slopes=False)
            wit = rp.to_witness("KKT", sol, choose_slopes=False) if sol is not None else None
            r = self.check("KKT", wit) if wit is not None else np.inf
            if r > self.tol:
                slopes = [np.asarray(x) for x in rp.split(s)]
                full = [S.copy() for S in self.st.s_def]
                for l, (i, n) in enumerate(rp.loc):
                    full[l][i, n] = slopes[l]
                bound, d = fails_by_direction(
                    self.st, "KKT", wit or witness(self.st, "KKT", self.Xi, self.G), self.tol, full
                )
                if bound > self.tol * (1 + _BOUND_SLACK):
                    return NetworkNotionResult(
                        Verdict.fails(
                            f"branch {choice}: descent direction, bound {bound:.3g}", residual=r
                        ),
                        "direction",
                        direction=d,
                        slopes=full,
                        lower_bound=bound,
                    )
                return NetworkNotionResult(
                    Verdict.undetermined(f"branch {choice}: residual {r:.3g}, bound {bound:.3g}"),
                    "branch enumeration",
                )
            wits.append(wit)
            full_s = [S.copy() for S in self.st.s_def]
            lo_s = []
            for l, (i, n) in enumerate(rp.loc):
                full_s[l][i, n] = rp.split(s)[l]
            for l, S in enumerate(full_s):
                # kinks at zero with beta = 0 are convex (not branched): their interval
                lo_s.append(np.where(self.act.kz[l] & (self.p.beta[l] == 0), self.p.alpha, S))
                full_s[l] = np.where(self.act.kz[l] & (self.p.beta[l] == 0), 1.0, S)
            kzf = _flat(self.act.kz).astype(bool)  # the kernel's branches list kinks at zero only
            branch_slopes.append((_flat(lo_s)[kzf], _flat(full_s)[kzf]))
            worst = max(worst, r)
        return NetworkNotionResult(
            Verdict.holds(
                f"all {len(wits)} slope branches have witnesses", residual=worst, epsilon=worst
            ),
            "branch enumeration",
            wits,
            epsilon=worst,
            branch_slopes=branch_slopes,
        )


def decide_notions(
    problem: Problem,
    point: LiftedPoint,
    kind: str,
    *,
    tolerances: Tolerances | None = None,
    max_branches: int = 64,
    witness: dict | None = None,
) -> NetworkCertificate:
    """Decide every notion of ``kind`` ("PP" at ``point`` as given, "P" at ``point`` which must be
    the feasible lift) by the structured path; the activity band as in :func:`.classify.classify`.
    The residual tolerance is ``tolerances.tol`` times :func:`.network_check.network_scale` (the
    kernel's :func:`~.kernel.problem_scale` of the same problem) unless ``scaled=False``.

    ``witness`` (``kind="PP"`` only): multipliers of (PP) handed in by the caller, a dict as
    :attr:`~ialam_verify.solver.refine.RefineResult.multipliers` has it (:mod:`.network_witness`).
    It is re-checked by :func:`.network_check.check_witness` at these tolerances and decides KKT
    (and Clarke) as "holds" only if it passes; otherwise it is ignored (a note says so) and the
    normal search runs. It never makes a verdict "fails"."""
    t0 = time.perf_counter()
    tols = tolerances if tolerances is not None else Tolerances()
    if kind not in ("PP", "P"):
        raise ValueError(f"kind must be 'PP' or 'P'; got {kind!r}")
    given = None
    if witness is not None:
        if kind != "PP":
            raise ValueError("witness: multipliers of (PP) only; pass it with kind='PP'")
        from .network_witness import witness_from_multipliers

        given = witness_from_multipliers(problem, point, witness)
    data = PointData(problem, point)  # shared by the runs at every activity level
    scale = network_scale(problem, point, kind, data)
    tol = tols.tol * (scale if tols.scaled else 1.0)
    act_tol, band = tols.act_tol, tols.band

    def run(a: float) -> tuple[_Decider, dict[str, NetworkNotionResult]]:
        robust = data.activity(act_tol * band, kind) if kind == "PP" else None
        dec = _Decider(problem, point, kind, tol, a, max_branches, robust, given, data)
        res: dict[str, NetworkNotionResult] = {}
        if kind == "PP":
            res["Clarke"] = dec.decide("Clarke")
            res["KKT"] = dec.decide("KKT", proof_from=res["Clarke"])
            res["B"] = dec.decide_b(res["KKT"])
        else:
            res["W"] = dec.decide("W")
            for n in P_NOTIONS[1:]:
                res[n] = dec.decide(n, proof_from=res["W"])
            res["B"] = dec.decide_b(res["W"], res["S"])
            decide_biactive(dec, res)  # A/C/M, B at biactive entries (network_biactive)
        return dec, res

    notes: list[str] = []
    top, results = None, None
    flags = flag_values(problem, point, kind, data)
    if kind == "P":
        # (P) at the band's top threshold first: when its proofs carry over to every split, the
        # decision at act_tol is not needed (PP's base proofs already cover the band: `robust`)
        top, results, notes = decided_at_top(run, problem, point, kind, act_tol, band, flags)
    if results is None:
        dec, results = run(act_tol)
        for notion, rg in dec.given_rejected.items():
            notes.append(
                f"the caller's witness was rejected for {notion}: largest violation {rg:.3g} > tol {tol:.3g}"
            )
        # the activity band: every threshold split (network_band; evidence re-checked over ranges
        # of splits at once, re-decided only where it does not carry over)
        notes += settle_band(dec, results, run, problem, point, kind, act_tol, band, top=top,
                             flags=flags)
        act, n_free = dec.act, dec.st.n_free
    else:
        act = data.activity(act_tol, kind)
        n_free = int(sum(int((g & h).sum()) for g, h in zip(act.G, act.H, strict=True)))
    unit = scale if tols.scaled else 1.0
    for res in results.values():  # epsilon in the tolerance's units, as the kernel reports it
        if res.epsilon is not None and getattr(res, "generic", None) is None:
            res.epsilon = res.epsilon / unit
            v = res.verdict
            res.verdict = Verdict(v.outcome, v.reason, v.residual, res.epsilon)
    activity = {
        "activity_tol": act_tol,
        "free_entries": n_free,
        "kinks_at_zero": int(sum(k.sum() for k in act.kz)),
        "biactive": int(sum((g & h).sum() for g, h in zip(act.G, act.H, strict=True))),
        "zero_columns": int(sum(z.sum() for z in act.zero_cols)),
    }
    feas = {
        "h": float(max(np.max(np.abs(R), initial=0.0) for R in problem.residual(point))),
        "g": problem.inequality_violation(point),
    }
    if max(feas.values()) > act_tol:
        notes.append(
            f"the point violates the constraints by {max(feas.values()):.3g} > act_tol; the "
            "notions are evaluated at it as given"
        )
    return NetworkCertificate(
        kind, tols, scale, tols.margin * scale, results, activity, feas,
        time.perf_counter() - t0, notes,
    )
