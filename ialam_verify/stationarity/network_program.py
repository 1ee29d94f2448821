r"""The backward pass that is the multiplier, and the small program over the degenerate entries.

At every entry the (PP) system (:mod:`.network_check`) reads :math:`M^1 + M^2 = G` and
:math:`\Xi = \beta S - M^1 - \alpha M^2` (:math:`\beta = 0`, no :math:`S` for (P)), where
:math:`G_\ell` depends only on :math:`\Xi_{\ell+1}` of the same sample. Off the degenerate entries one
of :math:`M^1, M^2` is forced to 0 by complementarity and the slope is fixed, so

.. math::

    \Xi = \beta s - G \ (v - u \text{ active}),\qquad \Xi = \beta s - \alpha G\ (v - \alpha u
    \text{ active}),\qquad \Xi = \beta s,\ G = 0\ (\text{neither}),

a backward pass through the layers: minus the back-propagated gradient of the loss. An entry is
*free* when both constraints are active (the split of :math:`G` between :math:`M^1, M^2` moves
:math:`\Xi` in :math:`[\beta s - G, \beta s - \alpha G]`) or when, in (PP), :math:`u` is at the
kink of :math:`-\beta\sigma` with :math:`\beta > 0` (:math:`s` in :math:`\{\alpha, 1\}` or
:math:`[\alpha, 1]`). :math:`\Xi` at the non-free entries is affine in the values
:math:`\xi` at the free ones, through the layers below them in the same sample only; samples meet only
in :math:`R^W, R^b`. :class:`ReducedProgram` is the program in :math:`\xi` (one variable per free
entry, not per sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.problem import LiftedPoint, Problem
from .network_check import Activity, PointData, group_terms


@dataclass
class Structure:
    """Entry classes at one activity level.

    ``side``: +1 where :math:`M^1 = G` (``v - u`` active), -1 where :math:`M^2 = G`, 0 where neither
    constraint is active; at free entries it is the default (one-sided) choice. ``cond``: 1 where
    :math:`G \\ge 0` is required ((PP), a constraint active), 2 where :math:`G = 0` is required.
    ``s_def``: default slopes (fixed off the kink; at a kink the side's slope).
    """

    problem: Problem
    point: LiftedPoint
    kind: str
    act: Activity
    side: list[np.ndarray]
    cond: list[np.ndarray]
    free: list[np.ndarray]
    s_def: list[np.ndarray]
    data: PointData | None = None  # the point's shared quantities (network_check.PointData)

    @classmethod
    def of(
        cls, problem: Problem, point: LiftedPoint, kind: str, act: Activity,
        data: PointData | None = None,
    ) -> Structure:
        # small integer codes and products with masks: np.where on a random mask is several
        # times slower at N = 60000 (same values as np.where; one of the two products is 0)
        data = PointData.of(problem, point, data)
        side, cond, free, s_def = [], [], [], []
        s_fix = data.s_fix()
        for l, U in enumerate(point.U):
            G, H, kz = act.G[l], act.H[l], act.kz[l]
            one = G & ((U > 0) | ~H)
            minus = H & ~one
            sd = one.view(np.int8) - minus.view(np.int8)
            side.append(sd)
            if kind == "PP":
                cond.append(2 - (one | minus).view(np.int8))
                fr = (G & H) | (kz & (problem.beta[l] > 0))
                s = s_fix[l].copy()
                s[kz] = np.where(one[kz], 1.0, problem.alpha)
            else:
                cond.append(np.zeros(U.shape, dtype=np.int8))
                fr = G & H
                s = s_fix[l]
            free.append(fr)
            s_def.append(s)
        return cls(problem, point, kind, act, side, cond, free, s_def, data)

    @property
    def n_free(self) -> int:
        return int(sum(int(f.sum()) for f in self.free))

    def free_idx(self, l: int) -> tuple[np.ndarray, np.ndarray]:
        """``np.nonzero(free[l])`` (computed once): the same entries in the same order as the mask,
        at a cost set by their number, not by ``N``."""
        cache = self.__dict__.setdefault("_free_idx", {})
        if l not in cache:
            cache[l] = np.nonzero(self.free[l])
        return cache[l]

    def c0c1(self, l: int) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`\Xi_\ell = c_0 + c_1 \odot G_\ell` off the free entries (computed once)."""
        cache = self.__dict__.setdefault("_c0c1", {})
        if l not in cache:
            sd = self.side[l]
            c1 = np.multiply(sd == 1, -1.0)
            c1 -= np.multiply(sd == -1, self.problem.alpha)
            c0 = self.problem.beta[l] * self.s_def[l] if self.kind == "PP" else None
            cache[l] = (c0, c1)
        return cache[l]


def backward(st: Structure, xi_free: list[np.ndarray] | None = None):
    r"""One backward pass: :math:`\Xi_\ell = c_0 + c_1 \odot G_\ell` (module doc) layer by layer from the
    top, with :math:`\Xi` replaced by ``xi_free[l]`` at the free entries (in ``np.nonzero`` order)
    when given. Returns ``(Xi, G)`` as lists of ``N_l x N`` arrays."""
    p, pt = st.problem, st.point
    L = p.n_layers
    grads = PointData.of(p, pt, st.data).grads(st.kind)
    Xi: list[np.ndarray] = [np.empty(0)] * L
    G: list[np.ndarray] = [np.empty(0)] * L
    for l in reversed(range(L)):
        if l == L - 1:
            g = grads[l]
        else:
            g = pt.W[l + 1].T @ Xi[l + 1]
            np.subtract(grads[l], g, out=g)
        c0, c1 = st.c0c1(l)
        X = c1 * g
        if c0 is not None:  # (PP): c0 + c1 g, the same sum as before
            X += c0
        if xi_free is not None:
            X[st.free_idx(l)] = xi_free[l]
        Xi[l], G[l] = X, g
    return Xi, G


def witness(
    st: Structure,
    notion: str,
    Xi: list[np.ndarray],
    G: list[np.ndarray],
    s_free: list[np.ndarray] | None = None,
    Z_zero: list[np.ndarray] | None = None,
    choose_slopes: bool = True,
) -> dict[str, list[np.ndarray]]:
    r"""The full multiplier set from :math:`\Xi` and :math:`G` of a backward pass: off the free
    entries by the side rule; at the free entries (when ``s_free`` is given, i.e. :math:`\Xi` was
    chosen there) :math:`M^1 = (\beta s - \alpha G - \Xi)/(1 - \alpha)`, :math:`M^2 = G - M^1` (one of
    them 0 if its constraint is inactive, :math:`s` then solved from :math:`\Xi`). Zero columns get
    the projection of :math:`(\Xi V^T)_{:,j}` onto the ball unless ``Z_zero`` gives them. For KKT,
    at kinks with both constraints active the slope is the one of :func:`best_kink_slopes` when
    ``choose_slopes`` (any slope in :math:`\{\alpha, 1\}` is allowed), else the given one (a B
    branch, whose slope is prescribed)."""
    p, pt = st.problem, st.point
    al = p.alpha
    out: dict[str, list[np.ndarray]] = {"Xi": Xi, "M1": [], "M2": [], "S": [], "Z": []}
    for l in range(p.n_layers):
        g, sd = G[l], st.side[l]
        M1 = np.multiply(g, sd == 1)  # g where v - u carries G (g is finite: the point is)
        M2 = np.multiply(g, sd == -1)
        S = st.s_def[l].copy() if st.kind == "PP" else None  # (P) has no slopes
        fr = st.free_idx(l)
        if s_free is not None and fr[0].size:
            gf, xf = g[fr], Xi[l][fr]
            Ga, Ha = st.act.G[l][fr], st.act.H[l][fr]
            beta = p.beta[l] if st.kind == "PP" else 0.0
            sf = np.asarray(s_free[l], dtype=float).copy() if st.kind == "PP" else np.zeros(gf.size)
            if st.kind == "PP" and beta > 0:
                only_g, only_h, none = Ga & ~Ha, Ha & ~Ga, ~Ga & ~Ha
                sf[only_g] = (xf[only_g] + gf[only_g]) / beta
                sf[only_h] = (xf[only_h] + al * gf[only_h]) / beta
                sf[none] = xf[none] / beta
                sf = _snap_slopes(sf, al, notion)
                if notion == "KKT" and choose_slopes:
                    both = Ga & Ha
                    sf[both] = best_kink_slopes(gf[both], xf[both], beta, al)
            m1 = (beta * sf - al * gf - xf) / (1.0 - al)
            m2 = gf - m1
            m1 = np.where(Ga, np.where(Ha, m1, gf), 0.0)
            m2 = np.where(Ha, np.where(Ga, m2, gf), 0.0)
            M1[fr], M2[fr] = m1, m2
            if st.kind == "PP":
                S[fr] = sf
        out["M1"].append(M1)
        out["M2"].append(M2)
        out["S"].append(S)
    fixed = group_terms(p, pt, st.act)
    for l, (Z, zc) in enumerate(zip(fixed, st.act.zero_cols, strict=True)):
        Z = Z.copy()
        if zc.any():
            if Z_zero is not None:
                Z[:, zc] = Z_zero[l]
            else:
                Vprev = p.X if l == 0 else pt.V[l - 1]
                a = Xi[l] @ Vprev[zc].T
                nrm = np.linalg.norm(a, axis=0)
                Z[:, zc] = a * np.minimum(1.0, p.lambda_w / np.where(nrm > 0, nrm, 1.0))
        out["Z"].append(Z)
    if st.kind == "P":
        del out["S"]
    return out


def best_kink_slopes(g: np.ndarray, xi: np.ndarray, beta: float, alpha: float) -> np.ndarray:
    r"""At kinks with both constraints active, the slope :math:`s \in \{\alpha, 1\}` whose
    interval :math:`[\beta s - g, \beta s - \alpha g]` holds :math:`\xi`, or comes nearest: the
    :math:`s` maximizing :math:`\min(M^1, M^2)` with :math:`M^1 = (\beta s - \alpha g - \xi)/(1 -
    \alpha)`, :math:`M^2 = g - M^1` (ties: 1). Rounding the relaxed slope to the nearer end instead
    can leave :math:`\xi` outside an interval that holds it."""
    m1_hi = (beta - alpha * g - xi) / (1.0 - alpha)
    m1_lo = (beta * alpha - alpha * g - xi) / (1.0 - alpha)
    slack_hi = np.minimum(m1_hi, g - m1_hi)
    slack_lo = np.minimum(m1_lo, g - m1_lo)
    return np.where(slack_lo > slack_hi, alpha, 1.0)


def _snap_slopes(s: np.ndarray, alpha: float, notion: str) -> np.ndarray:
    s = np.clip(s, alpha, 1.0)
    if notion == "KKT":
        s = np.where(np.abs(s - alpha) <= np.abs(s - 1.0), alpha, 1.0)
    return s


# ------------------------------------------------------------------------------ the program
class TooLarge(Exception):
    """The free entries are too many for the reduced program."""


@dataclass
class ReducedProgram:
    r"""Everything affine in :math:`\xi` (the :math:`\Xi` values at the K free entries).

    ``g_free = g0 + A xi`` (G at the free entries); ``cond_g = c0 + C xi`` at the conditioned
    entries below a free entry (``cond_type`` 1: :math:`\ge 0`, 2: :math:`= 0`); ``E = e0 + B xi``
    the :math:`R^W, R^b` rows that move (zero-column rows kept apart: ``zero_rows`` lists, per zero
    column, its row indices in ``E`` and that its value is :math:`Z_{:,j} + e0 + B\xi`);
    ``const`` the largest violation that no :math:`\xi` changes."""

    st: Structure
    loc: list[tuple[np.ndarray, np.ndarray]]  # per layer: (i, n) of the free entries
    g0: np.ndarray
    A: np.ndarray
    c0: np.ndarray
    C: np.ndarray
    cond_type: np.ndarray
    e0: np.ndarray
    B: np.ndarray
    zero_groups: list[tuple[int, int, np.ndarray]]  # (layer, column, rows of E)
    const: float
    G_act: np.ndarray
    H_act: np.ndarray
    kz_beta: np.ndarray  # free entries whose slope is free and matters (PP)
    beta_k: np.ndarray
    s_fixed: np.ndarray
    rows: np.ndarray | None = None  # positions of the rows of ``e0``/``B`` in the full R^W, R^b vector
    n_rows: int = 0  # length of the full R^W, R^b vector (per layer: vec(R^W_l) by columns, R^b_l)

    @classmethod
    def build(
        cls, st: Structure, max_free: int = 400, max_cells: int = 5_000_000
    ) -> ReducedProgram:
        p, pt = st.problem, st.point
        L, al = p.n_layers, p.alpha
        K = st.n_free
        if K > max_free:
            raise TooLarge(f"{K} free entries > {max_free}")
        nW = [W.size for W in pt.W]
        rows_total = sum(nW) + sum(W.shape[0] for W in pt.W)
        if rows_total * K > max_cells:
            raise TooLarge(f"the program would have {rows_total} x {K} dense entries")
        loc = [np.nonzero(f) for f in st.free]
        kidx, start = [], 0
        for l in range(L):
            kidx.append(np.arange(start, start + loc[l][0].size))
            start += loc[l][0].size
        Xi0, G0 = backward(st, [np.zeros(loc[l][0].size) for l in range(L)])
        g0 = np.concatenate([G0[l][st.free[l]] for l in range(L)])
        A = np.zeros((K, K))
        B_layers = [np.zeros((nW[l] + pt.W[l].shape[0], K)) for l in range(L)]
        c_rows, c_vals, c_types = [], [], []
        touched = [np.zeros(U.shape, dtype=bool) for U in pt.U]
        samples = np.unique(np.concatenate([loc[l][1] for l in range(L)]))
        for n in samples:
            ks = [(l, loc[l][0][loc[l][1] == n], kidx[l][loc[l][1] == n]) for l in range(L)]
            cols = np.concatenate([k for _, _, k in ks])
            pos = {int(k): j for j, k in enumerate(cols)}
            Xs = None
            for l in reversed(range(L)):
                n_out = pt.W[l].shape[0]
                if Xs is None:
                    gs = np.zeros((n_out, cols.size))
                else:
                    gs = -pt.W[l + 1].T @ Xs
                _, ii, kk = ks[l]
                for i, k in zip(ii, kk, strict=True):
                    A[k, cols] = gs[i]
                _, c1 = st.c0c1(l)
                moving = np.any(gs != 0, axis=1)
                cond_here = moving & ~st.free[l][:, n] & (st.cond[l][:, n] > 0)
                for i in np.flatnonzero(cond_here):
                    row = np.zeros(K)
                    row[cols] = gs[i]
                    c_rows.append(row)
                    c_vals.append(G0[l][i, n])
                    c_types.append(st.cond[l][i, n])
                    touched[l][i, n] = True
                Xs = c1[:, n, None] * gs
                Xs[ii] = 0.0
                for i, k in zip(ii, kk, strict=True):
                    Xs[i, pos[int(k)]] = 1.0
                Vprev = p.X if l == 0 else pt.V[l - 1]
                B_layers[l][: nW[l], cols] -= np.kron(Vprev[:, n][:, None], Xs)
                B_layers[l][nW[l] :, cols] -= Xs
        wit0 = witness(st, "Clarke" if st.kind == "PP" else "W", Xi0, G0)
        E0 = []
        zero_groups = []
        off = 0
        for l in range(L):
            Vprev = p.X if l == 0 else pt.V[l - 1]
            EW = wit0["Z"][l] - Xi0[l] @ Vprev.T
            zc = st.act.zero_cols[l]
            EW[:, zc] = -(Xi0[l] @ Vprev[zc].T)  # Z of the zero columns is a variable
            n_out = pt.W[l].shape[0]
            for j in np.flatnonzero(zc):
                zero_groups.append((l, int(j), off + j * n_out + np.arange(n_out)))
            E0.append(np.ravel(EW, order="F"))
            E0.append(-Xi0[l].sum(axis=1))
            off += nW[l] + n_out
        e0 = np.concatenate(E0)
        B = np.vstack(B_layers)
        zero_row = np.zeros(e0.size, dtype=bool)
        for _, _, r in zero_groups:
            zero_row[r] = True
        moving_rows = np.any(B != 0, axis=1) | zero_row
        const = float(np.max(np.abs(e0[~moving_rows]), initial=0.0))
        for l in range(L):  # conditions no free entry moves
            g, cnd = G0[l], st.cond[l]
            keep = ~st.free[l] & ~touched[l]
            v1 = np.maximum(-g, 0.0)[keep & (cnd == 1)]
            v2 = np.abs(g)[keep & (cnd == 2)]
            const = max(const, float(np.max(v1, initial=0.0)), float(np.max(v2, initial=0.0)))
        # keep only the moving rows; remap the zero-group row indices
        new_index = -np.ones(e0.size, dtype=int)
        new_index[moving_rows] = np.arange(int(moving_rows.sum()))
        zero_groups = [(l, j, new_index[r]) for l, j, r in zero_groups]
        G_act = np.concatenate([st.act.G[l][st.free[l]] for l in range(L)])
        H_act = np.concatenate([st.act.H[l][st.free[l]] for l in range(L)])
        if st.kind == "PP":
            kz_beta = np.concatenate([st.act.kz[l][st.free[l]] & (p.beta[l] > 0) for l in range(L)])
            beta_k = np.concatenate([np.full(loc[l][0].size, p.beta[l]) for l in range(L)])
        else:
            kz_beta = np.zeros(K, dtype=bool)
            beta_k = np.zeros(K)
        s_fixed = np.concatenate([st.s_def[l][st.free[l]] for l in range(L)])
        del al
        return cls(
            st,
            [(loc[l][0], loc[l][1]) for l in range(L)],
            g0,
            A,
            np.array(c_vals, dtype=float),
            np.array(c_rows, dtype=float).reshape(len(c_rows), K),
            np.array(c_types, dtype=int),
            e0[moving_rows],
            B[moving_rows],
            zero_groups,
            const,
            G_act,
            H_act,
            kz_beta,
            beta_k,
            s_fixed,
            np.flatnonzero(moving_rows),
            int(e0.size),
        )

    @property
    def K(self) -> int:
        return self.g0.size

    def split(self, vec: np.ndarray) -> list[np.ndarray]:
        """Per-layer pieces of a length-K vector (``np.nonzero`` order of each layer)."""
        out, start = [], 0
        for i, _ in self.loc:
            out.append(vec[start : start + i.size])
            start += i.size
        return out

    def solve(
        self,
        notion: str,
        *,
        slopes: np.ndarray | None = None,
        pair_patterns: tuple[np.ndarray, np.ndarray] | None = None,
        dual: bool = False,
    ) -> tuple[str, float | None, dict | None]:
        r"""Minimize :math:`t` = the largest residual / sign violation over :math:`\xi` (LP, or SOCP
        with zero columns; Clarabel). ``slopes`` fixes :math:`s` at the kink entries (a branch of
        the limiting set); without it, and where it is NaN, :math:`s \in [\alpha, 1]` (Clarke). ``pair_patterns`` gives,
        for (P), the sign pattern of :math:`(\nu, w)` at each free (biactive) entry."""
        import cvxpy as cp

        p = self.st.problem
        al = p.alpha
        K = self.K
        t = cp.Variable(nonneg=True)
        xi, m1, m2 = cp.Variable(K), cp.Variable(K), cp.Variable(K)
        cons = [t >= self.const]
        if self.st.kind == "PP":
            s = cp.Variable(K)
            cons.append(xi == cp.multiply(self.beta_k, s) - m1 - al * m2)
            fixed = ~self.kz_beta
            if fixed.any():
                cons.append(s[np.flatnonzero(fixed)] == self.s_fixed[fixed])
            kb = np.flatnonzero(self.kz_beta)
            if kb.size:
                pinned = kb[~np.isnan(slopes[kb])] if slopes is not None else kb[:0]
                relaxed = np.setdiff1d(kb, pinned)
                if pinned.size:
                    cons.append(s[pinned] == slopes[pinned])
                if relaxed.size:
                    cons += [s[relaxed] >= al, s[relaxed] <= 1.0]
        else:
            s = None
            cons.append(xi == -m1 - al * m2)
        cons.append(cp.abs(self.g0 + self.A @ xi - m1 - m2) <= t)
        for mask, m in ((~self.G_act, m1), (~self.H_act, m2)):
            if mask.any():
                cons.append(m[np.flatnonzero(mask)] == 0)
        if self.st.kind == "PP":
            for mask, m in ((self.G_act, m1), (self.H_act, m2)):
                if mask.any():
                    cons.append(m[np.flatnonzero(mask)] >= -t)
        elif pair_patterns is not None:
            for pats, m in zip(pair_patterns, (m1, m2), strict=True):
                for ch, expr in (("+", lambda x: x >= -t), ("-", lambda x: x <= t)):
                    idx = np.flatnonzero(pats == ch)
                    if idx.size:
                        cons.append(expr(m[idx]))
                idx = np.flatnonzero(pats == "0")
                if idx.size:
                    cons.append(cp.abs(m[idx]) <= t)
        if self.c0.size:
            cg = self.c0 + self.C @ xi
            one, two = np.flatnonzero(self.cond_type == 1), np.flatnonzero(self.cond_type == 2)
            if one.size:
                cons.append(cg[one] >= -t)
            if two.size:
                cons.append(cp.abs(cg[two]) <= t)
        E = self.e0 + self.B @ xi if self.e0.size else None
        Zs = []
        zrow = np.zeros(self.e0.size, dtype=bool)
        row_cons = []  # (rows, upper, lower): |E + z| <= t as two inequalities, for the dual
        for _, _, rows in self.zero_groups:
            z = cp.Variable(rows.size)
            Zs.append(z)
            zrow[rows] = True
            if dual:
                up, lo = z + E[rows] <= t, -(z + E[rows]) <= t
                row_cons.append((rows, up, lo))
                cons += [up, lo]
            else:  # the same set; kept as it was so that the solutions (and proofs) do not move
                cons.append(cp.abs(z + E[rows]) <= t)
            cons.append(cp.norm(z, 2) <= p.lambda_w)
        if E is not None and (~zrow).any():
            rest = np.flatnonzero(~zrow)
            if dual:
                up, lo = E[rest] <= t, -E[rest] <= t
                row_cons.append((rest, up, lo))
                cons += [up, lo]
            else:
                cons.append(cp.abs(E[rest]) <= t)
        prob = cp.Problem(cp.Minimize(t), cons)
        try:
            prob.solve(solver=cp.CLARABEL)
        except cp.error.SolverError as exc:
            return f"solver error: {exc}", None, None
        if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or xi.value is None:
            return str(prob.status), None, None
        sol = {
            "xi": np.asarray(xi.value, dtype=float),
            "s": None if s is None else np.asarray(s.value, dtype=float),
            "Z": [np.asarray(z.value, dtype=float) for z in Zs],
        }
        if dual:
            y = np.zeros(self.e0.size)
            for rows, up, lo in row_cons:
                if up.dual_value is not None and lo.dual_value is not None:
                    y[rows] = np.asarray(up.dual_value, dtype=float) - np.asarray(lo.dual_value, dtype=float)
            sol["y"] = y
        return str(prob.status), float(t.value), sol

    def to_witness(
        self, notion: str, sol: dict, choose_slopes: bool = True
    ) -> dict[str, list[np.ndarray]]:
        """The full witness of a solution of :meth:`solve` (one backward pass with :math:`\\xi`);
        ``choose_slopes`` as in :func:`witness`."""
        st = self.st
        Xi, G = backward(st, self.split(sol["xi"]))
        s = sol["s"] if sol["s"] is not None else np.zeros(self.K)
        Z_zero = None
        if self.zero_groups:
            Z_zero = []
            for l, zc in enumerate(st.act.zero_cols):
                cols = [
                    z for (ll, _, _), z in zip(self.zero_groups, sol["Z"], strict=True) if ll == l
                ]
                Z_zero.append(
                    np.column_stack(cols) if cols else np.zeros((st.point.W[l].shape[0], 0))
                )
                del zc
        return witness(st, notion, Xi, G, self.split(s), Z_zero, choose_slopes)
