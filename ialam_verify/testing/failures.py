"""Keep the certificate of a failing example: one JSON file, written atomically.

:func:`save_certificate` is a plain function (no pytest needed); the assertions call it when given
``save_to=``. For pytest, :mod:`ialam_verify.testing.pytest_plugin` adds a fixture that writes the
certificates a test kept only when that test fails.
"""

from __future__ import annotations

import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write_json
from ..verdict import Verdict

FORMAT = "ialam-verify failing certificate v1"


def _json_safe(obj: Any) -> Any:
    """Plain JSON: arrays as lists, numpy scalars as Python numbers, infinities and NaN as strings."""
    if isinstance(obj, Verdict):
        return obj.to_dict()
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return _json_safe(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)


def _full(cert: Any) -> Any:
    """A certificate with its witnesses: ``to_dict()`` where it exists, else its dataclass fields."""
    if hasattr(cert, "to_dict"):
        return cert.to_dict()
    if dataclasses.is_dataclass(cert):
        return dataclasses.asdict(cert)
    return str(cert)


def certificate_dict(certificate: Any) -> dict[str, Any]:
    """The full content of a ``Certificate`` or a ``CertifyReport`` (both certificates in full)."""
    if hasattr(certificate, "pp") and hasattr(certificate, "p"):
        out = dict(certificate.to_dict())
        out["PP_certificate"] = _full(certificate.pp)
        out["P_certificate"] = _full(certificate.p)
        return out
    if hasattr(certificate, "to_dict"):
        return certificate.to_dict()
    raise ValueError(f"not a certificate: {type(certificate).__name__} has no to_dict()")


def save_certificate(
    certificate: Any,
    path: str | os.PathLike[str],
    *,
    notion: str | None = None,
    verdict: Verdict | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``certificate`` (with the notion and verdict that failed, and ``extra`` data such as the
    example's inputs) to ``path`` as JSON, atomically (:func:`ialam_verify.io.atomic_write_json`).
    A ``path`` that is an existing folder gets ``certificate.json`` inside it. Returns the file."""
    target = Path(path)
    if target.is_dir():
        target = target / "certificate.json"
    doc = {
        "format": FORMAT,
        "notion": notion,
        "verdict": None if verdict is None else verdict.to_dict(),
        "certificate": certificate_dict(certificate),
        "extra": extra or {},
    }
    return atomic_write_json(target, _json_safe(doc))
