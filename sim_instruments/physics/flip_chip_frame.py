"""The flip-chip bonder's frame and stack physics (000:x2), beside its bonding physics.

* **Frame** (000:x2): a frame with conductor columns of one metal (`FRAME_COLUMN_METAL`) is
  pressed on each unit, aligned as a die is; each column's lower end (its protrusion below
  the frame) goes into the hole at a column site (`Geometry.column`) when it lands within
  `(hole - column) / 2` of the hole's centre and is no longer than the hole by more than the
  force can coin away (a rigid frame: all its columns or none). It raises the filler by its
  volume in the hole (a cylinder) as a terminal does, and joins as a terminal does: the
  filler wets or gels, or the column reaching the metal bonds by thermocompression. The
  frame's top stands at its thickness; the columns' top ends with it.
* **Stack** (000:x2): a device is a package unit of a diced panel whose external terminals
  (solder balls joined on its bottom) face down as it lies, so it is placed as it is, not
  flipped; its terminals fall on the column sites of the unit below (`fit_terminals` without
  the mirror). The vision aligns it to the column tops below, the device's of the level under
  it or the panel's own: a terminal is seated when its centre lands on an exposed column top
  (within the column's radius; a top under more than `buried_um` of resin is not exposed) and
  joined when its solder wets there at the joint temperature for the wetting time.

The bonding physics these share (placement, filler, joints, `FlipChipPhysics`) is in
`flip_chip_bonder.py`. Constants are engineering estimates (est): PROCESS_WINDOWS.md has no
flip-chip bonder.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from packline.drivers.roles.flip_chip_bonder import BondRecipe, FrameRecipe, column_volume_nl

from ..twin import Workpiece
from ..twin.freezing import thaw
from ..twin.parts import Face, Geometry, Shape, StackLevel
from .flip_chip_bonder import (
    FlipChipPhysics,
    Layout,
    Misfit,
    Placement,
    die_terminals,
    filler_joins,
    joint_temperature_c,
    landing_error_um,
    pressed,
    raise_filler,
    unit_layout,
    wets,
)

#: The metal of the conductor columns of the frames in the bonder's frame magazine (000:x2).
FRAME_COLUMN_METAL = "Cu"


def column_layout(geometry: Geometry) -> Layout:
    """Every unit's column sites (000:x2), worked out once per geometry; `Misfit` on a
    workpiece without them."""
    if not geometry.column.any():
        raise Misfit("the substrate has no column sites for a frame's conductor columns")
    return geometry.derived("column layout", lambda: unit_layout(geometry, geometry.column))


def mount_frames(
    substrate: Workpiece,
    units: np.ndarray,
    frame: FrameRecipe,
    placement: Placement,
    physics: FlipChipPhysics,
) -> np.ndarray:
    """Press a frame with its conductor columns on each of `units` (placed as `placement`),
    vectorised over frames and columns: seat the columns' lower ends in the column holes,
    raise the filler, form the joints, and record the frames and their columns in the
    substrate's `frame` part (see the module docstring). Returns whether each frame has every
    column joined."""
    layout = column_layout(substrate.geometry)
    sites = layout.sites[units]  # (frames, n)
    nominal = layout.position_um[units]
    error_um = landing_error_um(nominal, nominal, placement)
    drilled = substrate.openings.substrate
    depth = drilled.depth_um[sites]
    diameter, protrusion = frame.column_diameter_um, frame.column_protrusion_um
    coinable = physics.coinable.get(FRAME_COLUMN_METAL, 0.0)
    fits = (
        substrate.geometry.hole[sites]
        & drilled.open[sites]
        & (error_um <= (drilled.diameter_um[sites] - diameter) / 2)
        & (protrusion - depth <= coinable * protrusion)
    )
    seated = fits.all(axis=1)[:, None] & fits  # a rigid frame: all its columns or none
    volume_nl = np.where(seated, column_volume_nl(diameter, protrusion, depth), 0.0)
    raise_filler(substrate, sites, seated, volume_nl, physics)
    recipe = frame.recipe
    joint_c = joint_temperature_c(recipe, physics)
    joined = filler_joins(substrate, sites, seated, joint_c, recipe, physics)
    if pressed(FRAME_COLUMN_METAL, recipe.bond_force_n / sites.shape[1], joint_c, recipe, physics):
        joined |= protrusion >= depth
    joined &= seated
    part = substrate.frame
    thaw(part.height_um, part.offset_um, part.column_top_um, part.column_diameter_um)
    thaw(part.seated, part.joined)
    part.height_um[units] = frame.frame_um
    part.offset_um[units] = placement.offset_um
    part.column_top_um[sites] = frame.frame_um
    part.column_diameter_um[sites] = diameter
    part.seated[sites] = seated
    part.joined[sites] = joined
    part.column_metal = FRAME_COLUMN_METAL
    return np.asarray(joined.all(axis=1))


def is_device_source(source: Workpiece) -> bool:
    """Whether `source` is a diced panel of packages whose external terminals (solder balls
    joined on its bottom) face down as they lie: they are stacked as they are, not flipped."""
    balls = source.balls
    return (
        source.geometry.shape is Shape.PANEL
        and balls.face is Face.BACK
        and bool((balls.present & balls.joined).any())
    )


def device_layout(source: Workpiece) -> Layout:
    """Every package unit's terminals of a device source: the sites with a joined ball."""
    return unit_layout(source.geometry, die_terminals(source).height_um > 0)


def exposed_column_tops(workpiece: Workpiece, physics: FlipChipPhysics) -> np.ndarray:
    """Per site: a column's top end stands there at the top, under no more than `buried_um`
    of resin (a terminal set on it touches its metal)."""
    top = workpiece.frame.column_top_um
    exposed: np.ndarray = (top > 0) & (workpiece.resin_um <= top + physics.buried_um)
    return exposed


def _column_tops_below(
    substrate: Workpiece,
    units: np.ndarray,
    match: np.ndarray,
    level: int,
    workpiece_of: Callable[[str], Workpiece],
    physics: FlipChipPhysics,
) -> tuple[np.ndarray, np.ndarray]:
    """Per device of a run onto `units` at stack `level`, per terminal (on the unit's column
    `match[k]`, in the column layout's order): whether the column top under it is exposed,
    and its diameter. For level 0 the panel's own columns; above, the columns of the device
    stacked on the unit at the level under it (of the same panel design: its columns in the
    same layout order); a unit without that device has no column top."""
    if level == 0:
        below, columns = substrate, column_layout(substrate.geometry).sites[units][:, match]
        present = np.ones(columns.shape, bool)
    else:
        lower = substrate.stack.levels[level - 1]
        device_of_unit = np.full(substrate.geometry.unit_count, -1)
        device_of_unit[lower.unit] = np.arange(lower.unit.size)
        devices = device_of_unit[units]
        below = workpiece_of(lower.source)
        source_units = lower.source_unit[np.maximum(devices, 0)]
        columns = column_layout(below.geometry).sites[source_units][:, match]
        present = np.broadcast_to((devices >= 0)[:, None], columns.shape)
    exposed = present & exposed_column_tops(below, physics)[columns]
    return exposed, below.frame.column_diameter_um[columns]


def stack_devices(
    substrate: Workpiece,
    source: Workpiece,
    units: np.ndarray,
    source_units: np.ndarray,
    match: np.ndarray,
    placement: Placement,
    recipe: BondRecipe,
    physics: FlipChipPhysics,
    workpiece_of: Callable[[str], Workpiece],
) -> np.ndarray:
    """Stack the packages of `source_units` of the diced panel `source` on `units` of the
    substrate, one level above what stands there (all of `units` at one height), placed as
    they lie (terminal k on the unit's column `match[k]`) with `placement` from the device
    below: seat each terminal on the exposed column top under it, join it where its solder
    wets, and record the level in the substrate's `stack` part; the source records its units
    picked. `workpiece_of` finds the panels of the levels below. Returns whether each device
    has every terminal joined."""
    stack = substrate.stack
    level = int(stack.height(substrate.geometry.unit_count)[units[0]])
    columns = column_layout(substrate.geometry)
    sites = columns.sites[units][:, match]
    nominal = columns.position_um[units][:, match]
    origin = device_layout(source)
    from_sites = origin.sites[source_units]
    error_um = landing_error_um(origin.position_um[source_units], nominal, placement)
    terminals = die_terminals(source)
    exposed, diameter = _column_tops_below(substrate, units, match, level, workpiece_of, physics)
    seated = (terminals.height_um[from_sites] > 0) & exposed & (error_um <= diameter / 2)
    joint_c = joint_temperature_c(recipe, physics)
    joined = seated & wets(terminals.material, joint_c, recipe, physics)
    bonded: np.ndarray = joined.all(axis=1)
    if level == len(stack.levels):
        stack.levels.append(StackLevel.empty(source.id, substrate.geometry.site_count))
    entry = stack.levels[level]
    entry.unit = np.concatenate([entry.unit, units.astype(np.int32)])
    entry.source_unit = np.concatenate([entry.source_unit, source_units.astype(np.int32)])
    entry.offset_um = np.concatenate([entry.offset_um, placement.offset_um])
    entry.rotation_mdeg = np.concatenate([entry.rotation_mdeg, placement.rotation_mdeg])
    entry.bonded = np.concatenate([entry.bonded, bonded])
    thaw(entry.seated, entry.joined, entry.error_um)
    entry.seated[sites] = seated
    entry.joined[sites] = joined
    entry.error_um[sites] = error_um
    source.singulation.picked.extend(int(unit) for unit in source_units)
    return bonded
