"""Trace data collection (S2F23, S6F1) proven by secsgem 0.3.0's codec: its handlers implement
no trace, but its message classes for S2F23/S2F24 and S6F1/S6F2 are independent of packline's.
secsgem's host initializes a trace on the simulated GEM bonder and decodes the S6F1s it sends;
packline's host initializes one on a secsgem equipment (which decodes it) and reads the S6F1
secsgem encodes."""

from __future__ import annotations

import asyncio
import threading

import secsgem.gem
import secsgem.secs

from packline.drivers.gem.host import GemHost
from packline.drivers.secs.items import U1, A
from packline.sim_instruments.twin import TwinStore

functions = secsgem.secs.functions
variables = secsgem.secs.variables


async def test_secsgem_host_traces_the_simulated_gem_wire_bonder(secsgem_drives) -> None:
    _, equipment, peer = await secsgem_drives("wire_bonder", TwinStore())
    host = peer.host
    reports: list = []
    arrived = threading.Semaphore(0)

    def trace_data(handler, message):
        reports.append(host.settings.streams_functions.decode(message))
        arrived.release()
        return functions.SecsS06F02(0)

    host.register_stream_function(6, 1, trace_data)

    def initialize(svids: list[int], period: str) -> int:
        request = functions.SecsS02F23(
            {
                "TRID": 7,
                "DSPER": period,
                "TOTSMP": variables.U4(4),
                "REPGSZ": variables.U4(2),
                "SVID": svids,
            }
        )
        reply = host.settings.streams_functions.decode(host.send_and_waitfor_response(request))
        return reply.get()

    assert await asyncio.to_thread(initialize, [1010, 9999], "00001000") == 4  # unknown SVID
    assert await asyncio.to_thread(initialize, [1010, 1001], "00000001") == 3  # below 0.1 s
    # four samples 10 s apart on the bonder's clock (1000 x the wall's), two to an S6F1
    assert await asyncio.to_thread(initialize, [1010, 1001], "00001000") == 0
    for _ in range(2):
        assert await asyncio.to_thread(arrived.acquire, True, 10)
    assert [(r.TRID.get(), r.SMPLN.get()) for r in reports] == [(7, 2), (7, 4)]
    assert [r.SV.get() for r in reports] == [[0, "WB-1-0001"] * 2] * 2
    assert [len(r.STIME.get()) for r in reports] == [16, 16]
    assert equipment.traces.running == {}


class TracingTool(secsgem.gem.GemEquipmentHandler):
    """A secsgem equipment that takes an S2F23 (decoded by secsgem) and acknowledges it."""

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.traces: list = []
        self.register_stream_function(2, 23, self._trace_initialize)

    def _trace_initialize(self, handler, message):
        self.traces.append(self.settings.streams_functions.decode(message))
        return functions.SecsS02F24(0)


async def test_packline_host_traces_a_secsgem_equipment(secsgem_equipment) -> None:
    tool, link = await secsgem_equipment(TracingTool)
    host = GemHost(link)
    reports: list = []
    arrived = asyncio.Event()
    host.add_trace_listener(lambda report: (reports.append(report), arrived.set()))
    async with asyncio.timeout(10):
        await host.establish_communication()
        await host.initialize_trace(3, [10, 11], period_s=2.5, total_samples=6, group_size=2)
        (request,) = tool.traces
        assert request.get() == {
            "TRID": 3,
            "DSPER": "00000250",
            "TOTSMP": 6,
            "REPGSZ": 2,
            "SVID": [10, 11],
        }
        data = functions.SecsS06F01(
            {"TRID": 3, "SMPLN": 2, "STIME": "2026113014000000", "SV": [1, "A", 2, "B"]}
        )
        await asyncio.to_thread(tool.send_stream_function, data)
        await arrived.wait()
    (report,) = reports
    assert (report.trid, report.sample_number, report.time) == (3, 2, "2026113014000000")
    assert report.samples == ((U1(1), A("A")), (U1(2), A("B")))
