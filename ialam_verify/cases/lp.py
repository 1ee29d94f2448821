r"""Exact linear feasibility in rational arithmetic, with a certificate either way.

For rational data the system

.. math::  M d \ge b, \qquad E d = e \qquad (d \in \mathbb{Q}^n \text{ free})

is decided by a two-phase-free simplex (phase 1 only, Bland's rule, ``fractions.Fraction``). The answer
is never a bare boolean: a feasible system returns a point ``d`` and an infeasible one returns Farkas
multipliers :math:`u \ge 0`, :math:`v` with

.. math::  M^T u + E^T v = 0, \qquad b^T u + e^T v = 1,

which contradict feasibility since :math:`0 = u^T M d + v^T E d \ge b^T u + e^T v = 1`. Both
certificates are re-checked exactly before they are returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

Vec = list[Fraction]
Mat = list[list[Fraction]]


def _F(x) -> Fraction:
    if isinstance(x, Fraction):
        return x
    try:
        import sympy

        if isinstance(x, sympy.Basic):
            if not x.is_Rational:
                raise ValueError(f"LP data must be rational; got {x}")
            return Fraction(int(x.p), int(x.q))
    except ImportError:  # pragma: no cover
        pass
    if isinstance(x, float):
        raise ValueError(f"LP data must be exact (int, Fraction, sympy Rational); got float {x}")
    return Fraction(x)


def phase1(A: Mat, b: Vec, ncols: int | None = None) -> Vec | None:
    """A point ``x >= 0`` with ``A x = b``, or ``None`` when there is none (exact simplex, Bland)."""
    m = len(A)
    n = ncols if ncols is not None else (len(A[0]) if m else 0)
    if m == 0:
        return [Fraction(0)] * n
    rows = []
    for r, bi in zip(A, b, strict=True):
        if bi < 0:
            rows.append(([-a for a in r], -bi))
        else:
            rows.append((list(r), bi))
    # tableau: [x (n) | artificials (m) | rhs]
    T = [r + [Fraction(int(i == j)) for j in range(m)] + [bi] for i, (r, bi) in enumerate(rows)]
    basis = [n + i for i in range(m)]
    ncol = n + m
    # objective: minimise the sum of the artificials. Reduced costs z_j = c_j - c_B^T B^-1 A_j are
    # kept as an extra tableau row and pivoted with the others (z = -sum of rows on x-columns).
    z = [-sum((T[i][j] for i in range(m)), Fraction(0)) for j in range(n)] + [Fraction(0)] * m
    z.append(-sum((T[i][-1] for i in range(m)), Fraction(0)))
    while True:
        enter = next((j for j in range(ncol) if z[j] < 0), None)  # Bland: smallest index
        if enter is None:
            break
        best = None
        for i in range(m):
            if T[i][enter] > 0:
                ratio = T[i][-1] / T[i][enter]
                if (
                    best is None
                    or ratio < best[0]
                    or (ratio == best[0] and basis[i] < basis[best[1]])
                ):
                    best = (ratio, i)
        if best is None:  # pragma: no cover - phase-1 objective is bounded below by 0
            raise RuntimeError("phase 1 unbounded: impossible")
        i = best[1]
        piv = T[i][enter]
        if piv != 1:
            T[i] = [t / piv for t in T[i]]
        row = T[i]
        for k in range(m):
            f = T[k][enter]
            if k != i and f != 0:
                T[k] = [a - f * c if c else a for a, c in zip(T[k], row, strict=True)]
        f = z[enter]
        z = [a - f * c if c else a for a, c in zip(z, row, strict=True)]
        basis[i] = enter
    x = [Fraction(0)] * ncol
    for i, j in enumerate(basis):
        x[j] = T[i][-1]
    if any(x[n + i] != 0 for i in range(m)):
        return None
    return x[:n]


@dataclass(frozen=True)
class Feasibility:
    """Outcome of :func:`feasible`: ``point`` when feasible, else Farkas multipliers ``(u, v)``."""

    feasible: bool
    point: tuple[Fraction, ...] | None = None
    farkas_u: tuple[Fraction, ...] | None = None
    farkas_v: tuple[Fraction, ...] | None = None


def _dot(a: Sequence[Fraction], b: Sequence[Fraction]) -> Fraction:
    return sum((x * y for x, y in zip(a, b, strict=True)), Fraction(0))


def feasible(
    M: Sequence[Sequence],
    b: Sequence,
    E: Sequence[Sequence] = (),
    e: Sequence = (),
    n: int | None = None,
) -> Feasibility:
    r"""Decide :math:`\{d : M d \ge b,\ E d = e\}` exactly; see the module docstring for certificates."""
    M = [[_F(x) for x in r] for r in M]
    E = [[_F(x) for x in r] for r in E]
    b = [_F(x) for x in b]
    e = [_F(x) for x in e]
    if n is None:
        n = len(M[0]) if M else (len(E[0]) if E else 0)
    if len(M) != len(b) or len(E) != len(e):
        raise ValueError("M/b and E/e must have matching numbers of rows")
    for r in M + E:
        if len(r) != n:
            raise ValueError(f"every row of M and E must have {n} entries")
    mi, me = len(M), len(E)
    # primal in standard form: d = p - q, M d - s = b, E d = e, (p, q, s) >= 0
    A = [r + [-x for x in r] + [Fraction(-int(i == k)) for k in range(mi)] for i, r in enumerate(M)]
    A += [r + [-x for x in r] + [Fraction(0)] * mi for r in E]
    x = phase1(A, b + e, ncols=2 * n + mi)
    if x is not None:
        d = [x[j] - x[n + j] for j in range(n)]
        ok = all(_dot(r, d) >= bi for r, bi in zip(M, b, strict=True)) and all(
            _dot(r, d) == ei for r, ei in zip(E, e, strict=True)
        )
        if not ok:  # pragma: no cover - exact arithmetic
            raise RuntimeError("exact LP returned a point that violates the system")
        return Feasibility(True, point=tuple(d))
    # alternative: u >= 0, v = v1 - v2, M^T u + E^T v = 0, b.u + e.v = 1
    cols = mi + 2 * me
    A2 = []
    for j in range(n):
        A2.append(
            [M[i][j] for i in range(mi)]
            + [E[k][j] for k in range(me)]
            + [-E[k][j] for k in range(me)]
        )
    A2.append(b + e + [-x for x in e])
    y = phase1(A2, [Fraction(0)] * n + [Fraction(1)], ncols=cols)
    if y is None:  # pragma: no cover - theorem of the alternative
        raise RuntimeError("neither the system nor its Farkas alternative is feasible")
    u = y[:mi]
    v = [y[mi + k] - y[mi + me + k] for k in range(me)]
    ok = (
        all(
            _dot([M[i][j] for i in range(mi)], u) + _dot([E[k][j] for k in range(me)], v) == 0
            for j in range(n)
        )
        and (_dot(b, u) + _dot(e, v) == 1)
        and all(ui >= 0 for ui in u)
    )
    if not ok or cols < 0:  # pragma: no cover
        raise RuntimeError("Farkas certificate failed its exact check")
    return Feasibility(False, farkas_u=tuple(u), farkas_v=tuple(v))
