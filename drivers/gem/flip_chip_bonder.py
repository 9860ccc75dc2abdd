"""The flip-chip bonder role on a GEM tool: the same `FlipChipBonder` the sequences drive, over E30.

Which SVIDs, ECIDs, CEIDs, ALIDs and RCMDs carry what is the tool's dictionary
(`drivers/specs/gem/flip_chip_bonder.yaml` for the simulated bonder;
docs/protocols/gem-flip-chip-bonder.md). The bond recipe goes to the tool as equipment
constants (S2F15, all or none, refused out of the tool's range); a run is the `bond` remote
command with its first unit and unit count, answered HCACK 4, and it ends with the `run_ended`
collection event, whose report is the run's post-bond inspection: no polling. A solder
transfer is the same with the sheet's solder and film as constants too, the `transfer`
command and the `transfer_ended` event; a frame run (000:x2) with the frame's sizes as
constants, the `frame` command and the `frame_ended` event. An alarm ends
the wait at once. The wait's allowance and the limits are the host-link driver's
(`drivers/flip_chip_bonder.py`): the process window is the role's, whatever wire carries it.
"""

from __future__ import annotations

from typing import Any

from ..errors import ToolAlarm, ToolStateError
from ..families.ascii_host import TRANSFER_STATES
from ..flip_chip_bonder import AsciiFlipChipBonder, run_allowance_s
from ..roles.flip_chip_bonder import (
    BondRecipe,
    BondResult,
    FlipChipBonder,
    FlipChipState,
    FlipChipStatus,
    FrameRecipe,
    FrameResult,
    SolderTransfer,
    TransferAlloy,
    TransferResult,
)
from ..specs.flip_chip_bonder import (
    BOND_REPLY,
    FRAME_REPLY,
    FRAME_SETPOINTS,
    RECIPE_SETPOINTS,
    REPLIES,
    SPEC,
    TRANSFER_REPLY,
)
from .dictionary import GemNeeds
from .equipment import SAFE_STATE_COMMANDS, GemEquipment

#: The status variables of `FlipChipStatus`, in its field order.
STATUS = (
    "state",
    "substrate_id",
    "source_id",
    "dies_left",
    "dies_done",
    "dies_total",
    "stage_temperature_c",
    "remaining_s",
    "runs_completed",
)


class GemFlipChipBonder(GemEquipment, FlipChipBonder):
    """Drives a flip-chip bonder that speaks GEM, by its dictionary."""

    limits = AsciiFlipChipBonder.limits
    needs = GemNeeds(
        status_variables=(
            "serial_number",
            *STATUS,
            "unit_count",
            *(variable for reply in REPLIES for variable in reply.gem_variables),
            *SPEC.interlock_names,
        ),
        equipment_constants=(*RECIPE_SETPOINTS, "transfer_alloy", "film_um", *FRAME_SETPOINTS),
        collection_events=("run_ended", "transfer_ended", "frame_ended"),
        remote_commands={
            **SAFE_STATE_COMMANDS,
            "load": ("wafer_id", "rework"),
            "unload": ("wafer_id",),
            "load_source": ("wafer_id",),
            "unload_source": ("wafer_id",),
            "bond": ("first_unit", "unit_count"),
            "transfer": ("first_unit", "unit_count"),
            "frame": ("first_unit", "unit_count"),
        },
    )

    # ----------------------------------------------------------------- queries

    async def request_status(self) -> FlipChipStatus:
        values = dict(zip(STATUS, await self.request_values("read status", *STATUS), strict=True))
        return FlipChipStatus(
            state=FlipChipState(values["state"]),
            substrate_id=values["substrate_id"] or None,
            source_id=values["source_id"] or None,
            dies_left=int(values["dies_left"]),
            dies_done=int(values["dies_done"]),
            dies_total=int(values["dies_total"]),
            stage_temperature_c=float(values["stage_temperature_c"]),
            remaining_s=float(values["remaining_s"]),
            runs_completed=int(values["runs_completed"]),
        )

    async def request_last_bond(self) -> BondResult | None:
        return await self.request_reply("read bond result", BOND_REPLY)

    async def request_last_transfer(self) -> TransferResult | None:
        return await self.request_reply("read transfer result", TRANSFER_REPLY)

    async def request_last_frame(self) -> FrameResult | None:
        return await self.request_reply("read frame result", FRAME_REPLY)

    async def request_interlocks(self) -> dict[str, bool]:
        names = SPEC.interlock_names
        values = await self.request_values("read interlocks", *names)
        return {name: bool(value) for name, value in zip(names, values, strict=True)}

    # ----------------------------------------------------------------- transfers

    async def load(self, wafer_id: str) -> None:
        action = f"load substrate {wafer_id}"
        async with self.loading(action):
            await self._transfer(action, "load", wafer_id, "LOAD")

    async def unload(self, wafer_id: str) -> None:
        await self._transfer(f"unload substrate {wafer_id}", "unload", wafer_id)

    async def load_die_source(self, wafer_id: str) -> int:
        action = f"load die source {wafer_id}"
        async with self.loading(action, self._source_blockers):
            await self._transfer(action, "load_source", wafer_id, "SRC:LOAD")
        (left,) = await self.request_values("read die source", "dies_left")
        return int(left)

    async def unload_die_source(self, wafer_id: str) -> None:
        await self._transfer(f"unload die source {wafer_id}", "unload_source", wafer_id)

    async def _transfer(self, action: str, command: str, wafer_id: str, guarded: str = "") -> None:
        """Remote command `command` for `wafer_id`, once the interlocks the host-link page's
        `guarded` command needs are closed (the substrate's `load` as a rework when
        `reloading` names it)."""
        self.check_wafer_id(wafer_id)
        self.require_state(action, *TRANSFER_STATES)
        if guarded:
            await self.require_interlocks(action, SPEC.command_by_name[guarded].interlocks)
        if command == "load":
            await self.load_workpiece(command, "wafer_id", wafer_id)
        else:
            await self.command(command, wafer_id=wafer_id)

    # ----------------------------------------------------------------- the run

    async def bond_dies(
        self,
        recipe: BondRecipe,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> BondResult:
        action = "bond dies"
        substrate, values = await self._run(
            action, "bond", "run_ended", recipe, {}, first_unit, unit_count, timeout_s
        )
        return self.accept_bond(action, BOND_REPLY.from_status_variables(values), substrate)

    async def transfer_solder_layer(
        self,
        transfer: SolderTransfer,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> TransferResult:
        alloy = TransferAlloy(transfer.alloy)
        action = f"transfer {alloy.value}"
        film_um = self.check_limit(action, "film_um", transfer.film_um)
        sheet = {"transfer_alloy": alloy.value, "film_um": film_um}
        wafer, values = await self._run(
            action,
            "transfer",
            "transfer_ended",
            transfer.recipe,
            sheet,
            first_unit,
            unit_count,
            timeout_s,
        )
        return self.accept_transfer(action, TRANSFER_REPLY.from_status_variables(values), wafer)

    async def mount_frames(
        self,
        frame: FrameRecipe,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> FrameResult:
        action = "mount frames"
        frame = self.held_setpoints(action, frame, FRAME_SETPOINTS)
        sizes = {name: getattr(frame, name) for name in FRAME_SETPOINTS}
        substrate, values = await self._run(
            action, "frame", "frame_ended", frame.recipe, sizes, first_unit, unit_count, timeout_s
        )
        return self.accept_frames(action, FRAME_REPLY.from_status_variables(values), substrate)

    async def _run(
        self,
        action: str,
        command: str,
        event_name: str,
        recipe: BondRecipe,
        constants: dict[str, Any],
        first_unit: int,
        unit_count: int | None,
        timeout_s: float | None,
    ) -> tuple[str, dict[str, Any]]:
        """Set the recipe (held to its limits, `held_setpoints`) and `constants`, run
        `command` over the units and wait for `event_name`; the substrate and the event's
        values. An alarm, or a run ended short of its dies, is `ToolAlarm`."""
        recipe = self.held_setpoints(action, recipe, RECIPE_SETPOINTS)
        constants = {name: getattr(recipe, name) for name in RECIPE_SETPOINTS} | constants
        if first_unit < 0 or (unit_count is not None and unit_count < 1):
            raise ValueError(f"{self.name}: first_unit must be >= 0 and unit_count >= 1")
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["BOND"].interlocks)
            substrate, units = await self.request_values(action, "substrate_id", "unit_count")
            if not substrate:
                raise ToolStateError(self.name, self.address, action, "no substrate on the stage")
            if unit_count is None:
                unit_count = int(units) - first_unit
                if unit_count < 1:
                    raise ValueError(f"{self.name}: unit {first_unit} is not on the substrate")
            await self.set_constants(action, constants)
            count = unit_count
            with self.expect_event(action, event_name) as ended:
                await self.command(command, first_unit=first_unit, unit_count=count)
                event = await self.wait_event(
                    action,
                    ended,
                    timeout_s or run_allowance_s(recipe, count),
                    lambda: f"run of {count} dies not ended",
                )
            values = self.event_values(event_name, event)
            done = int(values["dies_done"])
            if FlipChipState(values["state"]) is FlipChipState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error(f"{action} (stopped after {done} dies)")
            if done < count:
                raise ToolAlarm(
                    self.name, self.address, action, [f"run ended after {done} of {count} dies"]
                )
        return str(substrate), values
