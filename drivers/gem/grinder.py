"""The grinder role on a GEM tool: the same `Grinder` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/grinder.yaml` for the simulated grinder; docs/protocols/gem-grinder.md).
The recipe's setpoints are equipment constants (S2F15, refused out of the tool's range); the
workpiece and the chuck are remote commands answered at once; a cycle is the remote command
`start` answered HCACK 4, whose end is the collection event `cycle_ended` with the cycle's
result and the gauge's reading in its report: no polling. An alarm ends the wait at once. The
cycle's time allowance, the target checks and the limits are the SCPI driver's
(`drivers/grinder.py`): the process window is the role's, whatever wire carries it. What a
load or an unload needs of the grinder and its chuck (the preconditions the spec declares of
the SCPI grinder's command: no cycle running, no alarm latched, the chuck's) is read from the
status variables before the command is sent and refused as the SCPI grinder refuses, a
latched alarm as the alarm, the others in the spec's words: the tool's own refusal, HCACK 2,
says only that it cannot perform now.
"""

from __future__ import annotations

from ..equipment import READY_STATES, ToolState
from ..errors import ProtocolError, ToolAlarm, ToolStateError
from ..families.scpi_wire import command
from ..grinder import (
    RECIPE_SETPOINTS,
    ScpiGrinder,
    check_start,
    cycle_allowance_s,
)
from ..roles.grinder import (
    AT_REST,
    CycleResult,
    Grinder,
    GrinderStatus,
    GrindPhase,
    GrindRecipe,
    GrindResult,
    GrindSide,
    WaferOnChuck,
)
from ..specs.grinder import (
    ALARM_ACTIVE,
    GRINDING,
    NO_WAFER,
    PROCESSED_LAST,
    SPEC,
    STATUS_REPLY,
    VACUUM_ON,
    WAFER_ON_CHUCK,
)
from .dictionary import GemNeeds
from .equipment import SAFE_STATE_COMMANDS, GemEquipment

#: The status variables of `GrinderStatus` (`STATUS_REPLY`'s fields), and the gauge's validity.
STATUS = (*STATUS_REPLY.gem_variables, "gauge_valid")
#: The spec's traced variable of the gauge reading (its trace name and unit, as the SCPI
#: driver records it).
THICKNESS = SPEC.status_by_name["thickness"]


class GemGrinder(GemEquipment, Grinder):
    """Drives a grinder that speaks GEM, by its dictionary."""

    limits = ScpiGrinder.limits
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            "substrate_um",
            "gauge_resolution_um",
            "wafer_id",
            "wafer_side",
            "vacuum_on",
            *SPEC.interlock_names,
        ),
        equipment_constants=RECIPE_SETPOINTS,
        collection_events=("cycle_ended",),
        remote_commands={
            **SAFE_STATE_COMMANDS,
            "load": ("wafer_id", "side", "rework"),
            "unload": (),
            "apply_chuck_vacuum": (),
            "release_chuck_vacuum": (),
            "start": (),
        },
    )

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> GrinderStatus:
        """The fields of the SCPI face's `GRIN:STAT?` (`STATUS_REPLY`), the thickness None
        while the gauge gives no valid reading, as there."""
        values = dict(zip(STATUS, await self.request_values("read status", *STATUS), strict=True))
        if not values.pop("gauge_valid"):
            values["thickness_um"] = None
        status = STATUS_REPLY.from_status_variables(values)
        assert status is not None  # it answers no NONE: from_status_variables reads it whole
        return status

    async def request_wafer(self) -> WaferOnChuck | None:
        return wafer_on_chuck(*await self.request_values("read wafer", "wafer_id", "wafer_side"))

    async def _gauge(self, action: str, name: str) -> float:
        """A gauge's reading; an invalid one means the gauge failed (the tool raises an alarm)."""
        value, valid = await self.request_values(action, name, "gauge_valid")
        if not valid:
            await self.refresh_alarms()
            if self.active_alarms:
                raise self.alarm_error(action)
            raise ProtocolError(
                self.name, self.address, action, f"{name}: the gauge gives no valid reading"
            )
        return float(value)

    async def request_thickness_um(self) -> float:
        return await self._gauge("read thickness", "thickness_um")

    async def request_substrate_thickness_um(self) -> float:
        return await self._gauge("read substrate thickness", "substrate_um")

    async def request_gauge_resolution_um(self) -> float:
        (resolution,) = await self.request_values("read gauge resolution", "gauge_resolution_um")
        return float(resolution)

    async def request_interlocks(self) -> dict[str, bool]:
        names = SPEC.interlock_names
        values = await self.request_values("read interlocks", *names)
        return {name: bool(value) for name, value in zip(names, values, strict=True)}

    # ----------------------------------------------------------------- wafer and chuck

    async def load(self, wafer_id: str, side: GrindSide) -> None:
        side = GrindSide(side)
        self.check_wafer_id(wafer_id)
        action = f"load wafer {wafer_id} for {side.value} grinding"
        self.require_state(action, *READY_STATES)
        await self._refuse_unmet(
            action, "wafer_reload" if wafer_id in self.reworks else "wafer_load"
        )
        async with self.loading(action):
            await self.load_workpiece("load", "wafer_id", wafer_id, side=side.name)

    async def unload(self) -> None:
        action = "unload wafer"
        self.require_state(action, *READY_STATES, ToolState.FAULT)
        await self._refuse_unmet(action, "wafer_unload")
        await self.command("unload")

    async def _refuse_unmet(self, action: str, name: str) -> None:
        """Refuse `action` before its remote command is sent when the grinder (`phase`: a cycle
        running, an alarm latched) or its chuck (`wafer_id`, `vacuum_on`) does not give what
        the SCPI grinder's command `name` needs of it, the first unmet of its `preconditions`
        in their order (`ScpiCommand.first_unmet`), as the SCPI grinder refuses: the GEM
        grinder's own refusal, HCACK 2, would say only that it cannot perform now. A latched
        alarm is read (`refresh_alarms`, which puts the driver in FAULT) and raised as every
        alarm the driver meets is, `ToolAlarm` naming them; a wafer already on the chuck is
        `WorkpieceHeld` naming it, as every tool's refused load is (`loading`,
        `require_empty`); any other, a cycle running among them, `ToolStateError` in its
        words."""
        phase, wafer_id, vacuum_on = await self.request_values(
            action, "phase", "wafer_id", "vacuum_on"
        )
        held = wafer_id or None
        refused = command(SPEC, name)
        first = refused.first_unmet(
            {
                GRINDING: GrindPhase(phase) not in AT_REST,
                ALARM_ACTIVE: GrindPhase(phase) is GrindPhase.FAULT,
                WAFER_ON_CHUCK: held is not None,
                VACUUM_ON: bool(vacuum_on),
                NO_WAFER: held is None,
                # no status variable tells it: the tool refuses such a load itself, naming the
                # wafer (HCACK 3, CPACK 2 on WAFER), after the chuck's, as the SCPI face does
                PROCESSED_LAST: False,
            }
        )
        if first is None:
            return
        if first == ALARM_ACTIVE:
            await self.refresh_alarms()
            raise self.alarm_error(action)
        words = first.words(**refused.own_fields, wafer=held)
        if held is not None and first == WAFER_ON_CHUCK:
            raise self.held_refusal(action, [held], words)
        raise ToolStateError(self.name, self.address, action, words)

    async def apply_chuck_vacuum(self) -> None:
        self.require_state("apply chuck vacuum", *READY_STATES)
        await self.command("apply_chuck_vacuum")

    async def release_chuck_vacuum(self) -> None:
        self.require_state("release chuck vacuum", *READY_STATES, ToolState.FAULT)
        await self.command("release_chuck_vacuum")

    # ----------------------------------------------------------------- grinding

    async def grind(self, recipe: GrindRecipe) -> GrindResult:
        action = "grind"
        setpoints = {
            name: self.check_limit(action, name, getattr(recipe, name)) for name in RECIPE_SETPOINTS
        }
        async with self.operation(action):
            phase, wafer_id, side = await self.request_values(
                action, "phase", "wafer_id", "wafer_side"
            )
            start_um = await self.request_thickness_um()
            substrate_um = await self.request_substrate_thickness_um()
            wafer = await check_start(
                self, action, GrindPhase(phase), wafer_on_chuck(wafer_id, side),
                recipe.target_thickness_um, start_um, substrate_um,
            )  # fmt: skip
            await self.require_interlocks(action, SPEC.command_by_name["start"].interlocks)
            resolution_um = await self.request_gauge_resolution_um()
            await self.set_constants(f"{action} {wafer.wafer_id}: set the recipe", setpoints)
            with self.expect_event(action, "cycle_ended") as ended:
                await self.command("start")
                event = await self.wait_event(
                    action, ended, cycle_allowance_s(recipe, start_um), lambda: "cycle not ended"
                )
            values = self.event_values("cycle_ended", event)
            if GrindPhase(values["phase"]) is GrindPhase.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(action)
            result = CycleResult(values["last_result"])
            if result is not CycleResult.COMPLETED:
                raise ToolAlarm(self.name, self.address, action, [f"cycle ended {result.value}"])
            final_um = await self.request_thickness_um()
            assert THICKNESS.trace is not None
            self.record_reading(THICKNESS.trace, final_um, THICKNESS.unit)
            if final_um < recipe.target_thickness_um:
                raise ToolAlarm(
                    self.name, self.address, action,
                    [f"OVERSHOOT (gauge reads {final_um:g} um, below the target "
                     f"{recipe.target_thickness_um:g} um)"],
                )  # fmt: skip
        return GrindResult(
            wafer_id=wafer.wafer_id,
            side=wafer.side,
            target_thickness_um=recipe.target_thickness_um,
            start_thickness_um=start_um,
            final_thickness_um=final_um,
            gauge_resolution_um=resolution_um,
            process_time_s=float(values["cycle_time_s"]),
        )


def wafer_on_chuck(wafer_id: str, side: str) -> WaferOnChuck | None:
    """The workpiece on the chuck from its status variables (`wafer_id`, `wafer_side`): None
    for the empty id the tool gives with none."""
    return WaferOnChuck(wafer_id, GrindSide(side)) if wafer_id else None
