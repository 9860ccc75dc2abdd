"""The turns xdist's workers take at a station's tools (`ToolTurns`), in one process: each
`ToolTurns` stands for one worker's test, its locks on files of their own as another
process's would be (a `flock` is the open file's, not the process's)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from packline.station import Station, parse_station
from packline.testing.tool_turns import StationInTurns, ToolTurns

#: A station of two tools, never contacted (taking a turn contacts nothing).
LINE = {
    "name": "line",
    "tools": {
        "oven": {"driver": "oven", "address": "modbus+rtu:/dev/ttyUSB9"},
        "pc": {"driver": "plasma_cleaner", "address": "modbus+tcp://127.0.0.1:9"},
    },
}
#: A wait long enough for another thread to hand a tool on, however loaded the machine.
LONG_WAIT_S = 60.0
#: A wait meant to run out.
SHORT_WAIT_S = 0.3
#: The `turns_of` fixture: the `ToolTurns` of a test (`test`) of a worker (`worker`), waiting
#: `wait_s`.
TurnsOf = Callable[..., ToolTurns]


@pytest.fixture
def station() -> Station:
    return parse_station(LINE)


@pytest.fixture
def turns_of(station: Station, tmp_path: Path) -> Iterator[TurnsOf]:
    """`ToolTurns` for tests of workers of one session, each released at the end."""
    made: list[ToolTurns] = []

    def turns_of(worker: str, test: str, wait_s: float = LONG_WAIT_S) -> ToolTurns:
        turns = ToolTurns(station, tmp_path, worker, test, wait_s)
        made.append(turns)
        return turns

    yield turns_of
    for turns in made:
        turns.release()


def released_after(turns: ToolTurns, seconds: float) -> threading.Thread:
    """A thread that ends the test of `turns` (releasing its tools) after `seconds`."""
    thread = threading.Thread(target=lambda: (time.sleep(seconds), turns.release()))
    thread.start()
    return thread


def test_a_test_waits_for_a_tool_another_worker_s_test_drives_and_takes_it_when_that_ends(
    turns_of: TurnsOf,
):
    first = turns_of("gw0", "test_a[oven]")
    first.take(["oven"])
    releaser = released_after(first, 0.5)
    start = time.monotonic()
    turns_of("gw1", "test_b[oven]").take(["oven"])
    waited = time.monotonic() - start
    releaser.join()
    assert waited >= 0.4, waited  # it waited for gw0's test to end, a poll's worth at most early


def test_another_tool_is_taken_at_once_meanwhile(turns_of: TurnsOf):
    turns_of("gw0", "test_a[oven]").take(["oven"])
    start = time.monotonic()
    turns_of("gw1", "test_a[pc]", wait_s=SHORT_WAIT_S).take(["pc"])
    assert time.monotonic() - start < SHORT_WAIT_S


def test_past_its_wait_a_test_fails_naming_the_tool_the_worker_driving_it_and_its_test(
    turns_of: TurnsOf,
):
    turns_of("gw0", "station_checks.py::test_dry_job[oven]").take(["oven"])
    with pytest.raises(pytest.fail.Exception) as failed:
        turns_of("gw1", "station_checks.py::test_safe_state[oven]", SHORT_WAIT_S).take(["oven"])
    message = str(failed.value)
    assert message.startswith(
        "waited 0.3 s (--station-tool-wait) for its turn: tool oven at modbus+rtu:/dev/ttyUSB9 "
        "is being driven by worker gw0 in test station_checks.py::test_dry_job[oven] (process "
    ), message
    assert message.endswith(
        "; it drives the tool until that test ends (`--station-tool-wait` says how long to wait)"
    ), message


def test_tests_naming_two_tools_in_opposite_orders_both_get_them_in_turn(turns_of: TurnsOf):
    """A test takes its tools all at once or none, and waits holding none of them (only its
    place next in their queues): two tests that each held one and waited for the other's
    would wait forever."""
    holder = turns_of("gw0", "test_a")
    holder.take(["pc"])
    took: list[str] = []

    def take_and_end(turns: ToolTurns, names: list[str]) -> None:
        turns.take(names)
        took.append(",".join(names))
        time.sleep(0.2)
        turns.release()

    waiters = [
        threading.Thread(target=take_and_end, args=(turns_of("gw1", "test_b"), ["oven", "pc"])),
        threading.Thread(target=take_and_end, args=(turns_of("gw2", "test_c"), ["pc", "oven"])),
    ]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.3)  # both wait: pc is gw0's
    with pytest.raises(pytest.fail.Exception, match="tool oven is wanted next by worker gw"):
        turns_of("gw3", "test_d", wait_s=SHORT_WAIT_S).take(["oven"])  # free, but queued for
    holder.release()
    for waiter in waiters:
        waiter.join(LONG_WAIT_S)
    assert sorted(took) == ["oven,pc", "pc,oven"]


def test_a_test_holding_a_tool_takes_another_only_if_free_failing_at_once_naming_the_marker(
    turns_of: TurnsOf,
):
    turns_of("gw0", "test_a").take(["pc"])
    holding = turns_of("gw1", "test_b")  # a long wait: which it must not wait
    holding.take_to_open("oven")
    start = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failed:
        holding.take_to_open("pc")
    assert time.monotonic() - start < SHORT_WAIT_S
    message = str(failed.value)
    assert "tool pc at modbus+tcp://127.0.0.1:9 is being driven by worker gw0 in test test_a" in (
        message
    )
    assert message.endswith(
        "; this test holds oven already, and a test holding a tool never waits for another "
        "(two tests could each wait for one the other holds): name every tool it drives, "
        "@pytest.mark.station_tools('oven', 'pc'), to take them together before it starts"
    ), message


def test_a_worker_that_hands_a_tool_on_queues_behind_the_test_waiting_for_it(turns_of: TurnsOf):
    """gw0's next test wants the oven it just released: gw1, waiting for it, drives it first."""
    first = turns_of("gw0", "test_a[oven]")
    first.take(["oven"])
    second = turns_of("gw1", "test_b[oven]")
    waiter = threading.Thread(target=second.take, args=(["oven"],))
    waiter.start()
    time.sleep(0.3)  # gw1 waits in the oven's queue
    first.release()
    with pytest.raises(pytest.fail.Exception, match="driven by worker gw1 in test test_b"):
        turns_of("gw0", "test_c[oven]", wait_s=SHORT_WAIT_S + 0.5).take(["oven"])
    waiter.join()


def test_a_station_in_turns_takes_a_tool_s_turn_as_the_test_opens_it(
    station: Station, turns_of: TurnsOf
):
    turns_of("gw0", "test_a").take(["oven"])
    in_turns = StationInTurns.of(station, turns_of("gw1", "test_b", wait_s=SHORT_WAIT_S))
    assert isinstance(in_turns, Station)
    assert in_turns.model_dump() == station.model_dump()
    in_turns.open_tool("pc")  # built: its turn taken, the tool not contacted
    with pytest.raises(pytest.fail.Exception, match="driven by worker gw0 in test test_a"):
        in_turns.open_tool("oven")
