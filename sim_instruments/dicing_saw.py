"""Simulated dicing saw: the ASCII host link of `docs/protocols/dicing-saw.md`.

Speaks the command set of the protocol page (the saw's spec, through the ASCII host-link wire
side `families.ascii_host`) on a `socket://` serial server (the default) or on a pty. Time is
the line's clock: the saw advances lazily to `clock.now()` on every command, so a virtual clock
makes a four-minute cut cost only the polls that watch it. The cut physics (street lines,
kerf, chipping, depth into the tape, blade breakage, singulated units) are in
`sim_instruments/physics/dicing_saw.py`, the cut job and the blade it wears in
`sim_instruments/dicing_saw_cut.py`; this file keeps the saw's commands, its spindle, and
where a cut stops (a broken or worn-out blade, a line short of the tape, an alarm).

Twin conventions: `kerfs_y_mm` / `kerfs_x_mm` hold the positions of through-cuts (channel 1 /
channel 2) in the workpiece's coordinates; `cut_depth_um` is the shallowest depth below the
tape top of the latest cut's lines (negative: it stopped above the tape); `chipping_um` is the
largest front chipping of the latest cut.
"""

from __future__ import annotations

import numpy as np

from packline.clock import Clock
from packline.drivers.families.ascii_host import encode, render_status
from packline.drivers.roles.dicing_saw import (
    BladeStatus,
    CutOutcome,
    DicingResult,
    MountedWorkpiece,
    SawState,
)
from packline.drivers.specs.dicing_saw import (
    BLADE_REPLY,
    INTERLOCKS,
    RESULT_REPLY,
    SPEC,
    WORK_REPLY,
    first_unmet,
    unmet_preconditions,
)

from .dicing_saw_cut import DICE, Blade, Cut, CutSettings, StreetSetting
from .families.ascii_host import HostLinkTool, Transport, wafer_id
from .physics.dicing_saw import SawPhysics, kerf_width_um, line_depths_um, stack_um
from .ramp import Ramp
from .twin import JobEnd, TwinStore

#: How a cut that ended with each outcome ended.
_JOB_ENDS = {
    CutOutcome.COMPLETED: JobEnd.COMPLETED,
    CutOutcome.STOPPED: JobEnd.ABORTED,
    CutOutcome.FAULTED: JobEnd.FAULTED,
}

# --------------------------------------------------------------------- the wire's parameters


def _channel(word: str) -> int:
    if word not in ("1", "2"):
        raise ValueError(f"channel {word!r} is not 1 or 2")
    return int(word)


class SimDicingSaw(HostLinkTool):
    """The simulated saw behind an ASCII line server (socket:// or pty)."""

    spec = SPEC
    transports = ("socket", "pty")
    faults = {
        "blade_crack": "cracked blade: the next line it cuts breaks it (a new blade cures it)",
        "height_setup": "the blade height setup is off: cuts stop above the tape",
        "cover_open": "the cover is open",
        "water_loss": "cutting water supply lost",
        "air_loss": "spindle air supply lost",
        "vacuum_loss": "chuck vacuum lost",
    }
    fault_opens = {
        "cover_open": "cover_closed",
        "water_loss": "cutting_water",
        "air_loss": "spindle_air",
        "vacuum_loss": "chuck_vacuum",
    }

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "socket",
        serial_number: str = "DS-2-0001",
        blade_thickness_um: float = 20.0,
        dressing_interval_mm: float = 20_000.0,
        physics: SawPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or SawPhysics()
        self.state = SawState.IDLE
        self.blade = Blade(blade_thickness_um)
        self.dressing_interval_mm = dressing_interval_mm
        self.workpiece_id: str | None = None
        self.settings = CutSettings()
        self.cut: Cut | None = None
        self.cuts_completed = 0
        self.dressings_completed = 0
        self._dress_ends_s = 0.0
        #: The spindle's speed, krpm, ramping towards its set speed.
        self.spindle = Ramp.holding(0.0, self.physics.spindle_ramp_krpm_per_s, self.clock.now())

    def interlock_conditions(self) -> dict[str, bool]:
        return {"chuck_vacuum": self.workpiece_id is not None}

    # ----------------------------------------------------------------- queries

    def _stat(self) -> str:
        done, total = (self.cut.done, self.cut.total) if self.cut else (0, 0)
        return render_status(
            SPEC,
            {
                "state": self.state.value,
                "workpiece_id": self.workpiece_id or "-",
                "lines_done": done,
                "lines_total": total,
                "spindle_rpm": round(self.spindle_krpm() * 1000),
                "spindle_set_rpm": round(self.spindle.target * 1000),
                "cuts_completed": self.cuts_completed,
                "dressings_completed": self.dressings_completed,
            },
        )

    def _work(self) -> str:
        if self.workpiece_id is None:
            return "NONE"
        workpiece = self.twin.get(self.workpiece_id)
        geometry = workpiece.geometry
        width, height = geometry.unit_size_mm
        return WORK_REPLY.render(
            MountedWorkpiece(
                workpiece_id=workpiece.id,
                die_width_mm=width,
                die_height_mm=height,
                diameter_mm=2 * geometry.radius_mm,
                stack_um=stack_um(workpiece),
            )
        )

    def _blade_query(self) -> str:
        blade = self.blade
        return BLADE_REPLY.render(
            BladeStatus(
                thickness_um=blade.thickness_um,
                kerf_um=None
                if self.spindle.target == 0
                else kerf_width_um(blade.thickness_um, self.spindle.target),
                cut_since_dressing_mm=blade.since_dressing_mm,
                dressing_interval_mm=self.dressing_interval_mm,
                radial_wear_um=blade.radial_wear_um,
                broken=blade.broken,
            )
        )

    def _result(self) -> str:
        cut = self.cut
        if cut is None or cut.outcome is CutOutcome.NONE:
            return "NONE"
        return RESULT_REPLY.render(
            DicingResult(
                workpiece_id=cut.workpiece_id,
                outcome=cut.outcome,
                lines_cut=cut.done,
                lines_total=cut.total,
                cut_length_mm=cut.cut_length_mm,
                kerf_width_um=cut.kerf_um if cut.done else None,
                cut_depth_into_tape_um=cut.min_depth_um if cut.done else None,
                chipping_front_um=cut.max_front_um if cut.done else None,
                chipping_back_um=cut.max_back_um if cut.done else None,
                singulated_units=self.twin.get(cut.workpiece_id).singulation.units,
                process_time_s=cut.finished_s - cut.started_s,
            )
        )

    def _feed_query(self) -> str:
        return encode(SPEC, "feed_mm_s", self.settings.feed_mm_s)

    def _depth_query(self) -> str:
        return encode(SPEC, "depth_into_tape_um", self.settings.depth_um)

    def _index_query(self, channel: int) -> str:
        setting = self.settings.streets[channel]
        pitch = setting.pitch_mm
        if pitch is None and self.workpiece_id is not None:
            width, height = self.twin.get(self.workpiece_id).geometry.unit_size_mm
            pitch = height if channel == 1 else width
        pitch_text = "-" if pitch is None else encode(SPEC, "pitch_mm", pitch)
        return f"{channel} {pitch_text} {encode(SPEC, 'offset_mm', setting.offset_mm)}"

    # ----------------------------------------------------------------- commands

    def _mount(self, workpiece_id: str, *, rework: bool = False) -> str:
        self._require("REMOUNT" if rework else "MOUNT")
        self.take_into_tool(workpiece_id, rework=rework)
        self.workpiece_id = workpiece_id
        self.settings.streets = {1: StreetSetting(), 2: StreetSetting()}
        return ""

    def _remount(self, workpiece_id: str) -> str:
        return self._mount(workpiece_id, rework=True)

    def _unmount(self) -> str:
        self._require("UNMOUNT")
        self.workpiece_id = None
        return ""

    def _blade_change(self, thickness_um: float) -> str:
        self._require("BLADE")
        self.blade = Blade(thickness_um)
        self.cure_fault("blade_crack", "a new blade installed")
        return ""

    def _interval(self, interval_mm: float) -> str:
        self.dressing_interval_mm = interval_mm
        return ""

    def _spindle(self, speed_krpm: float) -> str:
        self._require("SPINDLE")
        self._set_spindle(speed_krpm)
        return ""

    def _spindle_off(self) -> str:
        self._set_spindle(0.0)
        return ""

    def _feed(self, feed_mm_s: float) -> str:
        self.settings.feed_mm_s = feed_mm_s
        return ""

    def _index(self, channel: int, pitch_mm: float, offset_mm: float) -> str:
        self.settings.streets[channel] = StreetSetting(pitch_mm, offset_mm)
        return ""

    def _depth(self, depth_um: float) -> str:
        self.settings.depth_um = depth_um
        return ""

    def _cut_command(self) -> str:
        self._require("CUT")
        assert self.workpiece_id is not None  # NO_WORKPIECE was judged
        self.cut = Cut.plan(
            self.twin.get(self.workpiece_id),
            self.settings,
            self.spindle.target,
            self.blade.thickness_um,
            self.physics,
            self.clock.now(),
        )
        if "blade_crack" in self.injected:
            self.cut.break_at = 0
        self.state = SawState.CUTTING
        return ""

    def _dress(self) -> str:
        self._require("DRESS")
        self.state = SawState.DRESSING
        self._dress_ends_s = self.clock.now() + self.physics.dress_time_s
        return ""

    def _stop(self) -> str:
        now = self.clock.now()
        if self.state is SawState.CUTTING:
            self._finish_cut(CutOutcome.STOPPED, now)
        if self.state is SawState.DRESSING:
            self.state = SawState.IDLE
        self._set_spindle(0.0)
        return ""

    handlers = {
        "STAT?": _stat,
        "WORK?": _work,
        "BLADE?": _blade_query,
        "RESULT?": _result,
        "FEED?": _feed_query,
        "DEPTH?": _depth_query,
        "INDEX?": _index_query,
        "MOUNT": _mount,
        "REMOUNT": _remount,
        "UNMOUNT": _unmount,
        "BLADE": _blade_change,
        "INTERVAL": _interval,
        "SPINDLE": _spindle,
        "SPINDLE OFF": _spindle_off,
        "FEED": _feed,
        "INDEX": _index,
        "DEPTH": _depth,
        "CUT": _cut_command,
        "DRESS": _dress,
        "STOP": _stop,
        "RST": HostLinkTool.reset_alarms,
    }
    parsers = {"workpiece": wafer_id, "channel": _channel}

    def _require(self, command: str) -> None:
        """Refuse `command` for the first of what the saw judges of it that is unmet, in the
        spec's order (`first_unmet`: what it works on, its interlocks, the spindle at speed),
        in the spec's words (`unmet`)."""
        spindle_krpm, set_krpm = self.spindle_krpm(), self.spindle.target
        unmet = unmet_preconditions(
            workpiece_id=self.workpiece_id,
            blade_broken=self.blade.broken,
            spindle_krpm=spindle_krpm,
            spindle_set_krpm=set_krpm,
            at_speed=set_krpm > 0 and spindle_krpm == set_krpm,
        )
        first = first_unmet(command, unmet, self.interlocks())
        if first == INTERLOCKS:
            self.require_interlocks(command)
        elif first is not None:
            raise self.unmet(first, workpiece=self.workpiece_id or "")

    def spindle_krpm(self) -> float:
        """The spindle's actual speed now."""
        return self.spindle.at(self.clock.now())

    def _set_spindle(self, krpm: float) -> None:
        self.spindle.head_for(krpm, self.clock.now())

    # ----------------------------------------------------------------- time and physics

    def advance(self) -> None:
        """Bring the saw to the clock's present time; a supply lost during motion (a cut, a
        dressing; the spindle's air or the cover while the spindle turns) is an alarm.

        A fault injected since the last command counts from now: the lines finished by now
        were cut before it.
        """
        now = self.clock.now()
        if self.state is SawState.CUTTING:
            self._advance_cut(now)
        if self.state is SawState.DRESSING and now >= self._dress_ends_s:
            self._finish_dress()
        if "air_loss" in self.injected and self.spindle.target > 0:
            self._alarm("SPINDLE_AIR", now)
        # the blade turns in motion as it does in a cut: an open cover stops it
        if "cover_open" in self.injected and self.spindle.target > 0:
            self._alarm("COVER_OPENED", now)
        if self.state in (SawState.CUTTING, SawState.DRESSING):
            if "water_loss" in self.injected:
                self._alarm("WATER_FLOW", now)
            elif "vacuum_loss" in self.injected and self.state is SawState.CUTTING:
                self._alarm("VACUUM_LOST", now)

    def next_change_s(self, now: float) -> float:
        """When the saw's state changes next by itself: the end of the line whose end stops the
        cut (the last, or one that breaks the worn blade or comes out short of the tape), the
        dressing's end; else the scan (the other alarms come of faults, which wake a held
        reply themselves)."""
        cut = self.cut
        if self.state is SawState.CUTTING and cut is not None:
            if cut.break_at is not None:
                return now
            stop, alarm, *_ = self._cut_lines(cut, cut.total)
            # a line breaking the blade is seen at its own end, a short line at its end too,
            # which `_cut_lines` counts as cut (it is: too shallow)
            ending = stop if alarm == "BLADE_BROKEN" else stop - 1
            return cut.started_s + float(cut.end_s[min(ending, cut.total - 1)])
        if self.state is SawState.DRESSING:
            return self._dress_ends_s
        return super().next_change_s(now)

    def _cut_lines(self, cut: Cut, due: int) -> tuple[int, str | None, np.ndarray, np.ndarray]:
        """Of the cut's lines up to `due`, where the cut stops and why (None: no alarm), and
        the blade's wear since dressing after each line from `cut.done` and their depths."""
        stop, alarm = due, None
        if cut.break_at is not None:
            stop, alarm = cut.break_at, "BLADE_BROKEN"
        lengths = cut.length_mm[cut.done : stop]
        since = self.blade.since_dressing_mm + np.cumsum(lengths)
        worn_out = np.flatnonzero(
            since > self.physics.breakage_wear_ratio * self.dressing_interval_mm
        )
        if worn_out.size:
            stop, alarm = cut.done + int(worn_out[0]), "BLADE_BROKEN"
        offset = self.physics.faulty_setup_offset_um if "height_setup" in self.injected else 0.0
        depths = line_depths_um(cut.depth_set_um, self.blade.rise_um, lengths, self.physics, offset)
        short = np.flatnonzero(depths[: stop - cut.done] <= 0)
        if short.size:
            stop, alarm = cut.done + int(short[0]) + 1, "CUT_DEPTH"
        return stop, alarm, since, depths

    def _advance_cut(self, now: float) -> None:
        """Cut the lines finished by now; stop at a broken blade or a line short of the tape."""
        cut = self.cut
        assert cut is not None
        # a nanosecond of slack: a line ends at `started_s + end_s` even after the sum rounds
        due = int(np.searchsorted(cut.end_s, now - cut.started_s + 1e-9, side="right"))
        if "blade_crack" in self.injected and cut.break_at is None and due < cut.total:
            cut.break_at = due  # the line in progress breaks it
        stop, alarm, since, depths = self._cut_lines(cut, due)
        count = stop - cut.done
        if count:
            cut.apply_lines(
                self.twin.get(cut.workpiece_id),
                self.blade,
                slice(cut.done, stop),
                depths[:count],
                since[:count] / self.dressing_interval_mm,
                self.physics,
            )
        if alarm is not None:
            if alarm == "BLADE_BROKEN":
                self.blade.broken = True
            self._alarm(alarm, now)
        elif cut.done == cut.total:  # it ended with its last line, whenever it is looked at
            self._finish_cut(CutOutcome.COMPLETED, cut.started_s + float(cut.end_s[-1]))

    def _finish_cut(self, outcome: CutOutcome, now: float) -> None:
        cut = self.cut
        assert cut is not None
        if outcome is CutOutcome.COMPLETED:
            self.cuts_completed += 1
        cut.finish(outcome, self.twin.get(cut.workpiece_id), self.name, now)
        self.state = SawState.IDLE
        self.job_ended(DICE, [cut.workpiece_id], now, _JOB_ENDS[outcome])

    def _finish_dress(self) -> None:
        self.blade.since_dressing_mm = 0.0
        self.blade.radial_wear_um += self.physics.dress_radial_wear_um
        self.blade.setup_at_wear_um = self.blade.radial_wear_um
        self.dressings_completed += 1
        self.state = SawState.IDLE

    def _alarm(self, code: str, now: float) -> None:
        """Latch an alarm: the cut or dress stops, the blade goes up, the spindle stops."""
        self.latch(code)
        if self.state is SawState.CUTTING:
            self._finish_cut(CutOutcome.FAULTED, now)
        self._set_spindle(0.0)
        self.state = SawState.FAULT
