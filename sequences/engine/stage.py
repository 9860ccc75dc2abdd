"""Stages: a stretch of a wafer's script during which it holds a tool (alone or in a batch).

A stage is recorded like a step. When a run stops inside a stage, the tool's recovery undoes
the stage's tool handling (the wafer is unloaded, the chamber vented); on resume the stage is
therefore replayed: its completed repeatable steps run again, its completed irreversible
steps are skipped (see `plan.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .tools import Tool

#: The step kinds of the records of a wafer holding a tool: a stage, or its row of a batch.
HOLDING_KINDS = ("stage", "batch")


@dataclass(frozen=True)
class Stage:
    key: str
    tool: Tool
    replay: bool
    batch: str | None = None
