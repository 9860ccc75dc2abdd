"""Stencil printer over Modbus TCP (or RTU): the PLC register map of
`docs/protocols/stencil-printer.md`.

The map (the status block with the SPI's measurements, the serial number and wafer id blocks,
the print job block, the command register and its parameters) is declared once in
`packline.drivers.specs.stencil_printer`; the family's driver base (`ModbusPlcDriver`) reads,
encodes and explains from it. This file keeps the printer's process: the print cycle (write
the job block, then `PRINT`, then poll until the cycle is counted), its wait and the safe state
(squeegee raised, stage lowered: ABORT, confirmed by the phase back at ready). Byte-level
tests pin it to the page.
"""

from __future__ import annotations

from collections.abc import Mapping

from .families.plc_map import field
from .families.plc_stage import SingleWaferPlcDriver, run_cycle
from .roles.ball_mounter import CycleResult
from .roles.stencil_printer import (
    PrinterPhase,
    PrinterStatus,
    PrintRecipe,
    PrintResult,
    SolderPaste,
    StencilPrinter,
)
from .specs.stencil_printer import SPEC

#: The job block's registers in address order, as a print writes them in one request.
JOB_FIELDS = (
    "stencil_thickness_um",
    "aperture_um",
    "squeegee_force_n",
    "squeegee_speed_mm_s",
    "separation_speed_mm_s",
    "paste",
)


class ModbusStencilPrinter(SingleWaferPlcDriver[PrinterStatus], StencilPrinter):
    """Drives a stencil printer PLC that implements the packline stencil printer register map."""

    spec = SPEC
    limits = SPEC.limits()

    def status_from(self, values: Mapping[str, float]) -> PrinterStatus:
        return PrinterStatus(
            phase=self.member(values, "PHASE", PrinterPhase),
            step_remaining_s=values["STEP_REMAINING"],
            cycle_time_s=values["ELAPSED"],
            cycles_completed=int(values["CYCLES_COMPLETED"]),
            last_result=self.member(values, "LAST_RESULT", CycleResult),
            wafer_loaded=bool(values["WAFER_LOADED"]),
        )

    async def print_paste(self, recipe: PrintRecipe, timeout_s: float = 600.0) -> PrintResult:
        paste = SolderPaste(recipe.paste)
        action = f"print {paste.value} paste through a {recipe.stencil_thickness_um:g} um stencil"
        values: dict[str, float | str] = {
            "stencil_thickness_um": recipe.stencil_thickness_um,
            "aperture_um": recipe.aperture_um,
            "squeegee_force_n": recipe.squeegee_force_n,
            "squeegee_speed_mm_s": recipe.squeegee_speed_mm_s,
            "separation_speed_mm_s": recipe.separation_speed_mm_s,
            "paste": paste.value,
        }
        registers = [
            word for name in JOB_FIELDS for word in self.encode(action, name, values[name])
        ]
        async with self.operation(action):
            await self.require_interlocks(action, SPEC.command_by_name["PRINT"].interlocks)
            wafer_id = await self.request_wafer() or ""
            await self.write_fields(
                "write print job", field(SPEC, JOB_FIELDS[0]).address(), registers
            )
            end = await run_cycle(self, action, "PRINT", timeout_s)
            spi = await self.read_status_block()
        result = PrintResult(
            wafer_id=wafer_id,
            paste=paste,
            deposits=int(spi["DEPOSITS"]),
            transfer_efficiency_pct=spi["TRANSFER_EFFICIENCY"],
            min_transfer_efficiency_pct=spi["MIN_TRANSFER_EFFICIENCY"],
            deposit_nl=spi["DEPOSIT_VOLUME"],
            insufficient=int(spi["INSUFFICIENT"]),
            excessive=int(spi["EXCESSIVE"]),
            process_time_s=end.cycle_time_s,
        )
        self.record_reading("deposit_volume", result.deposit_nl, "nl")
        self.record_reading("deposits_insufficient", result.insufficient, "")
        self.record_reading("deposits_excessive", result.excessive, "")
        return result
