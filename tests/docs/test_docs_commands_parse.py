"""Every ``ialam-verify ...`` command shown in README.md and docs/*.md still parses with the CLI.

Commands are taken from code lines (fenced or indented; ``$ `` prompts, ``VAR=value`` prefixes and
``\\`` continuations handled; a comment, pipe or redirection ends the command) and from inline code
spans. A span whose subcommand is a placeholder in capitals (``ialam-verify COMMAND --help``) is
skipped. An inline *mention* (``ialam-verify certify``) or *synopsis* (placeholders in capitals, or
``[--flag X]``) that does not parse as it stands is checked for what it can be: the subcommand exists and every ``--flag`` it names is
one of that subcommand's options. ``compare`` commands must also pass the check that refuses flags
their mode would ignore.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from ialam_verify.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_ENV = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)+")
_INLINE = re.compile(r"(?<!`)`(ialam-verify\s[^`]+)`(?!`)")
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(\.[a-z]+)?$")


def _clean(text: str) -> list[str] | None:
    """The argument list of one command text, without the program name (``None``: not a command)."""
    text = _ENV.sub("", text.strip().removeprefix("$ ").strip())
    if not text.startswith("ialam-verify"):
        return None
    tokens = shlex.split(text, comments=True)
    for i, tok in enumerate(tokens):
        if tok in ("|", ">", ">>", "2>", "&&", ";", "||", "&") or tok.startswith(("2>", ">")):
            tokens = tokens[:i]
            break
    return tokens[1:]


def is_synopsis(args: list[str]) -> bool:
    """A mention or synopsis rather than a command line (see the module docstring)."""
    return len(args) == 1 or any(_PLACEHOLDER.match(a) or "[" in a or "]" in a for a in args[1:])


def commands() -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for page in PAGES:
        text = page.read_text()
        lines = text.splitlines()
        i = 0
        while i < len(lines):  # code lines, with continuations
            start = i
            line = lines[i]
            while line.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line.rstrip()[:-1] + " " + lines[i].strip()
            i += 1
            args = _clean(line)
            if args is not None:
                found.append((f"{page.name}:{start + 1}", args))
        for m in _INLINE.finditer(text):  # inline spans, possibly across a line break
            args = _clean(" ".join(m.group(1).split()))
            if args and not (args[0].isupper() or args[0].startswith("...")):
                lineno = text.count("\n", 0, m.start()) + 1
                found.append((f"{page.name}:{lineno} (inline)", args))
    return found


COMMANDS = commands()


def test_the_docs_show_commands_of_every_subcommand() -> None:
    shown = {args[0] for _, args in COMMANDS if args}
    assert {"train", "certify", "cases", "compare"} <= shown, f"commands shown: {sorted(shown)}"


def _parses(parser: argparse.ArgumentParser, args: list[str]) -> bool:
    try:
        parser.parse_args(args)
    except SystemExit as exc:
        return exc.code == 0
    return True


@pytest.mark.parametrize(("where", "args"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_docs_command_parses(where: str, args: list[str], capsys) -> None:
    parser = build_parser()
    if "(inline)" in where and is_synopsis(args) and not _parses(parser, args):
        sub = next(a for a in parser._actions if a.dest == "command").choices
        assert args[0] in sub, f"{where}: no subcommand {args[0]!r}"
        known = sub[args[0]]._option_string_actions
        flags = [a.strip("[]").split("=")[0] for a in args[1:] if a.strip("[]").startswith("-")]
        unknown = [f for f in flags if f not in known]
        assert not unknown, f"{where}: `ialam-verify {shlex.join(args)}` names unknown {unknown}"
        return
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:
        out = capsys.readouterr()
        if exc.code == 0 and ("--help" in args or "-h" in args or "--version" in args):
            return
        pytest.fail(f"{where}: `ialam-verify {shlex.join(args)}` does not parse:\n{out.err}")
    if getattr(ns, "command", None) == "compare":
        from ialam_verify.cli.compare import refuse_ignored_flags

        try:
            refuse_ignored_flags(ns)
        except ValueError as exc:
            pytest.fail(f"{where}: `ialam-verify {shlex.join(args)}`: {exc}")
    assert isinstance(ns, argparse.Namespace)


def test_the_extractor_reads_what_it_should() -> None:
    assert _clean("$ ialam-verify cases talk_example3 --explain   # derivation") == [
        "cases",
        "talk_example3",
        "--explain",
    ]
    assert _clean("DASK_SCHEDULER_ADDRESS=tcp://h:8786 ialam-verify compare --grid g.json > o") == [
        "compare",
        "--grid",
        "g.json",
    ]
    assert _clean("pip install -e .") is None
    with pytest.raises(SystemExit):  # and a wrong command is caught
        build_parser().parse_args(_clean("ialam-verify compare --no-such-flag") or [])


def test_mentions_and_synopses_are_told_from_command_lines() -> None:
    assert is_synopsis(["certify"])
    assert is_synopsis(["certify", "WEIGHTS.npz", "--alpha", "A", "[--beta", "B]"])
    assert not is_synopsis(["certify", "run", "--json"])
    assert not is_synopsis(["compare", "--data", "synthetic-L2"])
