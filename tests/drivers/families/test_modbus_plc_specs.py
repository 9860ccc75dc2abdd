"""Every PLC map declared with the Modbus PLC family is consistent: one register, one meaning.

A map is declared once (drivers/specs/<tool>.py) and everything else is derived from it, so a
register declared twice, an alarm or interlock bit used twice, a refusal code the family relies
on left out, or a command whose parameters overrun the parameter block would surface only as a
wrong byte on the wire. These checks catch it where it is written.
"""

from __future__ import annotations

import importlib

import pytest

from packline.drivers.families.plc_map import (
    HELD_READ,
    BitAlarm,
    BitInterlock,
    PlcMap,
    PlcStatus,
    Reason,
    example_frames,
)
from packline.drivers.specs import ToolSpec
from packline.drivers.specs.laminator import SPEC as LAMINATOR
from packline.drivers.specs.plasma_cleaner import SPEC as PLASMA_CLEANER

PLC_SPECS = [LAMINATOR, PLASMA_CLEANER]


def plc_map(spec: ToolSpec) -> PlcMap:
    assert isinstance(spec.wire, PlcMap)
    return spec.wire


def test_both_specs_are_bound_to_the_family():
    assert [spec.family for spec in PLC_SPECS] == ["modbus_plc", "modbus_plc"]


@pytest.mark.parametrize("spec", PLC_SPECS, ids=lambda spec: spec.kind)
def test_no_register_has_two_meanings(spec: ToolSpec):
    wire = plc_map(spec)
    owner: dict[int, str] = {}
    entries = [s for s in spec.status if isinstance(s, PlcStatus)] + wire.fields(spec)
    for entry in entries:
        for index in range(entry.repeat):
            for address in range(entry.address(index), entry.address(index) + entry.words):
                assert address not in owner, f"{address}: {owner.get(address)} and {entry.name}"
                owner[address] = entry.name
    first, count = wire.setpoint_extent(spec)
    assert wire.read_only_end(spec) <= first
    assert first + count <= wire.command_register < wire.parameter_register


@pytest.mark.parametrize("spec", PLC_SPECS, ids=lambda spec: spec.kind)
def test_bits_and_codes_are_unique_and_the_family_codes_are_there(spec: ToolSpec):
    alarm_bits = [a.bit for a in spec.alarms if isinstance(a, BitAlarm)]
    interlock_bits = [i.bit for i in spec.interlocks if isinstance(i, BitInterlock)]
    assert len(set(alarm_bits)) == len(alarm_bits) == len(spec.alarms)
    assert len(set(interlock_bits)) == len(interlock_bits) == len(spec.interlocks)
    assert {int(reason) for reason in Reason} <= {refusal.code for refusal in spec.refusals}
    assert {"ABORT", "RESET_ALARMS"} <= set(spec.command_by_name)


@pytest.mark.parametrize("spec", PLC_SPECS, ids=lambda spec: spec.kind)
def test_the_poll_reads_the_family_registers(spec: ToolSpec):
    wire = plc_map(spec)
    for name in ("ALARMS", "INTERLOCKS", "COMMAND_ERROR"):
        assert wire.status_address(spec, name) < wire.status_registers


HELD_SPECS = [
    importlib.import_module(f"packline.drivers.specs.{kind}").SPEC
    for kind in (
        "ball_mounter",
        "deposition",
        "electroplater",
        "laminator",
        "plasma_cleaner",
        "stencil_printer",
    )
]


@pytest.mark.parametrize("spec", HELD_SPECS, ids=lambda spec: spec.kind)
def test_the_held_read_counts_values_of_the_status_block_and_lies_off_the_map(spec: ToolSpec):
    wire = plc_map(spec)
    assert wire.holds_status
    assert HELD_READ.function_code in wire.function_codes
    assert len(set(wire.changes_counted)) == len(wire.changes_counted)
    for name in wire.changes_counted:
        assert wire.status_address(spec, name) < wire.status_registers, name
    first, count = wire.setpoint_extent(spec)
    assert first + count <= wire.command_register  # the hold block follows the command's
    assert wire.parameter_register + wire.parameter_registers(spec) <= HELD_READ.hold_block
    assert HELD_READ.hold_block + 2 <= HELD_READ.status_block


def test_the_ovens_plc_has_no_held_read():
    from packline.drivers.specs.oven import SPEC as OVEN

    assert not plc_map(OVEN).holds_status
    assert HELD_READ.function_code not in plc_map(OVEN).function_codes


def test_example_frames_join_wrapped_lines_and_pair_replies():
    page = (
        "## Example exchange\n\ntext\n\n```\n> 00 01\n< 00 01 02\n  03 04\n```\n\nmore\n\n"
        "```\n> 0a\n< 0b\n```\n\n## Next\n\n```\n> ff\n```\n"
    )
    assert example_frames(page) == [
        (bytes.fromhex("0001"), bytes.fromhex("0001020304")),
        (bytes.fromhex("0a"), bytes.fromhex("0b")),
    ]


@pytest.mark.parametrize("spec", PLC_SPECS, ids=lambda spec: spec.kind)
def test_the_refused_register_sits_just_before_the_reason(spec: ToolSpec):
    """The driver reads both in one request (`ModbusPlcDriver.reason`): a map that names the
    register a refusal concerned must place it right before COMMAND_ERROR."""
    wire = spec.wire
    assert isinstance(wire, PlcMap)
    refused = wire.refused_register(spec)
    if refused is not None:
        assert wire.status_address(spec, "COMMAND_ERROR") == refused + 1
