r"""First-order data of a small MPCC (or nonlinear program) at a point.

The problem is

.. math::

    \min_x\; f(x) \quad\text{s.t.}\quad g(x) \ge 0,\; h(x) = 0,\;
    0 \le G(x) \perp H(x) \ge 0,

with :math:`f = f_{\mathrm{smooth}} + \sum_J \lambda_J \|x_J\|_2 + \sum_k c_k\,\sigma_k(t_k(x))`, where
each :math:`\sigma_k` is piecewise linear with slope ``slope_neg`` for :math:`t < 0` and ``slope_pos``
for :math:`t > 0` (a leaky ReLU has slopes :math:`(\alpha, 1)`). Only first-order data at the point
enter: :math:`\nabla f_{\mathrm{smooth}}`, the values and Jacobians of :math:`g, h, G, H`, the group
values :math:`x_J`, and the kink values :math:`t_k` with their gradients (the rows of ``T``).

Sign convention of the Lagrangian (used everywhere in this package):

.. math::

    \nabla f_{\mathrm{smooth}} + \sum_J z_J + T^T (c \odot s)
      = J_g^T \lambda + J_h^T \mu + J_G^T \nu + J_H^T w,

with :math:`\lambda \ge 0`, :math:`z_J \in \partial(\lambda_J\|\cdot\|)(x_J)` and :math:`s_k` a slope of
:math:`\sigma_k` at :math:`t_k` (see :mod:`.classify` for which slopes each notion allows).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import as_float_array


def _as_sparse(name: str, value: Any, rows: int, n: int) -> sp.csr_matrix:
    if value is None:
        if rows != 0:
            raise ValueError(f"{name} is required when its constraint values are given")
        return sp.csr_matrix((0, n))
    if sp.issparse(value):
        mat = sp.csr_matrix(value, dtype=float)
        if not np.all(np.isfinite(mat.data)):
            raise ValueError(f"{name} must be finite; it contains NaN or inf")
    else:
        arr = as_float_array(name, value)
        if arr.size == 0:
            arr = arr.reshape(rows, n)
        if arr.ndim == 1 and rows == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array of shape ({rows}, {n}); got {arr.shape}")
        mat = sp.csr_matrix(arr)
    if mat.shape != (rows, n):
        raise ValueError(f"{name} must have shape ({rows}, {n}); got {mat.shape}")
    return mat


def _as_vector(name: str, value: Any) -> np.ndarray:
    if value is None:
        return np.zeros(0)
    arr = as_float_array(name, value)
    return np.atleast_1d(arr).ravel()


@dataclass(frozen=True)
class GroupTerm:
    r"""A group-lasso term :math:`\lambda_J \|x_J\|_2` of ``f``.

    ``indices`` are the coordinates ``J``, ``value`` is :math:`x_J` at the point, ``weight`` is
    :math:`\lambda_J \ge 0`. Its subdifferential (convex, so Fréchet = limiting = Clarke) is
    :math:`\{\lambda_J x_J/\|x_J\|\}` if :math:`x_J \ne 0` and the ball :math:`\|z\| \le \lambda_J`
    if :math:`x_J = 0`.
    """

    indices: np.ndarray
    value: np.ndarray
    weight: float


@dataclass(frozen=True)
class MPCC:
    """First-order data of an MPCC / NLP at one point; see the module docstring.

    Build it with :meth:`create` (arrays) or :meth:`from_sympy` (exact derivatives).
    """

    grad_f: np.ndarray
    g: np.ndarray
    Jg: sp.csr_matrix
    h: np.ndarray
    Jh: sp.csr_matrix
    G: np.ndarray
    JG: sp.csr_matrix
    H: np.ndarray
    JH: sp.csr_matrix
    groups: tuple[GroupTerm, ...] = ()
    kink_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    T: sp.csr_matrix | None = None
    kink_coef: np.ndarray = field(default_factory=lambda: np.zeros(0))
    slope_neg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    slope_pos: np.ndarray = field(default_factory=lambda: np.zeros(0))
    names: tuple[str, ...] | None = None

    # ------------------------------------------------------------------------------ builders
    @classmethod
    def create(
        cls,
        grad_f: Any,
        *,
        g: Any = None,
        Jg: Any = None,
        h: Any = None,
        Jh: Any = None,
        G: Any = None,
        JG: Any = None,
        H: Any = None,
        JH: Any = None,
        groups: Sequence[tuple[Sequence[int], Sequence[float], float]] = (),
        kink_t: Any = None,
        T: Any = None,
        kink_coef: Any = None,
        slope_neg: Any = None,
        slope_pos: Any = None,
        names: Sequence[str] | None = None,
    ) -> MPCC:
        """Validate plain arrays (dense or scipy.sparse Jacobians) and build the problem.

        ``groups`` holds triples ``(indices, value_at_point, weight)``; kinks are given by their
        values ``kink_t`` (length k), the ``k x n`` gradient matrix ``T``, coefficients ``kink_coef``
        and the two slopes (arrays or scalars).
        """
        grad = as_float_array("grad_f", grad_f, ndim=1)
        n = grad.size
        if n == 0:
            raise ValueError("grad_f must have at least one entry")
        gv, hv, Gv, Hv = (_as_vector(k, v) for k, v in (("g", g), ("h", h), ("G", G), ("H", H)))
        if Gv.size != Hv.size:
            raise ValueError(f"G and H must have equal length; got {Gv.size} and {Hv.size}")
        mats = [
            _as_sparse(name, mat, vec.size, n)
            for name, mat, vec in (("Jg", Jg, gv), ("Jh", Jh, hv), ("JG", JG, Gv), ("JH", JH, Hv))
        ]
        grp = []
        for i, item in enumerate(groups):
            try:
                idx, val, wt = item
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"groups[{i}] must be a triple (indices, value, weight); got {item!r}"
                ) from exc
            idx_a = np.asarray(idx, dtype=int).ravel()
            val_a = as_float_array(f"groups[{i}] value", val).ravel()
            if idx_a.size == 0 or idx_a.size != val_a.size:
                raise ValueError(f"groups[{i}] needs as many values as indices (at least one)")
            if np.any(idx_a < 0) or np.any(idx_a >= n):
                raise ValueError(f"groups[{i}] indices must lie in [0, {n})")
            wt_f = float(wt)
            if not (np.isfinite(wt_f) and wt_f >= 0):
                raise ValueError(f"groups[{i}] weight must be a finite number >= 0; got {wt!r}")
            grp.append(GroupTerm(idx_a, val_a, wt_f))
        t = _as_vector("kink_t", kink_t)
        k = t.size
        Tm = _as_sparse("T", T, k, n)

        def per_kink(name: str, value: Any) -> np.ndarray:
            if value is None:
                if k:
                    raise ValueError(f"{name} is required when kink_t is given")
                return np.zeros(0)
            arr = np.broadcast_to(as_float_array(name, value), (k,)).astype(float)
            return arr.copy()

        coef = per_kink("kink_coef", kink_coef)
        sn = per_kink("slope_neg", slope_neg)
        spos = per_kink("slope_pos", slope_pos)
        if names is not None and len(names) != n:
            raise ValueError(f"names must have one entry per variable ({n}); got {len(names)}")
        return cls(
            grad,
            gv,
            mats[0],
            hv,
            mats[1],
            Gv,
            mats[2],
            Hv,
            mats[3],
            tuple(grp),
            t,
            Tm,
            coef,
            sn,
            spos,
            tuple(names) if names is not None else None,
        )

    @classmethod
    def from_sympy(
        cls,
        f: Any,
        variables: Sequence[Any],
        point: Sequence[Any] | dict,
        *,
        g: Sequence[Any] = (),
        h: Sequence[Any] = (),
        G: Sequence[Any] = (),
        H: Sequence[Any] = (),
    ) -> MPCC:
        r"""Build from sympy expressions with exact derivatives, evaluated at ``point``.

        ``f``, ``g``, ``h``, ``G``, ``H`` must be smooth: an expression containing ``Abs``, ``Max``,
        ``Min``, ``sign``, ``Heaviside``, ``Piecewise``, ``floor``, ``ceiling``, ``frac``, ``re``,
        ``im`` or ``DiracDelta`` is refused with ``ValueError`` (sympy differentiates ``Abs`` with
        ``sign(0) = 0``, which would make a kink look stationary). Write group-norm and piecewise-
        linear terms with :meth:`create` (``groups=``, ``kink_t=``...), or analyze the nonsmooth
        function exactly with :func:`ialam_verify.cases.analyze`. ``g >= 0``, ``h = 0``,
        ``0 <= G _|_ H >= 0`` are lists of expressions in ``variables``. Derivatives are computed
        symbolically and evaluated exactly (rationals stay rationals) before the conversion to floats.
        """
        import sympy

        nonsmooth = (
            sympy.Abs,
            sympy.Max,
            sympy.Min,
            sympy.sign,
            sympy.Heaviside,
            sympy.Piecewise,
            sympy.floor,
            sympy.ceiling,
            sympy.frac,
            sympy.re,
            sympy.im,
            sympy.DiracDelta,
        )
        for label, exprs in (("f", [f]), ("g", g), ("h", h), ("G", G), ("H", H)):
            for i, e in enumerate(exprs):
                found = sorted({type(a).__name__ for a in sympy.sympify(e).atoms(*nonsmooth)})
                if found:
                    where = label if label == "f" else f"{label}[{i}]"
                    raise ValueError(
                        f"{where} = {e} contains {', '.join(found)}, which is not differentiable "
                        "everywhere; MPCC.from_sympy needs smooth expressions. Write group norms and "
                        "piecewise-linear terms with MPCC.create(groups=..., kink_t=..., T=..., "
                        "kink_coef=..., slope_neg=..., slope_pos=...), or analyze the nonsmooth "
                        "function exactly with ialam_verify.cases.analyze"
                    )

        xs = list(variables)
        if not xs:
            raise ValueError("variables must be a non-empty sequence of sympy symbols")
        if isinstance(point, dict):
            subs = {s: sympy.nsimplify(point[s]) for s in xs}
        else:
            if len(point) != len(xs):
                raise ValueError(f"point must have {len(xs)} entries; got {len(point)}")
            subs = {s: sympy.nsimplify(p) for s, p in zip(xs, point, strict=True)}
        if len(G) != len(H):
            raise ValueError(f"G and H must have equal length; got {len(G)} and {len(H)}")

        def num(e: Any) -> float:
            val = sympy.simplify(sympy.sympify(e).subs(subs))
            if not val.is_real:
                raise ValueError(
                    f"expression {e} does not evaluate to a real number at the point (a derivative "
                    "of a nonsmooth term such as sqrt(x**2 + y**2) at 0? write it as a group term "
                    "with MPCC.create, or use ialam_verify.cases.analyze)"
                )
            return float(val)

        def jac(exprs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
            vals = np.array([num(e) for e in exprs], dtype=float)
            J = np.array([[num(sympy.diff(e, x)) for x in xs] for e in exprs], dtype=float)
            return vals, J.reshape(len(exprs), len(xs))

        grad = np.array([num(sympy.diff(f, x)) for x in xs], dtype=float)
        gv, Jg = jac(g)
        hv, Jh = jac(h)
        Gv, JG = jac(G)
        Hv, JH = jac(H)
        return cls.create(
            grad,
            g=gv,
            Jg=Jg,
            h=hv,
            Jh=Jh,
            G=Gv,
            JG=JG,
            H=Hv,
            JH=JH,
            names=[str(x) for x in xs],
        )

    # ------------------------------------------------------------------------------ sizes
    @property
    def n(self) -> int:
        return int(self.grad_f.size)

    @property
    def n_kinks(self) -> int:
        return int(self.kink_t.size)

    @property
    def n_pairs(self) -> int:
        return int(self.G.size)

    @property
    def is_nlp(self) -> bool:
        """True when there are no complementarity pairs (the notion decided is KKT)."""
        return self.n_pairs == 0

    def kink_matrix(self) -> sp.csr_matrix:
        return self.T if self.T is not None else sp.csr_matrix((0, self.n))

    def concave_kinks(self) -> np.ndarray:
        r"""Mask of kinks whose term :math:`c\,\sigma` is concave (:math:`c\,s_+ < c\,s_-`)."""
        return self.kink_coef * self.slope_pos < self.kink_coef * self.slope_neg
