"""Stud-bumping wire bonder over its ASCII host link, as `docs/protocols/wire-bonder.md` sets out.

Wire format, in short (the page is the contract; byte-level tests pin this driver to it):

* Lines of ASCII, terminated by LF both ways, over RS-232 (9600 8N1; a pty, a `socket://`
  serial device server, or VISA `ASRL`). One command per line, words separated by one space.
* Every command is answered by exactly one line: `OK` or `OK <payload>` when done, or
  `ERR <code> <text>` when refused (nothing changed). Queries end in `?`.
* `ID?` identity; `STAT?` status as `KEY=value` words; `ALM?` active alarms; `ALM:CLR` clears
  latched alarms whose cause is gone; `ILK?` interlocks as `KEY=0|1` words.
* `LOAD <wafer>` / `UNLOAD <wafer>`; `MAP?` the loaded wafer's site count.
* `PROG <AU|CU> <wire_um> <stage_c> <force_gf> <us_mw> <us_ms>` the bond program (one
  decimal each); `PROG?` reads it back.
* The site set travels as a selection: `SEL:ALL`, or `SEL:CLR` then `SEL:ADD <ranges>` lines
  (`0-99,150,200-209`, at most 240 characters a line), each answered `OK <selected count>`.
* `BUMP <stack>` starts the run on the selection (`OK <sites>`); progress is polled with
  `STAT?` (`DONE`/`TOTAL`). `ABORT` stops it (the safe state: ultrasonics off, head up).
* `HGT:STAT?` height statistics; `HGT? <first> <count>` per-site heights (µm, one decimal,
  at most 200 sites a line).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from .equipment import Identity, Limit, ToolState
from .errors import ProtocolError, ToolAlarm, ToolStateError
from .families.ascii_host import ask, parse_fields
from .links.base import TextLink
from .roles.wire_bonder import (
    BonderState,
    BonderStatus,
    BondProgram,
    BumpResult,
    HeightSummary,
    RunResult,
    WireBonder,
    WireMaterial,
)


class ErrorCode(IntEnum):
    """The `<code>` of an `ERR` reply: why the tool refused a command."""

    UNKNOWN_COMMAND = 1
    BAD_ARGUMENT = 2
    OUT_OF_RANGE = 3
    WRONG_STATE = 4
    INTERLOCK_OPEN = 5
    NO_WAFER = 6
    NO_PROGRAM = 7
    WAFER_MISMATCH = 8
    ALARM_ACTIVE = 9
    BAD_SITE = 10
    NO_SELECTION = 11


#: Alarm codes as `ALM?` lists them, and what each means.
ALARM_TEXT = {
    "WIRE_BREAK": "bonding wire broke; re-thread the wire",
    "NSOP": "non-stick on pad: a ball did not bond to its pad",
    "OUT_OF_WIRE": "wire spool empty; load a new spool",
    "COVER_OPENED": "safety cover opened during a run",
    "VACUUM_LOST": "chuck vacuum lost during a run",
}

#: `ILK?` keys and the interlock names the driver reports.
INTERLOCK_KEYS = {"COVER": "cover_closed", "VACUUM": "wafer_vacuum", "WIRE": "wire_present"}

#: Interlocks that must be closed before the bond head moves over a wafer or fires ultrasonics.
BUMP_INTERLOCKS = ("cover_closed", "wafer_vacuum", "wire_present")
#: Interlocks that must be closed before the wafer handler moves.
TRANSFER_INTERLOCKS = ("cover_closed",)

#: Program fields in `PROG` order, with the range the tool accepts (the process windows).
PROGRAM_RANGES = {
    "wire_diameter_um": Limit(18, 50, "um"),
    "stage_temperature_c": Limit(100, 200, "degC"),
    "bond_force_gf": Limit(15, 60, "gf"),
    "ultrasonic_power_mw": Limit(20, 120, "mW"),
    "ultrasonic_time_ms": Limit(5, 30, "ms"),
}
#: Studs per site the tool accepts in `BUMP`.
STACK_RANGE = Limit(1, 4, "studs")

MATERIAL_TOKENS = {WireMaterial.AU: "AU", WireMaterial.CU: "CU"}
MATERIAL_OF_TOKEN = {token: material for material, token in MATERIAL_TOKENS.items()}
STATE_TOKENS = {state: state.name for state in BonderState}
STATE_OF_TOKEN = {token: state for state, token in STATE_TOKENS.items()}
RESULT_OF_TOKEN = {result.name: result for result in RunResult}
STATUS_KEYS = ("STATE", "WAFER", "DONE", "TOTAL", "STACK", "STAGE", "SPOOL", "ELAPSED", "LAST")

#: Longest `<ranges>` argument of one `SEL:ADD` line.
MAX_SELECTION_CHARS = 240
#: Most sites one `HGT?` line reports.
HEIGHT_CHUNK = 200

#: Time allowances of a bump run, beyond which the wait is a timeout and the run is aborted:
#: heating the stage, plus every stud at half the slowest throughput of the process window.
HEATING_ALLOWANCE_S = 600.0
MIN_STUDS_PER_S = 5.0
RUN_MARGIN_S = 120.0

#: Tool states in which the chuck accepts a wafer transfer.
TRANSFER_STATES = (ToolState.IDLE, ToolState.ENGINEERING, ToolState.FAULT)


def format_program(program: BondProgram) -> str:
    """The `PROG` command for `program` (no limits checked here)."""
    values = (
        program.wire_diameter_um,
        program.stage_temperature_c,
        program.bond_force_gf,
        program.ultrasonic_power_mw,
        program.ultrasonic_time_ms,
    )
    material = MATERIAL_TOKENS[WireMaterial(program.wire_material)]
    return "PROG " + " ".join([material, *(f"{value:.1f}" for value in values)])


def parse_program(words: list[str]) -> BondProgram:
    """A `PROG` argument list (or `PROG?` payload) as a program; ValueError saying what is wrong."""
    if len(words) != 1 + len(PROGRAM_RANGES):
        raise ValueError(
            f"expected material and {len(PROGRAM_RANGES)} numbers, got {len(words)} words"
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

    count: int
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


class AsciiWireBonder(WireBonder):
    """Drives a stud-bumping wire bonder that implements the packline bonder host link."""

    link_type = TextLink
    limits = {**PROGRAM_RANGES, "stack_count": STACK_RANGE}
    link: TextLink

    # ----------------------------------------------------------------- the exchange

    async def _query(self, action: str, command: str) -> str:
        """Send `command`; return the payload of its `OK`, or raise the tool's refusal."""
        return await ask(self, action, command)

    def _garbled(self, action: str, command: str, payload: str, why: str) -> ProtocolError:
        return ProtocolError(
            self.name, self.address, action, f"reply 'OK {payload}' to {command!r}: {why}"
        )

    async def _query_int(self, action: str, command: str) -> int:
        payload = await self._query(action, command)
        if not payload.isdigit():
            raise self._garbled(action, command, payload, "expected a count")
        return int(payload)

    async def _query_fields(self, action: str, command: str) -> dict[str, str]:
        """A reply of `KEY=value` words as a dict."""
        return parse_fields(self, action, await self._query(action, command))

    # ----------------------------------------------------------------- queries

    async def request_identity(self) -> Identity:
        payload = await self._query("read identity", "ID?")
        fields = payload.split(",")
        if len(fields) != 4:
            raise self._garbled(
                "read identity", "ID?", payload, "expected vendor,model,serial,firmware"
            )
        return Identity(*fields)

    async def request_status(self) -> BonderStatus:
        fields = await self._query_fields("read status", "STAT?")
        missing = [key for key in STATUS_KEYS if key not in fields]
        try:
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            return BonderStatus(
                state=STATE_OF_TOKEN[fields["STATE"]],
                wafer_id=fields["WAFER"] or None,
                bumps_done=int(fields["DONE"]),
                bumps_total=int(fields["TOTAL"]),
                stack_count=int(fields["STACK"]),
                stage_temperature_c=float(fields["STAGE"]),
                wire_remaining_m=float(fields["SPOOL"]),
                elapsed_s=float(fields["ELAPSED"]),
                last_result=RESULT_OF_TOKEN[fields["LAST"]],
            )
        except (KeyError, ValueError) as error:
            raise self._garbled(
                "read status",
                "STAT?",
                " ".join(f"{k}={v}" for k, v in fields.items()),
                f"not a status ({error})",
            ) from None

    async def request_alarms(self) -> dict[str, str]:
        payload = await self._query("read alarms", "ALM?")
        if payload == "NONE":
            return {}
        codes = payload.split(",")
        unknown = [code for code in codes if code not in ALARM_TEXT]
        if unknown:
            raise self._garbled(
                "read alarms", "ALM?", payload, f"unknown alarm {', '.join(unknown)}"
            )
        return {code: ALARM_TEXT[code] for code in codes}

    async def request_interlocks(self) -> dict[str, bool]:
        fields = await self._query_fields("read interlocks", "ILK?")
        if set(fields) != set(INTERLOCK_KEYS) or not set(fields.values()) <= {"0", "1"}:
            raise self._garbled(
                "read interlocks",
                "ILK?",
                " ".join(f"{k}={v}" for k, v in fields.items()),
                f"expected {', '.join(f'{k}=0|1' for k in INTERLOCK_KEYS)}",
            )
        return {name: fields[key] == "1" for key, name in INTERLOCK_KEYS.items()}

    async def request_site_count(self) -> int:
        return await self._query_int("read wafer map", "MAP?")

    async def request_program(self) -> BondProgram:
        """The bond program the tool holds (CommandRefused code 7 if none was sent yet)."""
        payload = await self._query("read program", "PROG?")
        try:
            return parse_program(payload.split(" "))
        except ValueError as error:
            raise self._garbled("read program", "PROG?", payload, str(error)) from None

    async def request_bump_height_summary(self) -> HeightSummary:
        action, command = "read bump heights", "HGT:STAT?"
        fields = await self._query_fields(action, command)
        try:
            summary = HeightSummary(
                bumped_sites=int(fields["BUMPS"]),
                min_um=float(fields["MIN"]),
                mean_um=float(fields["MEAN"]),
                max_um=float(fields["MAX"]),
                std_um=float(fields["STD"]),
            )
        except (KeyError, ValueError) as error:
            raise self._garbled(
                action, command, str(fields), f"not a height summary ({error})"
            ) from None
        self.record_reading("bump_height_mean", summary.mean_um, "um")
        self.record_reading("bump_height_std", summary.std_um, "um")
        return summary

    async def request_bump_heights(
        self, first_site: int = 0, count: int | None = None
    ) -> np.ndarray:
        if first_site < 0 or (count is not None and count < 0):
            raise ValueError(f"{self.name}: first_site and count must not be negative")
        if count is None:
            count = await self.request_site_count() - first_site
        heights = np.zeros(max(count, 0), np.float64)
        for offset in range(0, count, HEIGHT_CHUNK):
            chunk = min(HEIGHT_CHUNK, count - offset)
            command = f"HGT? {first_site + offset} {chunk}"
            payload = await self._query("read bump heights", command)
            start, _, values = payload.partition(" ")
            try:
                numbers = [float(value) for value in values.split(",")]
            except ValueError:
                raise self._garbled(
                    "read bump heights", command, payload, "not a list of heights"
                ) from None
            if start != str(first_site + offset) or len(numbers) != chunk:
                raise self._garbled(
                    "read bump heights",
                    command,
                    payload,
                    f"expected {chunk} heights from site {first_site + offset}",
                )
            heights[offset : offset + chunk] = numbers
        return heights

    # ----------------------------------------------------------------- wafer transfer

    async def load(self, wafer_id: str) -> None:
        action = f"load wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.require_interlocks(action, TRANSFER_INTERLOCKS)
        await self._query(action, f"LOAD {wafer_id}")

    async def unload(self, wafer_id: str) -> None:
        action = f"unload wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.require_interlocks(action, TRANSFER_INTERLOCKS)
        await self._query(action, f"UNLOAD {wafer_id}")

    # ----------------------------------------------------------------- bumping

    def program_command(self, program: BondProgram, action: str = "bond program") -> str:
        """The `PROG` line for `program`, every value checked against the limits first."""
        for setpoint in PROGRAM_RANGES:
            self.check_limit(action, setpoint, getattr(program, setpoint))
        return format_program(program)

    async def form_stud_bumps(
        self,
        program: BondProgram,
        *,
        sites: Iterable[int] | None = None,
        stack_count: int = 1,
        timeout_s: float | None = None,
    ) -> BumpResult:
        action = "form stud bumps"
        program_line = self.program_command(program, action)
        self.check_limit(action, "stack_count", stack_count)
        selection = None if sites is None else encode_site_ranges(sites)
        async with self.operation(action):
            await self.require_interlocks(action, BUMP_INTERLOCKS)
            wafer_id = (await self.request_status()).wafer_id
            if wafer_id is None:
                raise ToolStateError(self.name, self.address, action, "no wafer on the chuck")
            await self._query(action, program_line)
            await self._select(action, selection)
            total = await self._query_int(action, f"BUMP {stack_count}")
            if timeout_s is None:
                timeout_s = (
                    HEATING_ALLOWANCE_S + total * stack_count / MIN_STUDS_PER_S + RUN_MARGIN_S
                )
            status = await self._wait_run(action, total, timeout_s)
        return BumpResult(
            wafer_id=wafer_id,
            stack_count=stack_count,
            sites_requested=total,
            bumps_formed=status.bumps_done,
            process_time_s=status.elapsed_s,
        )

    async def _select(self, action: str, selection: SiteRanges | None) -> None:
        """Send the site selection: every site, or the given ranges (checked on the map)."""
        if selection is None:
            await self._query_int(action, "SEL:ALL")
            return
        count, last, lines = selection
        site_count = await self.request_site_count()
        if last >= site_count:
            raise ValueError(
                f"{self.name}: site {last} is not on the wafer map (sites 0-{site_count - 1})"
            )
        await self._query_int(action, "SEL:CLR")
        selected = 0
        for line in lines:
            selected = await self._query_int(action, f"SEL:ADD {line}")
        if selected != count:
            raise ProtocolError(
                self.name,
                self.address,
                action,
                f"tool selected {selected} sites, {count} were sent",
            )

    async def _wait_run(self, action: str, total: int, timeout_s: float) -> BonderStatus:
        """Poll the run to its end, recording progress; alarms, an abort or the timeout end it."""
        status: BonderStatus  # the latest, for the timeout message

        async def poll() -> BonderStatus | None:
            nonlocal status
            status = await self.request_status()
            self._record_status(status)
            if status.state is BonderState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(
                    f"{action} (stopped after {status.bumps_done} of {total} sites)"
                )
            if status.state is BonderState.IDLE:
                if status.last_result is not RunResult.COMPLETED:
                    raise ToolAlarm(
                        self.name,
                        self.address,
                        action,
                        [
                            f"run ended {status.last_result.value} "
                            f"after {status.bumps_done} of {total} sites"
                        ],
                    )
                return status
            return None

        return await self.wait_until(
            action, poll, timeout_s, lambda: f"{status.bumps_done} of {total} sites"
        )

    def _record_status(self, status: BonderStatus) -> None:
        self.record_reading("bumps_done", status.bumps_done, "bumps")
        self.record_reading("progress", status.progress_percent, "%")
        self.record_reading("stage_temperature", status.stage_temperature_c, "degC")
        self.record_reading("wire_remaining", status.wire_remaining_m, "m")

    # ----------------------------------------------------------------- alarms and safety

    async def _clear_alarms(self) -> None:
        await self._query("reset alarms", "ALM:CLR")

    async def _command_safe_state(self) -> None:
        """Stop bumping: ultrasonics off, bond head up (the ABORT command); the wafer stays."""
        await self._query("abort", "ABORT")
