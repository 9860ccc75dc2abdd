"""The stage block of a PLC map, what both ends of the link share.

The PLC tools that take one wafer or panel at a time (the ball-mount cell, the stencil printer,
the laminator, the plating cell) present the same block on their maps: `WAFER_LOADED` and the
text block `WAFER_ID` in the status, commands 1 `LOAD_WAFER` (the wafer id in the parameter
block) and 2 `UNLOAD_WAFER`, accepted when the tool is ready, and the refusals 5 (a workpiece is
there), 6 (none is there) and 7 (a bad id, or one processed here before: no rework). Each such
spec declares its block from here, worded for where its tool holds the workpiece;
`SingleWaferPlcDriver` (`drivers/families/modbus_plc.py`) drives it and
`SingleWaferPlcSimulator` (`sim_instruments/families/modbus_plc.py`) simulates it.
"""

from __future__ import annotations

from .plc_map import NamedRefusal, PlcCommand, PlcParameter, PlcStatus, plc_refusals

#: How the id of the workpiece is checked on load (refusal 7).
ID_CONDITION = "id printable ASCII without spaces"


def wafer_loaded(register: int) -> PlcStatus:
    """`WAFER_LOADED` at `register`: 1 while the tool holds a workpiece."""
    return PlcStatus(name="WAFER_LOADED", register=register, codes=((0, "no"), (1, "yes")))


def wafer_id_block(register: int, doc: str) -> PlcStatus:
    """The held workpiece's id from `register` (8 registers of ASCII), empty when none."""
    return PlcStatus(name="WAFER_ID", register=register, words=8, text=True, doc=doc)


def wafer_id_parameter(doc: str) -> PlcParameter:
    """LOAD_WAFER's parameter: the id of the workpiece brought (8 registers of ASCII)."""
    return PlcParameter(name="wafer_id", words=8, text=True, doc=doc)


def stage_commands(
    *,
    workpiece: str,
    holder: str,
    loaded: str,
    emptied: str,
    id_condition: str = ID_CONDITION,
) -> tuple[PlcCommand, PlcCommand]:
    """LOAD_WAFER (1) and UNLOAD_WAFER (2) of a tool that holds one `workpiece` ("wafer")
    `holder` ("on the platen"): loading leaves the tool `loaded`, unloading `emptied`; the
    load checks the id by `id_condition`."""
    return (
        PlcCommand(
            name="LOAD_WAFER",
            code=1,
            parameters=("wafer_id",),
            allowed_in=("ready",),
            conditions=f"no {workpiece} (5), {id_condition} (7)",
            effect=loaded,
        ),
        PlcCommand(
            name="UNLOAD_WAFER",
            code=2,
            allowed_in=("ready",),
            conditions=f"a {workpiece} {holder} (6)",
            effect=emptied,
        ),
    )


def stage_refusals(
    present_state: str,
    *own: NamedRefusal,
    workpiece: str,
    holder: str,
    processed: str = "this tool processed it before",
) -> tuple[NamedRefusal, ...]:
    """A stage map's refusal reasons: the family's (see `plc_refusals`), the stage block's
    (5-7: a `workpiece` already or not `holder`, a bad id or one of a wafer `processed`
    here) and the tool's `own` (9 and up)."""
    return plc_refusals(
        present_state,
        NamedRefusal(name="WAFER_PRESENT", code=5, text=f"a {workpiece} is already {holder}"),
        NamedRefusal(name="NO_WAFER", code=6, text=f"no {workpiece} {holder}"),
        NamedRefusal(
            name="BAD_WAFER_ID",
            code=7,
            text=f"wafer id is not printable ASCII, or {processed} (no rework)",
        ),
        *own,
    )
