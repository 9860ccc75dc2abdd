"""SCPI error queues: a refused setting is reported by `SYST:ERR?`, not by its own reply.

SCPI setting commands answer nothing; a tool that refuses one queues an error (`-222,"Data out
of range"`). Drivers of SCPI tools (the laser, the grinder) read the queue after each group of
settings until it answers `0,"No error"`, and raise `CommandRefused` with everything it held.
"""

from __future__ import annotations

import re

from ..equipment import Equipment
from ..errors import CommandRefused, ProtocolError
from ..links import TextLink

#: The standard SCPI error codes the packline tools use (a tool adds its own positive codes).
STANDARD_ERRORS = {
    0: "No error",
    -102: "Syntax error",
    -104: "Data type error",
    -108: "Parameter not allowed",
    -109: "Missing parameter",
    -113: "Undefined header",
    -221: "Settings conflict",
    -222: "Data out of range",
    -224: "Illegal parameter value",
    -350: "Queue overflow",
}

NO_ERROR = 0

_ERROR_REPLY = re.compile(r'^([+-]?\d+),"(.*)"$')


def parse_error(tool: Equipment, action: str, reply: str) -> tuple[int, str]:
    """One error-queue entry `<code>,"<text>"`: doubled quotes unescaped, and the SCPI
    `text;detail` form written `text: detail`."""
    match = _ERROR_REPLY.match(reply)
    if match is None:
        raise ProtocolError(
            tool.name, tool.address, action, f'error queue reply {reply!r} is not <code>,"<text>"'
        )
    return int(match[1]), match[2].replace('""', '"').replace(";", ": ", 1)


async def check_error_queue(tool: Equipment, action: str, query: str, depth: int) -> None:
    """Read the error queue with `query` until it is empty (at most `depth` + 1 reads).

    Every queued error is joined into one `CommandRefused` carrying the first error's code.
    """
    link = tool.link
    assert isinstance(link, TextLink)
    errors: list[tuple[int, str]] = []
    for _ in range(depth + 1):
        code, text = parse_error(tool, action, await link.query(query))
        if code == NO_ERROR:
            break
        errors.append((code, text))
    if errors:
        detail = "; ".join(text for _, text in errors)
        raise CommandRefused(tool.name, tool.address, action, detail, str(errors[0][0]))
