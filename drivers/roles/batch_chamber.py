"""What every batch vacuum chamber does: a door, wafer slots, a pump and a vent.

The plasma cleaner and the thin-film deposition tool each run a batch of wafers in one vacuum
chamber behind a door: wafers are loaded into slots with the chamber vented and its door open,
the chamber is pumped down, a recipe runs on every loaded wafer, and the chamber is vented to
take them out. Their roles extend `BatchChamber` with their own process verbs and records.
"""

from __future__ import annotations

from abc import abstractmethod
from enum import IntEnum
from typing import Protocol

from .batch import BatchTool


class ChamberState(IntEnum):
    """Where the chamber is in its pump/process/vent cycle."""

    VENTED = 0
    PUMPING = 1
    EVACUATED = 2
    PROCESSING = 3
    VENTING = 4
    FAULT = 5


#: The chamber states in which the chamber runs nothing: no pump-down, run or vent; every other
#: is working (`working`), a fault told by the alarms.
CHAMBER_AT_REST = frozenset({ChamberState.VENTED, ChamberState.EVACUATED, ChamberState.FAULT})


class LastResult(IntEnum):
    """How the last chamber run ended."""

    NONE = 0
    COMPLETED = 1
    ABORTED = 2
    FAULTED = 3


class ChamberStatus(Protocol):
    """What every chamber's status snapshot tells: its cycle and its door."""

    @property
    def chamber(self) -> ChamberState: ...

    @property
    def door_closed(self) -> bool: ...

    def delivering(self) -> dict[str, tuple[float, str]]:
        """What the chamber delivers as the snapshot reads it, each off in its safe state: its
        power (RF forward, a source's) and its gas flow, name -> (value, unit)."""
        ...


def chamber_unsafe(status: ChamberStatus) -> str | None:
    """What `status` shows that is not the safe state a chamber's abort brings, on any wire: a
    run or a pump-down still going (the abort ends one, turns the other to venting), power or
    gas still flowing (`delivering`); None when it shows none (vented, evacuated, venting,
    fault)."""
    found = [
        f"{name} {value:g} {unit}" for name, (value, unit) in status.delivering().items() if value
    ]
    if status.chamber in (ChamberState.PROCESSING, ChamberState.PUMPING):
        found.insert(0, f"chamber still {status.chamber.name.lower()}")
    return ", ".join(found) or None


#: How long a recovery waits for a chamber that is venting (after a reset) to be vented.
RECOVERY_VENT_S = 300.0


class BatchChamber(BatchTool):
    """A vacuum chamber with wafer slots behind a door, pumped down for a run and vented."""

    activity_field = "chamber"
    at_rest = CHAMBER_AT_REST

    async def _unload_everything(self) -> None:
        """Vented, door open, every slot empty (the wafers go back to the carrier). A chamber
        still venting after a reset is waited for, at most `RECOVERY_VENT_S` of process time;
        one that faults meanwhile ends the recovery with its alarm."""
        status = await self.request_status()
        if status.chamber in (ChamberState.EVACUATED, ChamberState.PUMPING):
            await self.vent()

        async def vented() -> ChamberStatus | None:
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
    async def request_status(self) -> ChamberStatus:
        """A snapshot of the chamber: its cycle, its door and what its process is doing."""

    @abstractmethod
    async def pump_down(self) -> None:
        """Evacuate the closed chamber."""

    @abstractmethod
    async def vent(self) -> None:
        """Bring the chamber back to atmosphere."""
