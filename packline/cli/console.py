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

    async def ask(
        self,
        console: Console,
        prompt: str,
        accepts: Callable[[str], bool] | None = None,
        hint: str = "",
    ) -> str:
        """The operator's answer to `prompt`, asked again (with `hint`) until `accepts` it:
        the question keeps the terminal until then, so no other question takes the answer.
        TimeoutError after CONFIRM_TIMEOUT_S (the wait for a turn included), EOFError once
        stdin has ended."""
        async with asyncio.timeout(CONFIRM_TIMEOUT_S), self._asking:
            shown = prompt
            while True:
                if self.closed:
                    raise EOFError("no more operator input")
                console.print(shown, markup=False, highlight=False)
                self.waiter = asyncio.get_running_loop().create_future()
                try:
                    answer = await self.waiter
                finally:
                    self.waiter = None
                if accepts is None or accepts(answer):
                    return answer
                shown = f"{answer!r}: {hint} {prompt}"


#: What a confirmation accepts; anything else is asked again (Enter is the default, no).
YES, NO = ("y", "yes"), ("", "n", "no")
#: The pause menu's answers.
MENU = {"c": "resume", "t": "terminate", "a": "abort"}


class OperatorConsole:
    """The terminal's operator for one run: confirmations, and control by keyboard and signal.

    `interactive` (stdin is a terminal and the output is for people) lets the operator answer
    on stdin: confirmations, and the pause menu that Ctrl-C opens. Every question goes through
    one queue (`StdinLines.ask`), so a question is only ever answered by a line typed while it
    is the one shown, and a confirmation takes only yes or no. `confirmed_by` answers every
    confirmation yes in advance, in that name; Ctrl-C still opens the pause menu. An answer
    typed at the terminal is recorded in the name of the run's operator (`--operator`).
    """

    def __init__(self, console: Console, *, interactive: bool, confirmed_by: str | None) -> None:
        self.console = console
        self._confirmed_by = confirmed_by
        self._lines = StdinLines() if interactive else None
        #: who answers at the terminal: the operator of the run attached (`attached`)
        self._operator = "operator"
        self._menu: asyncio.Task[None] | None = None

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
            question = f"[{wafers}] confirm: {prompt} [y/N]"
            try:
                answer = await lines.ask(
                    console, question, lambda line: line in YES + NO, "not y or n."
                )
            except TimeoutError:
                return False, "no answer"
            except EOFError:
                return False, "no operator"
            return answer in YES, f"{self._operator} (at the terminal)"

        return confirm

    async def _pause_menu(self, engine: Engine) -> None:
        """Ask what to do with the paused run, after any question already open."""
        assert self._lines is not None
        question = "paused at step boundaries: [c]ontinue, [t]erminate, [a]bort (Enter)"
        try:
            answer = await self._lines.ask(
                self.console, question, lambda line: line[:1] in MENU, "c, t or a?"
            )
        except (TimeoutError, EOFError):
            return  # the run stays paused; `packline resume|terminate RUN` from anywhere
        command = MENU[answer[:1]]
        engine.request(command, f"{command} by {self._operator} at the terminal")

    @contextlib.contextmanager
    def attached(self, engine: Engine) -> Iterator[None]:
        """While the run goes: Ctrl-C once pauses and opens the pause menu, queued behind an
        open confirmation (non-interactive: terminates); twice terminates; thrice aborts.
        SIGTERM terminates. A line typed when no question is open is a menu command too (a
        run paused from another terminal is continued with `c`)."""
        loop = asyncio.get_running_loop()
        lines = self._lines
        self._operator = engine.spec.operator
        presses = 0

        def on_line(line: str) -> None:
            command = MENU.get(line[:1])
            if command:
                engine.request(command, f"{command} by {self._operator} at the terminal")

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            if presses == 1 and lines is not None:
                engine.request("pause", "Ctrl-C")
                if lines.waiter is not None:
                    self.console.print(
                        "pausing at step boundaries; answer the open question first, then "
                        "the pause menu; Ctrl-C again terminates",
                        markup=False,
                    )
                self._menu = loop.create_task(self._pause_menu(engine), name="pause-menu")
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
            if self._menu is not None:
                self._menu.cancel()
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)
            if lines is not None and not lines.closed:
                loop.remove_reader(sys.stdin.fileno())
