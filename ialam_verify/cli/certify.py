"""``ialam-verify certify RESULT``: which stationarity notions hold at a trained result."""

from __future__ import annotations

import argparse
import json
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "certify",
        help="certify the stationarity of a trained result (small instances)",
        description=(
            "Classify the result's point: (PP) KKT (= limiting), Clarke and B-stationarity at the "
            "point; (P) MPCC W/A/C/M/S and B at the feasible lift of its weights; and the smallest "
            "(PP) residual with the solver's own xi. Each 'holds' comes with multipliers checked "
            "by numpy; 'undetermined' says why."
        ),
    )
    p.add_argument("result", help="RESULT.npz/.json written by 'ialam-verify train --output'")
    p.add_argument("--tol", type=float, default=1e-6, help="residual/sign tolerance (1e-6)")
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
        help="largest number of disjunction branches enumerated before the MILP (64)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--save", type=str, default=None, help="also write the JSON object to this file")
    p.add_argument(
        "--certificates",
        type=str,
        default=None,
        metavar="PREFIX",
        help="write the full certificates (with multipliers) to PREFIX_PP.json and PREFIX_P.json; "
        "check them later with ialam_verify.stationarity.check",
    )
    p.set_defaults(run=run)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def report_text(d: dict) -> str:
    """The human-readable report of :meth:`CertifyReport.to_dict`."""
    lines = []
    info = d["info"]
    tol = d["tolerances"]
    lines.append(
        f"sizes {info['sizes']}, N = {info['n_samples']}, variables {info['n_variables']}; "
        f"tol {tol['tol']:g}, act_tol {tol['act_tol']:g}, band x{tol['band']:g}"
    )
    for key, title in (("PP", "(PP) at the point"), ("P", "(P) at the feasible lift")):
        c = d[key]
        lines.append(f"{title}: strongest {', '.join(c['strongest']) or 'none'}")
        for notion, verdict in c["verdicts"].items():
            r = c["residuals"][notion]
            lines.append(
                f"  {notion:7s} {verdict:13s} min residual {_fmt(r['min_residual']):>9s}  "
                f"{c['reasons'][notion]}"
            )
        act = c["activity_sizes"]
        lines.append(
            "  activity: " + ", ".join(f"{k} {v}" for k, v in act.items() if k != "activity_tol")
        )
        for note in c["notes"]:
            lines.append(f"  note: {note}")
    if d.get("PP_at_solver_xi"):
        s = d["PP_at_solver_xi"]
        lines.append(
            f"(PP) with the solver's xi fixed: {s['verdict']}, smallest residual "
            f"{_fmt(s['min_residual'])}"
        )
    lines.append(f"seconds {d['seconds']:.2f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import os

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

    from ..io import atomic_write_json
    from ..solver import load_result
    from ..stationarity import certify

    result = load_result(args.result)
    rep = certify(
        result,
        tol=args.tol,
        act_tol=args.act_tol,
        band=args.band,
        max_branches=args.max_branches,
    )
    d = rep.to_dict()
    d["result"] = str(args.result)
    if args.save is not None:
        atomic_write_json(args.save, d)
    if args.certificates is not None:
        rep.pp.save(f"{args.certificates}_PP.json")
        rep.p.save(f"{args.certificates}_P.json")
    if args.json:
        print(json.dumps(d, sort_keys=True, allow_nan=False))
    else:
        print(report_text(d))
    sys.stdout.flush()
    return 0
