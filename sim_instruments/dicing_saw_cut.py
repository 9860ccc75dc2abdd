"""A simulated dicing saw's cut job and blade: the lines of a cut, planned at its start and cut
into the workpiece as they finish, and the blade they wear.

The simulated saw (`sim_instruments/dicing_saw.py`) owns the wire, the spindle and the
decisions of its faults (where a cut stops and why); a cut job is its process model: every
street line in cutting order with the time it ends, and, line by line, the kerfs, depth and
chipping it leaves in the twin (the physics are in `sim_instruments/physics/dicing_saw.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from packline.drivers.roles.dicing_saw import CutOutcome

from .physics.dicing_saw import (
    SawPhysics,
    chipping_um,
    kerf_width_um,
    panel_street_lines,
    singulated_units,
    stack_um,
    street_lines,
)
from .twin import Workpiece
from .twin.parts import Shape

#: A cut job, in the words of its twin event.
DICE = "dice"


@dataclass
class Blade:
    """The mounted blade: its wear since it was dressed and since its height was set up."""

    thickness_um: float
    since_dressing_mm: float = 0.0
    radial_wear_um: float = 0.0
    setup_at_wear_um: float = 0.0  # radial wear when the height was last set up
    broken: bool = False

    @property
    def rise_um(self) -> float:
        return self.radial_wear_um - self.setup_at_wear_um


@dataclass
class StreetSetting:
    """One channel's street pitch and offset."""

    pitch_mm: float | None = None  # None: the mounted workpiece's die size
    offset_mm: float = 0.0


@dataclass
class CutSettings:
    """The settings a cut job is planned from."""

    feed_mm_s: float = 30.0
    depth_um: float = 30.0
    streets: dict[int, StreetSetting] = field(
        default_factory=lambda: {1: StreetSetting(), 2: StreetSetting()}
    )


@dataclass
class Cut:
    """A cut job: its lines in order, when each ends, and how far it got."""

    workpiece_id: str
    channel: np.ndarray
    position_mm: np.ndarray
    length_mm: np.ndarray
    end_s: np.ndarray  # end of each line, seconds from the start
    started_s: float
    feed_mm_s: float
    spindle_krpm: float
    depth_set_um: float
    kerf_um: float
    done: int = 0
    break_at: int | None = None
    cut_length_mm: float = 0.0
    min_depth_um: float = math.inf
    max_front_um: float = 0.0
    max_back_um: float = 0.0
    outcome: CutOutcome = CutOutcome.NONE
    finished_s: float = 0.0

    @classmethod
    def plan(
        cls,
        workpiece: Workpiece,
        settings: CutSettings,
        spindle_krpm: float,
        blade_thickness_um: float,
        physics: SawPhysics,
        started_s: float,
    ) -> Cut:
        """Every line of the job in cutting order (channel 1, turn, channel 2) and its timing:
        chords of a wafer, straight across a tape panel into package units (000:g)."""
        geometry = workpiece.geometry
        radius = geometry.radius_mm
        street_x, street_y = (float(v) for v in geometry.unit_origin_mm[0])
        width, height = geometry.unit_size_mm
        channels, positions, lengths = [], [], []
        for number, street, die_pitch in ((1, street_y, height), (2, street_x, width)):
            setting = settings.streets[number]
            pitch = setting.pitch_mm or die_pitch
            if geometry.shape is Shape.PANEL:
                pos, chord = panel_street_lines(
                    street, pitch, setting.offset_mm, geometry.outline_mm, number
                )
            else:
                pos, chord = street_lines(street, pitch, setting.offset_mm, radius)
            channels.append(np.full(pos.size, number, np.int8))
            positions.append(pos)
            lengths.append(chord)
        channel = np.concatenate(channels)
        length = np.concatenate(lengths)
        feed = settings.feed_mm_s
        durations = (length + 2 * physics.overtravel_mm) / feed + physics.index_time_s
        turn = np.zeros(length.size)
        if (channel == 2).any():
            turn[np.argmax(channel == 2)] = physics.theta_turn_s  # the table turns 90 degrees
        return cls(
            workpiece_id=workpiece.id,
            channel=channel,
            position_mm=np.concatenate(positions),
            length_mm=length,
            end_s=np.cumsum(durations + turn),
            started_s=started_s,
            feed_mm_s=feed,
            spindle_krpm=spindle_krpm,
            depth_set_um=settings.depth_um,
            kerf_um=kerf_width_um(blade_thickness_um, spindle_krpm),
        )

    @property
    def total(self) -> int:
        return int(self.position_mm.size)

    def apply_lines(
        self,
        workpiece: Workpiece,
        blade: Blade,
        lines: slice,
        depths: np.ndarray,
        wear_fraction: np.ndarray,
        physics: SawPhysics,
    ) -> None:
        """Cut `lines` of the job into `workpiece` at `depths` below the tape top and wear
        `blade` by them; `wear_fraction` is the blade's use since dressing at each line, as a
        fraction of its dressing interval."""
        lengths = self.length_mm[lines]
        cut_mm = float(lengths.sum())
        front, back = chipping_um(self.feed_mm_s, self.spindle_krpm, wear_fraction, physics)
        blade.since_dressing_mm += cut_mm
        blade.radial_wear_um += physics.radial_wear_um_per_m * cut_mm / 1000.0
        self.done = lines.stop
        self.cut_length_mm += cut_mm
        self.min_depth_um = min(self.min_depth_um, float(depths.min()))
        self.max_front_um = max(self.max_front_um, float(front.max()))
        self.max_back_um = max(self.max_back_um, float(back.max()))
        done = workpiece.singulation
        through = depths > 0
        channel, position = self.channel[lines], self.position_mm[lines]
        done.kerfs_y_mm.extend(position[through & (channel == 1)].tolist())
        done.kerfs_x_mm.extend(position[through & (channel == 2)].tolist())
        done.kerf_width_um = self.kerf_um
        done.cut_depth_um = self.min_depth_um
        done.chipping_um = self.max_front_um
        done.units = singulated_units(
            workpiece.geometry.unit_origin_mm,
            workpiece.geometry.unit_size_mm,
            np.asarray(done.kerfs_x_mm),
            np.asarray(done.kerfs_y_mm),
            done.kerf_width_um,
        )

    def finish(self, outcome: CutOutcome, workpiece: Workpiece, tool: str, now: float) -> None:
        """End the job with `outcome` and record it, with what it did, in `workpiece`'s history."""
        self.outcome = outcome
        self.finished_s = now
        workpiece.record(
            tool,
            DICE,
            now,
            outcome=outcome.value.lower(),
            lines_cut=self.done,
            lines_total=self.total,
            cut_length_mm=round(self.cut_length_mm, 1),
            kerf_width_um=round(self.kerf_um, 2),
            cut_depth_um=round(self.min_depth_um, 2) if self.done else 0.0,
            chipping_front_um=round(self.max_front_um, 2),
            chipping_back_um=round(self.max_back_um, 2),
            stack_um=round(stack_um(workpiece), 1),
            singulated_units=workpiece.singulation.units,
        )
