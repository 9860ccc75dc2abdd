"""The dicing saw role: a spindle with a thin blade that cuts a framed wafer or panel into units.

Used by the claimed methods to separate the resin-sealed chip-size packages of a wafer (001:2,
001:15, 001:17), to cut a tape substrate panel into package units (000:g), and to cut a wafer
into chips (003:23). The workpiece is mounted on dicing tape in a frame; the blade cuts through
the whole stack (substrate and resin) and a little into the tape, along two channels of
streets (channel 1, then the table turns 90 degrees for channel 2).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, replace
from enum import StrEnum

from ..equipment import Equipment
from ..errors import ProtocolError


class SawState(StrEnum):
    """What the saw is doing (the names are the protocol's)."""

    IDLE = "IDLE"
    CUTTING = "CUTTING"
    DRESSING = "DRESSING"
    FAULT = "FAULT"


#: The states in which the saw neither cuts nor dresses its blade; every other is working
#: (`working`), a fault told by the alarms.
AT_REST = frozenset({SawState.IDLE, SawState.FAULT})


class CutOutcome(StrEnum):
    """How the last cut job ended (the names are the protocol's)."""

    NONE = "NONE"
    COMPLETED = "COMPLETED"
    STOPPED = "STOPPED"
    FAULTED = "FAULTED"


@dataclass(frozen=True)
class StreetMap:
    """Where to cut: the street pitch and offset of each channel and the depth into the tape.

    Channel 1 cuts run along X (indexed along Y), channel 2 cuts run along Y (indexed along
    X). A pitch of None takes the die size the saw's alignment found on the mounted workpiece
    (channel 1: the die height, channel 2: the die width). Offsets are measured from the
    street the alignment found. The depth is how far the blade tip goes below the top of the
    dicing tape, so that every unit is cut free through the whole stack.
    """

    ch1_pitch_mm: float | None = None
    ch2_pitch_mm: float | None = None
    ch1_offset_mm: float = 0.0
    ch2_offset_mm: float = 0.0
    depth_into_tape_um: float = 30.0


@dataclass(frozen=True)
class DicingRecipe:
    """How to cut: spindle speed, feed speed and the street map."""

    spindle_krpm: float
    feed_mm_s: float
    streets: StreetMap = StreetMap()


@dataclass(frozen=True)
class MountedWorkpiece:
    """The framed workpiece on the chuck, as the saw's alignment sees it."""

    workpiece_id: str
    die_width_mm: float
    die_height_mm: float
    diameter_mm: float
    stack_um: float  # substrate plus resin


@dataclass(frozen=True)
class BladeStatus:
    """The installed blade and its wear."""

    thickness_um: float
    kerf_um: float | None  # the kerf it cuts at the present spindle set speed; None: stopped
    cut_since_dressing_mm: float
    dressing_interval_mm: float
    radial_wear_um: float
    broken: bool

    @property
    def wear_ratio(self) -> float:
        """Cut length since dressing as a fraction of the dressing interval (1 = dressing due)."""
        return self.cut_since_dressing_mm / self.dressing_interval_mm


@dataclass(frozen=True)
class SawStatus:
    """One snapshot of the saw."""

    state: SawState
    workpiece_id: str | None
    lines_done: int
    lines_total: int
    spindle_krpm: float
    spindle_set_krpm: float
    cuts_completed: int
    dressings_completed: int

    @property
    def progress_percent(self) -> float:
        return 100.0 * self.lines_done / self.lines_total if self.lines_total else 0.0


def spindle_unsafe(spindle_krpm: float) -> str | None:
    """What a saw whose spindle turns at `spindle_krpm` shows that is not the safe state its
    stop brings, on any wire: `spindle at <n> rpm` (the stop stops the spindle, and a blade
    still turning is not safe to reach); None once it stands."""
    return f"spindle at {spindle_krpm * 1000:g} rpm" if spindle_krpm else None


@dataclass(frozen=True)
class DicingResult:
    """What a cut job reports when it ends."""

    workpiece_id: str
    outcome: CutOutcome
    lines_cut: int
    lines_total: int
    cut_length_mm: float
    kerf_width_um: float | None  # None: no line was cut
    # the shallowest line; negative: it stopped above the tape; None: no line was cut
    cut_depth_into_tape_um: float | None
    chipping_front_um: float | None  # None: no line was cut
    chipping_back_um: float | None
    singulated_units: int
    process_time_s: float


class DicingSaw(Equipment):
    """A dicing saw with one spindle, a chuck table for framed workpieces and a dressing board."""

    role = "dicing_saw"
    activity_field = "state"
    at_rest = AT_REST

    def check_recipe(self, recipe: DicingRecipe) -> DicingRecipe:
        """`recipe` as it is sent (`held_setpoints`: a value past a bound by rounding is the
        bound), refused before anything is sent if a value is outside the saw's limits; a
        street pitch given as None is the die's, checked once the workpiece is known."""
        held = self.held_setpoints("dice", recipe, ("spindle_krpm", "feed_mm_s"))
        streets = self.held_setpoints("dice", held.streets, ("depth_into_tape_um",))
        for channel, pitch in ((1, streets.ch1_pitch_mm), (2, streets.ch2_pitch_mm)):
            fields = {f"ch{channel}_offset_mm": "offset_mm"}
            if pitch is not None:
                fields = {f"ch{channel}_pitch_mm": "pitch_mm", **fields}
            streets = self.held_setpoints(f"dice channel {channel}", streets, fields)
        return replace(held, streets=streets)

    async def confirm_mounted(self, action: str, workpiece_id: str) -> MountedWorkpiece:
        """The workpiece the saw reports after a mount command, which must be `workpiece_id`."""
        mounted = await self.request_workpiece()
        if mounted is None or mounted.workpiece_id != workpiece_id:
            raise ProtocolError(
                self.name, self.address, action, f"saw reports {mounted} mounted after MOUNT"
            )
        return mounted

    def record_result(self, result: DicingResult) -> None:
        """Record a cut's readings: kerf, depth into the tape and chipping (of a cut that cut a
        line: one that cut none measured none of them), units."""
        measured = (
            ("kerf_width", result.kerf_width_um),
            ("cut_depth_into_tape", result.cut_depth_into_tape_um),
            ("chipping_front", result.chipping_front_um),
            ("chipping_back", result.chipping_back_um),
        )
        for name, value in measured:
            if value is not None:
                self.record_reading(name, value, "um")
        self.record_reading("singulated_units", result.singulated_units, "units")

    async def request_workpieces(self) -> tuple[str, ...]:
        workpiece = await self.request_workpiece()
        return () if workpiece is None else (workpiece.workpiece_id,)

    async def _unload_everything(self) -> None:
        await self.stop_spindle()
        if await self.request_workpiece() is not None:
            await self.unmount()

    @abstractmethod
    async def request_status(self) -> SawStatus:
        """A snapshot of the saw: state, cut progress, spindle speed, counters."""

    @abstractmethod
    async def request_workpiece(self) -> MountedWorkpiece | None:
        """The mounted workpiece (None when the chuck is empty)."""

    @abstractmethod
    async def request_blade(self) -> BladeStatus:
        """The installed blade, its kerf and its wear."""

    @abstractmethod
    async def request_last_cut(self) -> DicingResult | None:
        """The result of the last cut job (None before the first)."""

    @abstractmethod
    async def mount(self, workpiece_id: str) -> MountedWorkpiece:
        """Put the framed wafer or panel `workpiece_id` on the chuck and align it."""

    @abstractmethod
    async def unmount(self) -> None:
        """Take the framed workpiece off the chuck."""

    @abstractmethod
    async def install_blade(self, thickness_um: float) -> None:
        """Record a new blade of `thickness_um` on the spindle (wear zero, height set up)."""

    @abstractmethod
    async def set_dressing_interval(self, interval_mm: float) -> None:
        """Cut length after which the blade is due for dressing."""

    @abstractmethod
    async def start_spindle(self, speed_krpm: float) -> None:
        """Run the spindle up to `speed_krpm` and wait until it is at speed."""

    @abstractmethod
    async def stop_spindle(self) -> None:
        """Stop the spindle."""

    @abstractmethod
    async def dress_blade(self) -> BladeStatus:
        """Dress the blade on the dressing board; the cut length since dressing restarts and
        the saw sets the blade's height up again, as at a blade change (the tip, risen by the
        wear since the last setup, cuts at the depth set once more)."""

    @abstractmethod
    async def dice(self, recipe: DicingRecipe) -> DicingResult:
        """Cut the mounted workpiece along its streets into units, recording progress."""
