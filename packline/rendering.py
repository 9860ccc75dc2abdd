"""Terminal rendering of data: tool text is shown as written, never read as rich markup.

A tool's reply, a stored reason or a wafer id may contain `[/bold]` or `[link=...]`; printed
as rich markup it would crash the command (`MarkupError`) or change what the operator sees.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text


def plain(value: RenderableType) -> RenderableType:
    """`value` as a renderable that is not parsed for markup (strings become `Text`)."""
    return Text(value) if isinstance(value, str) else value


class DataTable(Table):
    """A rich table of data: its title and every string cell are plain text. A column in
    `whole` is as wide as its widest cell line, so each line of its cells stays whole (an
    address, whose port is the one part that differs between tools, found by grep); the others
    give way, wrapped at their words or cut with an ellipsis."""

    def __init__(
        self,
        *headers: str,
        title: str | None = None,
        whole: Collection[str] = (),
        **options: Any,
    ) -> None:
        super().__init__(title=None if title is None else Text(title), **options)
        for header in headers:
            if header in whole:
                # not wrapped, so rich gives its width up to none of the others (it would
                # take a wrapped column's width back at its minimum, past the table's width);
                # cut with an ellipsis only on a console narrower than its widest line
                self.add_column(Text(header), overflow="ellipsis", no_wrap=True)
            else:
                self.add_column(Text(header), overflow="ellipsis")
        self._whole = [index for index, header in enumerate(headers) if header in whole]

    def add_row(self, *renderables: RenderableType | None, **options: Any) -> None:
        cells = [None if r is None else plain(r) for r in renderables]
        for index in self._whole:
            cell = cells[index]
            if isinstance(cell, Text):
                column = self.columns[index]
                widest = max(line.cell_len for line in cell.split())
                column.min_width = max(column.min_width or 0, widest)
        super().add_row(*cells, **options)


#: How much of a recipe's sha256 is shown to name it (enough to tell the recipes apart): what
#: `runs --recipe` and `spc --recipe` take.
RECIPE_SHOWN = 12


def counted(count: int, noun: str) -> str:
    """`count` of a regular `noun`, as read: '1 run', '3 runs', '0 wafers'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
