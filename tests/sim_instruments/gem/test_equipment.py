"""The simulated GEM equipment's pushes: a host's refusal of one never costs a command its reply."""

from __future__ import annotations

import pytest

from packline.drivers.equipment import ToolState
from packline.drivers.errors import ToolAlarm
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
