"""The simulated GEM equipment's remote commands (S2F41): a command without a parameter its tool
needs is refused HCACK 3 naming each one left out with CPACK 2, on every GEM face, and nothing
runs (docs/protocols/secs-gem.md, the gem-*.md pages)."""

from __future__ import annotations

import pytest

from packline.drivers.errors import CommandRefused
from packline.sim_instruments.twin import TwinStore

from ...drivers.gem.conftest import saw_bench, secsgem_drives  # noqa: F401
from ...drivers.gem.test_refusals_secsgem import refusal


# each GEM face whose remote commands reached its tool without a parameter they need (and were
# refused HCACK 2, naming none), and those commands with the parameters left out, as its page
# names them; REWORK, START's STACK and SITES may be left out
@pytest.mark.parametrize(
    ("kind", "left_out"),
    [
        (
            "dicing_saw",
            {"MOUNT": ["WORKPIECE"], "BLADE": ["THICKNESS_UM"], "SPINDLE": ["SPEED_KRPM"]},
        ),
        ("wire_bonder", {"LOAD": ["WAFERID"], "UNLOAD": ["WAFERID"]}),
        (
            "flip_chip_bonder",
            {
                "LOAD": ["SUBSTRATE"],
                "UNLOAD": ["SUBSTRATE"],
                "SRC_LOAD": ["SOURCE"],
                "SRC_UNLOAD": ["SOURCE"],
            },
        ),
    ],
)
async def test_a_command_without_a_parameter_it_needs_names_each_with_cpack_2(
    secsgem_drives,  # noqa: F811
    kind: str,
    left_out: dict[str, list[str]],
) -> None:
    _, equipment, peer = await secsgem_drives(kind, TwinStore())
    for rcmd, cpnames in left_out.items():
        assert await refusal(peer, rcmd, []) == (3, [(name, 2) for name in cpnames]), rcmd
    assert not [name for name in equipment.received if name.startswith("S2F41 ")]  # none ran


async def test_a_parameter_left_out_is_named_beside_an_unknown_one(secsgem_drives) -> None:  # noqa: F811
    """The saw's `MOUNT` with WORKPIECE misspelt: the name it does not know (CPACK 1) and the
    one it needs (CPACK 2), in one refusal; the chuck stays empty."""
    model, _, peer = await secsgem_drives("dicing_saw", TwinStore())
    mount = [["WORKPIECE_ID", "W1"]]
    assert await refusal(peer, "MOUNT", mount) == (3, [("WORKPIECE_ID", 1), ("WORKPIECE", 2)])
    assert await refusal(peer, "SPINDLE", [["SPEED_KRPM", 30.0]]) == (4, [])  # it needs no more
    assert model.tool.workpiece_id is None


async def test_packlines_host_names_the_parameter_left_out(saw_bench) -> None:  # noqa: F811
    """packline's GEM host reads the refusal into a `CommandRefused` naming the parameter."""
    saw = await saw_bench.driver()
    with pytest.raises(CommandRefused) as refused:
        await saw.command("start_spindle")
    assert refused.value.code == "HCACK 3"
    assert refused.value.reason == (
        "HCACK 3: at least one parameter invalid (SPEED_KRPM: illegal value)"
    )
    assert saw_bench.model.tool.spindle.target == 0
