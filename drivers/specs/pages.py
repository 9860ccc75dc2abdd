"""Protocol pages whose tables are rendered from the tool spec.

A page under `docs/protocols/` stays hand-written prose; each table that states a fact of the
spec (registers or commands, units, ranges, alarms, refusals) sits between two markers::

    <!-- spec:alarms -->
    | code | raised when |
    ...
    <!-- /spec:alarms -->

and is rendered from the spec: `render_page` puts the present tables in, `stale_tables` says
which differ (a test fails on any). The family's wire binding renders its own tables
(`WireBinding.tables`); `common_tables` renders those every family words alike. A page's
"Example exchange" is parsed by `example_exchange`, so tests replay it against the simulated
tool and the driver.

    python -m packline.drivers.specs.pages docs/protocols/laminator.md laminator
    python -m packline.drivers.specs.pages docs/protocols/dc-supply.md electroplater.supply

rewrites a page in place from the spec of a tool kind (or of one device of a tool of several).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .core import F, Reply, ToolSpec

_MARKED = re.compile(r"(<!-- spec:([\w-]+) -->\n)(.*?)(<!-- /spec:\2 -->)", re.DOTALL)


@runtime_checkable
class WireBinding(Protocol):
    """What a protocol family's `ToolSpec.wire` offers the pages: its own tables."""

    def tables(self, spec: ToolSpec[Any]) -> dict[str, str]:
        """Markdown tables by marker name (the family's register map or command set)."""
        ...


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; `|` inside a cell is escaped."""

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    lines = [line(header), "|" + "|".join("---" for _ in header) + "|"]
    lines.extend(line(row) for row in rows)
    return "\n".join(lines) + "\n"


def common_tables(spec: ToolSpec[Any]) -> dict[str, str]:
    """The tables every family words alike: setpoints, alarms, interlocks, refusals, and the
    points the tool's metrology measures."""
    tables = {
        "setpoints": table(
            ("setpoint", "unit", "the tool accepts", "driver's default limit", "meaning"),
            (
                (
                    f"`{s.name}`",
                    s.unit,
                    s.machine_range,
                    s.process_limit or s.machine_range,
                    s.meaning + (" (whole numbers)" if s.integer else ""),
                )
                for s in spec.setpoints
            ),
        ),
        "alarms": table(("code", "meaning"), ((a.code, a.text) for a in spec.alarms)),
        "interlocks": table(
            ("interlock", "closed (safe) when", "made"),
            ((f"`{i.name}`", i.doc, i.made.value) for i in spec.interlocks),
        ),
        "refusals": table(("code", "meaning"), ((r.code, r.text) for r in spec.refusals)),
        "measurement-points": table(
            ("point", "ring (share of the wafer's radius)", "angle", "on a 200 mm wafer, mm"),
            (
                (index, f"{p.radius_share:g}", f"{p.angle_deg:g}°", _at_mm(p.position_mm(100)))
                for index, p in enumerate(spec.measurement_points)
            ),
        ),
    }
    return {name: text for name, text in tables.items() if text.count("\n") > 2}


def replies_table(
    replies: Sequence[Reply[Any, F]], place: str, placed: Callable[[int, F], object]
) -> str:
    """The `replies` table of a family: each field of its `replies` where it stands in its
    reply (the column `place`, each cell `placed(index, field)`: a host link's key, a SCPI
    reply's position), the result's field it is read into and how its value reads, with what
    it is where the tool's replies say (`ReplyField.doc`) and its GEM status variable when the
    tool has a GEM face (a reply with a `gem_prefix`)."""
    fields = [
        (reply, index, field) for reply in replies for index, field in enumerate(reply.fields)
    ]
    meanings = any(field.doc for _, _, field in fields)
    header = ("query", place, "driver's field", "value", *["meaning"] * meanings)
    rows = [
        (
            f"`{reply.query}`",
            placed(index, field),
            f"`{reply.result.__name__}.{field.name}`",
            field.reads_as,
            *[field.doc] * meanings,
        )
        for reply, index, field in fields
    ]
    if all(reply.gem_prefix is None for reply in replies):
        return table(header, rows)
    faces = [
        ""
        if reply.gem_prefix is None
        else f"`{reply.gem_name(field)}`" + " (equipment constant)" * field.gem_constant
        for reply, _, field in fields
    ]
    return table(
        (*header, "GEM status variable"),
        ((*row, face) for row, face in zip(rows, faces, strict=True)),
    )


def _at_mm(position_mm: tuple[float, float]) -> str:
    """A point's (x, y) as the page writes it, to 0.1 mm."""
    x_mm, y_mm = (round(value, 1) + 0.0 for value in position_mm)  # + 0.0: no -0
    return f"({x_mm:g}, {y_mm:g})"


def rendered_tables(spec: ToolSpec[Any]) -> dict[str, str]:
    """Every table of a spec's page: the common ones, then the family's (which win)."""
    wire = spec.wire
    family = wire.tables(spec) if isinstance(wire, WireBinding) else {}
    return {**common_tables(spec), **family}


def marked_tables(page: str) -> dict[str, str]:
    """The tables a page has between markers, by marker name."""
    return {match[2]: match[3] for match in _MARKED.finditer(page)}


def render_page(page: str, tables: Mapping[str, str]) -> str:
    """`page` with each marked table replaced by its rendering; a marker with no table of
    that name is a `KeyError` naming it and the tables there are."""

    def replace(match: re.Match[str]) -> str:
        name = match[2]
        if name not in tables:
            raise KeyError(
                f"page marker spec:{name} names no table; the spec renders: "
                + ", ".join(sorted(tables))
            )
        return match[1] + tables[name] + match[4]

    return _MARKED.sub(replace, page)


def stale_tables(page: str, tables: Mapping[str, str]) -> list[str]:
    """The names of the page's marked tables that differ from their rendering."""
    return [name for name, text in marked_tables(page).items() if tables.get(name) != text]


@dataclass(frozen=True)
class ExampleStep:
    """One line a page's example exchange sends, after `after_s` of process time, and the
    line the tool answers (None: the command answers nothing, as a SCPI setting)."""

    command: str
    reply: str | None
    after_s: float = 0.0


def example_exchange(page: str) -> list[ExampleStep]:
    """The code blocks of a page's "Example exchange" section, as steps.

    In them, `> ` lines are sent, a `< ` line is the reply to the line before it, an indented
    line continues the line above (a long frame in hex), and a line `# after <N> s` says that
    N seconds of process time pass before the next one; other lines are comments. A reply with
    nothing sent before it is a `ValueError`.
    """
    section = page.split("## Example exchange", 1)[1].split("\n## ", 1)[0]
    lines: list[str] = []
    for block in section.split("```")[1::2]:
        for line in block.strip("\n").splitlines():
            if line.startswith("  ") and lines:
                lines[-1] += " " + line.strip()
            else:
                lines.append(line)
    steps: list[ExampleStep] = []
    after_s = 0.0
    for line in lines:
        if line.startswith("# after "):
            after_s += float(line.removeprefix("# after ").removesuffix(" s"))
        elif line.startswith("> "):
            steps.append(ExampleStep(line[2:], None, after_s))
            after_s = 0.0
        elif line.startswith("< "):
            if not steps or steps[-1].reply is not None:
                raise ValueError(f"example exchange: reply {line!r} follows no command")
            steps[-1] = replace(steps[-1], reply=line[2:])
    return steps


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite a page's marked tables from a tool kind's spec: `PAGE KIND[.DEVICE]`."""
    from ..registry import tool_kind

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m packline.drivers.specs.pages PAGE KIND[.DEVICE]", file=sys.stderr)
        return 2
    path, (kind, _, device) = Path(args[0]), args[1].partition(".")
    return rewrite_page(
        path,
        lambda: rendered_tables(
            tool_kind(kind).load_device_specs()[device] if device else tool_kind(kind).load_spec()
        ),
    )


def page_command(
    argv: Sequence[str] | None, module: str, tables: Callable[[], Mapping[str, str]]
) -> int:
    """`python -m MODULE PAGE`: rewrite the marked tables of PAGE from `tables()` (2 and a
    usage line when not given one page)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print(f"usage: python -m {module} PAGE", file=sys.stderr)
        return 2
    return rewrite_page(Path(args[0]), tables)


def rewrite_page(path: Path, tables: Callable[[], Mapping[str, str]]) -> int:
    """Rewrite the marked tables of the page at `path` from `tables()`: 0, or 1 with the
    problem on stderr (a page that cannot be read or written, a marker naming no table, a
    tool kind or device that does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
        path.write_text(render_page(text, tables()), encoding="utf-8")
    except (KeyError, OSError) as error:
        print(f"{path}: {str(error).strip(chr(34))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
