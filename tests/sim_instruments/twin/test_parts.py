"""The parts of a workpiece: empty until a tool writes them, stacked layers, shared views."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from packline.sim_instruments.twin import Face, ResinKind, Support, WaferSpec, new_wafer
from packline.sim_instruments.twin.parts import Film, FilmMaterial, OpeningProcess, WiringLevel

SPEC = WaferSpec(diameter_mm=100, die_size_mm=(10, 10), pads_per_die_side=4)


def _arrays(value: object, path: str = "workpiece"):
    """Every numpy array in a nested dataclass, with its path."""
    if isinstance(value, np.ndarray):
        yield path, value
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from _arrays(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _arrays(item, f"{path}[{index}]")


def test_a_fresh_wafer_has_every_part_empty_and_sized_by_its_sites():
    wafer = new_wafer("W01", SPEC)
    sites, units = wafer.geometry.site_count, wafer.geometry.unit_count
    assert sites == units * 16
    untouched = [
        wafer.bumps,
        wafer.openings,
        wafer.resist,
        wafer.balls,
        wafer.fill,
        wafer.finish,
        wafer.singulation,
        wafer.dies,
    ]
    for path, array in _arrays(untouched, "parts"):
        assert not array.any(), path
        assert array.shape[0] in (sites, 0), path  # per site, or per placed die (none yet)
    assert wafer.dies.count == 0
    assert wafer.resins.layers == wafer.films.layers == wafer.wiring.levels == []
    assert wafer.singulation.kerfs_x_mm == []
    assert wafer.singulation.units == 0
    assert wafer.surface.pad_metal == wafer.top_metal == "Al"
    assert wafer.exposed_metal.all()  # bare pads
    assert not wafer.geometry.hole.any()


def test_resin_layers_stack_and_their_thickness_adds_up_per_face():
    wafer = new_wafer("W01", SPEC)
    sites = wafer.geometry.site_count
    wafer.add_resin(ResinKind.THERMOSET, 20.0, support=Support.FILM)
    wafer.add_resin(ResinKind.SOLDER_RESIST, np.linspace(5, 10, sites), face=Face.BACK)
    wafer.add_resin(ResinKind.RADIATION_SENSITIVE, 30.0)
    assert len(wafer.openings.layers) == len(wafer.resins.layers) == 3
    np.testing.assert_allclose(wafer.resin_um, 50.0)
    np.testing.assert_allclose(
        wafer.resins.thickness_um(sites, Face.BACK), np.linspace(5, 10, sites), rtol=1e-6
    )
    top = wafer.top_resin()
    assert top is not None
    assert top[0].kind is ResinKind.RADIATION_SENSITIVE
    assert wafer.resins.support is Support.NONE  # the outermost layer carries no support
    back = wafer.top_resin(Face.BACK)
    assert back is not None
    assert back[1] is wafer.openings.layers[1]


def test_a_resin_layer_needs_one_thickness_per_site_and_no_negative_one():
    wafer = new_wafer("W01", SPEC)
    with pytest.raises(ValueError, match="broadcast"):
        wafer.add_resin(ResinKind.THERMOSET, np.ones(3))
    with pytest.raises(ValueError, match="workpiece W01: a resin layer cannot be thinner than 0"):
        wafer.add_resin(ResinKind.THERMOSET, -1.0)
    assert wafer.resins.layers == []
    assert wafer.openings.layers == []


def test_thinning_from_the_top_goes_on_into_the_layer_below():
    wafer = new_wafer("W01", SPEC)
    lower, _ = wafer.add_resin(ResinKind.THERMOSET, 20.0)
    upper, _ = wafer.add_resin(ResinKind.STRESS_RELIEF, 5.0)
    wafer.resins.thin_from_top(8.0)
    np.testing.assert_allclose(upper.thickness_um, 0.0)
    np.testing.assert_allclose(lower.thickness_um, 17.0)
    wafer.resins.thin_from_top(100.0)
    assert not wafer.resin_um.any()


def test_cutting_to_a_height_keeps_what_lies_below_it_in_every_layer():
    wafer = new_wafer("W01", SPEC)
    lower, _ = wafer.add_resin(ResinKind.THERMOSET, 20.0)
    upper, _ = wafer.add_resin(ResinKind.SEALING, 30.0)
    wafer.resins.cut_to_height(35.0)
    np.testing.assert_allclose(lower.thickness_um, 20.0)
    np.testing.assert_allclose(upper.thickness_um, 15.0)
    wafer.resins.cut_to_height(12.0)
    np.testing.assert_allclose(lower.thickness_um, 12.0)
    np.testing.assert_allclose(upper.thickness_um, 0.0)


def test_metal_is_exposed_at_bare_pads_projecting_tips_and_open_vias_of_the_top_layer():
    wafer = new_wafer("W01", SPEC)
    layer, openings = wafer.add_resin(ResinKind.THERMOSET, 40.0)
    wafer.bumps.height_um[:2] = 60.0  # two tips project
    openings.depth_um[2:4] = [40.0, 25.0]
    openings.open[2] = True  # one via reached the pad, one is a concave portion
    exposed = wafer.exposed_metal
    assert exposed[:3].all()
    assert not exposed[3:].any()
    np.testing.assert_allclose(openings.left_below_um(layer.thickness_um)[2:5], [0.0, 15.0, 40.0])
    np.testing.assert_allclose(wafer.tip_projection_um[:2], 20.0)
    wafer.bumps.material = "Au"
    assert wafer.top_metal == "Au"


def test_a_blanket_film_conducts_unless_dielectric_and_wiring_says_which_site_is_connected():
    sites = 6
    seed = Film.blanket(FilmMaterial.TIW, 0.1, sites, level=1)
    passivation = Film.blanket(FilmMaterial.SIN, 0.5, sites)
    assert seed.connected.all()
    assert seed.present.all()
    assert seed.level == 1
    assert not passivation.connected.any()
    level = WiringLevel.empty(sites)
    assert not level.connected.any()
    level.pattern[:3] = 0
    assert level.connected.tolist() == [True] * 3 + [False] * 3


def test_openings_keep_what_each_process_left_and_which_one_opened_each_site():
    """A laser stops part way (a concave portion), a dry etch opens all but one site: the
    stages say so; the same process straight after itself extends its stage."""
    wafer = new_wafer("W01", SPEC)
    layer, openings = wafer.add_resin(ResinKind.THERMOSET, 10.0)
    assert openings.opened_by().tolist() == [-1] * wafer.geometry.site_count
    openings.depth_um[:] = 6.0
    openings.record(OpeningProcess.LASER, layer.thickness_um)
    openings.depth_um[:] = 7.0  # a second laser pass
    openings.record(OpeningProcess.LASER, layer.thickness_um)
    layer.thickness_um[:] = 7.0  # the etch takes the top and the concave bottoms down together
    layer.thickness_um[0] = 8.0
    openings.open[:] = openings.depth_um >= layer.thickness_um
    openings.record(OpeningProcess.DRY_ETCH, layer.thickness_um)
    assert [stage.process for stage in openings.stages] == [
        OpeningProcess.LASER,
        OpeningProcess.DRY_ETCH,
    ]
    first, second = openings.stages
    assert first.depth_um.tolist() == [7.0] * wafer.geometry.site_count
    assert first.left_um.tolist() == [3.0] * wafer.geometry.site_count
    assert second.left_um[0] == 1.0
    assert not second.left_um[1:].any()
    assert openings.opened_by().tolist() == [-1] + [1] * (wafer.geometry.site_count - 1)


def test_a_site_is_on_its_unit_and_a_units_or_the_wafers_entry_on_none():
    """A claim check names the die a worst pad is on (decision 0131): a site array's entry
    is on the unit the geometry puts it on, a wafer's pad on its die and a panel's site on
    its package unit; an entry of a unit array or of the workpiece itself is on none."""
    from packline.sim_instruments.twin import PanelSpec, new_panel

    for workpiece in (new_wafer("W01", WaferSpec(diameter_mm=100)), new_panel("P01", PanelSpec())):
        geometry = workpiece.geometry
        last = geometry.site_count - 1
        assert geometry.unit_of(geometry.site_count, 0) == int(geometry.site_unit[0])
        assert geometry.unit_of(geometry.site_count, last) == int(geometry.site_unit[last])
        assert geometry.unit_of(geometry.site_count, last) == geometry.unit_count - 1
        assert geometry.unit_of(geometry.unit_count, 0) is None
        assert geometry.unit_of(1, 0) is None
