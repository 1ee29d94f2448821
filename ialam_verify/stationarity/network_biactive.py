r"""(P) at biactive entries: A, C, M and B decided on the reduced program, with proofs per branch.

At a biactive entry (:math:`u = 0` at the lift: :math:`G = v - u` and :math:`H = v - \alpha u` both
active) the MPCC notions restrict the pair :math:`(\nu, w) = (M^1, M^2)` by sign patterns
(:data:`.network_check.PAIR_BRANCHES`): A is :math:`\nu \ge 0` or :math:`w \ge 0`, C is
:math:`\nu w \ge 0`, M both :math:`\ge 0` or one :math:`= 0`; B-stationarity of the MPCC is, by
conic duality, "every piece :math:`(\nu \text{ free}, w \ge 0)`, :math:`(\nu \ge 0, w \text{
free})` of the biactive set has a KKT multiplier". Each piece is one LP of
:class:`.network_program.ReducedProgram` (one variable per biactive entry, not per sample).

**Exact branch enumeration with LP bounds** (no big-M). A node fixes the pattern of some biactive
entries; A/C/M relax the others to "free" (the W set, which contains every option), B to
:math:`(+, +)` (the S set, contained in both B pieces). A/C/M: a node whose LP optimum exceeds
``tol`` is pruned by a *proof*; a leaf with a witness proves "holds". B: a node whose witness passes
serves every leaf below it (it lies in each of their sets); a leaf without one is a piece to prove
infeasible: a descent direction proves "fails".

**Proof of a branch region** (re-checked by :func:`region_valid` and, through
:func:`generic_regions`, by the kernel's :func:`~.check.check`): a direction ``d`` with
:math:`J_h d = 0` whose constraint changes :math:`dG = dv - du`, :math:`dH = dv - \alpha du` obey the
region's patterns ('+': :math:`\ge 0`, '-': :math:`\le 0`, 'f': :math:`= 0`, '0': free; off the
biactive set :math:`dG = 0` / :math:`dH = 0` where active). Then for every multiplier of the region
:math:`d^T r \le D` and :math:`\|r\|_\infty \ge -D/\|d\|_1` (:func:`.network_check.direction_bound`).
``d`` is built from the LP's dual :math:`y` over the :math:`R^W, R^b` rows: :math:`(dW, db) = -y`
pushed forward, at each biactive entry :math:`dv = s\,du` with the slope the pattern needs
(:math:`s = \alpha` keeps :math:`dH = 0`, :math:`s = 1` keeps :math:`dG = 0`); where the pattern
needs :math:`du = 0` or a sign :math:`du` lacks, :math:`y` is projected so that :math:`du = 0` there.
By the adjoint of the backward pass, :math:`du_F = (I + SA)^{-T} B^T (-y)` at the biactive entries
(:math:`A`: :math:`dG_F/d\xi`, :math:`B`: :math:`dE/d\xi` of the program), so the projection is a
small least-squares problem in the rows of ``e0``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ..verdict import Verdict
from .kernel import pair_cells
from .network_check import PAIR_BRANCHES, Activity, PointData, direction_bound, residual_blocks
from .network_program import ReducedProgram

#: the pieces of the biactive set whose KKT B-stationarity of the MPCC asks for, per entry
B_PIECES = [("f", "+"), ("+", "f")]
#: largest number of LPs one notion may solve here (nodes of the enumeration)
MAX_NODES = 128
_REL = 1e-9  # relative slack on a proved bound (rounding)
_CONTAINS = {"f": set("f+-0"), "+": set("+0"), "-": set("-0"), "0": set("0")}


@dataclass
class Region:
    """A branch region of (P) and its proof: pattern chars at the biactive entries (``nu``, ``w``,
    in the program's order, ``loc`` per layer ``(i, n)``), the direction ``d`` (per layer ``W, b,
    V, U``) and its proved bound."""

    nu: np.ndarray
    w: np.ndarray
    loc: list[tuple[np.ndarray, np.ndarray]]
    direction: dict[str, list[np.ndarray]]
    bound: float

    def per_layer(self, shape_of: list[tuple[int, int]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        nu = [np.full(s, " ", dtype="<U1") for s in shape_of]
        w = [np.full(s, " ", dtype="<U1") for s in shape_of]
        k = 0
        for l, (i, n) in enumerate(self.loc):
            nu[l][i, n] = self.nu[k : k + i.size]
            w[l][i, n] = self.w[k : k + i.size]
            k += i.size
        return nu, w


# ------------------------------------------------------------------------------ directions
def _push(problem, point, act: Activity, dW, db, codes, data: PointData | None = None):
    r"""Forward pass of ``(dW, db)``: off the biactive set :math:`dv = \sigma'(u) du` (the active
    constraint's slope), at biactive entries per ``codes[l]`` (a pattern pair as two chars).
    ``data``: the point's :class:`.network_data.PointData` (its slopes, computed once per activity);
    layer 1's input does not move, and a zero ``dW_l`` costs no product."""
    al = problem.alpha
    data = PointData.of(problem, point, data)
    slopes = data.slopes_off_pairs(act)  # the active constraint's slope; sigma'(u) where both are
    dU, dV = [], []
    prev_d = None
    for l in range(problem.n_layers):
        if dW[l].any():
            du = dW[l] @ data.prev[l]
        else:
            du = np.zeros(point.U[l].shape)
        if prev_d is not None:
            du += point.W[l] @ prev_d
        du += db[l][:, None]
        dv = slopes[l] * du
        for (i, n), code in codes[l].items():
            x = du[i, n]
            dv[i, n] = {
                "ff": 0.0, "+f": al * x, "0f": al * x, "f+": x, "f0": x,
                "++": max(x, al * x), "--": min(x, al * x),
            }[code]
        dU.append(du)
        dV.append(dv)
        prev_d = dv
    return dU, dV


def cone_violation(problem, point, act: Activity, d, nu, w) -> float:
    """Largest violation of the region's cone rules by ``d`` (per-layer pattern chars ``nu``, ``w``
    at the biactive entries of ``act``; ' ' there is a violation: the region does not fit ``act``)."""
    al = problem.alpha
    worst = 0.0
    for l in range(problem.n_layers):
        gv = d["V"][l] - d["U"][l]
        hv = d["V"][l] - al * d["U"][l]
        G, H = act.G[l], act.H[l]
        bi = G & H
        worst = max(worst, float(np.max(np.abs(gv[G & ~H]), initial=0.0)))
        worst = max(worst, float(np.max(np.abs(hv[H & ~G]), initial=0.0)))
        for pats, x in ((nu[l], gv), (w[l], hv)):
            p, v = pats[bi], x[bi]
            if np.any(p == " "):
                return np.inf
            viol = np.where(p == "+", np.maximum(-v, 0), np.where(p == "-", np.maximum(v, 0), 0.0))
            viol = np.where(p == "f", np.abs(v), viol)
            worst = max(worst, float(np.max(viol, initial=0.0)))
    return worst


def region_valid(dec, reg: Region, act: Activity | None = None) -> bool:
    """Re-check a region's proof at activity ``act`` (default: the decider's): finite ``d``,
    :math:`J_h d = 0` and the cone rules up to rounding (``1e-11`` relative to ``d``), bound above
    ``dec.tol``."""
    act = act if act is not None else dec.act
    return check_region(dec.p, dec.pt, act, reg, dec.tol)


def check_region(problem, point, act: Activity, reg: Region, tol: float) -> bool:
    d = reg.direction
    if not all(np.all(np.isfinite(x)) for k in ("W", "b", "V", "U") for x in d[k]):
        return False
    nu, w = reg.per_layer([U.shape for U in point.U])
    out = direction_bound(problem, point, "P", "W", act, d)
    scale = max(1.0, max(float(np.max(np.abs(x), initial=0.0)) for x in d["V"] + d["U"]))
    lim = 1e-12 * scale * 10
    cv = cone_violation(problem, point, act, d, nu, w)
    return bool(out["h"] <= lim and cv <= lim and out["bound"] > tol * (1 + _REL))


def _unpack(rp: ReducedProgram, y_moving: np.ndarray):
    """Per-layer ``(dW, db) = -y`` from a vector over the program's rows."""
    pt = rp.st.point
    full = np.zeros(rp.n_rows)
    full[rp.rows] = y_moving
    dW, db, off = [], [], 0
    for W in pt.W:
        n_out, n_in = W.shape
        dW.append(-np.reshape(full[off : off + W.size], (n_out, n_in), order="F"))
        off += W.size
        db.append(-full[off : off + n_out].copy())
        off += n_out
    return dW, db


def _free_du(rp: ReducedProgram, dU) -> np.ndarray:
    return np.concatenate([dU[l][i, n] for l, (i, n) in enumerate(rp.loc)])


def region_direction(dec, rp: ReducedProgram, nu: np.ndarray, w: np.ndarray, y0: np.ndarray) -> Region | None:
    """A proof for the region with patterns ``nu``, ``w`` (program order) from a start ``y0`` over
    the program's rows (module doc); ``None`` when no valid direction with bound above ``tol``."""
    p, pt, act, al = dec.p, dec.pt, dec.act, dec.p.alpha
    codes_flat = [a + b for a, b in zip(nu, w, strict=True)]
    codes: list[dict] = [{} for _ in pt.U]
    k = 0
    for l, (i, n) in enumerate(rp.loc):
        for a, b in zip(i, n, strict=True):
            codes[l][(int(a), int(b))] = codes_flat[k]
            k += 1
    need_zero = np.array([c == "ff" for c in codes_flat], dtype=bool)
    sign_need = np.array([{"+f": -1, "f+": 1}.get(c, 0) for c in codes_flat])
    y = np.asarray(y0, dtype=float).copy()
    pinned = need_zero.copy()
    best = None
    for _ in range(4):
        dW, db = _unpack(rp, y)
        dU, dV = _push(p, pt, act, dW, db, codes, dec.data)
        du = _free_du(rp, dU)
        scale = max(1e-300, float(np.max(np.abs(du), initial=0.0)))
        wrong = (sign_need * du < -1e-12 * scale) | (pinned & (np.abs(du) > 0))
        if not wrong.any():
            d = {"W": dW, "b": db, "V": dV, "U": dU}
            reg = Region(np.asarray(nu), np.asarray(w), rp.loc, d, 0.0)
            reg.bound = float(direction_bound(p, pt, "P", "W", act, d, data=dec.data)["bound"])
            if check_region(p, pt, act, reg, dec.tol):
                best = reg
            break
        pinned |= wrong
        # du_F = M y with M = (I + S A)^{-T} B^T (slopes s of dv = s du at the free entries)
        s = np.array(
            [{"ff": 0.0, "+f": al, "0f": al, "f+": 1.0, "f0": 1.0}.get(c, 1.0 if x >= 0 else al)
             for c, x in zip(codes_flat, du, strict=True)]
        )
        if "--" in codes_flat:
            s = np.where([c == "--" for c in codes_flat], np.where(du >= 0, al, 1.0), s)
        M = np.linalg.solve((np.eye(rp.K) + s[:, None] * rp.A).T, rp.B.T)
        Mp = M[pinned]
        y = y - Mp.T @ np.linalg.lstsq(Mp @ Mp.T, Mp @ y, rcond=None)[0]
    return best


# ------------------------------------------------------------------------------ witnesses
def pattern_violation(rp: ReducedProgram, wit: dict, nu: np.ndarray, w: np.ndarray) -> float:
    """Largest violation of per-entry patterns by a witness's ``M1``, ``M2`` at the biactive
    entries (program order)."""
    m1 = np.concatenate([wit["M1"][l][i, n] for l, (i, n) in enumerate(rp.loc)])
    m2 = np.concatenate([wit["M2"][l][i, n] for l, (i, n) in enumerate(rp.loc)])
    worst = 0.0
    for pats, x in ((nu, m1), (w, m2)):
        v = np.where(pats == "+", np.maximum(-x, 0), np.where(pats == "-", np.maximum(x, 0), 0.0))
        v = np.where(pats == "0", np.abs(x), v)
        worst = max(worst, float(np.max(v, initial=0.0)))
    return worst


def _branch_check(dec, rp, sol, nu, w) -> tuple[float, dict]:
    wit = rp.to_witness("W", sol)
    r = max(dec.check("W", wit), pattern_violation(rp, wit, nu, w))
    return r, wit


#: most nodes the coverage check visits; above it the regions are not counted as covering (so no
#: "fails" from them): the check is exponential in the biactive entries where regions overlap
MAX_COVER_NODES = 200_000


def covered(notion: str, regions: list[tuple[np.ndarray, np.ndarray]], K: int) -> bool:
    """Whether the union of region patterns contains every combination of the closed sign cells
    of ``notion`` (:func:`~.kernel.pair_cells`) over ``K`` biactive entries.

    A depth-first walk over the cells, entry by entry, keeping the regions that still contain the
    combination. A subtree is covered at once when one remaining region contains every cell at every
    entry below (its tail is free); the walk gives up (False: not shown to cover) after
    :data:`MAX_COVER_NODES` nodes."""
    cells = pair_cells(notion)
    # tail[r][d]: region r contains every cell at every entry from d on
    tail = []
    for nu, w in regions:
        full = [all(c[0] in _CONTAINS[nu[d]] and c[1] in _CONTAINS[w[d]] for c in cells) for d in range(K)]
        t = [True] * (K + 1)
        for d in range(K - 1, -1, -1):
            t[d] = t[d + 1] and full[d]
        tail.append(t)
    visited = 0

    class _TooLarge(Exception):
        pass

    def rec(regs: list[int], depth: int) -> bool:
        nonlocal visited
        visited += 1
        if visited > MAX_COVER_NODES:
            raise _TooLarge
        if not regs:
            return False
        if depth == K or any(tail[r][depth] for r in regs):
            return True
        return all(
            rec([r for r in regs if c[0] in _CONTAINS[regions[r][0][depth]]
                 and c[1] in _CONTAINS[regions[r][1][depth]]], depth + 1)
            for c in cells
        )

    try:
        return rec(list(range(len(regions))), 0)
    except _TooLarge:
        return False


# ------------------------------------------------------------------------------ deciding
def _solve(dec, rp, nu, w, cache):
    key = ("".join(nu), "".join(w))
    if key not in cache:
        cache[key] = rp.solve("W", pair_patterns=(np.asarray(nu), np.asarray(w)), dual=True)
    return cache[key]


def _proof(dec, rp, nu, w, sol) -> Region | None:
    starts = []
    if sol is not None:
        if "y" in sol and np.any(sol["y"] != 0):
            starts.append(sol["y"])
        blocks = residual_blocks(dec.p, dec.pt, "P", rp.to_witness("W", sol))
        per_layer = [np.concatenate([np.ravel(RW, order="F"), Rb])
                     for RW, Rb in zip(blocks["W"], blocks["b"], strict=True)]
        starts.append(np.concatenate(per_layer)[rp.rows])
    for y0 in starts:
        reg = region_direction(dec, rp, np.asarray(nu), np.asarray(w), y0)
        if reg is not None:
            return reg
    return None


def decide_pair_notion(dec, notion: str, max_nodes: int = MAX_NODES):
    """A, C or M of (P) by branch enumeration with LP bounds (module doc); ``None`` when the
    program is not built or has no biactive entry."""
    from .network_certificate import NetworkNotionResult

    rp = dec.program()
    if isinstance(rp, str) or rp.K == 0 or dec.kind != "P":
        return None
    K, opts, tol = rp.K, PAIR_BRANCHES[notion], dec.tol
    cache: dict = dec.__dict__.setdefault("_pair_lp", {})
    regions: list[Region] = []
    best = (np.inf, None)
    nodes = 0
    stack = [np.full(K, -1)]
    while stack:
        assign = stack.pop()
        if nodes >= max_nodes:
            return _undet(f"{nodes} LPs > MAX_NODES over {K} biactive entries; best residual {best[0]:.3g}", best)
        nodes += 1
        nu = np.array([opts[a][0] if a >= 0 else "f" for a in assign], dtype="<U1")
        w = np.array([opts[a][1] if a >= 0 else "f" for a in assign], dtype="<U1")
        status, t, sol = _solve(dec, rp, nu, w, cache)
        if sol is None:
            return _undet(f"LP status {status} at a node", best)
        if t > tol * (1 + 1e-6):
            reg = _proof(dec, rp, nu, w, sol)
            if reg is None:
                free = np.flatnonzero(assign < 0)
                if free.size:  # a smaller region may be provable
                    for o in range(len(opts) - 1, -1, -1):
                        child = assign.copy()
                        child[free[0]] = o
                        stack.append(child)
                    continue
                return _undet(
                    f"branch {''.join(nu)}/{''.join(w)}: LP optimum {t:.3g} > tol {tol:g} but no "
                    "direction proves it", best)
            regions.append(reg)
            continue
        free = np.flatnonzero(assign < 0)
        wit = rp.to_witness(notion, sol)
        r = dec.check(notion, wit)
        if r < best[0]:
            best = (r, wit)
        if r <= tol:
            return NetworkNotionResult(
                Verdict.holds(f"witness from branch enumeration over {K} biactive entries ({nodes} LPs), "
                              "checked with numpy", residual=r, epsilon=r),
                "branch enumeration", wit, epsilon=r)
        if not free.size:
            return _undet(f"leaf witness residual {r:.3g} > tol {tol:g} below the LP optimum {t:.3g}", best)
        # branch the free entry whose pair violates the notion most
        m1 = np.concatenate([wit["M1"][l][i, n] for l, (i, n) in enumerate(rp.loc)])
        m2 = np.concatenate([wit["M2"][l][i, n] for l, (i, n) in enumerate(rp.loc)])
        viol = np.array([min(max(_pv(a, x), _pv(b, z)) for a, b in opts) for x, z in zip(m1, m2, strict=True)])
        j = free[int(np.argmax(viol[free]))]
        for o in range(len(opts) - 1, -1, -1):
            child = assign.copy()
            child[j] = o
            stack.append(child)
    pats = [(r.nu, r.w) for r in regions]
    if not covered(notion, pats, K):
        return _undet("the proved regions are not shown to cover the set (or the coverage check "
                      "stopped after MAX_COVER_NODES nodes)", best)
    worst = min(r.bound for r in regions)
    res = NetworkNotionResult(
        Verdict.fails(f"{len(regions)} branch regions over {K} biactive entries ({nodes} LPs), each "
                      f"with a direction: every multiplier has residual >= {worst:.3g} > tol {tol:g}",
                      residual=best[0] if np.isfinite(best[0]) else None,
                      epsilon=best[0] if np.isfinite(best[0]) else None),
        "branch regions", lower_bound=worst, epsilon=best[0] if np.isfinite(best[0]) else None,
        cone="regions")
    res.regions = regions
    return res


def _pv(c: str, x: float) -> float:
    return {"+": max(-x, 0.0), "-": max(x, 0.0), "0": abs(x), "f": 0.0}[c]


def _undet(why: str, best):
    from .network_certificate import NetworkNotionResult

    r = best[0] if np.isfinite(best[0]) else None
    return NetworkNotionResult(Verdict.undetermined(why, residual=r, epsilon=r), "branch enumeration",
                               epsilon=r)


def decide_b_pieces(dec, max_nodes: int = MAX_NODES):
    """B of (P) at biactive entries: every piece :math:`(f,+)`, :math:`(+,f)` has a witness (a
    node's :math:`(+,+)` witness serves all pieces below it), or one piece is proved infeasible by a
    descent direction (module doc)."""
    from .network_certificate import NetworkNotionResult

    rp = dec.program()
    if isinstance(rp, str) or rp.K == 0 or dec.kind != "P":
        return None
    K, opts, tol = rp.K, B_PIECES, dec.tol
    if 2**K > max(dec.max_branches, 1):
        return _undet(f"{K} biactive entries: 2^{K} pieces of B > max_branches {dec.max_branches}",
                      (np.inf, None))
    cache: dict = dec.__dict__.setdefault("_pair_lp", {})
    wits, pats = [], []
    worst = 0.0
    nodes = 0
    stack = [np.full(K, -1)]
    while stack:
        assign = stack.pop()
        if nodes >= max_nodes:
            return _undet(f"{nodes} LPs > MAX_NODES over {K} biactive entries", (np.inf, None))
        nodes += 1
        nu = np.array([opts[a][0] if a >= 0 else "+" for a in assign], dtype="<U1")
        w = np.array([opts[a][1] if a >= 0 else "+" for a in assign], dtype="<U1")
        status, t, sol = _solve(dec, rp, nu, w, cache)
        free = np.flatnonzero(assign < 0)
        r, wit = (np.inf, None) if sol is None else _branch_check(dec, rp, sol, nu, w)
        if r <= tol:
            for combo in itertools.product(range(len(opts)), repeat=free.size):
                a = assign.copy()
                a[free] = combo
                pats.append((np.array([opts[c][0] for c in a]), np.array([opts[c][1] for c in a])))
                wits.append(wit)
            worst = max(worst, r)
            continue
        if free.size:
            for o in range(len(opts) - 1, -1, -1):
                child = assign.copy()
                child[free[0]] = o
                stack.append(child)
            continue
        if sol is None or t <= tol * (1 + 1e-6):
            return _undet(f"piece {''.join(nu)}/{''.join(w)}: LP status {status}, witness residual "
                          f"{r:.3g} > tol {tol:g}", (r, None))
        reg = _proof(dec, rp, nu, w, sol)
        if reg is None:
            return _undet(f"piece {''.join(nu)}/{''.join(w)}: LP optimum {t:.3g} > tol {tol:g} but no "
                          "direction proves it", (r, None))
        res = NetworkNotionResult(
            Verdict.fails(f"piece {''.join(nu)}/{''.join(w)} of the biactive set has no multiplier: "
                          f"descent direction, bound {reg.bound:.3g} > tol {tol:g}"),
            "branch regions", direction=reg.direction, lower_bound=reg.bound, cone="regions")
        res.regions = [reg]
        return res
    res = NetworkNotionResult(
        Verdict.holds(f"all {len(wits)} pieces of the biactive set have witnesses ({nodes} LPs)",
                      residual=worst, epsilon=worst),
        "branch enumeration", wits, epsilon=worst)
    res.branch_patterns = pats
    res.branch_loc = rp.loc
    return res


def decide_biactive(dec, results: dict) -> None:
    """Replace the "undetermined" A, C, M and B of (P) at biactive entries by decisions of this
    module where it reaches one (in place)."""
    if dec.kind != "P" or dec.st.n_free == 0:
        return
    for n in ("A", "C", "M"):
        if n in results and not results[n].verdict.decided:
            new = decide_pair_notion(dec, n)
            if new is not None and new.verdict.decided:
                results[n] = new
    if "B" in results and not results["B"].verdict.decided:
        new = decide_b_pieces(dec)
        if new is not None:  # decided, or undetermined with the reason of this module
            results["B"] = new


# ------------------------------------------------------------------------------ re-checking
def _full_patterns(problem, point, act: Activity, nu_l, w_l) -> tuple[str, str]:
    """Pattern strings over every pair of :func:`~.lifted.p_problem` (its order: per layer, by
    columns): '0' inactive, 'f' active off the biactive set, the region's char on it."""
    nu_s, w_s = [], []
    for l in range(problem.n_layers):
        G, H = act.G[l], act.H[l]
        bi = G & H
        a = np.where(bi, nu_l[l], np.where(G, "f", "0"))
        b = np.where(bi, w_l[l], np.where(H, "f", "0"))
        nu_s.append("".join(np.ravel(a, order="F").tolist()))
        w_s.append("".join(np.ravel(b, order="F").tolist()))
    return "".join(nu_s), "".join(w_s)


def generic_regions(problem, point, act_tol: float, res) -> list:
    """The regions of a structured "fails" as :class:`~.certificate.DualCertificate` of
    :func:`~.lifted.p_problem` (``y = -d/\\|d\\|_1``), for the kernel's :func:`~.check.check`."""
    from .certificate import DualCertificate

    act = Activity.at(problem, point, act_tol, "P")
    shapes = [U.shape for U in point.U]
    z = "".join(("b" if zc else "p") for zcs in act.zero_cols for zc in zcs) if problem.lambda_w > 0 else ""
    out = []
    for reg in res.regions:
        nu_s, w_s = _full_patterns(problem, point, act, *reg.per_layer(shapes))
        d = reg.direction
        vec = np.concatenate([np.concatenate([np.ravel(np.asarray(x, dtype=float), order="F") for x in d[k]])
                              for k in ("W", "b", "V", "U")])
        out.append(DualCertificate("", nu_s, w_s, z, np.zeros(0), np.zeros(0),
                                   -vec / max(float(np.sum(np.abs(vec))), 1e-300)))
    return out


def generic_branch_patterns(problem, point, act_tol: float, res) -> list[tuple[str, str]]:
    """The B pieces of a structured (P) "holds" as full pattern strings of :func:`~.lifted.p_problem`."""
    act = Activity.at(problem, point, act_tol, "P")
    out = []
    rp_loc = res.branch_loc
    shapes = [U.shape for U in point.U]
    for nu, w in res.branch_patterns:
        reg = Region(nu, w, rp_loc, {}, 0.0)
        out.append(_full_patterns(problem, point, act, *reg.per_layer(shapes)))
    return out


def recheck(problem, point, name: str, res, act_tol: float, tau: float) -> dict:
    """Re-check a structured (P) result of this module at the caller's tolerances: every region's
    direction (and, for A/C/M, that the regions cover the set), or every B piece's witness."""
    from .network_check import check_witness

    act = Activity.at(problem, point, act_tol, "P")
    regions = res.regions
    if str(res.verdict) == "fails" and regions:
        ok = all(check_region(problem, point, act, r, tau) for r in regions)
        pats = [(r.nu, r.w) for r in regions]
        bi = sum(int((g & h).sum()) for g, h in zip(act.G, act.H, strict=True))
        fits = all(r.nu.size == bi for r in regions)
        if name != "B":
            ok = ok and fits and covered(name, pats, bi)
        return {"accepted": bool(ok and fits), "by": "branch regions"}
    if str(res.verdict) == "holds" and not res.branch_patterns:
        worst = check_witness(problem, point, "P", name, res.witness, act_tol)["max"]
        return {"max_violation": worst, "accepted": bool(worst <= tau), "by": "witness"}
    if str(res.verdict) != "holds":
        return {"accepted": False, "reason": "no proof stored"}
    worst = 0.0
    shapes = [U.shape for U in point.U]
    keys = set()
    for wit, (nu, w) in zip(res.witness, res.branch_patterns, strict=True):
        nu_l, w_l = Region(nu, w, res.branch_loc, {}, 0.0).per_layer(shapes)
        worst = max(worst, check_witness(problem, point, "P", "W", wit, act_tol)["max"])
        for l in range(problem.n_layers):
            bi = act.G[l] & act.H[l]
            for pats, M in ((nu_l[l], wit["M1"][l]), (w_l[l], wit["M2"][l])):
                p, x = pats[bi], M[bi]
                if np.any(p == " "):
                    worst = np.inf
                    continue
                v = np.where(p == "+", np.maximum(-x, 0), np.where(p == "0", np.abs(x), 0.0))
                worst = max(worst, float(np.max(v, initial=0.0)))
        keys.add(("".join(nu), "".join(w)))
    bi = sum(int((g & h).sum()) for g, h in zip(act.G, act.H, strict=True))
    complete = keys == {("".join(c[0] for c in combo), "".join(c[1] for c in combo))
                        for combo in itertools.product(B_PIECES, repeat=bi)}
    return {"max_violation": worst, "accepted": bool(worst <= tau and complete), "by": "B pieces"}
