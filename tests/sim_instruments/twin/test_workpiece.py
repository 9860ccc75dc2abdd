"""The workpiece twin: array-based wafers the simulated tools share."""

from __future__ import annotations

import numpy as np
import pytest

from packline.sim_instruments.twin import ResinKind, TwinStore, WaferSpec, die_grid, new_wafer


def test_a_wafer_has_pads_on_every_whole_die_inside_the_edge_exclusion():
    spec = WaferSpec(diameter_mm=300, die_size_mm=(10, 10), pads_per_die_side=21)
    wafer = new_wafer("W01", spec)
    geometry = wafer.geometry
    assert geometry.site_count == geometry.unit_count * 84
    assert geometry.site_count > 50_000  # a real wafer map, as arrays
    radius = np.hypot(geometry.site_x_mm, geometry.site_y_mm)
    assert radius.max() <= 150 - spec.edge_exclusion_mm
    corners = die_grid(spec)
    # each die whole inside the usable radius: its four corners within it
    usable_mm = 150 - spec.edge_exclusion_mm
    for dx in (0, 10):
        for dy in (0, 10):
            assert np.hypot(corners[:, 0] + dx, corners[:, 1] + dy).max() <= usable_mm
    # and every such die of the 10 mm grid (cells at 5 mm + k 10 mm) is there
    cells = np.arange(-165.0, 165.0, 10.0)
    whole = sum(
        all(np.hypot(x + dx, y + dy) <= usable_mm for dx in (0, 10) for dy in (0, 10))
        for x in cells
        for y in cells
    )
    assert len(corners) == whole == geometry.unit_count
    assert wafer.surface.residue_nm.dtype == np.float32
    assert wafer.surface.residue_nm.shape == (geometry.site_count,)
    assert not wafer.has_bumps.any()
    assert geometry.thickness_um == spec.thickness_um


def test_tip_projection_is_bump_height_above_the_resin():
    wafer = new_wafer("W01", WaferSpec())
    wafer.bumps.height_um[:] = 60
    wafer.add_resin(ResinKind.THERMOSET, 45)
    assert np.allclose(wafer.tip_projection_um, 15)


def test_incoming_contamination_varies_by_wafer_but_is_reproducible():
    a1, a2 = new_wafer("A", WaferSpec()), new_wafer("A", WaferSpec())
    b = new_wafer("B", WaferSpec())
    assert np.array_equal(a1.surface.residue_nm, a2.surface.residue_nm)
    assert not np.array_equal(a1.surface.residue_nm, b.surface.residue_nm)


def test_store_receives_each_id_once_and_creates_unknown_ids_on_first_use():
    store = TwinStore(WaferSpec(diameter_mm=150))
    wafer = store.get("LOT1-W01")
    assert store.get("LOT1-W01") is wafer
    assert "LOT1-W01" in store
    assert len(store) == 1
    assert wafer.spec.diameter_mm == 150
    with pytest.raises(ValueError, match="already on the simulated line"):
        store.receive("LOT1-W01")


@pytest.mark.parametrize("bad", ["", "W" * 17, "with space", "wafer\u00e9"])
def test_wafer_ids_are_short_printable_ascii(bad: str):
    with pytest.raises(ValueError, match="1-16 printable ASCII"):
        TwinStore().get(bad)


def test_a_spec_that_fits_no_die_is_refused():
    with pytest.raises(ValueError, match="no whole die"):
        new_wafer("W", WaferSpec(diameter_mm=10, die_size_mm=(20, 20)))
    with pytest.raises(ValueError, match="must be positive"):
        WaferSpec(thickness_um=0)
