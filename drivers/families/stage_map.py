"""The stage block of a PLC map, what both ends of the link share.

The PLC tools that take one wafer or panel at a time (the ball-mount cell, the stencil printer,
the laminator, the plating cell) present the same block on their maps: `WAFER_LOADED` and the
text block `WAFER_ID` in the status, commands 1 `LOAD_WAFER` (the wafer id in the parameter
block), 20 `RELOAD_WAFER` (the same, as a rework) and 2 `UNLOAD_WAFER`, accepted when the tool
is ready, and the refusals 5 (a workpiece is there), 6 (none is there), 7 (a bad id) and 12 (a
plain load of a wafer the tool processed last). Each such
spec declares its block from here, worded for where its tool holds the workpiece;
`SingleWaferPlcDriver` (`drivers/families/modbus_plc.py`) drives it and
`SingleWaferPlcSimulator` (`sim_instruments/families/modbus_plc.py`) simulates it.
"""

from __future__ import annotations

from dataclasses import replace

from .plc_map import NamedRefusal, PlcCommand, PlcParameter, PlcStatus, plc_refusals

#: The stage block's status values whose changes `STATUS_CHANGES` counts (`PlcMap`), after
#: the tool's phase.
STAGE_CHANGES = ("PHASE", "WAFER_LOADED")
#: A counted cycle's status values whose changes `STATUS_CHANGES` counts, which its wait
#: ends on (`plc_stage.run_cycle`): the count of cycles and how the last one ended.
CYCLE_CHANGES = ("CYCLES_COMPLETED", "LAST_RESULT")

#: How the id of the workpiece is checked on load (refusal 7).
ID_CONDITION = "id printable ASCII without spaces"
#: The rework load's command code on every PLC map with a load (the stage's, the slots').
RELOAD_WAFER_CODE = 20
#: The refusal of a plain load of a wafer the tool processed last, on the same maps.
PROCESSED_HERE_CODE = 12


def rework_load(load: PlcCommand) -> PlcCommand:
    """`RELOAD_WAFER`: `load` (LOAD_WAFER, with its parameters and checks) as a rework, which
    takes back on purpose a wafer this tool processed last (an operator's rework or release,
    a resumed run replaying the stage its recovery cut off)."""
    return replace(
        load,
        name="RELOAD_WAFER",
        code=RELOAD_WAFER_CODE,
        effect=f"{load.effect}: LOAD_WAFER as a rework, taking a wafer this tool processed last",
    )


def processed_here(processed: str) -> NamedRefusal:
    """Refusal 12: a plain `LOAD_WAFER` of a wafer the tool `processed` ("cleaned") last."""
    return NamedRefusal(
        name="PROCESSED_HERE",
        code=PROCESSED_HERE_CODE,
        text=f"this tool {processed} the wafer last: load it again only as a rework "
        f"(RELOAD_WAFER, code {RELOAD_WAFER_CODE})",
    )


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
    processed: str = "processed",
) -> tuple[PlcCommand, PlcCommand, PlcCommand]:
    """LOAD_WAFER (1), RELOAD_WAFER (20, `rework_load`) and UNLOAD_WAFER (2) of a tool that
    holds one `workpiece` ("wafer") `holder` ("on the platen"): loading leaves the tool
    `loaded`, unloading `emptied`; the load checks the id (7) and refuses a wafer the tool
    `processed` last (12)."""
    load = PlcCommand(
        name="LOAD_WAFER",
        code=1,
        parameters=("wafer_id",),
        allowed_in=("ready",),
        conditions=f"no {workpiece} (5), {ID_CONDITION} (7)",
        effect=loaded,
    )
    return (
        replace(load, conditions=f"{load.conditions}, not {processed} here last (12)"),
        rework_load(load),
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
    processed: str = "processed",
) -> tuple[NamedRefusal, ...]:
    """A stage map's refusal reasons: the family's (see `plc_refusals`), the stage block's
    (5-7: a `workpiece` already or not `holder`, a bad id; 12: a wafer the tool `processed`
    last, loaded plainly) and the tool's `own` (9 and up)."""
    return plc_refusals(
        present_state,
        NamedRefusal(name="WAFER_PRESENT", code=5, text=f"a {workpiece} is already {holder}"),
        NamedRefusal(name="NO_WAFER", code=6, text=f"no {workpiece} {holder}"),
        NamedRefusal(name="BAD_WAFER_ID", code=7, text="wafer id is not printable ASCII"),
        processed_here(processed),
        *own,
    )
