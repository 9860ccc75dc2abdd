"""The documentation stays navigable: decision records numbered once each, in order, and every
relative link in README.md and docs/ names a file that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DECISIONS = ROOT / "docs" / "decisions"
#: A markdown link's target: `[text](target)`, not an address with a scheme or a page anchor.
LINK = re.compile(r"\]\((?!\w+://|#|mailto:)([^)\s]+)\)")


def test_decision_records_are_numbered_once_each_in_order():
    numbers = sorted(int(path.name[:4]) for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert numbers == list(range(1, len(numbers) + 1)), "a number is used twice or skipped"
    for path in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"):
        title = path.read_text(encoding="utf-8").splitlines()[0]
        assert title.startswith(f"# {path.name[:4]}:"), f"{path.name}: its title is {title!r}"


def test_every_relative_link_in_the_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in pages
        for target in LINK.findall(page.read_text(encoding="utf-8"))
        if not (page.parent / target.split("#")[0]).exists()
    ]
    assert broken == []


def test_every_tool_page_lists_its_simulated_faults():
    """A user injecting a fault (`packline sim fault`) finds each one on its tool's page."""
    from packline.drivers.registry import TOOL_KINDS

    for kind in TOOL_KINDS.values():
        page = ROOT / "docs" / "protocols" / f"{kind.name.replace('_', '-')}.md"
        text = page.read_text(encoding="utf-8")
        missing = [f for f in kind.load_simulator().faults if f"`{f}`" not in text]
        assert not missing, f"{page.name} does not name {missing}"
