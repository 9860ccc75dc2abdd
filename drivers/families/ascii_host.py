"""ASCII host links: every command is answered `OK [payload]` or `ERR <code> <text>`.

Used by tools whose controllers speak a line protocol of their own over RS-232 (the wire
bonder, the dicing saw). Queries end in `?` and answer in their `OK` payload, often as
`KEY=value` words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..equipment import Equipment
from ..errors import CommandRefused, ProtocolError
from ..links import TextLink

_REFUSAL = re.compile(r"ERR (\d+) (.+)")


async def ask(tool: Equipment, action: str, command: str) -> str:
    """Send `command` to `tool`; return its `OK` payload ('' for a bare OK).

    `ERR <code> <text>` raises `CommandRefused` with the tool's code and text; any other reply
    is a `ProtocolError`.
    """
    link = tool.link
    assert isinstance(link, TextLink)
    reply = await link.query(command)
    if reply == "OK":
        return ""
    if reply.startswith("OK "):
        return reply[3:]
    if match := _REFUSAL.fullmatch(reply):
        code, text = match.groups()
        raise CommandRefused(tool.name, tool.address, action, text, code)
    raise ProtocolError(
        tool.name,
        tool.address,
        action,
        f"reply {reply!r} to {command!r} is neither OK nor ERR <code> <text>",
    )


def parse_fields(
    tool: Equipment, action: str, payload: str, keys: Iterable[str] = ()
) -> dict[str, str]:
    """A payload of `KEY=value` words as a dict; every key of `keys` must be there."""
    fields: dict[str, str] = {}
    for word in payload.split(" "):
        key, equals, value = word.partition("=")
        if not key or not equals:
            raise ProtocolError(
                tool.name, tool.address, action, f"{word!r} in {payload!r} is not KEY=value"
            )
        fields[key] = value
    missing = [key for key in keys if key not in fields]
    if missing:
        raise ProtocolError(
            tool.name, tool.address, action, f"reply {payload!r} lacks {', '.join(missing)}"
        )
    return fields
