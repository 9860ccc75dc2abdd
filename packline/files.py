"""Reading the files a user hands packline (station files, recipes): bounded, decoded, strict.

Every problem is a `FileProblem` whose message names the file and what is wrong with it, so
the caller can report it as its own kind of bad input: a file too large to be what it claims,
one that is not UTF-8 (with the byte offset), YAML that is not valid, or a mapping that names
a key twice (YAML would silently keep the last; here both lines are named).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: The largest station or recipe file packline reads; real ones are a few kilobytes.
MAX_FILE_BYTES = 1_000_000


class FileProblem(ValueError):
    """A user's file cannot be read as what it should be; the message says why."""


def read_text(path: Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of the file at `path` (a `what`, e.g. "station file")."""
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise FileProblem(f"{what} {path}: cannot read it ({error.strerror})") from None
    if len(data) > max_bytes:
        raise FileProblem(f"{what} {path}: larger than {max_bytes:,} bytes; is it the right file?")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileProblem(
            f"{what} {path}: not UTF-8 text (byte {error.start} is 0x{data[error.start]:02x})"
        ) from None


class _StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` (data, never code) that refuses a key given twice in one mapping, and
    aliases (`*name`): a few lines of nested aliases expand to gigabytes, and a recipe or a
    station file never needs them."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not accepted; write the value out",
                event.start_mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool | None):
                continue  # an unhashable key: the base class refuses it with its own message
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"key {key!r} is given twice, on line {seen[key]} and on line {line}",
                    key_node.start_mark,
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, source: str) -> Any:
    """YAML text as data; `source` names it in a `FileProblem`."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: "
        raise FileProblem(f"{source}: not valid YAML: {where}{error.problem}") from None
    except yaml.YAMLError as error:
        raise FileProblem(f"{source}: not valid YAML ({error})") from None


def yaml_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """The line (from 1) of every mapping key and list item of YAML `text` (already read with
    `parse_yaml`), by its path: `("tools", "oven", "address")`, `("wafers", 2)`; so a
    problem with a value can name the line it is on."""
    lines: dict[tuple[str | int, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    lines[(*path, key.value)] = key.start_mark.line + 1
                    walk(value, (*path, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines[(*path, index)] = item.start_mark.line + 1
                walk(item, (*path, index))

    root = yaml.compose(text, Loader=_StrictLoader)
    if root is not None:
        walk(root, ())
    return lines
