"""What a wafer's script reaches of its run: the `RunContext` the engine gives each `Wafer`.

The script-facing API (`Wafer`, `Batch`, `wafer.py`) works through this and nothing else of
the engine: the run's plan (what a resume skips), its tools and their keeper, its batches, its
control (pause and stop at step boundaries) and its step records.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .batching import Batcher
from .control import RunControl
from .keeper import ToolKeeper
from .plan import Plan
from .recorder import StepRecorder


@dataclass(frozen=True)
class RunContext:
    """One session of a run, as its wafers see it."""

    plan: Plan
    #: The method's irreversible steps (never repeated on resume).
    irreversible: frozenset[str]
    keeper: ToolKeeper
    batcher: Batcher
    control: RunControl
    recorder: StepRecorder
    #: A step boundary: take commands from other processes, then pause or stop if asked
    #: (its argument: the wafer is in a stage, which a pause lets run to its end).
    boundary: Callable[[bool], Awaitable[None]]
    #: Take the words other processes posted, now: before a tool's alarm is recorded, so a
    #: fault injected from another process that raised it is recorded first (decision 0110).
    take_control: Callable[[], None]
    #: Process-time bound of a wafer's wait for a tool.
    tool_wait_timeout_s: float
