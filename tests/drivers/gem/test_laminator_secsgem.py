"""secsgem's GEM host drives the simulated GEM laminator by its dictionary's page alone: the
independent client of docs/protocols/gem-laminator.md."""

from __future__ import annotations

import asyncio

from secsgem.secs.variables import F8, U1

from packline.sim_instruments.twin import TwinStore

from .conftest import SMALL


async def test_secsgem_host_drives_the_simulated_gem_laminator(secsgem_drives) -> None:
    twin = TwinStore(SMALL)
    twin.receive("W1")
    model, _, peer = await secsgem_drives("laminator", twin)  # a job of about 7 min
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1019, 1060])).get()
    assert sv == ["VL-2-0001", 0, False, True]  # ready, no wafer, the lid closed
    await asyncio.to_thread(host.subscribe_collection_event, 3006, [1010, 1018, 1011], 16)
    assert await peer.command("START", []) == 2  # no wafer, no job: cannot perform now
    assert await peer.command("LOAD", [["WAFER", "W1"]]) == 0
    assert (await asyncio.to_thread(host.request_svs, [1020])).get() == ["W1"]
    assert await peer.command("LOAD", [["WAFER", "W2"]]) == 2  # the platen holds W1
    job = [
        [2001, F8(45.0)],
        [2002, U1(1)],  # film
        [2003, F8(100.0)],
        [2004, F8(20.0)],
        [2005, F8(100.0)],
        [2006, F8(0.5)],
        [2007, F8(60.0)],
        [2008, F8(35.0)],
        [2009, F8(0.0)],
    ]
    assert await asyncio.to_thread(host.set_ecs, job) == 0
    assert await asyncio.to_thread(host.set_ecs, [[2005, F8(200.0)]]) == 3  # 60-130 degC
    assert model.constant("temperature_c") == 100.0
    assert await peer.command("START", []) == 4
    assert await peer.arrived()
    assert peer.events[0]["ceid"].get() == 3006
    ended = {value["dvid"]: value["value"] for value in peer.events[0]["values"]}
    assert ended[1010] == 0  # ready
    assert ended[1018] == 1  # completed
    assert ended[1011] <= 35.0
    assert [event.operation for event in twin.get("W1").history] == ["laminate"]
