"""The dicing saw's cut physics: vectorised over the cut lines and the dies of the twin.

Constants are in `SawPhysics` (from the process windows; (est) ones wide). The model:

* the lines of a street map: channel 1 along X at y positions, channel 2 along Y at x
  positions, every street of the pitch that crosses the workpiece: chords of a round wafer
  (`street_lines`), straight across a rectangular tape panel (`panel_street_lines`);
* the kerf from blade thickness and spindle speed (`kerf_width_um`);
* front and back chipping, growing with chip load (feed per spindle turn) and with the cut
  length since dressing (`chipping_um`);
* the depth into the tape of each line: the set depth, less the radial blade wear since the
  last height setup (at blade change and dressing), less a faulty setup (`line_depths_um`);
* the blade breaks when worn far past its dressing interval (`breakage_wear_ratio`);
* the units cut free: dies (or panel units) whose four edges each lie inside a through-cut
  kerf and whose inside no through-cut crosses (`singulated_units`);
* the stack every cut must go through: substrate plus the thickest resin (`stack_um`).

The simulated saw (`sim_instruments/dicing_saw.py`) plans a cut's lines with these and applies
them to the twin as its lines finish.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..twin import Face, Workpiece


@dataclass(frozen=True)
class SawPhysics:
    """Constants of the saw model; defaults from the process windows ((est) ones wide)."""

    tape_thickness_um: float = 90.0
    overtravel_mm: float = 2.0
    index_time_s: float = 0.5
    theta_turn_s: float = 3.0
    spindle_ramp_krpm_per_s: float = 10.0
    #: radial blade wear per metre cut in silicon (est); raises the blade tip until the next setup
    radial_wear_um_per_m: float = 0.5
    dress_radial_wear_um: float = 2.0
    dress_time_s: float = 60.0
    #: front chipping of a freshly dressed blade at the reference chip load
    chipping_front_um: float = 5.0
    chipping_back_ratio: float = 2.0
    #: relative chipping growth per dressing interval cut without dressing
    chipping_wear_gain: float = 0.5
    reference_feed_mm_s: float = 30.0
    reference_spindle_krpm: float = 30.0
    #: the blade breaks once cut this many dressing intervals without dressing
    breakage_wear_ratio: float = 3.0
    #: how far above its set height a faulty height setup leaves the blade tip
    faulty_setup_offset_um: float = 150.0


# --------------------------------------------------------------------- physics (pure)


def kerf_width_um(blade_thickness_um: float, spindle_krpm: float) -> float:
    """Kerf of a blade: 3 um over a 15-25 um blade, 2 um over a 30-50 um one at 20-30 krpm;
    spindle runout widens it above 30 krpm."""
    excess = float(np.interp(blade_thickness_um, [25.0, 30.0], [3.0, 2.0]))
    return blade_thickness_um + excess + 0.05 * max(spindle_krpm - 30.0, 0.0)


def street_positions(
    street_mm: float, pitch_mm: float, offset_mm: float, half_span_mm: float
) -> np.ndarray:
    """Every street line `street_mm + offset_mm + k * pitch_mm` strictly inside
    (-half_span_mm, half_span_mm): the lines of a channel that cross the workpiece."""
    base = street_mm + offset_mm
    first = math.ceil((-half_span_mm - base) / pitch_mm)
    last = math.floor((half_span_mm - base) / pitch_mm)
    positions = base + np.arange(first, last + 1) * pitch_mm
    inside: np.ndarray = positions[np.abs(positions) < half_span_mm]
    return inside


def street_lines(
    street_mm: float, pitch_mm: float, offset_mm: float, radius_mm: float
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of every street line `street_mm + offset_mm + k * pitch_mm` that crosses a
    round wafer of `radius_mm` centred on 0, and the chord of material each one cuts."""
    positions = street_positions(street_mm, pitch_mm, offset_mm, radius_mm)
    chords = 2.0 * np.sqrt(radius_mm**2 - positions**2)
    return positions, chords


def panel_street_lines(
    street_mm: float,
    pitch_mm: float,
    offset_mm: float,
    outline_mm: tuple[float, float],
    channel: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The street lines of a rectangular tape panel (000:g) centred on 0: channel 1 runs along
    X at the y positions inside the panel's height, channel 2 along Y at the x positions inside
    its width; each line cuts straight across the whole panel (its width, or its height)."""
    width, height = outline_mm
    across, along = (height, width) if channel == 1 else (width, height)
    positions = street_positions(street_mm, pitch_mm, offset_mm, across / 2)
    return positions, np.full(positions.size, along)


def chipping_um(
    feed_mm_s: float, spindle_krpm: float, wear_ratio: np.ndarray, physics: SawPhysics
) -> tuple[np.ndarray, np.ndarray]:
    """Front and back chipping per line: square root of the chip load (feed per spindle turn,
    relative to the reference), times (1 + gain * cut length since dressing / interval)."""
    load = (feed_mm_s / spindle_krpm) / (
        physics.reference_feed_mm_s / physics.reference_spindle_krpm
    )
    front = (
        physics.chipping_front_um
        * math.sqrt(load)
        * (1.0 + physics.chipping_wear_gain * wear_ratio)
    )
    return front, front * physics.chipping_back_ratio


def line_depths_um(
    depth_set_um: float,
    rise_before_um: float,
    cut_lengths_mm: np.ndarray,
    physics: SawPhysics,
    setup_offset_um: float = 0.0,
) -> np.ndarray:
    """Depth below the tape top at the end of each line: the set depth less the blade tip's
    rise from radial wear since the last setup (`rise_before_um` when the lines start), less
    a faulty setup's offset."""
    rise = rise_before_um + physics.radial_wear_um_per_m * np.cumsum(cut_lengths_mm) / 1000.0
    return depth_set_um - setup_offset_um - rise


def singulated_units(
    unit_origin_mm: np.ndarray,
    unit_size_mm: tuple[float, float],
    kerfs_x_mm: np.ndarray,
    kerfs_y_mm: np.ndarray,
    kerf_width_um: float,
) -> int:
    """How many dies or units are cut free: each of their four edges lies inside a through-cut kerf,
    and no through-cut crosses their inside."""
    tolerance_mm = kerf_width_um / 2000.0
    xs = np.sort(np.asarray(kerfs_x_mm, dtype=float))
    ys = np.sort(np.asarray(kerfs_y_mm, dtype=float))
    width, height = unit_size_mm
    left, bottom = unit_origin_mm[:, 0], unit_origin_mm[:, 1]

    def covered(lines: np.ndarray, edges: np.ndarray) -> np.ndarray:
        index = np.searchsorted(lines, edges - tolerance_mm)
        inside = index < lines.size
        result = np.zeros(edges.shape, bool)
        result[inside] = lines[index[inside]] <= edges[inside] + tolerance_mm
        return result

    def crossed(lines: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        above_low = np.searchsorted(lines, low + tolerance_mm, side="right")
        below_high = np.searchsorted(lines, high - tolerance_mm, side="left")
        return below_high > above_low

    free = (
        covered(xs, left)
        & covered(xs, left + width)
        & covered(ys, bottom)
        & covered(ys, bottom + height)
        & ~crossed(xs, left, left + width)
        & ~crossed(ys, bottom, bottom + height)
    )
    return int(np.count_nonzero(free))


def stack_um(workpiece: Workpiece) -> float:
    """Substrate plus the thickest resin on it (both faces): what every cut must go through."""
    sites = workpiece.geometry.site_count
    resin = workpiece.resins.thickness_um(sites, Face.FRONT) + workpiece.resins.thickness_um(
        sites, Face.BACK
    )
    return workpiece.geometry.thickness_um + float(resin.max(initial=0.0))
