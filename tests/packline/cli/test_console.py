"""The operator at a real terminal (a pseudo-terminal here): one question at a time, a
confirmation takes only yes or no, Ctrl-C opens the pause menu (also with --confirmed-by), and
every answer is recorded in the operator's name."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import yaml

from packline.cli.console import HANG_UP, MENU_QUESTION, TERMINAL_GONE
from packline.sequences.engine.request import login_name

from ...sequences.processes import Pane, Served

#: Terminal control sequences (colours, cursor moves): the test reads the text.
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Wall seconds any expected output may take to appear.
WAIT_S = 60.0
#: What the live view shows once the lot has started (its first wafer's row): a Ctrl-C
#: before, while the run connects to its tools, opens the menu of a run connecting.
LOT_STARTED = "-W01 "


@pytest.fixture
def served_line(tmp_path: Path) -> Iterator[Path]:
    """`packline sim serve`, 300 times faster than the wall clock, and its station file."""
    with Served(tmp_path / "line.yaml", "--time-scale", "300", "--for", "600") as served:
        yield served.station


class Terminal:
    """`packline run` with a pseudo-terminal as its stdin and stdout, as an operator sees it."""

    def __init__(self, *args: str, nohup: bool = False, controlling: bool = False) -> None:
        """`nohup`: started ignoring SIGHUP, as `nohup` starts a command. `controlling`: the
        pseudo-terminal is the one that controls the process's session, as a login's or a
        terminal window's is: closing it (`hang_up`) sends the process SIGHUP."""
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "packline", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm"},
            preexec_fn=_ignore_hang_up if nohup else partial(_hang_up_ends_it, controlling),
            start_new_session=controlling,
        )
        os.close(slave)
        self.screen = ""

    def expect(self, text: str) -> None:
        """Read the terminal until `text` has appeared (after what was matched before)."""
        deadline = time.monotonic() + WAIT_S
        while text not in self.screen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not shown within {WAIT_S} s; screen:\n{self.screen}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the other side closed: the process ended
                    chunk = ""
                if not chunk:
                    assert text in self.screen, f"{text!r} never shown:\n{self.screen}"
                self.screen += ANSI.sub("", chunk)
        self.screen = self.screen[self.screen.index(text) + len(text) :]

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\r").encode())

    def press(self, key: str) -> None:
        """One key, without Enter."""
        os.write(self.master, key.encode())

    def line_mode(self) -> bool:
        """The terminal reads lines (canonical mode), as between questions."""
        return bool(termios.tcgetattr(self.master)[3] & termios.ICANON)

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def hang_up(self) -> None:
        """The terminal goes away (its window closed, its SSH connection lost): its master side
        closes, and the process reads EOF or EIO on it (and is sent SIGHUP, if `controlling`)."""
        os.close(self.master)
        self.master = -1

    def finish(self) -> int:
        if self.master < 0:  # hung up: nothing more to read
            return self.process.wait(timeout=WAIT_S)
        self.read_to_end()
        code = self.process.wait(timeout=WAIT_S)
        os.close(self.master)
        return code

    def read_to_end(self) -> str:
        """Everything the terminal showed after what was matched before, once the process
        has ended (its frames one after the other, each as it was drawn)."""
        deadline = time.monotonic() + WAIT_S
        while self.process.poll() is None or select.select([self.master], [], [], 0)[0]:
            assert time.monotonic() < deadline, "the run did not end"
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    chunk = os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the other side closed: the process ended
                    break
                if not chunk:
                    break
                self.screen += ANSI.sub("", chunk)
        return self.screen


def _ignore_hang_up() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _hang_up_ends_it(controlling: bool) -> None:
    """In the child: SIGHUP does what it does by default, whatever the test runner was started
    under (`nohup` ignores it, and a child inherits that); `controlling`: a session leader by
    then, its stdin's terminal becomes its controlling one."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    if controlling:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def records(db: Path, query: str) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(query).fetchall()


def interrupted_at_a_confirmation(
    station: Path, db: Path, *, controlling: bool = False
) -> Terminal:
    """A lot of 4 run by ana on `station`, Ctrl-C pressed while its batch's confirmation
    waits: the pause menu is queued behind it."""
    term = Terminal("run", "plasma-clean", "--station", str(station), "--lot", "4",
                    "--operator", "ana", "--db", str(db), controlling=controlling)  # fmt: skip
    term.expect("confirm:")
    term.interrupt()
    term.expect("answer the open question first")
    return term


def test_ctrl_c_during_a_confirmation_queues_the_menu_and_a_stray_key_declines_nothing(
    served_line: Path, tmp_path: Path
):
    db = tmp_path / "runs.db"
    term = interrupted_at_a_confirmation(served_line, db)
    term.type("c")  # meant for the pause menu: not an answer to the confirmation
    term.expect("'c': not y or n.")
    term.type("y")
    term.expect(MENU_QUESTION)
    term.press("c")  # one key answers the menu, and the terminal reads lines again after it
    term.expect("run clock")
    assert term.line_mode()
    assert term.finish() == 0
    assert records(db, "SELECT DISTINCT status FROM wafers") == [("completed",)]
    assert records(db, "SELECT DISTINCT confirmed, by FROM confirmations") == [
        (1, "ana (at the terminal)")
    ]
    kinds = [k for (k,) in records(db, "SELECT kind FROM events ORDER BY id")]
    assert "paused" in kinds
    assert "resumed" in kinds


def test_ctrl_c_with_confirmed_by_pauses_and_asks_instead_of_terminating(
    served_line: Path, tmp_path: Path
):
    db = tmp_path / "runs.db"
    term = Terminal("run", "plasma-clean", "--station", str(served_line), "--lot", "8",
                    "--confirmed-by", "ci-bot", "--db", str(db))  # fmt: skip
    term.expect(LOT_STARTED)
    term.interrupt()
    term.expect(MENU_QUESTION)
    assert not term.line_mode()  # a key answers, without Enter
    term.press("x")
    term.expect("'x': not c, t or a.")
    term.press("t")
    assert term.finish() == 1
    assert records(db, "SELECT status FROM runs") == [("terminated",)]
    messages = [m for (m,) in records(db, "SELECT message FROM events WHERE kind='terminating'")]
    assert messages == ["terminate by " + login_name() + " at the terminal"]


def test_ctrl_c_twice_during_a_confirmation_terminates_without_its_answer(
    served_line: Path, tmp_path: Path
):
    """Ctrl-C twice while a confirmation waits: 'Ctrl-C again terminates' said the terminal,
    and the run stood at the question until it was answered. The terminate ends the open
    question, unanswered, as it ends a wait for a tool: the wafers are terminated."""
    db = tmp_path / "runs.db"
    term = interrupted_at_a_confirmation(served_line, db)
    term.expect("Ctrl-C again terminates")
    term.interrupt()
    assert term.finish() == 1
    assert records(db, "SELECT status FROM runs") == [("terminated",)]
    assert records(db, "SELECT DISTINCT status FROM wafers") == [("terminated",)]
    assert records(db, "SELECT * FROM confirmations") == []
    _assert_left_unanswered(db)


def test_packline_terminate_from_another_terminal_ends_an_open_confirmation_unanswered(
    served_line: Path, tmp_path: Path
):
    """The operator ends the run from another terminal (`packline terminate`) while its
    question waits at the run's terminal: the question ends unanswered, the wafers are
    terminated, and each wafer's timeline says the question was open and why it went
    unanswered (nothing of it had been left in the records)."""
    db = tmp_path / "runs.db"
    term = Terminal("run", "plasma-clean", "--station", str(served_line), "--lot", "4",
                    "--operator", "ana", "--db", str(db))  # fmt: skip
    term.expect("confirm:")
    other = subprocess.run(
        [sys.executable, "-m", "packline", "terminate", "last", "--by", "bo", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert other.returncode == 0, other.stderr
    assert term.finish() == 1
    assert records(db, "SELECT DISTINCT status FROM wafers") == [("terminated",)]
    assert records(db, "SELECT * FROM confirmations") == []
    _assert_left_unanswered(db)
    reason = "terminate requested by bo from another process"
    assert records(db, "SELECT DISTINCT json_extract(data, '$.reason') FROM events WHERE "
                   "kind='confirmation-unanswered'") == [(reason,)]  # fmt: skip


def test_ctrl_c_after_the_run_went_on_pauses_and_asks_again(served_line: Path, tmp_path: Path):
    """Ctrl-C, `c` (the run goes on), Ctrl-C again: a first Ctrl-C again, which pauses and
    asks; it terminated the run at once, counted as the second of the first one."""
    db = tmp_path / "runs.db"
    term = Terminal("run", "plasma-clean", "--station", str(served_line), "--lot", "8",
                    "--confirmed-by", "ci-bot", "--operator", "ana", "--db", str(db))  # fmt: skip
    term.expect(LOT_STARTED)
    term.interrupt()
    term.expect(MENU_QUESTION)
    term.press("c")
    term.expect("run clock")
    term.interrupt()
    term.expect(MENU_QUESTION)
    term.press("t")
    assert term.finish() == 1
    kinds = [k for (k,) in records(db, "SELECT kind FROM events ORDER BY id")]
    control = [k for k in kinds if k in ("paused", "resumed", "terminating")]
    assert control == ["paused", "resumed", "paused", "terminating"]
    messages = [m for (m,) in records(db, "SELECT message FROM events WHERE kind='terminating'")]
    assert messages == ["terminate by ana at the terminal"]


@pytest.mark.parametrize("nohup", [False, True], ids=["hung-up", "nohup"])
def test_a_terminal_that_hangs_up_terminates_the_run_unless_under_nohup(
    served_line: Path, tmp_path: Path, nohup: bool
):
    """SIGHUP (the terminal's window closed, its SSH connection lost) terminates the run: its
    steps under way end and it records why, rather than the process dying under them.
    Started under `nohup`, which ignores SIGHUP, the run goes on to its end."""
    db = tmp_path / "runs.db"
    term = Terminal("run", "plasma-clean", "--station", str(served_line), "--lot", "4",
                    "--confirmed-by", "ci-bot", "--db", str(db), nohup=nohup)  # fmt: skip
    term.expect("run clock")
    term.process.send_signal(signal.SIGHUP)
    if nohup:
        assert term.finish() == 0
        assert records(db, "SELECT status FROM runs") == [("completed",)]
        return
    assert term.finish() == 1
    assert records(db, "SELECT status FROM runs") == [("terminated",)]
    (message,) = [m for (m,) in records(db, "SELECT message FROM events WHERE kind='terminating'")]
    assert message.startswith(HANG_UP)
    assert "packline resume" in message
    # answered in advance by ci-bot: the resume it names answers its own the same way
    assert "--confirmed-by ci-bot" in message


def _assert_terminated_unanswered(db: Path) -> None:
    """The run ended as a terminate ends it, its open confirmation unanswered: every wafer
    terminated (none held, no OS error as a reason), no answer recorded, its resume named,
    and the question recorded as open and unanswered for every wafer asked
    (`_assert_left_unanswered`)."""
    assert records(db, "SELECT status FROM runs") == [("terminated",)]
    assert records(db, "SELECT DISTINCT status FROM wafers") == [("terminated",)]
    assert records(db, "SELECT * FROM confirmations") == []
    events = records(db, "SELECT kind, message FROM events ORDER BY id")
    assert not [m for _, m in events if m and "Errno" in m], events
    assert [k for k, _ in events].count("terminating") == 1, events
    assert any(m and "packline resume" in m for _, m in events), events
    _assert_left_unanswered(db)


def _assert_left_unanswered(db: Path) -> None:
    """The batch's confirmation, open when the run was terminated, is recorded as unanswered
    for each of its wafers (the lot's four), saying why (the terminate's reason, as its
    `terminating` event has it), and `show` says so in each wafer's timeline, where it had
    shown nothing of the question: the events' messages."""
    (reason,) = [m for (m,) in records(db, "SELECT message FROM events WHERE kind='terminating'")]
    unanswered = records(
        db,
        "SELECT wafer_id, message FROM events WHERE kind='confirmation-unanswered' ORDER BY id",
    )
    wafers = [w for (w,) in records(db, "SELECT wafer_id FROM wafers ORDER BY position")]
    assert [w for w, _ in unanswered] == wafers
    prompt = f"wafers {', '.join(wafers)} seated in the chamber slots"
    said = f"unanswered: the run was terminated ({reason})"
    assert {m for _, m in unanswered} == {f"confirmation {prompt!r} {said}"}
    show = subprocess.run(
        [sys.executable, "-m", "packline", "show", "last", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        env={**os.environ, "COLUMNS": "1000"},
    )
    rows = [line for line in show.stdout.splitlines() if "│ confirmation " in line]
    assert len(rows) == len(wafers), show.stdout  # a row in each wafer's timeline
    assert all(prompt in row and said in row for row in rows), rows


def test_a_terminal_gone_while_a_confirmation_waits_terminates_the_run_unanswered(
    served_line: Path, tmp_path: Path
):
    """The terminal goes away (EIO on stdin and stdout; not the process's controlling one, so
    no SIGHUP) while a confirmation waits: nobody is left to answer, and the run ends as a
    terminate ends it, the question unanswered; it held the wafers, `[Errno 5] Input/output
    error` their reason."""
    db = tmp_path / "runs.db"
    term = Terminal("run", "plasma-clean", "--station", str(served_line), "--lot", "4",
                    "--operator", "ana", "--db", str(db))  # fmt: skip
    term.expect("confirm:")
    term.hang_up()
    assert term.finish() == 1
    _assert_terminated_unanswered(db)


def test_ctrl_c_then_a_hang_up_at_a_confirmation_terminates_the_run_unanswered(
    served_line: Path, tmp_path: Path
):
    """A new user's trial: Ctrl-C at the `[y/N]` question, then the terminal closed (SIGHUP
    from the kernel, then EIO on the terminal). Its wafers were held, `[Errno 5] Input/output
    error` their reason; now the run is terminated as a hang-up terminates it, unanswered."""
    db = tmp_path / "runs.db"
    term = interrupted_at_a_confirmation(served_line, db, controlling=True)
    term.hang_up()
    assert term.finish() == 1
    _assert_terminated_unanswered(db)
    (message,) = [m for (m,) in records(db, "SELECT message FROM events WHERE kind='terminating'")]
    assert message.startswith((HANG_UP, TERMINAL_GONE))  # the kernel's SIGHUP, or EOF, first


needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (.ci/run)")


def _to_the_end(pane: Pane) -> str:
    """All `pane` showed, once its run has ended (the shell's `EXIT` line after it)."""
    pane.wait_for(lambda s: bool(_lines_with(s, "EXIT ")), "the end of the run")
    return pane.history()


def _lines_with(screen: list[str], text: str) -> list[str]:
    return [line for line in screen if text in line]


def _assert_the_lot_above_the_question(screen: list[str], question: str, lot: int) -> None:
    """The lot's frame, drawn once (every wafer's row, one run clock), then the question."""
    shown = [line for line in screen if line.strip()]
    assert len(_lines_with(shown, "run clock")) == 1, "\n".join(screen)
    rows = [line for line in shown if re.match(r"\S+-W\d\d ", line)]
    assert len(rows) == lot, "\n".join(screen)
    (asked,) = [i for i, line in enumerate(shown) if question in line]
    clock = shown.index(_lines_with(shown, "run clock")[0])
    assert shown.index(rows[-1]) < clock < asked, "\n".join(screen)  # the question is last


@needs_tmux
def test_a_question_has_the_screen_and_the_screen_is_clean_after_it(
    served_line: Path, tmp_path: Path
):
    """A confirmation was printed above a live frame that kept redrawing, and the pause
    menu's line stayed above the view once answered; then the menu hid the wafers: while
    asked, the lot as it stood stays above the question, not redrawn; once answered, that
    frame, the question, the answers and the `^C` are erased."""
    db = tmp_path / "runs.db"
    pane = Pane(tmp_path / "tmux", [sys.executable, "-m", "packline", "run", "plasma-clean",
                "--station", str(served_line), "--lot", "4", "--operator", "ana",
                "--db", str(db)])  # fmt: skip
    try:
        asked = pane.wait_for(lambda s: bool(_lines_with(s, "confirm:")), "a confirmation")
        _assert_the_lot_above_the_question(asked, "confirm:", 4)
        pane.keys("C-c")
        queued = pane.wait_for(
            lambda s: bool(_lines_with(s, "answer the open question first")), "the menu queued"
        )
        assert not _lines_with(queued, "^C"), "\n".join(queued)
        assert len(_lines_with(queued, "confirm:")) == 1
        pane.keys("y", "Enter")
        menu = pane.wait_for(
            lambda s: bool(_lines_with(s, "to continue")) and not _lines_with(s, "confirm:"),
            "the pause menu alone",
        )
        _assert_the_lot_above_the_question(menu, "to continue", 4)
        assert not _lines_with(menu, "answer the open question"), "\n".join(menu)
        pane.keys("c")
        history = _to_the_end(pane)
    finally:
        pane.close()
    assert "EXIT 0" in history
    for gone in ("confirm:", "to continue", "answer the open question", "^C", "left about"):
        assert gone not in history, history
    assert records(db, "SELECT DISTINCT by FROM confirmations") == [("ana (at the terminal)",)]
    assert records(db, "SELECT message FROM events WHERE kind='paused'") == [
        ("Ctrl-C by ana at the terminal",)
    ]


@needs_tmux
def test_the_pause_menu_of_a_run_drawn_live_leaves_no_line_behind(
    served_line: Path, tmp_path: Path
):
    db = tmp_path / "runs.db"
    pane = Pane(tmp_path / "tmux", [sys.executable, "-m", "packline", "run", "plasma-clean",
                "--station", str(served_line), "--lot", "8", "--confirmed-by", "ci-bot",
                "--operator", "ana", "--db", str(db)])  # fmt: skip
    try:
        # the lot drawn: while the run connects its frame has no wafer row to assert on
        pane.wait_for(
            lambda s: sum(bool(re.match(r"\S+-W\d\d ", line)) for line in s) == 8,
            "the live view of the lot",
        )
        pane.keys("C-c")
        menu = pane.wait_for(lambda s: bool(_lines_with(s, "to continue")), "the pause menu")
        _assert_the_lot_above_the_question(menu, "to continue", 8)
        assert "PAUSED: Ctrl-C by ana at the terminal" in menu[0]
        pane.keys("x")
        again = pane.wait_for(lambda s: bool(_lines_with(s, "'x': not c, t or a.")), "again")
        _assert_the_lot_above_the_question(again, "'x': not c, t or a.", 8)
        pane.keys("c")
        drawn = pane.wait_for(
            lambda s: bool(
                (_lines_with(s, "run clock") and not _lines_with(s, "to continue"))
                or _lines_with(s, "EXIT ")
            ),
            "the view again, or the end",
        )
        assert not _lines_with(drawn, "to continue"), "\n".join(drawn)
        history = _to_the_end(pane)
    finally:
        pane.close()
    assert "EXIT 0" in history
    for gone in ("to continue", "'x'", "left about"):
        assert gone not in history, history


class HeldLink:
    """A TCP relay to a served tool's `port` that holds every connection made to it,
    unanswered, until `release`: a run connecting to the tool stays connecting until then."""

    def __init__(self, port: int) -> None:
        self._tool = ("127.0.0.1", port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._released = threading.Event()
        self._sockets = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def release(self) -> None:
        self._released.set()

    def close(self) -> None:
        self.release()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        self._released.wait()
        tool = socket.create_connection(self._tool)
        self._sockets += [client, tool]
        threading.Thread(target=_pipe, args=(tool, client), daemon=True).start()
        _pipe(client, tool)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(4096):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)


def held_station(served_line: Path, tmp_path: Path) -> tuple[Path, HeldLink]:
    """A station file of the served line whose chamber is reached through a `HeldLink` (a
    run stays connecting to its tools until it is released), and that link."""
    station = yaml.safe_load(served_line.read_text())
    chamber = station["tools"]["plasma_cleaner"]
    link = HeldLink(int(chamber["address"].rpartition(":")[2]))
    chamber["address"] = f"modbus+tcp://127.0.0.1:{link.port}"
    chamber["options"] = {"timeout_s": WAIT_S}  # held, not refused, until released
    held = tmp_path / "held.yaml"
    held.write_text(yaml.safe_dump(station))
    return held, link


@needs_tmux
def test_the_pause_menu_of_a_run_connecting_to_its_tools_says_so_and_offers_no_abort(
    served_line: Path, tmp_path: Path
):
    """Ctrl-C while the run connects to its tools: the menu was drawn under `0 wafers:` and
    an empty table (no wafer is told before the run starts), an empty lot to an operator,
    and offered an abort, which has no step to cut short then. It names the lot the command
    gives and that the run is connecting, and offers to continue or terminate; once
    connected the run is recorded paused, and it runs its lot once continued."""
    held, link = held_station(served_line, tmp_path)
    db = tmp_path / "runs.db"
    pane = Pane(tmp_path / "tmux", [sys.executable, "-m", "packline", "run", "plasma-clean",
                "--station", str(held), "--lot", "8", "--lot-id", "LOT7", "--confirmed-by",
                "ci-bot", "--operator", "ana", "--db", str(db)])  # fmt: skip
    try:
        pane.wait_for(lambda s: bool(_lines_with(s, "run clock")), "the live view")
        pane.keys("C-c")
        menu = pane.wait_for(lambda s: bool(_lines_with(s, "press c to continue")), "the menu")
        assert "PAUSED: Ctrl-C by ana at the terminal" in menu[0]
        assert menu[1] == "8 wafers of lot LOT7: none started; the run is connecting to its tools"
        assert not _lines_with(menu, "0 wafers"), "\n".join(menu)
        assert "while the run connects to its tools" in "".join(menu), "\n".join(menu)
        assert not _lines_with(menu, "abort"), "\n".join(menu)
        pane.keys("a")
        pane.wait_for(lambda s: bool(_lines_with(s, "'a': not c or t.")), "asked again")
        link.release()
        deadline = time.monotonic() + WAIT_S
        while not records(db, "SELECT status FROM runs"):
            assert time.monotonic() < deadline, "the run was not recorded"
            time.sleep(0.2)
        assert records(db, "SELECT status FROM runs") == [("paused",)]
        pane.keys("c")
        history = _to_the_end(pane)
    finally:
        pane.close()
        link.close()
    assert "EXIT 0" in history
    assert records(db, "SELECT status, lot_id FROM runs") == [("completed", "LOT7")]
    assert records(db, "SELECT kind FROM events WHERE kind IN ('paused', 'resumed')") == [
        ("paused",),
        ("resumed",),
    ]


@needs_tmux
def test_a_command_typed_while_the_run_connects_is_one_the_connecting_menu_offers(
    served_line: Path, tmp_path: Path
):
    """Between questions a typed line is a menu command: `a` and Enter while the run
    connected to its tools aborted it (`ABORTING`, the run `aborted`), which the menu of a
    run connecting does not offer (no step to cut short). It is not taken: the run records
    why (`control-ignored`), printed above the view, and goes on connecting; `t` and Enter
    terminates it, as the menu's `t` does: no wafer starts."""
    held, link = held_station(served_line, tmp_path)
    db = tmp_path / "runs.db"
    pane = Pane(tmp_path / "tmux", [sys.executable, "-m", "packline", "run", "plasma-clean",
                "--station", str(held), "--lot", "4", "--confirmed-by", "ci-bot", "--operator",
                "ana", "--db", str(db)])  # fmt: skip
    try:
        pane.wait_for(lambda s: bool(_lines_with(s, "connecting to its tools")), "the live view")
        pane.keys("a", "Enter")
        said = pane.wait_for(lambda s: bool(_lines_with(s, "control-ignored")), "why not")
        assert "abort typed by ana at the terminal: not while the run connects" in " ".join(
            line.strip() for line in said
        ), "\n".join(said)
        (title,) = _lines_with(said, "plasma-clean  run ")
        assert len(title.split()) == 3, title  # the method, run, its id: not ABORTING
        pane.keys("t", "Enter")
        terminating = "TERMINATING: terminate by ana at the terminal"
        pane.wait_for(lambda s: bool(_lines_with(s, terminating)), "the terminate")
        link.release()
        history = _to_the_end(pane)
    finally:
        pane.close()
        link.close()
    assert "EXIT 1" in history
    assert records(db, "SELECT status FROM runs") == [("terminated",)]
    assert records(db, "SELECT DISTINCT status FROM wafers") == [("terminated",)]
    assert not records(db, "SELECT id FROM steps")  # no wafer started
    kinds = records(db, "SELECT kind FROM events WHERE kind IN ('control-ignored', 'aborting', "
                    "'terminating', 'run-started') ORDER BY id")  # fmt: skip
    assert kinds == [("control-ignored",), ("terminating",), ("run-started",)]
