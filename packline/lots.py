"""Lots: the lot id a run's wafers travel under, and the wafers' own (scribe) ids.

Given on the command line (`packline run ... --lot-id L2611-042 --wafers A0123-01,A0123-02`)
or in a lot file, YAML (data, never code; a key given twice is an error)::

    lot: L2611-042                    # the lot id
    wafers: [A0123-01, A0123-02]      # the wafers' scribe ids, in the order they are loaded
    product: FC-BGA 12x12             # optional: what the lot is
    owner: J. Doe                     # optional: whose lot it is (who asked for it)

A run records its lot id, product and owner; `packline runs --lot` finds its runs and
`packline wafer ID` a wafer's. Every problem of a lot file is reported at once, a line each
with the file, the line, the field and the value (a misspelt field with the field it may
mean), before anything is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packline.drivers.equipment import validate_wafer_id
from packline.drivers.errors import PacklineError
from packline.files import FileProblem, parse_yaml, read_text, yaml_lines
from packline.spelling import not_a_field, spelt_closest

#: Where in a lot file: a key path (`("wafers", 2)`).
Where = tuple[str | int, ...]

#: The longest lot id (MES lot ids are a few to a few tens of characters).
LOT_ID_MAX_LENGTH = 32
#: The longest product or owner text of a lot file.
LOT_TEXT_MAX_LENGTH = 200
#: The fields of a lot file: name -> what it holds.
LOT_FIELDS = {
    "lot": "the lot id",
    "wafers": "the wafers' scribe ids, in load order",
    "product": "optional: what the lot is",
    "owner": "optional: whose lot it is",
}


class LotError(PacklineError):
    """A lot file or a lot id is wrong; nothing was touched."""


@dataclass(frozen=True)
class LotIdentity:
    """What a run records about its lot beside its wafers (None: not given)."""

    lot_id: str | None = None
    product: str | None = None
    owner: str | None = None

    def columns(self) -> dict[str, str | None]:
        """The run record's columns of the lot."""
        return {"lot_id": self.lot_id, "lot_product": self.product, "lot_owner": self.owner}


@dataclass(frozen=True)
class LotFile:
    """A lot file as read: its lot and its wafers' ids."""

    identity: LotIdentity
    wafer_ids: list[str]


def validate_lot_id(lot_id: str) -> str:
    """`lot_id` if it is one (1-32 printable characters, no whitespace), else ValueError
    saying what a lot id is."""
    if not 1 <= len(lot_id) <= LOT_ID_MAX_LENGTH or not all(
        c.isprintable() and not c.isspace() for c in lot_id
    ):
        raise ValueError(
            f"lot id {lot_id!r} must be 1-{LOT_ID_MAX_LENGTH} printable characters, no space"
        )
    return lot_id


def load_lot_file(path: str | Path) -> LotFile:
    """Read and check a lot file; `LotError` names the file and every problem of it at once,
    a line each with its line, field and value, as a station file's and a recipe's are: a
    misspelt field with the field it may mean, each wrong or repeated wafer id, so the file
    is fixed in one round."""
    path = Path(path)
    source = f"lot file {path}"
    try:
        text = read_text(path, "lot file")
        data = parse_yaml(text, source)
    except FileProblem as error:
        raise LotError(str(error)) from None
    lines = yaml_lines(text)
    if not isinstance(data, dict):
        raise LotError(
            f"{source}: a lot file is a mapping of {', '.join(LOT_FIELDS)} "
            f"({'; '.join(f'{k}: {v}' for k, v in LOT_FIELDS.items())})"
        )
    problems: list[str] = []

    def wrong(where: Where, message: str) -> None:
        line = lines.get(where, lines.get(where[:1]))
        at = f"line {line}: " if line is not None else ""
        field = ".".join(str(part) for part in where)
        problems.append(f"{source}: {at}{field}: {message}")

    meant: set[str] = set()  # the fields the misspelt keys may mean: not missing as well
    for key in data:
        if key not in LOT_FIELDS:
            wrong((str(key),), not_a_field(str(key), "a lot file", LOT_FIELDS))
            meant.update(spelt_closest(str(key), LOT_FIELDS))
    for required in ("lot", "wafers"):
        if required not in data and required not in meant:
            problems.append(f"{source}: {required}: missing ({LOT_FIELDS[required]})")
    lot_id = _lot_id(data, wrong)
    wafers = _wafer_ids(data, wrong)
    texts = {key: _optional_text(data, key, wrong) for key in ("product", "owner")}
    if problems or lot_id is None or wafers is None:
        raise LotError("\n".join(problems))
    return LotFile(LotIdentity(lot_id, texts["product"], texts["owner"]), wafers)


def _lot_id(data: dict[str, Any], wrong: Callable[[Where, str], None]) -> str | None:
    """The file's lot id, or None when it has none or a wrong one (told to `wrong`)."""
    lot_id = data.get("lot")
    if lot_id is None:
        return None
    if not isinstance(lot_id, str):
        wrong(("lot",), f"{lot_id!r} is not text; write the lot id (quote it if numeric)")
        return None
    try:
        return validate_lot_id(lot_id)
    except ValueError as error:
        wrong(("lot",), str(error))
        return None


def _wafer_ids(data: dict[str, Any], wrong: Callable[[Where, str], None]) -> list[str] | None:
    """The file's wafer ids, or None when it has none or any is wrong: each wrong one, and
    each given again, told to `wrong` at its place."""
    if "wafers" not in data:
        return None
    wafers = data["wafers"]
    if not isinstance(wafers, list) or not wafers:
        wrong(("wafers",), f"{wafers!r}: give a list of one or more wafer ids")
        return None
    seen: dict[str, int] = {}
    sound = True
    for i, wafer_id in enumerate(wafers):
        if not isinstance(wafer_id, str):
            wrong(("wafers", i), f"{wafer_id!r} is not text (quote it if numeric)")
            sound = False
            continue
        try:
            validate_wafer_id(wafer_id)
        except ValueError as error:
            wrong(("wafers", i), str(error))
            sound = False
        if wafer_id in seen:
            wrong(
                ("wafers", i),
                f"wafer id {wafer_id!r} is given twice (also wafers.{seen[wafer_id]})",
            )
            sound = False
        else:
            seen[wafer_id] = i
    return list(wafers) if sound else None


def _optional_text(
    data: dict[str, Any], key: str, wrong: Callable[[Where, str], None]
) -> str | None:
    """An optional text field: absent is None, else printable text of at most 200 characters
    (a wrong one told to `wrong`, and None)."""
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        wrong((key,), f"{value!r}: {LOT_FIELDS[key]}, as printable text, not blank")
        return None
    if len(value) > LOT_TEXT_MAX_LENGTH:
        wrong((key,), f"longer than {LOT_TEXT_MAX_LENGTH} characters")
        return None
    return value.strip()
