"""The heap a process has once it is started, kept out of the garbage collector's full passes
while it serves or drives a line (docs/decisions/0076).

A process that talks to tools imports a great deal (pymodbus, pyvisa, pydantic models, numpy,
the drivers' and simulated tools' modules): some 70,000 objects the collector tracks, which
live as long as the process. CPython's collector walks every one of them in each full
(generation 2) pass, which the steady allocation of polling sets off every few seconds:
measured at 100 to 220 ms of a controller polling 100 tools (bench/scale.py), a pass during
which no reply is read and no poll is sent, so the polls of that period miss their slot.

`frozen_heap` moves every object tracked at its start into the collector's permanent
generation (`gc.freeze`), which no pass walks: what the line allocates afterwards is collected
as before. The freeze is undone when the block ends, and the frozen objects are collected as
any others again (a cycle that was garbage already is freed then, not before: no `gc.collect`
first, which would cost every run, a test's included, a full pass).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """While the block runs, the objects tracked at its start are left out of every
    collection; at its end they are collected as any others again."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
