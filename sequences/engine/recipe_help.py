"""A method's recipe explained: a commented template, a JSON schema and a field reference, all
made from the recipe model's own declarations (`recipe_fields`).

The template is the method's reference recipe written out with every field's unit, range,
default and doc beside it, and every field the reference leaves out (an optional section, the
other members of a choice of sections) commented out below, so it reads as the recipe's manual
and, uncommented as it is, validates to the reference recipe itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import BaseModel

from .method import Method
from .recipe_fields import (
    FieldFacts,
    discriminator_of,
    fields_of,
    scalar_text,
    section_doc,
    section_kinds,
)

INDENT = "  "


def recipe_template(method: Method) -> str:
    """The method's reference recipe (its default recipe file, or its recipe model's defaults)
    as a commented YAML template with every field."""
    if method.default_recipe is not None:
        recipe, _ = method.load_default_recipe()
        model: type[BaseModel] = type(recipe)
        values: dict[str, Any] | None = recipe.model_dump(mode="json")
    else:
        model, values = method.recipe_model, None
    lines = [
        f"# {method.name} recipe: {method.title}",
        "# Every field with its unit, range and default. Quantities take any unit of their",
        "# dimension ('0.055 mm' for 55 um). Commented-out blocks are the options this recipe",
        f"# does not use. Check a recipe with: packline validate {method.name} --recipe FILE",
    ]
    _write_fields(lines, model, values, depth=0, commented=values is None)
    return "\n".join(lines) + "\n"


def _write_fields(
    lines: list[str],
    model: type[BaseModel],
    values: dict[str, Any] | None,
    depth: int,
    commented: bool,
    first_prefix: str = "",
    kind_key: str | None = None,
) -> None:
    """Write `model`'s fields; `values` None writes placeholders, commented out; `kind_key`:
    the key that tells the members of a choice of sections apart, when `model` is one."""
    for position, facts in enumerate(_member_fields(model, kind_key)):
        pad = INDENT * depth
        if position == 0 and first_prefix:
            pad = INDENT * (depth - 1) + first_prefix
        mark = "# " if commented else ""
        given = values is not None and facts.name in values
        value = values.get(facts.name) if values is not None else None
        if not facts.sections:
            shown = scalar_text(value) if given else _placeholder(facts)
            lines.append(f"{mark}{pad}{facts.name}: {shown}  # {describe(facts)}")
            continue
        if facts.kind == "list of sections":
            lines.append(f"{mark}{pad}{facts.name}:  # {describe(facts)}")
            items = value if given and value else [None]
            for item in items:
                section = _member_for(facts.sections, item)
                _write_fields(lines, section, item, depth + 2, commented or item is None, "- ")
            continue
        chosen = _member_for(facts.sections, value) if given and value is not None else None
        key = _kind_key(model, facts.name)
        if chosen is None:
            absent = "null" if given else ""
            lines.append(f"{mark}{pad}{facts.name}: {absent}  # {describe(facts)}".rstrip())
        else:
            lines.append(f"{mark}{pad}{facts.name}:  # {describe(facts)}")
            _write_fields(lines, chosen, value, depth + 1, commented, kind_key=key)
        for other in facts.sections:
            if other is chosen:
                continue
            if chosen is not None or len(facts.sections) > 1:
                lines.append(f"{INDENT * (depth + 1)}# or: {section_doc(other)}")
            elif facts.optional_section and facts.needed_when is None:
                lines.append(f"{INDENT * (depth + 1)}# optional: {section_doc(other)}")
            if chosen is not None:
                lines.append(f"# {pad}{facts.name}:")
            _write_fields(lines, other, None, depth + 1, commented=True, kind_key=key)


def _kind_key(model: type[BaseModel], name: str) -> str | None:
    """The key that tells apart the kinds of section field `name` of `model` takes (None: the
    field is no such choice)."""
    kinds = section_kinds(model, name)
    return None if kinds is None else kinds[0]


def _member_fields(model: type[BaseModel], kind_key: str | None) -> list[FieldFacts]:
    """`fields_of(model)`, its `kind_key` required whatever its default: a member of a choice
    of sections is told by that key, which a recipe must give (a seed's `process` defaults to
    deposition where it is the only kind, and is refused left out of `wiring.seed`)."""
    return [
        replace(facts, required=True, default=None) if facts.name == kind_key else facts
        for facts in fields_of(model)
    ]


def _member_for(sections: tuple[type[BaseModel], ...], value: Any) -> type[BaseModel]:
    """The member of a choice of sections that a value (as the file writes it) selects."""
    if len(sections) == 1 or not isinstance(value, dict):
        return sections[0]
    for section in sections:
        selector = discriminator_of(section)
        if selector is not None and value.get(selector[0]) == selector[1]:
            return section
    raise ValueError(f"no member of {[s.__name__ for s in sections]} takes {value!r}")


def _placeholder(facts: FieldFacts) -> str:
    if not facts.required and facts.needed_when is None:
        return facts.default_text()
    if len(facts.choices) == 1:  # the selector of a member of a choice of sections
        return facts.choices[0]
    if facts.choices:
        return "<" + "|".join(facts.choices) + ">"
    return f"<{facts.unit}>" if facts.unit else f"<{facts.kind}>"


def describe(facts: FieldFacts) -> str:
    """One line on a field: its doc, what it takes, its range, its default."""
    parts = [facts.doc] if facts.doc else []
    if facts.sections and not facts.doc:
        many = len(facts.sections) > 1
        parts.append("one of the sections below" if many else section_doc(facts.sections[0]))
    parts += facts.takes()
    if facts.requirement():
        parts.append(facts.requirement())
    elif not facts.sections:
        parts.append(f"default {facts.default_text()}")
    return "; ".join(parts)


def recipe_schema(method: Method) -> dict[str, Any]:
    """The JSON schema of the method's recipe (pydantic's), with each field's doc, unit and
    range: quantities are strings with a unit, so their bounds are `x-unit`, `x-minimum`,
    `x-maximum` (in that unit), `x-range-source` says which tool's range bounds them, and
    `x-minimum-for` a bound one use of the field must meet (`AtLeastFor`)."""
    schema = method.recipe_model.model_json_schema()
    schema["title"] = f"{method.name} recipe"
    for model in _models(method.recipe_model):
        target = (
            schema if model is method.recipe_model else schema.get("$defs", {}).get(model.__name__)
        )
        if target is None:
            continue
        properties = target.get("properties", {})
        for facts in fields_of(model):
            properties.setdefault(facts.name, {}).update(_schema_facts(facts))
    return schema


def _schema_facts(facts: FieldFacts) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if facts.doc:
        extra["description"] = facts.doc
    prefix = "x-" if facts.unit or facts.counts_items else ""
    if facts.unit:
        extra["x-unit"] = facts.unit
    for bound, name in ((facts.low, "minimum"), (facts.high, "maximum")):
        if bound is not None:
            key = name if bound.inclusive else "exclusive" + name.capitalize()
            extra[prefix + key if prefix else key] = bound.value
    if facts.counts_items:
        extra["x-counts-items"] = True
    if facts.range_source:
        extra["x-range-source"] = facts.range_source
    if facts.at_least_for is not None:
        extra["x-minimum-for"] = {
            "minimum": facts.at_least_for.minimum,
            "use": facts.at_least_for.use,
        }
    return extra


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """`model` and every recipe model reachable through its sections, each once."""
    found: list[type[BaseModel]] = []
    pending = [model]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        pending.extend(s for facts in fields_of(current) for s in facts.sections)
    return found


def field_reference(method: Method) -> list[dict[str, Any]]:
    """Every field of the method's recipe by its path in the file: what it takes, its range,
    its default, its doc (the `packline methods METHOD` table and the docs' field reference)."""
    rows: list[dict[str, Any]] = []
    _reference(rows, method.recipe_model, "")
    return rows


def _reference(
    rows: list[dict[str, Any]], model: type[BaseModel], prefix: str, kind_key: str | None = None
) -> None:
    for facts in _member_fields(model, kind_key):
        path = prefix + facts.name
        rows.append(
            {
                "path": path,
                "takes": ", ".join(facts.choices) if facts.choices else facts.unit or facts.kind,
                "range": facts.range_text(),
                "default": "not done"
                if facts.optional_section and facts.needed_when is None
                else (facts.requirement() or facts.default_text()),
                "doc": facts.doc or " or ".join(section_doc(s) for s in facts.sections),
            }
        )
        listed = ".N." if facts.kind == "list of sections" else "."
        for section in facts.sections:
            selector = discriminator_of(section) if len(facts.sections) > 1 else None
            when = f"[{selector[0]}: {selector[1]}]" if selector else ""
            _reference(rows, section, f"{path}{when}{listed}", _kind_key(model, facts.name))
