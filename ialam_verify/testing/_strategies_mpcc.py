r"""Hypothesis strategies for MPCC first-order data (re-exported by ``strategies``).

Two kinds:

- :func:`degenerate_mpccs`: small integer data, often degenerate, of *unknown* class: for comparing
  a certifier with an independent reference (:func:`ialam_verify.testing.oracles.brute_min_residual`).
- :func:`mpcc_instances`: instances whose class (the strongest of S, M, C, A, W that holds, or
  none) is known **by construction**, with a unique multiplier or a non-unique one.

How the class is known. All active constraint gradients are rows of a matrix with orthonormal rows
(scaled), so they are linearly independent; :math:`\nabla f := J^T m_0` for chosen multipliers
:math:`m_0 = (\lambda, \mu, \nu, w)`. With nothing else, :math:`m_0` is the only multiplier
(MPEC-LICQ) and each notion is read off the signs of :math:`(\nu_i, w_i)` at every biactive pair.
Non-uniqueness is added by *copies* of rows: an extra equality whose gradient is the row of
:math:`G_i` frees :math:`\nu_i` (any real), an extra active inequality with gradient :math:`\pm` that
row restricts it to :math:`\nu_i \le \nu_{i,0}` or :math:`\nu_i \ge \nu_{i,0}` (likewise for
:math:`w_i`; copies of ``g`` or ``h`` rows change nothing). The multiplier set is then a product of
intervals over the pairs, and a notion holds iff every pair's interval box contains a point with the
notion's sign pattern: for sign rules that is a question about which signs each interval contains.
W fails ("none") by a gradient component orthogonal to every active row, or by a negative multiplier
of an active inequality that no copy can compensate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..stationarity import MPCC
from ._require import hypothesis_strategies

st = hypothesis_strategies()

CLASSES = ("S", "M", "C", "A", "W", "none")
"""The classes :func:`mpcc_instances` can build: the strongest notion that holds (``"none"``: W fails)."""

MPCC_ORDER = ("W", "A", "C", "M", "S")

# A notion's predicate on one biactive pair's multipliers (nu, w): the definitions.
PAIR_RULES = {
    "W": lambda a, b: True,
    "A": lambda a, b: a >= 0 or b >= 0,
    "C": lambda a, b: a * b >= 0,
    "M": lambda a, b: (a >= 0 and b >= 0) or a == 0 or b == 0,
    "S": lambda a, b: a >= 0 and b >= 0,
}

# Which notions hold for the class (the strongest that holds, and everything it implies).
HOLDING = {
    "S": {"W", "A", "C", "M", "S"},
    "M": {"W", "A", "C", "M"},
    "C": {"W", "C"},
    "A": {"W", "A"},
    "W": {"W"},
    "none": set(),
}

# Pair multiplier sets: (kind, nu0, w0). "point" is {(nu0, w0)}; the others free or half-free one
# coordinate (see the module docstring for the constraint copy that does it).
PAIR_KINDS = ("point", "nu_free", "w_free", "nu_down", "nu_up", "w_down", "w_up")
_VALUES = (-1.0, 0.0, 1.0)


def _interval(kind: str, coord: str, v0: float) -> tuple[float, float]:
    if kind == f"{coord}_free":
        return -np.inf, np.inf
    if kind == f"{coord}_down":
        return -np.inf, v0
    if kind == f"{coord}_up":
        return v0, np.inf
    return v0, v0


def _signs(lo: float, hi: float) -> list[float]:
    """The signs (as -1, 0, 1) an interval [lo, hi] contains."""
    return [s for s, ok in ((-1.0, lo < 0), (0.0, lo <= 0 <= hi), (1.0, hi > 0)) if ok]


def pair_notions(kind: str, nu0: float, w0: float) -> frozenset[str]:
    """The notions whose pair rule some multiplier in this pair's set satisfies."""
    nus = _signs(*_interval(kind, "nu", nu0))
    ws = _signs(*_interval(kind, "w", w0))
    return frozenset(
        n for n, rule in PAIR_RULES.items() if any(rule(a, b) for a in nus for b in ws)
    )


# Catalogue of pair configurations by the notion set they allow.
_CATALOGUE: dict[frozenset[str], list[tuple[str, float, float]]] = {}
for _k, _a, _b in itertools.product(PAIR_KINDS, _VALUES, _VALUES):
    _CATALOGUE.setdefault(pair_notions(_k, _a, _b), []).append((_k, _a, _b))

# The pair notion sets that break each class from above (one pair of each listed set is planted).
_BREAKERS = {
    "S": [],
    "M": [HOLDING["M"]],
    "C": [HOLDING["C"]],
    "A": [HOLDING["A"]],
    "W": [HOLDING["C"], HOLDING["A"]],
    "none": [],
}


@dataclass(frozen=True, eq=False)
class MPCCExample:
    """An MPCC at a point with its class known by construction.

    Attributes
    ----------
    problem : MPCC
        The first-order data.
    klass : str
        The strongest notion that holds (one of :data:`CLASSES`).
    expected : dict
        ``notion -> "holds" | "fails"`` for W, A, C, M, S; and B when the multiplier is unique
        (then MPEC-LICQ holds and B-stationarity equals S-stationarity).
    unique : bool
        Whether the multiplier is unique (no copied rows).
    multipliers : dict or None
        One multiplier ``{"lam", "mu", "nu", "w", "z", "s"}`` (the layout of
        :func:`ialam_verify.stationarity.stationarity_residual`) satisfying the class's notion; the
        copied rows' entries are 0. ``None`` for ``"none"``.
    pairs : tuple
        The biactive pairs' multiplier sets as ``(kind, nu0, w0)``.
    """

    problem: MPCC
    klass: str
    expected: dict[str, str]
    unique: bool
    multipliers: dict[str, np.ndarray] | None
    pairs: tuple[tuple[str, float, float], ...]

    def __repr__(self) -> str:
        return (
            f"MPCCExample(klass={self.klass!r}, unique={self.unique}, n={self.problem.n}, "
            f"pairs={list(self.pairs)})"
        )


def mpcc_instances(
    klass: Any = None,
    *,
    unique: Any = None,
    max_pairs: int = 3,
    max_extra_dims: int = 2,
) -> Any:
    """MPCC instances of a known class by construction (see the module docstring).

    Parameters
    ----------
    klass : str, strategy or None
        One of :data:`CLASSES` (default: drawn).
    unique : bool, strategy or None
        Unique multiplier (MPEC-LICQ) or not (copied rows; default: drawn).
    max_pairs : int
        At most this many biactive pairs (class ``"W"`` needs 2).
    max_extra_dims : int
        Variables beyond the number of active rows.
    """
    if isinstance(klass, str) and klass not in CLASSES:
        raise ValueError(f"klass must be one of {CLASSES}; got {klass!r}")
    if isinstance(klass, str) and max_pairs < max(len(_BREAKERS[klass]), 1):
        raise ValueError(f"class {klass!r} needs max_pairs >= {max(len(_BREAKERS[klass]), 1)}")
    if max_pairs < 1 or max_extra_dims < 0:
        raise ValueError(
            f"need max_pairs >= 1, max_extra_dims >= 0; got {max_pairs}, {max_extra_dims}"
        )
    return _mpcc_instances(klass, unique, max_pairs, max_extra_dims)


@st.composite
def _mpcc_instances(
    draw: Any, klass: Any, unique: Any, max_pairs: int, max_extra_dims: int
) -> MPCCExample:
    klass = draw(klass) if isinstance(klass, st.SearchStrategy) else klass
    if klass is None:
        klass = draw(st.sampled_from([c for c in CLASSES if len(_BREAKERS[c]) <= max_pairs]))
    if klass not in CLASSES:
        raise ValueError(f"klass must be one of {CLASSES}; got {klass!r}")
    unique = draw(unique) if isinstance(unique, st.SearchStrategy) else unique
    if unique is None:
        unique = draw(st.booleans())
    need = _BREAKERS[klass]
    if max_pairs < max(len(need), 1):
        raise ValueError(f"class {klass!r} needs max_pairs >= {max(len(need), 1)}")
    holding = HOLDING[klass] or {"W"}

    def configs(allowed: frozenset[str], exact: bool) -> list[tuple[str, float, float]]:
        out = []
        for s, cs in _CATALOGUE.items():
            if (s == allowed) if exact else (s >= allowed):
                out.extend(c for c in cs if not unique or c[0] == "point")
        return out

    pairs = [draw(st.sampled_from(configs(frozenset(s), True))) for s in need]
    n_more = draw(st.integers(max(0, 1 - len(pairs)), max_pairs - len(pairs)))
    pairs += [draw(st.sampled_from(configs(frozenset(holding), False))) for _ in range(n_more)]
    pairs = draw(st.permutations(pairs))
    scale = [draw(st.sampled_from([0.5, 1.0, 2.0])) for _ in pairs]
    k = len(pairs)
    n_g = draw(st.integers(0, 2))  # active inequalities
    n_h = draw(st.integers(0, 1))
    n_gonly = draw(st.integers(0, 1))  # pairs with G = 0 < H: w = 0, nu free in every notion
    harmless_copy = (not unique) and all(p[0] == "point" for p in pairs)
    how_none = draw(st.sampled_from(["range", "sign"])) if klass == "none" else None
    if how_none == "sign" and n_g == 0:
        n_g = 1
    if harmless_copy and n_g == 0 and n_h == 0:
        n_h = 1  # something to copy
    extra = draw(st.integers(1 if how_none == "range" else 0, max_extra_dims))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    r = n_g + n_h + 2 * k + n_gonly
    n = r + extra
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    rows = Q[:r] * rng.uniform(0.5, 2.0, size=(r, 1))  # independent, well conditioned
    free = Q[r:]  # orthogonal to every active row
    Jg, Jh = rows[:n_g], rows[n_g : n_g + n_h]
    JG = rows[n_g + n_h : n_g + n_h + k + n_gonly]
    JH_act = rows[n_g + n_h + k + n_gonly :]
    JH = np.vstack([JH_act, rng.standard_normal((n_gonly, n))])  # G-only pairs: H inactive

    lam = rng.uniform(0.5, 2.0, size=n_g) * (rng.uniform(size=n_g) < 0.7)
    if how_none == "sign":
        lam[0] = -1.0
    mu = rng.standard_normal(n_h)
    nu = np.array([p[1] * s for p, s in zip(pairs, scale, strict=True)])
    w = np.array([p[2] * s for p, s in zip(pairs, scale, strict=True)])
    nu_gonly = rng.standard_normal(n_gonly)
    nu_all, w_all = np.concatenate([nu, nu_gonly]), np.concatenate([w, np.zeros(n_gonly)])

    if klass != "none":
        # move each pair's multiplier inside its set to one satisfying the class's notion; the
        # gradient is built from it, so the copied rows' multipliers are 0 in `multipliers`
        nu_all[:k], w_all[:k] = _satisfying(pairs, nu, w, klass)
    grad = Jg.T @ lam + Jh.T @ mu + JG.T @ nu_all + JH.T @ w_all
    if how_none == "range":
        grad = grad + free[0] * rng.uniform(0.5, 2.0)

    # copies of rows for the non-unique pairs (and one harmless copy when no pair is non-unique)
    g_rows, h_rows = [Jg], [Jh]
    for i, (kind, _a, _b) in enumerate(pairs):
        if kind == "point":
            continue
        coord, how = kind.split("_")
        row = JG[i] if coord == "nu" else JH_act[i]
        if how == "free":
            h_rows.append(row[None, :])
        else:  # an extra active g >= 0 with gradient +row (coordinate <= v0) or -row (>= v0)
            g_rows.append((row if how == "down" else -row)[None, :])
    if harmless_copy:  # a copy of a g or h row: the multiplier set grows, no verdict changes
        if n_h and (n_g == 0 or draw(st.booleans())):
            h_rows.append(Jh[:1])
        else:
            g_rows.append(Jg[:1])
    Jg_all, Jh_all = np.vstack(g_rows), np.vstack(h_rows)
    n_g_inactive = draw(st.integers(0, 1))
    Jg_all = np.vstack([Jg_all, rng.standard_normal((n_g_inactive, n))])
    g_val = np.concatenate([np.zeros(Jg_all.shape[0] - n_g_inactive), np.ones(n_g_inactive)])

    problem = MPCC.create(
        grad,
        g=g_val,
        Jg=Jg_all,
        h=np.zeros(Jh_all.shape[0]),
        Jh=Jh_all,
        G=np.zeros(k + n_gonly),
        JG=JG,
        H=np.concatenate([np.zeros(k), np.ones(n_gonly)]),
        JH=JH,
    )
    # the class, recomputed from the recorded pair sets: a check of the catalogue logic above
    if klass == "none":
        holds: set[str] = set()
    else:
        holds = set(MPCC_ORDER)
        for kind, a, b in pairs:
            holds &= pair_notions(kind, a, b)
    got = next((c for c in ("S", "M", "C", "A", "W") if HOLDING[c] == holds), "none")
    if got != klass:  # pragma: no cover - would be a bug of this module
        raise RuntimeError(f"mpcc_instances built class {got!r} for {klass!r} from {pairs}")
    is_unique = len(g_rows) == 1 and len(h_rows) == 1
    expected = {nn: "holds" if nn in holds else "fails" for nn in MPCC_ORDER}
    if is_unique:
        expected["B"] = expected["S"]
    mult = None
    if klass != "none":
        pad_g = Jg_all.shape[0] - n_g
        pad_h = Jh_all.shape[0] - n_h
        mult = {
            "lam": np.concatenate([lam, np.zeros(pad_g)]),
            "mu": np.concatenate([mu, np.zeros(pad_h)]),
            "nu": nu_all,
            "w": w_all,
            "z": [],
            "s": np.zeros(0),
        }
    return MPCCExample(problem, got, expected, is_unique, mult, tuple(pairs))


def _satisfying(
    pairs: list[tuple[str, float, float]], nu: np.ndarray, w: np.ndarray, notion: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, a point of its set satisfying ``notion`` (exists by construction); for "point"
    pairs the point itself. The gradient is built from it, so the copies' multipliers are 0."""
    nu, w = nu.copy(), w.copy()
    for i, (kind, _a, _b) in enumerate(pairs):
        if kind == "point" or PAIR_RULES[notion](nu[i], w[i]):
            continue
        lo_n, hi_n = _interval(kind, "nu", nu[i])
        lo_w, hi_w = _interval(kind, "w", w[i])
        for a, b in itertools.product(
            [nu[i], 0.0, 1.0, -1.0], [w[i], 0.0, 1.0, -1.0]
        ):  # signs are all that matter
            if lo_n <= a <= hi_n and lo_w <= b <= hi_w and PAIR_RULES[notion](a, b):
                nu[i], w[i] = a, b
                break
    return nu, w


small_int = st.integers(min_value=-2, max_value=2)


@st.composite
def degenerate_mpccs(draw: Any, with_kinks: bool = False, max_pairs: int = 2) -> MPCC:
    """Integer data (often degenerate) of unknown class: biactive pairs, one G-only pair, active and
    inactive ``g``, ``h``; with ``with_kinks``, leaky kink terms (slopes 1/4 and 1) at 0 or not.
    Compare a certifier with :func:`ialam_verify.testing.oracles.brute_min_residual` on these."""
    n = draw(st.integers(min_value=1, max_value=3))
    k = draw(st.integers(min_value=0 if with_kinks else 1, max_value=max_pairs))
    n_g = draw(st.integers(min_value=0, max_value=2))
    n_h = draw(st.integers(min_value=0, max_value=1))

    def mat(r: int) -> np.ndarray:
        return np.array(draw(st.lists(small_int, min_size=r * n, max_size=r * n)), float).reshape(
            r, n
        )

    G = np.array([0.0] * k + [0.0])
    H = np.array([0.0] * k + [1.0])
    g = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n_g, max_size=n_g)))
    grad = mat(1)[0]
    kw: dict[str, Any] = {}
    if with_kinks:
        nk = draw(st.integers(min_value=1, max_value=2))
        kw = dict(
            kink_t=np.array(
                draw(st.lists(st.sampled_from([0.0, 0.0, 1.0, -1.0]), min_size=nk, max_size=nk))
            ),
            T=mat(nk),
            kink_coef=np.array(
                draw(st.lists(st.sampled_from([-2.0, -1.0, 1.0]), min_size=nk, max_size=nk))
            ),
            slope_neg=0.25,
            slope_pos=1.0,
        )
    return MPCC.create(
        grad,
        g=g,
        Jg=mat(n_g),
        h=np.zeros(n_h),
        Jh=mat(n_h),
        G=G,
        JG=mat(k + 1),
        H=H,
        JH=mat(k + 1),
        **kw,
    )
