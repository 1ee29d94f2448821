r"""Compiled kernels of the inner iteration (optional: numba, the ``fast`` extra).

Each kernel is the compiled twin of a numpy computation that stays the reference and the fallback
when numba is not installed (or ``IALAM_NO_NUMBA=1`` is set); ``tests/solver/test_solver_compiled.py``
checks every one against it.

- (v, u) step, the same numbers as numpy (the same operations in the same order; ``max``/``min``
  written as numpy's ``maximum``/``minimum``: the first argument on ties and NaN):
  :func:`solve_vu_compiled` (:func:`.vu_step._solve_vu_block` entry by entry),
  :func:`coupling_compiled` and :func:`vu_layer_compiled` (the coefficients of
  :meth:`.inner.AlternatingMinimization.vu_step` formed inside the loop: one pass per layer where
  numpy makes a dozen).
- (w, b) step, the same iterates up to rounding: :func:`group_lasso_bcd_compiled`, the column block
  coordinate descent of :mod:`.wb_bcd` with its working set, updates and stopping test. The gradient
  :math:`R = WG` is kept current in *blocks* of ``BCD_BLOCK`` working-set columns: a block's rows first
  receive the changes of the columns before it in this sweep in one product
  :math:`G_{J,<s}\Delta_{<s}` (BLAS-3 with a long inner dimension), its columns are then updated one
  after the other, and after the sweep each block's rows receive the later changes the same way (the
  numpy path makes one rank-one BLAS-2 update per column and restores ``R = WG`` by a product per
  sweep; this one does not: the difference is rounding, and the caller starts from a fresh ``WG`` at
  every ``run``). :func:`group_lasso_bcd_from_gradient` starts from a given gradient and makes its
  last sweep forward only (the updates the rest of that sweep reads: half the work);
  :func:`wb_layer_compiled` is a whole small-layer step (means, constant rows, Gram matrix, solve,
  bias) in one call.
- :func:`relative_change_compiled`: the inner stopping measure in one pass per array.

Why: on the 10-10-2 layers a step is a few dozen numpy calls on 10-entry vectors (microseconds each,
all overhead), and on a 784-column first layer the numpy sweep spends a Python iteration per column.
Compiling takes 20-25 s of CPU once after installing (numba's cache in ``__pycache__`` then serves
every later process in about a second); :func:`warm_up` does it when a solver is built.

``ENABLED`` says whether the kernels are used; tests switch it off to compare both paths.
"""

from __future__ import annotations

import os

import numpy as np

try:  # numba is optional (the ``fast`` extra)
    import numba
except ImportError:  # pragma: no cover - exercised by a test that hides numba
    numba = None

#: the compiled kernels are used (numba importable and not switched off by ``IALAM_NO_NUMBA=1``)
ENABLED: bool = numba is not None and os.environ.get("IALAM_NO_NUMBA", "") not in ("1", "true")

#: working-set columns per block of the compiled BCD sweep (the BLAS-3 cross-block update's width)
BCD_BLOCK = 64


def _njit(fn):
    """``numba.njit`` with numpy's floating-point error model (inf/NaN, no exception), cached on disk;
    the plain Python function when numba is absent (never called then: ``ENABLED`` is False)."""
    if numba is None:
        return fn
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)


@_njit
def _max(x, y):
    # numpy's maximum: x when x >= y or x is NaN, else y
    return x if (x >= y or x != x) else y


@_njit
def _min(x, y):
    # numpy's minimum: x when x <= y or x is NaN, else y
    return x if (x <= y or x != x) else y


@_njit
def _vu_kernel(a, p, c, q, beta, alpha, v, u):  # pragma: no cover - compiled
    n = p.shape[0]
    for i in range(n):
        v[i], u[i] = _vu_entry(a, p[i], c, q[i], beta, alpha)


@_njit
def _vu_layer_kernel(
    a, c, beta, alpha, p_formula, PW, t, V, q_formula, tau, U, G, v, u
):  # pragma: no cover - compiled
    # the coefficients of AlternatingMinimization.vu_step formed entry by entry, in its order:
    # p = (PW + t V) - beta if p_formula else PW;  q = tau U - G if q_formula else G
    n = v.shape[0]
    for i in range(n):
        pi = (PW[i] + t * V[i]) - beta if p_formula else PW[i]
        qi = tau * U[i] - G[i] if q_formula else G[i]
        v[i], u[i] = _vu_entry(a, pi, c, qi, beta, alpha)


@_njit
def _coupling_kernel(lin, b, U, xi, rho, tau1, q0, out0):  # pragma: no cover - compiled
    # lin (m, N) := G = (U - (lin + b)) rho + xi, in place; with q0 and out0 of shape (m, N) (the
    # first layer) also q0 = ((lin + b) rho - xi) + tau1 U and out0 = lin + b; the operations of
    # vu_step in its order
    m, n = lin.shape
    first = q0.shape[0] == m
    for r in range(m):
        br = b[r]
        for k in range(n):
            x = lin[r, k] + br
            if first:
                q0[r, k] = (x * rho - xi[r, k]) + tau1 * U[r, k]
                out0[r, k] = x
            lin[r, k] = (U[r, k] - x) * rho + xi[r, k]


def vu_layer_compiled(
    a: float, c: float, beta: float, alpha: float,
    PW: np.ndarray, t: float, V: np.ndarray | None, tau: float, U: np.ndarray | None, G: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The (v, u) closed form of one layer with ``p = PW + t V - beta`` (``PW`` itself if ``V`` is
    None) and ``q = tau U - G`` (``G`` itself if ``U`` is None); arrays of one shape, float64."""
    shape = PW.shape
    flat = [
        None if x is None else np.ascontiguousarray(x, dtype=float).reshape(-1) for x in (PW, V, U, G)
    ]
    PWf, Vf, Uf, Gf = flat
    v = np.empty(PWf.shape[0])
    u = np.empty(PWf.shape[0])
    _vu_layer_kernel(
        float(a), float(c), float(beta), float(alpha), Vf is not None, PWf, float(t),
        PWf if Vf is None else Vf, Uf is not None, float(tau), Gf if Uf is None else Uf, Gf, v, u,
    )  # fmt: skip
    return v.reshape(shape), u.reshape(shape)


def coupling_compiled(
    lin: np.ndarray, b: np.ndarray, U: np.ndarray, xi: np.ndarray, rho: float,
    tau1: float = 0.0, first: bool = False,
) -> tuple[np.ndarray, np.ndarray] | None:  # fmt: skip
    r"""In place: ``lin`` (:math:`W_\ell P`, C-ordered) becomes :math:`G_\ell = \Xi_\ell +
    \rho(U_\ell - W_\ell P - b_\ell)`; with ``first`` also returns the first layer's
    :math:`q = \rho(W_1X + b_1) - \Xi_1 + \tau_1U_1` and its output :math:`W_1X + b_1`."""
    shape = lin.shape if first else (0, 0)
    q0, out0 = np.empty(shape), np.empty(shape)
    _coupling_kernel(
        lin, np.ascontiguousarray(b, dtype=float), np.ascontiguousarray(U, dtype=float),
        np.ascontiguousarray(xi, dtype=float), float(rho), float(tau1), q0, out0,
    )  # fmt: skip
    return (q0, out0) if first else None


@_njit
def _vu_entry(a, pi, c, qi, beta, alpha):  # pragma: no cover - compiled
    # one entry of vu_step._solve_vu_block, its operations in its order
    k_pos = a + c
    k_neg = a * alpha * alpha + c
    ab = alpha * beta
    v0 = pi / a
    ray_v = _max(v0, 0.0)
    ray_e = a * ray_v * ray_v
    e_v0 = a * v0 * v0
    # branch u >= 0 (slope 1)
    qb = qi + beta
    u0 = qb / c
    t = (pi + qb) / k_pos
    t = _max(t, 0.0)
    ep = _max(ray_e, k_pos * t * t)
    up = _max(_min(u0, t), 0.0)
    if v0 >= u0 and u0 >= 0.0:
        ep = c * u0 * u0 + e_v0
    # branch u <= 0 (slope alpha)
    qn = qi + ab
    u0 = qn / c
    t = (alpha * pi + qn) / k_neg
    t = _min(t, 0.0)
    en = _max(ray_e, k_neg * t * t)
    un = _min(u0, t)
    if v0 >= alpha * u0 and u0 <= 0.0:
        en = c * u0 * u0 + e_v0
    ui = un if en > ep else up
    return _max(_max(v0, ui), ui * alpha), ui


def solve_vu_compiled(
    a: float, p: np.ndarray, c: float, q: np.ndarray, beta: float, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`.vu_step.solve_vu` for scalar ``a, c, beta`` and float64 arrays ``p, q`` of one shape."""
    shape = p.shape
    p = np.ascontiguousarray(p).reshape(-1)
    q = np.ascontiguousarray(q).reshape(-1)
    v = np.empty(p.shape[0])
    u = np.empty(p.shape[0])
    _vu_kernel(float(a), p, float(c), q, float(beta), float(alpha), v, u)
    return v.reshape(shape), u.reshape(shape)


@_njit
def _residual(Wt, Rt, Ct, lam, n_pen, dead, has_bound, bias_bound, curv_b):  # pragma: no cover
    # the Euclidean norm of wb_bcd.optimality_residuals (dead columns count 0), from R - C
    n, m = Wt.shape
    total = 0.0
    for j in range(n):
        if j < n_pen and dead[j]:
            continue
        if j < n_pen:
            wn = 0.0
            gn = 0.0
            for i in range(m):
                wn += Wt[j, i] * Wt[j, i]
                g = Rt[j, i] - Ct[j, i]
                gn += g * g
            if wn > 0.0:
                s = lam / np.sqrt(wn)
                r2 = 0.0
                for i in range(m):
                    d = Rt[j, i] - Ct[j, i] + s * Wt[j, i]
                    r2 += d * d
                total += r2
            else:
                r = np.sqrt(gn) - lam
                if r > 0.0:
                    total += r * r
        elif not has_bound:
            for i in range(m):
                g = Rt[j, i] - Ct[j, i]
                total += g * g
        else:
            r2 = 0.0
            for i in range(m):
                w = Wt[j, i]
                st = w - _max(bias_bound, w - (Rt[j, i] - Ct[j, i]) / curv_b)
                r2 += st * st
            total += curv_b * curv_b * r2
    return np.sqrt(total)


@_njit
def _bcd_kernel(
    G, Ct, Wt, Rt, lam, n_pen, dead, has_bound, bias_bound, tol_abs, max_iter, block, forward_last
):  # pragma: no cover - compiled
    # with forward_last, the last allowed sweep updates only the rows of R the rest of that sweep
    # reads (half the work); R is then stale and the residual returned is the one at its start
    n, m = Wt.shape
    diag = np.empty(n)
    for j in range(n):
        diag[j] = G[j, j]
    curv_b = diag[n - 1] if (has_bound and n > n_pen) else 1.0
    res = _residual(Wt, Rt, Ct, lam, n_pen, dead, has_bound, bias_bound, curv_b)
    work = np.empty(n, dtype=np.int64)
    delta = np.zeros((n, m))  # this sweep's changes, by working-set position
    new = np.empty(m)
    it = 0
    for it in range(1, max_iter + 1):
        if res <= tol_abs:
            return it - 1, res
        last = forward_last and it == max_iter
        # working set from the gradients at the start of the sweep (as wb_bcd.group_lasso_bcd)
        nw = 0
        for j in range(n):
            if j < n_pen:
                if dead[j]:
                    continue
                wn = 0.0
                gn = 0.0
                for i in range(m):
                    wn += Wt[j, i] * Wt[j, i]
                    g = Rt[j, i] - Ct[j, i]
                    gn += g * g
                if not (np.sqrt(wn) > 0.0 or np.sqrt(gn) > lam):
                    continue
            work[nw] = j
            nw += 1
        # left-looking blocks: before block [s, e) of the working set its rows receive the changes
        # of the columns before it in this sweep, one product G[J, W_<s] D_<s (a long inner
        # dimension: efficient BLAS); within the block the updates go one by one
        n_changed = 0  # working-set positions < n_changed may hold nonzero deltas
        for s in range(0, nw, block):
            e = min(s + block, nw)
            nb = e - s
            if n_changed > 0:
                GJ = np.empty((nb, n_changed))
                for a in range(nb):
                    row = work[s + a]
                    if nw == n:  # every column in the working set: positions are columns
                        GJ[a, :] = G[row, :n_changed]
                    else:
                        for c in range(n_changed):
                            GJ[a, c] = G[row, work[c]]
                upd = np.dot(GJ, delta[:n_changed])
                for a in range(nb):
                    row = work[s + a]
                    for i in range(m):
                        Rt[row, i] += upd[a, i]
            for kk in range(s, e):
                j = work[kk]
                d = diag[j]
                for i in range(m):
                    delta[kk, i] = 0.0
                if d <= 0.0:
                    continue
                if j < n_pen:
                    nrm2 = 0.0
                    for i in range(m):
                        z = Wt[j, i] - (Rt[j, i] - Ct[j, i]) / d
                        new[i] = z
                        nrm2 += z * z
                    nrm = np.sqrt(nrm2)
                    thr = lam / d
                    scale = 1.0 - thr / nrm if nrm > thr else 0.0
                    for i in range(m):
                        new[i] = new[i] * scale
                else:
                    for i in range(m):
                        z = Wt[j, i] - (Rt[j, i] - Ct[j, i]) / d
                        new[i] = _max(z, bias_bound) if has_bound else z
                any_change = False
                for i in range(m):
                    dl = new[i] - Wt[j, i]
                    delta[kk, i] = dl
                    if dl != 0.0:
                        any_change = True
                if not any_change:
                    continue
                n_changed = e
                for i in range(m):
                    Wt[j, i] = new[i]
                # the block's own rows of R now (the next columns of this block read them; in a
                # forward-only sweep only those)
                for ll in range(kk + 1 if last else s, e):
                    jj = work[ll]
                    gjj = G[jj, j]
                    if gjj != 0.0:
                        for i in range(m):
                            Rt[jj, i] += gjj * delta[kk, i]
        if not last and n_changed > 0:
            # the rest of R: each block's rows get the changes of the columns after it, and the
            # rows outside the working set get every change
            for s in range(0, nw, block):
                e = min(s + block, nw)
                if e >= n_changed:
                    break
                nb = e - s
                GJ = np.empty((nb, n_changed - e))
                for a in range(nb):
                    row = work[s + a]
                    if nw == n:
                        GJ[a, :] = G[row, e:n_changed]
                    else:
                        for c in range(e, n_changed):
                            GJ[a, c - e] = G[row, work[c]]
                upd = np.dot(GJ, delta[e:n_changed])
                for a in range(nb):
                    row = work[s + a]
                    for i in range(m):
                        Rt[row, i] += upd[a, i]
            if nw < n:
                inwork = np.zeros(n, dtype=np.bool_)
                for c in range(nw):
                    inwork[work[c]] = True
                rows = np.empty(n - nw, dtype=np.int64)
                r = 0
                for jj in range(n):
                    if not inwork[jj]:
                        rows[r] = jj
                        r += 1
                GJ = np.empty((n - nw, n_changed))
                for a in range(n - nw):
                    for c in range(n_changed):
                        GJ[a, c] = G[rows[a], work[c]]
                upd = np.dot(GJ, delta[:n_changed])
                for a in range(n - nw):
                    for i in range(m):
                        Rt[rows[a], i] += upd[a, i]
        if last:
            return it, res
        for j in range(n):
            for i in range(m):
                if not np.isfinite(Rt[j, i]):
                    return it, np.inf
        res = _residual(Wt, Rt, Ct, lam, n_pen, dead, has_bound, bias_bound, curv_b)
    return it, res


@_njit
def _bcd_solve(
    G, Ct, Wt, Rt, have_R, lam, n_pen, has_bound, bias_bound, tol, max_iter, block, scale_given
):  # pragma: no cover - compiled
    # wb_bcd.group_lasso_bcd's set-up (finite data, dead columns, the scale, R = W G) and its sweeps;
    # returns (sweeps, unscaled residual, scale, status: 0 ok, 1 not finite, 2 dead columns).
    # scale_given > 0: R - C is a given gradient (C = 0), the scale is scale_given, and the last
    # sweep is forward only (_bcd_kernel); dead columns are then refused (status 2).
    n, m = Wt.shape
    # (a given scale: G is the caller's fixed Gram matrix, checked when it was first used)
    Gf = G.ravel()
    for x in (Gf[: 0 if scale_given > 0.0 else Gf.shape[0]], Ct.ravel(), Wt.ravel()):
        for k in range(x.shape[0]):
            if not np.isfinite(x[k]):
                return 0, np.inf, 1.0, 1
    dead = np.zeros(n, dtype=np.bool_)
    any_dead = False
    for j in range(n_pen):
        if G[j, j] <= 0.0:
            dead[j] = True
            any_dead = True
            for i in range(m):
                Wt[j, i] = 0.0
    given = scale_given > 0.0
    if given and any_dead:
        return 0, np.inf, 1.0, 2
    if given:
        scale = scale_given
    else:
        c2 = 0.0
        for j in range(n):
            for i in range(m):
                c2 += Ct[j, i] * Ct[j, i]
        scale = max(1.0, np.sqrt(c2))
    if any_dead or not have_R:
        Rt[:, :] = np.dot(G, Wt)  # (W G)^T = G W^T (G symmetric)
    it, res = _bcd_kernel(
        G, Ct, Wt, Rt, lam, n_pen, dead, has_bound, bias_bound, tol * scale, max_iter, block, given
    )
    return it, res, scale, 0 if np.isfinite(res) else 1


def group_lasso_bcd_compiled(
    G: np.ndarray,
    C: np.ndarray,
    W0: np.ndarray,
    lam: float,
    n_pen: int,
    bias_bound: float | None,
    tol: float,
    max_iter: int,
    gram_product: np.ndarray | None,
) -> tuple[np.ndarray | None, int, float, np.ndarray | None, float]:
    """:func:`.wb_bcd.group_lasso_bcd` compiled: returns ``(W, sweeps, scaled residual, W G, scale)``,
    ``W`` None when the data or an iterate were not finite (then the residual is ``inf``)."""
    m, n = W0.shape
    Wt = np.array(W0.T, dtype=float, order="C", copy=True)
    if gram_product is not None:
        Rt = np.array(gram_product.T, dtype=float, order="C", copy=True)
    else:
        Rt = np.empty((n, m))
    it, res, scale, status = _bcd_solve(
        np.ascontiguousarray(G, dtype=float), np.ascontiguousarray(C.T, dtype=float), Wt, Rt,
        gram_product is not None, float(lam), int(n_pen), bias_bound is not None,
        0.0 if bias_bound is None else float(bias_bound), float(tol), int(max_iter),
        int(BCD_BLOCK), 0.0,
    )  # fmt: skip
    if status != 0:
        return None, int(it), float("inf"), None, 1.0
    return Wt.T.copy(), int(it), float(res) / float(scale), Rt.T, float(scale)


def group_lasso_bcd_from_gradient(
    G: np.ndarray,
    grad: np.ndarray,
    W0: np.ndarray,
    lam: float,
    n_pen: int,
    scale: float,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray | None, int, float, bool]:
    r"""The compiled sweeps from a given gradient :math:`\nabla F(W_0) = W_0G - C` (``grad``, (m, n))
    instead of ``C`` and :math:`W_0G`, stopping test ``residual <= tol * scale``, the last allowed
    sweep forward only. Returns ``(W, sweeps, scaled residual, converged)``; after a forward-only
    sweep the residual is the one at its start and ``converged`` False. ``W`` None: the data were not
    finite or a penalized column has :math:`G_{jj} \le 0` (use :func:`.wb_bcd.group_lasso_bcd`)."""
    m, n = W0.shape
    Wt = np.array(W0.T, dtype=float, order="C", copy=True)
    Rt = np.array(grad.T, dtype=float, order="C", copy=True)
    it, res, _, status = _bcd_solve(
        np.ascontiguousarray(G, dtype=float), np.zeros((n, m)), Wt, Rt, True, float(lam),
        int(n_pen), False, 0.0, float(tol), int(max_iter), int(BCD_BLOCK), float(scale),
    )  # fmt: skip
    if status != 0:
        return None, int(it), float("inf"), False
    converged = bool(res <= tol * scale)  # after a forward-only sweep, res > tol * scale
    return Wt.T.copy(), int(it), float(res) / float(scale), converged


@_njit
def _wb_layer_kernel(T, P, W0, lam, tol, max_iter, block):  # pragma: no cover - compiled
    # wb_step.wb_layer_step for an unbounded bias by "bcd", in one call: the means, the fixed
    # (constant) rows, the centred Gram matrix and C, the solve without the fixed columns, the bias
    m, N = T.shape
    n_in = P.shape[0]
    pbar = np.zeros(n_in)
    fixed = np.ones(n_in, dtype=np.bool_)
    for j in range(n_in):
        acc = 0.0
        p0 = P[j, 0] if N > 0 else 0.0
        for k in range(N):
            x = P[j, k]
            acc += x
            if x != p0:
                fixed[j] = False
        pbar[j] = acc / N if N > 0 else 0.0
    tbar = np.zeros(m)
    for r in range(m):
        acc = 0.0
        for k in range(N):
            acc += T[r, k]
        tbar[r] = acc / N if N > 0 else 0.0
    nk = 0
    keep = np.empty(n_in, dtype=np.int64)
    for j in range(n_in):
        if not fixed[j]:
            keep[nk] = j
            nk += 1
    keep = keep[:nk]
    Pk = np.empty((nk, N))
    for a in range(nk):
        Pk[a, :] = P[keep[a], :]
    G = np.dot(Pk, Pk.T)
    Ct = np.dot(Pk, T.T)  # C^T = P_k T^T, (nk, m)
    for a in range(nk):
        pa = N * pbar[keep[a]]
        for c in range(nk):
            G[a, c] -= pa * pbar[keep[c]]
        for r in range(m):
            Ct[a, r] -= pa * tbar[r]
    Wt = np.empty((nk, m))
    for a in range(nk):
        for r in range(m):
            Wt[a, r] = W0[r, keep[a]]
    Rt = np.empty((nk, m))
    it, res, scale, status = _bcd_solve(
        G, Ct, Wt, Rt, False, lam, nk, False, 0.0, tol, max_iter, block, 0.0
    )
    W = np.zeros((m, n_in))
    if status != 0:
        return W, tbar, it, np.inf, False
    for a in range(nk):
        for r in range(m):
            W[r, keep[a]] = Wt[a, r]
    b = tbar - np.dot(W, pbar)
    return W, b, it, res / scale, res <= tol * scale


def wb_layer_compiled(
    T: np.ndarray, P: np.ndarray, W0: np.ndarray, lam: float, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray, int, float, bool] | None:
    """:func:`.wb_step.wb_layer_step` with an unbounded bias, ``method="bcd"`` and no given Gram
    matrix, in one compiled call (the set-up's dozen numpy calls cost more than the solve on small
    layers). Returns ``(W, b, sweeps, scaled residual, converged)``, or None when the data or the
    iterate were not finite (the caller then runs the numpy path, which flags it)."""
    W, b, it, res, conv = _wb_layer_kernel(
        np.ascontiguousarray(T, dtype=float), np.ascontiguousarray(P, dtype=float),
        np.ascontiguousarray(W0, dtype=float), float(lam), float(tol), int(max_iter),
        int(BCD_BLOCK),
    )  # fmt: skip
    if not np.isfinite(res):
        return None
    return W, b, int(it), float(res), bool(conv)


@_njit
def _squared_change(new, old):  # pragma: no cover - compiled
    num = 0.0
    den = 0.0
    for k in range(old.shape[0]):
        d = new[k] - old[k]
        num += d * d
        den += old[k] * old[k]
    return num, den


def relative_change_compiled(new: list[np.ndarray], old: list[np.ndarray]) -> float:
    r""":math:`\sqrt{\sum\|a - c\|^2 / \max(\sum\|c\|^2, 10^{-300})}` (``inner._relative_change``;
    sums in another order: equal up to rounding)."""
    num = 0.0
    den = 0.0
    for a, c in zip(new, old, strict=True):
        n_, d_ = _squared_change(
            np.ascontiguousarray(a, dtype=float).reshape(-1),
            np.ascontiguousarray(c, dtype=float).reshape(-1),
        )
        num += n_
        den += d_
    return float(np.sqrt(num / max(den, 1e-300)))


_warmed = False


def warm_up() -> None:
    """Compile every kernel now (or load it from numba's on-disk cache), once per process.

    The first call after installing compiles them (about 10-30 s on a loaded 2-core machine, then
    cached in ``__pycache__``); a later process loads them (well under a second).
    :class:`.inner.AlternatingMinimization` calls this when it is built, so that the compile time
    falls outside a solver's clock (a stage's time budget) and the first inner iteration is not
    thousands of times slower than the next. A no-op without numba."""
    global _warmed
    if _warmed or not ENABLED:
        return
    x = np.array([[0.5, -1.0], [0.0, 2.0]])
    solve_vu_compiled(1.0, x, 1.0, x, 0.5, 0.1)
    vu_layer_compiled(1.0, 1.0, 0.5, 0.1, x, 0.5, x, 1.0, x, x)
    coupling_compiled(x.copy(), np.zeros(2), x, x, 0.1, 0.1, first=True)
    G = np.eye(2) + 0.1
    group_lasso_bcd_compiled(G, x, x, 0.1, 2, None, 1e-8, 2, None)
    group_lasso_bcd_from_gradient(G, x, x, 0.1, 2, 1.0, 1e-8, 2)
    wb_layer_compiled(x, x, x, 0.1, 1e-8, 2)
    relative_change_compiled([x], [x + 1.0])
    _warmed = True


__all__ = [
    "BCD_BLOCK",
    "ENABLED",
    "coupling_compiled",
    "group_lasso_bcd_compiled",
    "group_lasso_bcd_from_gradient",
    "relative_change_compiled",
    "solve_vu_compiled",
    "vu_layer_compiled",
    "warm_up",
    "wb_layer_compiled",
]
