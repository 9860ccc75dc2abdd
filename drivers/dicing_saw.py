"""Dicing saw over an ASCII host link: the command set of `docs/protocols/dicing-saw.md`.

The wire contract (commands, ranges, alarms, interlocks, refusals) is the saw's spec,
`specs/dicing_saw.py`, and the family's rules are `families/ascii_host.py`; byte-level tests
pin this driver to the page. This file keeps the saw's process logic: mounting, blade change
and dressing interval, the spindle (set, then polled until at speed), dressing, and the cut
(`CUT` returns at once; the host polls `STAT?` until the saw is idle with its cut counter
advanced, or in fault, within an allowance computed from the street map and the feed).
"""

from __future__ import annotations

from collections.abc import Mapping

from .equipment import READY_STATES, Equipment, ToolState
from .errors import ToolAlarm, ToolStateError
from .families.ascii_host import HostLinkDriver, parse_fields, reading_first
from .families.ascii_host_wire import precondition
from .roles.dicing_saw import (
    BladeStatus,
    CutOutcome,
    DicingRecipe,
    DicingResult,
    DicingSaw,
    MountedWorkpiece,
    SawState,
    SawStatus,
    spindle_unsafe,
)
from .specs.dicing_saw import (
    BLADE_REPLY,
    HOST_COMMANDS,
    INTERLOCKS,
    NO_WORKPIECE,
    RESULT_REPLY,
    SPEC,
    WORK_REPLY,
    first_unmet,
    unmet_preconditions,
)

BLADE_CHANGE_STATES = (ToolState.IDLE, ToolState.ENGINEERING, ToolState.MAINTENANCE)

#: The spindle counts as at speed within this many krpm of its set speed.
SPINDLE_TOLERANCE_KRPM = 0.05


def speed_reached(speed_krpm: float, target_krpm: float) -> bool:
    """Whether a spindle speed is `target_krpm` as the drivers judge it (within
    `SPINDLE_TOLERANCE_KRPM`)."""
    return abs(speed_krpm - target_krpm) <= SPINDLE_TOLERANCE_KRPM


#: Process-time allowances beyond which a wait is a timeout.
SPINDLE_TIMEOUT_S = 30.0
DRESS_TIMEOUT_S = 300.0
CUT_TIMEOUT_MARGIN_S = 120.0
#: What the cut-time estimate assumes per line beyond the cut itself (index, approach).
LINE_ALLOWANCE_S = 2.0
LINE_ALLOWANCE_MM = 10.0


def cut_time_allowance_s(
    mounted: MountedWorkpiece, ch1_pitch_mm: float, ch2_pitch_mm: float, feed_mm_s: float
) -> float:
    """An upper bound of the cut time: every line as long as the diameter, plus a margin."""
    lines = mounted.diameter_mm / ch1_pitch_mm + mounted.diameter_mm / ch2_pitch_mm + 4
    per_line_s = (mounted.diameter_mm + LINE_ALLOWANCE_MM) / feed_mm_s + LINE_ALLOWANCE_S
    return lines * per_line_s + CUT_TIMEOUT_MARGIN_S


def refuse_unmet(
    saw: Equipment,
    action: str,
    command: str,
    status: SawStatus,
    blade: BladeStatus | None,
    interlocks: Mapping[str, bool],
    *,
    spins_up: bool = False,
) -> None:
    """Refuse `action` before the saw's `command` is sent when what the saw judges of it
    (`judged_in_order`) shows unmet in what the driver just read: the `status`, the `blade`
    (read where the command needs it unbroken) and the `interlocks` (where it needs any). The
    first unmet in that order is the refusal, as the saw's own would be: an open interlock is
    `InterlockOpen` naming the open ones, anything else `ToolStateError` in the spec's words
    (`precondition`). Both faces of the saw judge so, the GEM one because its tool's refusal,
    HCACK 2, does not say why.

    `spins_up`: the caller brings the spindle to speed itself before it sends `command` (`dice`
    before its `CUT`), so the spindle at speed, the last of the order, is not judged; the rest
    is, before anything is sent. What a cut needs of the blade and its interlocks holds what a
    spindle start needs, so the spin-up that follows needs no judgement of its own."""
    at_speed = spins_up or (
        status.spindle_set_krpm > 0 and speed_reached(status.spindle_krpm, status.spindle_set_krpm)
    )
    unmet = unmet_preconditions(
        workpiece_id=status.workpiece_id,
        blade_broken=blade is not None and blade.broken,
        spindle_krpm=status.spindle_krpm,
        spindle_set_krpm=status.spindle_set_krpm,
        at_speed=at_speed,
    )
    first = first_unmet(command, unmet, interlocks)
    if first == INTERLOCKS:
        saw.require_closed(action, interlocks, HOST_COMMANDS[command].interlocks)
    elif first is not None:
        raise ToolStateError(saw.name, saw.address, action, precondition(SPEC, first).words)


class AsciiDicingSaw(HostLinkDriver, DicingSaw):
    """Drives a dicing saw whose host link implements the packline dicing saw command set."""

    spec = SPEC
    #: The spindle coasting down after `STOP`: 6 s from its top speed at the page's 10
    #: krpm/s, with a margin for a slower spindle and the polls that watch it.
    safe_state_timeout_s = 20.0

    def unsafe(self, fields: Mapping[str, str]) -> str | None:
        """The family's (`STATE` idle or fault), and the spindle stopped (`spindle_unsafe`)."""
        rpm = self.number_field("abort", fields, "SPINDLE")
        found = (super().unsafe(fields), spindle_unsafe(rpm / 1000))
        return ", ".join(each for each in found if each is not None) or None

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> SawStatus:
        return self.status_from(await self.ask("read status", self.wire.status_query))

    def status_from(self, payload: str) -> SawStatus:
        """The status query's payload read."""
        action = "read status"
        fields = parse_fields(self, action, payload, self.status_keys)
        return SawStatus(
            state=self.choice_field(action, fields, "STATE", SawState),
            workpiece_id=None if fields["WORK"] == "-" else fields["WORK"],
            lines_done=self.integer_field(action, fields, "LINE"),
            lines_total=self.integer_field(action, fields, "LINES"),
            spindle_krpm=self.integer_field(action, fields, "SPINDLE") / 1000,
            spindle_set_krpm=self.integer_field(action, fields, "SPINDLE_SET") / 1000,
            cuts_completed=self.integer_field(action, fields, "CUTS"),
            dressings_completed=self.integer_field(action, fields, "DRESSES"),
        )

    async def request_workpiece(self) -> MountedWorkpiece | None:
        return await self.request_reply("read workpiece", WORK_REPLY)

    async def request_blade(self) -> BladeStatus:
        blade = await self.request_reply("read blade", BLADE_REPLY)
        assert blade is not None  # BLADE? always has a result: reply_from refuses its NONE
        return blade

    async def request_last_cut(self) -> DicingResult | None:
        return await self.request_reply("read cut result", RESULT_REPLY)

    # ----------------------------------------------------------------- setup commands

    async def mount(self, workpiece_id: str) -> MountedWorkpiece:
        action = f"mount {workpiece_id}"
        self.check_wafer_id(workpiece_id)
        self.require_state(action, *READY_STATES)
        command = "REMOUNT" if workpiece_id in self.reworks else "MOUNT"  # `reloading`
        async with self.loading(action):
            await self.do(action, f"{command} {workpiece_id}")
        return await self.confirm_mounted(action, workpiece_id)

    async def unmount(self) -> None:
        self.require_state("unmount", *READY_STATES)
        await self.do("unmount", "UNMOUNT")

    async def install_blade(self, thickness_um: float) -> None:
        action = "install blade"
        thickness = self.setting(action, "blade_thickness_um", thickness_um)
        self.require_state(action, *BLADE_CHANGE_STATES)
        await self.do(action, f"BLADE {thickness}")

    async def set_dressing_interval(self, interval_mm: float) -> None:
        action = "set dressing interval"
        interval = self.setting(action, "dressing_interval_mm", interval_mm)
        self.require_state(action, *READY_STATES)
        await self.do(action, f"INTERVAL {interval}")

    # ----------------------------------------------------------------- spindle

    async def start_spindle(self, speed_krpm: float) -> None:
        action = "start spindle"
        speed_krpm = self.check_limit(action, "spindle_krpm", speed_krpm)
        async with self.operation(action):
            status = await self._status_when_met(action, "SPINDLE")
            await self._spin_up(action, speed_krpm, status)

    async def _status_when_met(
        self, action: str, command: str, *, spins_up: bool = False
    ) -> SawStatus:
        """The status, read on one line with the blade and the interlocks
        (`BLADE?;ILK?;STAT?`), once what the saw judges of `command` is seen met: the refusal
        of `refuse_unmet` otherwise (`spins_up` as there), before `command` is sent."""
        wire = self.wire
        blade, interlocks, status = await self.ask_compound(
            action, BLADE_REPLY.query, wire.interlock_query, wire.status_query
        )
        found = self.status_from(status)
        blade_found = self.reply_from(action, BLADE_REPLY, blade)
        interlocks_found = self.interlocks_from(interlocks)
        refuse_unmet(self, action, command, found, blade_found, interlocks_found, spins_up=spins_up)
        return found

    async def _spin_up(self, action: str, speed_krpm: float, status: SawStatus) -> SawStatus:
        """Set the spindle speed (unless already set) and wait until it is at speed, from the
        `status` just read.

        The caller has judged the spindle start (`refuse_unmet`; `dice` judged its cut, which
        holds it). Returns the status that showed it at speed.
        """
        if speed_reached(status.spindle_set_krpm, speed_krpm):
            if speed_reached(status.spindle_krpm, speed_krpm):
                return status
            return await self._wait_spindle(action, speed_krpm, status)
        speed = f"SPINDLE {self.setting(action, 'spindle_krpm', speed_krpm)}"
        commanded = await self.start_motion(action, speed, self.status_from)
        return await self._wait_spindle(action, speed_krpm, commanded)

    async def stop_spindle(self) -> None:
        action = "stop spindle"
        self.require_state(action, *READY_STATES)
        (off,) = await self.do_and_ask(action, ("SPINDLE OFF",), self.wire.status_query)
        await self._wait_spindle(action, 0.0, self.status_from(off))

    async def _wait_spindle(self, action: str, speed_krpm: float, first: SawStatus) -> SawStatus:
        """Poll until the spindle runs at `speed_krpm`, judging the status read as the wait
        began (`first`) first; an alarm or a timeout ends the wait.

        A spindle that never settles is stopped (`wait_until` aborts).
        """
        status = first  # the latest, for the timeout message
        next_status = reading_first(first, self.request_status)

        async def poll() -> SawStatus | None:
            nonlocal status
            status = await next_status()
            self.record_reading("spindle_speed", status.spindle_krpm, "krpm")
            if speed_reached(status.spindle_krpm, speed_krpm):
                return status
            if status.state is SawState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            return None

        return await self.wait_until(
            action,
            poll,
            SPINDLE_TIMEOUT_S,
            lambda: f"spindle at {status.spindle_krpm:g} krpm, not {speed_krpm:g} krpm",
        )

    # ----------------------------------------------------------------- dressing and cutting

    async def dress_blade(self) -> BladeStatus:
        """Dress on the dressing board at the present spindle speed (the spindle must run)."""
        action = "dress blade"
        async with self.operation(action):
            before = await self._status_when_met(action, "DRESS")
            started = await self.start_motion(action, "DRESS", self.status_from)
            await self._wait_motion(
                action, "dressings_completed", before.dressings_completed, DRESS_TIMEOUT_S, started
            )
            blade = await self.request_blade()
        self.record_reading("cut_since_dressing", blade.cut_since_dressing_mm, "mm")
        return blade

    async def dice(self, recipe: DicingRecipe) -> DicingResult:
        action = "dice"
        recipe = self.check_recipe(recipe)
        streets = recipe.streets
        async with self.operation(action):
            mounted = await self.request_workpiece()
            if mounted is None:
                raise ToolStateError(
                    self.name, self.address, action, precondition(SPEC, NO_WORKPIECE).words
                )
            ch1_pitch = streets.ch1_pitch_mm or mounted.die_height_mm
            ch2_pitch = streets.ch2_pitch_mm or mounted.die_width_mm
            index_lines = [
                f"INDEX {channel} {self.setting(f'dice channel {channel}', 'pitch_mm', pitch)} "
                f"{self.setting(f'dice channel {channel}', 'offset_mm', offset)}"
                for channel, pitch, offset in (
                    (1, ch1_pitch, streets.ch1_offset_mm),
                    (2, ch2_pitch, streets.ch2_offset_mm),
                )
            ]
            status = await self._status_when_met(action, "CUT", spins_up=True)
            depth = self.setting(action, "depth_into_tape_um", streets.depth_into_tape_um)
            settings = (
                f"FEED {self.setting(action, 'feed_mm_s', recipe.feed_mm_s)}",
                *index_lines,
                f"DEPTH {depth}",
            )
            await self.do_and_ask(action, settings)
            spinning = await self._spin_up(action, recipe.spindle_krpm, status)
            started = await self.start_motion(action, "CUT", self.status_from)
            timeout_s = cut_time_allowance_s(mounted, ch1_pitch, ch2_pitch, recipe.feed_mm_s)
            await self._wait_motion(
                action, "cuts_completed", spinning.cuts_completed, timeout_s, started
            )
            result = await self.request_last_cut()
            if result is None or result.outcome is not CutOutcome.COMPLETED:
                outcome = result.outcome.value.lower() if result else "without a result"
                raise ToolAlarm(self.name, self.address, action, [f"cut ended {outcome}"])
        self.record_result(result)
        return result

    async def _wait_motion(
        self, action: str, counter: str, before: int, timeout_s: float, started: SawStatus
    ) -> None:
        """Wait until the saw is idle with `counter` advanced (`wait_idle`), from the status it
        `started` with; an overrunning cut or dress is stopped, blade up."""
        await self.wait_idle(
            action,
            self.request_status,
            lambda status: getattr(status, counter) != before,
            timeout_s,
            record=self._record_motion,
            progress=lambda status: f"{status.lines_done}/{status.lines_total} lines",
            first=started,
        )

    def _record_motion(self, status: SawStatus) -> None:
        """Record the readings of a status read while the blade moves."""
        self.record_reading("lines_done", status.lines_done, "lines")
        self.record_reading("progress", status.progress_percent, "%")
        self.record_reading("spindle_speed", status.spindle_krpm, "krpm")
