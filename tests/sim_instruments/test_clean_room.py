"""Every simulated tool stands in the line's one clean room (`AMBIENT_C`,
drivers/roles/clean_room.py): what a tool heats starts at it. The tools' models had each said
their own room: the flip-chip bonder's stage and the litho cell's hot plate 23 degC, the wire
bonder's stage, the laminator's platen and the oven's zones 25 degC, the plating bath 22 degC."""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.sim_instruments.flip_chip_bonder import SimFlipChipBonder
from packline.sim_instruments.laminator import SimLaminator
from packline.sim_instruments.lithography import SimLithography
from packline.sim_instruments.oven import SimOven
from packline.sim_instruments.physics.electroplater import BATH
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.wire_bonder import SimWireBonder


def test_what_every_tool_heats_starts_in_the_lines_room_and_cools_towards_it():
    clock, twin = VirtualClock(), TwinStore()
    now = clock.now()
    assert SimFlipChipBonder("fc", twin, clock).stage_c == AMBIENT_C
    assert SimLithography("litho", twin, clock).hotplate.at(now) == AMBIENT_C
    assert SimWireBonder("bonder", twin, clock).stage.at(now) == AMBIENT_C
    assert SimLaminator("laminator", twin, clock).platen.at(now) == AMBIENT_C
    assert {zone.process_c for zone in SimOven("oven", twin, clock).zones} == {AMBIENT_C}
    # the plating bath, its heater off for two days, is at the room
    assert BATH.cooled(60.0, 48 * 3600) == pytest.approx(AMBIENT_C)
