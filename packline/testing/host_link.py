"""Page tests of the ASCII host-link tools: a page's example exchange, replayed on a simulated
tool and scripted for a driver, and the codes of the refusals it ends with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import pytest

from packline.clock import Clock
from packline.drivers.errors import CommandRefused
from packline.drivers.families.ascii_host import HostLinkDriver
from packline.drivers.specs.pages import ExampleStep, example_exchange


async def replay_example(page: str, handle: Callable[[str], Awaitable[str]], clock: Clock) -> None:
    """Send each command of the page's example exchange to `handle` (a simulated tool's
    interpreter), after the process time the page lets pass before it; each reply must be the
    page's."""
    for step in example_exchange(page):
        if step.after_s:
            await clock.sleep(step.after_s)
        reply = await handle(step.command)
        if reply != step.reply:
            raise AssertionError(
                f"{step.command!r}: answered {reply!r}, the page says {step.reply!r}"
            )


def compound(*exchanges: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    """Exchanges of an `expected_protocol` script as one compound line: the commands joined by
    `;`, and their replies joined alike."""
    return (
        b";".join(command.removesuffix(b"\n") for command, _ in exchanges) + b"\n",
        b";".join(reply.removesuffix(b"\n") for _, reply in exchanges) + b"\n",
    )


def line_script(steps: Iterable[ExampleStep]) -> list[tuple[bytes, bytes]]:
    """The steps as the lines a driver must send and the lines it is answered, for
    `expected_protocol`."""
    return [(f"{step.command}\n".encode(), f"{step.reply}\n".encode()) for step in steps]


async def refusal_codes(tool: HostLinkDriver, commands: Iterable[str]) -> list[str]:
    """The tool's `ERR` code for each of `commands`, each of which it must refuse."""
    codes = []
    for command in commands:
        with pytest.raises(CommandRefused) as refused:
            await tool.ask("refused", command)
        codes.append(refused.value.code)
    return codes
