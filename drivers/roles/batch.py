"""What every batch tool does: wafers in slots behind a door.

The plasma chamber, the deposition chamber and the oven each take a batch: wafers (or panels)
are loaded into slots with the door open, one run treats every loaded wafer, and they are taken
out again. Their roles extend `BatchTool` with their own process verbs and records.
"""

from __future__ import annotations

from abc import abstractmethod

from ..equipment import Equipment


class BatchTool(Equipment):
    """A tool with wafer slots behind a door."""

    @abstractmethod
    async def request_slots(self) -> list[str | None]:
        """The wafer id in each slot (None for an empty slot)."""

    async def request_capacity(self) -> int:
        """Its slots, as many as the tool reports (`SLOT_CAPACITY` on a PLC, the status
        variable `slot_capacity` on a GEM face)."""
        return len(await self.request_slots())

    async def request_workpieces(self) -> tuple[str, ...]:
        return tuple(wafer_id for wafer_id in await self.request_slots() if wafer_id is not None)

    @abstractmethod
    async def open_door(self) -> None:
        """Open the door; the tool must be in the state its role loads in."""

    @abstractmethod
    async def close_door(self) -> None:
        """Close the door."""

    @abstractmethod
    async def load(self, wafer_id: str, slot: int | None = None) -> int:
        """Place a wafer in a slot (the first free one unless given); returns the slot."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Take a wafer out of its slot."""
