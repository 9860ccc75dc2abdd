"""The simulated GEM equipment: a host's refusal of a push never costs a command its reply, and
the S9 errors it answers a message it does not know with (E5)."""

from __future__ import annotations

import pytest

from packline.drivers.equipment import ToolState
from packline.drivers.errors import ProtocolError, ToolAlarm
from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial
from packline.drivers.secs.messages import SecsMessage

from ...drivers.gem.conftest import bench  # noqa: F401

PROGRAM = BondProgram(WireMaterial.AU, 25, 150, 35, 60, 12)


async def test_a_host_that_aborts_a_pushed_alarm_still_gets_the_commands_reply(
    bench,  # noqa: F811
    caplog,
) -> None:
    bench.twin.receive("W01")
    bonder = await bench.driver()
    await bonder.load("W01")
    bench.model.tool.inject_fault("wire_break")
    with pytest.raises(ToolAlarm, match="WIRE_BREAK"):
        await bonder.form_stud_bumps(PROGRAM)
    hsms = bonder.gem.link
    answer = hsms.on_message
    assert answer is not None

    async def abort_alarm_reports(message: SecsMessage) -> SecsMessage | None:
        if (message.stream, message.function) == (5, 1):
            return SecsMessage(5, 0)  # the host's handler failed: it aborts the S5F1
        return await answer(message)

    hsms.on_message = abort_alarm_reports
    bench.model.tool.clear_fault("wire_break")
    # RESET clears the alarm; the equipment pushes the cleared alarm inside the command, the
    # host aborts that S5F1, and the command is answered all the same
    await bonder.reset()
    assert bonder.state is ToolState.IDLE
    assert "S2F41 RESET" in bench.equipment.received
    assert "S5F1 not delivered to the host" in caplog.text


async def test_a_stream_it_does_not_know_is_s9f3_and_a_function_it_does_not_know_s9f5(
    bench,  # noqa: F811
) -> None:
    """E5: a tester's S99F1 was answered S9F5 (unrecognized function); an unrecognized stream
    is S9F3, a function the equipment does not know in a stream it knows S9F5."""
    bonder = await bench.driver()
    hsms = bonder.gem.link
    with pytest.raises(ProtocolError, match="S99F1: S9F3 unrecognized stream from the peer"):
        await hsms.request(SecsMessage(99, 1, reply_expected=True))
    with pytest.raises(ProtocolError, match="S1F99: S9F5 unrecognized function from the peer"):
        await hsms.request(SecsMessage(1, 99, reply_expected=True))
