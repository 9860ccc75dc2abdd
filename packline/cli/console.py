"""The operator at the terminal of a run this process drives: stdin, confirmations, Ctrl-C.

`OperatorConsole` is the one owner of the terminal's input during `run` and `resume`: it
answers the engine's operator confirmations (given in advance with `--confirmed-by`, asked on
the terminal, or declined when there is no terminal), and turns Ctrl-C, SIGTERM and the pause
menu's answers (one key each, the terminal in cbreak mode while the menu is open) into run
control requests. Lines and keys are read from stdin without blocking the event loop
(`StdinLines`), one question at a time, each under the lot as it stood when asked
(`PromptArea`: the live view stops redrawing, and both are erased once it is answered).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import tty
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console, RenderableType
from rich.control import Control
from rich.segment import ControlType
from rich.text import Text

from packline.sequences.engine import ConfirmFn, Engine, LiveView
from packline.sequences.engine.confirmations import AT_THE_TERMINAL, IN_ADVANCE, NO_ANSWER
from packline.sequences.engine.control import RunState
from packline.sequences.engine.dispositions import resume_command
from packline.sequences.engine.errors import RunTerminated
from packline.sequences.engine.events import CONTROL_IGNORED
from packline.sequences.engine.records import db_option

#: How long an operator has to answer a confirmation on real tools (wall seconds).
CONFIRM_TIMEOUT_S = 3600.0
#: The most bytes a key press is read in (an arrow key is a few; the first character answers).
KEYS_READ = 64
#: The lines a question keeps below the lot's frame: itself, a hint asked again, the cursor's.
QUESTION_LINES = 3


class PromptArea:
    """Where the operator is asked, under the run's live view (`view`, None when there is
    none: the output is not a terminal, and what is asked stays as a log of it).

    With a view, the view stops redrawing while a question is open: the lot as it stood when
    asked stays above the question (drawn once, `QUESTION_LINES` shorter than the terminal),
    so the operator sees the wafers a menu answer acts on; that frame, the question and the
    answers the terminal echoed are erased once it is answered, then the view is drawn again,
    so no stale line stays above it. Between questions
    the terminal does not echo what is typed (a menu command typed while the view redraws
    would move the frame down a line and leave its top line behind); the echo is back for
    each question and as it was once the run is `finish`ed.
    """

    def __init__(self, console: Console, view: LiveView | None) -> None:
        self.console = console
        self.view = view
        self._lines = 0  # lines written since the open question was first shown
        self._termios: list[Any] | None = None  # stdin's settings before, while managed

    def manage_echo(self) -> None:
        """Stop echoing typed lines between questions (a terminal under a live view)."""
        if self.view is not None and self._termios is None:
            self._termios = termios.tcgetattr(sys.stdin.fileno())
            self._set_echo(on=False)

    def _set_echo(self, *, on: bool) -> None:
        if self._termios is None:
            return
        attributes = list(self._termios)
        if not on:
            attributes[3] &= ~termios.ECHO  # the local modes
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSANOW, attributes)

    @contextlib.contextmanager
    def question(self, *, by_key: bool = False) -> Iterator[None]:
        """Around one question, shown and answered (`say`, `answered`) in the block; `by_key`:
        answered by one key, without Enter (the terminal in cbreak mode for the block: no
        line editing, no echo), and as it was after the block however it ends."""
        with self.view.suspended() if self.view is not None else contextlib.nullcontext():
            if self.view is not None:
                self._show(self.view.render(self.console.size.height - QUESTION_LINES))
            before = termios.tcgetattr(sys.stdin.fileno()) if by_key else None
            if before is not None:
                tty.setcbreak(sys.stdin.fileno(), termios.TCSANOW)
            else:
                self._set_echo(on=True)
            try:
                yield
            finally:
                # a terminal that went away fails these (EIO): the question ends as it
                # ended (answered, cancelled by a terminate), not as an error of the terminal
                with contextlib.suppress(OSError, termios.error):
                    self._erase()
                    if before is not None:
                        termios.tcsetattr(sys.stdin.fileno(), termios.TCSANOW, before)
                    self._set_echo(on=False)

    def say(self, text: str) -> None:
        """Print `text` at the start of a line of its own (over a `^C` the terminal echoed)."""
        self._show(Text(text))

    def _show(self, shown: RenderableType) -> None:
        """Print `shown` from the start of a line (over a `^C`), counted to be erased."""
        if self.view is not None:
            self.console.control(
                Control(ControlType.CARRIAGE_RETURN, (ControlType.ERASE_IN_LINE, 2))
            )
            self._lines += len(self.console.render_lines(shown, pad=False))
        self.console.print(shown)

    def answered(self, raw: str) -> None:
        """The operator typed `raw` and Enter: the lines the terminal echoed it on."""
        width = max(self.console.width, 1)
        self._lines += max(1, -(-len(raw.rstrip("\n")) // width))

    def _erase(self) -> None:
        """Erase what the open question wrote, and the line the cursor is on."""
        if self.view is not None:
            up = ((ControlType.CURSOR_UP, 1), (ControlType.ERASE_IN_LINE, 2)) * self._lines
            self.console.control(
                Control(ControlType.CARRIAGE_RETURN, (ControlType.ERASE_IN_LINE, 2), *up)
            )
        self._lines = 0

    def finish(self) -> None:
        """The run has ended: erase a question left open and give the terminal its echo
        back; nothing is erased after this (the run's summary follows). A terminal that went
        away takes neither (EIO)."""
        with contextlib.suppress(OSError, termios.error):
            self._erase()
            self._set_echo(on=True)
        self._termios = None
        self.view = None


#: Why a run whose terminal's input ended (end of file: Ctrl-D, or the terminal closed) or
#: failed (EIO: it hung up) terminates: the terminating event's message, how it ended after it.
TERMINAL_GONE = "the terminal's input ended, nobody is left to answer"


class TerminalGone(EOFError):
    """The terminal a question was asked on went away (its input ended or failed): the
    question ends unanswered, as a terminate ends it."""


class StdinLines:
    """Lines typed by the operator, read without blocking the event loop, and the questions
    asked of the operator in `area`, one at a time."""

    def __init__(self, area: PromptArea) -> None:
        self.area = area
        self.waiter: asyncio.Future[str] | None = None
        self.on_line: Callable[[str], None] | None = None
        #: told why, once the terminal went away (`gone`)
        self.on_gone: Callable[[str], None] | None = None
        self.closed = False
        self.why_gone = TERMINAL_GONE
        self.by_key = False  # the open question is answered by one key (`ask`)
        # one question at a time: two wafers asking at once must not steal each other's answer
        self._asking = asyncio.Lock()

    def feed(self) -> None:
        """Read the line stdin has ready (or the keys, for a question answered by a key: the
        first one answers it): the answer to the open question, else a command. The end of
        input, or an error reading it (EIO: the terminal hung up), is the terminal gone
        (`gone`)."""
        try:
            if self.by_key:
                raw = os.read(sys.stdin.fileno(), KEYS_READ).decode(errors="replace")[:1]
            else:
                raw = sys.stdin.readline()
        except OSError as error:
            self.gone(f"reading it failed, {error.strerror or error} (it hung up)")
            return
        if not raw:
            self.gone("end of file (Ctrl-D, or it closed)")
            return
        line = raw.strip().lower()
        if self.waiter is not None and not self.waiter.done():
            if not self.by_key:  # a key is not echoed
                self.area.answered(raw)
            self.waiter.set_result(line)
        elif self.on_line is not None:
            self.on_line(line)

    def gone(self, why: str) -> None:
        """The terminal went away (`why`: how its input ended): stop watching stdin (it would
        stay readable forever), tell `on_gone` (the run terminates: nobody is left to answer)
        and end the open question with `TerminalGone`, unanswered."""
        if self.closed:
            return
        self.closed = True
        asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
        self.why_gone = f"{TERMINAL_GONE}: {why}"
        if self.on_gone is not None:
            self.on_gone(self.why_gone)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(TerminalGone(self.why_gone))

    async def ask(
        self,
        prompt: str,
        accepts: Callable[[str], bool] | None = None,
        hint: str = "",
        *,
        by_key: bool = False,
    ) -> str:
        """The operator's answer to `prompt`, asked again (with `hint`) until `accepts` it:
        the question keeps the terminal until then, so no other question takes the answer.
        `by_key`: one key answers, without Enter (on a terminal). TimeoutError after
        CONFIRM_TIMEOUT_S (the wait for a turn included), `TerminalGone` once the terminal
        went away."""
        by_key = by_key and sys.stdin.isatty()
        async with asyncio.timeout(CONFIRM_TIMEOUT_S), self._asking:
            with self.area.question(by_key=by_key):
                self.by_key = by_key
                try:
                    shown = prompt
                    while True:
                        if self.closed:
                            raise TerminalGone(self.why_gone)
                        self.area.say(shown)
                        self.waiter = asyncio.get_running_loop().create_future()
                        try:
                            answer = await self.waiter
                        finally:
                            self.waiter = None
                        if accepts is None or accepts(answer):
                            return answer
                        shown = f"{answer!r}: {hint} {prompt}"
                finally:
                    self.by_key = False


#: What a confirmation accepts; anything else is asked again (Enter is the default, no).
YES, NO = ("y", "yes"), ("", "n", "no")
#: The pause menu's answers, each one key.
MENU = {"c": "resume", "t": "terminate", "a": "abort"}
MENU_QUESTION = "paused at step boundaries: press c to continue, t to terminate, a to abort"
#: The pause menu of a run still connecting to its tools (`Engine.connecting`): no wafer has
#: started, so there is no step for an abort to cut short (it would do what a terminate
#: does), and it is not offered; a terminate then ends the run before any wafer starts.
CONNECTING_MENU = {"c": "resume", "t": "terminate"}
CONNECTING_MENU_QUESTION = (
    "paused while the run connects to its tools, before any wafer starts: press c to "
    "continue, t to terminate (no wafer will start)"
)
#: Why a command typed between questions that the connecting menu does not offer (an `a`:
#: no step is under way for an abort to cut short) is not taken, recorded `control-ignored`.
NOT_WHILE_CONNECTING = (
    "not while the run connects to its tools, before any wafer starts: there is no step for "
    "an abort to cut short (t terminates it: no wafer will start)"
)
#: Why a run whose terminal hung up terminates (the terminating event's message).
HANG_UP = "SIGHUP: the terminal hung up (run it under nohup, tmux or screen to outlive one)"


def _menu_of(engine: Engine) -> tuple[dict[str, str], str]:
    """The pause menu's answers and question for `engine` now: while it connects to its tools
    (`Engine.connecting`), `CONNECTING_MENU`; the same whether asked (Ctrl-C) or typed between
    questions, so a command typed then is one the menu would take."""
    if engine.connecting:
        return CONNECTING_MENU, CONNECTING_MENU_QUESTION
    return MENU, MENU_QUESTION


def keyboard_reaches() -> bool:
    """Whether a SIGINT can be a Ctrl-C typed at a keyboard: this process is in the foreground
    of the terminal that controls it. Not so for a process started without a terminal (by a
    script, a service, cron, CI) or in the background: its SIGINT was sent by another process
    (`kill -INT`), which the signal itself does not name."""
    try:
        terminal = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:  # no controlling terminal
        return False
    try:
        return os.tcgetpgrp(terminal) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(terminal)


class OperatorConsole:
    """The terminal's operator for one run: confirmations, and control by keyboard and signal.

    `interactive` (stdin is a terminal and the output is for people) lets the operator answer
    on stdin: confirmations, and the pause menu that Ctrl-C opens. Every question goes through
    one queue (`StdinLines.ask`), so a question is only ever answered by a line typed while it
    is the one shown, and a confirmation takes only yes or no. `confirmed_by` answers every
    confirmation yes in advance, in that name; Ctrl-C still opens the pause menu. An answer
    typed at the terminal is recorded in the name of the run's operator (`--operator`).
    `view` is the run's live view, if it has one: it gives the screen to each question.
    """

    def __init__(
        self,
        console: Console,
        *,
        interactive: bool,
        confirmed_by: str | None,
        view: LiveView | None = None,
    ) -> None:
        self.console = console
        self._confirmed_by = confirmed_by
        self._area = PromptArea(console, view)
        self._lines = StdinLines(self._area) if interactive else None
        #: who answers at the terminal: the operator of the run attached (`attached`)
        self._operator = "operator"
        self._menu: asyncio.Task[None] | None = None

    def confirm_fn(self) -> ConfirmFn | None:
        """Operator confirmations on real tools: given in advance (`--confirmed-by`), asked on
        the terminal, or (no terminal) None: the engine declines them."""
        confirmed_by, lines = self._confirmed_by, self._lines
        if confirmed_by:

            async def confirm_in_advance(wafers: str, prompt: str) -> tuple[bool, str]:
                return True, confirmed_by + IN_ADVANCE

            return confirm_in_advance
        if lines is None:
            return None

        async def confirm(wafers: str, prompt: str) -> tuple[bool, str]:
            """The answer typed at the terminal; none (`RunTerminated`, nothing recorded) once
            the terminal went away while asking, or before: the run terminates, as it does
            when the terminal hangs up, and nobody declined anything."""
            question = f"[{wafers}] confirm: {prompt} [y/N]"
            try:
                answer = await lines.ask(question, lambda line: line in YES + NO, "not y or n.")
            except TimeoutError:
                return False, NO_ANSWER
            except OSError as error:  # showing the question failed (EIO: the terminal is gone)
                lines.gone(f"writing to it failed, {error.strerror or error} (it hung up)")
                raise RunTerminated(lines.why_gone) from error
            except TerminalGone as gone:
                raise RunTerminated(lines.why_gone) from gone
            return answer in YES, self._operator + AT_THE_TERMINAL

        return confirm

    async def _pause_menu(self, engine: Engine) -> None:
        """Ask what to do with the paused run, after any question already open: while it
        connects to its tools, whether to continue or terminate (`CONNECTING_MENU`)."""
        assert self._lines is not None
        # paused: no wafer starts before the answer, connected or not
        menu, question = _menu_of(engine)
        *others, last = menu
        hint = f"not {', '.join(others)} or {last}."
        try:
            answer = await self._lines.ask(
                question, lambda line: line[:1] in menu, hint, by_key=True
            )
        except (TimeoutError, EOFError, OSError):
            return  # paused (`packline resume|terminate RUN` from anywhere) or, gone, ending
        command = menu[answer[:1]]
        engine.request(command, f"{command} by {self._operator} at the terminal", self._operator)

    @contextlib.contextmanager
    def attached(self, engine: Engine) -> Iterator[None]:
        """While the run goes: Ctrl-C once pauses and opens the pause menu, queued behind an
        open confirmation (non-interactive: terminates); twice terminates; thrice aborts. Once
        the run goes on again (the menu answered `c`, a resume from anywhere), the next Ctrl-C
        is a first one again. A SIGINT no keyboard can have sent does the same, recorded as
        another process's, in nobody's name.
        SIGTERM terminates, and so does SIGHUP (`HANG_UP`) unless it is ignored (`nohup`). A
        line typed when no question is open is a menu command too (a run paused from another
        terminal is continued with `c`)."""
        loop = asyncio.get_running_loop()
        lines = self._lines
        self._operator = engine.spec.operator
        presses = 0

        def resumed_by(why: str) -> str:
            """A terminate for a terminal gone (`why`), naming the resume: the run's summary
            is printed to nobody, and its records are where the operator reads it."""
            db = db_option(engine.store.path)
            resume = resume_command(
                engine.store, engine.run_id, engine.spec.confirmed_by, db_option=db
            )
            return f"{why}; {resume} goes on from its records"

        def on_line(line: str) -> None:
            """A menu command typed between questions: one the pause menu offers now
            (`_menu_of`); one it offers only once the run is connected (an `a` while it
            connects) is not taken, and the run records why (`NOT_WHILE_CONNECTING`), which
            its live view prints."""
            key, (menu, _) = line[:1], _menu_of(engine)
            command = menu.get(key)
            if command:
                engine.request(
                    command, f"{command} by {self._operator} at the terminal", self._operator
                )
            elif key in MENU:
                engine.emit(
                    CONTROL_IGNORED,
                    message=f"{MENU[key]} typed by {self._operator} at the terminal: "
                    + NOT_WHILE_CONNECTING,
                )

        def sent(times: str = "") -> tuple[str, str | None]:
            """The reason and the person of an order a SIGINT gives (`times`: " three times"):
            the operator's Ctrl-C at the terminal, or another process's signal when no
            keyboard can have sent it (`keyboard_reaches`)."""
            if keyboard_reaches():
                return f"Ctrl-C{times} by {self._operator} at the terminal", self._operator
            return f"SIGINT{times} by another process", None

        def on_sigint() -> None:
            nonlocal presses
            menu_open = self._menu is not None and not self._menu.done()
            if engine.control.state is RunState.RUNNING and not menu_open:
                presses = 0  # the run went on since the last: a first Ctrl-C again
            presses += 1
            if presses == 1 and lines is not None:
                engine.request("pause", *sent())
                if lines.waiter is not None:
                    self._area.say(
                        "pausing at step boundaries; answer the open question first, then "
                        "the pause menu; Ctrl-C again terminates"
                    )
                self._menu = loop.create_task(self._pause_menu(engine), name="pause-menu")
                return
            if self._menu is not None:  # this Ctrl-C is the answer: the run stops
                self._menu.cancel()
            if presses <= 2:
                engine.request("terminate", *sent())
            else:
                engine.request("abort", *sent(" three times"))

        loop.add_signal_handler(signal.SIGINT, on_sigint)
        loop.add_signal_handler(signal.SIGTERM, engine.request, "terminate", "SIGTERM")
        # A terminal that hangs up (its window closed, its SSH connection lost) ends the run
        # as a terminate does, not as a crash; under `nohup` (ignored) the run goes on.
        hang_up = signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN
        if hang_up:
            loop.add_signal_handler(signal.SIGHUP, engine.request, "terminate", resumed_by(HANG_UP))
        if lines is not None:
            lines.on_line = on_line
            lines.on_gone = lambda why: engine.request("terminate", resumed_by(why))
            loop.add_reader(sys.stdin.fileno(), lines.feed)
            self._area.manage_echo()
        try:
            yield
        finally:
            if self._menu is not None:
                self._menu.cancel()
            self._area.finish()
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)
            if hang_up:
                loop.remove_signal_handler(signal.SIGHUP)
            if lines is not None and not lines.closed:
                loop.remove_reader(sys.stdin.fileno())
