"""The resin coater's contract on its ASCII host link (docs/protocols/resin-coater.md).

Read by the driver (`drivers/resin_coater.py`), the simulated coater, the page's tables and the
spec tests; the byte-level tests restate it on purpose, as the independent oracle. As for the
litho cell and the wet bench, every command word is a GEM remote command in waiting and every
status key a status variable.
"""

from __future__ import annotations

from ..families.ascii_host_wire import (
    SETUP,
    WAFER_PARAMETER,
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
    job_counters,
    one_wafer_transfer,
    reply_query,
    state_status,
)
from ..roles.resin_coater import CoaterState, CoatResin, CoatResult, CoatStep
from .core import Alarm, ExpectedIdentity, Made, Range, ToolSpec

COAT_INTERLOCKS = ("lid_closed", "cup_exhaust")

#: `RESULT?`: the last step's film, from the coater's thickness gauge: on the open field, the
#: thinnest over any interconnect (the field's on a wafer without any), in the edge bead, um;
#: the solvent fraction left in it.
RESULT_REPLY = HostReply(
    query="RESULT?",
    result=CoatResult,
    fields=(
        HostReplyField(key="WAFER", name="wafer_id"),
        HostReplyField(key="STEP", name="step", kind=CoatStep),
        HostReplyField(key="RESIN", name="resin", kind=CoatResin),
        HostReplyField(key="FIELD", name="field_um", kind=float, decimals=2),
        HostReplyField(key="COVER", name="min_cover_um", kind=float, decimals=2),
        HostReplyField(key="EDGE", name="edge_um", kind=float, decimals=2),
        HostReplyField(key="SOLVENT", name="solvent", kind=float, decimals=3),
    ),
)

SPEC: ToolSpec[HostLink] = ToolSpec(
    kind="resin_coater",
    role="resin_coater",
    family="ascii_host",
    identity=ExpectedIdentity(vendor="packline", model="RC-1", firmware="1.0"),
    doc="resin coater track (spin and slot-die coat, hot plate) on a TCP host link",
    setpoints=(
        HostSetpoint(
            name="spin_rpm",
            unit="rpm",
            machine_range=Range(300, 6000),
            process_limit=Range(500, 5000),
            placeholder="<rpm>",
            label="spin speed",
            wire_unit="rpm",
            doc="the spin module's speed (est window)",
        ),
        HostSetpoint(
            name="spin_time_s",
            unit="s",
            machine_range=Range(1, 300),
            process_limit=Range(5, 120),
            placeholder="<s>",
            label="spin time",
            wire_unit="s",
            doc="time at speed (est window)",
        ),
        HostSetpoint(
            name="slot_gap_um",
            unit="um",
            machine_range=Range(10, 1000),
            process_limit=Range(20, 500),
            placeholder="<um>",
            label="slot gap",
            wire_unit="um",
            doc="the slot die's gap above the wafer (est window)",
        ),
        HostSetpoint(
            name="bake_temperature_c",
            unit="degC",
            machine_range=Range(20, 200),
            process_limit=Range(60, 150),
            placeholder="<degC>",
            label="bake temperature",
            wire_unit="degC",
            doc="hot plate temperature; below the resins' cure onset (est window)",
        ),
        HostSetpoint(
            name="bake_time_s",
            unit="s",
            machine_range=Range(1, 3600),
            process_limit=Range(10, 1200),
            placeholder="<s>",
            label="bake time",
            wire_unit="s",
            doc="time on the hot plate at temperature (est window)",
        ),
    ),
    parameters=host_link_parameters(
        WAFER_PARAMETER,
        HostParameter(
            name="resin", placeholder="<resin>", doc=", ".join(f"`{r.value}`" for r in CoatResin)
        ),
    ),
    status=(
        state_status(CoaterState),
        HostStatus(key="WAFER", name="wafer_id", doc="wafer in the coater, `-` when none"),
        *job_counters("step"),
    ),
    commands=(
        *host_link_queries("OK LID=<0/1> EXHAUST=<0/1>"),
        *one_wafer_transfer(
            "lid_closed",
            "the robot takes the wafer from the carrier",
            "the robot returns the loaded wafer to the carrier",
        ),
        HostCommand(
            name="SPIN",
            parameters=("resin", "spin_rpm", "spin_time_s"),
            allowed_in=SETUP,
            interlocks=COAT_INTERLOCKS,
            query="RESULT?",
            doc="dispenses the resin, spins at the speed for the time, rinses the backside; "
            "the edge bead stays, no edge-bead removal (a wafer)",
        ),
        HostCommand(
            name="SLOT",
            parameters=("resin", "slot_gap_um"),
            allowed_in=SETUP,
            interlocks=COAT_INTERLOCKS,
            query="RESULT?",
            doc="slot-die coats the resin across the wafer at the gap (a wafer)",
        ),
        HostCommand(
            name="BAKE",
            parameters=("bake_temperature_c", "bake_time_s"),
            allowed_in=SETUP,
            interlocks=("cup_exhaust",),
            query="RESULT?",
            doc="soft-bakes the film on the hot plate (a wafer with a film the coater coated)",
        ),
        reply_query(RESULT_REPLY, "the last step's film"),
        *host_link_controls("the safe state: stops the spindle, the dispense, the plate"),
    ),
    alarms=(
        Alarm(code="LID_OPENED", text="the cup lid was opened during a step"),
        Alarm(code="EXHAUST_LOST", text="cup exhaust lost during a step"),
    ),
    interlocks=(
        HostInterlock(
            key="LID", name="lid_closed", made=Made.STEP, doc="the spin cup's lid is closed"
        ),
        HostInterlock(
            key="EXHAUST",
            name="cup_exhaust",
            made=Made.SUPPLY,
            doc="the cup and plate exhaust flows",
        ),
    ),
    refusals=host_link_refusals(
        "wrong number of arguments, not a number, bad wafer id, unknown resin",
        "not allowed while a step runs; a wafer already loaded; a wafer the coater "
        "processed last, by `LOAD` (`RELOAD` takes it as a rework)",
        HostRefusal(code=7, name="NO_WAFER", text="no wafer in the coater, or not the one named"),
        HostRefusal(code=8, name="NO_FILM", text="`BAKE` without a film the coater coated"),
    ),
    wire=HostLink(replies=(RESULT_REPLY,)),
)
