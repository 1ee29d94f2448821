r"""Local minimality, decided exactly: an exact descent ray proves "no"; a sharp minimum or convex
quadratic selections prove "yes"; anything else is "undetermined".

- *no*: among the generators of the essentially active patterns' cones and ± the axes, a direction
  :math:`d` with :math:`f'(\bar x; d) \le 0` whose exact decrease :math:`f(\bar x + t d) - f(\bar x)`
  (a polynomial in :math:`t`, see :meth:`Analysis.ray_witness`) has a negative leading coefficient;
- *yes, sharp*: every pattern's cone is pointed and :math:`\nabla f_p(\bar x) \cdot r > 0` on each of
  its extreme rays :math:`r`, so :math:`f'(\bar x; d) > 0` for every :math:`d \ne 0`;
- *yes, convex*: :math:`\bar x` is Fréchet stationary and every essentially active selection is a
  convex quadratic (positive semidefinite constant Hessian).

The functions read the analysis through its public attributes (no import of ``analysis``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from ialam_verify.verdict import Verdict

from .geometry import Vector, cone_generators, dot, math_str
from .params import Undetermined

#: The ray parameter: points :math:`\bar x + t d`, :math:`t > 0`.
T = sympy.Symbol("t", positive=True)


@dataclass(frozen=True)
class RayWitness:
    r"""Along :math:`x + t d`, for :math:`0 < t < t_0`: :math:`f(x + t d) - f(x) = \Delta(t)`."""

    direction: Vector
    decrease: sympy.Expr  # Delta(t)
    t: sympy.Symbol
    t0: sympy.Expr | None  # None: only "for all small t > 0" is claimed

    def __str__(self) -> str:
        if self.t0 is None:
            tail = " for all small t > 0"
        elif self.t0 == sympy.oo:
            tail = " for all t > 0"
        else:
            tail = f" for 0 < t < {self.t0}"
        return (
            f"f(x + t·{sympy.sstr(tuple(self.direction))}) - f(x) = {math_str(self.decrease)}{tail}"
        )

    def to_json(self) -> dict[str, Any]:
        """``{"direction", "decrease", "t0", "pretty"}`` (exact numbers as strings; t0 ``None``:
        valid for all small t > 0 only)."""
        return {
            "direction": [str(x) for x in self.direction],
            "decrease": str(self.decrease),
            "t0": None if self.t0 is None else str(self.t0),
            "pretty": str(self),
        }


def candidate_directions(A: Any) -> list[Vector]:
    """Generators of every essentially active pattern's cone (rays, ± lineality) and ± the axes."""
    dirs: list[Vector] = []
    for p in A.essential:
        rows = [
            tuple(pk * x for x in A.switch_gradient(k, p))
            for k, pk in zip(A.active, p, strict=True)
        ]
        try:
            rays, lin = cone_generators(rows, A.n)
        except Undetermined:
            continue
        for r in rays + lin + [tuple(-x for x in v) for v in lin]:
            if r not in dirs:
                dirs.append(r)
    for i in range(A.n):
        for s in (1, -1):
            r = tuple(sympy.Integer(s * int(i == j)) for j in range(A.n))
            if r not in dirs:
                dirs.append(r)
    return dirs


def local_minimality(A: Any) -> tuple[Verdict, RayWitness | None]:
    """The verdict of :attr:`Analysis.local_minimizer` and the descent ray proving "no" (or ``None``)."""
    fs = A.frechet_stationary
    dirs = candidate_directions(A)
    # first: rays with f'(x; d) < 0, then second-order descent along any candidate
    scored = []
    for d in dirs:
        try:
            dd = A.directional_derivative(d)
            scored.append((A.ps.sign(dd), d))
        except Undetermined:
            continue
    for sgn, d in sorted(scored, key=lambda s: s[0]):
        if sgn > 0:
            break
        try:
            w = A.ray_witness(d)
            lead = sympy.Poly(w.decrease, T).terms()[-1][1] if w.decrease != 0 else 0
            if w.decrease != 0 and A.ps.sign(lead) < 0:
                return Verdict.fails(f"descent along d = {sympy.sstr(d)}"), w
        except (Undetermined, sympy.PolynomialError, IndexError):
            continue
    if fs.value is None:
        return Verdict.undetermined("Fréchet stationarity undetermined; no descent ray found"), None
    if fs.value is False:  # pragma: no cover - a descent generator always exists then
        return Verdict.undetermined(
            "not Fréchet stationary, but no exact descent ray was confirmed"
        ), None
    # sharp minimum: C_p pointed and g_p·r > 0 on every ray, for every essential p
    try:
        sharp = True
        for p in A.essential:
            rows = [
                tuple(pk * x for x in A.switch_gradient(k, p))
                for k, pk in zip(A.active, p, strict=True)
            ]
            rays, lin = cone_generators(rows, A.n)
            if lin or not all(A.ps.sign(dot(A.gradients[p], r)) > 0 for r in rays):
                sharp = False
                break
        if sharp:
            return Verdict.holds(
                "sharp: f'(x; d) > 0 for every d ≠ 0 (checked on the generators of every cone)"
            ), None
        convex = True
        for p in A.essential:
            fp = A.selection(p)
            poly = sympy.Poly(fp, *A.variables)
            if poly.total_degree() > 2:
                convex = False
                break
            H = sympy.hessian(fp, A.variables)
            if H.free_symbols or not H.is_positive_semidefinite:
                convex = False
                break
        if convex:
            return Verdict.holds(
                "every essentially active selection is a convex quadratic with f_p'(x; d) ≥ 0 on its cone"
            ), None
    except (Undetermined, sympy.PolynomialError):
        pass
    return Verdict.undetermined(
        "first-order stationary, not sharp, no convexity argument, no descent ray found"
    ), None
