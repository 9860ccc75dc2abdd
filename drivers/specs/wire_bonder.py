"""The stud-bumping wire bonder's contract on its ASCII host link (docs/protocols/wire-bonder.md).

Read by the driver (`drivers/wire_bonder.py`), the simulated bonder, the page's tables and the
spec tests; the byte-level tests restate it on purpose, as the independent oracle. The codecs of
the bond program and of site ranges, which both ends of the link speak, are here too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ..families.ascii_host_wire import (
    UNKNOWN_COMMAND_WHEN,
    HostCommand,
    HostInterlock,
    HostLink,
    HostParameter,
    HostPrecondition,
    HostRefusal,
    HostReply,
    HostReplyField,
    HostSetpoint,
    HostStatus,
    encode,
    host_link_parameters,
    reply_query,
    state_status,
    wait_query,
)
from ..roles.wire_bonder import BonderState, BondProgram, HeightSummary, RunResult, WireMaterial
from .core import RELOAD_DOC, Alarm, ExpectedIdentity, Made, Range, ToolSpec

#: Phases in which the tool takes setup commands: not during a run.
NOT_RUNNING = ("IDLE", "FAULT")
#: The refusal of a command on the loaded wafer with none loaded.
NO_WAFER = "NO_WAFER"
#: What a command on the loaded wafer (its map, selection, bumps) answers with none loaded.
ON_THE_WAFER = (NO_WAFER,)
#: What a command that puts a wafer on the chuck answers with one on it already.
ONTO_AN_EMPTY_CHUCK = ("ALREADY_LOADED",)
BUMP_INTERLOCKS = ("cover_closed", "wafer_vacuum", "wire_present")

#: Longest `<ranges>` argument of one `SEL:ADD` line.
MAX_SELECTION_CHARS = 240
#: Most sites one `HGT?` line reports.
HEIGHT_CHUNK = 200
#: Decimals of a site's bump height, µm, as the bonder measures it (`HGT?`, `MIN`, `MAX`).
HEIGHT_DECIMALS = 1

#: `HGT:STAT?`: the statistics of the loaded wafer's bump heights, over its bumped sites (all
#: 0 with none, never `NONE`), each at the resolution the bonder reports, which its GEM face
#: reports too. With no wafer on the chuck there is nothing to measure: `ERR 6`, as `HGT?`
#: (zeros would read as a wafer with no bump).
HEIGHT_REPLY = HostReply(
    query="HGT:STAT?",
    result=HeightSummary,
    fields=(
        HostReplyField(key="BUMPS", name="bumped_sites", kind=int, gem_variable="bumped_sites"),
        HostReplyField(key="MIN", name="min_um", kind=float, decimals=HEIGHT_DECIMALS),
        HostReplyField(key="MEAN", name="mean_um", kind=float, decimals=2),
        HostReplyField(key="MAX", name="max_um", kind=float, decimals=HEIGHT_DECIMALS),
        HostReplyField(key="STD", name="std_um", kind=float, decimals=2),
    ),
    gem_prefix="height_",
    answers_none=False,
)

#: The program's values in `PROG` order (after the material).
PROGRAM_SETPOINTS = (
    "wire_diameter_um",
    "stage_temperature_c",
    "bond_force_gf",
    "ultrasonic_power_mw",
    "ultrasonic_time_ms",
)


def _program_value(
    name: str, placeholder: str, unit: str, low: float, high: float, doc: str
) -> HostSetpoint:
    """A value of the bond program: named and refused by its setpoint name."""
    return HostSetpoint(
        name=name,
        unit=unit,
        machine_range=Range(low, high),
        placeholder=placeholder,
        label=name,
        wire_unit=unit,
        doc=doc,
    )


SPEC: ToolSpec[HostLink] = ToolSpec(
    kind="wire_bonder",
    role="wire_bonder",
    family="ascii_host",
    identity=ExpectedIdentity(vendor="packline", model="WB-1", firmware="1.0"),
    doc="stud-bumping wire bonder on an RS-232 host link",
    setpoints=(
        _program_value("wire_diameter_um", "<wire_um>", "um", 18, 50, "wire diameter"),
        _program_value("stage_temperature_c", "<stage_c>", "degC", 100, 200, "stage temperature"),
        _program_value("bond_force_gf", "<force_gf>", "gf", 15, 60, "bond force"),
        _program_value("ultrasonic_power_mw", "<us_mw>", "mW", 20, 120, "ultrasonic power"),
        _program_value("ultrasonic_time_ms", "<us_ms>", "ms", 5, 30, "ultrasonic time"),
        HostSetpoint(
            name="stack_count",
            unit="studs",
            machine_range=Range(1, 4),
            integer=True,
            placeholder="<stack>",
            label="stack count",
            wire_unit="",
            decimals=0,
            doc="studs stacked on each selected site",
        ),
    ),
    parameters=host_link_parameters(
        HostParameter(name="material", placeholder="<mat>", doc="`AU` gold or `CU` copper wire"),
        HostParameter(name="wafer", placeholder="<wafer>", doc="wafer id, 1-16 characters"),
        HostParameter(name="ranges", placeholder="<ranges>", doc="sites `i` and ranges `a-b`"),
        HostParameter(name="first", placeholder="<first>", doc="first site"),
        HostParameter(name="count", placeholder="<count>", doc=f"sites, 1-{HEIGHT_CHUNK}"),
    ),
    status=(
        state_status(state.name for state in BonderState),
        HostStatus(key="WAFER", name="wafer_id", doc="id on the chuck, empty when none"),
        HostStatus(
            key="DONE",
            name="bumps_done",
            unit="bumps",
            trace="bumps_done",
            doc="sites of the present (or last) run on the wafer on the chuck finished",
        ),
        HostStatus(key="TOTAL", name="bumps_total", doc="sites of that run"),
        HostStatus(key="STACK", name="stack_count", doc="studs per site of that run, 0 before"),
        HostStatus(
            key="STAGE",
            name="stage_temperature_c",
            unit="degC",
            decimals=1,
            trace="stage_temperature",
            doc="chuck temperature",
        ),
        HostStatus(
            key="SPOOL",
            name="wire_remaining_m",
            unit="m",
            decimals=3,
            trace="wire_remaining",
            doc="wire left on the spool",
        ),
        HostStatus(
            key="ELAPSED",
            name="elapsed_s",
            unit="s",
            decimals=1,
            doc="since `BUMP` was accepted (frozen when the run ends)",
        ),
        HostStatus(key="LAST", name="last_result", doc="`NONE`, `COMPLETED`, `ABORTED`, `ALARM`"),
    ),
    commands=(
        HostCommand(name="ID?", reply="OK <vendor>,<model>,<serial>,<firmware>", doc="identity"),
        HostCommand(name="STAT?", reply="OK STATE=<s> WAFER=<id> …", doc="status, see below"),
        wait_query(),
        HostCommand(name="ALM?", reply="OK NONE | OK <code>[,<code>…]", doc="active alarms"),
        HostCommand(
            name="ALM:CLR",
            doc="clears every latched alarm whose cause is gone; the tool "
            "leaves `FAULT` when none is left",
        ),
        HostCommand(name="ILK?", reply="OK COVER=<0/1> VACUUM=<0/1> WIRE=<0/1>", doc="interlocks"),
        HostCommand(
            name="LOAD",
            parameters=("wafer",),
            allowed_in=NOT_RUNNING,
            interlocks=("cover_closed",),
            preconditions=ONTO_AN_EMPTY_CHUCK,
            doc="puts the wafer on the empty chuck, vacuum on",
        ),
        HostCommand(
            name="RELOAD",
            parameters=("wafer",),
            allowed_in=NOT_RUNNING,
            interlocks=("cover_closed",),
            preconditions=ONTO_AN_EMPTY_CHUCK,
            doc=f"`LOAD` as a rework: {RELOAD_DOC}",
        ),
        HostCommand(
            name="UNLOAD",
            parameters=("wafer",),
            allowed_in=NOT_RUNNING,
            interlocks=("cover_closed",),
            preconditions=ON_THE_WAFER,
            doc="takes the loaded wafer off",
        ),
        HostCommand(
            name="MAP?",
            reply="OK <N>",
            preconditions=ON_THE_WAFER,
            doc="sites on the loaded wafer's map",
        ),
        HostCommand(
            name="PROG",
            parameters=("material", *PROGRAM_SETPOINTS),
            allowed_in=NOT_RUNNING,
            query="PROG?",
            doc="sets the bond program; the stage heats (or cools) at once",
        ),
        HostCommand(
            name="PROG?",
            reply="OK <mat> <wire_um> <stage_c> <force_gf> <us_mw> <us_ms>",
            preconditions=("NO_PROGRAM",),
            doc="the program held",
        ),
        HostCommand(
            name="SEL:ALL",
            reply="OK <N>",
            allowed_in=NOT_RUNNING,
            preconditions=ON_THE_WAFER,
            query="SEL?",
            doc="select every site",
        ),
        HostCommand(
            name="SEL:CLR",
            reply="OK 0",
            allowed_in=NOT_RUNNING,
            preconditions=ON_THE_WAFER,
            query="SEL?",
            doc="empty the selection",
        ),
        HostCommand(
            name="SEL:ADD",
            parameters=("ranges",),
            reply="OK <selected>",
            allowed_in=NOT_RUNNING,
            preconditions=ON_THE_WAFER,
            query="SEL?",
            doc="add sites to the selection",
        ),
        HostCommand(name="SEL?", reply="OK <selected>", doc="number of sites selected"),
        HostCommand(
            name="BUMP",
            parameters=("stack_count",),
            reply="OK <sites>",
            allowed_in=("IDLE",),
            interlocks=BUMP_INTERLOCKS,
            preconditions=(*ON_THE_WAFER, "NO_PROGRAM", "NO_SELECTION"),
            query="STAT?",
            doc="starts a run: `<stack>` studs on every selected site, ascending",
        ),
        HostCommand(
            name="ABORT",
            doc="the safe state, at once: ultrasonics off, bond head up; the site in progress "
            "gets none of its studs (`DONE` keeps the finished ones); the wafer stays",
        ),
        reply_query(
            HEIGHT_REPLY, "height statistics over the bumped sites", preconditions=ON_THE_WAFER
        ),
        HostCommand(
            name="HGT?",
            parameters=("first", "count"),
            reply="OK <first> <h>,<h>,…",
            preconditions=ON_THE_WAFER,
            doc=f"bump height of each site, µm, {HEIGHT_DECIMALS} decimal (0.0: no bump), of "
            "`<count>` sites "
            f"from `<first>`: `<count>` 1-{HEIGHT_CHUNK} (`ERR 3` outside), the sites on the "
            "map (`ERR 10` beyond it)",
        ),
    ),
    alarms=(
        Alarm(code="WIRE_BREAK", text="bonding wire broke; re-thread the wire"),
        Alarm(code="NSOP", text="non-stick on pad: a ball did not bond to its pad"),
        Alarm(code="OUT_OF_WIRE", text="wire spool empty; load a new spool"),
        Alarm(code="COVER_OPENED", text="safety cover opened during a run"),
        Alarm(code="VACUUM_LOST", text="chuck vacuum lost during a run"),
    ),
    interlocks=(
        HostInterlock(
            key="COVER", name="cover_closed", made=Made.STEP, doc="the safety cover is shut"
        ),
        HostInterlock(
            key="VACUUM",
            name="wafer_vacuum",
            made=Made.STEP,
            doc="a wafer is on the chuck, the vacuum holds it",
        ),
        HostInterlock(
            key="WIRE",
            name="wire_present",
            made=Made.SUPPLY,
            doc="the spool holds wire for one more stud",
        ),
    ),
    refusals=(
        HostRefusal(
            code=1,
            name="UNKNOWN_COMMAND",
            text=UNKNOWN_COMMAND_WHEN,
        ),
        HostRefusal(
            code=2,
            name="BAD_ARGUMENT",
            text="wrong argument count, not a number, "
            "a decimal for a whole number, bad wafer id or range syntax",
        ),
        HostRefusal(code=3, name="OUT_OF_RANGE", text="a value outside the tool's range"),
        HostRefusal(
            code=4,
            name="WRONG_STATE",
            text="not allowed while a run goes on; what a command needs of the chuck (its "
            "`accepted in` above); a wafer this bonder processed last, by `LOAD` (`RELOAD` "
            "takes it as a rework)",
        ),
        HostRefusal(code=5, name="INTERLOCK_OPEN", text="an interlock the command needs is open"),
        HostRefusal(code=6, name=NO_WAFER, text="no wafer on the chuck"),
        HostRefusal(code=7, name="NO_PROGRAM", text="no bond program"),
        HostRefusal(code=8, name="WAFER_MISMATCH", text="another wafer is on the chuck"),
        HostRefusal(code=9, name="ALARM_ACTIVE", text="an alarm is latched; `ALM:CLR` first"),
        HostRefusal(code=10, name="BAD_SITE", text="a site not on the map"),
        HostRefusal(code=11, name="NO_SELECTION", text="no sites selected"),
    ),
    wire=HostLink(
        identity_query="ID?",
        alarm_reset="ALM:CLR",
        safe_state="ABORT",
        preconditions=(
            HostPrecondition(
                name="ALREADY_LOADED",
                refusal="WRONG_STATE",
                unmet="a wafer on the chuck (`UNLOAD` first)",
                words="wafer {wafer} is on the chuck",
            ),
        ),
        replies=(HEIGHT_REPLY,),
    ),
)


# --------------------------------------------------------------------- wire codecs

MATERIAL_TOKENS = {WireMaterial.AU: "AU", WireMaterial.CU: "CU"}
MATERIAL_OF_TOKEN = {token: material for material, token in MATERIAL_TOKENS.items()}
STATE_TOKENS = {state: state.name for state in BonderState}
STATE_OF_TOKEN = {token: state for state, token in STATE_TOKENS.items()}
RESULT_OF_TOKEN = {result.name: result for result in RunResult}


def format_program(program: BondProgram) -> str:
    """The `PROG` command for `program` (no limits checked here)."""
    material = MATERIAL_TOKENS[WireMaterial(program.wire_material)]
    values = (encode(SPEC, name, getattr(program, name)) for name in PROGRAM_SETPOINTS)
    return "PROG " + " ".join([material, *values])


def parse_program(words: list[str]) -> BondProgram:
    """A `PROG` argument list (or `PROG?` payload) as a program; ValueError saying what is wrong."""
    if len(words) != 1 + len(PROGRAM_SETPOINTS):
        raise ValueError(
            f"expected material and {len(PROGRAM_SETPOINTS)} numbers, got {len(words)} words"
        )
    if words[0] not in MATERIAL_OF_TOKEN:
        raise ValueError(f"wire material {words[0]!r} is not one of {', '.join(MATERIAL_OF_TOKEN)}")
    try:
        values = [float(word) for word in words[1:]]
    except ValueError:
        raise ValueError(f"program values {' '.join(words[1:])!r} are not all numbers") from None
    return BondProgram(MATERIAL_OF_TOKEN[words[0]], *values)


class SiteRanges(NamedTuple):
    """A site set as it travels on the wire: `SEL:ADD` arguments, and what they add up to."""

    count: int  # type: ignore[assignment]  # the site count, over tuple.count
    last_site: int
    lines: list[str]


def encode_site_ranges(sites: Iterable[int]) -> SiteRanges:
    """The distinct sites as `SEL:ADD` arguments of at most `MAX_SELECTION_CHARS` each.

    Consecutive sites become `a-b`. ValueError for a negative or non-integer site, or an
    empty set.
    """
    array = np.asarray(list(sites))
    if array.size == 0:
        raise ValueError("the site set is empty")
    if array.dtype.kind not in "iu":
        raise ValueError(f"sites must be integer indices, got {array.dtype} values")
    unique = np.unique(array)
    if unique[0] < 0:
        raise ValueError(f"site {int(unique[0])} is negative; sites count from 0")
    breaks = np.flatnonzero(np.diff(unique) != 1) + 1
    starts = unique[np.r_[0, breaks]]
    ends = unique[np.r_[breaks - 1, unique.size - 1]]
    lines: list[str] = []
    line = ""
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        word = str(start) if start == end else f"{start}-{end}"
        if line and len(line) + 1 + len(word) > MAX_SELECTION_CHARS:
            lines.append(line)
            line = ""
        line = f"{line},{word}" if line else word
    lines.append(line)
    return SiteRanges(int(unique.size), int(unique[-1]), lines)


def parse_site_ranges(text: str) -> np.ndarray:
    """The sites of a `SEL:ADD` argument (`0-99,150`), sorted; ValueError saying what is wrong."""
    if not text or len(text) > MAX_SELECTION_CHARS:
        raise ValueError(f"site ranges must be 1-{MAX_SELECTION_CHARS} characters")
    parts: list[np.ndarray] = []
    for word in text.split(","):
        first, dash, last = word.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(f"{word!r} is not a site or a range a-b")
        start, end = int(first), int(last) if dash else int(first)
        if end < start:
            raise ValueError(f"range {word!r} runs backwards")
        parts.append(np.arange(start, end + 1))
    return np.unique(np.concatenate(parts))
