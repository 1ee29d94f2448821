r"""Assertions on stationarity, in the manner of ``numpy.testing``.

>>> from ialam_verify.testing import assert_stationary
>>> assert_stationary(problem, point, notion="KKT")          # (PP) at a lifted point
>>> assert_stationary((weights, biases), (X, Y), notion="KKT", alpha=0.25, lambda_w=1e-3)
>>> assert_stationary(mpcc, notion="M")                       # MPCC first-order data

Each assertion runs the certifier, re-checks the witness multipliers with
:func:`ialam_verify.stationarity.check` (the certificate is trusted only after that), and raises
``AssertionError`` whose message shows the notion, the verdict and its reason, the residual, the
tolerance at which the notion could hold (epsilon), the worst violated condition, and the verdicts
of the other notions. Only a *proved* outcome passes: ``assert_stationary`` needs "holds",
``assert_not_stationary`` needs "fails" (an "undetermined" verdict passes neither).

Notions: ``KKT``, ``Clarke``, ``B`` of (PP) and ``W``, ``A``, ``C``, ``M``, ``S``, ``B_P`` of (P) for
networks and lifted points; ``W``, ``A``, ``C``, ``M``, ``S``, ``B`` (MPCC) or ``KKT``, ``Clarke``,
``B`` (NLP) for :class:`~ialam_verify.stationarity.MPCC` data.

Everything that touches the certifiers' API goes through :func:`_certify` and :func:`_notion_view`
(one place to adapt when that API changes).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import stationarity as _st
from ..model.problem import LiftedPoint, Problem
from ..verdict import Verdict
from ._diagnose import worst_equation
from .failures import save_certificate

PP_NOTIONS = ("KKT", "Clarke", "B")
P_NOTIONS = ("W", "A", "C", "M", "S", "B_P")
NETWORK_OPTIONS = frozenset({"alpha", "lambda_w", "lambda_v", "beta", "samples", "method"})
"""Keyword options of the network form of the assertions (those of ``certify_network``)."""
_RELAXATION = {"S": "W", "M": "W", "A": "W", "C": "W", "KKT": "Clarke"}


# --------------------------------------------------------------------------------- adapter
@dataclass(frozen=True)
class NotionView:
    """What an assertion reports about one notion of one certificate."""

    notion: str
    verdict: Verdict
    residual: float | None
    epsilon: float | None
    worst: str
    others: dict[str, str]
    recheck: str  # "" when the witness re-check passed (or there is nothing to re-check)
    tolerance: str = ""  # how tol and epsilon are measured (absolute, or relative to a scale)


def _as_verdict(res: Any) -> Verdict:
    v = res.verdict
    if isinstance(v, Verdict):
        return v
    residual = res.witness_residual if v == "holds" else res.min_residual
    if residual is not None and not math.isfinite(residual):
        residual = None if math.isnan(residual) else residual
    return Verdict(str(v), res.reason or "", residual, getattr(res, "epsilon", None))


def _call(fn: Any, *args: Any, tol: float | None, tolerances: Any, **kw: Any) -> Any:
    """Call a certifier with the caller's tolerance, whichever keyword it takes today."""
    params = inspect.signature(fn).parameters
    if tolerances is not None:
        if "tolerances" not in params:
            raise ValueError(f"{fn.__name__} takes no 'tolerances' argument; pass tol= instead")
        kw["tolerances"] = tolerances
    elif tol is not None:
        if "tol" in params:
            kw["tol"] = tol
        else:  # certifiers that take only Tolerances: tol as Tolerances() reads it (scaled)
            kw["tolerances"] = _st.Tolerances(tol=tol)  # type: ignore[attr-defined]
    return fn(*args, **kw)


def _network_lists(network: Any) -> tuple[list[np.ndarray], list[np.ndarray], float | None]:
    """``(weights, biases)`` lists, or a torch ``nn.Sequential`` of Linear + LeakyReLU (its slope)."""
    if isinstance(network, tuple | list) and len(network) == 2:
        W, b = network
        return [np.asarray(a, float) for a in W], [np.asarray(a, float) for a in b], None
    try:
        import torch.nn as nn
    except ImportError:  # pragma: no cover
        nn = None
    if nn is not None and isinstance(network, nn.Sequential):
        W, b, slopes = [], [], set()
        for m in network:
            if isinstance(m, nn.Linear):
                W.append(m.weight.detach().double().numpy().copy())
                bias = m.bias
                b.append(
                    np.zeros(m.out_features)
                    if bias is None
                    else bias.detach().double().numpy().copy()
                )
            elif isinstance(m, nn.LeakyReLU):
                slopes.add(float(m.negative_slope))
            else:
                raise ValueError(
                    f"network: only Linear and LeakyReLU layers are supported; got {type(m).__name__}"
                )
        if len(slopes) > 1:
            raise ValueError(f"network: all LeakyReLU layers must share one slope; got {slopes}")
        return W, b, slopes.pop() if slopes else None
    raise ValueError(
        "network must be (weights, biases) lists of arrays or a torch nn.Sequential of Linear + "
        f"LeakyReLU; got {type(network).__name__}"
    )


def _is_network(obj: Any) -> bool:
    if isinstance(obj, tuple | list) and len(obj) == 2:
        return all(isinstance(part, list | tuple) for part in obj)
    return type(obj).__name__ == "Sequential" and hasattr(obj, "parameters")


def _certify(
    target: Any,
    point: Any,
    *,
    tol: float | None,
    tolerances: Any,
    network_options: dict[str, Any],
) -> tuple[Any, Any]:
    """Run the right certifier. Returns ``(certificate, mpcc_or_None)``.

    - :class:`~ialam_verify.stationarity.MPCC` -> :func:`~ialam_verify.stationarity.classify`;
    - ``Problem`` + ``LiftedPoint``, or a result with ``.problem`` and ``.point`` ->
      :func:`~ialam_verify.stationarity.certify`;
    - a network + ``(X, Y)`` -> ``certify_network`` when it exists, else the problem built from the
      data and the feasible lift of the weights through ``certify``.
    """
    if isinstance(target, _st.MPCC):
        if point is not None:
            raise ValueError("an MPCC carries its point: call assert_stationary(mpcc, notion=...)")
        return _call(_st.classify, target, tol=tol, tolerances=tolerances), target
    if isinstance(target, Problem):
        if not isinstance(point, LiftedPoint):
            raise ValueError(f"point must be a LiftedPoint; got {type(point).__name__}")
        return _call(_st.certify, target, point, tol=tol, tolerances=tolerances), None
    if point is None and hasattr(target, "problem") and hasattr(target, "point"):
        return _call(_st.certify, target, tol=tol, tolerances=tolerances), None
    # a network and its data
    if not _is_network(target):
        raise ValueError(
            "problem_or_network must be an MPCC, a Problem (with a LiftedPoint), a result with "
            ".problem and .point, or a network: (weights, biases) lists of arrays or a torch "
            f"nn.Sequential; got {type(target).__name__}"
        )
    if not (isinstance(point, tuple | list) and len(point) == 2):
        raise ValueError("for a network, point must be the data (X, Y), samples as columns")
    X, Y = (np.asarray(a, float) for a in point)
    opts = dict(network_options)
    unknown = sorted(set(opts) - NETWORK_OPTIONS)
    if unknown:
        raise ValueError(f"unknown network options: {unknown}; known: {sorted(NETWORK_OPTIONS)}")
    if opts.get("alpha") is None:  # a torch model carries its slope
        opts["alpha"] = _network_lists(target)[2]
        if opts["alpha"] is None:
            raise ValueError("alpha is required for a (weights, biases) network")
    opts.setdefault("lambda_w", 0.0)
    return _call(_st.certify_network, target, X, Y, tol=tol, tolerances=tolerances, **opts), None


def _results(cert: Any, notion: str) -> tuple[Any, Any, str]:
    """``(Certificate, NotionResult, name inside it)`` of ``notion`` in a Certificate or a report."""
    if hasattr(cert, "pp") and hasattr(cert, "p"):  # CertifyReport
        if notion in PP_NOTIONS:
            sub, name = cert.pp, notion
        elif notion in P_NOTIONS:
            sub, name = cert.p, "B" if notion == "B_P" else notion
        else:
            raise ValueError(f"notion must be one of {PP_NOTIONS + P_NOTIONS}; got {notion!r}")
    elif hasattr(cert, "results"):
        sub, name = cert, notion
        if name not in sub.results:
            raise ValueError(f"notion must be one of {sorted(sub.results)}; got {notion!r}")
    else:
        raise ValueError(f"not a certificate: {type(cert).__name__}")
    return sub, sub.results[name], name


def _mpcc_of(cert: Any, notion: str, mpcc: Any) -> Any:
    """The MPCC data a notion of ``cert`` was decided on (for re-checks), or ``None``."""
    if mpcc is not None:
        return mpcc
    problem, point = getattr(cert, "problem", None), getattr(cert, "point", None)
    if problem is None or point is None:
        return None
    if notion in PP_NOTIONS:
        return _st.pp_problem(problem, point)
    return _st.p_problem(problem, problem.lift(point.W, point.b))


def _worst_condition(sub: Any, res: Any, name: str, prob: Any, lifted_problem: Any) -> str:
    """The largest violated condition: for a notion that fails while its relaxation holds, the
    relaxation's witness's largest violated membership rule of ``notion``."""
    from ..stationarity.kernel import Activity, multiplier_violation

    verdict = _as_verdict(res)
    if verdict.outcome.value == "holds":
        return "none (a witness satisfies every condition)"
    relax = _RELAXATION.get(name)
    wit = None
    if relax and relax in sub.results and str(sub.results[relax].verdict) == "holds":
        wit = sub.results[relax].witness
    viol = None
    if wit is not None and prob is not None:
        mode = "clarke" if name == "Clarke" else ("limiting" if name == "KKT" else sub.nonsmooth)
        try:
            viol = multiplier_violation(prob, Activity.at(prob, sub.act_tol), wit, name, mode)
        except (TypeError, KeyError, ValueError, AttributeError):
            viol = None  # a structured (layer-by-layer) witness: not in the generic layout
    if viol:
        rule, size = max(viol.items(), key=lambda kv: kv[1])
        return (
            f"{rule} = {size:.3g} for the {relax} witness (the residual is fine; "
            f"{name}'s membership rule '{rule}' is what it breaks)"
        )
    if prob is not None:
        return "stationarity, worst at " + worst_equation(prob, sub.act_tol, lifted_problem)
    if res.min_residual is not None:
        return (
            f"stationarity: no multiplier of {name} brings ||grad L||_inf below "
            f"{res.min_residual:.3g}"
        )
    return "not available from this certificate"


def _call_check(sub: Any, prob: Any, tols: Any) -> Any:
    if tols is not None and "tolerances" in inspect.signature(_st.check).parameters:
        return _st.check(sub, prob, tolerances=tols)
    return _st.check(sub, prob)


def _notion_view(cert: Any, notion: str, mpcc: Any = None, tolerances: Any = None) -> NotionView:
    """Read one notion out of a certificate (Certificate, CertifyReport, or the new API's report)."""
    sub, res, name = _results(cert, notion)
    verdict = _as_verdict(res)
    if hasattr(cert, "verdict") and callable(cert.verdict):  # a CertifyReport: report.verdict(notion)
        verdict = cert.verdict(notion)
    prob = _mpcc_of(cert, notion, mpcc)
    recheck = ""
    # the re-check uses the caller's tolerances (by default those the certificate was made with)
    tols = tolerances if tolerances is not None else getattr(sub, "tolerances", None)
    if verdict.outcome.value == "holds" and callable(getattr(cert, "check", None)):
        rep = cert.check(tols)  # a report re-checks itself (layer by layer when structured)
    elif verdict.outcome.value == "holds" and prob is not None:
        rep = _call_check(sub, prob, tols)
    else:
        rep = None
    if rep is not None:
        if not rep["accepted"]:
            detail = rep["per_notion"].get(name) if isinstance(rep["per_notion"], dict) else None
            msgs = "; ".join(getattr(rep, "messages", None) or [])
            recheck = f"the witness did not pass check(): {detail}" + (f" ({msgs})" if msgs else "")
    residual = verdict.residual
    eps = verdict.epsilon
    if eps is None:
        eps = getattr(res, "epsilon", None)
    if eps is None and res.min_residual is not None and math.isfinite(res.min_residual):
        # older certificates carry no epsilon: the smallest residual, on the scale of tol
        scaled = getattr(getattr(sub, "tolerances", None), "scaled", False)
        eps = float(res.min_residual) / (float(getattr(sub, "scale", 1.0)) if scaled else 1.0)
    if hasattr(cert, "pp") and hasattr(cert, "p"):
        names = [n for n in PP_NOTIONS + P_NOTIONS if n != notion]
    else:
        names = [n for n in sub.results if n != name]
    others = {n: str(_as_verdict(_results(cert, n)[1])) for n in names}
    tols = getattr(sub, "tolerances", None)
    scale = float(getattr(sub, "scale", 1.0))
    if tols is not None and getattr(tols, "scaled", False):
        tolerance = f"tol = {tols.tol:.3g} relative to the problem scale {scale:.3g}"
    else:
        tolerance = f"tol = {sub.tol:.3g} absolute"
    return NotionView(
        notion,
        verdict,
        residual,
        eps,
        _worst_condition(sub, res, name, prob, getattr(cert, "problem", None)),
        others,
        recheck,
        tolerance,
    )


# ------------------------------------------------------------------------------ messages
def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def _message(
    view: NotionView, expected: str, tol: float | None, err_msg: str, saved: Path | None
) -> str:
    v = view.verdict
    lines = [
        f"Stationarity assertion failed: expected {view.notion} to {expected}.",
        f" notion:   {view.notion}",
        f" verdict:  {v.outcome.value} -- {v.reason or '(no reason given)'}",
        f" residual: {_fmt(view.residual)}  (absolute ||grad L||_inf at the best multiplier found)",
        f" epsilon:  {_fmt(view.epsilon)}  ({view.notion} holds for tol >= epsilon, as far as the "
        f"search established; {view.tolerance})",
        f" worst violated condition: {view.worst}",
    ]
    if view.recheck:
        lines.append(f" re-check: {view.recheck}")
    if view.others:
        lines.append(" other notions: " + ", ".join(f"{k} {s}" for k, s in view.others.items()))
    if saved is not None:
        lines.append(f" certificate saved to {saved}")
    if err_msg:
        lines.append(" " + err_msg)
    return "\n".join(lines)


def _fail(
    view: NotionView, cert: Any, expected: str, tol: float | None, err_msg: str, save_to: Any
) -> None:
    saved = None
    if save_to is not None:
        saved = save_certificate(cert, save_to, notion=view.notion, verdict=view.verdict)
    raise AssertionError(_message(view, expected, tol, err_msg, saved))


# ----------------------------------------------------------------------------- public API
def assert_certified(
    certificate: Any,
    notion: str,
    *,
    problem: Any = None,
    tol: float | None = None,
    tolerances: Any = None,
    err_msg: str = "",
    save_to: str | Path | None = None,
) -> NotionView:
    """Assert that ``certificate`` proves ``notion`` holds (verdict "holds" and a witness that
    passes :func:`~ialam_verify.stationarity.check` again).

    Parameters
    ----------
    certificate : Certificate or CertifyReport
        From :func:`~ialam_verify.stationarity.classify` or :func:`~ialam_verify.stationarity.certify`.
    notion : str
        See the module docstring.
    problem : MPCC, optional
        The data a bare ``Certificate`` was computed on, so the witness can be re-checked (a
        ``CertifyReport`` carries its own).
    tol, tolerances : optional
        The tolerances of the re-check (a ``Tolerances``, or ``tol`` for one with that residual
        tolerance); default: those the certificate was made with.
    err_msg : str
        Appended to the failure message.
    save_to : path, optional
        Where to write the certificate (atomically, JSON) when the assertion fails.

    Returns
    -------
    NotionView
        The verdict, residual, epsilon and the other notions' verdicts.
    """
    if tolerances is None and tol is not None:
        tolerances = _st.Tolerances(tol=tol)
    view = _notion_view(certificate, notion, problem, tolerances)
    if view.verdict.outcome.value != "holds" or view.recheck:
        _fail(view, certificate, "hold", getattr(certificate, "tol", None), err_msg, save_to)
    return view


def _check_notion(notion: Any) -> str:
    if not isinstance(notion, str):
        raise ValueError(f"notion must be a str such as 'KKT' or 'M'; got {notion!r}")
    return notion


def assert_stationary(
    problem_or_network: Any,
    point: Any = None,
    notion: str = "KKT",
    *,
    tol: float | None = None,
    tolerances: Any = None,
    err_msg: str = "",
    save_to: str | Path | None = None,
    **network_options: Any,
) -> Any:
    """Certify and assert that ``notion`` holds; return the certificate.

    Parameters
    ----------
    problem_or_network : MPCC, Problem, result, (weights, biases) or torch nn.Sequential
        What to certify: MPCC first-order data (``point`` must be ``None``); a (PP) ``Problem`` with a
        ``LiftedPoint``; a solver result with ``.problem`` and ``.point``; or a network with its data
        ``point = (X, Y)`` and the options ``alpha``, ``lambda_w``, ``lambda_v``, ``beta``.
    point : LiftedPoint, (X, Y) or None
    notion : str
        ``"KKT"`` (default), ``"Clarke"``, ``"B"`` of (PP); ``"W"``, ``"A"``, ``"C"``, ``"M"``,
        ``"S"``, ``"B_P"`` of (P) (for MPCC data: ``"B"``).
    tol, tolerances
        The caller's tolerance (absolute residual ``tol``), or a ``Tolerances`` object where the
        certifier takes one; default: the certifier's.
    err_msg : str
        Appended to the failure message.
    save_to : path, optional
        Where to write the certificate (atomically, JSON) when the assertion fails.

    Raises
    ------
    AssertionError
        Unless ``notion`` is proved to hold and its witness passes the re-check; the message shows
        the notion, the verdict, the residual, the epsilon at which it could hold and the worst
        violated condition.
    """
    notion = _check_notion(notion)
    cert, mpcc = _certify(
        problem_or_network, point, tol=tol, tolerances=tolerances, network_options=network_options
    )
    view = _notion_view(cert, notion, mpcc)
    if view.verdict.outcome.value != "holds" or view.recheck:
        _fail(view, cert, "hold", tol, err_msg, save_to)
    return cert


def assert_not_stationary(
    problem_or_network: Any,
    point: Any = None,
    notion: str = "KKT",
    *,
    tol: float | None = None,
    tolerances: Any = None,
    err_msg: str = "",
    save_to: str | Path | None = None,
    **network_options: Any,
) -> Any:
    """Certify and assert that ``notion`` is *proved* to fail; return the certificate.

    Same arguments as :func:`assert_stationary`. "undetermined" and "inconclusive" do not pass:
    a failure must come with a proof (a residual bounded away from ``tol`` over the whole multiplier
    set, or a descent direction for B).
    """
    notion = _check_notion(notion)
    cert, mpcc = _certify(
        problem_or_network, point, tol=tol, tolerances=tolerances, network_options=network_options
    )
    view = _notion_view(cert, notion, mpcc)
    if view.verdict.outcome.value != "fails":
        _fail(view, cert, "fail (proved)", tol, err_msg, save_to)
    return cert


def verdicts_of(certificate: Any, notions: Sequence[str] | None = None) -> dict[str, Verdict]:
    """``notion -> Verdict`` for a Certificate or a CertifyReport (all notions by default)."""
    if notions is None:
        if hasattr(certificate, "pp") and hasattr(certificate, "p"):
            notions = list(PP_NOTIONS + P_NOTIONS)
        else:
            notions = list(certificate.results)
    if callable(getattr(certificate, "verdict", None)):  # a report reads its own verdicts
        return {n: certificate.verdict(n) for n in notions}
    return {n: _as_verdict(_results(certificate, n)[1]) for n in notions}
