"""The flip-chip bonder's contract on its ASCII host link (docs/protocols/flip-chip-bonder.md).

Read by the driver (`drivers/flip_chip_bonder.py`), the simulated bonder, the page's tables and
the spec tests; the replies of its inspections (`BOND_REPLY`, `FRAME_REPLY`, `TRANSFER_REPLY`)
by the GEM driver and the simulated GEM bonder too, whose status variables they name. The
byte-level tests restate it on purpose, as the independent oracle. The process limits are
engineering estimates (est): PROCESS_WINDOWS.md has no flip-chip bonder.
"""

from __future__ import annotations

from ..families.ascii_host_wire import (
    SETUP,
    UNLOAD_STATES,
    HostCommand,
    HostInterlock,
    HostLink,
    HostParameter,
    HostRefusal,
    HostReply,
    HostReplyField,
    HostSetpoint,
    HostStatus,
    host_link_controls,
    host_link_parameters,
    host_link_queries,
    host_link_refusals,
    one_wafer_transfer,
    reply_query,
    state_status,
)
from ..roles.clean_room import AMBIENT_C
from ..roles.flip_chip_bonder import (
    BondResult,
    FlipChipState,
    FrameResult,
    TransferAlloy,
    TransferResult,
)
from .core import Alarm, ExpectedIdentity, Made, Range, ToolSpec

BOND_INTERLOCKS = ("door_closed", "wafer_vacuum", "head_air")

#: The transfer's film in `XFER` order (after the units and the alloy), before the recipe.
TRANSFER_SETPOINTS = ("film_um",)
#: The frame's values in `FRAME` order (after the units), before the recipe.
FRAME_SETPOINTS = ("frame_um", "column_diameter_um", "column_protrusion_um")
#: The recipe's values in `BOND` order (after the units).
RECIPE_SETPOINTS = (
    "head_temperature_c",
    "stage_temperature_c",
    "bond_force_n",
    "bond_time_s",
)

#: The last fields of `RESULT?` and `FRAME?`: the filler's lowest and highest top over the
#: holes of the terminals (or columns) seated, and the holes it spilled out of.
HOLES_FILLED = (
    HostReplyField(key="FILLMIN", name="fill_level_min_percent", kind=float),
    HostReplyField(key="FILLMAX", name="fill_level_max_percent", kind=float),
    HostReplyField(key="SPILLED", name="holes_spilled", kind=int),
)
#: `RESULT?`: the last bond run's post-bond inspection. `SPILLED` counts the run's holes with
#: filler over their top: a hole full to its meniscus reads an in-spec level while its spill
#: lies on the tape.
BOND_REPLY = HostReply(
    query="RESULT?",
    result=BondResult,
    fields=(
        HostReplyField(key="SUBSTRATE", name="substrate_id"),
        HostReplyField(key="SOURCE", name="source_id"),
        HostReplyField(key="DIES", name="dies_placed", kind=int),
        HostReplyField(key="BONDED", name="dies_bonded", kind=int),
        HostReplyField(key="TERMINALS", name="terminals", kind=int),
        HostReplyField(key="SEATED", name="terminals_seated", kind=int),
        HostReplyField(key="JOINED", name="terminals_joined", kind=int),
        HostReplyField(key="OFFSET", name="max_offset_um", kind=float),
        HostReplyField(key="ROT", name="max_rotation_mdeg", kind=float),
        *HOLES_FILLED,
    ),
    gem_prefix="result_",
)
#: `FRAME?`: the last frame run's inspection (`SPILLED` as `RESULT?`'s, over the column holes).
FRAME_REPLY = HostReply(
    query="FRAME?",
    result=FrameResult,
    fields=(
        HostReplyField(key="SUBSTRATE", name="substrate_id"),
        HostReplyField(key="FRAMES", name="frames", kind=int),
        HostReplyField(key="BONDED", name="frames_bonded", kind=int),
        HostReplyField(key="COLUMNS", name="columns", kind=int),
        HostReplyField(key="SEATED", name="columns_seated", kind=int),
        HostReplyField(key="JOINED", name="columns_joined", kind=int),
        HostReplyField(key="OFFSET", name="max_offset_um", kind=float),
        *HOLES_FILLED,
    ),
    gem_prefix="frame_",
)
#: `XFER?`: the last solder transfer's inspection.
TRANSFER_REPLY = HostReply(
    query="XFER?",
    result=TransferResult,
    fields=(
        HostReplyField(key="WAFER", name="wafer_id"),
        HostReplyField(key="ALLOY", name="alloy", kind=TransferAlloy),
        HostReplyField(key="DIES", name="dies", kind=int),
        HostReplyField(key="BUMPS", name="bumps", kind=int),
        HostReplyField(key="COATED", name="bumps_coated", kind=int),
        HostReplyField(key="LAYERMIN", name="layer_min_um", kind=float, decimals=2),
        HostReplyField(key="LAYERMEAN", name="layer_mean_um", kind=float, decimals=2),
        HostReplyField(key="JOINTMAX", name="joint_max_c", kind=float),
    ),
    gem_prefix="transfer_",
)
#: The bonder's inspections, as the spec's host link declares them.
REPLIES = (BOND_REPLY, FRAME_REPLY, TRANSFER_REPLY)

SPEC: ToolSpec[HostLink] = ToolSpec(
    kind="flip_chip_bonder",
    role="flip_chip_bonder",
    family="ascii_host",
    identity=ExpectedIdentity(vendor="packline", model="FC-1", firmware="1.0"),
    doc="flip-chip bonder (die supply, flip unit, bond head with vision, heated stage) on a "
    "TCP host link",
    setpoints=(
        HostSetpoint(
            name="head_temperature_c",
            unit="degC",
            machine_range=Range(20, 450),
            process_limit=Range(100, 420),
            placeholder="<head_c>",
            label="head temperature",
            wire_unit="degC",
            doc="the bond head's temperature while it presses the die (est window)",
        ),
        HostSetpoint(
            name="stage_temperature_c",
            unit="degC",
            machine_range=Range(20, 250),
            # the stage heats and cools by its loss to the room: no lower target is reached
            process_limit=Range(AMBIENT_C, 200),
            placeholder="<stage_c>",
            label="stage temperature",
            wire_unit="degC",
            doc="the bond stage under the substrate; a tape stays below 200 degC (est window)",
            floor=f"{AMBIENT_C:g} degC is the room the stage cools to",
        ),
        HostSetpoint(
            name="bond_force_n",
            unit="N",
            machine_range=Range(0.1, 500),
            process_limit=Range(1, 300),
            placeholder="<force_n>",
            label="bond force",
            wire_unit="N",
            decimals=2,
            doc="the head's force on one die, shared by its terminals (est window)",
        ),
        HostSetpoint(
            name="bond_time_s",
            unit="s",
            machine_range=Range(0.1, 120),
            process_limit=Range(0.5, 60),
            placeholder="<s>",
            label="bond time",
            wire_unit="s",
            doc="time the head holds temperature and force on each die (est window)",
        ),
        HostSetpoint(
            name="film_um",
            unit="um",
            machine_range=Range(1, 100),
            process_limit=Range(5, 50),
            placeholder="<film_um>",
            label="film",
            wire_unit="um",
            doc="the transfer sheet's solder film (est window)",
        ),
        HostSetpoint(
            name="frame_um",
            unit="um",
            machine_range=Range(50, 2000),
            process_limit=Range(100, 1500),
            placeholder="<frame_um>",
            label="frame thickness",
            wire_unit="um",
            doc="the frame's thickness over the tape, its columns' top ends at its top (est "
            "window: the frames the magazine takes)",
        ),
        HostSetpoint(
            name="column_diameter_um",
            unit="um",
            machine_range=Range(20, 500),
            process_limit=Range(30, 300),
            placeholder="<column_um>",
            label="column diameter",
            wire_unit="um",
            doc="the frame's copper conductor columns (est window)",
        ),
        HostSetpoint(
            name="column_protrusion_um",
            unit="um",
            machine_range=Range(0, 500),
            process_limit=Range(5, 300),
            placeholder="<protrusion_um>",
            label="column protrusion",
            wire_unit="um",
            doc="how far the columns' lower ends stand below the frame, into the holes (est "
            "window)",
        ),
    ),
    parameters=host_link_parameters(
        HostParameter(
            name="alloy",
            placeholder="<alloy>",
            doc=", ".join(f"`{alloy.value}`" for alloy in TransferAlloy),
        ),
        HostParameter(name="wafer", placeholder="<wafer>", doc="workpiece id, 1-16 characters"),
        HostParameter(name="first", placeholder="<first>", doc="the run's first unit"),
        HostParameter(name="count", placeholder="<count>", doc="units of the run, at least 1"),
    ),
    status=(
        state_status(FlipChipState),
        HostStatus(key="SUBSTRATE", name="substrate_id", doc="substrate on the stage, `-`: none"),
        HostStatus(key="SOURCE", name="source_id", doc="die source in the supply, `-`: none"),
        HostStatus(key="LEFT", name="dies_left", unit="dies", doc="dies the source still holds"),
        HostStatus(
            key="DONE",
            name="dies_done",
            unit="dies",
            trace="dies_done",
            doc="dies bonded (or coated) in the present (or last) run",
        ),
        HostStatus(key="TOTAL", name="dies_total", unit="dies", doc="dies of that run"),
        HostStatus(
            key="STAGE",
            name="stage_temperature_c",
            unit="degC",
            decimals=1,
            trace="stage_temperature",
            doc="bond stage temperature",
        ),
        HostStatus(
            key="REMAIN", name="remaining_s", unit="s", decimals=1, doc="time left of the run"
        ),
        HostStatus(key="RUNS", name="runs_completed", doc="runs completed since power-up"),
    ),
    commands=(
        *host_link_queries("OK DOOR=<0/1> VACUUM=<0/1> AIR=<0/1>", holder="SUBSTRATE"),
        *one_wafer_transfer(
            "door_closed",
            "puts the substrate (a panel, a board) on the empty bond stage, vacuum on",
            "takes the loaded substrate off the stage",
        ),
        HostCommand(
            name="SRC:LOAD",
            parameters=("wafer",),
            reply="OK <dies>",
            allowed_in=SETUP,
            interlocks=("door_closed",),
            query="STAT?",
            doc="puts a wafer diced into its dies, bumped, in the empty die supply",
        ),
        HostCommand(
            name="SRC:UNLOAD",
            parameters=("wafer",),
            allowed_in=UNLOAD_STATES,
            query="STAT?",
            doc="returns the die source, with the dies not picked",
        ),
        HostCommand(name="UNITS?", reply="OK <units>", doc="units on the loaded substrate"),
        HostCommand(
            name="BOND",
            parameters=("first", "count", *RECIPE_SETPOINTS),
            reply="OK <dies>",
            allowed_in=SETUP,
            interlocks=BOND_INTERLOCKS,
            query="STAT?",
            doc="starts a run: a die from the source, flipped, aligned and bonded on each of "
            "`<count>` units from `<first>`, ascending; from a diced panel of packages with "
            "balls on their bottom, each package stacked as it lies on the unit's column tops "
            "(000:x2)",
        ),
        HostCommand(
            name="XFER",
            parameters=("first", "count", "alloy", *TRANSFER_SETPOINTS, *RECIPE_SETPOINTS),
            reply="OK <dies>",
            allowed_in=SETUP,
            interlocks=BOND_INTERLOCKS,
            query="STAT?",
            doc="starts a transfer: the sheet's eutectic film pressed on the bumps of each of "
            "`<count>` dies from `<first>` of the wafer on the stage, ascending",
        ),
        HostCommand(
            name="FRAME",
            parameters=("first", "count", *FRAME_SETPOINTS, *RECIPE_SETPOINTS),
            reply="OK <frames>",
            allowed_in=SETUP,
            interlocks=BOND_INTERLOCKS,
            query="STAT?",
            doc="starts a frame run: a frame with conductor columns from the magazine, aligned "
            "and pressed on each of `<count>` units from `<first>` of the panel on the stage, "
            "ascending, its columns into the unit's column holes (000:x2)",
        ),
        reply_query(FRAME_REPLY, "the last frame run's inspection"),
        reply_query(TRANSFER_REPLY, "the last transfer's inspection"),
        reply_query(BOND_REPLY, "the last bond run's post-bond inspection"),
        *host_link_controls(
            "the safe state, at once: the head up, its heater and force off; the die on "
            "the head goes to the reject bin, the dies bonded stay"
        ),
    ),
    alarms=(
        Alarm(code="DOOR_OPENED", text="the safety door was opened during a run"),
        Alarm(code="VACUUM_LOST", text="stage vacuum lost during a run"),
        Alarm(code="AIR_LOST", text="bond head air lost during a run; the head stopped"),
    ),
    interlocks=(
        HostInterlock(
            key="DOOR", name="door_closed", made=Made.STEP, doc="the safety door is shut"
        ),
        HostInterlock(
            key="VACUUM",
            name="wafer_vacuum",
            made=Made.STEP,
            doc="a substrate is on the stage, the vacuum holds it",
        ),
        HostInterlock(
            key="AIR", name="head_air", made=Made.SUPPLY, doc="the bond head's air supply holds"
        ),
    ),
    refusals=host_link_refusals(
        "wrong number of arguments, not a number, a decimal for a unit, bad workpiece id",
        "not allowed while a run goes on; a substrate or source already loaded; a workpiece "
        "this bonder processed last, by `LOAD` (`RELOAD` takes it as a rework)",
        HostRefusal(
            code=7, name="NO_WAFER", text="no substrate on the stage, or not the one named"
        ),
        HostRefusal(
            code=8,
            name="NO_DIES",
            text="no die source, not the one named, or fewer dies left than units asked",
        ),
        HostRefusal(
            code=9,
            name="BAD_SOURCE",
            text="a die source not diced into its dies, or whose dies carry no bumps or solder "
            "balls",
        ),
        HostRefusal(
            code=10,
            name="BAD_UNIT",
            text="a unit not on the substrate, one with a die (or a frame), or, to stack on, "
            "one without a frame or not as high as the others",
        ),
        HostRefusal(
            code=11,
            name="MISFIT",
            text="the dies' terminals (or a frame's columns) do not fall on the substrate's "
            "sites (count or layout)",
        ),
        HostRefusal(
            code=12,
            name="BAD_BUMPS",
            text="`XFER` on a substrate without bumps, or whose bumps carry another solder",
        ),
    ),
    wire=HostLink(replies=REPLIES),
)
