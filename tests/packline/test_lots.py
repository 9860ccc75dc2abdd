"""Lot files: a lot id and its wafers' scribe ids, every problem named by file, line, field and
value."""

from __future__ import annotations

import pytest

from packline.lots import LotError, LotIdentity, load_lot_file, validate_lot_id


def test_a_lot_file_gives_the_lot_and_its_wafers(tmp_path):
    path = tmp_path / "lot.yaml"
    path.write_text(
        "lot: L2611-042\nwafers: [A0123-01, A0123-02]\nproduct: FC-BGA 12x12\nowner: J. Doe\n"
    )
    lot = load_lot_file(path)
    assert lot.identity == LotIdentity("L2611-042", "FC-BGA 12x12", "J. Doe")
    assert lot.wafer_ids == ["A0123-01", "A0123-02"]
    assert lot.identity.columns() == {
        "lot_id": "L2611-042",
        "lot_product": "FC-BGA 12x12",
        "lot_owner": "J. Doe",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lot: L1\nwafers:\n  - A1\n  - 'A 2'\n", "line 4: wafers.1: wafer id 'A 2' must be 1-16"),
        (
            "lot: L1\nwafers:\n  - A1\n  - A1\n",
            "line 4: wafers.1: wafer id 'A1' is given twice (also wafers.0)",
        ),
        ("lot: 'L 1'\nwafers: [A1]\n", "line 1: lot: lot id 'L 1' must be 1-32 printable"),
        ("lot: 2611\nwafers: [A1]\n", "line 1: lot: 2611 is not text"),
        (
            "lot: L1\nwafer: [A1]\n",
            "line 2: wafer: not a field of a lot file (did you mean 'wafers'?); its fields: lot,",
        ),
        ("lot: L1\n", "wafers: missing (the wafers' scribe ids, in load order)"),
        ("lot: L1\nwafers: []\n", "line 2: wafers: []: give a list of one or more wafer ids"),
        ("lot: L1\nwafers: [A1, 7]\n", "line 2: wafers.1: 7 is not text"),
        ("lot: L1\nwafers: [A1]\nowner: ''\n", "line 3: owner: '': optional: whose lot"),
        ("- L1\n", "a lot file is a mapping of lot, wafers, product, owner"),
        ("lot: L1\nlot: L2\nwafers: [A1]\n", "key 'lot' is given twice, on line 1 and on line 2"),
    ],
)
def test_a_wrong_lot_file_is_named_with_its_line_field_and_value(tmp_path, text, message):
    path = tmp_path / "lot.yaml"
    path.write_text(text)
    with pytest.raises(LotError) as raised:
        load_lot_file(path)
    assert f"lot file {path}: " in str(raised.value)
    assert message in str(raised.value)


def test_every_problem_of_a_lot_file_is_named_at_once_a_line_each(tmp_path):
    """A misspelt field is told with the field it may mean, beside every other problem (a
    wafer id given twice, a wrong one, a blank product), so the file is fixed in one round;
    a required field the misspelt key names is not refused again as missing."""
    path = tmp_path / "lot.yaml"
    path.write_text("lott: L1\nwafers: [A1, 'A 2', A1, A3, A3]\nproduct: ''\nownr: J. Doe\n")
    with pytest.raises(LotError) as raised:
        load_lot_file(path)
    source = f"lot file {path}"
    assert str(raised.value).splitlines() == [
        f"{source}: line 1: lott: not a field of a lot file (did you mean 'lot'?); its fields: "
        "lot, wafers, product, owner",
        f"{source}: line 4: ownr: not a field of a lot file (did you mean 'owner'?); its "
        "fields: lot, wafers, product, owner",
        f"{source}: line 2: wafers.1: wafer id 'A 2' must be 1-16 printable ASCII characters, "
        "no space, comma, semicolon or double quote",
        f"{source}: line 2: wafers.2: wafer id 'A1' is given twice (also wafers.0)",
        f"{source}: line 2: wafers.4: wafer id 'A3' is given twice (also wafers.3)",
        f"{source}: line 3: product: '': optional: what the lot is, as printable text, not blank",
    ]


def test_a_missing_lot_file_is_named(tmp_path):
    with pytest.raises(LotError, match=r"lot file .*nope.yaml: cannot read it"):
        load_lot_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize("lot_id", ["", "L 1", "L\t1", "x" * 33])
def test_a_lot_id_is_printable_without_spaces(lot_id):
    with pytest.raises(ValueError, match="must be 1-32 printable characters, no space"):
        validate_lot_id(lot_id)
