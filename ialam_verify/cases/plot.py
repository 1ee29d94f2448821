r"""The picture of a case: the function near its point, and its three subdifferentials.

``ialam-verify cases NAME --plot FILE.png`` calls :func:`plot_case`. The figure has two panels:

- left, *the function along directions*: :math:`t \mapsto f(\bar x + t d) - f(\bar x)` for the
  coordinate directions of the variables the active kinks depend on, and the exact descent ray when
  there is one; dotted lines are the one-sided first-order models :math:`t f'(\bar x; d)` (:math:`t > 0`)
  and :math:`-t f'(\bar x; -d)` (:math:`t < 0`), so a kink shows as two slopes;
- right, *the sets*: the Clarke set (filled), the limiting set (thick), the Fréchet set (hatched),
  0 and the AD value marked, and the source's claimed sets dashed when the case claims them. In
  dimension 1 the sets are drawn as intervals on three rows; in higher dimension in the two gradient
  coordinates in which they vary (the other coordinates are constant on every set, and the panel
  says their values), or, when more than two vary, as a projection (then "0 inside the picture" does
  not mean "0 in the set", and the panel says so).

A symbolic parameter is fixed to an exact value first (default: the middle sample of its interval).
matplotlib is imported inside :func:`plot_analysis` (the ``bench`` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sympy

from .geometry import Polytope, PolyUnion, math_str, set_pieces
from .params import Undetermined
from .report import verdict_word

COLORS = {"clarke": "#9ecae1", "limiting": "#d94801", "frechet": "#31a354", "claim": "#555555"}
LINE_STYLES = ["-", "--", "-.", (0, (5, 1, 1, 1))]
LINE_COLORS = ["#1f77b4", "#9467bd", "#8c564b", "#e377c2"]


def _require_matplotlib():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "plotting a case needs matplotlib: pip install 'ialam-verify[bench]' "
            "(or pip install matplotlib)"
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _numeric(f: sympy.Expr, variables) -> Any:
    import numpy as np

    mods = [
        {
            "relu": lambda x: np.maximum(x, 0.0),
            "leaky_relu": lambda x, a: np.where(x >= 0, x, a * x),
            "Max2": np.maximum,
            "Min2": np.minimum,
        },
        "numpy",
    ]
    return sympy.lambdify(list(variables), f, modules=mods)


def _hull2d(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull of 2-D points (monotone chain), counter-clockwise; 1 or 2 points if degenerate."""
    pts = sorted(set((round(x, 12), round(y, 12)) for x, y in points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 1e-12:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 1e-12:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    return hull if len(hull) >= 3 else [pts[0], pts[-1]]


def _fix(x: Any, subs: dict) -> float:
    return float(sympy.sympify(x).subs(subs))


def _tuple_str(v: Any) -> str:
    return "(" + ", ".join(math_str(x) for x in v) + ")"


def _slice_directions(A: Any) -> list[tuple[str, tuple]]:
    """Coordinate directions of the variables the active kinks depend on, and the descent ray
    (a direction already drawn up to sign is not drawn again: the slice covers t < 0 too)."""
    dirs: list[tuple[str, tuple]] = []
    used = set()
    for k in A.active:
        used |= A.switch(k).free_symbols & set(A.variables)
    w = A.descent_witness
    if w is not None:
        dirs.append((f"descent ray d = {_tuple_str(w.direction)}", tuple(w.direction)))
    for i, v in enumerate(A.variables):
        if v in used or not used:
            d = tuple(sympy.Integer(int(i == j)) for j in range(A.n))
            minus = tuple(-x for x in d)
            if all(d != e and minus != e for _, e in dirs):
                dirs.append((f"d = e({v})", d))
    return dirs[:4]


def _draw_slices(ax, A: Any) -> None:
    import numpy as np

    fnum = _numeric(A.f, A.variables)
    x0 = np.array([float(x) for x in A.point])
    f0 = float(A.value)
    w = A.descent_witness
    h = 1.0
    if w is not None and w.t0 not in (None, sympy.oo):
        h = min(1.0, 1.5 * float(w.t0))
    t = np.linspace(-h, h, 801)
    for i, (label, d) in enumerate(_slice_directions(A)):
        dv = np.array([float(x) for x in d])
        pts = x0[:, None] + np.outer(dv, t)
        y = np.asarray(fnum(*pts), dtype=float) * np.ones_like(t) - f0
        color = LINE_COLORS[i % len(LINE_COLORS)]
        ax.plot(t, y, color=color, ls=LINE_STYLES[i % len(LINE_STYLES)], lw=2, label=label)
        try:
            up = float(A.directional_derivative(d))
            down = float(A.directional_derivative(tuple(-x for x in d)))
            ax.plot([0, h], [0, h * up], color=color, ls=":", lw=1)
            ax.plot([-h, 0], [h * down, 0], color=color, ls=":", lw=1)
        except Undetermined:
            pass
    ax.axhline(0, color="black", lw=0.6)
    ax.axvline(0, color="black", lw=0.6)
    ax.plot([0], [0], "ko", ms=5)
    ax.set_xlabel("t")
    ax.set_ylabel("f(x̄ + t·d) − f(x̄)")
    ax.set_title("the function along directions (dotted: one-sided slopes f′(x̄; ±d))", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=9, frameon=False)


def _vertices(S: Polytope | PolyUnion, subs: dict) -> list[list[tuple[float, ...]]]:
    return [[tuple(_fix(x, subs) for x in v) for v in P.vertices] for P in set_pieces(S)]


def _sets(A: Any) -> dict[str, Any]:
    out = {}
    for name in ("clarke", "limiting", "frechet"):
        try:
            out[name] = getattr(A, name)
        except Undetermined:
            out[name] = None
    return out


def _choose_axes(all_pts: list[tuple[float, ...]], n: int) -> tuple[list[int], bool]:
    """Two coordinates to draw: those that vary over the sets (exact picture), else the two with the
    largest spread (projection, flagged)."""
    spread = [
        (max(p[i] for p in all_pts) - min(p[i] for p in all_pts)) if all_pts else 0.0
        for i in range(n)
    ]
    varying = [i for i in range(n) if spread[i] > 1e-12]
    if len(varying) <= 2:
        axes = (varying + [i for i in range(n) if i not in varying])[:2]
        return sorted(axes), False
    return sorted(sorted(range(n), key=lambda i: -spread[i])[:2]), True


def _draw_sets_1d(ax, sets: dict, claims: dict, subs: dict, ad: float) -> None:
    rows = {"clarke": 2, "limiting": 1, "frechet": 0}
    names = {"clarke": "Clarke ∂ᶜf", "limiting": "limiting ∂f", "frechet": "Fréchet ∂̂f"}
    for name, yrow in rows.items():
        S = sets[name]
        label = names[name]
        if S is None:
            ax.text(0, yrow, "undetermined", ha="center", va="center")
            continue
        pieces = _vertices(S, subs)
        if not pieces:
            ax.text(0.02, yrow, "  ∅ (empty)", va="center", transform=ax.get_yaxis_transform())
        for j, verts in enumerate(pieces):
            xs = [v[0] for v in verts]
            lo, hi = min(xs), max(xs)
            kw = {"label": label if j == 0 else None, "color": COLORS[name]}
            if hi - lo > 1e-12:
                ax.plot([lo, hi], [yrow, yrow], lw=8, solid_capstyle="butt", **kw)
            else:
                ax.plot([lo], [yrow], "o", ms=10, **kw)
        claim = claims.get(name)
        if claim is not None:
            for j, verts in enumerate(_vertices(claim, subs)):
                xs = [v[0] for v in verts]
                ax.plot(
                    [min(xs), max(xs)],
                    [yrow + 0.25] * 2,
                    ls="--",
                    marker="|",
                    color=COLORS["claim"],
                    label="claimed by the source" if j == 0 and name == "clarke" else None,
                )
    ax.set_yticks(list(rows.values()), [names[k] for k in rows])
    ax.set_ylim(-0.7, 2.7)
    ax.axvline(0, color="black", lw=0.8, ls=":")
    ax.plot([0], [-0.45], "k*", ms=12, label="0")
    ax.plot([ad], [-0.45], "x", color="#d62728", ms=10, mew=2, label="AD value")
    ax.set_xlabel("g")


def _draw_polytope(ax, pts2: list[tuple[float, float]], name: str, label: str | None) -> None:
    hull = _hull2d(pts2)
    color = COLORS[name]
    if len(hull) == 1:
        ax.plot(*hull[0], "o", ms=10 if name == "limiting" else 8, color=color, label=label)
    elif len(hull) == 2:
        (a, b) = hull
        ax.plot([a[0], b[0]], [a[1], b[1]], color=color, lw=5 if name == "limiting" else 3,
                solid_capstyle="round", label=label)  # fmt: skip
    else:
        ring = hull + hull[:1]
        xs, ys = [q[0] for q in ring], [q[1] for q in ring]
        if name == "clarke":
            ax.fill(xs, ys, color=color, alpha=0.5, label=label, zorder=0)
            ax.plot(xs, ys, color="#3182bd", lw=1, zorder=0)
        elif name == "frechet":
            ax.fill(xs, ys, facecolor="none", edgecolor=color, hatch="//", lw=2, label=label)
        else:
            ax.fill(xs, ys, color=color, alpha=0.6, label=label)


def _draw_sets_2d(ax, A: Any, sets: dict, claims: dict, subs: dict, ad: tuple) -> None:
    every = [
        v for S in sets.values() if S is not None for piece in _vertices(S, subs) for v in piece
    ]
    axes, projected = _choose_axes(every, A.n)
    i, j = axes
    names = {"clarke": "Clarke ∂ᶜf", "limiting": "limiting ∂f", "frechet": "Fréchet ∂̂f"}
    for name in ("clarke", "frechet", "limiting"):
        S = sets[name]
        if S is None:
            ax.plot([], [], " ", label=f"{names[name]}: undetermined")
            continue
        pieces = _vertices(S, subs)
        if not pieces:
            ax.plot([], [], " ", label=f"{names[name]} = ∅")
        for k, verts in enumerate(pieces):
            _draw_polytope(ax, [(v[i], v[j]) for v in verts], name, names[name] if k == 0 else None)
    for name, claim in claims.items():
        for k, verts in enumerate(_vertices(claim, subs)):
            hull = _hull2d([(v[i], v[j]) for v in verts])
            label = f"claimed {names[name].split()[0]} (source)" if k == 0 else None
            if len(hull) == 1:
                ax.plot(*hull[0], "s", mfc="none", mec=COLORS["claim"], ms=11, mew=1.5, label=label)
            else:
                ring = hull + (hull[:1] if len(hull) > 2 else [])
                xs, ys = [q[0] for q in ring], [q[1] for q in ring]
                style = "--" if name == "clarke" else ":"
                ax.plot(xs, ys, ls=style, color=COLORS["claim"], lw=1.8, label=label)
    ax.plot([0], [0], "k*", ms=14, label="0", zorder=5)
    ax.plot([ad[i]], [ad[j]], "x", color="#d62728", ms=10, mew=2, label="AD value", zorder=5)
    var = A.variables
    ax.set_xlabel(f"g_{var[i]}  (∂/∂{var[i]})")
    ax.set_ylabel(f"g_{var[j]}  (∂/∂{var[j]})")
    ax.set_aspect("equal", adjustable="datalim")
    ax.grid(alpha=0.3)
    others = [k for k in range(A.n) if k not in axes]
    if projected:
        note = "projection: 0 in the picture does not mean 0 in a set"
    elif others:
        const = {var[k]: {round(p[k], 9) for p in every} for k in others}
        note = "other coordinates constant on every set: " + ", ".join(
            f"g_{v} = {', '.join(f'{c:g}' for c in sorted(cs))}" for v, cs in const.items()
        )
    else:
        note = ""
    if note:
        ax.text(0.0, 1.01, note, transform=ax.transAxes, fontsize=8, va="bottom")


def plot_analysis(
    A: Any,
    path: str | Path,
    *,
    title: str = "",
    claims: dict[str, Polytope | PolyUnion] | None = None,
    at: Any = None,
) -> Path:
    """Draw ``A`` (an :class:`~ialam_verify.cases.analysis.Analysis`) into the PNG ``path``.

    ``claims``: claimed ``"clarke"``/``"limiting"``/``"frechet"`` sets to draw dashed; ``at``: the
    exact value of the symbolic parameter (default: the middle sample of its interval).
    Returns the path written (atomically: a temporary file renamed into place).
    """
    plt = _require_matplotlib()
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png; got {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"path: folder {str(path.parent)!r} does not exist")
    claims = dict(claims or {})
    subs: dict = {}
    where = ""
    if A.ps.symbolic:
        value = sympy.Rational(at) if at is not None else A.ps.samples(3)[1]
        if not A.ps.interval.contains(value):
            raise ValueError(f"at must lie in {A.ps.describe()}; got {value}")
        subs = {A.ps.symbol: value}
        where = f", {A.ps.symbol} = {value}"
        A = A.at(value)
    elif at is not None:
        raise ValueError("at: this case has no symbolic parameter")
    sets = _sets(A)
    ad = tuple(_fix(x, subs) for x in A.ad_gradient)
    fig, (ax_f, ax_s) = plt.subplots(
        1, 2, figsize=(13, 5.6), gridspec_kw={"width_ratios": [1, 1.1]}, layout="constrained"
    )
    _draw_slices(ax_f, A)
    if A.n == 1:
        _draw_sets_1d(ax_s, sets, claims, subs, ad[0])
    else:
        _draw_sets_2d(ax_s, A, sets, claims, subs, ad)
    ax_s.set_title("subdifferentials at x̄ (0 = ★)", fontsize=10, pad=14)
    ax_s.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9, frameon=False)
    verdicts = "   ".join(
        f"{label}: {verdict_word(getattr(A, name))}"
        for name, label in (
            ("clarke_stationary", "C-stationary"),
            ("limiting_stationary", "l-stationary"),
            ("frechet_stationary", "F-stationary"),
            ("local_minimizer", "local minimizer"),
        )
    )
    head = title or f"f = {math_str(A.f)}"
    fig.suptitle(f"{head}\nat x̄ = {_tuple_str(A.point)}{where}.   {verdicts}", fontsize=11)
    tmp = path.with_name(path.name + ".tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
    return path


def plot_case(case: Any, path: str | Path, *, at: Any = None) -> Path:
    """Draw a :class:`~ialam_verify.cases.case.Case` (with its claimed sets) into ``path``."""
    if not hasattr(case, "analysis"):
        raise ValueError(f"case {case.name!r} has no single function to draw (a custom case)")
    claims = {c.notion: c.claimed for c in case.claims if c.notion in ("clarke", "limiting")}
    return plot_analysis(
        case.analysis, path, title=f"{case.name}: {case.title}", claims=claims, at=at
    )
