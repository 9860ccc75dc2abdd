"""Every tool kind's protocol page is rendered from its spec and has an example to replay.

The per-tool spec tests replay each example against the simulated tool and the driver; this
one makes sure no registered kind is missing from them: its page exists, has marked tables,
none of them stale, and an example exchange that parses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packline.drivers.registry import TOOL_KINDS
from packline.drivers.specs.pages import (
    example_exchange,
    marked_tables,
    rendered_tables,
    stale_tables,
)

PROTOCOLS = Path(__file__).parents[3] / "docs" / "protocols"


@pytest.mark.parametrize("kind", sorted(TOOL_KINDS))
def test_every_kinds_page_has_fresh_spec_tables_and_an_example(kind: str):
    page = (PROTOCOLS / f"{kind.replace('_', '-')}.md").read_text(encoding="utf-8")
    tables = rendered_tables(TOOL_KINDS[kind].load_spec())
    assert marked_tables(page), f"{kind}: the page has no table rendered from the spec"
    assert stale_tables(page, tables) == []
    assert example_exchange(page), f"{kind}: the page's example exchange is empty"


@pytest.mark.parametrize("kind", sorted(TOOL_KINDS))
def test_every_table_the_spec_renders_is_on_the_page(kind: str):
    page = (PROTOCOLS / f"{kind.replace('_', '-')}.md").read_text(encoding="utf-8")
    tables = rendered_tables(TOOL_KINDS[kind].load_spec())
    assert set(tables) <= set(marked_tables(page)), (
        f"{kind}: tables the spec renders but the page does not show: "
        f"{sorted(set(tables) - set(marked_tables(page)))}"
    )
