"""Every relative link and image of README.md and docs/*.md points to a file of the checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def links() -> list[tuple[str, Path, str]]:
    out = []
    for page in PAGES:
        for m in _LINK.finditer(page.read_text()):
            target = m.group(1)
            if re.match(r"^[a-z]+://|^mailto:|^#", target):
                continue
            out.append((page.name, page, target))
    return out


LINKS = links()


def test_the_index_links_every_page() -> None:
    index = (ROOT / "docs" / "README.md").read_text()
    for page in (ROOT / "docs").iterdir():
        if page.suffix in (".md", ".ipynb") and page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"
    assert "](docs/README.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize(("name", "page", "target"), LINKS, ids=[f"{n}->{t}" for n, _, t in LINKS])
def test_link_target_exists(name: str, page: Path, target: str) -> None:
    path = (page.parent / target.split("#")[0]).resolve()
    assert path.exists(), f"{name}: link to {target} ({path}) points to nothing"
