"""The documentation stays navigable and true: decision records numbered once each, in order,
every relative link in README.md and docs/ names a file that exists, and the lists the pages
keep of the registry's kinds name what the registry has."""

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


def test_the_secs_gem_page_names_every_kind_with_a_gem_face():
    """The one list of the kinds `--gem` serves on GEM, which the other pages point to, names
    the registry's kinds that have a simulated GEM face, no more and no fewer."""
    from packline.drivers.registry import TOOL_KINDS

    page = (ROOT / "docs" / "protocols" / "secs-gem.md").read_text(encoding="utf-8")
    not_implemented = page.split("## Not implemented", 1)[1].split("\n## ", 1)[0]
    bullet = next(b for b in not_implemented.split("\n* ") if b.startswith("A GEM face"))
    named = {word for word in re.findall(r"`(\w+)`", bullet) if word in TOOL_KINDS}
    assert named == {name for name, kind in TOOL_KINDS.items() if kind.gem_simulator}
