r"""The SGD family on problem (1), in torch (float64), with the group lasso handled two ways.

Objective (1) of the talk, for a minibatch :math:`B` of the training set:

.. math::
    f_B(w, b) = \frac{1}{|B|} \sum_{n \in B} \|\mathrm{net}(x_n) - y_n\|^2
              + \lambda_w \sum_\ell \sum_j \|(W_\ell)_{:,j}\|.

- ``lasso="subgradient"`` (the talk's way): the optimizer steps along the autograd (sub)gradient of
  :math:`f_B`; at a zero column torch takes the subgradient 0 of the norm. Columns hardly ever become
  exactly zero this way.
- ``lasso="prox"`` (practitioners' way, proximal SGD/Adam): the optimizer steps along the gradient of
  the loss term only, then every column of every :math:`W_\ell` goes through the group soft-threshold

  .. math::
      \mathrm{prox}_{t\|\cdot\|}(c) = \max\Bigl(0, 1 - \frac{t}{\|c\|}\Bigr)\, c, \qquad t = \eta_k \lambda_w,

  with :math:`\eta_k` the optimizer's current learning rate (the decayed one for AdagradDecay). For SGD
  this is exactly proximal SGD; for the adaptive methods it is the usual heuristic (the threshold
  ignores the per-coordinate scaling).

The network, the initialization (:func:`ialam_verify.model.init_weights` with the run's seed) and the
data are the same as IALAM's. One epoch is one pass over the training set in shuffled minibatches.
Every measurement goes through :func:`ialam_verify.experiments.measure.measure` on numpy copies of the
weights, and the clock stops while measuring.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_positive, check_sizes
from .measure import METRICS, Context, group_lasso, measure

OPTIMIZERS: tuple[str, ...] = ("SGD", "Adagrad", "AdagradDecay", "Adadelta", "Adam", "Adamax")
LASSO_MODES: tuple[str, ...] = ("subgradient", "prox")
#: Histories measure after epoch e when e >= the previous measured epoch times this factor (and
#: always after the first epochs and at the stop): log-spaced points, cheap on long runs.
RECORD_FACTOR = 1.1
#: AdagradDecay: torch's Adagrad with ``lr_decay``, step size ``lr / (1 + (k - 1) lr_decay)``.
ADAGRAD_LR_DECAY = 1e-3
#: The learning rates tried by :func:`search_lr` (half decades around each method's usual range).
LR_GRIDS: dict[str, tuple[float, ...]] = {
    "SGD": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0),
    "Adagrad": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0),
    "AdagradDecay": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0),
    "Adadelta": (3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0, 30.0),
    "Adam": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1),
    "Adamax": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0),
}


def method_name(optimizer: str, lasso: str) -> str:
    """``"Adam"`` for the subgradient variant, ``"Adam+prox"`` for the proximal one."""
    return optimizer if lasso == "subgradient" else f"{optimizer}+prox"


def parse_method(name: str) -> tuple[str, str]:
    """Inverse of :func:`method_name`; raises ``ValueError`` for an unknown name."""
    opt, _, suffix = name.partition("+")
    if opt not in OPTIMIZERS or suffix not in ("", "prox"):
        known = ", ".join(method_name(o, m) for o in OPTIMIZERS for m in LASSO_MODES)
        raise ValueError(f"unknown method {name!r}; known: IALAM, {known}")
    return opt, "prox" if suffix else "subgradient"


def all_methods() -> list[str]:
    """Every baseline name, subgradient variants first."""
    return [method_name(o, m) for m in LASSO_MODES for o in OPTIMIZERS]


def group_soft_threshold(W: np.ndarray, t: float) -> np.ndarray:
    r"""Column-wise :math:`\mathrm{prox}_{t\|\cdot\|_2}`: :math:`\max(0, 1 - t/\|c\|)\,c` (numpy)."""
    W = np.asarray(W, dtype=float)
    norms = np.linalg.norm(W, axis=0)
    scale = np.where(norms > t, 1.0 - t / np.where(norms > 0, norms, 1.0), 0.0)
    return W * scale[None, :]


def _soft_threshold_(W: Any, t: float) -> None:
    """In-place torch version of :func:`group_soft_threshold`."""
    import torch

    norms = torch.linalg.vector_norm(W, dim=0)
    scale = torch.where(
        norms > t, 1.0 - t / torch.clamp(norms, min=1e-300), torch.zeros_like(norms)
    )
    W.mul_(scale.unsqueeze(0))


def _make_optimizer(optimizer: str, params: list[Any], lr: float) -> Any:
    import torch

    if optimizer == "SGD":
        return torch.optim.SGD(params, lr=lr)
    if optimizer == "Adagrad":
        return torch.optim.Adagrad(params, lr=lr)
    if optimizer == "AdagradDecay":
        return torch.optim.Adagrad(params, lr=lr, lr_decay=ADAGRAD_LR_DECAY)
    if optimizer == "Adadelta":
        return torch.optim.Adadelta(params, lr=lr)
    if optimizer == "Adam":
        return torch.optim.Adam(params, lr=lr)
    if optimizer == "Adamax":
        return torch.optim.Adamax(params, lr=lr)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")


def _current_lr(optimizer: str, opt: Any, lr: float) -> float:
    if optimizer != "AdagradDecay":
        return lr
    state = opt.state[opt.param_groups[0]["params"][0]]
    step = float(state["step"]) if "step" in state else 1.0
    return lr / (1.0 + (step - 1.0) * ADAGRAD_LR_DECAY)


def torch_objective(
    W: Sequence[Any], b: Sequence[Any], Xr: Any, Yr: Any, alpha: float, lambda_w: float
) -> Any:
    """Objective (1) in torch, samples as *rows* (``Xr = X.T``): loss term + ``lambda_w * R_1``."""
    import torch

    h = Xr
    for Wl, bl in zip(W, b, strict=True):
        z = h @ Wl.T + bl
        h = torch.where(z >= 0, z, alpha * z)
    loss = torch.sum((h - Yr) ** 2) / Xr.shape[0]
    if lambda_w > 0:
        loss = loss + lambda_w * sum(torch.linalg.vector_norm(Wl, dim=0).sum() for Wl in W)
    return loss


@dataclass
class RunRecord:
    """One method's run: ``status`` is ``"ok"``, ``"diverged"``, ``"interrupted"``, ``"failed"`` or
    ``"unavailable"``; ``final`` holds the last measurement (``None`` unless there is a usable one)."""

    method: str
    status: str
    message: str = ""
    lr: float | None = None
    history: dict[str, list[float | None]] = field(default_factory=dict)
    final: dict[str, float | None] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "status": self.status,
            "message": self.message,
            "lr": self.lr,
            "history": self.history,
            "final": self.final,
            "info": self.info,
        }


def empty_history() -> dict[str, list[float | None]]:
    return {"seconds": [], "epochs": [], **{k: [] for k in METRICS}}


def _append(history: dict[str, list[float | None]], seconds: float, epochs: float, m: dict) -> None:
    history["seconds"].append(seconds)
    history["epochs"].append(epochs)
    for k in METRICS:
        history[k].append(m[k])


def _check_budget(max_epochs: float, max_seconds: float) -> tuple[float, float]:
    """Both budgets: a positive number or ``inf``; not both infinite."""
    out = []
    for name, value in (("max_epochs", max_epochs), ("max_seconds", max_seconds)):
        try:
            x = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a number > 0 or inf; got {value!r}") from exc
        if math.isnan(x) or x <= 0:
            raise ValueError(f"{name} must be a number > 0 or inf; got {value!r}")
        out.append(x)
    if math.isinf(out[0]) and math.isinf(out[1]):
        raise ValueError("max_epochs and max_seconds cannot both be infinite")
    return out[0], out[1]


def initial_network(
    ctx: Context,
    sizes: Sequence[int],
    seed: int,
    init_scale: str | float = "fan_in",
    match_targets: bool = True,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """IALAM's own initial network (:func:`ialam_verify.solver.initial_point`), for every method.

    Random weights :func:`ialam_verify.model.init_weights` ``(sizes, default_rng(seed), init_scale)``,
    zero biases, and with ``match_targets`` one common factor on all weights so that the initial
    output has the RMS of ``Y`` (the solver's default).
    """
    from ..model import Problem
    from ..solver import initial_point

    prob = Problem.create(ctx.data.X, ctx.data.Y, sizes, ctx.alpha, ctx.lambda_w, 0.0, 0.0)
    p = initial_point(prob, seed, init_scale, match_targets=match_targets)
    return [a.copy() for a in p.W], [a.copy() for a in p.b]


def train_baseline(
    ctx: Context,
    sizes: Sequence[int],
    seed: int,
    optimizer: str,
    lasso: str,
    lr: float,
    *,
    batch_size: int = 50,
    max_epochs: float = 100,
    max_seconds: float = math.inf,
    init_scale: str | float = "fan_in",
    match_targets: bool = True,
    record: bool = True,
    on_epoch: Callable[[float, float], None] | None = None,
) -> RunRecord:
    """Train the network of ``sizes`` on ``ctx.data`` with one torch optimizer.

    Stops after ``max_epochs`` epochs or ``max_seconds`` seconds of training (measurement time not
    counted), whichever comes first, or as soon as the minibatch objective is not finite
    (status ``"diverged"``). With ``record`` the history holds a measurement at epoch 0, after epochs
    spaced by the factor :data:`RECORD_FACTOR` (every epoch for the first ten) and at the stop; without it only ``final`` is measured. ``on_epoch(epochs, seconds)`` is
    called after every epoch (progress bars).
    """
    import torch

    sizes = check_sizes(sizes)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {optimizer!r}")
    if lasso not in LASSO_MODES:
        raise ValueError(f"lasso must be one of {LASSO_MODES}; got {lasso!r}")
    lr = check_positive("lr", lr)
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    max_epochs, max_seconds = _check_budget(max_epochs, max_seconds)
    data = ctx.data
    if data.X.shape[0] != sizes[0] or data.Y.shape[0] != sizes[-1]:
        raise ValueError(
            f"sizes {sizes} do not match the data: X has {data.X.shape[0]} rows, Y {data.Y.shape[0]}"
        )
    name = method_name(optimizer, lasso)
    W0, b0 = initial_network(ctx, sizes, seed, init_scale, match_targets)
    W = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in W0]
    b = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in b0]
    Xr = torch.tensor(np.ascontiguousarray(data.X.T), dtype=torch.float64)
    Yr = torch.tensor(np.ascontiguousarray(data.Y.T), dtype=torch.float64)
    n = Xr.shape[0]
    bs = min(int(batch_size), n)
    steps_per_epoch = math.ceil(n / bs)
    opt = _make_optimizer(optimizer, [*W, *b], lr)
    gen = torch.Generator().manual_seed(int(seed))
    lam_in_loss = ctx.lambda_w if lasso == "subgradient" else 0.0
    history = empty_history()
    rec = RunRecord(name, "ok", lr=lr, history=history, info={"batch_size": bs})

    def snapshot(official: bool = False) -> dict:
        return measure(
            [w.detach().numpy().copy() for w in W],
            [c.detach().numpy().copy() for c in b],
            ctx,
            official=official,
        )

    if record:
        _append(history, 0.0, 0.0, snapshot())
    seconds = 0.0
    steps = 0
    stop = False
    next_record = 1.0
    while not stop:
        perm = torch.randperm(n, generator=gen)
        t0 = time.perf_counter()
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            opt.zero_grad(set_to_none=True)
            f = torch_objective(W, b, Xr[idx], Yr[idx], ctx.alpha, lam_in_loss)
            if not torch.isfinite(f):
                rec.status, rec.message = (
                    "diverged",
                    f"minibatch objective {float(f.detach())} at step {steps}",
                )
                stop = True
                break
            f.backward()
            opt.step()
            if lasso == "prox" and ctx.lambda_w > 0:
                t = _current_lr(optimizer, opt, lr) * ctx.lambda_w
                with torch.no_grad():
                    for Wl in W:
                        _soft_threshold_(Wl, t)
            steps += 1
            if (
                seconds + (time.perf_counter() - t0) >= max_seconds
                or steps >= max_epochs * steps_per_epoch
            ):
                stop = True
                break
        seconds += time.perf_counter() - t0
        epochs = steps / steps_per_epoch
        if rec.status == "diverged":
            break
        if record and (stop or epochs >= next_record):
            _append(history, seconds, epochs, snapshot(official=stop))
            next_record = max(epochs + 1, epochs * RECORD_FACTOR)
        if on_epoch is not None:
            on_epoch(epochs, seconds)
    rec.info.update({"seconds": seconds, "epochs": steps / steps_per_epoch, "steps": steps})
    if rec.status == "ok":
        rec.final = snapshot(official=True) if not record else {k: history[k][-1] for k in METRICS}
        if rec.final["train_err"] is None:
            rec.status, rec.message, rec.final = "diverged", "weights are not finite", None
    return rec


def search_lr(
    ctx: Context,
    sizes: Sequence[int],
    seed: int,
    optimizer: str,
    lasso: str,
    *,
    grid: Sequence[float] | None = None,
    epochs: float = 20,
    max_samples: int = 2000,
    batch_size: int = 50,
    init_scale: str | float = "fan_in",
    match_targets: bool = True,
    on_try: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    r"""The documented learning-rate search.

    Every ``lr`` of ``grid`` (default :data:`LR_GRIDS` ``[optimizer]``) trains for ``epochs`` epochs on
    the first ``max_samples`` training samples of a ``seed``-permutation (all of them when ``N`` is
    smaller), from the run's initialization; the chosen ``lr`` minimizes objective (1),
    :math:`\frac1{N_s}\sum_n \|\mathrm{net}(x_n)-y_n\|^2 + \lambda_w\mathcal R_1(w)`, on those samples
    at the end. Runs that diverge are excluded; ``{"lr": None, ...}`` when all of them do.
    Only training data is used.
    """
    grid = tuple(LR_GRIDS[optimizer] if grid is None else grid)
    if not grid:
        raise ValueError("grid must hold at least one learning rate")
    X, Y = ctx.data.X, ctx.data.Y
    n = X.shape[1]
    if n > max_samples:
        keep = np.sort(np.random.default_rng(seed).permutation(n)[:max_samples])
        X, Y = X[:, keep], Y[:, keep]
    from ..data import Dataset

    sub = Context(Dataset(X, Y, name=ctx.data.name + "-search"), ctx.alpha, ctx.lambda_w)
    tried: dict[str, float | None] = {}
    best: tuple[float, float] | None = None
    for lr in grid:
        with np.errstate(all="ignore"):  # a diverging rate may overflow: it is then excluded
            rec = train_baseline(
                sub,
                sizes,
                seed,
                optimizer,
                lasso,
                lr,
                batch_size=batch_size,
                max_epochs=epochs,
                init_scale=init_scale,
                match_targets=match_targets,
                record=False,
            )
        value = rec.final["objective"] if rec.status == "ok" and rec.final else None
        tried[repr(float(lr))] = value
        if value is not None and (best is None or value < best[1]):
            best = (float(lr), value)
        if on_try is not None:
            on_try(lr)
    return {
        "lr": None if best is None else best[0],
        # a rate at the edge of the grid says the grid should be widened: recorded, never hidden
        "at_grid_edge": best is not None and best[0] in (min(grid), max(grid)),
        "objective": None if best is None else best[1],
        "tried": tried,
        "epochs": epochs,
        "samples": int(X.shape[1]),
        "batch_size": batch_size,
    }


def objective_numpy(W: Sequence[np.ndarray], b: Sequence[np.ndarray], ctx: Context) -> float:
    """Objective (1) on the training data, by the numpy model (reference for the torch one)."""
    from ..model.network import mean_squared_error

    return mean_squared_error(W, b, ctx.data.X, ctx.data.Y, ctx.alpha) + group_lasso(
        W, ctx.lambda_w
    )
