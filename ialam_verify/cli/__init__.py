"""Command line: ``ialam-verify SUBCOMMAND ...``.

Each subcommand lives in its own module of this package and defines ``add_parser(subparsers)`` and
``run(args) -> int``; modules are discovered here, so a new subcommand needs no edit of this file.
Subcommand modules import heavy dependencies inside ``run`` only, so that ``--help`` stays fast.

Exit codes are those of :mod:`._exit_codes`, the same for every subcommand; :func:`main` maps what a
subcommand raises onto them (:data:`EXCEPTION_CODES`), so no subcommand prints its own traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence

from ._exit_codes import ExitCode

#: What a subcommand raises, mapped to its exit code (first match wins; order matters because
#: ``FileNotFoundError`` is an ``OSError``). ``ValueError`` is this package's "bad input" (every
#: check in ``ialam_verify._validation`` raises it before any work starts). A missing *optional*
#: package (:data:`OPTIONAL_EXTRAS`) is bad input too; any other failed import is a bug.
EXCEPTION_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (KeyboardInterrupt, ExitCode.INTERRUPTED),
    (ValueError, ExitCode.BAD_INPUT),
    (FileNotFoundError, ExitCode.BAD_INPUT),
    (IsADirectoryError, ExitCode.BAD_INPUT),
    (NotADirectoryError, ExitCode.BAD_INPUT),
    (PermissionError, ExitCode.BAD_INPUT),
    # reading or writing failed mid-run (disk full, a vanished mount): the run failed, not the input
    (OSError, ExitCode.RUN_FAILED),
)

#: Optional packages and the extra of pyproject.toml that installs them.
OPTIONAL_EXTRAS = {
    "torch": "bench (install torch's CPU build first: see README.md)",
    "matplotlib": "bench",
    "joblib": "bench",
    "distributed": "cluster",
    "dask": "cluster",
    "nbclient": "docs",
    "ray": "none (pip install 'ray[default]')",
}

EXIT_CODES_HELP = """exit codes (every command):
  0    success: the command did what was asked and the result is good
  1    internal error (a bug: please report it with the traceback printed)
  2    bad input: bad arguments or unreadable input; nothing was written
  3    the command ran, but its result failed (e.g. a run that ended infeasible)
  4    --require NOTION: the notion is proved not to hold
  5    --require NOTION: neither proved nor disproved
  130  interrupted by Ctrl-C (what was finished is kept)"""


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="ialam-verify",
        description="Train group-sparse leaky-ReLU networks with IALAM and certify what they reach.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ialam-verify {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.add_parser(sub)
    for sp in sub.choices.values():  # the codes are the same everywhere: printed by every --help
        if sp.epilog is None:
            sp.epilog = EXIT_CODES_HELP
            if sp.formatter_class is argparse.HelpFormatter:
                sp.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def exit_code_of(exc: BaseException) -> ExitCode:
    """The exit code :func:`main` returns when a subcommand raises ``exc``."""
    if isinstance(exc, ModuleNotFoundError):
        root = (exc.name or "").split(".")[0]
        return ExitCode.BAD_INPUT if root in OPTIONAL_EXTRAS else ExitCode.INTERNAL_ERROR
    for kind, code in EXCEPTION_CODES:
        if isinstance(exc, kind):
            return code
    return ExitCode.INTERNAL_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (argparse itself exits 2 on unparsable arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.BAD_INPUT)
    prefix = f"ialam-verify {args.command}"
    try:
        code = args.run(args)
    except BaseException as exc:  # every exception becomes a documented code
        if isinstance(exc, (SystemExit, GeneratorExit)):
            raise
        result = exit_code_of(exc)
        if result is ExitCode.INTERRUPTED:
            print(f"{prefix}: interrupted", file=sys.stderr)
        elif result is ExitCode.INTERNAL_ERROR:
            traceback.print_exc(file=sys.stderr)
            print(
                f"{prefix}: internal error: {type(exc).__name__}: {exc} "
                "(a bug: please report it with the traceback above)",
                file=sys.stderr,
            )
        elif result is ExitCode.RUN_FAILED:
            print(f"{prefix}: run failed: {exc}", file=sys.stderr)
        elif isinstance(exc, ModuleNotFoundError):
            root = (exc.name or "").split(".")[0]
            print(
                f"{prefix}: error: this needs the optional package {root!r} "
                f"(extra: {OPTIONAL_EXTRAS[root]})",
                file=sys.stderr,
            )
        else:  # bad input: one clear line, no traceback, nothing written
            print(f"{prefix}: error: {exc}", file=sys.stderr)
        return int(result)
    if code is None:  # a subcommand that returns nothing succeeded
        return int(ExitCode.SUCCESS)
    try:
        return int(ExitCode(int(code)))
    except ValueError:
        print(f"{prefix}: internal error: undocumented exit code {code!r}", file=sys.stderr)
        return int(ExitCode.INTERNAL_ERROR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
