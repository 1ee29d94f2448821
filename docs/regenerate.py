"""Re-print the quick figures of the docs with the current code (under 10 minutes on 2 cores).

Every block of a docs page between ``<!-- regenerate: NAME -->`` and ``<!-- /regenerate -->`` is the
output of one command of :data:`COMMANDS`, shown on the block's first line as ``$ ialam-verify ...``.
This script runs each command as shown (``python -m ialam_verify ...``, one torch thread) and puts its
standard output in the block; the PNGs a command writes are copied into ``docs/figures/``.

    python docs/regenerate.py                 # every block (needs the bench extra and MNIST)
    python docs/regenerate.py --only synthetic-L2
    python docs/regenerate.py --mnist-dir /data/mnist   # MNIST elsewhere than ../shared/data/mnist

``--mnist-dir`` replaces the default folder ``../shared/data/mnist`` in the commands that are run; the
block still shows the default. The figures depend on the machine's load (wall-time budgets): the pages
say so next to them.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FIGURES = DOCS / "figures"
SCRATCH = "/tmp/ialam-verify-docs"
MNIST_DEFAULT = "../shared/data/mnist"

_QUICK = "--n-samples 500 --max-seconds 3 --search-epochs 20 --threads 1 --no-progress"
#: name -> (page, command as shown, PNGs to copy from SCRATCH into docs/figures)
COMMANDS: dict[str, tuple[str, str, list[str]]] = {
    "synthetic-L2": (
        "experiments.md",
        f"ialam-verify compare --data synthetic-L2 {_QUICK} --plots {SCRATCH}/L2",
        [
            f"L2/synthetic10-10-2-N500-seed0_{m}.png"
            for m in ("train_err", "test_err", "column_sparse_ratio")
        ],
    ),
    "synthetic-L3": (
        "experiments.md",
        f"ialam-verify compare --data synthetic-L3 {_QUICK}",
        [],
    ),
    "synthetic-L4": (
        "experiments.md",
        f"ialam-verify compare --data synthetic-L4 {_QUICK}",
        [],
    ),
    "tiny-grid": (
        "experiments.md",
        "ialam-verify compare --grid experiments/tiny_grid.json --out "
        f"{SCRATCH}/tiny-grid --mnist-dir {MNIST_DEFAULT} --n-jobs 1 --no-progress",
        ["tiny-grid/profile_train_err.png", "tiny-grid/profile_test_err.png"],
    ),
}

_BLOCK = re.compile(
    r"(<!-- regenerate: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /regenerate -->)", re.DOTALL
)


def run(name: str, mnist_dir: str | None) -> str:
    """Run command ``name`` as shown; return the block text (the command line, then its output)."""
    _, shown, pngs = COMMANDS[name]
    argv = shlex.split(shown)[1:]
    if mnist_dir is not None:
        argv = [mnist_dir if a == MNIST_DEFAULT else a for a in argv]
    for a, b in zip(argv, argv[1:], strict=False):  # fresh output folders: a grid would resume
        if a in ("--out", "--plots") and b.startswith(SCRATCH):
            shutil.rmtree(b, ignore_errors=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    t = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "ialam_verify", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{name}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    FIGURES.mkdir(exist_ok=True)
    for png in pngs:
        shutil.copyfile(Path(SCRATCH) / png, FIGURES / png.replace("/", "_"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{name}: {time.time() - t:.0f} s (load {load:.1f})", file=sys.stderr)
    return f"```text\n$ {shown}\n{proc.stdout.rstrip()}\n```\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default=None, help="comma-separated block names")
    p.add_argument("--mnist-dir", default=None, help=f"MNIST folder instead of {MNIST_DEFAULT}")
    p.add_argument("--list", action="store_true", help="list the blocks and their commands")
    args = p.parse_args(argv)
    names = list(COMMANDS) if args.only is None else args.only.split(",")
    unknown = [n for n in names if n not in COMMANDS]
    if unknown:
        p.error(f"unknown block(s) {unknown}; known: {list(COMMANDS)}")
    if args.list:
        for n in names:
            print(f"{n}: docs/{COMMANDS[n][0]}: {COMMANDS[n][1]}")
        return 0
    outputs = {n: run(n, args.mnist_dir) for n in names}
    for page in sorted({COMMANDS[n][0] for n in names}):
        path = DOCS / page
        text = path.read_text()
        found = set()

        def fill(m: re.Match[str], found: set[str] = found) -> str:
            name = m.group("name")
            if name not in outputs:
                return m.group(0)
            found.add(name)
            return m.group(1) + outputs[name] + m.group(4)

        new = _BLOCK.sub(fill, text)
        missing = [n for n in names if COMMANDS[n][0] == page and n not in found]
        if missing:
            raise SystemExit(f"docs/{page} has no block for {missing}")
        tmp = path.with_suffix(".md.tmp")
        tmp.write_text(new)
        tmp.replace(path)  # atomic: the page is never half written
    return 0


if __name__ == "__main__":
    sys.exit(main())
