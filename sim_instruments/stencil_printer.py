"""Simulated stencil printer: a PLC on Modbus with its stencil, squeegee and SPI camera.

Speaks the register map of `docs/protocols/stencil-printer.md`, declared in
`packline.drivers.specs.stencil_printer`; the family's wire side renders the status, judges
writes and commands in the family's order, and this file keeps the commands' semantics and the
cycle clock. A print cycle (align, stroke, lift, inspect) lasts the time the physics gives it;
the squeegee crosses the workpiece from its left edge, so a print stopped during the stroke (an
abort, an alarm) left paste on the bumps it passed. Time is the line's clock: every access plays
the cycle's end (or an alarm) up to `clock.now()`.

The model's constants (`PrintPhysics`) and what the paste does on the bumps are in
`sim_instruments/physics/stencil_printer.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packline.clock import Clock
from packline.drivers.families.plc_map import reason_enum
from packline.drivers.roles.ball_mounter import CycleResult
from packline.drivers.roles.stencil_printer import PrinterPhase, PrintRecipe, SolderPaste
from packline.drivers.specs.stencil_printer import SPEC

from .families.modbus_plc import Refused
from .families.plc_stage import SingleWaferPlcSimulator
from .physics.stencil_printer import PrintOutcome, PrintPhysics, print_paste, print_time_s
from .servers import ModbusTransport
from .twin import JobEnd, TwinStore

CommandError = reason_enum(SPEC)
#: A print, in the words of its twin event.
PRINT_PASTE = "print paste"


@dataclass(frozen=True)
class _Print:
    """A print cycle as the PLC took it from the job block."""

    recipe: PrintRecipe
    started_s: float
    ends_s: float


class SimStencilPrinter(SingleWaferPlcSimulator):
    """The simulated stencil printer behind a Modbus server (TCP by default, or RTU)."""

    spec = SPEC

    faults = {
        "door_switch": "safety door switch reads open",
        "stencil_unclamped": "the stencil clamp is released",
        "squeegee_jam": "the squeegee head jams: a print stops with an alarm",
    }
    fault_opens = {"door_switch": "door_closed", "stencil_unclamped": "stencil_clamped"}

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        device_id: int = 1,
        serial_number: str = "SP-1-0001",
        transport: ModbusTransport = "tcp",
        physics: PrintPhysics | None = None,
    ) -> None:
        super().__init__(
            name,
            twin,
            clock,
            serial_number=serial_number,
            device_id=device_id,
            transport=transport,
        )
        self.physics = physics or PrintPhysics()
        self.phase = PrinterPhase.READY
        self.cycle: _Print | None = None
        self.cycles_completed = 0
        self.last_result = CycleResult.NONE
        self.last_cycle_time_s = 0.0
        self.spi = PrintOutcome(0, 0.0, 0.0, 0.0, 0, 0)
        #: when the squeegee jam began (it strikes a print from then on)
        self.jam_since: float | None = None

    # ----------------------------------------------------------------- the wire

    def takes_setpoints(self) -> bool:
        return self.cycle is None

    def status_values(self) -> dict[str, object]:
        now = self.clock.now()
        cycle, spi = self.cycle, self.spi
        return {
            "STEP_REMAINING": max(cycle.ends_s - now, 0.0) if cycle else 0.0,
            "ELAPSED": now - cycle.started_s if cycle else self.last_cycle_time_s,
            "DEPOSITS": spi.deposits,
            "TRANSFER_EFFICIENCY": 100 * spi.transfer_efficiency,
            "MIN_TRANSFER_EFFICIENCY": 100 * spi.min_transfer_efficiency,
            "DEPOSIT_VOLUME": spi.deposit_nl,
            "INSUFFICIENT": spi.insufficient,
            "EXCESSIVE": spi.excessive,
            **self.counted_status(),
        }

    def counted_status(self) -> dict[str, object]:
        """The phase, the wafer, and the cycle counter and result."""
        return {
            "CYCLES_COMPLETED": self.cycles_completed % 65536,
            "LAST_RESULT": int(self.last_result),
            **self.stage_status(),
        }

    def interlock_conditions(self) -> dict[str, bool]:
        return {"wafer_present": self.wafer_id is not None}

    def conditions_changed(self) -> None:
        """Note when the squeegee jam began, after playing the cycle up to now."""
        self.advance()
        jammed = "squeegee_jam" in self.injected
        if jammed and self.jam_since is None:
            self.jam_since = self.clock.now()
        elif not jammed:
            self.jam_since = None

    # ----------------------------------------------------------------- commands

    def execute(
        self,
        command: str,
        parameters: Mapping[str, float | list[int]],
        registers: list[int],
        start: int,
    ) -> Refused | None:
        now = self.clock.now()
        if command == "RESET_ALARMS":
            if self.phase is PrinterPhase.FAULT:
                self.phase = PrinterPhase.READY
        elif command == "ABORT":
            if self.cycle is not None:
                self._finish(CycleResult.ABORTED, now)
        elif command in ("LOAD_WAFER", "RELOAD_WAFER", "UNLOAD_WAFER"):
            return self.transfer(command, parameters)
        elif command == "PRINT":
            return self._start(registers, start, now)
        return None

    def _start(self, registers: list[int], start: int, now: float) -> Refused | None:
        """Check the job block (`registers` is the map from `start`) and start the print."""
        refused = self.refuse_out_of_range(registers, start)
        if refused:
            return refused
        assert self.wafer_id is not None  # the wafer_present interlock
        workpiece = self.twin.get(self.wafer_id)
        if not workpiece.bumps.present.any():
            return self.refused(CommandError["NO_BUMPS"])
        values = self.setpoint_values(registers, start)
        recipe = PrintRecipe(
            paste=SolderPaste(str(values["paste"])),
            stencil_thickness_um=float(values["stencil_thickness_um"]),
            aperture_um=float(values["aperture_um"]),
            squeegee_force_n=float(values["squeegee_force_n"]),
            squeegee_speed_mm_s=float(values["squeegee_speed_mm_s"]),
            separation_speed_mm_s=float(values["separation_speed_mm_s"]),
        )
        duration = print_time_s(workpiece, recipe, self.physics)
        self.cycle = _Print(recipe, now, now + duration)
        self.phase = PrinterPhase.PRINTING
        return None

    # ----------------------------------------------------------------- time and physics

    def _jam_strikes_s(self, cycle: _Print) -> float | None:
        """When the squeegee jam stops the running print, if it does."""
        if self.jam_since is None:
            return None
        strikes = max(self.jam_since, cycle.started_s)
        return strikes if strikes < cycle.ends_s else None

    def next_change_s(self, now: float) -> float:
        """When the running print ends, or the jam stops it (a held read looks then); the
        scan's when none runs."""
        cycle = self.cycle
        if cycle is None:
            return self.foreseen_change_s(None, now)
        strikes = self._jam_strikes_s(cycle)
        return self.foreseen_change_s(cycle.ends_s if strikes is None else strikes, now)

    def advance(self) -> None:
        """Play the running print's end, or the jam that stops it, if its time has come."""
        cycle = self.cycle
        if cycle is None:
            return
        now = self.clock.now()
        strikes = self._jam_strikes_s(cycle)
        if strikes is not None and strikes <= now:
            self.latch("SQUEEGEE_STALL")
            self._finish(CycleResult.FAULTED, strikes)
            self.phase = PrinterPhase.FAULT
            return
        if cycle.ends_s <= now:
            self._finish(CycleResult.COMPLETED, cycle.ends_s)

    def _finish(self, result: CycleResult, time_s: float) -> None:
        """End the print: the paste on the bumps the stroke passed, the SPI on the status."""
        cycle = self.cycle
        assert cycle is not None
        assert self.wafer_id is not None
        workpiece = self.twin.get(self.wafer_id)
        rng = workpiece.draws()
        recipe = cycle.recipe
        self.spi = print_paste(workpiece, recipe, time_s - cycle.started_s, self.physics, rng)
        self.last_result = result
        self.last_cycle_time_s = time_s - cycle.started_s
        self.cycles_completed += 1
        self.cycle = None
        self.phase = PrinterPhase.READY
        workpiece.record(
            self.name,
            PRINT_PASTE,
            time_s,
            result=result.name.lower(),
            paste=recipe.paste.value,
            stencil_thickness_um=recipe.stencil_thickness_um,
            aperture_um=recipe.aperture_um,
            deposits=self.spi.deposits,
            transfer_efficiency=round(self.spi.transfer_efficiency, 4),
        )
        self.job_ended(PRINT_PASTE, [workpiece.id], time_s, JobEnd[result.name])
