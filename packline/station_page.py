"""The station-file reference (docs/station-file.md): its tables rendered from the station
model's own declarations, so each fact about a field is stated once, in `packline.station`.

Each field's row reads its `#:` doc, its type, its unit (a `_s` name is in seconds), its range
(its `Field` bounds), its default and its `Field` examples; the link table reads each link
kind's address forms, examples and options (`packline.drivers.links.LINK_KINDS`).

    python -m packline.station_page docs/station-file.md

rewrites the page's marked tables in place; a test fails on a page out of step with the code.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from packline.drivers.links import LINK_KINDS
from packline.drivers.specs.pages import page_command, table
from packline.plain_words import field_unit
from packline.sequences.engine.recipe_fields import field_docs
from packline.station import Station, ToolEntry

#: A model's name in the tables' type column.
MODEL_NAMES: dict[type[BaseModel], str] = {ToolEntry: "tool entry", Station: "station"}
#: A plain type's name in the tables' type column.
TYPE_NAMES: dict[Any, str] = {
    str: "text",
    int: "integer",
    float: "number",
    bool: "yes/no",
    Any: "any value",
}


def type_text(annotation: Any) -> str:
    """What a field takes, in words: 'text or mapping of text', '[minimum, maximum]'."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " or ".join(type_text(a) for a in get_args(annotation) if a is not type(None))
    if origin is dict:
        value = get_args(annotation)[1]
        words = type_text(value)
        nested = get_origin(value) in (Union, types.UnionType)
        return f"mapping of ({words})" if nested else f"mapping of {words}"
    if origin is tuple:
        return "[minimum, maximum]"
    if annotation in MODEL_NAMES:
        return MODEL_NAMES[annotation]
    return TYPE_NAMES[annotation]


def range_text(name: str, info: FieldInfo) -> str:
    """A field's unit and bounds: 's, >= 0.01, <= 600'; 'length >= 1, length <= 64'."""
    parts = [unit] if (unit := field_unit(name)) else []
    words = {
        annotated_types.Gt: ("gt", "> {}"),
        annotated_types.Ge: ("ge", ">= {}"),
        annotated_types.Lt: ("lt", "< {}"),
        annotated_types.Le: ("le", "<= {}"),
        annotated_types.MinLen: ("min_length", "length >= {}"),
        annotated_types.MaxLen: ("max_length", "length <= {}"),
    }
    for item in info.metadata:
        for kind, (attribute, form) in words.items():
            if isinstance(item, kind):
                parts.append(form.format(f"{getattr(item, attribute):g}"))
    return ", ".join(parts) or "-"


def default_text(info: FieldInfo) -> str:
    """'required', 'none' (absent), the default value, or 'empty' for an empty mapping."""
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "empty"
    if info.default is None or info.default is PydanticUndefined:
        return "none"
    return f"`{str(info.default).lower() if isinstance(info.default, bool) else info.default}`"


def field_table(model: type[BaseModel]) -> str:
    """One row per field of `model`: name, what it is, type, unit and range, default,
    examples."""
    docs = field_docs(model)
    rows = [
        (
            f"`{name}`",
            docs.get(name, ""),
            type_text(info.annotation),
            range_text(name, info),
            default_text(info),
            ", ".join(f"`{example}`" for example in info.examples or ()) or "-",
        )
        for name, info in model.model_fields.items()
    ]
    return table(("field", "what", "type", "unit, range", "default", "example"), rows)


def link_table() -> str:
    """One row per link kind: the address forms that choose it, examples, its options."""
    rows = [
        (
            kind.name,
            ", ".join(f"`{form}`" for form in kind.address_forms),
            ", ".join(f"`{example}`" for example in kind.examples),
            ", ".join(f"`{option}`" for option in sorted(kind.options)) or "-",
        )
        for kind in LINK_KINDS.values()
    ]
    return table(("link", "address forms", "examples", "options"), rows)


def page_tables() -> dict[str, str]:
    """The page's tables by marker name."""
    return {
        "station": field_table(Station),
        "tool": field_table(ToolEntry),
        "links": link_table(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite the page's marked tables: `PAGE`."""
    return page_command(argv, "packline.station_page", page_tables)


if __name__ == "__main__":
    raise SystemExit(main())
