"""``ialam-verify cases``: the exact cases, claim beside truth, errata marked."""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path
from typing import Any

STATUS = {True: "agrees", False: "ERRATUM ✗", None: ""}
WIDTHS = {"case": 24, "notion": 16, "claimed": 44, "true": 44, "status": 10}


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "cases",
        help="exact stationarity cases: claims of the sources beside the computed truth",
        description="Print one table, case by notion, the claim beside the exact truth, errata marked.",
    )
    p.add_argument("name", nargs="?", help="one case (default: all)")
    p.add_argument(
        "--explain", action="store_true", help="print the derivation step by step (needs NAME)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument(
        "--folder",
        default=None,
        help="folder of case files (default: the library shipped in ialam_verify/cases/library/)",
    )
    p.add_argument(
        "--plot",
        metavar="FILE.png",
        default=None,
        help="draw the case (needs NAME and matplotlib): f along directions, its sets, 0 marked",
    )
    p.add_argument(
        "--at",
        metavar="VALUE",
        default=None,
        help="exact value of the symbolic parameter for --plot (default: middle of its interval)",
    )
    p.set_defaults(run=run)


def _wrap(text: str, width: int) -> list[str]:
    lines = textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)
    return lines or [""]


def format_table(rows: list) -> str:
    """A fixed-width table; long cells wrap inside their column."""
    from ialam_verify.cases.case import LABELS

    cols = list(WIDTHS)
    head = " │ ".join(c.upper().ljust(WIDTHS[c]) for c in cols)
    out = [head, "─┼─".join("─" * WIDTHS[c] for c in cols)]
    last_case = None
    for r in rows:
        if last_case is not None and r.case != last_case:
            out.append("─┼─".join("─" * WIDTHS[c] for c in cols))
        cells = {
            "case": r.case if r.case != last_case else "",
            "notion": LABELS.get(r.notion, r.notion),
            "claimed": r.claimed,
            "true": r.computed,
            "status": STATUS[r.agrees] if r.claimed != "—" else "",
        }
        wrapped = {c: _wrap(cells[c], WIDTHS[c]) for c in cols}
        height = max(len(v) for v in wrapped.values())
        for i in range(height):
            out.append(
                " │ ".join(
                    (wrapped[c][i] if i < len(wrapped[c]) else "").ljust(WIDTHS[c]) for c in cols
                )
            )
        last_case = r.case
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from ialam_verify.cases import load_cases

    if args.plot is not None:
        if args.name is None:
            raise ValueError("--plot needs a case NAME")
        if not args.plot.lower().endswith(".png"):
            raise ValueError(f"--plot: FILE must end in .png; got {args.plot!r}")
        folder = Path(args.plot).resolve().parent
        if not folder.is_dir():
            raise ValueError(f"--plot: folder {str(folder)!r} does not exist")
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise ValueError(
                "--plot needs matplotlib: pip install 'ialam-verify[bench]' (or matplotlib)"
            ) from None
    elif args.at is not None:
        raise ValueError("--at is only used with --plot")
    cases = load_cases(args.folder)
    if args.name is not None and args.name not in cases:
        raise ValueError(f"unknown case {args.name!r}; known cases: {', '.join(sorted(cases))}")
    if args.explain and args.name is None:
        raise ValueError("--explain needs a case NAME")
    selected = [cases[args.name]] if args.name else [cases[k] for k in sorted(cases)]
    if args.plot is not None:
        from ialam_verify.cases.plot import plot_case

        path = plot_case(selected[0], args.plot, at=args.at)
        print(f"wrote {path}")
    if args.explain and not args.json:
        print(selected[0].explain())
        return 0
    if args.json:
        payload: dict[str, Any] = {"cases": [c.to_json() for c in selected]}
        if args.explain:
            payload["explanation"] = selected[0].explain()
        payload["errata"] = [
            {
                "case": r["case"],
                "notion": r["notion"],
                "claimed": r["claimed"],
                "computed": r["computed"],
            }
            for c in payload["cases"]
            for r in c["rows"]
            if r["erratum"]
        ]
        print(json.dumps(payload, indent=2, ensure_ascii=False))
        return 0
    rows = [r for c in selected for r in c.check()]
    print(format_table(rows))
    n_err = sum(r.erratum for r in rows)
    n_claims = sum(r.claimed != "—" for r in rows)
    print(
        f"\n{len(selected)} case(s), {n_claims} claim(s) checked, {n_err} erratum/errata (marked ✗)."
    )
    for c in selected:
        if getattr(c, "corrects", None):
            print(f"{c.name} is the corrected example for {c.corrects}.")
    return 0
