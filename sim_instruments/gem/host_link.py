"""The GEM face of a simulated tool on an ASCII host link: its lines, answered in process.

A `HostLinkModel` drives a `HostLinkTool` (the simulated bonder, the simulated saw) through
the tool's own command interpreter, never on a wire, so the GEM tool refuses what the ASCII
tool refuses and keeps its process model, physics and workpiece twin: an ASCII refusal that
blames an argument a remote command parameter carried becomes HCACK 3 with CPACK 2 (illegal
value: its format was the dictionary's) on that parameter, any other HCACK 2. The kind's
model (`wire_bonder.py`, `dicing_saw.py` here) says which lines each remote command sends and
when its run ends; its watcher runs as one task on the line's clock (`SimulatedToolModel`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..families.ascii_host import HostLinkTool, HostRefused
from .model import SimulatedToolModel, StatusUnavailable, WorkpieceProcessed, refusal, word

#: The host-link line a load sends as a rework (the `rework` parameter of a GEM load).
REWORK_LINES = {"LOAD": "RELOAD", "MOUNT": "REMOUNT"}
#: ASCII refusals that blame an argument (HCACK 3 when a parameter carried it).
PARAMETER_REFUSALS = {"BAD_ARGUMENT", "OUT_OF_RANGE", "BAD_SITE"}


class HostLinkModel(SimulatedToolModel):
    """Base of the GEM faces of the simulated host-link tools."""

    tool: HostLinkTool

    def ask(self, line: str, carries: Sequence[str | None] = ()) -> str:
        """Send `line` to the tool's interpreter (recorded, the model brought to now); its
        `OK` payload, or `GemRefused`. `carries[i]` is the role name of the remote command
        parameter the line's argument `i` carries (None: an equipment constant's)."""
        self.tool.received.append(line)
        self.tool.advance()
        try:
            return self.tool.answer(line)
        except HostRefused as refused:
            text = f"{line}: {refused.name}: {refused.text}"
            at = refused.argument if refused.name in PARAMETER_REFUSALS else None
            raise WorkpieceProcessed.behind(refused, text) or refusal(text, carries, at) from None

    async def command_line(self, line: str, parameters: Mapping[str, Any]) -> int:
        """Run a remote command that is one line of the tool, answered at once: `line` (its
        rework line, `REWORK_LINES`, with the `rework` parameter true), then the workpiece's id
        when the command names one; HCACK 0 once the alarms it set or cleared are reported."""
        if parameters.get("rework"):
            line = REWORK_LINES[line]
        carries = []
        if "wafer_id" in parameters:
            line += f" {word('wafer_id', parameters['wafer_id'])}"
            carries.append("wafer_id")
        self.ask(line, carries)
        await self.equipment.report_alarms()
        return 0

    def answer(self, query: str) -> str:
        """The `OK` payload of a query's answer now, worked out once a trace sample;
        `StatusUnavailable` when the tool refuses it (the status variables it answers have no
        value now: a measurement of a wafer with none on the chuck, `ERR 6` on the host
        link), in the words of its refusal."""
        self.tool.advance()
        try:
            return self.per_sample(query, lambda: self.tool.answer(query))
        except HostRefused as refused:
            raise StatusUnavailable(f"{query}: {refused.name}: {refused.text}") from None

    def fields(self, query: str) -> dict[str, str]:
        """The `KEY=value` words of a query's answer now (none for an answer of `NONE`)."""
        return dict(word.split("=", 1) for word in self.answer(query).split() if "=" in word)
