"""Save and load a trained result: an ``.npz`` of arrays beside a ``.json`` summary, both written atomically.

``save_result(result, "run")`` writes ``run.npz`` (weights, biases, lifted variables, multipliers, the
refinement's multipliers, the training data and the histories) and ``run.json`` (metrics, settings,
status, the pipeline's stages and verdict, the problem's parameters); ``load_result("run")`` (or
``"run.npz"`` / ``"run.json"``) rebuilds an :class:`IALAMResult`.

Two hashes bind the pair: ``npz_sha256`` (the ``.npz`` bytes: a crash between the two renames leaves a
``.json`` whose hash does not match) and ``content_sha256`` (the ``.npz`` bytes *and* the ``.json``'s
content without the hashes: a ``.json`` edited by hand, say ``alpha`` changed, would otherwise be read
as a different problem). ``load_result`` refuses either mismatch with a message saying which.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write, atomic_write_json
from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from .ialam import IALAMResult
from .status import Status

FORMAT_VERSION = 2

#: the talk's metrics, as keys of the summary and of ``IALAMResult.metrics``
METRIC_KEYS = (
    "train_err",
    "test_err",
    "feas_vi",
    "column_sparse_ratio",
    "accuracy",
    "test_accuracy",
)


def _stem(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix in (".npz", ".json") else p


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, float)):
        return float(x) if np.isfinite(x) else str(x)
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    return x


_NONFINITE = {"inf": float("inf"), "-inf": float("-inf"), "nan": float("nan")}


def _from_jsonable(x: Any) -> Any:
    """Inverse of :func:`_jsonable` for the non-finite floats that JSON cannot hold."""
    if isinstance(x, dict):
        return {k: _from_jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_from_jsonable(v) for v in x]
    if isinstance(x, str) and x in _NONFINITE:
        return _NONFINITE[x]
    return x


def summary(result: IALAMResult) -> dict[str, Any]:
    """The JSON summary of a result (what ``ialam-verify train --json`` prints)."""
    m = result.metrics
    return _jsonable(
        {
            "format_version": FORMAT_VERSION,
            "train_err": m.get("train_err"),
            "test_err": m.get("test_err"),
            "feas_vi": m.get("feas_vi"),
            "column_sparse_ratio": m.get("column_sparse_ratio"),
            "accuracy": m.get("accuracy"),
            "test_accuracy": m.get("test_accuracy"),
            "residual": m.get("residual"),
            "outer_iterations": result.nit,
            "inner_iterations": result.nit_inner,
            "seconds": result.seconds,
            "success": result.success,
            "status": result.status,
            "message": result.message,
            "rho": result.rho,
            "problem": {
                "sizes": list(result.problem.sizes),
                "n_samples": result.problem.n_samples,
                "alpha": result.problem.alpha,
                "lambda_w": result.problem.lambda_w,
                "lambda_v": result.problem.lambda_v,
                "beta": list(result.problem.beta),
                "relu_bias_bound": result.problem.relu_bias_bound,
            },
            "settings": result.settings,
            "best_iteration": result.best_iteration,
            "stages": result.stages,
            "verdict": _verdict_to_json(result.verdict),
        }
    )


def _verdict_to_json(v: Verdict | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {
        "outcome": str(v.outcome),
        "reason": v.reason,
        "residual": v.residual,
        "epsilon": v.epsilon,
    }


def _verdict_from_json(d: Any) -> Verdict | None:
    if d is None:
        return None
    return Verdict(d["outcome"], d.get("reason", ""), d.get("residual"), d.get("epsilon"))


def _content_hash(npz_bytes: bytes, meta: dict[str, Any]) -> str:
    """sha256 of the ``.npz`` bytes followed by the canonical JSON of ``meta`` without its hashes."""
    body = {k: v for k, v in meta.items() if k not in ("npz_sha256", "content_sha256")}
    text = json.dumps(body, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(npz_bytes + text.encode("utf-8")).hexdigest()


def save_result(result: IALAMResult, path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``<stem>.npz`` and ``<stem>.json`` atomically; return both paths."""
    stem = _stem(path)
    arrays: dict[str, np.ndarray] = {"X": result.problem.X, "Y": result.problem.Y}
    for name, blocks in (
        ("W", result.point.W),
        ("b", result.point.b),
        ("V", result.point.V),
        ("U", result.point.U),
        ("Xi", result.xi),
    ):
        for i, a in enumerate(blocks):
            arrays[f"{name}_{i}"] = np.asarray(a)
    for key, values in result.history.items():
        arrays[f"history_{key}"] = np.asarray(values, dtype=float)
    for name, blocks in (result.multipliers or {}).items():
        if isinstance(blocks, (list, tuple)):
            for i, a in enumerate(blocks):
                arrays[f"multiplier_{name}_{i}"] = np.asarray(a, dtype=float)

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    payload = buf.getvalue()
    meta = summary(result)
    # the pair is bound by the hash: a crash between the two renames leaves a .json whose hash does
    # not match the .npz, and load_result refuses the mixture instead of returning it
    meta["npz_sha256"] = hashlib.sha256(payload).hexdigest()
    meta["content_sha256"] = _content_hash(payload, meta)
    npz = atomic_write(stem.with_suffix(".npz"), lambda fh: fh.write(payload))
    js = atomic_write_json(stem.with_suffix(".json"), meta)
    return npz, js


def load_result(path: str | os.PathLike[str]) -> IALAMResult:
    """Read a result written by :func:`save_result`."""
    stem = _stem(path)
    npz_path, json_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
    for p in (npz_path, json_path):
        if not p.is_file():
            raise FileNotFoundError(
                f"result file {p} does not exist (save_result writes .npz and .json)"
            )
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
        payload = npz_path.read_bytes()
        digest = hashlib.sha256(payload).hexdigest()
        with np.load(npz_path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValueError(f"result {stem} is not readable: {exc}") from exc
    if isinstance(meta, dict) and meta.get("npz_sha256") != digest:
        raise ValueError(
            f"result {stem}: {npz_path.name} and {json_path.name} do not belong together (the .npz "
            "hash differs from the one the .json records; an interrupted save?)"
        )
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        version = meta.get("format_version") if isinstance(meta, dict) else None
        raise ValueError(
            f"result {json_path} has format_version {version!r}; "
            f"this version reads {FORMAT_VERSION}"
        )
    if meta.get("content_sha256") != _content_hash(payload, meta):
        raise ValueError(
            f"result {stem}: {json_path.name} was changed after it was saved (its content no longer "
            "matches the recorded hash; e.g. alpha or lambda_w edited by hand). Refusing to read it "
            "as a different problem: train again, or restore the file as written."
        )
    try:
        pm = meta["problem"]
        L = len(pm["sizes"]) - 1
        problem = Problem.create(
            arrays["X"],
            arrays["Y"],
            pm["sizes"],
            pm["alpha"],
            pm["lambda_w"],
            pm["lambda_v"],
            pm["beta"],
            pm["relu_bias_bound"],
        )
        blocks = {
            name: [arrays[f"{name}_{i}"] for i in range(L)] for name in ("W", "b", "V", "U", "Xi")
        }
        fields_ = {
            k: meta[k]
            for k in (
                "rho",
                "success",
                "status",
                "message",
                "outer_iterations",
                "inner_iterations",
                "seconds",
            )
        }
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"result {stem} lacks a field save_result writes: {exc!r}") from exc
    point = LiftedPoint(blocks["W"], blocks["b"], blocks["V"], blocks["U"])
    problem.check_point(point)
    history = {k[len("history_") :]: arrays[k].tolist() for k in arrays if k.startswith("history_")}
    metrics = {k: meta.get(k) for k in (*METRIC_KEYS, "residual")}
    multipliers: dict[str, list[np.ndarray]] = {}
    for key in sorted(k for k in arrays if k.startswith("multiplier_")):
        name, _, idx = key[len("multiplier_") :].rpartition("_")
        multipliers.setdefault(name, []).append((int(idx), arrays[key]))  # type: ignore[arg-type]
    multipliers = {n: [a for _, a in sorted(v)] for n, v in multipliers.items()}  # type: ignore[misc]
    return IALAMResult(
        W=[a.copy() for a in point.W],
        b=[a.copy() for a in point.b],
        point=point,
        xi=blocks["Xi"],
        rho=float(fields_["rho"]),
        success=bool(fields_["success"]),
        status=Status(int(fields_["status"])),
        message=str(fields_["message"]),
        nit=int(fields_["outer_iterations"]),
        nit_inner=int(fields_["inner_iterations"]),
        seconds=float(fields_["seconds"]),
        history=history,
        metrics=metrics,
        settings=_from_jsonable(meta.get("settings", {})),
        problem=problem,
        best_iteration=int(meta.get("best_iteration", 0)),
        stages=_from_jsonable(meta.get("stages", [])),
        verdict=_verdict_from_json(meta.get("verdict")),
        multipliers=multipliers or None,
    )
