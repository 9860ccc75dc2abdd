"""The stencil printer role: solder paste squeegeed through a stencil onto the bumps, inspected.

Used by the claimed methods to give high-melting solder bumps a layer of another, eutectic
solder by printing (003:19-21, printing alternative): a stencil with an aperture over every bump
lies on the wafer, a squeegee stroke fills the apertures with paste, and the stencil lifts off,
leaving a deposit on each bump. The paste's metal becomes the bump's eutectic layer when the
reflow oven melts it (003:19-20: the layer melts, the high-melting core stays solid).

What a deposit holds is the aperture's open volume (its diameter times the stencil's thickness,
less the bump tip standing in it: the stencil lies on the resin film the tips project through)
times the transfer efficiency: how much of the paste leaves the aperture when the stencil lifts. The
efficiency falls with the aperture's area ratio (its opening over its wall: d / 4t; below about
0.66 the paste sticks to the walls), with a squeegee too fast to fill the apertures, and rises
over 100 % with a squeegee too light to wipe the stencil clean. The printer's solder paste
inspection (SPI) measures every deposit after the print, against the aperture's whole
volume (`PrintResult`).

A method calls, for 003:21's printing: `load(wafer)`, `print_paste(PrintRecipe(...))`, then
`unload()`; the reflow oven melts the layer. One wafer (or panel) at a time.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from .ball_mounter import CycleResult
from .single_wafer import SingleWaferTool


class SolderPaste(StrEnum):
    """The printer's pastes, named by their metal's alloy as the oven's reflow names it."""

    SNPB_EUTECTIC = "Sn63Pb37"  # eutectic tin-lead (183 degC): 003:21's eutectic layer
    SAC305 = "SAC305"  # Sn96.5Ag3Cu0.5, lead-free (melts from 217 to 220 degC)


class PrinterPhase(IntEnum):
    """Where the printer is in its cycle."""

    READY = 0  # nothing moving: load, unload and print allowed
    PRINTING = 1  # align, squeegee stroke, separation, inspection
    FAULT = 2


#: The phases in which the printer runs no cycle; every other is working (`working`), a fault
#: told by the alarms.
AT_REST = frozenset({PrinterPhase.READY, PrinterPhase.FAULT})


@dataclass(frozen=True)
class PrintRecipe:
    """One print: the paste, the stencil's aperture and thickness, and the stroke."""

    paste: SolderPaste
    stencil_thickness_um: float
    aperture_um: float  # the round aperture's diameter over each bump
    squeegee_force_n: float
    squeegee_speed_mm_s: float
    separation_speed_mm_s: float  # how fast the stencil lifts off the wafer

    @property
    def area_ratio(self) -> float:
        """The aperture's opening over its wall area, d / 4t (for a round aperture)."""
        return self.aperture_um / (4 * self.stencil_thickness_um)


@dataclass(frozen=True)
class PrinterStatus:
    """One snapshot of the printer."""

    phase: PrinterPhase
    step_remaining_s: float
    cycle_time_s: float
    cycles_completed: int
    last_result: CycleResult
    wafer_loaded: bool


@dataclass(frozen=True)
class PrintResult:
    """What the solder paste inspection measured after the last print.

    Transfer efficiency is a deposit's volume over its aperture's volume (its area times the
    stencil's thickness), as real SPIs report it: the printer is told nothing of a bump tip
    standing in the aperture, so a method that knows its tips works out the share of the open
    volume they leave itself. A deposit under 50 % of the aperture's volume is insufficient,
    one over 150 % excessive (the usual SPI window).
    """

    wafer_id: str
    paste: SolderPaste
    deposits: int  # bumps printed
    transfer_efficiency_pct: float  # mean
    min_transfer_efficiency_pct: float
    deposit_nl: float  # mean paste volume per bump
    insufficient: int
    excessive: int
    process_time_s: float


class StencilPrinter(SingleWaferTool):
    """A stencil printer: a stage, a stencil over it, a squeegee head and an SPI camera."""

    role = "stencil_printer"
    activity_field = "phase"
    at_rest = AT_REST

    @abstractmethod
    async def request_status(self) -> PrinterStatus:
        """A snapshot of the phase, the cycle and the loaded workpiece."""

    @abstractmethod
    async def print_paste(self, recipe: PrintRecipe, timeout_s: float = 600.0) -> PrintResult:
        """Print `recipe.paste` through the stencil onto every bump of the loaded workpiece:
        each bump gets the aperture's open volume times the transfer efficiency, whose metal is a
        layer of the paste's alloy on the bump (reflowed later in the oven). A workpiece
        without bumps is refused. Returns the SPI's measurement of the deposits."""
