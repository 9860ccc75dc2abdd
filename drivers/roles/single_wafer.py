"""What every tool that holds one wafer at a time does: load it, read it, unload it.

The ball-mount cell and the stencil printer (on their stage), the laminator (on its platen) and
the plating cell (in its holder) each take one wafer or panel, process it and give it back.
Their roles extend `SingleWaferTool` with their own process verbs and records.
"""

from __future__ import annotations

from abc import abstractmethod

from ..equipment import Equipment


class SingleWaferTool(Equipment):
    """A tool that holds one wafer (or panel) at a time; recovery takes it off."""

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = await self.request_wafer()
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        if await self.request_wafer() is not None:
            await self.unload()

    @abstractmethod
    async def request_wafer(self) -> str | None:
        """The id of the wafer or panel the tool holds, or None."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Place a wafer or panel in the tool (refused while it holds one)."""

    @abstractmethod
    async def unload(self) -> str:
        """Take the workpiece out of the tool; returns its id."""
