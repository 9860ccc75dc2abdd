"""What the parts of a GEM role driver share: a process wait, and the driver as they see it.

`EventWait` is one wait of a role driver for what the tool pushes (a collection event, a job's
end); an alarm or a lost link ends every running one (`GemEquipment`, `equipment.py`).
`RoleDriver` is what the driver's E40 jobs (`process_jobs.py`) use of the driver, so that they
need not import it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from packline.clock import Clock

from .entries import GemDictionary
from .host import GemHost
from .records import CollectionEvent


class EventWait:
    """One subscription to collection events: the CEIDs, the future the first one ends, and
    the action waiting (for the error that ends it otherwise)."""

    def __init__(self, action: str, ceids: frozenset[object]) -> None:
        self.action = action
        self.ceids = ceids
        self.future: asyncio.Future[CollectionEvent] = asyncio.get_running_loop().create_future()


class RoleDriver(Protocol):
    """A GEM role driver, as the parts it is built of use it."""

    name: str
    dictionary: GemDictionary
    gem: GemHost
    #: The process waits running now (an alarm or a lost link ends each).
    waits: list[EventWait]
    limits: Mapping[str, Any]

    @property
    def address(self) -> str: ...

    @property
    def clock(self) -> Clock: ...

    def check_limit(self, action: str, setpoint: str, value: float) -> float: ...

    def operation(self, action: str) -> AbstractAsyncContextManager[None]: ...

    def event_values(self, name: str, event: CollectionEvent) -> dict[str, Any]: ...
