"""What every tool that holds one wafer at a time does: load it, read it, unload it.

The ball-mount cell and the stencil printer (on their stage), the laminator (on its platen) and
the plating cell (in its holder) each take one wafer or panel, process it and give it back.
Their roles extend `SingleWaferTool` with their own process verbs and records.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from ..equipment import Equipment
from ..errors import ToolStateError


class SingleWaferTool(Equipment):
    """A tool that holds one wafer (or panel) at a time; recovery takes it off."""

    #: Where the wafer sits, as a refusal names it ("on the platen").
    holder: ClassVar[str]

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = await self.request_wafer()
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        if await self.request_wafer() is not None:
            await self.unload()

    async def require_empty(self, action: str) -> None:
        """Refuse `action` (a load) while the tool holds a wafer, naming it."""
        present = await self.request_wafer()
        if present is not None:
            raise self.held_refusal(action, [present], f"wafer {present} is already {self.holder}")

    async def require_wafer(self, action: str) -> str:
        """The id of the wafer `action` needs the tool to hold; refused when it holds none."""
        wafer_id = await self.request_wafer()
        if wafer_id is None:
            raise ToolStateError(self.name, self.address, action, f"no wafer {self.holder}")
        return wafer_id

    @abstractmethod
    async def request_wafer(self) -> str | None:
        """The id of the wafer or panel the tool holds, or None."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Place a wafer or panel in the tool (refused while it holds one)."""

    @abstractmethod
    async def unload(self) -> str:
        """Take the workpiece out of the tool; returns its id."""
