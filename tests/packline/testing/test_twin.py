"""The twins the tests of a later station start from are made as a step makes them: what they
write in place is thawed first (decision 0084), so a twin already snapshotted may be given."""

from __future__ import annotations

import numpy as np

from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.snapshot import Snapshots, read_snapshot, snapshot
from packline.testing.twin import (
    SMALL_PANEL,
    drill_holes,
    filled_panel,
    form_solder_bumps,
    state_differences,
)


def test_a_snapshotted_panel_is_drilled_filled_and_the_next_snapshot_sees_it():
    store = TwinStore()
    panel = store.receive("P01", SMALL_PANEL)
    snapshots = Snapshots()
    before = snapshots.take(panel)
    drill_holes(panel, 150.0)
    drilled = snapshots.take(panel)
    assert drilled.digest != before.digest
    assert state_differences(panel, read_snapshot(snapshot(panel))) == []
    assert np.all(panel.openings.substrate.open[panel.geometry.hole])


def test_a_snapshotted_workpiece_takes_its_solder_bumps_and_the_next_snapshot_sees_them():
    panel = filled_panel(TwinStore(), "P02")
    snapshots = Snapshots()
    snapshots.take(panel)
    form_solder_bumps(panel, 80.0, 100.0)
    assert float(panel.bumps.height_um.max()) == 80.0
    assert snapshots.take(panel).digest == Snapshots().take(panel).digest
