"""The grinder role: wafer thinning and resin grinding to a set thickness.

Used by the claimed methods to grind and polish the resin top and the die backs to a set
package thickness (000:f, 000:x3), and for backside thinning of wafers. An in-feed grinder:
the wafer lies on a vacuum chuck that turns under a coarse wheel, then a fine wheel, then a
polishing pad; an in-process gauge measures the thickness and stops each stage at its
target.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from ..equipment import Equipment


class GrindSide(StrEnum):
    """Which face of the workpiece faces the wheel.

    FRONT grinds the resin top, the bump tops and the die backs of a sealed workpiece (000:f);
    BACK thins the substrate from its back (the front lies on the chuck, under protective tape).
    """

    FRONT = "front"
    BACK = "back"


class GrindPhase(StrEnum):
    """Where the grinder is in its cycle."""

    IDLE = "idle"
    COARSE = "coarse"
    FINE = "fine"
    POLISH = "polish"
    FAULT = "fault"


#: The phases in which the grinder runs no cycle; every other is working (`working`), a fault
#: told by the alarms.
AT_REST = frozenset({GrindPhase.IDLE, GrindPhase.FAULT})


class CycleResult(StrEnum):
    """How the last grinding cycle ended."""

    NONE = "none"
    COMPLETED = "completed"
    ABORTED = "aborted"
    FAULTED = "faulted"


@dataclass(frozen=True)
class GrindRecipe:
    """One grinding cycle: coarse wheel, fine wheel, then polish, down to a target thickness.

    `target_thickness_um` is the total thickness the in-process gauge reads at the end (substrate
    plus whatever stands on its front). The coarse wheel runs until the gauge reads
    target + polish allowance + fine allowance, the fine wheel until target + polish allowance,
    the polishing pad until the target. A polish allowance of 0 skips polishing.
    """

    target_thickness_um: float
    spindle_rpm: float = 4500.0
    chuck_rpm: float = 200.0
    coarse_feed_um_s: float = 8.0
    fine_feed_um_s: float = 0.3
    fine_allowance_um: float = 30.0
    polish_allowance_um: float = 2.0


@dataclass(frozen=True)
class WaferOnChuck:
    """The workpiece on the chuck and the face it shows the wheel."""

    wafer_id: str
    side: GrindSide


@dataclass(frozen=True)
class GrinderStatus:
    """One snapshot of the grinder; `thickness_um` is None while the gauge has no valid reading."""

    phase: GrindPhase
    thickness_um: float | None
    spindle_rpm: float
    chuck_rpm: float
    feed_um_s: float
    spindle_load_pct: float
    progress_pct: float
    cycle_time_s: float
    cycle_count: int  # cycles ended since the tool started, whatever their result
    last_result: CycleResult


@dataclass(frozen=True)
class GrindResult:
    """What a finished grinding cycle reports."""

    wafer_id: str
    side: GrindSide
    target_thickness_um: float
    start_thickness_um: float
    final_thickness_um: float
    gauge_resolution_um: float
    process_time_s: float

    @property
    def removed_um(self) -> float:
        return self.start_thickness_um - self.final_thickness_um


class Grinder(Equipment):
    """An in-feed grinder: vacuum chuck, coarse and fine wheels, a polish stage and a gauge."""

    role = "grinder"
    activity_field = "phase"
    at_rest = AT_REST

    async def request_workpieces(self) -> tuple[str, ...]:
        on_chuck = await self.request_wafer()
        return () if on_chuck is None else (on_chuck.wafer_id,)

    async def _unload_everything(self) -> None:
        if await self.request_wafer() is not None:
            await self.release_chuck_vacuum()
            await self.unload()

    @abstractmethod
    async def request_status(self) -> GrinderStatus:
        """A snapshot of the cycle phase, thickness, spindle, chuck and feed."""

    @abstractmethod
    async def request_wafer(self) -> WaferOnChuck | None:
        """The workpiece on the chuck, or None."""

    @abstractmethod
    async def request_thickness_um(self) -> float:
        """The in-process gauge's reading of the total thickness on the chuck."""

    @abstractmethod
    async def request_substrate_thickness_um(self) -> float:
        """The substrate (silicon) thickness alone, as the tool's non-contact gauge reads it."""

    @abstractmethod
    async def request_gauge_resolution_um(self) -> float:
        """The resolution of the in-process thickness gauge (a tool option)."""

    @abstractmethod
    async def load(self, wafer_id: str, side: GrindSide) -> None:
        """Place a workpiece on the chuck with `side` facing the wheel."""

    @abstractmethod
    async def unload(self) -> None:
        """Take the workpiece off the chuck (the chuck vacuum must be released)."""

    @abstractmethod
    async def apply_chuck_vacuum(self) -> None:
        """Hold the workpiece on the chuck by vacuum."""

    @abstractmethod
    async def release_chuck_vacuum(self) -> None:
        """Release the chuck vacuum (not while grinding)."""

    @abstractmethod
    async def grind(self, recipe: GrindRecipe) -> GrindResult:
        """Grind the workpiece on the chuck to the recipe's target thickness, recording traces."""
