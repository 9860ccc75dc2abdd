"""Wafer ids: unique per lot on a shared line, readable, within the 16-character limit; named
by the user when they wish."""

from __future__ import annotations

import re

import pytest

from packline.clock import ScaledClock
from packline.drivers.equipment import is_wafer_id
from packline.sequences.engine import BadInput, RunRequest, open_run, prepare
from packline.sequences.engine.launch import lot_wafer_ids
from packline.sim_instruments.line import SimulatedLine

from .helpers import station_lot


async def test_two_lots_on_one_served_line_work_on_their_own_wafers(store, tmp_path):
    """Two lots one after another against one running line (a `sim serve`): the second lot's
    wafers are fresh ones, not the first lot's wafers processed again."""
    async with SimulatedLine(ScaledClock(2000), kinds=["plasma_cleaner"]) as line:
        station = tmp_path / "line.yaml"
        station.write_text(line.station.to_yaml())
        lots = []
        for _ in range(2):
            request = station_lot(station)
            async with open_run(store, prepare(request), confirm=_yes) as engine:
                assert await engine.run() == "completed"
            lots.append([w["wafer_id"] for w in store.wafers(engine.run_id)])
        first, second = lots
        assert not set(first) & set(second)
        for run_wafers in lots:
            assert all(re.fullmatch(r"\d{6}-[0-9a-f]{4}-W0[12]", w) for w in run_wafers)
        assert sorted(wafer.id for wafer in line.twin) == sorted(first + second)
        for wafer in line.twin:  # each was cleaned once
            assert wafer.operations().count("plasma clean") == 1, wafer.id


@pytest.mark.parametrize("character", [chr(code) for code in range(0x180)])
def test_a_wafer_id_is_printable_ascii_without_space_or_separator(character: str):
    allowed = "!" <= character <= "~" and character not in ',;"'
    assert is_wafer_id(f"W{character}1") is allowed
    assert is_wafer_id(character * 16) is allowed
    assert not is_wafer_id(character * 17)
    assert not is_wafer_id(f"W01{character}\n")  # a trailing newline is a character too


def test_a_wafer_id_has_one_to_sixteen_characters():
    assert [is_wafer_id("W" * n) for n in (0, 1, 16, 17)] == [False, True, True, False]


async def _yes(wafers: str, prompt: str) -> tuple[bool, str]:
    return True, "test"


def test_numbered_ids_fit_the_wire_for_every_lot_size():
    run_id = "20261130-055012-3f2a"
    assert lot_wafer_ids(run_id, 2, own_line=False) == ["055012-3f2a-W01", "055012-3f2a-W02"]
    assert lot_wafer_ids(run_id, 999, own_line=False)[-1] == "055012-3f2a-W999"
    assert lot_wafer_ids(run_id, 2, own_line=True) == ["W01", "W02"]
    assert all(
        len(w) <= 16 for w in lot_wafer_ids("a-very-long-custom-run-id", 999, own_line=False)
    )


def test_named_wafers_are_the_lot(tmp_path):
    prepared = prepare(RunRequest("plasma-clean", wafer_ids=["LOT7-A", "LOT7-B"]))
    assert (prepared.lot, prepared.wafer_ids) == (2, ["LOT7-A", "LOT7-B"])


@pytest.mark.parametrize(
    ("wafer_ids", "expected"),
    [
        (["A", "A"], "wafer id(s) A given more than once"),
        (["A B"], "wafer id 'A B' must be 1-16 printable ASCII"),
        (["X" * 17], "must be 1-16 printable ASCII"),
        ([], "a lot has 1 to 999 wafers, not 0"),
    ],
)
def test_bad_named_wafers_are_refused(wafer_ids, expected):
    with pytest.raises(BadInput, match=re.escape(expected)):
        prepare(RunRequest("plasma-clean", wafer_ids=wafer_ids))
