"""The GEM face of a simulated SCPI tool: its lines, answered in process.

A `ScpiModel` drives a `ScpiSimTool` (the simulated grinder) through the tool's own command
interpreter, never on a wire, so the GEM tool refuses what the SCPI tool refuses and keeps its
process model, physics and workpiece twin: a SCPI error that blames program data a remote
command parameter carried becomes HCACK 3 with CPACK 2 (illegal value: its format was the
dictionary's) on that parameter, any other (a settings conflict, an open interlock, an alarm)
HCACK 2. The kind's model
(`grinder.py` here) says which lines each remote command sends and when its run ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..families.scpi import ScpiSimTool
from ..families.scpi_session import ScpiError
from .model import SimulatedToolModel, WorkpieceProcessed, refusal

#: SCPI errors that blame a parameter (HCACK 3 when a remote command parameter carried it):
#: not a number, a parameter too many or too few, out of range, illegal value.
PARAMETER_ERRORS = {-104, -108, -109, -222, -224}


class ScpiModel(SimulatedToolModel):
    """Base of the GEM faces of the simulated SCPI tools."""

    tool: ScpiSimTool

    def ask(self, line: str, carries: Sequence[str | None] = ()) -> str | None:
        """Send `line` to the tool's interpreter (recorded, the model brought to now); a
        query's reply, or `GemRefused`. `carries[i]` is the role name of the remote command
        parameter the line's program data `i` carries (None: an equipment constant's)."""
        self.tool.received.append(line)
        self.tool.advance()
        try:
            return self.tool.answer(line)
        except ScpiError as error:
            detail = f": {error.detail}" if error.detail else ""
            text = f"{line}: SCPI error {error.code}{detail}"
            at = error.parameter if error.code in PARAMETER_ERRORS else None
            raise WorkpieceProcessed.behind(error, text) or refusal(text, carries, at) from None

    def query(self, line: str) -> str:
        """A query's reply now (not recorded: the host asked for a status variable)."""
        self.tool.advance()
        reply = self.tool.answer(line)
        assert reply is not None, f"{line} is not a query"
        return reply
