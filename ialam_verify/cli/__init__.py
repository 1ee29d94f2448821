"""Command line: ``ialam-verify SUBCOMMAND ...``.

Each subcommand lives in its own module of this package and defines ``add_parser(subparsers)`` and
``run(args) -> int``; modules are discovered here, so a new subcommand needs no edit of this file.
Subcommand modules import heavy dependencies inside ``run`` only, so that ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="ialam-verify",
        description="Train group-sparse leaky-ReLU networks with IALAM and certify what they reach.",
    )
    parser.add_argument("--version", action="version", version=f"ialam-verify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except (ValueError, FileNotFoundError, OSError) as exc:
        # Bad input: one clear line, no traceback, nothing written.
        print(f"ialam-verify {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ialam-verify {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
