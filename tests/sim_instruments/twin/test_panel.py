"""The tape-substrate panel of claim 000: units in rows and columns, a hole under every terminal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from packline.sim_instruments import SimulatedLine
from packline.sim_instruments.physics.dicing_saw import singulated_units, stack_um
from packline.sim_instruments.twin import Face, PanelSpec, ResinKind, TwinStore, new_panel
from packline.sim_instruments.twin.parts import FilmMaterial, Shape

SPEC = PanelSpec(rows=4, columns=25, unit_size_mm=(12, 10), die_size_mm=(8, 6))


def test_a_panel_has_a_hole_site_under_every_terminal_of_every_unit():
    panel = new_panel("P01", SPEC)
    geometry = panel.geometry
    assert geometry.shape is Shape.PANEL
    assert geometry.unit_count == 100
    assert geometry.site_count == 100 * 4 * SPEC.holes_per_die_side
    assert geometry.hole.all()
    assert geometry.outline_mm == (25 * 12 + 10, 4 * 10 + 10)
    assert geometry.thickness_um == SPEC.tape_thickness_um
    assert geometry.substrate == "polyimide"
    # every hole lies on its unit's die footprint, and the panel is centred on 0
    origin = geometry.unit_origin_mm[geometry.site_unit]
    local_x = geometry.site_x_mm - origin[:, 0]
    local_y = geometry.site_y_mm - origin[:, 1]
    assert local_x.min() >= 2.0
    assert local_x.max() <= 10.0
    assert local_y.min() >= 2.0
    assert local_y.max() <= 8.0
    assert geometry.unit_origin_mm.min(axis=0).tolist() == [-150.0, -20.0]
    far_corner = geometry.unit_origin_mm.max(axis=0) + np.array([12, 10])
    assert far_corner.tolist() == [150.0, 20.0]


def test_its_bottom_carries_the_interconnect_per_unit_under_a_cured_solder_resist():
    panel = new_panel("P01", SPEC)
    (interconnect,) = panel.films.layers
    assert (interconnect.material, interconnect.face) == (FilmMaterial.CU, Face.BACK)
    assert interconnect.present.all()
    assert interconnect.connected.all()
    np.testing.assert_allclose(interconnect.thickness_um, SPEC.interconnect_um)
    (level,) = panel.wiring.levels
    assert np.array_equal(level.pattern, panel.geometry.site_unit)  # one pattern per unit
    assert np.array_equal(level.pattern_unit, np.arange(100))
    (resist,) = panel.resins.layers
    assert (resist.kind, resist.face, resist.cure) == (ResinKind.SOLDER_RESIST, Face.BACK, 1.0)
    assert not panel.resin_um.any()  # the top is bare tape
    assert panel.top_metal == "Cu"
    assert stack_um(panel) == SPEC.tape_thickness_um + SPEC.solder_resist_um


def test_a_metal_substrate_is_the_bare_plate_under_every_units_terminal_sites():
    """000:x3: no tape, no holes, no solder resist: the plate is the back metal everywhere,
    the dies' terminals land on it, and it is the workpiece's only thickness."""
    panel = new_panel("P01", replace(SPEC, metal_substrate=True, interconnect_um=35.0))
    geometry = panel.geometry
    assert geometry.site_count == 100 * 4 * SPEC.holes_per_die_side
    assert not geometry.hole.any()
    assert (geometry.substrate, geometry.thickness_um) == ("Cu", 0.0)
    (plate,) = panel.films.layers
    assert (plate.material, plate.face) == (FilmMaterial.CU, Face.BACK)
    np.testing.assert_allclose(plate.thickness_um, 35.0)
    assert not panel.resins.layers
    assert not panel.wiring.levels  # one piece of metal: no interconnection yet
    assert panel.exposed_metal_on(Face.BACK).all()


def test_the_metal_under_a_hole_is_exposed_only_once_the_hole_is_open():
    panel = new_panel("P01", SPEC)
    assert not panel.exposed_metal.any()
    panel.openings.substrate.open[:10] = True
    assert np.flatnonzero(panel.exposed_metal).tolist() == list(range(10))


def test_the_back_metal_is_exposed_only_in_the_solder_resist_openings():
    panel = new_panel("P01", SPEC)
    assert not panel.exposed_metal_on(Face.BACK).any()  # the resist covers the interconnect
    resist_openings = panel.top_resin(Face.BACK)
    assert resist_openings is not None
    resist_openings[1].open[5:8] = True
    assert np.flatnonzero(panel.exposed_metal_on(Face.BACK)).tolist() == [5, 6, 7]
    panel.films.layers[0].present[6] = False  # no interconnect under one opening
    assert np.flatnonzero(panel.exposed_metal_on(Face.BACK)).tolist() == [5, 7]
    np.testing.assert_array_equal(panel.exposed_metal_on(Face.FRONT), panel.exposed_metal)


def test_a_bare_wafer_back_exposes_no_metal():
    wafer = TwinStore().get("W01")
    assert not wafer.exposed_metal_on(Face.BACK).any()
    assert wafer.exposed_metal_on(Face.FRONT).all()  # its bare pads


def test_cuts_along_every_unit_edge_free_every_unit():
    panel = new_panel("P01", SPEC)
    xs = np.unique(np.concatenate([panel.geometry.unit_origin_mm[:, 0] + d for d in (0, 12)]))
    ys = np.unique(np.concatenate([panel.geometry.unit_origin_mm[:, 1] + d for d in (0, 10)]))
    units = singulated_units(panel.geometry.unit_origin_mm, (12, 10), xs, ys, 40.0)
    assert units == panel.geometry.unit_count


def test_the_line_receives_panels_as_incoming_material():
    store = TwinStore(SPEC)
    panel = store.get("TAPE-01")
    assert panel.geometry.shape is Shape.PANEL
    assert panel.spec is SPEC


def test_a_panel_spec_that_cannot_be_built_is_refused():
    with pytest.raises(ValueError, match="rows and columns must be at least 1"):
        PanelSpec(rows=0)
    with pytest.raises(ValueError, match=r"a die of \(13, 8\) mm does not fit a unit of"):
        PanelSpec(die_size_mm=(13, 8))
    with pytest.raises(ValueError, match="interconnect_metal 'Zn' is not a film material"):
        PanelSpec(interconnect_metal="Zn")


def test_a_simulated_line_can_take_panels_as_its_incoming_material():
    line = SimulatedLine(incoming=SPEC, kinds=[])
    assert line.twin.get("TAPE-02").geometry.unit_count == 100
