"""Tables of data for the terminal: tool text is shown as written, never read as rich markup.

A tool's reply, a stored reason or a wafer id may contain `[/bold]` or `[link=...]`; printed
as rich markup it would crash the command (`MarkupError`) or change what the operator sees.

A `DataTable` states once how a table looks (its columns, title and box, as rich's `Table`
takes them) and is printed by rich (`console.print(table)`), or, where it holds plain text
alone, laid out here exactly as rich lays it out (`DataTable.text`): `packline runs` and
`packline methods` print without importing rich, which alone took longer than the 0.2 s they
are to start in (docs/decisions/0085).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

#: The table options `DataTable.text` lays out as rich does; a table given any other is
#: printed by rich.
LAID_OUT_HERE = frozenset({"box", "pad_edge", "padding", "collapse_padding"})

#: A word as rich wraps text: the word and the blanks after it (`rich._wrap`).
_WORD = re.compile(r"\s*\S+\s*")


def plain(value: RenderableType) -> RenderableType:
    """`value` as a renderable that is not parsed for markup (strings become `Text`)."""
    from rich.text import Text

    return Text(value) if isinstance(value, str) else value


class Column:
    """A column of a `DataTable`: its header and how its cells are fitted, named as rich's
    `Column` names them (`no_wrap`, `min_width`, `width`, `overflow`)."""

    def __init__(self, header: str, *, no_wrap: bool = False) -> None:
        self.header = header
        self.no_wrap = no_wrap
        self.min_width: int | None = None
        self.width: int | None = None
        self.overflow = "ellipsis"


class DataTable:
    """A table of data: its title and every string cell are plain text. A column in `whole`
    is as wide as its widest cell line, so each line of its cells stays whole (an address,
    whose port is the one part that differs between tools, found by grep); the others give
    way, wrapped at their words or cut with an ellipsis. `options` are rich `Table`'s (`box`,
    `pad_edge`, ...)."""

    def __init__(
        self,
        *headers: str,
        title: str | None = None,
        whole: Collection[str] = (),
        **options: Any,
    ) -> None:
        self.title = title
        self.options = options
        # not wrapped, so rich gives its width up to none of the others (it would take a
        # wrapped column's width back at its minimum, past the table's width); cut with an
        # ellipsis only on a console narrower than its widest line
        self.columns = [Column(header, no_wrap=header in whole) for header in headers]
        self._whole = [index for index, header in enumerate(headers) if header in whole]
        self.rows: list[tuple[RenderableType | None, ...]] = []

    def add_row(self, *cells: RenderableType | None) -> None:
        self.rows.append(cells)

    def __rich__(self) -> Table:
        """The rich `Table` this table is (rich prints it so)."""
        from rich.table import Table
        from rich.text import Text

        table = Table(title=None if self.title is None else Text(self.title), **self.options)
        for column in self.columns:
            table.add_column(
                Text(column.header),
                overflow=column.overflow,  # type: ignore[arg-type]  # one of rich's
                no_wrap=column.no_wrap,
                min_width=column.min_width,
                width=column.width,
            )
        for row in self.rows:
            cells = [None if cell is None else plain(cell) for cell in row]
            for index in self._whole:
                cell = cells[index]
                if isinstance(cell, Text):
                    rich_column = table.columns[index]
                    widest = max(line.cell_len for line in cell.split())
                    rich_column.min_width = max(rich_column.min_width or 0, widest)
            table.add_row(*cells)
        return table

    def text(self, width: int, *, terminal: bool) -> str | None:
        """The table as rich prints it on a UTF-8 console `width` wide, a terminal's (the
        title centred, the headers bold) or not (piped: the title as written), or None where
        only rich can say: a cell that is not plain printable ASCII text, a column of a
        fixed width, an option not in `LAID_OUT_HERE`, a table wider than the console."""
        layout = _Layout.of(self, width)
        return None if layout is None else layout.text(terminal=terminal)


def _printable(text: str) -> bool:
    """Whether `text` is ASCII whose every character takes one cell (lines apart)."""
    return text.isascii() and text.replace("\n", "").isprintable()


class _Layout:
    """A `DataTable`'s lines as rich's `Table` renders them (rich.table, rich.text,
    rich._wrap, rich.padding), for plain ASCII cells: the same column widths, the same
    wrapping and ellipses, the same box, padding and styles."""

    def __init__(self, table: DataTable, width: int, box: Any) -> None:
        options = table.options
        self.table = table
        self.box = box
        self.width = width
        pad: tuple[int, ...] = options.get("padding", (0, 1))
        self.pad_left, self.pad_right = (pad[1], pad[1]) if len(pad) == 2 else (pad[3], pad[1])
        self.pad_edge: bool = options.get("pad_edge", True)
        self.collapse: bool = options.get("collapse_padding", False)
        count = len(table.columns)
        self.cells: list[list[str]] = [
            [column.header, *("" if row[index] is None else str(row[index]) for row in table.rows)]
            for index, column in enumerate(table.columns)
        ]
        self.min_widths = [column.min_width for column in table.columns]
        for index in table._whole:
            for row in table.rows:
                if row[index] is not None:
                    widest = max(map(len, _split_lines(str(row[index]))))  # a str: `of`
                    self.min_widths[index] = max(self.min_widths[index] or 0, widest)
        self.extra = (2 if box else 0) + (count - 1 if box else 0)

    @classmethod
    def of(cls, table: DataTable, width: int) -> _Layout | None:
        """The layout of `table`, or None where it is not laid out here."""
        if set(table.options) - LAID_OUT_HERE or not table.columns:
            return None
        pad = table.options.get("padding", (0, 1))  # (top and bottom, sides), or each side
        if not isinstance(pad, tuple) or len(pad) not in (2, 4) or pad[0] or pad[2 % len(pad)]:
            return None  # blank lines above or below the cells
        if any(c.width is not None or c.overflow != "ellipsis" for c in table.columns):
            return None
        texts = [c.header for c in table.columns] + [table.title or ""]
        for row in table.rows:
            if len(row) != len(table.columns):
                return None
            for cell in row:
                if cell is not None and not isinstance(cell, str):
                    return None
                texts.append(cell or "")
        if not all(map(_printable, texts)):
            return None
        if "box" in table.options:
            box = table.options["box"]
        else:
            from rich import box as boxes

            box = boxes.HEAVY_HEAD
        return cls(table, width, box)

    def padding(self, index: int) -> tuple[int, int]:
        """The blanks left and right of column `index`'s cells (rich's `_get_cells`)."""
        left, right = self.pad_left, self.pad_right
        if self.collapse and index:
            left = max(0, left - right)
        if not self.pad_edge:
            if index == 0:
                left = 0
            if index == len(self.cells) - 1:
                right = 0
        return left, right

    def measured_padding(self, index: int) -> int:
        """The blanks column `index` is measured with (rich's `_get_padding_width`)."""
        left, right = self.pad_left, self.pad_right
        if self.collapse:
            left, right = 0, right
        if not self.pad_edge:
            if index == 0:
                left = 0
            if index == len(self.cells) - 1:
                right = 0
        return left + right

    def measure(self, index: int, max_width: int) -> tuple[int, int]:
        """Column `index`'s least and most width within `max_width` (rich's `_measure_column`)."""
        if max_width < 1:
            return 0, 0
        left, right = self.padding(index)
        extra = left + right
        least, most = [], []
        for text in self.cells[index]:
            if max_width - extra < 1:
                low, high = max_width, max_width
            else:
                inner = max_width - extra
                low, high = _measure(text)
                low = min(max(0, low), high)
                low, high = min(low, inner), min(max(low, high), inner)
                low, high = min(low + extra, max_width), min(high + extra, max_width)
            least.append(low)
            most.append(high)
        low, high = min(max(least), max_width), min(max(most), max_width)
        floor = self.min_widths[index]
        if floor is not None:
            floor = max(0, floor + self.measured_padding(index))
            low, high = max(low, floor), max(high, floor)
        return low, high

    def widths(self) -> list[int]:
        """Each column's width, padding included (rich's `_calculate_column_widths`)."""
        max_width = self.width - self.extra
        count = len(self.cells)
        widths = [self.measure(i, max_width)[1] or 1 for i in range(count)]
        if sum(widths) > max_width:
            wrapable = [not c.no_wrap for c in self.table.columns]
            widths = _collapse(widths, wrapable, max_width)
            if sum(widths) > max_width:
                widths = _ratio_reduce(sum(widths) - max_width, [1] * count, widths, widths)
            widths = [self.measure(i, w)[1] or 0 for i, w in enumerate(widths)]
        return widths

    def text(self, *, terminal: bool) -> str | None:
        widths = self.widths()
        inner = [w - sum(self.padding(i)) for i, w in enumerate(widths)]
        table_width = sum(widths) + self.extra
        if min(inner) < 1 or table_width > self.width:
            return None  # a column narrower than its padding, a table past the console's edge
        out: list[str] = []
        title = self.table.title
        if title:
            out.extend(_centred(title, table_width) if terminal else title.split("\n"))
        box = self.box
        if box:
            out.append(box.get_top(widths))
        rows = list(zip(*self.cells, strict=True))
        for number, row in enumerate(rows):
            header = number == 0
            cells = [
                _wrapped(text, inner[i], no_wrap=self.table.columns[i].no_wrap)
                for i, text in enumerate(row)
            ]
            height = max(map(len, cells))
            lines = []
            for index, cell in enumerate(cells):
                left, right = self.padding(index)
                shaped = [
                    _styled(" " * left, header and terminal)
                    + _styled(line, header and terminal)
                    + _styled(" " * right, header and terminal)
                    for line in cell
                ]
                blank = [_styled(" " * widths[index], header and terminal)] * (height - len(cell))
                lines.append(blank + shaped if header else shaped + blank)
            if box:
                edge = (box.head_left, box.head_vertical, box.head_right)
                if not header:
                    last = number == len(rows) - 1
                    edge = (
                        (box.foot_left, box.foot_vertical, box.foot_right)
                        if last
                        else (box.mid_left, box.mid_vertical, box.mid_right)
                    )
                left_edge, divider, right_edge = edge
                for line in zip(*lines, strict=True):
                    out.append(left_edge + divider.join(line) + right_edge)
                if header:
                    out.append(box.get_row(widths, "head", edge=True))
            else:
                out.extend("".join(line) for line in zip(*lines, strict=True))
        if box:
            out.append(box.get_bottom(widths))
        return "".join(f"{line}\n" for line in out)


def _styled(text: str, bold: bool) -> str:
    """`text` bold on a terminal, as rich writes a header's segment (`Style.render`)."""
    return f"\x1b[1m{text}\x1b[0m" if bold and text else text


def _split_lines(text: str) -> list[str]:
    """The lines of a cell as rich splits a `Text` (a last empty line dropped)."""
    lines = text.split("\n")
    return lines[:-1] if len(lines) > 1 and not lines[-1] else lines


def _measure(text: str) -> tuple[int, int]:
    """A text's least width (its longest word) and most (its longest line) (rich's
    `Text.__rich_measure__`)."""
    lines = text.splitlines()
    most = max(map(len, lines)) if lines else 0
    words = text.split()
    return (max(map(len, words)) if words else most), most


def _words(line: str) -> Iterator[tuple[int, str]]:
    position = 0
    while (match := _WORD.match(line, position)) is not None:
        yield match.start(), match.group(0)
        position = match.end()


def _divide(line: str, width: int, *, fold: bool) -> list[int]:
    """Where `line` is broken to fit `width` (rich's `divide_line`)."""
    breaks: list[int] = []
    offset = 0
    for start, word in _words(line):
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if fold:
                pieces = [word[i : i + width] for i in range(0, len(word), width)]
                for number, piece in enumerate(pieces):
                    if start:
                        breaks.append(start)
                    if number == len(pieces) - 1:
                        offset = len(piece)
                    else:
                        start += len(piece)
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _pieces(line: str, breaks: Sequence[int]) -> list[str]:
    return [line[a:b] for a, b in itertools.pairwise([0, *breaks, len(line)])]


def _cut(text: str, width: int) -> str:
    """`text` cut to `width` with an ellipsis when longer (rich's `Text.truncate`)."""
    if len(text) > width:
        size = width - 1
        return (text + " " * (size - len(text)) if len(text) < size else text[:size]) + "…"
    return text


def _rstrip_end(text: str, width: int) -> str:
    """The blanks past `width` at the end of `text` removed (rich's `Text.rstrip_end`)."""
    if len(text) > width:
        blanks = len(text) - len(text.rstrip())
        return text[: len(text) - min(blanks, len(text) - width)]
    return text


def _wrapped(text: str, width: int, *, no_wrap: bool) -> list[str]:
    """A cell's lines, each `width` wide, left-justified, cut with an ellipsis (rich's
    `Text.wrap` with a column's `justify="left"`, `overflow="ellipsis"`)."""
    lines = []
    for line in text.split("\n"):
        pieces = [line] if no_wrap else _pieces(line, _divide(line, width, fold=False))
        for piece in pieces:
            piece = piece if no_wrap else _rstrip_end(piece, width)
            piece = _cut(piece, width)
            lines.append(piece + " " * (width - len(piece)))
    return lines


def _centred(title: str, width: int) -> list[str]:
    """A title's lines over a table `width` wide on a terminal: wrapped at its words (a
    longer word folded), each centred (rich's `Text.wrap` with `justify="center"`)."""
    lines = []
    for line in title.split("\n"):
        for piece in _pieces(line, _divide(line, width, fold=True)):
            piece = _rstrip_end(piece, width).rstrip()[:width]
            piece = " " * ((width - len(piece)) // 2) + piece
            lines.append(piece + " " * (width - len(piece)))
    return lines


def _collapse(widths: list[int], wrapable: list[bool], max_width: int) -> list[int]:
    """Widths reduced, the widest wrapable columns first, towards `max_width` (rich's
    `Table._collapse_widths`)."""
    total = sum(widths)
    excess = total - max_width
    if any(wrapable):
        while total and excess > 0:
            widest = max(w for w, wrap in zip(widths, wrapable, strict=True) if wrap)
            second = max(
                w if wrap and w != widest else 0 for w, wrap in zip(widths, wrapable, strict=True)
            )
            difference = widest - second
            ratios = [
                1 if (w == widest and wrap) else 0 for w, wrap in zip(widths, wrapable, strict=True)
            ]
            if not any(ratios) or not difference:
                break
            widths = _ratio_reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
            total = sum(widths)
            excess = total - max_width
    return widths


def _ratio_reduce(
    total: int, ratios: list[int], maximums: list[int], values: list[int]
) -> list[int]:
    """`values` less `total` shared by `ratios`, each by at most its maximum (rich's
    `ratio_reduce`)."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            distributed = min(most, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


#: How much of a recipe's sha256 is shown to name it (enough to tell the recipes apart): what
#: `runs --recipe` and `spc --recipe` take.
RECIPE_SHOWN = 12


def counted(count: int, noun: str) -> str:
    """`count` of a regular `noun`, as read: '1 run', '3 runs', '0 wafers', '208,800 pads'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def counted_sites(count: int, noun: str | None) -> str:
    """A claim check's count of what a condition checked (`counted`), or the number alone for
    a check recorded before it said what it counts (`noun` None)."""
    return f"{count:,}" if noun is None else counted(count, noun)
