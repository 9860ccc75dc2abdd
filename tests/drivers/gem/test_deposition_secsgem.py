"""secsgem's GEM host drives the simulated GEM deposition chamber by its dictionary's page
alone: the independent client of docs/protocols/gem-deposition.md."""

from __future__ import annotations

import asyncio

from secsgem.secs.variables import F8, U1

from packline.sim_instruments.twin import TwinStore

from .conftest import SMALL


async def test_secsgem_host_drives_the_simulated_gem_deposition_chamber(secsgem_drives) -> None:
    twin = TwinStore(SMALL)
    twin.receive("W1")
    model, _, peer = await secsgem_drives("deposition", twin)  # a cycle of about 9 min
    host = peer.host
    sv = (await asyncio.to_thread(host.request_svs, [1001, 1010, 1030, 1060, 1026])).get()
    assert sv == ["TF-3-0001", 0, 4, False, [1] * 5 + [2] * 4 + [3] * 2]  # vented, door open
    await asyncio.to_thread(host.subscribe_collection_event, 3001, [1010, 1011], 11)
    await asyncio.to_thread(host.subscribe_collection_event, 3002, [1010, 1012], 12)
    await asyncio.to_thread(host.subscribe_collection_event, 3005, [1010, 1024, 1023, 1025], 15)
    assert await peer.command("LOAD", [["SLOT", 0], ["WAFER", "W1"]]) == 0
    assert await peer.command("DOOR_CLOSE", []) == 0
    assert await peer.command("PUMPBASE", []) == 2  # vented: cannot perform now
    assert await peer.command("PUMP", []) == 4
    assert await peer.arrived()
    assert peer.events[0]["ceid"].get() == 3001
    pumped = {value["dvid"]: value["value"] for value in peer.events[0]["values"]}
    assert pumped[1010] == 2  # evacuated
    assert pumped[1011] <= 50
    recipe = [
        [2001, U1([1])],  # sputter
        [2002, U1([3])],  # Cu
        [2003, F8([1000.0])],
        [2004, F8([0.0])],
        [2005, F8([3.0])],
        [2006, U1([1])],  # Ar
        [2007, F8([40.0])],
        [2008, F8([60.0])],
        [2009, F8([0.0])],  # timed
        [2010, F8(5.0)],
    ]
    assert await asyncio.to_thread(host.set_ecs, recipe) == 0
    assert model.constant("step_material") == ("Cu",)
    assert await asyncio.to_thread(host.set_ecs, [[2003, F8([4000.0])]]) == 3  # 0-3000 W
    assert await peer.command("PUMPBASE", []) == 4
    assert await peer.arrived()
    assert peer.events[1]["ceid"].get() == 3002
    reached = {value["dvid"]: value["value"] for value in peer.events[1]["values"]}
    assert reached[1012] <= 5.0
    assert await peer.command("START", []) == 4
    assert await peer.arrived()
    assert peer.events[2]["ceid"].get() == 3005
    ended = {value["dvid"]: value["value"] for value in peer.events[2]["values"]}
    assert (ended[1010], ended[1024], ended[1023]) == (2, 1, 60.0)  # evacuated, completed
    # the one step's film (secsgem gives an array of one as its element): Cu at 1.5 nm/s a kW,
    # scattered at 3 mTorr
    assert abs(ended[1025] - 60 * 1.5 / 1.1) < 0.01
    assert [event.operation for event in twin.get("W1").history] == ["deposition"]
