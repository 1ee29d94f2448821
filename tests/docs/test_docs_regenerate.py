"""docs/regenerate.py: every block it fills exists, and every command it runs parses."""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path

from ialam_verify.cli import build_parser
from ialam_verify.cli.compare import refuse_ignored_flags

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location(
        "docs_regenerate", ROOT / "docs" / "regenerate.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_blocks_exist_and_commands_parse(capsys) -> None:
    mod = _module()
    for name, (page, shown, pngs) in mod.COMMANDS.items():
        text = (ROOT / "docs" / page).read_text()
        assert f"<!-- regenerate: {name} -->" in text, f"docs/{page} lacks the block {name}"
        block = mod._BLOCK.search(text[text.index(f"<!-- regenerate: {name} -->") :])
        assert block and block.group("name") == name
        assert f"$ {shown}\n" in block.group("body"), f"block {name} does not show its command"
        args = build_parser().parse_args(shlex.split(shown)[1:])
        refuse_ignored_flags(args)
        for png in pngs:  # every copied figure is shown on the page
            assert f"figures/{png.replace('/', '_')}" in text, png
    assert mod.main(["--list"]) == 0
    assert "synthetic-L2" in capsys.readouterr().out
