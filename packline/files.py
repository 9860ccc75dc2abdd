"""Reading the files a user hands packline (station files, recipes): bounded, decoded, strict.

Every problem is a `FileProblem` whose message names the file and what is wrong with it, so
the caller can report it as its own kind of bad input: a file too large to be what it claims,
one that is not UTF-8 (with the byte offset), YAML that is not valid, or a mapping that names
a key twice (YAML would silently keep the last; here both lines are named).
"""

from __future__ import annotations

from dataclasses import dataclass
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


class _Strict(yaml.constructor.SafeConstructor):
    """The safe constructor (data, never code), refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            mark = key_node.start_mark
            if not isinstance(key, str | int | float | bool | None):
                continue  # an unhashable key: the base class refuses it with its own message
            if key in seen:
                first = seen[key]
                where = (
                    f"on line {first.line + 1}, columns {first.column + 1} and {mark.column + 1}"
                    if first.line == mark.line  # one flow mapping: `{gas: O2, gas: Ar}`
                    else f"on line {first.line + 1} and on line {mark.line + 1}"
                )
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice, {where}", mark
                )
            seen[key] = mark
        return super().construct_mapping(node, deep=deep)


class _StrictLoader(_Strict, yaml.SafeLoader):
    """`yaml.SafeLoader` with `_Strict`'s constructor, refusing aliases (`*name`) where they
    are met: a few lines of nested aliases expand to gigabytes, and a recipe or a station file
    never needs them. It tells every problem of a file as packline reports it."""

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


#: libyaml's parser with `_Strict`'s constructor, seven times as fast as `_StrictLoader` (a
#: recipe's 0.01 s); None where PyYAML was built without libyaml.
_FastLoader: type | None = None
if yaml.__with_libyaml__:

    class _FastLoader(_Strict, yaml.CSafeLoader):  # type: ignore[no-redef]
        """libyaml's parser and composer (`CParser`), the resolver and `_Strict`'s
        constructor."""


def _composed(text: str) -> tuple[yaml.Node | None, Any]:
    """The node graph of YAML `text` and the loader that composed it (to construct it with):
    libyaml's (`_FastLoader`) for text without a tab that it composes without a problem or
    an alias (one node reached twice: an alias composes to its anchor's node), else
    `_StrictLoader`'s, which tells the problem as it always has (libyaml words some
    differently) or raises it. libyaml takes a tab where YAML allows only spaces (`a:<tab>1`
    reads {'a': 1}), which the pure-Python parser refuses: a file is read alike wherever
    PyYAML has no libyaml."""
    if _FastLoader is not None and "\t" not in text:
        loader = _FastLoader(text)
        try:
            root = loader.get_single_node()
        except yaml.YAMLError:
            pass
        else:
            if not _has_alias(root):
                return root, loader
        finally:
            loader.dispose()
    loader = _StrictLoader(text)
    try:
        return loader.get_single_node(), loader
    finally:
        loader.dispose()


def _has_alias(root: yaml.Node | None) -> bool:
    """Whether a node of the graph from `root` is reached twice (an alias, `*name`)."""
    seen: set[int] = set()
    todo = [] if root is None else [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            todo.extend(item for pair in node.value for item in pair)
        elif isinstance(node, yaml.SequenceNode):
            todo.extend(node.value)
    return False


#: A tab where YAML refuses one, told as what to change (YAML's own words, "found character
#: '\t' that cannot start any token", name no rule a user can act on).
TAB_PROBLEM = (
    "a tab character, where packline's YAML reader takes only spaces (YAML never indents "
    "with tabs): replace it with spaces"
)


#: What to look for where YAML's own words name its parser's state, not the mistake: by the
#: start of the problem's words, the hint told after them.
_HINTS = {
    "expected <block end>": (
        "the indentation here lines up with no key or `- ` item above it: the keys of one "
        "mapping, and the items of one list, start in one column"
    ),
    "mapping values are not allowed here": (
        "a `: ` here starts a key where none can begin: a key indented under a plain value, "
        "or after a line missing its `:`; or a value holding `: `, which is quoted "
        '(`"a: b"`)'
    ),
    "could not find expected ':'": "a key without its `:`, or a value split over two lines",
}


def _hint(error: yaml.MarkedYAMLError) -> str:
    """What a user can act on beside YAML's own words (`error.problem`), in parentheses: where
    the bracket or quote still open began (its `context_mark`), or what the problem's words
    mean; '' where there is nothing to add."""
    context, began = error.context or "", error.context_mark
    if began is not None:
        at = f"line {began.line + 1}, column {began.column + 1}"
        if context.endswith("quoted scalar"):
            problem = error.problem or ""
            if "escape" in problem:
                return (
                    " (a backslash in a double-quoted value begins an escape: write it `\\\\`, "
                    "or quote the value with single quotes)"
                )
            if "end of stream" in problem or "document separator" in problem:
                return f" (the quote opened on {at} is never closed)"
            return ""
        for what, bracket in (("flow mapping", "{"), ("flow sequence", "[")):
            if context.endswith(what):
                still = "is still open here: its end missing, or a comma"
                return f" (the `{bracket}` opened on {at} {still})"
    problem = error.problem or ""
    for start, hint in _HINTS.items():
        if problem.startswith(start):
            return f" ({hint})"
    return ""


def parse_yaml(text: str, source: str) -> Any:
    """YAML text as data; `source` names it in a `FileProblem`, with where and what to change
    where YAML's own words leave it unsaid (`_hint`)."""
    try:
        root, loader = _composed(text)
        return None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = "" if mark is None else f"line {mark.line + 1}, column {mark.column + 1}: "
        if mark is not None and text[mark.index : mark.index + 1] == "\t":
            problem = TAB_PROBLEM
        else:
            problem = f"{error.problem}{_hint(error)}"
        raise FileProblem(f"{source}: not valid YAML: {where}{problem}") from None
    except yaml.YAMLError as error:
        raise FileProblem(f"{source}: not valid YAML ({error})") from None


@dataclass(frozen=True)
class Written:
    """A value of a YAML file as the file writes it: the line (from 1) of its key or list
    item, and for a scalar its text as written (`02`; `'02'` with its quotes) and what YAML
    reads it as (`YAML_KINDS`: `02` is an int, 2); a mapping or a list is `mapping` or
    `list`, its text ""."""

    line: int
    text: str
    kind: str


#: What YAML reads a scalar as, by its resolved tag: the kinds a recipe field is checked
#: against (`str` for any other tag, which a safe load reads as text).
YAML_KINDS = {
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
}


def yaml_written(text: str) -> dict[tuple[str | int, ...], Written]:
    """Every mapping key's value and list item of YAML `text` (already read with
    `parse_yaml`), by its path (`("tools", "oven", "address")`, `("wafers", 2)`), as the file
    writes it (`Written`): so a problem with a value can name the line it is on and the value
    as written, which YAML may have read as another type (`gas: 02` is the number 2)."""
    written: dict[tuple[str | int, ...], Written] = {}

    def walk(node: yaml.Node, path: tuple[str | int, ...], line: int) -> None:
        if isinstance(node, yaml.ScalarNode):
            quote = node.style if node.style in ("'", '"') else ""
            text = f"{quote}{node.value}{quote}"
            written[path] = Written(line, text, YAML_KINDS.get(node.tag, "str"))
        elif isinstance(node, yaml.MappingNode):
            written[path] = Written(line, "", "mapping")
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    walk(value, (*path, key.value), key.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            written[path] = Written(line, "", "list")
            for index, item in enumerate(node.value):
                walk(item, (*path, index), item.start_mark.line + 1)

    root, _ = _composed(text)
    if root is not None:
        walk(root, (), root.start_mark.line + 1)
    return written


def yaml_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """The line (from 1) of every mapping key and list item of YAML `text` (already read with
    `parse_yaml`), by its path (`yaml_written`): `("tools", "oven", "address")`,
    `("wafers", 2)`; so a problem with a value can name the line it is on."""
    return {path: value.line for path, value in yaml_written(text).items() if path}
