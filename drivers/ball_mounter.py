"""Ball-mount cell over Modbus TCP (or RTU): the PLC register map of
`docs/protocols/ball-mounter.md`.

The map (the status block with the inspection counts, the serial number and wafer id blocks,
the job block with the ball map as a bit field, the command register and its parameters) is
declared once in `packline.drivers.specs.ball_mounter`; the family's driver base
(`ModbusPlcDriver`) reads, encodes and explains from it. This file keeps the cell's process:
the load checks, the flux, mount, repair and inspection cycles (write the job registers a cycle
reads, then its command, then poll until the cycle is counted), their waits and the safe state
(heads raised, vacuum off: ABORT, confirmed by the phase back at ready). Byte-level tests
pin it to the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import ToolAlarm
from .families.plc_map import field
from .families.plc_stage import SingleWaferPlcDriver, run_cycle
from .links.registers import bits_to_registers
from .roles.ball_mounter import (
    BallAlloy,
    BallMap,
    BallMounter,
    BallMounterPhase,
    BallMounterStatus,
    CycleResult,
    FluxMethod,
    FluxResult,
    Inspection,
    MountResult,
)
from .specs.ball_mounter import SPEC


class ModbusBallMounter(SingleWaferPlcDriver[BallMounterStatus], BallMounter):
    """Drives a ball-mount cell PLC that implements the packline ball mounter register map."""

    spec = SPEC
    limits = SPEC.limits()

    # ----------------------------------------------------------------- queries

    def status_from(self, values: Mapping[str, float]) -> BallMounterStatus:
        return BallMounterStatus(
            phase=self.member(values, "PHASE", BallMounterPhase),
            step_remaining_s=values["STEP_REMAINING"],
            cycle_time_s=values["ELAPSED"],
            cycles_completed=int(values["CYCLES_COMPLETED"]),
            last_result=self.member(values, "LAST_RESULT", CycleResult),
            wafer_loaded=bool(values["WAFER_LOADED"]),
            flux_applied=bool(values["FLUX_APPLIED"]),
            balls_placed=int(values["BALLS_PLACED"]),
        )

    async def request_inspection(self, timeout_s: float = 600.0) -> Inspection:
        action = "inspect balls"
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["INSPECT"].interlocks)
            await run_cycle(self, action, "INSPECT", timeout_s)
            values = await self.read_status_block()
        return Inspection(
            sites_inspected=int(values["SITES_INSPECTED"]),
            missing=int(values["MISSING_BALLS"]),
            extra=int(values["EXTRA_BALLS"]),
            bridged=int(values["BRIDGED_BALLS"]),
        )

    # ----------------------------------------------------------------- commands

    async def apply_flux(
        self,
        ball_map: BallMap,
        method: FluxMethod,
        thickness_um: float,
        timeout_s: float = 600.0,
    ) -> FluxResult:
        action = f"apply flux ({FluxMethod(method).value}, {thickness_um:g} um)"
        registers = self._job(
            action,
            ball_map,
            flux_method=FluxMethod(method).value,
            flux_thickness_um=thickness_um,
        )
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["APPLY_FLUX"].interlocks)
            wafer_id = await self.request_wafer() or ""
            await self.write_fields("write flux job", field(SPEC, "side").address(), registers)
            end = await run_cycle(self, action, "APPLY_FLUX", timeout_s)
            if not end.flux_applied:
                raise ToolAlarm(
                    self.name, self.address, action, ["no open site of the map took flux"]
                )
        return FluxResult(
            wafer_id=wafer_id,
            method=FluxMethod(method),
            thickness_um=thickness_um,
            process_time_s=end.cycle_time_s,
        )

    async def mount_balls(
        self,
        ball_map: BallMap,
        diameter_um: float,
        alloy: BallAlloy,
        timeout_s: float = 900.0,
    ) -> MountResult:
        action = f"mount {BallAlloy(alloy).value} balls of {diameter_um:g} um"
        return await self._place(action, "MOUNT_BALLS", ball_map, diameter_um, alloy, timeout_s)

    async def repair_balls(
        self,
        ball_map: BallMap,
        diameter_um: float,
        alloy: BallAlloy,
        timeout_s: float = 900.0,
    ) -> MountResult:
        action = f"repair missing {BallAlloy(alloy).value} balls of {diameter_um:g} um"
        return await self._place(action, "REPAIR_BALLS", ball_map, diameter_um, alloy, timeout_s)

    async def _place(
        self,
        action: str,
        command: str,
        ball_map: BallMap,
        diameter_um: float,
        alloy: BallAlloy,
        timeout_s: float,
    ) -> MountResult:
        """A mount or repair cycle: its job block (checked), the interlocks, the command."""
        registers = self._job(
            action, ball_map, ball_diameter_um=diameter_um, alloy=BallAlloy(alloy).value
        )
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name[command].interlocks)
            wafer_id = await self.request_wafer() or ""
            await self.write_fields(
                "write mount job", field(SPEC, "ball_diameter_um").address(), registers
            )
            end = await run_cycle(self, action, command, timeout_s)
        return MountResult(
            wafer_id=wafer_id,
            diameter_um=diameter_um,
            alloy=BallAlloy(alloy),
            balls_placed=end.balls_placed,
            process_time_s=end.cycle_time_s,
        )

    def _job(self, action: str, ball_map: BallMap, **values: float | str) -> list[int]:
        """The job block registers of a cycle, by address: `values` and the ball map with its
        side (each checked; nothing is sent)."""
        bitmap = field(SPEC, "ball_map")
        fields = {"side": ball_map.side.value, **values}
        by_address = {
            entry.address(): self.encode(action, entry.name, fields[entry.name])
            for entry in self.map.fields(SPEC)
            if entry.name in fields
        }
        by_address[bitmap.address()] = bits_to_registers(ball_map.positions, bitmap.words)
        first = min(by_address)
        registers: list[int] = []
        for address in sorted(by_address):
            assert address == first + len(registers), "a cycle's job registers are contiguous"
            registers += by_address[address]
        return registers

    # ----------------------------------------------------------------- safety
