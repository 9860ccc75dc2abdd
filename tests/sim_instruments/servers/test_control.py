"""The control socket of a served line: a fault injected or cleared from another process."""

from __future__ import annotations

import json
import time

import pytest

from packline.sim_instruments.line import SimulatedLine
from packline.sim_instruments.servers.control import ControlError, LineControl, request_control


async def test_a_fault_is_injected_and_cleared_through_the_socket(tmp_path):
    said: list[str] = []
    path = tmp_path / "control"
    async with SimulatedLine(kinds=["plasma_cleaner"]) as line:
        control = LineControl(line.tools, path, said.append)
        await control.start()
        try:
            assert path.stat().st_mode & 0o777 == 0o600
            request = {"command": "inject", "tool": "plasma_cleaner", "fault": "chamber_leak"}
            message = (await request_control(path, {**request, "by": "ana"}, 10))["message"]
            assert line.tools["plasma_cleaner"].injected == {"chamber_leak"}
            kept = await request_control(path, {"command": "injected"}, 10)
            twice = control.handle(json.dumps({**request, "by": "bo"}).encode())
            assert await request_control(path, {"command": "injected"}, 10) == kept
            asked = {"command": "faults", "tool": "plasma_cleaner"}
            suffered = await request_control(path, asked, 10)
            cleared = await request_control(path, {**request, "command": "clear"}, 10)
            assert line.tools["plasma_cleaner"].injected == set()
            repaired = await request_control(path, asked, 10)
            again = control.handle(json.dumps({**request, "command": "clear"}).encode())
        finally:
            await control.stop()
    assert message == (
        "plasma_cleaner: fault chamber_leak injected (chamber leaks: base pressure is never "
        "reached)"
    )
    assert said == [message, "plasma_cleaner: fault chamber_leak cleared"]  # a look is not told
    # a second clear is refused (it had been taken, saying nothing was cleared), naming what is
    # injected and when the fault was cleared, and changes nothing
    cleared_at = time.strftime("%H:%M:%S", time.localtime(cleared["wall"]))
    assert again == {
        "ok": False,
        "error": "plasma_cleaner has no fault chamber_leak injected (injected on it: nothing; "
        f"chamber_leak cleared at {cleared_at}); nothing cleared",
    }
    # a second injection is refused, as a second clear is: the line keeps its first one's
    # time and who (a run connecting would read a later one as a clear and an injection)
    injected_at = kept["injected"]["plasma_cleaner"]["chamber_leak"]["wall"]
    at = time.strftime("%H:%M:%S", time.localtime(injected_at))
    assert twice == {
        "ok": False,
        "error": f"plasma_cleaner has fault chamber_leak injected already (at {at} by ana); "
        "nothing changed",
    }
    assert suffered["faults"] == {"chamber_leak": "chamber leaks: base pressure is never reached"}
    assert (suffered["message"], repaired["faults"]) == ("plasma_cleaner: faults chamber_leak", {})
    assert not path.exists()  # removed when the line stops


@pytest.mark.parametrize(
    ("request_line", "error"),
    [
        (
            {"command": "inject", "tool": "oven", "fault": "x"},
            "the served line has no tool 'oven'; its tools: plasma_cleaner",
        ),
        (
            {"command": "inject", "tool": "plasma_cleaner", "fault": "rf"},
            "the simulated plasma_cleaner has no fault 'rf'; its faults: rf_mismatch,",
        ),
        (
            {"command": "repair", "tool": "plasma_cleaner", "fault": "rf_mismatch"},
            "no command 'repair'; commands: inject, clear, faults",
        ),
        ({"tool": "plasma_cleaner"}, "not a control request"),
        ({"command": "repair", "tool": "plasma_cleaner"}, "no command 'repair'; commands:"),
        ({"command": "inject", "tool": "plasma_cleaner"}, "the inject request names no fault"),
        ({"command": "clear", "tool": "plasma_cleaner"}, "the clear request names no fault"),
        (
            {"command": "clear", "tool": "plasma_cleaner", "fault": "rf_mismatch"},
            "plasma_cleaner has no fault rf_mismatch injected (injected on it: nothing); "
            "nothing cleared",
        ),
    ],
)
async def test_a_wrong_request_is_refused_naming_what_there_is(tmp_path, request_line, error):
    async with SimulatedLine(kinds=["plasma_cleaner"]) as line:
        control = LineControl(line.tools, tmp_path / "control", [].append)
        reply = control.handle(json.dumps(request_line).encode())
        assert line.tools["plasma_cleaner"].injected == set()  # nothing changed
    assert reply["ok"] is False
    assert error in reply["error"]


async def test_a_line_that_is_gone_is_said_unreachable(tmp_path):
    request = {"command": "inject", "tool": "plasma_cleaner", "fault": "rf_mismatch"}
    with pytest.raises(ControlError, match=r"cannot reach it.*is `packline sim serve` still"):
        await request_control(tmp_path / "control", request, 10)


async def test_the_line_says_how_fast_it_is_served(tmp_path):
    """A run on the line's station file asks it: a file that names the line and another
    `time_scale` would have the run's process times read that many times wrong."""
    async with SimulatedLine(kinds=["plasma_cleaner"]) as line:
        control = LineControl(line.tools, tmp_path / "control", [].append, 60.0)
        await control.start()
        try:
            reply = await request_control(tmp_path / "control", {"command": "line"}, 10)
        finally:
            await control.stop()
    assert reply == {"ok": True, "message": "served at time x60", "time_scale": 60.0}


async def test_the_line_says_which_faults_are_injected_by_whom_and_when(tmp_path):
    """A run that connects after a fault was injected (or cleared) asks the line, which kept
    who did it and when (decision 0117); a fault injected on the tool itself, not through the
    socket, it knows no more of than that it is there."""
    async with SimulatedLine(kinds=["plasma_cleaner", "oven"]) as line:
        control = LineControl(line.tools, tmp_path / "control", [].append)
        assert control.handle(b'{"command": "injected"}') == {
            "ok": True, "message": "no fault injected", "injected": {}, "cleared": {}
        }  # fmt: skip
        before = time.time()
        injected = control.handle(
            b'{"command": "inject", "tool": "plasma_cleaner", "fault": "rf_mismatch", "by": "ana"}'
        )
        oven = {"tool": "oven", "fault": "n2_supply", "by": "bo"}
        control.handle(json.dumps({**oven, "command": "inject"}).encode())
        cleared = control.handle(json.dumps({**oven, "command": "clear"}).encode())
        line.tools["oven"].inject_fault("zone_sensor_break")  # on the tool itself
        reply = control.handle(b'{"command": "injected"}')
        sensor_break = line.tools["oven"].faults["zone_sensor_break"]
    assert before <= injected["wall"] <= cleared["wall"] <= time.time()
    assert reply == {
        "ok": True,
        "message": "faults injected: plasma_cleaner rf_mismatch, oven zone_sensor_break",
        "injected": {
            "plasma_cleaner": {
                "rf_mismatch": {
                    "what": "matching network detuned: reflected power far above its limit",
                    "wall": injected["wall"],
                    "by": "ana",
                }
            },
            "oven": {
                "zone_sensor_break": {
                    "what": sensor_break,
                    "wall": None,
                    "by": None,
                }
            },
        },
        "cleared": {"oven": {"n2_supply": {"wall": cleared["wall"], "by": "bo"}}},
    }


async def test_a_cleared_fault_keeps_no_injection_to_tell(tmp_path):
    """The line kept who injected a fault and when after its clear: the same fault on the tool
    later, not through the socket (as a test injects it), read as that old injection, which a
    run connecting then records at the old time and by the old name. Cleared, it is
    forgotten: the line says it does not know."""
    async with SimulatedLine(kinds=["plasma_cleaner"]) as line:
        control = LineControl(line.tools, tmp_path / "control", [].append)
        request = {"tool": "plasma_cleaner", "fault": "rf_mismatch", "by": "ana"}
        control.handle(json.dumps({**request, "command": "inject"}).encode())
        control.handle(json.dumps({**request, "command": "clear", "by": "bo"}).encode())
        line.tools["plasma_cleaner"].inject_fault("rf_mismatch")  # on the tool itself
        reply = control.handle(b'{"command": "injected"}')
    injected = reply["injected"]["plasma_cleaner"]["rf_mismatch"]
    assert (injected["wall"], injected["by"]) == (None, None)
    assert reply["cleared"]["plasma_cleaner"]["rf_mismatch"]["by"] == "bo"


async def test_a_fault_the_tool_clears_itself_is_kept_with_when_and_how(tmp_path):
    """A dicing saw's new blade cures its crack on the tool (`cure_fault`), no `sim fault
    --clear`: the line kept nothing of it, and a held run's resume recorded the crack cleared
    at its own connect, `the served line does not say when or by whom`. The line keeps the
    clear, when and how, by nobody, forgets the injection, says so on its terminal, and
    names it in a clear it refuses (decision 0119)."""
    said: list[str] = []
    async with SimulatedLine(kinds=["dicing_saw"]) as line:
        control = LineControl(line.tools, tmp_path / "control", said.append)
        request = {"tool": "dicing_saw", "fault": "blade_crack", "by": "ana"}
        control.handle(json.dumps({**request, "command": "inject"}).encode())
        before = time.time()
        assert await line.tools["dicing_saw"].handle("BLADE 20") == "OK"  # the host's change
        after = time.time()
        reply = control.handle(b'{"command": "injected"}')
        refused = control.handle(json.dumps({**request, "command": "clear"}).encode())
        again = control.handle(json.dumps({**request, "command": "inject"}).encode())
    cleared = dict(reply["cleared"]["dicing_saw"]["blade_crack"])
    assert before <= cleared.pop("wall") <= after
    assert cleared == {"by": None, "on_tool": "a new blade installed"}
    assert reply["injected"] == {}
    assert said[1] == "dicing_saw: fault blade_crack cleared on the tool (a new blade installed)"
    at = time.strftime(
        "%H:%M:%S", time.localtime(reply["cleared"]["dicing_saw"]["blade_crack"]["wall"])
    )
    assert refused == {
        "ok": False,
        "error": "dicing_saw has no fault blade_crack injected (injected on it: nothing; "
        f"blade_crack cleared on the tool at {at} (a new blade installed)); nothing cleared",
    }
    assert again["ok"] is True  # cured, it may be injected again
