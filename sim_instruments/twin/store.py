"""Every workpiece on the simulated line, shared by all simulated tools.

A real line knows a wafer by the id on its carrier; the simulated tools look the same id up
here. A wafer never seen before is received as fresh incoming material of the store's spec,
so a standalone simulated line works with any wafer id a user types.

A tool loads a wafer through `load`, which refuses a wafer whose last processing was on that
same tool (`WaferAlreadyProcessed`): the wafer has not moved on since, so loading it again would
process it twice on top of itself (bumps on bumps, a second plasma etch), as a second lot
reusing the first lot's ids on one `sim serve` would. A wafer that another tool has processed
since comes back as a new visit: a route may loop through a tool (each stacked wiring level
visits the wire bonder, the laminator and the plater again). A wafer sent back on purpose
without another tool in between is first marked `allow_rework`.

A workpiece no tool holds any more can be `put_away`: out of memory, with the means to read it
back (a dry run's completed wafer, whose last snapshot the run's records keep), so a lot of 200
holds only the wafers in process. `get` brings it back; `peek` reads it without doing so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

from packline.drivers.equipment import validate_wafer_id

from .incoming import new_workpiece
from .specs import PanelSpec, WaferSpec
from .workpiece import Workpiece

#: What a fresh workpiece arriving at the line is: one spec for every id, or a function of the
#: id (a lot of tape panels and the die wafers their dies come from, claim 000).
Incoming = WaferSpec | PanelSpec | Callable[[str], WaferSpec | PanelSpec]


class WaferAlreadyProcessed(ValueError):
    """A tool was asked to load a wafer it processed last, and no rework was allowed."""


class TwinStore:
    """The workpiece twin of a simulated line: id -> `Workpiece`."""

    def __init__(self, incoming: Incoming | None = None) -> None:
        self.incoming: Incoming = incoming or WaferSpec()
        self._workpieces: dict[str, Workpiece] = {}
        #: Workpieces put away: how to read each back.
        self._put_away: dict[str, Callable[[], Workpiece]] = {}
        self._rework: set[str] = set()
        self._lock = threading.Lock()

    def receive(self, wafer_id: str, spec: WaferSpec | PanelSpec | None = None) -> Workpiece:
        """Bring a fresh wafer or panel onto the line (replacing none: an id is received once)."""
        validate_wafer_id(wafer_id)
        with self._lock:
            if wafer_id in self._workpieces or wafer_id in self._put_away:
                raise ValueError(f"wafer {wafer_id!r} is already on the simulated line")
            workpiece = new_workpiece(wafer_id, spec or self.spec_for(wafer_id))
            self._workpieces[wafer_id] = workpiece
            return workpiece

    def arriving(self, wafer_id: str) -> Workpiece:
        """A new workpiece `wafer_id` as it arrives at the line (of `spec_for`; the same every
        time: incoming material is reproducible from its id), not kept in the store."""
        return new_workpiece(wafer_id, self.spec_for(wafer_id))

    def spec_for(self, wafer_id: str) -> WaferSpec | PanelSpec:
        """What the workpiece `wafer_id` is when it arrives, as the store's incoming says."""
        incoming = self.incoming
        return incoming if isinstance(incoming, WaferSpec | PanelSpec) else incoming(wafer_id)

    def get(self, wafer_id: str) -> Workpiece:
        """The workpiece with this id, received as fresh incoming material if new."""
        # A workpiece in memory, as mostly (every status read of a tool holding a wafer
        # looks it up): its id was valid when it came (`receive`), so it is not checked again.
        if isinstance(wafer_id, str):
            known = self._workpieces.get(wafer_id)
            if known is not None:
                return known
        validate_wafer_id(wafer_id)
        with self._lock:
            workpiece = self._workpieces.get(wafer_id)
            recall = self._put_away.pop(wafer_id, None)
            if recall is not None:
                workpiece = self._workpieces[wafer_id] = recall()
        return workpiece if workpiece is not None else self.receive(wafer_id)

    def peek(self, wafer_id: str) -> Workpiece:
        """The workpiece as `get` gives it, but one put away is read back without being kept
        in memory (a claim check reading a lot's completed wafers one at a time)."""
        with self._lock:
            recall = self._put_away.get(wafer_id)
        return recall() if recall is not None else self.get(wafer_id)

    def peeked(self, wafer_ids: Sequence[str]) -> Mapping[str, Workpiece]:
        """These workpieces by id, each read with `peek` as it is looked up, none kept."""
        return _Peeked(self, tuple(wafer_ids))

    def put_away(self, wafer_id: str, recall: Callable[[], Workpiece]) -> None:
        """Take workpiece `wafer_id` out of memory; `recall()` gives it back as it is now, a new
        one each time (the caller's promise: nothing changes it while it is put away, no tool
        holds it)."""
        with self._lock:
            if wafer_id not in self._workpieces:
                raise KeyError(f"wafer {wafer_id!r} is not in memory on the simulated line")
            del self._workpieces[wafer_id]
            self._put_away[wafer_id] = recall

    def load(self, wafer_id: str, tool: str, *, rework: bool = False) -> Workpiece:
        """The workpiece `tool` is loading. `WaferAlreadyProcessed` (naming the wafer, the tool
        and what it did, for the tool to refuse on its wire) when `tool` is the last tool that
        processed this wafer (a visit after another tool's processing is a new one), unless the
        load is a `rework` (the host said so on the wire) or the wafer is marked for rework."""
        workpiece = self.get(wafer_id)
        last = workpiece.history[-1] if workpiece.history else None
        if last is not None and last.tool == tool and not rework and wafer_id not in self._rework:
            raise WaferAlreadyProcessed(
                f"wafer {wafer_id} was already processed by {tool} ({last.operation} at "
                f"t = {last.time_s:g} s); load it again only as a rework"
            )
        return workpiece

    def allow_rework(self, wafer_id: str) -> None:
        """Let every tool load `wafer_id` again, though it processed it last (a rework, or a
        resumed run reloading the wafers its recovery unloaded)."""
        validate_wafer_id(wafer_id)
        with self._lock:
            self._rework.add(wafer_id)

    def __contains__(self, wafer_id: object) -> bool:
        return wafer_id in self._workpieces or wafer_id in self._put_away

    def __iter__(self) -> Iterator[Workpiece]:
        """Every workpiece, those put away read back one at a time (`peek`)."""
        with self._lock:
            resident, put_away = list(self._workpieces.values()), list(self._put_away)
        yield from resident
        yield from (self.peek(wafer_id) for wafer_id in put_away)

    def __len__(self) -> int:
        return len(self._workpieces) + len(self._put_away)


class _Peeked(Mapping[str, Workpiece]):
    """`TwinStore.peeked`: a store's workpieces `wafer_ids`, each read as it is looked up."""

    def __init__(self, store: TwinStore, wafer_ids: tuple[str, ...]) -> None:
        self._store = store
        self._ids = wafer_ids

    def __getitem__(self, wafer_id: str) -> Workpiece:
        if wafer_id not in self._ids:
            raise KeyError(wafer_id)
        return self._store.peek(wafer_id)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)
