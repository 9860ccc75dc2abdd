"""packline's GEM host against secsgem's GEM equipment, and secsgem's GEM host against packline's
simulated GEM tools (served by the conftest's `secsgem_drives`): each side of E30 proven by an
independent implementation."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable

import pytest
import secsgem.gem
import secsgem.secs

from packline.drivers.errors import CommandRefused, ProtocolError
from packline.drivers.gem.host import GemHost
from packline.drivers.secs.items import F8, A
from packline.sim_instruments.twin import TwinStore, WaferSpec

variables = secsgem.secs.variables


class SecsgemTool(secsgem.gem.GemEquipmentHandler):
    """A GEM equipment built on secsgem: two SVs, a constant, an event, an alarm, a command."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.status_variables.update(
            {
                10: secsgem.gem.StatusVariable(10, "temperature", "degC", variables.F8, False),
                11: secsgem.gem.StatusVariable(11, "lot", "", variables.String, False),
            }
        )
        self.status_variables[10].value = 150.5
        self.status_variables[11].value = "LOT-0"
        self.equipment_constants.update(
            {20: secsgem.gem.EquipmentConstant(20, "force", 15, 60, 30, "gf", variables.F8, False)}
        )
        self.collection_events.update(
            {
                30: secsgem.gem.CollectionEvent(30, "job done", []),
                31: secsgem.gem.CollectionEvent(31, "alarm on", []),
                32: secsgem.gem.CollectionEvent(32, "alarm off", []),
            }
        )
        self.alarms.update({40: secsgem.gem.Alarm(40, "wire break", "the wire broke", 4, 31, 32)})
        self.remote_commands.update(
            {"JOB": secsgem.gem.RemoteCommand("JOB", "run a job", ["LOT"], 30)}
        )
        self.jobs: list[str] = []

    def _on_rcmd_JOB(self, LOT: str) -> None:
        self.jobs.append(LOT)
        self.status_variables[11].value = LOT


def unanswered(
    handler: secsgem.gem.GemHandler, call: Callable[..., object], *args: object
) -> threading.Thread:
    """Run a secsgem call that waits for a reply it cannot get (it sent no W-bit) in a thread
    of its own, with secsgem's T3 cut to 1 s so that the thread ends soon; join it later."""
    handler.settings.timeouts.t3 = 1.0

    def run() -> None:
        with contextlib.suppress(ValueError):  # secsgem's "Decoding failed, missing message"
            call(*args)

    thread = threading.Thread(target=run, name=f"secsgem {call.__name__}", daemon=True)
    thread.start()
    return thread


async def test_packline_host_drives_secsgem_equipment(secsgem_equipment) -> None:
    tool, link = await secsgem_equipment(SecsgemTool)
    host = GemHost(link)
    events: list = []
    alarms: list = []
    arrived = asyncio.Event()
    host.add_event_listener(lambda event: (events.append(event), arrived.set()))
    host.add_alarm_listener(lambda alarm: (alarms.append(alarm), arrived.set()))
    async with asyncio.timeout(10):
        assert await host.establish_communication() == ("secsgem", "0.3.0")
        await host.request_online()
        assert [v.scalar for v in await host.request_status_variables([10, 11])] == [
            150.5,
            "LOT-0",
        ]
        names = await host.request_status_variable_namelist([10])
        assert names == {10: ("temperature", "degC")}
        assert [v.scalar for v in await host.request_equipment_constants([20])] == [30.0]
        await host.set_equipment_constants({20: F8(45.0)})
        assert tool.equipment_constants[20].value == 45.0
        with pytest.raises(CommandRefused, match="EAC 3: at least one constant out of range"):
            await host.set_equipment_constants({20: F8(80.0)})
        constants = await host.request_equipment_constant_namelist([20])
        assert (constants[20].name, constants[20].unit) == ("force", "gf")
        await host.define_reports({})
        await host.define_reports({7: [10, 11]})
        await host.link_event_reports({30: [7]})
        await host.enable_events([30])
        assert await host.send_remote_command("JOB", {"LOT": A("LOT-7")}) == 4
        await arrived.wait()
        arrived.clear()
        assert events[0].ceid == 30
        assert events[0].values[11] == A("LOT-7")
        assert tool.jobs == ["LOT-7"]
        with pytest.raises(CommandRefused, match="HCACK 1: invalid command"):
            await host.send_remote_command("FLY")
        await host.enable_alarms([40])
        # secsgem 0.3.0 sends S5F1 without the W-bit yet waits for an S5F2, which E5 forbids
        # sending then: its set_alarm waits out its T3 in a thread of its own.
        setting = unanswered(tool, tool.set_alarm, 40)
        await arrived.wait()
        assert (alarms[0].alid, alarms[0].set, alarms[0].text) == (40, True, "the wire broke")
        listed = await host.request_alarm_list([40])
        # (secsgem marks the alarm set only once its S5F1 got the S5F2 it cannot get)
        assert [(a.alid, a.text) for a in listed] == [(40, "the wire broke")]
        # secsgem's equipment has no process program management: an S9 error or an abort
        with pytest.raises(ProtocolError, match="S7F19"):
            await host.request_process_program_list()
        await host.request_offline()
        await asyncio.to_thread(setting.join, 10)


async def test_secsgem_host_drives_the_simulated_gem_wire_bonder(secsgem_drives) -> None:
    twin = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4))  # a run of 80 s
    twin.receive("W01")
    model, equipment, peer = await secsgem_drives("wire_bonder", twin)
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1040])).get()
    assert sv == ["WB-1-0001", 0, True]
    await asyncio.to_thread(host.set_ec, 2004, 40.0)
    assert model.program.bond_force_gf == 40.0
    assert (await asyncio.to_thread(host.request_ec, 2004)).get() == [40.0]
    await asyncio.to_thread(host.subscribe_collection_event, 3001, [1012, 1018], 9)
    # secsgem 0.3.0 sends S5F3 without the W-bit too (and waits for the S5F4 it then cannot
    # get): the equipment enables the alarm, as E5 has it, without replying.
    enabling = unanswered(host, host.enable_alarm, 4001)
    async with asyncio.timeout(5):
        while 4001 not in equipment.enabled_alarms:  # noqa: ASYNC110 (set by another task)
            await asyncio.sleep(0.01)
    assert await peer.command("LOAD", [["WAFERID", "W01"]]) == 0
    assert await peer.command("START", [["STACK", 1]]) == 4
    assert await peer.arrived()
    done = {value["dvid"]: value["value"] for value in peer.events[0]["values"]}
    assert done == {1012: 784, 1018: 1}  # every site, last result completed
    assert peer.events[0]["ceid"].get() == 3001
    # a second wafer with a wire break: the alarm arrives pushed, then the run's end
    assert await peer.command("UNLOAD", [["WAFERID", "W01"]]) == 0
    twin.receive("W02")
    assert await peer.command("LOAD", [["WAFERID", "W02"]]) == 0
    model.tool.inject_fault("wire_break")
    assert await peer.command("START", [["STACK", 1]]) == 4
    assert await peer.arrived()  # the alarm
    assert await peer.arrived()  # the run's end
    assert peer.alarms[0]["alid"].get() == 4001
    assert peer.alarms[0]["code"].get() & 0x80
    assert {value["dvid"]: value["value"] for value in peer.events[1]["values"]}[1018] == 3
    assert await peer.command("FLY", []) == 1
    assert await asyncio.to_thread(host.get_process_program_list) == []
    await asyncio.to_thread(enabling.join, 10)


async def test_secsgem_host_drives_the_simulated_gem_dicing_saw(secsgem_drives) -> None:
    model, _, peer = await secsgem_drives("dicing_saw", TwinStore())  # a cut of ~250 s
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1060])).get()
    assert sv == ["DS-2-0001", 0, True]
    await asyncio.to_thread(host.set_ec, 2001, 30.0)
    assert model.constants["feed_mm_s"] == 30.0
    for ceid, rptid in ((3001, 21), (3003, 23)):
        await asyncio.to_thread(host.subscribe_collection_event, ceid, [1010, 1041], rptid)
    assert await peer.command("MOUNT", [["WORKPIECE", "W1"]]) == 0
    assert await peer.command("SPINDLE", [["SPEED_KRPM", 30.0]]) == 4
    assert await peer.arrived()
    assert peer.events[0]["ceid"].get() == 3001
    assert await peer.command("CUT", []) == 4
    assert await peer.arrived()
    assert peer.events[1]["ceid"].get() == 3003
    done = {value["dvid"]: value["value"] for value in peer.events[1]["values"]}
    assert done == {1010: 0, 1041: 1}  # idle, the cut completed
    assert model.tool.twin.get("W1").singulation.units > 200
    assert await peer.command("CUT", [["FAST", 1]]) == 3  # no such parameter


async def test_secsgem_host_drives_the_simulated_gem_grinder(secsgem_drives) -> None:
    model, equipment, peer = await secsgem_drives("grinder", TwinStore())  # a cycle of minutes
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1060])).get()
    assert sv == ["GR-2-0001", 0, False]  # idle, no wafer held
    await asyncio.to_thread(host.set_ec, 2007, 300.0)
    assert model.tool.target_um == 300.0
    assert (await asyncio.to_thread(host.request_ec, 2007)).get() == [300.0]
    await asyncio.to_thread(host.subscribe_collection_event, 3001, [1010, 1022, 1011], 31)
    # secsgem 0.3.0 sends S5F3 without the W-bit (see the bonder's test above)
    enabling = unanswered(host, host.enable_alarm, 4001)
    async with asyncio.timeout(5):
        while 4001 not in equipment.enabled_alarms:  # noqa: ASYNC110 (set by another task)
            await asyncio.sleep(0.01)
    assert await peer.command("LOAD", [["WAFER", "W1"], ["SIDE", "BACK"]]) == 0
    assert await peer.command("VACUUM_ON", []) == 0
    assert await peer.command("START", []) == 4
    assert await peer.arrived()
    assert peer.events[0]["ceid"].get() == 3001
    done = {value["dvid"]: value["value"] for value in peer.events[0]["values"]}
    assert (done[1010], done[1022]) == (0, 1)  # idle, the cycle completed
    assert 300.0 <= done[1011] < 300.1
    assert 300.0 <= model.tool.twin.get("W1").geometry.thickness_um < 300.1
    # a second wafer on a glazed wheel: the alarm arrives pushed, then the cycle's end
    assert await peer.command("VACUUM_OFF", []) == 0
    assert await peer.command("UNLOAD", []) == 0
    assert await peer.command("LOAD", [["WAFER", "W2"], ["SIDE", "BACK"]]) == 0
    assert await peer.command("VACUUM_ON", []) == 0
    model.tool.inject_fault("wheel_glazed")
    assert await peer.command("START", []) == 4
    assert await peer.arrived()  # the alarm
    assert await peer.arrived()  # the cycle's end
    assert peer.alarms[0]["alid"].get() == 4001
    assert peer.alarms[0]["code"].get() & 0x80
    ended = {value["dvid"]: value["value"] for value in peer.events[1]["values"]}
    assert (ended[1010], ended[1022]) == (4, 3)  # fault, the cycle faulted
    assert await peer.command("LOAD", [["WAFER", "W3"]]) == 3  # SIDE missing: refused
    await asyncio.to_thread(enabling.join, 10)


async def test_secsgem_host_loads_a_wafer_the_gem_bonder_processed_last_only_as_a_rework(
    secsgem_drives,
) -> None:
    """The GEM page's `load`: a plain LOAD of a wafer the bonder processed last is HCACK 3 with
    CPACK 2 (illegal value) on WAFERID, and nothing loads; with REWORK true it loads."""
    twin = TwinStore()
    twin.receive("W03").record("wire_bonder", "stud bumps", 12.0)
    model, _, peer = await secsgem_drives("wire_bonder", twin)
    reply = await asyncio.to_thread(peer.host.send_remote_command, "LOAD", [["WAFERID", "W03"]])
    assert reply.get() == {"HCACK": 3, "PARAMS": [{"CPNAME": "WAFERID", "CPACK": 2}]}
    assert model.tool.wafer_id is None
    rework = [["WAFERID", "W03"], ["REWORK", secsgem.secs.variables.Boolean(True)]]
    assert await peer.command("LOAD", rework) == 0
    assert model.tool.wafer_id == "W03"
    assert "RELOAD W03" in model.tool.received


async def test_secsgem_host_reads_no_bump_heights_of_no_wafer(secsgem_drives) -> None:
    """secsgem's S1F3 of the bonder's wafer map and bump heights with no wafer on the chuck:
    an empty list for each (E30's answer for a status variable the tool cannot give), where it
    answered 0, and the wafer id of the same request answered (empty); once a wafer is loaded
    they have values (784 sites, none bumped yet)."""
    twin = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4))
    twin.receive("W01")
    _, _, peer = await secsgem_drives("wire_bonder", twin)
    svids = [1011, 1020, 1030, 1031, 1035]
    empty = (await asyncio.to_thread(peer.host.request_svs, svids)).get()
    assert empty == ["", [], [], [], []]
    assert await peer.command("LOAD", [["WAFERID", "W01"]]) == 0
    loaded = (await asyncio.to_thread(peer.host.request_svs, svids)).get()
    assert loaded[:4] == ["W01", 784, 0, 0.0]
    assert len(loaded[4]) == 784
