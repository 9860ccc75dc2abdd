"""Comparing two workpiece twins part by part (a snapshot's round trip, a resumed run), and
twins as an earlier station left them, for the tests of a later one: made as a step makes
them, thawing what they write in place (decision 0084), so a twin already snapshotted may be
given."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from packline.drivers.roles.dispenser import FillMaterial
from packline.drivers.roles.flip_chip_bonder import terminal_volume_nl
from packline.drivers.roles.oven import PAD_TO_BALL_RATIO
from packline.sim_instruments.physics.oven import truncated_sphere_height_um
from packline.sim_instruments.twin import PanelSpec, ResinKind, TwinStore, WaferSpec, Workpiece
from packline.sim_instruments.twin.freezing import thaw
from packline.sim_instruments.twin.parts import BumpKind, Dies


def state_differences(a: Any, b: Any, path: str = "workpiece") -> list[str]:
    """Where two twins (or any nested dataclasses, lists and arrays) differ: the path of each
    array whose dtype, shape or values differ and of each other value that differs in value or
    type. Empty when they are the same state."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        same = (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and np.array_equal(a, b)
        )
        return [] if same else [path]
    if type(a) is not type(b):
        return [f"{path} ({type(a).__name__} vs {type(b).__name__})"]
    if dataclasses.is_dataclass(a):
        return [
            difference
            for field in dataclasses.fields(a)
            for difference in state_differences(
                getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}"
            )
        ]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{path} (length {len(a)} vs {len(b)})"]
        return [
            difference
            for index, (x, y) in enumerate(zip(a, b, strict=True))
            for difference in state_differences(x, y, f"{path}[{index}]")
        ]
    return [] if a == b else [path]


def drill_holes(panel: Workpiece, diameter_um: float) -> None:
    """Open every hole site of `panel` through its tape down to the interconnect, `diameter_um`
    across: the panel as 000:a's via drilling leaves it."""
    opening = panel.openings.substrate
    thaw(opening.depth_um, opening.diameter_um, opening.open)
    opening.depth_um[panel.geometry.hole] = panel.geometry.thickness_um
    opening.diameter_um[panel.geometry.hole] = diameter_um
    opening.open |= panel.geometry.hole


def place_dies(panel: Workpiece, thickness_um: float, units: np.ndarray | None = None) -> None:
    """A die `thickness_um` thick bonded on each of `units` of `panel` (every unit by default),
    its terminals seated in the unit's holes: the panel as 000:c-d leave it."""
    chosen = np.arange(panel.geometry.unit_count) if units is None else units
    count = int(chosen.size)
    seated = np.isin(panel.geometry.site_unit, chosen) & panel.geometry.hole
    panel.dies = Dies(
        unit=chosen.astype(np.int32),
        offset_um=np.zeros((count, 2), np.float32),
        thickness_um=np.full(count, thickness_um, np.float32),
        bonded=np.ones(count, bool),
        seated=seated,
        rotation_mdeg=np.zeros(count, np.float32),
        face_down=np.ones(count, bool),
        source_unit=np.arange(count, dtype=np.int32),
        joined=seated.copy(),
        terminal_nl=np.zeros(panel.geometry.site_count, np.float32),
        source=["dies"] * count,
    )


#: A 100 mm wafer of 8 mm dies with six pads a side: its dies fit the default `PanelSpec`'s
#: die sites, flipped.
DIE_WAFER = WaferSpec(diameter_mm=100, die_size_mm=(8.0, 8.0), pads_per_die_side=6)
#: A small panel: 2 rows of 3 units.
SMALL_PANEL = PanelSpec(rows=2, columns=3)
#: Gold stud terminals as the wire bonder leaves them (a stack of one), and the drilled hole.
STUD_HEIGHT_UM = 60.0
STUD_BASE_UM = 100.0
HOLE_UM = 150.0


def bumped_dies(
    store: TwinStore,
    wafer_id: str,
    *,
    spec: WaferSpec = DIE_WAFER,
    material: str = "Au",
    height_um: float = STUD_HEIGHT_UM,
) -> Workpiece:
    """A wafer of `spec` with a stud bump of `material` on every pad, diced into all its dies:
    a die source as the wire bonder and the dicing saw leave it."""
    wafer = store.receive(wafer_id, spec)
    thaw(wafer.bumps.height_um, wafer.bumps.base_diameter_um, wafer.bumps.stack)
    wafer.bumps.height_um[:] = height_um
    wafer.bumps.base_diameter_um[:] = STUD_BASE_UM
    wafer.bumps.stack[:] = 1
    wafer.bumps.kind = BumpKind.STUD
    wafer.bumps.material = material
    wafer.singulation.units = wafer.geometry.unit_count
    return wafer


def filled_panel(
    store: TwinStore,
    panel_id: str,
    *,
    spec: PanelSpec = SMALL_PANEL,
    filler: str = FillMaterial.SNBI.value,
    fill_ratio: float = 1.0,
) -> Workpiece:
    """A panel of `spec` with every hole drilled `HOLE_UM` across to the metal and `filler` in
    it, so that filler and a stud terminal make `fill_ratio` of each hole's volume (1.0: the
    filler will rise exactly to the top): the panel as 000:a-b leave it."""
    panel = store.receive(panel_id, spec)
    drill_holes(panel, HOLE_UM)
    holes = panel.openings.substrate
    area_um2 = np.pi / 4 * HOLE_UM**2
    terminal = terminal_volume_nl(STUD_HEIGHT_UM, STUD_BASE_UM, holes.depth_um)
    thaw(panel.fill.volume_nl, panel.fill.level_um)
    panel.fill.volume_nl[:] = fill_ratio * area_um2 * holes.depth_um * 1e-6 - terminal
    panel.fill.level_um[:] = panel.fill.volume_nl * 1e6 / area_um2
    panel.fill.material = filler
    return panel


def form_solder_bumps(
    wafer: Workpiece, height_um: float, diameter_um: float, alloy: str = "Pb95Sn5"
) -> None:
    """A solder bump of `alloy` (high-melting by default) `height_um` tall on every pad of
    `wafer`: the wafer as 003:19's bumping leaves it, before its eutectic layer."""
    bumps = wafer.bumps
    thaw(bumps.height_um, bumps.base_diameter_um)
    bumps.height_um[:] = height_um
    bumps.base_diameter_um[:] = diameter_um
    bumps.kind, bumps.material = BumpKind.SOLDER, alloy


def sealed_solder_bumps(wafer: Workpiece, film_um: float, ball_um: float = 100.0) -> None:
    """High-melting solder bumps on every pad of `wafer`, each a ball of `ball_um` reflowed on
    its pad (`PAD_TO_BALL_RATIO` of it: a 100 um ball stands 87.8 um on 70 um), sealed by a
    resin film `film_um` thick that their tips project through: the wafer as 003:7's sealing
    leaves it, before the tips' eutectic layer (a stencil lies on the film)."""
    base_um = PAD_TO_BALL_RATIO * ball_um
    volume_um3 = np.array(math.pi / 6 * ball_um**3)
    height_um = float(truncated_sphere_height_um(volume_um3, np.array(base_um)))
    form_solder_bumps(wafer, height_um, base_um)
    wafer.add_resin(ResinKind.SEALING, film_um)
