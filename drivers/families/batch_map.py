"""The batch block of a PLC map, what both ends of the link share.

The PLC tools that take a batch in slots behind a door (the oven, the batch chambers of
`chamber_map.py`) present the same block on their maps: `DOOR_CLOSED`, `SLOT_CAPACITY` and
`SLOTS_OCCUPIED` (adjacent) in the status, the slot ids in the repeated text block
`SLOT_WAFER_ID`, the commands `LOAD_WAFER` (slot, wafer id), `RELOAD_WAFER` (the same, as a
rework) and `UNLOAD_WAFER` (slot) through the open door, and the slot refusals 5-7 and 12
(the door and the slots counted in `STATUS_CHANGES` where the map counts changes). Each
such spec declares its block from here; `BatchPlcDriver` (`drivers/families/modbus_plc.py`)
drives it and `BatchPlcSimulator` (`sim_instruments/families/modbus_plc.py`) simulates it.
"""

from __future__ import annotations

from dataclasses import replace

from .plc_map import NamedRefusal, PlcCommand, PlcParameter, PlcStatus, plc_refusals
from .stage_map import processed_here, rework_load, wafer_id_parameter

#: Registers per slot id in `SLOT_WAFER_ID` (8 registers of ASCII each).
SLOT_STRIDE = 8
#: The batch block's status values whose changes `STATUS_CHANGES` counts (`PlcMap`).
BATCH_CHANGES = ("DOOR_CLOSED", "SLOTS_OCCUPIED")


def door_status(register: int) -> PlcStatus:
    """`DOOR_CLOSED` at `register`."""
    return PlcStatus(name="DOOR_CLOSED", register=register, codes=((0, "open"), (1, "closed")))


def slot_status(register: int, max_slots: int) -> tuple[PlcStatus, PlcStatus]:
    """`SLOT_CAPACITY` at `register` (1 to `max_slots`) and `SLOTS_OCCUPIED` after it (the
    driver reads both in one request)."""
    return (
        PlcStatus(
            name="SLOT_CAPACITY",
            register=register,
            doc=f"number of wafer slots (1-{max_slots}): how many wafers the tool takes at once "
            "(`request_capacity`), which a station's `capacity` may not exceed",
        ),
        PlcStatus(
            name="SLOTS_OCCUPIED",
            register=register + 1,
            doc="bit field, bit n = slot n holds a wafer",
        ),
    )


def slot_ids(register: int, max_slots: int, workpiece: str = "wafer") -> PlcStatus:
    """`SLOT_WAFER_ID` from `register`: the id of the `workpiece` in slot i at
    `register + SLOT_STRIDE·i`, for `max_slots` slots."""
    return PlcStatus(
        name="SLOT_WAFER_ID",
        register=register,
        words=8,
        text=True,
        stride=SLOT_STRIDE,
        repeat=max_slots,
        doc=f"the id of the {workpiece} in slot i, empty when the slot is free",
    )


def slot_parameters(id_doc: str = "the wafer's id") -> tuple[PlcParameter, PlcParameter]:
    """The parameters of LOAD_WAFER and UNLOAD_WAFER: the slot and the wafer's id (`id_doc`)."""
    return (
        PlcParameter(name="slot", doc="slot number, 0 to SLOT_CAPACITY - 1"),
        wafer_id_parameter(id_doc),
    )


def slot_commands(
    load_code: int, allowed_in: tuple[str, ...]
) -> tuple[PlcCommand, PlcCommand, PlcCommand]:
    """LOAD_WAFER (`load_code`), RELOAD_WAFER (20, `rework_load`) and UNLOAD_WAFER (the code
    after the load's), accepted in `allowed_in` with the door open; the load refuses a wafer
    the tool processed last (12)."""
    load = PlcCommand(
        name="LOAD_WAFER",
        code=load_code,
        parameters=("slot", "wafer_id"),
        allowed_in=allowed_in,
        conditions="door open (2), slot exists (4) and is free (5), id printable ASCII "
        "not already loaded (7)",
        effect="wafer in slot",
    )
    return (
        replace(load, conditions=f"{load.conditions}, not processed here last (12)"),
        rework_load(load),
        PlcCommand(
            name="UNLOAD_WAFER",
            code=load_code + 1,
            parameters=("slot",),
            allowed_in=allowed_in,
            conditions="door open (2), slot exists (4) and holds a wafer (6)",
            effect="slot free",
        ),
    )


def batch_refusals(
    present_state: str, processed: str, *own: NamedRefusal
) -> tuple[NamedRefusal, ...]:
    """A batch map's refusal reasons: the family's (see `plc_refusals`), the slot reasons (5-7;
    12, a plain load of a wafer the tool `processed` last) and the tool's `own` (9 and up)."""
    return plc_refusals(
        present_state,
        NamedRefusal(name="SLOT_OCCUPIED", code=5, text="slot already holds a wafer"),
        NamedRefusal(name="SLOT_EMPTY", code=6, text="slot is empty"),
        NamedRefusal(
            name="BAD_WAFER_ID", code=7, text="wafer id not printable ASCII, or already loaded"
        ),
        processed_here(processed),
        *own,
    )
