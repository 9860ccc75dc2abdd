"""The operator at the terminal of a run this process drives: stdin, confirmations, Ctrl-C.

`OperatorConsole` is the one owner of the terminal's input during `run` and `resume`: it
answers the engine's operator confirmations (given in advance with `--confirmed-by`, asked on
the terminal, or declined when there is no terminal), and turns Ctrl-C, SIGTERM and the pause
menu's answers into run control requests. Lines are read from stdin without blocking the
event loop (`StdinLines`), one question at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterator

from rich.console import Console

from packline.sequences.engine import ConfirmFn, Engine

#: How long an operator has to answer a confirmation on real tools (wall seconds).
CONFIRM_TIMEOUT_S = 3600.0


class StdinLines:
    """Lines typed by the operator, read without blocking the event loop."""

    def __init__(self) -> None:
        self.waiter: asyncio.Future[str] | None = None
        self.on_line: Callable[[str], None] | None = None
        self.closed = False
        # one question at a time: two wafers asking at once must not steal each other's answer
        self._asking = asyncio.Lock()

    def feed(self) -> None:
        """Read the line stdin has ready: the answer to the open question, else a command."""
        raw = sys.stdin.readline()
        if not raw:  # end of input: stop watching stdin (it would stay readable forever)
            self.closed = True
            asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(EOFError("no more operator input"))
            return
        line = raw.strip().lower()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(line)
        elif self.on_line is not None:
            self.on_line(line)

    async def ask(self, console: Console, prompt: str) -> str:
        """The operator's answer to `prompt`; TimeoutError after CONFIRM_TIMEOUT_S (the wait
        for a turn included), EOFError once stdin has ended."""
        async with asyncio.timeout(CONFIRM_TIMEOUT_S), self._asking:
            if self.closed:
                raise EOFError("no more operator input")
            console.print(prompt, markup=False)
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                return await self.waiter
            finally:
                self.waiter = None


class OperatorConsole:
    """The terminal's operator for one run: confirmations, and control by keyboard and signal.

    `interactive` (stdin is a terminal and the output is for people) lets the operator answer
    on stdin; `confirmed_by` answers every confirmation yes in advance, in that name, and
    leaves stdin alone.
    """

    def __init__(self, console: Console, *, interactive: bool, confirmed_by: str | None) -> None:
        self.console = console
        self._confirmed_by = confirmed_by
        self._lines = StdinLines() if interactive and not confirmed_by else None

    def confirm_fn(self) -> ConfirmFn | None:
        """Operator confirmations on real tools: given in advance (`--confirmed-by`), asked on
        the terminal, or (no terminal) None: the engine declines them."""
        confirmed_by, lines, console = self._confirmed_by, self._lines, self.console
        if confirmed_by:

            async def confirm_in_advance(wafers: str, prompt: str) -> tuple[bool, str]:
                return True, f"{confirmed_by} (in advance, --confirmed-by)"

            return confirm_in_advance
        if lines is None:
            return None

        async def confirm(wafers: str, prompt: str) -> tuple[bool, str]:
            try:
                answer = await lines.ask(console, f"[{wafers}] confirm: {prompt} [y/N]")
            except TimeoutError:
                return False, "no answer"
            except EOFError:
                return False, "no operator"
            return answer in ("y", "yes"), "operator"

        return confirm

    @contextlib.contextmanager
    def attached(self, engine: Engine) -> Iterator[None]:
        """While the run goes: Ctrl-C once pauses and asks (non-interactive: terminates);
        twice terminates; thrice aborts. SIGTERM terminates. The pause menu's answers
        (continue, terminate, abort) come from stdin."""
        loop = asyncio.get_running_loop()
        lines = self._lines
        presses = 0

        def on_line(line: str) -> None:
            command = {"c": "resume", "r": "resume", "t": "terminate", "a": "abort"}.get(line[:1])
            if command:
                engine.request(command, f"{command} by the operator")

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            if presses == 1 and lines is not None:
                engine.request("pause", "Ctrl-C")
                self.console.print(
                    "paused at step boundaries: [c]ontinue, [t]erminate, [a]bort "
                    "(Enter); Ctrl-C again terminates",
                    markup=False,
                )
            elif presses <= 2:
                engine.request("terminate", "Ctrl-C")
            else:
                engine.request("abort", "Ctrl-C three times")

        loop.add_signal_handler(signal.SIGINT, on_sigint)
        loop.add_signal_handler(signal.SIGTERM, engine.request, "terminate", "SIGTERM")
        if lines is not None:
            lines.on_line = on_line
            loop.add_reader(sys.stdin.fileno(), lines.feed)
        try:
            yield
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)
            if lines is not None and not lines.closed:
                loop.remove_reader(sys.stdin.fileno())
