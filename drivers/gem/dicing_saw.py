"""The dicing saw role on a GEM tool: the same `DicingSaw` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/dicing_saw.yaml` for the simulated saw; docs/protocols/gem-dicing-saw.md).
The cut's feed, streets and depth and the dressing interval are equipment constants (S2F15,
refused out of the tool's range); the spindle, a dressing and a cut are remote commands
answered HCACK 4, whose ends are collection events (`spindle_settled`, `dress_ended`,
`cut_ended`, the last with the cut's result in its report): no polling. An alarm ends a wait at
once. The waits' allowances and the limits are the ASCII driver's (`drivers/dicing_saw.py`):
the process window is the role's, whatever wire carries it. What the saw judges of a command
(its host-link command's declared preconditions and interlocks, in the order of
`judged_in_order`) is read from the status variables before the command is sent and refused
as the ASCII driver refuses it (`refuse_unmet`), in the spec's words: the tool's own refusal,
HCACK 2, says only that it cannot perform now. A mount refused because the chuck is taken is
worded as the ASCII saw's is, by `loading` with the spec's words.
"""

from __future__ import annotations

from typing import Any

from ..dicing_saw import (
    BLADE_CHANGE_STATES,
    DRESS_TIMEOUT_S,
    SPINDLE_TIMEOUT_S,
    AsciiDicingSaw,
    cut_time_allowance_s,
    refuse_unmet,
    speed_reached,
)
from ..equipment import READY_STATES
from ..errors import ToolAlarm, ToolStateError
from ..families.ascii_host_wire import precondition
from ..roles.dicing_saw import (
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
from ..specs.dicing_saw import (
    ALREADY_MOUNTED,
    BLADE_BROKEN,
    BLADE_REPLY,
    HOST_COMMANDS,
    NO_WORKPIECE,
    RESULT_REPLY,
    SPEC,
    WORK_REPLY,
)
from .dictionary import GemNeeds
from .equipment import SAFE_STATE_COMMANDS, GemEquipment

#: The status variables of `SawStatus`, in its field order.
STATUS = (
    "state",
    "workpiece_id",
    "lines_done",
    "lines_total",
    "spindle_krpm",
    "spindle_set_krpm",
    "cuts_completed",
    "dressings_completed",
)
#: The cut's equipment constants.
CUT_CONSTANTS = (
    "feed_mm_s",
    "depth_into_tape_um",
    "ch1_pitch_mm",
    "ch1_offset_mm",
    "ch2_pitch_mm",
    "ch2_offset_mm",
)


class GemDicingSaw(GemEquipment, DicingSaw):
    """Drives a dicing saw that speaks GEM, by its dictionary."""

    limits = AsciiDicingSaw.limits
    safe_state_timeout_s = AsciiDicingSaw.safe_state_timeout_s
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            *(variable for variable in WORK_REPLY.gem_variables if variable not in STATUS),
            *BLADE_REPLY.gem_variables,
            *RESULT_REPLY.gem_variables,
            *SPEC.interlock_names,
        ),
        equipment_constants=(*CUT_CONSTANTS, *BLADE_REPLY.gem_constants),
        collection_events=("spindle_settled", "dress_ended", "cut_ended"),
        remote_commands={
            **SAFE_STATE_COMMANDS,
            "mount": ("workpiece_id", "rework"),
            "unmount": (),
            "install_blade": ("thickness_um",),
            "start_spindle": ("speed_krpm",),
            "stop_spindle": (),
            "dress": (),
            "cut": (),
        },
    )

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> SawStatus:
        values = dict(zip(STATUS, await self.request_values("read status", *STATUS), strict=True))
        return SawStatus(
            state=SawState(values["state"]),
            workpiece_id=values["workpiece_id"] or None,
            lines_done=int(values["lines_done"]),
            lines_total=int(values["lines_total"]),
            spindle_krpm=float(values["spindle_krpm"]),
            spindle_set_krpm=float(values["spindle_set_krpm"]),
            cuts_completed=int(values["cuts_completed"]),
            dressings_completed=int(values["dressings_completed"]),
        )

    def unsafe(self, status: SawStatus) -> str | None:
        """The ASCII driver's: the state back at rest (`not_at_rest`), and the spindle stopped
        (`spindle_unsafe`)."""
        found = (self.not_at_rest(status), spindle_unsafe(status.spindle_krpm))
        return ", ".join(each for each in found if each is not None) or None

    async def request_workpiece(self) -> MountedWorkpiece | None:
        return await self.request_reply("read workpiece", WORK_REPLY)

    async def request_blade(self) -> BladeStatus:
        blade = await self.request_reply("read blade", BLADE_REPLY)
        assert blade is not None  # BLADE? always has a result (BLADE_REPLY.answers_none)
        return blade

    async def request_last_cut(self) -> DicingResult | None:
        return await self.request_reply("read cut result", RESULT_REPLY)

    async def request_interlocks(self) -> dict[str, bool]:
        names = SPEC.interlock_names
        values = await self.request_values("read interlocks", *names)
        return {name: bool(value) for name, value in zip(names, values, strict=True)}

    # ----------------------------------------------------------------- setup commands

    async def mount(self, workpiece_id: str) -> MountedWorkpiece:
        action = f"mount {workpiece_id}"
        self.check_wafer_id(workpiece_id)
        self.require_state(action, *READY_STATES)
        async with self.loading(action, words=precondition(SPEC, ALREADY_MOUNTED).words):
            await self.load_workpiece("mount", "workpiece_id", workpiece_id)
        return await self.confirm_mounted(action, workpiece_id)

    async def unmount(self) -> None:
        self.require_state("unmount", *READY_STATES)
        await self._refuse_unmet("unmount", "UNMOUNT", await self.request_status())
        await self.command("unmount")

    async def install_blade(self, thickness_um: float) -> None:
        action = "install blade"
        thickness_um = self.check_limit(action, "blade_thickness_um", thickness_um)
        self.require_state(action, *BLADE_CHANGE_STATES)
        await self._refuse_unmet(action, "BLADE", await self.request_status())
        await self.command("install_blade", thickness_um=thickness_um)

    async def set_dressing_interval(self, interval_mm: float) -> None:
        action = "set dressing interval"
        interval_mm = self.check_limit(action, "dressing_interval_mm", interval_mm)
        self.require_state(action, *READY_STATES)
        await self.set_constants(action, {"dressing_interval_mm": interval_mm})

    # ----------------------------------------------------------------- spindle

    async def start_spindle(self, speed_krpm: float) -> None:
        action = "start spindle"
        speed_krpm = self.check_limit(action, "spindle_krpm", speed_krpm)
        async with self.operation(action):
            status = await self.request_status()
            await self._refuse_unmet(action, "SPINDLE", status)
            await self._spin_up(action, speed_krpm, status)

    async def _spin_up(self, action: str, speed_krpm: float, status: SawStatus) -> None:
        """Set the spindle speed (unless it already runs at it, by the `status` just read) and
        wait for `spindle_settled`. The caller has judged the spindle start (`_refuse_unmet`;
        `dice` judged its cut, which holds it)."""
        if speed_reached(status.spindle_set_krpm, speed_krpm) and speed_reached(
            status.spindle_krpm, speed_krpm
        ):
            return
        await self._spindle(action, "start_spindle", speed_krpm)

    async def stop_spindle(self) -> None:
        action = "stop spindle"
        self.require_state(action, *READY_STATES)
        await self._spindle(action, "stop_spindle", 0.0)

    async def _spindle(self, action: str, command: str, speed_krpm: float) -> None:
        """Send the spindle command (`start_spindle` at `speed_krpm`, or `stop_spindle`) and
        wait for `spindle_settled` at that speed."""
        with self.expect_event(action, "spindle_settled") as settled:
            parameters: dict[str, Any] = (
                {"speed_krpm": speed_krpm} if command == "start_spindle" else {}
            )
            await self.command(command, **parameters)
            event = await self.wait_event(
                action, settled, SPINDLE_TIMEOUT_S, lambda: f"spindle not at {speed_krpm:g} krpm"
            )
        values = self.event_values("spindle_settled", event)
        self.record_reading("spindle_speed", values["spindle_krpm"], "krpm")
        await self._raise_on_fault(action, values["state"])
        if not speed_reached(values["spindle_krpm"], speed_krpm):
            raise ToolAlarm(
                self.name,
                self.address,
                action,
                [f"spindle settled at {values['spindle_krpm']:g} krpm, not {speed_krpm:g} krpm"],
            )

    async def _refuse_unmet(
        self, action: str, command: str, status: SawStatus, *, spins_up: bool = False
    ) -> None:
        """Refuse `action` before its remote command is sent as the ASCII driver does
        (`refuse_unmet`, `spins_up` as there), from the saw's `status`, its blade (read where
        the host-link `command` needs it unbroken) and its interlocks (read where it needs
        any)."""
        declared = HOST_COMMANDS[command]
        blade = await self.request_blade() if BLADE_BROKEN in declared.preconditions else None
        interlocks = await self.request_interlocks() if declared.interlocks else {}
        refuse_unmet(self, action, command, status, blade, interlocks, spins_up=spins_up)

    async def _raise_on_fault(self, action: str, state: str) -> None:
        if SawState(state) is SawState.FAULT:
            await self.refresh_alarms()
            raise self.alarm_error(action)

    # ----------------------------------------------------------------- dressing and cutting

    async def dress_blade(self) -> BladeStatus:
        """Dress on the dressing board at the present spindle speed (the spindle must run)."""
        action = "dress blade"
        async with self.operation(action):
            await self._refuse_unmet(action, "DRESS", await self.request_status())
            with self.expect_event(action, "dress_ended") as ended:
                await self.command("dress")
                event = await self.wait_event(
                    action, ended, DRESS_TIMEOUT_S, lambda: "dressing not ended"
                )
            await self._raise_on_fault(action, self.event_values("dress_ended", event)["state"])
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
            ch1_pitch, ch2_pitch = (
                self.check_limit(f"dice channel {channel}", "pitch_mm", pitch)
                for channel, pitch in (
                    (1, streets.ch1_pitch_mm or mounted.die_height_mm),
                    (2, streets.ch2_pitch_mm or mounted.die_width_mm),
                )
            )
            status = await self.request_status()
            await self._refuse_unmet(action, "CUT", status, spins_up=True)
            await self.set_constants(
                action,
                {
                    "feed_mm_s": recipe.feed_mm_s,
                    "depth_into_tape_um": streets.depth_into_tape_um,
                    "ch1_pitch_mm": ch1_pitch,
                    "ch1_offset_mm": streets.ch1_offset_mm,
                    "ch2_pitch_mm": ch2_pitch,
                    "ch2_offset_mm": streets.ch2_offset_mm,
                },
            )
            await self._spin_up(action, recipe.spindle_krpm, status)
            timeout_s = cut_time_allowance_s(mounted, ch1_pitch, ch2_pitch, recipe.feed_mm_s)
            with self.expect_event(action, "cut_ended") as ended:
                await self.command("cut")
                event = await self.wait_event(action, ended, timeout_s, lambda: "cut not ended")
            values = self.event_values("cut_ended", event)
            await self._raise_on_fault(action, values["state"])
            result = RESULT_REPLY.from_status_variables(values)
            if result is None or result.outcome is not CutOutcome.COMPLETED:
                outcome = result.outcome.value.lower() if result else "without a result"
                raise ToolAlarm(self.name, self.address, action, [f"cut ended {outcome}"])
        self.record_result(result)
        return result
