r"""The trusted kernel of the certificates: residuals, multiplier sets, certificate types, :func:`check`.

Everything a user must trust to believe a certificate lives here, in numpy: no optimization solver is
imported (the programs that *find* multipliers are in :mod:`.programs`, the decisions in
:mod:`.classify`). :func:`check` re-proves a certificate from its witnesses alone, with the caller's
:class:`Tolerances`.

Stationarity residual of a problem :class:`~.mpcc.MPCC` (sign convention of :mod:`.mpcc`):

.. math::

    r(m) = \nabla f + \sum_J E_J z_J + T^T(c\odot s) - J_g^T\lambda - J_h^T\mu - J_G^T\nu - J_H^T w .

Multiplier sets, with activity decided at ``act_tol`` (*zero means zero everywhere*: a constraint, a
group norm :math:`\|x_J\|` or a kink value :math:`|t_k|` at most ``act_tol`` is active / at zero in
every part of the computation): :math:`\lambda_i \ge 0`, :math:`\lambda_i = 0` if :math:`g_i >`
act_tol; :math:`\nu_i = 0` if :math:`G_i >` act_tol; :math:`w_i = 0` if :math:`H_i >` act_tol;
a group at zero has :math:`\|z_J\|_2 \le \lambda_J`, any other group :math:`z_J = \lambda_J x_J/\|x_J\|`;
a kink at zero has a slope in :math:`[\min, \max]` of its two slopes (Clarke, or limiting of a convex
term) or in :math:`\{s_-, s_+\}` (limiting, concave term), any other kink the slope of its side. On a
biactive pair the notions allow (:data:`PAIR_BRANCHES`): W free; A :math:`\nu\ge0` or :math:`w\ge0`;
C :math:`\nu w \ge 0`; M both :math:`\ge 0` or one :math:`=0`; S both :math:`\ge 0`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .mpcc import MPCC

FORMAT_VERSION = 2
MPCC_NOTIONS = ("W", "A", "C", "M", "S")
NLP_NOTIONS = ("KKT", "Clarke")
ALL_NOTIONS = MPCC_NOTIONS + NLP_NOTIONS + ("B",)

# per biactive pair: the branches of each notion, as (nu pattern, w pattern);
# '+' >= 0, '-' <= 0, 'f' free, '0' zero.
PAIR_BRANCHES: dict[str, list[tuple[str, str]]] = {
    "W": [("f", "f")],
    "A": [("+", "f"), ("f", "+")],
    "C": [("+", "+"), ("-", "-")],
    "M": [("+", "+"), ("0", "f"), ("f", "0")],
    "S": [("+", "+")],
    "KKT": [("+", "+")],
    "Clarke": [("+", "+")],
    "B": [("f", "+"), ("+", "f")],
}
# the closed sign cells of the (nu, w) plane: four quadrants, four half-axes, the origin
_CELLS = (
    ("+", "+"),
    ("+", "-"),
    ("-", "+"),
    ("-", "-"),
    ("0", "+"),
    ("0", "-"),
    ("+", "0"),
    ("-", "0"),
    ("0", "0"),
)
_CELL_POINT = {"+": 1.0, "-": -1.0, "0": 0.0}


def pair_cells(notion: str) -> list[tuple[str, str]]:
    """The closed sign cells whose union is ``notion``'s set on one biactive pair: a cell belongs
    when a point of its relative interior (signs +-1, 0) satisfies one of the notion's patterns."""
    return [
        c
        for c in _CELLS
        if any(
            pattern_violation(o[0], _CELL_POINT[c[0]]) == 0
            and pattern_violation(o[1], _CELL_POINT[c[1]]) == 0
            for o in PAIR_BRANCHES[notion]
        )
    ]


# what a pattern character contains: region char -> set chars it includes
_CONTAINS = {"f": set("f+-0"), "+": set("+0"), "-": set("-0"), "0": set("0")}


def kink_mode(notion: str, nonsmooth: str) -> str:
    """The subdifferential of the kink terms used by ``notion``: KKT limiting, Clarke Clarke, the
    MPCC notions the certificate's ``nonsmooth`` choice."""
    return {"KKT": "limiting", "Clarke": "clarke"}.get(notion, nonsmooth)


# ------------------------------------------------------------------------------ tolerances
def problem_scale(prob: MPCC) -> float:
    r"""The size of the objective's gradient terms at the point, :math:`\ge 1`:

    .. math::

        s = \max\Big(1,\ \|\nabla f\|_\infty,\ \big\|\textstyle\sum_J \lambda_J 1_J\big\|_\infty,\
            \big\|\,|T|^T(|c|\odot\max(|s_-|,|s_+|))\big\|_\infty\Big),

    i.e. the largest entry any of the three objective terms (smooth gradient, group subgradients,
    kink terms) can take at the point, whichever subgradient is chosen. The constraint terms
    :math:`J^T(\text{multipliers})` are *not* in the scale (they depend on the multipliers, which would
    make the decision non-convex); the floor 1 keeps tiny problems on the absolute scale.
    """
    s = max(1.0, float(np.max(np.abs(prob.grad_f))))
    if prob.groups:
        acc = np.zeros(prob.n)
        for gr in prob.groups:
            np.add.at(acc, gr.indices, gr.weight)
        s = max(s, float(np.max(acc)))
    if prob.n_kinks:
        big = np.abs(prob.kink_coef) * np.maximum(np.abs(prob.slope_neg), np.abs(prob.slope_pos))
        s = max(s, float(np.max(abs(prob.kink_matrix()).T @ big, initial=0.0)))
    return s


@dataclass(frozen=True)
class Tolerances:
    r"""The one set of tolerances of the certificates (and of :func:`check`).

    Parameters
    ----------
    tol : float, default 1e-6
        Residual tolerance. A notion *holds* when a multiplier of its set has
        :math:`\|r(m)\|_\infty \le \tau` and violates the set's sign / ball / slope rules by at most
        :math:`\tau`, where :math:`\tau = \mathrm{tol}\cdot s` (``scaled``, :func:`problem_scale`) or
        :math:`\tau = \mathrm{tol}` (absolute). This is the scaled dual infeasibility of IPOPT
        (Wächter & Biegler 2006, eq. (5): :math:`\|\nabla f + \nabla c\,\lambda - z\|_\infty / s_d`)
        with the scale taken from the objective's gradient terms at the point instead of from the
        multipliers' mean size (:math:`s_d = \max(s_{\max}, \|(\lambda, z)\|_1/(m+n))/s_{\max}`), so
        that every decision stays one convex program per branch.
    act_tol : float, default 1e-6
        Activity tolerance (absolute): :math:`g_i, G_i, H_i \le` act_tol is active,
        :math:`\|x_J\|_2 \le` act_tol is a group at zero, :math:`|t_k| \le` act_tol a kink at zero.
    band : float, default 10
        Entries in :math:`[\mathrm{act\_tol}/\mathrm{band},\ \mathrm{act\_tol}\cdot\mathrm{band}]` are
        classified at every threshold split; a verdict that changes is *undetermined*.
    margin : float, default 1e-6
        Solver accuracy (relative to :func:`problem_scale`, always): *fails* needs the smallest
        residual the programs report above :math:`\tau + \mathrm{margin}\cdot s`.
    scaled : bool, default True
        Residual relative to :func:`problem_scale` (``True``) or absolute (``False``).
    dual_tol : float, default 1e-9
        Largest violation of a dual certificate's cone conditions (per unit :math:`\|y\|_1`) that
        :func:`check` accepts: a floating-point proof, exact when those conditions hold exactly.
    """

    tol: float = 1e-6
    act_tol: float = 1e-6
    band: float = 10.0
    margin: float = 1e-6
    scaled: bool = True
    dual_tol: float = 1e-9

    def __post_init__(self) -> None:
        for name in ("tol", "act_tol", "margin", "dual_tol"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, (int, float, np.floating)):
                raise ValueError(f"Tolerances.{name} must be a number; got {val!r}")
            if not (math.isfinite(val) and (val > 0 or (name == "margin" and val == 0))):
                raise ValueError(f"Tolerances.{name} must be a finite number > 0; got {val!r}")
            object.__setattr__(self, name, float(val))
        if isinstance(self.band, bool) or not (
            isinstance(self.band, (int, float, np.floating)) and math.isfinite(self.band)
        ):
            raise ValueError(f"Tolerances.band must be a finite number >= 1; got {self.band!r}")
        if self.band < 1:
            raise ValueError(f"Tolerances.band must be a finite number >= 1; got {self.band!r}")
        object.__setattr__(self, "band", float(self.band))
        if not isinstance(self.scaled, (bool, np.bool_)):
            raise ValueError(f"Tolerances.scaled must be True or False; got {self.scaled!r}")
        object.__setattr__(self, "scaled", bool(self.scaled))

    def scale(self, prob: MPCC) -> float:
        """:func:`problem_scale` if ``scaled``, else 1."""
        return problem_scale(prob) if self.scaled else 1.0

    def residual_tol(self, prob: MPCC) -> float:
        r""":math:`\tau`: ``tol`` times :meth:`scale`."""
        return self.tol * self.scale(prob)

    def margin_abs(self, prob: MPCC) -> float:
        return self.margin * problem_scale(prob)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k) for k in ("tol", "act_tol", "band", "margin", "scaled", "dual_tol")
        }

    @classmethod
    def from_dict(cls, d: Any) -> Tolerances:
        if not isinstance(d, dict):
            raise ValueError(f"tolerances must be a dict; got {type(d).__name__}")
        unknown = set(d) - {"tol", "act_tol", "band", "margin", "scaled", "dual_tol"}
        if unknown:
            raise ValueError(f"tolerances: unknown keys {sorted(unknown)}")
        return cls(**d)


# ------------------------------------------------------------------------------ multipliers
def _float_vector(where: str, value: Any, size: int | None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} must be a numeric array; got {type(value).__name__}") from exc
    if arr.ndim > 1:
        raise ValueError(f"{where} must be 1-D; got shape {arr.shape}")
    arr = np.atleast_1d(arr).ravel().copy()
    if size is not None and arr.size != size:
        raise ValueError(f"{where} must have length {size}; got {arr.size}")
    return arr


@dataclass
class Multipliers:
    r"""Multipliers of the residual :math:`r(m)`: ``lam`` (one per ``g``), ``mu`` (``h``), ``nu``
    (``G``), ``w`` (``H``), ``z`` (one array per group), ``s`` (one slope per kink). ``branch``
    names the B-stationarity branch a witness serves (``{"nu", "w", "s_lo", "s_hi"}``) or is None.

    Dict-style reading ``m["lam"]`` works (``m["pattern"]`` is ``branch``).
    """

    lam: np.ndarray
    mu: np.ndarray
    nu: np.ndarray
    w: np.ndarray
    z: list[np.ndarray] = field(default_factory=list)
    s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    branch: dict[str, Any] | None = None

    KEYS = ("lam", "mu", "nu", "w", "z", "s")

    @classmethod
    def zeros(cls, prob: MPCC) -> Multipliers:
        return cls(
            np.zeros(prob.g.size),
            np.zeros(prob.h.size),
            np.zeros(prob.n_pairs),
            np.zeros(prob.n_pairs),
            [np.zeros(gr.indices.size) for gr in prob.groups],
            kink_slopes_fixed(prob).astype(float),
        )

    def __getitem__(self, key: str) -> Any:
        if key == "pattern":
            if self.branch is None:
                raise KeyError("pattern")
            return self.branch
        if key not in self.KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: str) -> bool:
        return key in self.KEYS or (key == "pattern" and self.branch is not None)

    def copy(self) -> Multipliers:
        return Multipliers(
            self.lam.copy(),
            self.mu.copy(),
            self.nu.copy(),
            self.w.copy(),
            [z.copy() for z in self.z],
            self.s.copy(),
            None if self.branch is None else dict(self.branch),
        )

    def is_finite(self) -> bool:
        arrs = [self.lam, self.mu, self.nu, self.w, self.s, *self.z]
        return all(bool(np.all(np.isfinite(a))) for a in arrs)

    def validate(self, prob: MPCC, where: str = "multipliers") -> Multipliers:
        """Same multipliers as float arrays of the problem's sizes, or ``ValueError`` naming the field."""
        sizes = {
            "lam": prob.g.size,
            "mu": prob.h.size,
            "nu": prob.n_pairs,
            "w": prob.n_pairs,
            "s": prob.n_kinks,
        }
        out = {k: _float_vector(f"{where}.{k}", getattr(self, k), n) for k, n in sizes.items()}
        if not isinstance(self.z, (list, tuple)) or len(self.z) != len(prob.groups):
            n_z = len(self.z) if isinstance(self.z, (list, tuple)) else type(self.z).__name__
            raise ValueError(f"{where}.z must be a list of {len(prob.groups)} arrays; got {n_z}")
        z = [
            _float_vector(f"{where}.z[{j}]", zj, gr.indices.size)
            for j, (zj, gr) in enumerate(zip(self.z, prob.groups, strict=True))
        ]
        return Multipliers(out["lam"], out["mu"], out["nu"], out["w"], z, out["s"], self.branch)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            k: np.asarray(getattr(self, k), dtype=float).tolist()
            for k in ("lam", "mu", "nu", "w", "s")
        }
        d["z"] = [np.asarray(z, dtype=float).tolist() for z in self.z]
        if self.branch is not None:
            d["pattern"] = _encode_branch(self.branch)
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "multipliers") -> Multipliers:
        """Read (and shape-check) a dict; ``ValueError`` naming ``where.key`` on a missing key.
        Values are kept as given (NaN included): :func:`check` rejects non-finite witnesses."""
        if isinstance(d, Multipliers):
            return d
        if not isinstance(d, dict):
            raise ValueError(f"{where} must be a dict of multipliers; got {type(d).__name__}")
        missing = [k for k in cls.KEYS if k not in d]
        if missing:
            raise ValueError(f"{where}: missing key(s) {missing}")
        unknown = set(d) - set(cls.KEYS) - {"pattern"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}")
        vec = {k: _float_vector(f"{where}.{k}", d[k], None) for k in ("lam", "mu", "nu", "w", "s")}
        if not isinstance(d["z"], (list, tuple)):
            raise ValueError(f"{where}.z must be a list of arrays; got {type(d['z']).__name__}")
        z = [_float_vector(f"{where}.z[{j}]", zj, None) for j, zj in enumerate(d["z"])]
        branch = (
            None if d.get("pattern") is None else _decode_branch(d["pattern"], f"{where}.pattern")
        )
        return cls(vec["lam"], vec["mu"], vec["nu"], vec["w"], z, vec["s"], branch)


def _encode_branch(b: dict[str, Any]) -> dict[str, Any]:
    return {
        "nu": str(b["nu"]),
        "w": str(b["w"]),
        "s_lo": [float(v) for v in b["s_lo"]],
        "s_hi": [float(v) for v in b["s_hi"]],
    }


def _decode_branch(d: Any, where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ValueError(f"{where} must be a dict")
    for k in ("nu", "w", "s_lo", "s_hi"):
        if k not in d:
            raise ValueError(f"{where}: missing key {k!r}")
    for k in ("nu", "w"):
        if not isinstance(d[k], str) or set(d[k]) - set("f+-0"):
            raise ValueError(f"{where}.{k} must be a string over 'f+-0'; got {d[k]!r}")
    return {
        "nu": d["nu"],
        "w": d["w"],
        "s_lo": _float_vector(f"{where}.s_lo", d["s_lo"], None),
        "s_hi": _float_vector(f"{where}.s_hi", d["s_hi"], None),
    }


# ------------------------------------------------------------------------------ activity
@dataclass(frozen=True)
class Activity:
    """Index sets at an activity tolerance ``a`` (boolean masks); values ``<= a`` count as active."""

    a: float
    g_active: np.ndarray
    G_active: np.ndarray
    H_active: np.ndarray
    zero_groups: np.ndarray
    kinks_at_zero: np.ndarray

    @property
    def biactive(self) -> np.ndarray:
        return self.G_active & self.H_active

    @classmethod
    def at(cls, prob: MPCC, a: float) -> Activity:
        return cls(
            float(a),
            prob.g <= a,
            prob.G <= a,
            prob.H <= a,
            np.array([np.linalg.norm(gr.value) <= a for gr in prob.groups], dtype=bool),
            np.abs(prob.kink_t) <= a,
        )

    def key(self) -> tuple:
        return tuple(
            np.flatnonzero(m).tobytes()
            for m in (
                self.g_active,
                self.G_active,
                self.H_active,
                self.zero_groups,
                self.kinks_at_zero,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        def idx(m: np.ndarray) -> list[int]:
            return [int(i) for i in np.flatnonzero(m)]

        return {
            "activity_tol": self.a,
            "active": idx(self.g_active),
            "G_active": idx(self.G_active),
            "H_active": idx(self.H_active),
            "biactive": idx(self.biactive),
            "zero_groups": idx(self.zero_groups),
            "kinks_at_zero": idx(self.kinks_at_zero),
        }


def activity_values(prob: MPCC) -> np.ndarray:
    """Every value the activity test compares with ``act_tol`` (g, G, H, group norms, |t|)."""
    return np.concatenate(
        [
            prob.g,
            prob.G,
            prob.H,
            np.array([np.linalg.norm(gr.value) for gr in prob.groups], dtype=float),
            np.abs(prob.kink_t),
        ]
    )


# ------------------------------------------------------------------------------ residuals
def kink_slopes_fixed(prob: MPCC) -> np.ndarray:
    """The slope of each kink on its side (meaningful for kinks not at zero)."""
    return np.where(prob.kink_t > 0, prob.slope_pos, prob.slope_neg)


def group_subgradients_fixed(prob: MPCC, act: Activity | None = None) -> list[np.ndarray]:
    r""":math:`\lambda_J x_J/\|x_J\|` for every group not at zero (zeros for groups at zero in ``act``,
    or with :math:`x_J = 0` when ``act`` is None)."""
    out = []
    for j, gr in enumerate(prob.groups):
        nrm = float(np.linalg.norm(gr.value))
        at_zero = nrm == 0 or (act is not None and bool(act.zero_groups[j]))
        out.append(np.zeros_like(gr.value) if at_zero else gr.weight * gr.value / nrm)
    return out


def fixed_part(prob: MPCC, act: Activity) -> np.ndarray:
    """The part of the residual that no multiplier moves: grad f, the subgradients of the groups
    not at zero and the slopes of the kinks not at zero (both at ``act``)."""
    const = prob.grad_f.astype(float).copy()
    for gr, zf in zip(prob.groups, group_subgradients_fixed(prob, act), strict=True):
        np.add.at(const, gr.indices, zf)
    kfix = np.flatnonzero(~act.kinks_at_zero)
    if kfix.size:
        T = prob.kink_matrix()
        const += T[kfix].T @ (prob.kink_coef[kfix] * kink_slopes_fixed(prob)[kfix])
    return const


def stationarity_residual(prob: MPCC, mult: Multipliers | dict[str, Any]) -> np.ndarray:
    r"""The vector :math:`\nabla f + \sum_J E_J z_J + T^T(c\odot s) - J_g^T\lambda - J_h^T\mu - J_G^T\nu - J_H^T w`."""
    r = prob.grad_f.astype(float).copy()
    for gr, z in zip(prob.groups, mult["z"], strict=True):
        np.add.at(r, gr.indices, np.asarray(z, dtype=float))
    if prob.n_kinks:
        r += prob.kink_matrix().T @ (prob.kink_coef * np.asarray(mult["s"], dtype=float))
    for J, key in ((prob.Jg, "lam"), (prob.Jh, "mu"), (prob.JG, "nu"), (prob.JH, "w")):
        if J.shape[0]:
            r -= J.T @ np.asarray(mult[key], dtype=float)
    return r


def _nanmax(values: Any) -> float:
    """max that does not drop NaN (``max`` and ``np.max(initial=)`` compare NaN as False)."""
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    if arr.size == 0:
        return 0.0
    if np.any(np.isnan(arr)):
        return math.inf
    return float(np.max(arr))


def residual_norm(prob: MPCC, mult: Multipliers | dict[str, Any]) -> float:
    """:math:`\\|r(m)\\|_\\infty` (``inf`` if anything is NaN)."""
    return _nanmax(np.abs(stationarity_residual(prob, mult)))


def pattern_violation(pattern: str, x: float) -> float:
    if pattern == "+":
        return max(-x, 0.0)
    if pattern == "-":
        return max(x, 0.0)
    if pattern == "0":
        return abs(x)
    return 0.0


def pair_rule_violation(notion: str, nu: float, w: float) -> float:
    """Distance (max-norm of the sign violations) of one biactive pair from the notion's set."""
    return min(
        max(pattern_violation(pn, nu), pattern_violation(pw, w)) for pn, pw in PAIR_BRANCHES[notion]
    )


def kink_options(prob: MPCC, act: Activity, mode: str) -> list[list[tuple[float, float]]]:
    """Per kink at zero: the (lo, hi) slope intervals whose union is the allowed slope set."""
    concave = prob.concave_kinks()
    out = []
    for k in np.flatnonzero(act.kinks_at_zero):
        lo, hi = sorted((float(prob.slope_neg[k]), float(prob.slope_pos[k])))
        out.append([(lo, lo), (hi, hi)] if (mode == "limiting" and concave[k]) else [(lo, hi)])
    return out


def multiplier_violation(
    prob: MPCC, act: Activity, mult: Multipliers | dict[str, Any], notion: str, nonsmooth: str
) -> dict[str, float]:
    """Largest violation of each membership rule of ``notion``'s multiplier set (0 = member);
    ``nonsmooth`` is the kink mode ("limiting" or "clarke"). NaN gives ``inf``."""
    lam = np.asarray(mult["lam"], dtype=float)
    nu = np.asarray(mult["nu"], dtype=float)
    w = np.asarray(mult["w"], dtype=float)
    s = np.asarray(mult["s"], dtype=float)
    out: dict[str, float] = {}
    out["lambda_sign"] = _nanmax(np.maximum(-lam, 0.0))
    out["lambda_inactive"] = _nanmax(np.abs(lam[~act.g_active]))
    out["nu_inactive"] = _nanmax(np.abs(nu[~act.G_active]))
    out["w_inactive"] = _nanmax(np.abs(w[~act.H_active]))
    out["pair_rule"] = _nanmax(
        [pair_rule_violation(notion, nu[i], w[i]) for i in np.flatnonzero(act.biactive)]
        + [0.0 if np.isfinite(nu[i]) and np.isfinite(w[i]) else np.nan for i in range(nu.size)]
    )
    gv = [0.0]
    for gr, z, zero, zf in zip(
        prob.groups, mult["z"], act.zero_groups, group_subgradients_fixed(prob, act), strict=True
    ):
        z = np.asarray(z, dtype=float)
        gv.append(float(np.linalg.norm(z) - gr.weight) if zero else float(np.linalg.norm(z - zf)))
    out["group_subgradient"] = max(_nanmax(gv), 0.0)
    kv = [0.0]
    fixed = kink_slopes_fixed(prob)
    concave = prob.concave_kinks()
    for k in range(prob.n_kinks):
        lo, hi = sorted((prob.slope_neg[k], prob.slope_pos[k]))
        if not act.kinks_at_zero[k]:
            kv.append(abs(s[k] - fixed[k]))
        elif nonsmooth == "limiting" and concave[k]:
            kv.append(min(abs(s[k] - lo), abs(s[k] - hi)))
        else:
            kv.append(max(lo - s[k], s[k] - hi, 0.0))
    out["kink_slope"] = _nanmax(kv)
    return out


# ------------------------------------------------------------------------------ B-stationarity
@dataclass
class Branch:
    """One convex piece of a notion's set: a pattern char per pair (``nu_pat``, ``w_pat``) and a
    slope interval per kink at zero (``s_lo``, ``s_hi``)."""

    nu_pat: np.ndarray
    w_pat: np.ndarray
    s_lo: np.ndarray
    s_hi: np.ndarray

    def key(self) -> tuple:
        return ("".join(self.nu_pat.tolist()), "".join(self.w_pat.tolist())) + tuple(
            float(v) for v in np.concatenate([self.s_lo, self.s_hi])
        )


def base_patterns(act: Activity) -> tuple[np.ndarray, np.ndarray]:
    """Pair patterns off the biactive set: 'f' where active, '0' where inactive."""
    return (
        np.where(act.G_active, "f", "0").astype("<U1"),
        np.where(act.H_active, "f", "0").astype("<U1"),
    )


def branches(prob: MPCC, act: Activity, notion: str, mode: str) -> tuple[int, Iterator[Branch]]:
    """The number of branches of ``notion`` (product over biactive pairs and kink options) and a
    generator of them."""
    bi = np.flatnonzero(act.biactive)
    pair_opts = PAIR_BRANCHES[notion]
    kopts = kink_options(prob, act, mode)
    count = len(pair_opts) ** bi.size
    for o in kopts:
        count *= len(o)
    nu0, w0 = base_patterns(act)

    def gen() -> Iterator[Branch]:
        for choice in itertools.product(range(len(pair_opts)), repeat=bi.size):
            nu_pat, w_pat = nu0.copy(), w0.copy()
            for i, c in zip(bi, choice, strict=True):
                nu_pat[i], w_pat[i] = pair_opts[c]
            for kc in itertools.product(*kopts):
                lo = np.array([a for a, _ in kc], dtype=float)
                hi = np.array([b for _, b in kc], dtype=float)
                yield Branch(nu_pat, w_pat, lo, hi)

    return count, gen()


def branch_violation(
    prob: MPCC, act: Activity, mult: Multipliers | dict[str, Any], br: Branch
) -> dict[str, float]:
    """Membership violations of ``mult`` in the convex branch ``br``."""
    base = multiplier_violation(prob, act, mult, "W", "clarke")
    nu, w = np.asarray(mult["nu"], dtype=float), np.asarray(mult["w"], dtype=float)
    if br.nu_pat.size != nu.size or br.w_pat.size != w.size:
        return {**base, "pair_rule": math.inf}
    base["pair_rule"] = _nanmax(
        [pattern_violation(c, nu[i]) for i, c in enumerate(br.nu_pat)]
        + [pattern_violation(c, w[i]) for i, c in enumerate(br.w_pat)]
    )
    kz = np.flatnonzero(act.kinks_at_zero)
    s = np.asarray(mult["s"], dtype=float)
    if kz.size:
        if br.s_lo.size != kz.size:
            return {**base, "kink_slope": math.inf}
        base["kink_slope"] = max(
            base["kink_slope"], _nanmax(np.maximum(np.maximum(br.s_lo - s[kz], s[kz] - br.s_hi), 0))
        )
    return base


def directional_derivative(prob: MPCC, act: Activity, d: np.ndarray) -> float:
    r""":math:`f'(x; d) = \nabla f\cdot d + \sum_J f_J'(d_J) + \sum_k c_k\sigma_k'(t_k; T_k d)`."""
    val = float(prob.grad_f @ d)
    for gr, zero, zf in zip(
        prob.groups, act.zero_groups, group_subgradients_fixed(prob, act), strict=True
    ):
        val += (
            gr.weight * float(np.linalg.norm(d[gr.indices])) if zero else float(zf @ d[gr.indices])
        )
    if prob.n_kinks:
        tau = prob.kink_matrix() @ d
        slope = np.where(
            act.kinks_at_zero,
            np.where(tau >= 0, prob.slope_pos, prob.slope_neg),
            kink_slopes_fixed(prob),
        )
        val += float(np.sum(prob.kink_coef * slope * tau))
    return val


def cone_violation(prob: MPCC, act: Activity, d: np.ndarray) -> float:
    """Largest violation of ``d`` in the linearized MPCC cone at the point (``inf`` on NaN)."""
    parts = [0.0]
    if prob.g.size:
        parts.append(_nanmax(np.maximum(-(prob.Jg @ d)[act.g_active], 0)))
    if prob.h.size:
        parts.append(_nanmax(np.abs(prob.Jh @ d)))
    if prob.n_pairs:
        a, b = prob.JG @ d, prob.JH @ d
        Go = act.G_active & ~act.H_active
        Ho = act.H_active & ~act.G_active
        bi = act.biactive
        parts += [_nanmax(np.abs(a[Go])), _nanmax(np.abs(b[Ho]))]
        if np.any(bi):
            parts += [
                _nanmax(np.maximum(-a[bi], 0)),
                _nanmax(np.maximum(-b[bi], 0)),
                _nanmax(np.minimum(np.abs(a[bi]), np.abs(b[bi]))),
            ]
    return _nanmax(parts)


def feasibility(prob: MPCC) -> dict[str, float]:
    """Largest violations of :math:`g \\ge 0`, :math:`h = 0`, :math:`G, H \\ge 0`, :math:`\\min(G, H) = 0`."""
    return {
        "g": _nanmax(np.maximum(-prob.g, 0)),
        "h": _nanmax(np.abs(prob.h)),
        "G": _nanmax(np.maximum(-prob.G, 0)),
        "H": _nanmax(np.maximum(-prob.H, 0)),
        "complementarity": _nanmax(np.abs(np.minimum(prob.G, prob.H))),
    }
