"""The plasma cleaner role: a vacuum chamber that cleans, etches and activates wafer surfaces.

Used by the claimed methods for removing resin residue and oxide from bump tips (003:12-15),
activating them (003:9), and dry-etching resin at the bottom of a concave portion (002:4). A
batch tool: several wafers share one chamber run.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..equipment import Equipment


class Gas(StrEnum):
    """Process gases of the chamber."""

    O2 = "O2"
    AR = "Ar"
    FORMING_GAS = "forming-gas"  # H2 4-10 % in Ar: a reducing plasma


class ChamberState(IntEnum):
    """Where the chamber is in its pump/process/vent cycle."""

    VENTED = 0
    PUMPING = 1
    EVACUATED = 2
    PROCESSING = 3
    VENTING = 4
    FAULT = 5


class LastResult(IntEnum):
    """How the last chamber run ended."""

    NONE = 0
    COMPLETED = 1
    ABORTED = 2
    FAULTED = 3


@dataclass(frozen=True)
class PlasmaStep:
    """One step of a plasma recipe."""

    gas: Gas
    flow_sccm: float
    pressure_mtorr: float
    rf_power_w: float
    time_s: float


@dataclass(frozen=True)
class PlasmaRecipe:
    """An ordered list of plasma steps run in one chamber cycle (e.g. O2 then Ar, 003:14)."""

    steps: tuple[PlasmaStep, ...]

    @property
    def total_time_s(self) -> float:
        return sum(step.time_s for step in self.steps)


@dataclass(frozen=True)
class PlasmaStatus:
    """One snapshot of the chamber."""

    chamber: ChamberState
    pressure_mtorr: float
    rf_forward_w: float
    rf_reflected_w: float
    gas_flow_sccm: float
    gas: Gas | None
    step: int
    step_remaining_s: float
    door_closed: bool
    recipes_completed: int


@dataclass(frozen=True)
class CleanResult:
    """What a finished chamber run reports."""

    wafer_ids: tuple[str, ...]
    process_time_s: float
    steps: int


#: How long a recovery waits for a chamber that is venting (after a reset) to be vented.
RECOVERY_VENT_S = 300.0


class PlasmaCleaner(Equipment):
    """A batch plasma chamber with wafer slots, a door, a pump and an RF generator."""

    role = "plasma_cleaner"

    async def _unload_everything(self) -> None:
        """Vented, door open, every slot empty (the wafers go back to the carrier). A chamber
        still venting after a reset is waited for, at most `RECOVERY_VENT_S` of process time;
        one that faults meanwhile ends the recovery with its alarm."""
        status = await self.request_status()
        if status.chamber in (ChamberState.EVACUATED, ChamberState.PUMPING):
            await self.vent()

        async def vented() -> PlasmaStatus | None:
            nonlocal status
            status = await self.request_status()
            if status.chamber is ChamberState.FAULT:
                await self.refresh_alarms()
                raise self.alarm_error("recover")
            return status if status.chamber is ChamberState.VENTED else None

        status = await self.wait_until(
            "recover", vented, RECOVERY_VENT_S, lambda: f"chamber still {status.chamber.name}"
        )
        if status.door_closed:
            await self.open_door()
        for wafer_id in await self.request_slots():
            if wafer_id is not None:
                await self.unload(wafer_id)

    @abstractmethod
    async def request_status(self) -> PlasmaStatus:
        """A snapshot of pressure, RF, gas and the chamber cycle."""

    @abstractmethod
    async def request_slots(self) -> list[str | None]:
        """The wafer id in each slot (None for an empty slot)."""

    @abstractmethod
    async def open_door(self) -> None:
        """Open the chamber door; the chamber must be vented."""

    @abstractmethod
    async def close_door(self) -> None:
        """Close the chamber door."""

    @abstractmethod
    async def load(self, wafer_id: str, slot: int | None = None) -> int:
        """Place a wafer in a slot (the first free one unless given); returns the slot."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Take a wafer out of its slot."""

    @abstractmethod
    async def pump_down(self) -> None:
        """Evacuate the closed chamber to base pressure."""

    @abstractmethod
    async def vent(self) -> None:
        """Bring the chamber back to atmosphere."""

    @abstractmethod
    async def clean(self, recipe: PlasmaRecipe) -> CleanResult:
        """Run a plasma recipe on every wafer in the evacuated chamber, recording traces."""
