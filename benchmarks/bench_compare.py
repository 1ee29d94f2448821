"""The talk's comparison settings, one after the other: ``python benchmarks/bench_compare.py OUT_DIR``.

Each setting runs ``ialam-verify compare`` with every method (IALAM and the 12 baselines) and writes
``OUT_DIR/<setting>.json``, ``OUT_DIR/<setting>.md`` (the tables) and PNG plots in ``OUT_DIR/plots``.
Settings (``--only`` picks some):

- ``synthetic-L2``, ``synthetic-L3``, ``synthetic-L4``: the talk's panels (a)-(c), N = 500,
  10 s per method, learning-rate search 100 epochs per rate;
- ``mnist-1000``: N = 1000, widths 100, 50, 60 s per method, search 30 epochs per rate;
- ``mnist-60000``: N = 60000, widths 200, 100, 300 s per method (a bounded budget: the talk does not
  state its own), minibatch 100, search 10 epochs per rate on 2000 samples.

``--methods`` restricts the methods (default all 13).

Timings: one torch thread and ``OMP_NUM_THREADS=1`` (set before numpy is imported) so that the
methods are compared on one core each; pass ``--threads`` to change it. Run it on an otherwise idle
machine: every figure is a wall time.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SETTINGS: dict[str, list[str]] = {
    **{
        f"synthetic-{L}": (
            f"--data synthetic-{L} --n-samples 500 --max-seconds 10 --search-epochs 100".split()
        )
        for L in ("L2", "L3", "L4")
    },
    "mnist-1000": (
        "--data mnist --n-samples 1000 --widths 100,50 --max-seconds 60 --search-epochs 30".split()
    ),
    "mnist-60000": (
        "--data mnist --n-samples 60000 --widths 200,100 --max-seconds 300 --batch-size 100 "
        "--search-epochs 10 --search-samples 2000"
    ).split(),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="output folder (created); never inside the repository")
    p.add_argument("--only", default=",".join(SETTINGS), help="comma-separated settings to run")
    p.add_argument("--lambda-w", default="1e-4", help="group-lasso weight (default 1e-4)")
    p.add_argument("--threads", default="1", help="torch threads (default 1)")
    p.add_argument(
        "--mnist-dir",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"),
    )
    p.add_argument("--max-seconds", default=None, help="override every setting's time budget")
    p.add_argument("--methods", default="all", help="comma-separated methods (default all 13)")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", args.threads)
    from ialam_verify.cli import main as cli
    from ialam_verify.io import atomic_write_text

    out = Path(args.out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    worst = 0
    for name in args.only.split(","):
        if name not in SETTINGS:
            print(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}", file=sys.stderr)
            return 2
        extra = list(SETTINGS[name])
        if args.max_seconds is not None:
            extra[extra.index("--max-seconds") + 1] = args.max_seconds
        if "mnist" in name:
            extra += ["--mnist-dir", args.mnist_dir]
        argv_ = [
            "compare",
            *extra,
            "--lambda-w",
            args.lambda_w,
            "--threads",
            args.threads,
            "--methods",
            args.methods,
            "--json",
            str(out / f"{name}.json"),
            "--plots",
            str(out / "plots"),
        ]
        print(f"== {name}: ialam-verify {' '.join(argv_)}", flush=True)
        from contextlib import redirect_stdout
        from io import StringIO

        buf = StringIO()
        with redirect_stdout(buf):
            rc = cli(argv_)
        atomic_write_text(out / f"{name}.md", buf.getvalue())
        print(buf.getvalue(), flush=True)
        worst = max(worst, rc)
        if rc == 130:
            break
    return worst


if __name__ == "__main__":
    sys.exit(main())
