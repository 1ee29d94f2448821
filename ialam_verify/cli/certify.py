"""``ialam-verify certify``: which stationarity notions hold at a trained result or any network.

Two inputs:

* ``ialam-verify certify RESULT``: a result written by ``ialam-verify train --output RESULT``
  (``RESULT.npz`` + ``RESULT.json``);
* ``ialam-verify certify WEIGHTS.npz --data DATA.npz --alpha A --lambda-w L``: a network stored as
  arrays ``W0, W1, ...`` (``N_l x N_{l-1}``) and ``b0, b1, ...``, and data ``X`` (``N_0 x N``), ``Y``
  (``N_L x N``): samples as columns.

``--require NOTION`` makes the exit code the answer: 0 holds, 4 fails, 5 undetermined
(:mod:`._exit_codes`); without it the exit code is 0 when the certifier ran. ``--json`` prints one
object with ``format_version``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from ._exit_codes import ExitCode

NOTIONS = ("KKT", "Clarke", "B", "W", "A", "C", "M", "S", "B_P")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "certify",
        help="certify the stationarity of a trained result or of a network on data",
        description=(
            "Certify (PP) at the point (KKT = limiting, Clarke, B) and (P) at the feasible lift of "
            "its weights (MPCC W/A/C/M/S, B_P). 'holds' comes with multipliers re-checked by numpy, "
            "'fails' with a proof (a direction), 'undetermined' says why and how close (epsilon)."
        ),
    )
    p.add_argument(
        "result",
        help="RESULT (stem of .npz/.json written by 'ialam-verify train --output'), or a WEIGHTS.npz "
        "(arrays W0, W1, ..., b0, b1, ...) together with --data",
    )
    p.add_argument("--data", default=None, metavar="DATA.npz", help="X, Y (samples as columns)")
    p.add_argument("--alpha", type=float, default=None, help="leaky-ReLU slope (with --data)")
    p.add_argument("--lambda-w", type=float, default=0.0, help="group-lasso weight (with --data)")
    p.add_argument("--lambda-v", type=float, default=0.0, help="ridge weight on v (with --data)")
    p.add_argument(
        "--beta", type=float, default=None, help="penalty beta (with --data; default: the solver's)"
    )
    p.add_argument(
        "--tol",
        type=float,
        default=1e-6,
        help="residual/sign tolerance, relative to the problem's scale (1e-6)",
    )
    p.add_argument(
        "--absolute", action="store_true", help="--tol is absolute instead of relative to the scale"
    )
    p.add_argument("--act-tol", type=float, default=1e-6, help="activity tolerance (1e-6)")
    p.add_argument(
        "--band",
        type=float,
        default=10.0,
        help="activity band factor: verdicts are re-decided at act_tol/band and act_tol*band",
    )
    p.add_argument(
        "--max-branches",
        type=int,
        default=64,
        help="largest number of disjunction branches enumerated (64)",
    )
    p.add_argument(
        "--method",
        choices=("auto", "structured", "generic"),
        default="auto",
        help="structured (backward pass), generic (full problem, small only), auto (default)",
    )
    p.add_argument(
        "--require",
        choices=NOTIONS,
        default=None,
        metavar="NOTION",
        help=f"exit 0 if NOTION holds, 4 if it fails, 5 if undetermined; one of {', '.join(NOTIONS)}",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--save", type=str, default=None, help="also write the JSON object to this file")
    p.add_argument(
        "--certificates",
        type=str,
        default=None,
        metavar="PREFIX",
        help="write the full certificates (with multipliers, general form) to PREFIX_PP.json and "
        "PREFIX_P.json; check them later with ialam_verify.stationarity.check (small sizes)",
    )
    p.set_defaults(run=run)


def report_text(d: dict) -> str:
    """The human-readable report of :meth:`CertifyReport.to_dict`: a header, one line per notion."""
    info, tol = d["info"], d["tolerances"]
    lines = [
        f"sizes {info['sizes']}, N = {info['n_samples']}, method {d['method']}; tol "
        f"{tol['tol']:g} ({'relative to the scale' if tol['scaled'] else 'absolute'}; scale (PP) "
        f"{tol['scale_PP']:.3g}, (P) {tol['scale_P']:.3g}), act_tol {tol['act_tol']:g}, band "
        f"x{tol['band']:g}"
    ]
    for key, title in (("PP", "(PP) at the point"), ("P", "(P) at the feasible lift")):
        c = d[key]
        lines.append(f"{title}: strongest {', '.join(c['strongest']) or 'none'}")
        names = ("KKT", "Clarke", "B") if key == "PP" else ("W", "A", "C", "M", "S", "B_P")
        for n in names:
            r = d["notions"][n]
            eps = "-" if r["epsilon"] is None else f"{r['epsilon']:.2g}"
            lines.append(f"  {n:7s} {r['outcome']:13s} eps {eps:>8s}  {r['reason']}")
        act = c["activity_sizes"]
        lines.append("  activity: " + ", ".join(f"{k} {v}" for k, v in act.items()))
        for note in c["notes"]:
            lines.append(f"  note: {note}")
    if d.get("PP_at_solver_xi"):
        s = d["PP_at_solver_xi"]
        mr = s["min_residual"]
        lines.append(
            f"(PP) with the solver's xi fixed: {s['verdict']}, smallest residual "
            f"{'-' if mr is None else f'{mr:.3g}'}"
        )
    lines.append(f"seconds {d['seconds']:.2f}")
    return "\n".join(lines)


def _load_npz(path: str, what: str) -> dict:
    import zipfile

    import numpy as np

    if not os.path.isfile(path):
        raise FileNotFoundError(f"{what} file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{what} file {path} is not a readable .npz: {exc}") from exc


def _network_from_files(args: argparse.Namespace):
    weights = _load_npz(args.result, "weights")
    data = _load_npz(args.data, "--data")
    L = 0
    while f"W{L}" in weights:
        L += 1
    if L == 0:
        raise ValueError(
            f"{args.result} holds no arrays W0, W1, ... (keys: {sorted(weights)}); a weights file "
            "stores W0, b0, W1, b1, ..."
        )
    missing = [f"b{l}" for l in range(L) if f"b{l}" not in weights]
    if missing:
        raise ValueError(f"{args.result} lacks the bias arrays {missing}")
    for k in ("X", "Y"):
        if k not in data:
            raise ValueError(f"--data {args.data} must hold arrays X and Y; keys: {sorted(data)}")
    if args.alpha is None:
        raise ValueError("--alpha is required with --data (the leaky-ReLU slope, in (0, 1))")
    W = [weights[f"W{l}"] for l in range(L)]
    b = [weights[f"b{l}"] for l in range(L)]
    return (W, b), data["X"], data["Y"]


def run(args: argparse.Namespace) -> int:
    if not (args.tol > 0 and args.act_tol > 0):
        raise ValueError("--tol and --act-tol must be > 0")
    if args.band < 1:
        raise ValueError(f"--band must be >= 1; got {args.band}")
    if args.max_branches < 1:
        raise ValueError(f"--max-branches must be >= 1; got {args.max_branches}")
    for flag, value in (("--save", args.save), ("--certificates", args.certificates)):
        if value is not None:
            folder = os.path.dirname(os.path.abspath(value))
            if not os.path.isdir(folder):
                raise ValueError(f"{flag}: folder {folder} does not exist")
    if args.data is None and (args.alpha is not None or args.beta is not None):
        raise ValueError("--alpha and --beta describe a network on --data; a saved result has its own")

    from ..io import atomic_write_json
    from ..stationarity import Tolerances, certify, certify_network

    tols = Tolerances(tol=args.tol, act_tol=args.act_tol, band=args.band, scaled=not args.absolute)
    tol_kw = dict(tolerances=tols, max_branches=args.max_branches)
    if args.data is not None:
        network, X, Y = _network_from_files(args)
        rep = certify_network(
            network, X, Y, alpha=args.alpha, lambda_w=args.lambda_w, lambda_v=args.lambda_v,
            beta=args.beta, method=args.method, tolerances=tols,
        )
    else:
        from ..solver import load_result

        if args.result.endswith(".npz") and not os.path.isfile(args.result[:-4] + ".json"):
            raise ValueError(
                f"{args.result} is not a result written by 'ialam-verify train' (no "
                f"{args.result[:-4]}.json beside it); to certify a weights file pass --data DATA.npz"
            )
        try:
            result = load_result(args.result)
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"{args.result} is not a result written by 'ialam-verify train': {exc}"
            ) from exc
        rep = certify(result, method=args.method, **tol_kw)
    d = rep.to_dict()
    d["result"] = str(args.result)
    if args.save is not None:
        atomic_write_json(args.save, d)
    if args.certificates is not None:
        lift = rep.problem.lift(rep.point.W, rep.point.b)
        for tag, cert, pt in (("PP", rep.pp, rep.point), ("P", rep.p, lift)):
            full = cert.to_generic(rep.problem, pt) if hasattr(cert, "to_generic") else cert
            full.save(f"{args.certificates}_{tag}.json")
    if args.json:
        print(json.dumps(d, sort_keys=True, allow_nan=False))
    else:
        print(report_text(d))
    sys.stdout.flush()
    if args.require is None:
        return int(ExitCode.SUCCESS)
    v = rep.verdict(args.require)
    if v.proved_true:
        return int(ExitCode.SUCCESS)
    if v.proved_false:
        return int(ExitCode.NOTION_FAILS)
    return int(ExitCode.NOTION_UNDETERMINED)
