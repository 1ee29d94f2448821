r"""Hypothesis strategies for networks, data sets and lifted points (re-exported by ``strategies``).

Every number drawn here is *dyadic* (an integer over a small power of two) and every slope ``alpha``
is dyadic too, so the forward pass :math:`U_\ell = W_\ell V_{\ell-1} + b_\ell 1^T`,
:math:`V_\ell = \sigma(U_\ell)` is computed **exactly** in floating point whatever the summation
order of the BLAS. That is what makes planted degeneracies real: a bias chosen as
:math:`b_i = -W_{i,:} v_n` gives a pre-activation that is exactly ``0.0`` (a kink of the leaky ReLU),
and a zeroed column is exactly zero, so the certifiers see the degenerate case and not a neighbour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..model.network import forward
from ..model.problem import LiftedPoint, Problem
from ._require import hypothesis_strategies

st = hypothesis_strategies()

DYADIC_ALPHAS = (0.125, 0.25, 0.375, 0.5, 0.75)
"""Slopes in (0, 1) with exact binary expansions (so ``alpha * u`` is exact)."""

VIOLATIONS = ("linear", "penalty", "inequality")
"""How :func:`lifted_points` makes a point infeasible for (P): ``h != 0``; ``V > sigma(U)`` (still
feasible for (PP)); ``V < sigma(U)`` somewhere (violates ``V >= U`` or ``V >= alpha U``)."""


def _resolve(draw: Any, value: Any, default: Any) -> Any:
    """An ``int``/``float``/tuple given as is, a strategy drawn from, ``None`` -> ``default``."""
    if value is None:
        value = default
    if isinstance(value, st.SearchStrategy):
        return draw(value)
    return value


def dyadic(bound: int = 2, denominator: int = 4) -> Any:
    """Floats ``k / denominator`` with ``|k / denominator| <= bound`` (exact in binary)."""
    if denominator < 1 or denominator & (denominator - 1):
        raise ValueError(f"denominator must be a power of two; got {denominator}")
    k = int(bound * denominator)
    return st.integers(-k, k).map(lambda i: i / denominator)


@st.composite
def dyadic_arrays(
    draw: Any, shape: Sequence[int], bound: int = 2, denominator: int = 4
) -> np.ndarray:
    """Arrays of the given shape with dyadic entries (see :func:`dyadic`)."""
    shape = tuple(int(s) for s in shape)
    size = int(np.prod(shape)) if shape else 1
    vals = draw(st.lists(dyadic(bound, denominator), min_size=size, max_size=size))
    return np.array(vals, dtype=float).reshape(shape)


def alphas(exact: bool = True) -> Any:
    """Leaky-ReLU slopes in (0, 1): dyadic ones (``exact=True``, the default) or any float in
    [0.01, 0.99] (then planted kinks of deep layers are no longer guaranteed exact)."""
    if exact:
        return st.sampled_from(DYADIC_ALPHAS)
    return st.floats(0.01, 0.99, allow_nan=False)


def layer_sizes(
    min_layers: int = 1, max_layers: int = 3, min_width: int = 1, max_width: int = 4
) -> Any:
    """``(N_0, N_1, ..., N_L)`` with ``min_layers <= L <= max_layers`` and widths in
    ``[min_width, max_width]``."""
    if not 1 <= min_layers <= max_layers:
        raise ValueError(f"need 1 <= min_layers <= max_layers; got {min_layers}, {max_layers}")
    if not 1 <= min_width <= max_width:
        raise ValueError(f"need 1 <= min_width <= max_width; got {min_width}, {max_width}")
    width = st.integers(min_width, max_width)
    return st.integers(min_layers, max_layers).flatmap(lambda L: st.tuples(*([width] * (L + 1))))


@st.composite
def datasets(
    draw: Any,
    n_inputs: Any = None,
    n_outputs: Any = None,
    n_samples: Any = None,
    *,
    bound: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` with samples as columns: ``X`` is ``n_inputs x n_samples``, ``Y`` is
    ``n_outputs x n_samples``; each size an ``int``, a strategy, or ``None`` (1 to 4 features,
    1 to 6 samples). Entries are dyadic in ``[-bound, bound]``."""
    n0 = _resolve(draw, n_inputs, st.integers(1, 4))
    nL = _resolve(draw, n_outputs, st.integers(1, 4))
    N = _resolve(draw, n_samples, st.integers(1, 6))
    return draw(dyadic_arrays((n0, N), bound)), draw(dyadic_arrays((nL, N), bound))


@dataclass(frozen=True, eq=False)
class NetworkExample:
    """A drawn network with its data and what was planted in it.

    Attributes
    ----------
    weights, biases : tuple of ndarray
        ``W_l`` (``N_l x N_{l-1}``) and ``b_l`` (``N_l``), the network of problem (1).
    alpha : float
        Leaky-ReLU slope.
    X, Y : ndarray
        Inputs ``N_0 x N`` and targets ``N_L x N``.
    zero_columns : tuple of (layer, column)
        Every column with ``W[layer][:, column] == 0`` exactly (planted or drawn).
    kinks : tuple of (layer, unit, sample)
        Every pre-activation with ``U[layer][unit, sample] == 0.0`` exactly (planted or drawn).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    alpha: float
    X: np.ndarray
    Y: np.ndarray
    zero_columns: tuple[tuple[int, int], ...] = field(default=())
    kinks: tuple[tuple[int, int, int], ...] = field(default=())

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.weights[0].shape[1], *(W.shape[0] for W in self.weights))

    @property
    def network(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(weights, biases)`` as lists: what ``certify_network`` and ``fit(start=...)`` take."""
        return [W.copy() for W in self.weights], [b.copy() for b in self.biases]

    def problem(
        self,
        lambda_w: float = 0.0,
        lambda_v: float = 0.0,
        beta: float | Sequence[float] = 1.0,
    ) -> Problem:
        """(PP) with this network's data and slope."""
        return Problem.create(self.X, self.Y, self.sizes, self.alpha, lambda_w, lambda_v, beta)

    def lifted(self, problem: Problem | None = None) -> LiftedPoint:
        """The feasible lift ``U = W V + b 1^T``, ``V = sigma(U)`` of the weights."""
        return (problem or self.problem()).lift(list(self.weights), list(self.biases))

    def __repr__(self) -> str:
        return (
            f"NetworkExample(sizes={self.sizes}, alpha={self.alpha}, N={self.X.shape[1]}, "
            f"zero_columns={list(self.zero_columns)}, kinks={list(self.kinks)})"
        )


def _draw_weights(
    draw: Any,
    sizes: Sequence[int],
    X: np.ndarray,
    alpha: float,
    zero_columns: bool,
    kinks: bool,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights layer by layer; zero columns set to 0, kinks planted by the bias (exact arithmetic)."""
    N = X.shape[1]
    W: list[np.ndarray] = []
    b: list[np.ndarray] = []
    V = X
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        Wl = draw(dyadic_arrays((n_out, n_in)))
        if zero_columns:
            for j in draw(st.sets(st.integers(0, n_in - 1), max_size=n_in)):
                Wl[:, j] = 0.0
        bl = draw(dyadic_arrays((n_out,)))
        if kinks:
            for i in range(n_out):
                n = draw(st.none() | st.integers(0, N - 1))
                if n is not None:
                    bl[i] = -float(Wl[i] @ V[:, n])
        W.append(Wl)
        b.append(bl)
        U = Wl @ V + bl[:, None]
        V = np.where(U >= 0, U, alpha * U)
    return W, b


def _exact_zeros(W: Sequence[np.ndarray], U: Sequence[np.ndarray]) -> tuple[tuple, tuple]:
    cols = tuple(
        (l, j) for l, Wl in enumerate(W) for j in range(Wl.shape[1]) if not np.any(Wl[:, j])
    )
    kk = tuple((l, int(i), int(n)) for l, Ul in enumerate(U) for i, n in np.argwhere(Ul == 0))
    return cols, kk


@st.composite
def networks(
    draw: Any,
    sizes: Any = None,
    *,
    n_samples: Any = None,
    alpha: Any = None,
    zero_columns: bool = True,
    kinks: bool = True,
    max_layers: int = 3,
    max_width: int = 4,
    max_samples: int = 6,
) -> NetworkExample:
    """Leaky-ReLU networks with their data, with planted exact degeneracies.

    Parameters
    ----------
    sizes : tuple of int, strategy or None
        ``(N_0, ..., N_L)``; default :func:`layer_sizes` with ``max_layers``, ``max_width``.
    n_samples : int, strategy or None
        ``N``; default 1 to ``max_samples``.
    alpha : float, strategy or None
        Slope; default :func:`alphas` (dyadic, so every planted zero is exact).
    zero_columns : bool
        Plant exactly-zero columns of ``W_l`` (a random subset per layer, possibly empty).
    kinks : bool
        Plant pre-activations exactly at 0: for a random subset of units, the bias is set to
        :math:`b_i = -W_{i,:} v_n` for a drawn sample ``n``.

    The returned :class:`NetworkExample` lists every exact zero column and kink (planted or not).
    """
    sizes = tuple(_resolve(draw, sizes, layer_sizes(max_layers=max_layers, max_width=max_width)))
    N = _resolve(draw, n_samples, st.integers(1, max_samples))
    a = float(_resolve(draw, alpha, alphas()))
    X, Y = draw(datasets(sizes[0], sizes[-1], N))
    W, b = _draw_weights(draw, sizes, X, a, zero_columns, kinks)
    U, _ = forward(W, b, X, a)
    cols, kk = _exact_zeros(W, U)
    return NetworkExample(tuple(W), tuple(b), a, X, Y, cols, kk)


@st.composite
def problems(
    draw: Any,
    network: Any = None,
    *,
    lambda_w: Any = None,
    lambda_v: Any = None,
    beta: Any = None,
) -> tuple[Problem, NetworkExample]:
    """``(problem, network_example)``: (PP) built on a drawn network's data (default
    :func:`networks`), with ``lambda_w`` in {0, 1/16, 1/4}, ``lambda_v`` in {0, 1/8} and one
    ``beta`` in {1/2, 2, 8} unless given."""
    net = _resolve(draw, network, networks())
    lw = _resolve(draw, lambda_w, st.sampled_from([0.0, 0.0625, 0.25]))
    lv = _resolve(draw, lambda_v, st.sampled_from([0.0, 0.125]))
    be = _resolve(draw, beta, st.sampled_from([0.5, 2.0, 8.0]))
    return net.problem(lw, lv, be), net


def lifted_points(
    problem: Problem,
    *,
    feasible: Any = True,
    violation: Any = None,
    zero_columns: bool = True,
    kinks: bool = True,
) -> Any:
    """Points ``(W, b, V, U)`` of the lifted problems of ``problem``.

    ``feasible=True``: the feasible lift of drawn weights (for (P): ``h = 0`` and ``V = sigma(U)``;
    hence feasible for (PP) too), with planted zero columns and kinks as in :func:`networks`
    (exact when ``problem.X`` and ``problem.alpha`` are dyadic). ``feasible=False``: that lift with
    one violation, ``violation`` in :data:`VIOLATIONS` (default: drawn):

    - ``"linear"``: one entry of ``U`` moved (``V`` follows it through sigma), so
      :math:`h = u - \\Psi(v)w - Ab \\ne 0` in that layer only;
    - ``"penalty"``: one entry of ``V`` raised above :math:`\\sigma(U)`: feasible for (PP), not (P);
    - ``"inequality"``: one entry of ``V`` lowered below :math:`\\sigma(U)`: violates
      :math:`V \\ge U` or :math:`V \\ge \\alpha U`.

    The layers above the changed one follow it exactly. ``feasible`` and ``violation`` may be
    strategies (``st.booleans()``).
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem must be an ialam_verify Problem; got {type(problem).__name__}")
    if isinstance(violation, str) and violation not in VIOLATIONS:
        raise ValueError(f"violation must be one of {VIOLATIONS}; got {violation!r}")
    return _lifted_points(
        problem,
        feasible=feasible,
        violation=violation,
        zero_columns=zero_columns,
        kinks=kinks,
    )


@st.composite
def _lifted_points(
    draw: Any,
    problem: Problem,
    *,
    feasible: Any = True,
    violation: Any = None,
    zero_columns: bool = True,
    kinks: bool = True,
) -> LiftedPoint:
    W, b = _draw_weights(
        draw, problem.sizes, problem.X, max(problem.alpha, 0.0), zero_columns, kinks
    )
    point = problem.lift(W, b)
    if _resolve(draw, feasible, True):
        return point
    kind = _resolve(draw, violation, st.sampled_from(VIOLATIONS))
    if kind not in VIOLATIONS:
        raise ValueError(f"violation must be one of {VIOLATIONS}; got {kind!r}")
    l = draw(st.integers(0, problem.n_layers - 1))
    i = draw(st.integers(0, point.U[l].shape[0] - 1))
    n = draw(st.integers(0, problem.n_samples - 1))
    step = draw(st.sampled_from([0.25, 0.5, 1.0]))
    if kind == "linear":
        point.U[l][i, n] += draw(st.sampled_from([-step, step]))
        # keep (V, U) on the graph of sigma so that only h is violated
        u = point.U[l][i, n]
        point.V[l][i, n] = u if u >= 0 else problem.alpha * u
    elif kind == "penalty":
        point.V[l][i, n] += step
    else:
        point.V[l][i, n] -= step
    # the layers above follow the changed V exactly, so h = 0 there and only the chosen kind is violated
    a = problem.alpha
    for k in range(l + 1, problem.n_layers):
        point.U[k] = point.W[k] @ point.V[k - 1] + point.b[k][:, None]
        point.V[k] = np.where(point.U[k] >= 0, point.U[k], a * point.U[k])
    return point
