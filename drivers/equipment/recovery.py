"""What a tool holds, and recovery: taking a tool back to a known, empty, safe state.

Every driver answers `request_workpieces` (the ids of what the tool holds now) and knows how to
take everything off (`_unload_everything`). From these `Equipment.recover` empties a tool after
an interrupted run, but never of a workpiece its caller did not put there (decision 0024), and
`Equipment.loading` names the workpiece in the way when a tool refuses a load.

A tool that remembers what it processed refuses to load a wafer it processed last (a lot reusing
another's ids would otherwise be processed twice). A caller who brings one back on purpose (a
rework or release an operator decided, a resumed run replaying the stage its recovery cut off)
says so with `reloading`, and a driver whose tool takes a rework load sends its load as one
(`RELOAD`, the saw's `REMOUNT`) for the wafers `reworks` names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Protocol

from ..errors import CommandRefused, ToolError, WorkpieceHeld
from .states import ToolState
from .vocabulary import Alarm


class _Recovering(Protocol):
    """What a recovery reads and commands of the driver it runs in (an `Equipment`)."""

    name: str

    @property
    def address(self) -> str: ...

    @property
    def state(self) -> ToolState: ...

    async def abort(self) -> None: ...

    async def refresh_alarms(self) -> list[Alarm]: ...

    async def reset(self) -> None: ...

    async def request_workpieces(self) -> tuple[str, ...]: ...

    async def _load_blockers(self) -> tuple[str, ...]: ...

    async def _unload_everything(self) -> None: ...

    def held_refusal(self, action: str, held: Sequence[str], said: str) -> WorkpieceHeld: ...


class Recovery(ABC):
    """The workpieces and the recovery of `Equipment` (a base of it)."""

    #: The workpieces whose load is a rework now (`reloading`).
    reworks: frozenset[str] = frozenset()

    @contextmanager
    def reloading(self, workpiece_ids: Collection[str]) -> Iterator[None]:
        """While inside, a load of one of `workpiece_ids` is a rework: it may be a workpiece
        this tool processed last, brought back on purpose (see the module's doc)."""
        before = self.reworks
        self.reworks = before | frozenset(workpiece_ids)
        try:
            yield
        finally:
            self.reworks = before

    async def recover(self: _Recovering, own_workpieces: Collection[str]) -> tuple[str, ...]:
        """Bring the tool back to a known, empty, safe state after an interrupted run, taking
        off only workpieces the caller put there (`own_workpieces`, their ids).

        The safe state first, always. Then what the tool holds (`request_workpieces`): one
        that is not the caller's (another lot's wafer, an engineering wafer) ends the recovery
        with `WorkpieceHeld` naming it, with nothing reset and nothing taken off, because
        software that does not know a workpiece must not move it. Otherwise a reset if the tool
        reports alarms or the driver is in fault, then every workpiece taken off
        (`_unload_everything`), so the next wafer meets an empty tool. The engine calls it
        before it resumes a run, after a terminate and after a failed step; a wafer taken off
        this way is held if its step on the tool was irreversible. Returns what it took off,
        as the tool reported it (its records put the unload in each wafer's history).
        """
        await self.abort()
        held = await self.request_workpieces()
        foreign = [workpiece for workpiece in held if workpiece not in own_workpieces]
        if foreign:
            raise WorkpieceHeld(
                self.name,
                self.address,
                "recover",
                foreign,
                f"holds {', '.join(foreign)}, not put there by its caller; nothing was taken "
                "off (the safe state was commanded)",
            )
        if await self.refresh_alarms() or self.state is ToolState.FAULT:
            await self.reset()
        await self._unload_everything()
        return held

    @abstractmethod
    async def request_workpieces(self) -> tuple[str, ...]:
        """The ids of every workpiece the tool holds now (a wafer on its chuck, a batch in its
        slots, a die source beside a substrate), as the tool reports them; empty when it holds
        none. A query: nothing is moved. Recovery and `packline station check` ask it to tell
        a run's own wafers from a workpiece another lot or an engineer left on the tool."""

    @asynccontextmanager
    async def loading(
        self: _Recovering,
        action: str,
        blockers: Callable[[], Awaitable[tuple[str, ...]]] | None = None,
        *,
        words: str = "",
    ) -> AsyncIterator[None]:
        """Around a load's command: when the tool refuses it (`CommandRefused`, its own code)
        while it holds a workpiece in the place the load goes, the refusal becomes
        `WorkpieceHeld` naming that workpiece, with the tool's own words in the message and
        the refusal as the cause. `blockers` reads the ids held there (default
        `_load_blockers`); if it cannot be read, the tool's refusal stands as it was.

        `words`: the tool's spec's words for a load refused so, `{workpiece}` the id held (the
        saw's `{workpiece} is mounted; UNMOUNT first`), said in place of the reply of a tool
        with several faces, so that each words the refusal alike where one face's reply does
        not say why (a GEM tool's HCACK 2: cannot perform now)."""
        try:
            yield
        except CommandRefused as refusal:
            try:
                held = await (blockers or self._load_blockers)()
            except ToolError:
                held = ()
            if not held:
                raise
            said = (
                words.format(workpiece=", ".join(held))
                if words
                else (f"the tool said: {refusal.detail}")
            )
            raise self.held_refusal(action, held, said) from refusal

    def held_refusal(
        self: _Recovering, action: str, held: Sequence[str], said: str
    ) -> WorkpieceHeld:
        """The refusal of a load `action` because the tool holds the workpieces `held` where
        the load goes, in the words every refused load is told in: what the operator does
        about it, then what the tool or its spec `said` of it. `loading` raises it on the
        tool's refusal; a driver that sees the place taken before it sends the load (a PLC
        stage, the GEM grinder) raises it itself."""
        ids = ", ".join(held)
        return WorkpieceHeld(
            self.name,
            self.address,
            action,
            held,
            f"the tool already holds {ids}: unload it, or have it taken off and the tool "
            f"cleared, before loading another ({said})",
        )

    async def _load_blockers(self) -> tuple[str, ...]:
        """What stops a load because the tool holds it: by default everything it holds (a
        tool that takes one workpiece at a time); a role with several places says which."""
        return await self.request_workpieces()

    @abstractmethod
    async def _unload_everything(self) -> None:
        """Take every workpiece off the tool; the tool is in its safe state with no alarm."""
