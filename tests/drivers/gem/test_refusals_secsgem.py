"""secsgem's GEM host against each simulated GEM tool's refusals: HCACK 3 names each refused
parameter with its CPACK (SEMI E30; docs/protocols/secs-gem.md), on all four GEM faces, and
nothing runs."""

from __future__ import annotations

import asyncio

import secsgem.secs

from packline.sim_instruments.twin import TwinStore, WaferSpec

U4 = secsgem.secs.variables.U4
F8 = secsgem.secs.variables.F8


async def refusal(peer, rcmd: str, params: list[list[object]]) -> tuple[int, list[tuple[str, int]]]:
    """S2F41 from secsgem's host: its HCACK and each refused parameter's (CPNAME, CPACK)."""
    reply = (await asyncio.to_thread(peer.host.send_remote_command, rcmd, params)).get()
    return reply["HCACK"], [(row["CPNAME"], row["CPACK"]) for row in reply["PARAMS"]]


async def test_the_wire_bonder_names_the_stack_and_the_sites_it_refuses(secsgem_drives) -> None:
    twin = TwinStore(WaferSpec(diameter_mm=100, pads_per_die_side=4))
    twin.receive("W01")
    model, _, peer = await secsgem_drives("wire_bonder", twin)
    assert await peer.command("LOAD", [["WAFERID", "W01"]]) == 0
    assert await refusal(peer, "START", [["STACK", 5]]) == (3, [("STACK", 2)])  # 1-4 studs
    sites = [["SITES", U4([99999])]]
    assert await refusal(peer, "START", sites) == (3, [("SITES", 2)])  # not on the map
    assert await refusal(peer, "START", [["STACK", "many"]]) == (3, [("STACK", 3)])
    load = [["WAFER", "W01"]]  # misspelt: WAFERID left out
    assert await refusal(peer, "LOAD", load) == (3, [("WAFER", 1), ("WAFERID", 2)])
    assert model.tool.run is None


async def test_the_dicing_saw_names_its_spindle_speed_in_krpm(secsgem_drives) -> None:
    model, _, peer = await secsgem_drives("dicing_saw", TwinStore())
    assert await refusal(peer, "SPINDLE", [["SPEED_KRPM", 75.0]]) == (3, [("SPEED_KRPM", 2)])
    assert await refusal(peer, "SPINDLE", [["SPEED_KRPM", 30000.0]]) == (3, [("SPEED_KRPM", 2)])
    speed = [["SPEED", 30.0]]  # the ASCII saw's name: SPEED_KRPM left out
    assert await refusal(peer, "SPINDLE", speed) == (3, [("SPEED", 1), ("SPEED_KRPM", 2)])
    assert await refusal(peer, "BLADE", [["THICKNESS_UM", 500.0]]) == (3, [("THICKNESS_UM", 2)])
    assert await refusal(peer, "MOUNT", [["WORKPIECE", "W 1"]]) == (3, [("WORKPIECE", 2)])
    assert model.tool.spindle.target == 0
    assert await refusal(peer, "SPINDLE", [["SPEED_KRPM", 30.0]]) == (4, [])


async def test_the_grinder_names_the_side_and_the_wafer_it_refuses(secsgem_drives) -> None:
    model, _, peer = await secsgem_drives("grinder", TwinStore())
    load = [["WAFER", "W1"], ["SIDE", "SIDEWAYS"]]
    assert await refusal(peer, "LOAD", load) == (3, [("SIDE", 2)])
    load = [["WAFER", "W" * 17], ["SIDE", "BACK"]]
    assert await refusal(peer, "LOAD", load) == (3, [("WAFER", 2)])  # 1-16 characters
    assert await refusal(peer, "LOAD", [["WAFER", "W1"]]) == (3, [("SIDE", 2)])  # left out
    assert model.tool.wafer_id is None


async def test_the_flip_chip_bonder_names_a_run_parameter_left_out(secsgem_drives) -> None:
    _, _, peer = await secsgem_drives("flip_chip_bonder", TwinStore())
    assert await refusal(peer, "BOND", [["FIRST", U4(0)]]) == (3, [("COUNT", 2)])
    assert await refusal(peer, "LOAD", [["SUBSTRATE", ""]]) == (3, [("SUBSTRATE", 2)])


async def test_the_dicing_saw_refuses_a_depth_of_0_as_its_ascii_twin_does(secsgem_drives) -> None:
    """ECID 2002, the depth into the tape, is (0, 70] um as on the ASCII saw (`DEPTH 0` is
    `ERR 3`): S2F15 of 0 is EAC 3, and S2F30 gives the least depth the saw takes."""
    model, _, peer = await secsgem_drives("dicing_saw", TwinStore())
    host = peer.host
    assert await asyncio.to_thread(host.set_ec, 2002, F8(0.0)) == 3
    assert model.constants["depth_into_tape_um"] > 0
    (row,) = (await asyncio.to_thread(host.list_ecs, [2002])).get()
    assert (row["ECMIN"], row["ECMAX"]) == (0.1, 70.0)
    assert await asyncio.to_thread(host.set_ec, 2003, F8(0.05)) == 3  # 0 (the die's) or 0.1-200
    assert await asyncio.to_thread(host.set_ec, 2003, F8(0.0)) == 0


async def test_the_laminator_names_a_cool_to_left_out_or_out_of_range(secsgem_drives) -> None:
    """COOL needs COOL_TO within the platen's range: left out or refused, it is named with
    CPACK 2 (the PLC's refused register, the parameter that carried it), and nothing runs."""
    model, _, peer = await secsgem_drives("laminator", TwinStore())
    assert await refusal(peer, "COOL", []) == (3, [("COOL_TO", 2)])
    assert await refusal(peer, "COOL", [["COOL_TO", 5.0]]) == (3, [("COOL_TO", 2)])
    assert await refusal(peer, "COOL", [["COOL_TO", 70.0]]) == (3, [("COOL_TO", 2)])
    assert model.tool.phase.name == "READY"
    assert await refusal(peer, "COOL", [["COOL_TO", 40.0]]) == (4, [])  # taken: cooled tells
