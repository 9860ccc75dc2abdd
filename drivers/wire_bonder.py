"""Stud-bumping wire bonder over its ASCII host link, as `docs/protocols/wire-bonder.md` sets out.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the tool's spec,
`specs/wire_bonder.py`, and the family's rules are `families/ascii_host.py`; byte-level tests
pin this driver to the page. This file keeps the bonder's process logic: the site set sent as
`SEL:CLR` + `SEL:ADD <ranges>` lines (the codecs are the spec's), checked against the wafer
map, the run (`PROG`, the selection, `BUMP`, polling `STAT?` to the end,
with its time allowance), and the height inspection read in chunks.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np

from .errors import ProtocolError, ToolStateError
from .families.ascii_host import TRANSFER_STATES, HostLinkDriver, parse_fields
from .families.ascii_host_wire import precondition
from .roles.wire_bonder import (
    BonderState,
    BonderStatus,
    BondProgram,
    BumpResult,
    HeightSummary,
    WireBonder,
)
from .specs.wire_bonder import (
    HEIGHT_CHUNK,
    HEIGHT_REPLY,
    NO_WAFER,
    PROGRAM_SETPOINTS,
    RESULT_OF_TOKEN,
    SPEC,
    STATE_OF_TOKEN,
    SiteRanges,
    encode_site_ranges,
    format_program,
    parse_program,
)

#: Time allowances of a bump run, beyond which the wait is a timeout and the run is aborted:
#: heating the stage, plus every stud at half the slowest throughput of the process window.
HEATING_ALLOWANCE_S = 600.0
MIN_STUDS_PER_S = 5.0
RUN_MARGIN_S = 120.0


class AsciiWireBonder(HostLinkDriver, WireBonder):
    """Drives a stud-bumping wire bonder that implements the packline bonder host link."""

    spec = SPEC

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> BonderStatus:
        return self.status_from(await self.ask("read status", "STAT?"))

    def status_from(self, payload: str) -> BonderStatus:
        """The status query's payload read."""
        fields = parse_fields(self, "read status", payload)
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
        summary = await self.request_reply("read bump heights", HEIGHT_REPLY)
        assert summary is not None  # HGT:STAT? always has a result: reply_from refuses its NONE
        self.record_height_summary(summary)
        return summary

    async def request_bump_heights(
        self, first_site: int = 0, count: int | None = None
    ) -> np.ndarray:
        self.check_site_span(first_site, count)
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
        command = "RELOAD" if wafer_id in self.reworks else "LOAD"  # a rework: `reloading`
        await self.require_command_interlocks(action, command)
        async with self.loading(action):
            await self.ask(action, f"{command} {wafer_id}")

    async def unload(self, wafer_id: str) -> None:
        action = f"unload wafer {wafer_id}"
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        await self.require_command_interlocks(action, "UNLOAD")
        await self.ask(action, f"UNLOAD {wafer_id}")

    # ----------------------------------------------------------------- bumping

    def program_command(self, program: BondProgram, action: str = "bond program") -> str:
        """The `PROG` line for `program`, every value checked against the limits first and
        sent as it is held (`held_setpoints`)."""
        return format_program(self.held_setpoints(action, program, PROGRAM_SETPOINTS))

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
            wafer_id = (await self.status_when_closed(action, "BUMP", self.status_from)).wafer_id
            if wafer_id is None:
                raise ToolStateError(
                    self.name, self.address, action, precondition(SPEC, NO_WAFER).words
                )
            bump = f"BUMP {stack}"
            # each reply checked as it is read, the run stopped if one after BUMP's fails
            checks = {
                command: functools.partial(self.count_from, action, command)
                for command in ("SEL:ALL", bump)
            } | {"STAT?": self.status_from}
            if selection is None:  # the program, every site, the run and its status: one line
                # SEL:ALL selects every site whatever it answers: its count, read after BUMP
                # was taken, only proves the reply well formed, and a garbled one stops the run
                *_, selected, started = await self.ask_compound(
                    action, program_line, "SEL:ALL", bump, "STAT?", checks=checks, moves=bump
                )
            else:  # the selection's lines and their count checked before BUMP goes
                await self.ask(action, program_line)
                await self._select(action, selection)
                selected, started = await self.ask_compound(
                    action, bump, "STAT?", checks=checks, moves=bump
                )
            total = self.count_from(action, bump, selected)
            if timeout_s is None:
                timeout_s = (
                    HEATING_ALLOWANCE_S + total * stack_count / MIN_STUDS_PER_S + RUN_MARGIN_S
                )
            status = await self._wait_run(action, total, timeout_s, self.status_from(started))
        return BumpResult(
            wafer_id=wafer_id,
            stack_count=stack_count,
            sites_requested=total,
            bumps_formed=status.bumps_done,
            process_time_s=status.elapsed_s,
        )

    async def _select(self, action: str, selection: SiteRanges) -> None:
        """Send the site selection of the given ranges (checked on the map)."""
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

    async def _wait_run(
        self, action: str, total: int, timeout_s: float, started: BonderStatus
    ) -> BonderStatus:
        """Poll the run to its end from the status it `started` with, recording progress;
        alarms, an abort or the timeout end it."""
        status = started  # the latest, for the timeout message

        async def judge(read: BonderStatus) -> BonderStatus | None:
            nonlocal status
            status = read
            self.record_status(status)
            if status.state in (BonderState.FAULT, BonderState.IDLE):
                await self.check_run_ended(action, status, total)
                return status
            return None

        return await self.wait_held(
            action,
            self.request_status,
            judge,
            timeout_s,
            lambda: f"{status.bumps_done} of {total} sites",
            first=started,
        )
