"""The wet bench's contract on its ASCII host link (docs/protocols/wet-bench.md).

Read by the driver (`drivers/wet_bench.py`), the simulated bench, the page's tables and the
spec tests; the byte-level tests restate it on purpose, as the independent oracle. As for the
litho cell, every command word is a GEM remote command in waiting and every status key a
status variable (docs/protocols/lithography.md, "SECS/GEM").
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
from ..roles.clean_room import AMBIENT_C
from ..roles.wet_bench import BenchState, DipResult, Tank
from .core import Alarm, ExpectedIdentity, Made, Range, ToolSpec

DIP_INTERLOCKS = ("sash_closed", "bench_exhaust", "bath_level")

#: `RESULT?`: the last dip, from the bench's log. `TIME` is the time immersed (less than asked
#: if the dip was ended early); `CHANGE` the mean thickness change of the film the tank works
#: on (negative: removed).
RESULT_REPLY = HostReply(
    query="RESULT?",
    result=DipResult,
    fields=(
        HostReplyField(key="WAFER", name="wafer_id"),
        HostReplyField(key="TANK", name="tank", kind=Tank),
        HostReplyField(key="TIME", name="time_s", kind=float),
        HostReplyField(key="TEMP", name="temperature_c", kind=float),
        HostReplyField(key="CHANGE", name="change_um", kind=float, decimals=3),
        HostReplyField(key="LEFT", name="left_sites", kind=int),
        HostReplyField(key="OPENED", name="opened_sites", kind=int),
    ),
)

SPEC: ToolSpec[HostLink] = ToolSpec(
    kind="wet_bench",
    role="wet_bench",
    family="ascii_host",
    identity=ExpectedIdentity(vendor="packline", model="WS-1", firmware="1.0"),
    doc="wet bench (strip, etch and electroless tanks, rinse, dryer) on a TCP host link",
    setpoints=(
        HostSetpoint(
            name="bath_temperature_c",
            unit="degC",
            machine_range=Range(20, 95),
            # a bath heats and cools by its loss to the room: no lower target is reached
            process_limit=Range(AMBIENT_C, 85),
            placeholder="<degC>",
            label="bath temperature",
            wire_unit="degC",
            doc=f"a tank's bath set temperature, from the {AMBIENT_C:g} degC room the bath cools "
            "to (est window)",
            floor=f"{AMBIENT_C:g} degC is the room the bath cools to",
        ),
        HostSetpoint(
            name="dip_time_s",
            unit="s",
            machine_range=Range(1, 3600),
            process_limit=Range(5, 1800),
            placeholder="<s>",
            label="dip time",
            wire_unit="s",
            doc="immersion time, before the rinse and dry (est window)",
        ),
    ),
    parameters=host_link_parameters(
        WAFER_PARAMETER,
        HostParameter(
            name="tank", placeholder="<tank>", doc=", ".join(f"`{t.value}`" for t in Tank)
        ),
    ),
    status=(
        state_status(BenchState),
        HostStatus(key="WAFER", name="wafer_id", doc="wafer in the bench, `-` when none"),
        HostStatus(key="TANK", name="tank", doc="tank of the dip running (or last), `-` before"),
        *job_counters("dip"),
    ),
    commands=(
        *host_link_queries("OK SASH=<0/1> EXHAUST=<0/1> LEVEL=<0/1>"),
        *one_wafer_transfer(
            "sash_closed",
            "the robot takes the wafer from the carrier",
            "the robot returns the loaded wafer to the carrier",
        ),
        HostCommand(
            name="TEMP",
            parameters=("tank", "bath_temperature_c"),
            query="TANK?",
            doc="sets a tank's bath temperature (the heater ramps it at 0.5 degC/s)",
        ),
        HostCommand(
            name="TANK?",
            parameters=("tank",),
            reply="OK TANK=<tank> TEMP=<degC> SET=<degC> DIPS=<n>",
            doc="a tank's bath",
        ),
        HostCommand(
            name="DIP",
            parameters=("tank", "dip_time_s"),
            allowed_in=SETUP,
            interlocks=DIP_INTERLOCKS,
            query="RESULT?",
            doc="immerses the wafer for the time, then rinses and dries it (a wafer, the bath "
            "at temperature)",
        ),
        reply_query(RESULT_REPLY, "the last dip"),
        *host_link_controls(
            "the safe state: lifts the wafer out of the tank, rinses it, stops the dryer"
        ),
    ),
    alarms=(
        Alarm(code="SASH_OPENED", text="the sash was opened during a dip"),
        Alarm(code="EXHAUST_LOST", text="bench exhaust lost during a dip"),
        Alarm(code="LEVEL_LOW", text="a bath level fell below its sensor during a dip"),
    ),
    interlocks=(
        HostInterlock(
            key="SASH", name="sash_closed", made=Made.STEP, doc="the bench's sash is down"
        ),
        HostInterlock(
            key="EXHAUST", name="bench_exhaust", made=Made.SUPPLY, doc="the bench exhaust flows"
        ),
        HostInterlock(
            key="LEVEL", name="bath_level", made=Made.SUPPLY, doc="every bath is at its level"
        ),
    ),
    refusals=host_link_refusals(
        "wrong number of arguments, not a number, bad wafer id, unknown tank",
        "not allowed while a dip runs; a wafer already loaded; a wafer the bench "
        "processed last, by `LOAD` (`RELOAD` takes it as a rework)",
        HostRefusal(code=7, name="NO_WAFER", text="no wafer in the bench, or not the one named"),
        HostRefusal(code=8, name="BATH_COLD", text="`DIP` into a bath not at its temperature"),
    ),
    wire=HostLink(replies=(RESULT_REPLY,)),
)
