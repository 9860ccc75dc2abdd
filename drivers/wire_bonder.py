"""Stud-bumping wire bonder over its ASCII host link, as `docs/protocols/wire-bonder.md` sets out.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the tool's spec,
`specs/wire_bonder.py`, and the family's rules are `families/ascii_host.py`; byte-level tests
pin this driver to the page. This file keeps the bonder's process logic: the bond program and
site-range codecs (the site set travels as `SEL:CLR` + `SEL:ADD <ranges>` lines, checked
against the wafer map), the run (`PROG`, the selection, `BUMP`, polling `STAT?` to the end,
with its time allowance), and the height inspection read in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from .equipment import ToolState
from .errors import ProtocolError, ToolAlarm, ToolStateError
from .families.ascii_host import HostLinkDriver, encode
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
from .specs.wire_bonder import HEIGHT_CHUNK, MAX_SELECTION_CHARS, PROGRAM_SETPOINTS, SPEC

MATERIAL_TOKENS = {WireMaterial.AU: "AU", WireMaterial.CU: "CU"}
MATERIAL_OF_TOKEN = {token: material for material, token in MATERIAL_TOKENS.items()}
STATE_TOKENS = {state: state.name for state in BonderState}
STATE_OF_TOKEN = {token: state for state, token in STATE_TOKENS.items()}
RESULT_OF_TOKEN = {result.name: result for result in RunResult}

#: Time allowances of a bump run, beyond which the wait is a timeout and the run is aborted:
#: heating the stage, plus every stud at half the slowest throughput of the process window.
HEATING_ALLOWANCE_S = 600.0
MIN_STUDS_PER_S = 5.0
RUN_MARGIN_S = 120.0

#: Tool states in which the chuck accepts a wafer transfer.
TRANSFER_STATES = (ToolState.IDLE, ToolState.ENGINEERING, ToolState.FAULT)


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


class AsciiWireBonder(HostLinkDriver, WireBonder):
    """Drives a stud-bumping wire bonder that implements the packline bonder host link."""

    spec = SPEC

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> BonderStatus:
        fields = await self.ask_fields("read status", "STAT?")
        missing = [key for key in self.status_keys if key not in fields]
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
            raise self.garbled(
                "read status",
                "STAT?",
                " ".join(f"{k}={v}" for k, v in fields.items()),
                f"not a status ({error})",
            ) from None

    async def request_site_count(self) -> int:
        return await self.ask_count("read wafer map", "MAP?")

    async def request_program(self) -> BondProgram:
        """The bond program the tool holds (CommandRefused code 7 if none was sent yet)."""
        payload = await self.ask("read program", "PROG?")
        try:
            return parse_program(payload.split(" "))
        except ValueError as error:
            raise self.garbled("read program", "PROG?", payload, str(error)) from None

    async def request_bump_height_summary(self) -> HeightSummary:
        action, command = "read bump heights", "HGT:STAT?"
        fields = await self.ask_fields(action, command)
        try:
            summary = HeightSummary(
                bumped_sites=int(fields["BUMPS"]),
                min_um=float(fields["MIN"]),
                mean_um=float(fields["MEAN"]),
                max_um=float(fields["MAX"]),
                std_um=float(fields["STD"]),
            )
        except (KeyError, ValueError) as error:
            raise self.garbled(
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
            payload = await self.ask("read bump heights", command)
            start, _, values = payload.partition(" ")
            try:
                numbers = [float(value) for value in values.split(",")]
            except ValueError:
                raise self.garbled(
                    "read bump heights", command, payload, "not a list of heights"
                ) from None
            if start != str(first_site + offset) or len(numbers) != chunk:
                raise self.garbled(
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
        await self.require_command_interlocks(action, "LOAD")
        await self.ask(action, f"LOAD {wafer_id}")

    async def unload(self, wafer_id: str) -> None:
        action = f"unload wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.require_command_interlocks(action, "UNLOAD")
        await self.ask(action, f"UNLOAD {wafer_id}")

    # ----------------------------------------------------------------- bumping

    def program_command(self, program: BondProgram, action: str = "bond program") -> str:
        """The `PROG` line for `program`, every value checked against the limits first."""
        for setpoint in PROGRAM_SETPOINTS:
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
        stack = self.setting(action, "stack_count", stack_count)
        selection = None if sites is None else encode_site_ranges(sites)
        async with self.operation(action):
            await self.require_command_interlocks(action, "BUMP")
            wafer_id = (await self.request_status()).wafer_id
            if wafer_id is None:
                raise ToolStateError(self.name, self.address, action, "no wafer on the chuck")
            await self.ask(action, program_line)
            await self._select(action, selection)
            total = await self.ask_count(action, f"BUMP {stack}")
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
            await self.ask_count(action, "SEL:ALL")
            return
        count, last, lines = selection
        site_count = await self.request_site_count()
        if last >= site_count:
            raise ValueError(
                f"{self.name}: site {last} is not on the wafer map (sites 0-{site_count - 1})"
            )
        await self.ask_count(action, "SEL:CLR")
        selected = 0
        for line in lines:
            selected = await self.ask_count(action, f"SEL:ADD {line}")
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
