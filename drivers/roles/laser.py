"""The laser role: a pulsed laser that drills vias in resin and cleans exposed metal.

Used by the claimed methods for through-holes in a tape substrate down to its metal layer and
openings in its solder resist (000:a: the panel's top drilled, then, turned over by the tool's
flipper, its bottom), concave portions and their bottoms in a resin layer (002:1f, 002:1h),
and cleaning bump tips below the metal's ablation threshold (003:16), under reduced pressure,
inert or reducing gas (003:17), with a gas jet that peels residue and suction that carries it
away (003:18). A single-wafer tool: one wafer on the chuck inside a closed enclosure.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..equipment import Equipment, Limit


class LaserSource(IntEnum):
    """The tool's laser source, by wavelength in nm (fixed per tool)."""

    UV_355 = 355
    CO2_9400 = 9400
    CO2_10600 = 10600

    @property
    def wavelength_nm(self) -> int:
        return int(self.value)

    @property
    def is_co2(self) -> bool:
        return self is not LaserSource.UV_355

    @property
    def kind(self) -> str:
        """The kind of source, as a process engineer names it: `UV` or `CO2`."""
        return "CO2" if self.is_co2 else "UV"


class Atmosphere(StrEnum):
    """The gas around the wafer while the beam is on."""

    AIR = "air"
    REDUCED_PRESSURE = "reduced-pressure"
    NITROGEN = "N2"
    ARGON = "Ar"
    FORMING_GAS = "forming-gas"  # H2 4-10 % in N2 or Ar: reducing


class FaceUp(StrEnum):
    """Which face of the workpiece lies up, towards the beam: a wafer's front, or a tape
    panel's top (its tape, 000:a) or bottom (its solder resist, 000:a)."""

    FRONT = "front"
    BACK = "back"


class DrillMode(StrEnum):
    """Where each via stops."""

    TO_METAL = "metal"  # through the resin, ending on the metal underneath
    TO_DEPTH = "depth"  # a given depth into the resin (a concave portion, 002:1f)


#: How far a via drilled to a depth (`DrillMode.TO_DEPTH`) stops off it, 1 sigma, as a share
#: of the depth (est: the pulses' energy and the resin's ablation rate scatter, and nothing
#: measures a depth in the resin as the breakthrough detection finds the metal): each via
#: stops at the asked depth scattered by it.
DEPTH_CV = 0.01
#: How many sigma of `DEPTH_CV` the depths stray at most (one via in 1.7 million; a lot of 25
#: wafers of 8352 sites drills 209 000): a recipe's depth is judged at both ends of it
#: (`DEPTH_SPREAD`), as the dispenser's shot is across its `SHOT_SPREAD`.
DEPTH_SPREAD_SIGMAS = 5.0
#: The farthest a via drilled to a depth stops off it, as a share of the depth.
DEPTH_SPREAD = DEPTH_SPREAD_SIGMAS * DEPTH_CV


class JobKind(StrEnum):
    DRILL = "drill"
    CLEAN = "clean"


class JobState(StrEnum):
    """Where the tool's scan job is."""

    IDLE = "idle"  # no job since the tool started
    RUNNING = "running"
    DONE = "done"
    ABORTED = "aborted"
    FAULTED = "faulted"


#: The job states in which the laser runs no job; every other is working (`working`), a fault
#: told by the alarms.
AT_REST = frozenset({JobState.IDLE, JobState.DONE, JobState.ABORTED, JobState.FAULTED})


@dataclass(frozen=True)
class DrillRecipe:
    """Vias at every selected site: diameter, where they stop, and the pulse settings.

    `depth_um` is required for `DrillMode.TO_DEPTH` and not allowed for `TO_METAL`. Debris is
    carried away by suction (on by default); drilling runs in air unless told otherwise.
    """

    diameter_um: float
    fluence_j_cm2: float
    rep_rate_khz: float
    mode: DrillMode = DrillMode.TO_METAL
    depth_um: float | None = None
    atmosphere: Atmosphere = Atmosphere.AIR
    gas_jet: bool = False
    suction: bool = True

    def __post_init__(self) -> None:
        mode = DrillMode(self.mode)
        if mode is DrillMode.TO_DEPTH and self.depth_um is None:
            raise ValueError("DrillRecipe: mode 'depth' needs depth_um")
        if mode is DrillMode.TO_METAL and self.depth_um is not None:
            raise ValueError("DrillRecipe: mode 'metal' drills to the metal; leave depth_um unset")
        _require_environment(Atmosphere(self.atmosphere), self.gas_jet)


@dataclass(frozen=True)
class CleanRecipe:
    """Cleaning of the exposed metal at every selected site (bump tips, pads, via bottoms).

    The fluence must stay below the metal's ablation threshold; a driver refuses more unless
    the caller explicitly allows metal damage.
    """

    fluence_j_cm2: float
    rep_rate_khz: float
    pulses_per_site: int
    atmosphere: Atmosphere = Atmosphere.AIR
    gas_jet: bool = False
    suction: bool = False

    def __post_init__(self) -> None:
        _require_environment(Atmosphere(self.atmosphere), self.gas_jet)


def gas_jet_problem(atmosphere: Atmosphere, gas_jet: bool) -> str | None:
    """Why the gas jet cannot run (`gas_jet`) in `atmosphere`, in the operator's words, or None
    when it can: a jet blows the atmosphere's gas at the wafer, and a chamber pumped down to
    reduced pressure has none to blow (003:18's jet needs an atmosphere at pressure)."""
    if gas_jet and atmosphere is Atmosphere.REDUCED_PRESSURE:
        at_pressure = ", ".join(a.value for a in Atmosphere if a is not atmosphere)
        return (
            "a gas jet blows the atmosphere's gas at the wafer, and a chamber pumped down to "
            f"reduced pressure has none to blow: give an atmosphere at pressure ({at_pressure}) "
            "or turn the gas jet off"
        )
    return None


def _require_environment(atmosphere: Atmosphere, gas_jet: bool) -> None:
    """A recipe whose gas jet cannot run in its atmosphere (`gas_jet_problem`) is refused."""
    problem = gas_jet_problem(atmosphere, gas_jet)
    if problem is not None:
        raise ValueError(problem)


@dataclass(frozen=True)
class JobProgress:
    """One snapshot of the scan job."""

    state: JobState
    sites_done: int
    sites_total: int
    elapsed_s: float
    remaining_s: float

    @property
    def percent(self) -> float:
        return 100.0 * self.sites_done / self.sites_total if self.sites_total else 0.0


@dataclass(frozen=True)
class LaserStatus:
    """One snapshot of the tool."""

    wafer_id: str | None
    door_open: bool
    emission_enabled: bool
    shutter_open: bool
    atmosphere: Atmosphere
    atmosphere_ready: bool
    gas_jet: bool
    suction: bool
    rep_rate_khz: float
    fluence_j_cm2: float
    power_setpoint_w: float
    power_measured_w: float
    job: JobProgress


@dataclass(frozen=True)
class DrillResult:
    """What a finished drilling job reports (the tool detects breakthrough to metal)."""

    wafer_id: str
    sites: int
    vias_open: int
    process_time_s: float


@dataclass(frozen=True)
class CleanResult:
    """What a finished cleaning job reports."""

    wafer_id: str
    sites: int
    metal_sites: int  # sites where the beam met exposed metal
    process_time_s: float


class Laser(Equipment):
    """A pulsed laser with a fixed source, an enclosure, an emission enable and a shutter."""

    role = "laser"
    activity_field = "job.state"
    at_rest = AT_REST

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = await self.request_wafer()
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        if await self.request_wafer() is not None:
            await self.open_enclosure()
            await self.unload()

    @abstractmethod
    async def request_source(self) -> LaserSource:
        """The tool's laser source (its wavelength)."""

    @abstractmethod
    def via_diameters(self, source: LaserSource) -> Limit:
        """The via diameters, um, a laser of `source` drills within this tool's limits (its
        spec's, as the station narrows them): `drill_vias` refuses any other diameter on the
        tool's own source, read as it connects, before it sends anything. Asks the tool
        nothing; what a method's check of its tools asks of a laser's source (decision 0118)."""

    @abstractmethod
    async def request_status(self) -> LaserStatus:
        """A snapshot of emission, shutter, atmosphere, pulse settings, power and the job."""

    async def request_activity(self) -> str | None:
        """The job's state when not at rest, and the shutter when it is open (the beam may
        come out, whatever the job)."""
        status = await self.request_status()
        return self.activity(status, "shutter open" if status.shutter_open else None)

    @abstractmethod
    async def request_progress(self) -> JobProgress:
        """Where the scan job is."""

    @abstractmethod
    async def request_wafer(self) -> str | None:
        """The id of the wafer on the chuck, None when empty."""

    @abstractmethod
    async def request_face_up(self) -> FaceUp:
        """The face of the loaded wafer that lies up, towards the beam."""

    @abstractmethod
    async def flip(self) -> None:
        """Turn the loaded wafer over on the chuck (the tool's flipper), so its other face lies
        up: a panel's tape drilled from the top, then its solder resist from the bottom
        (000:a), in one visit. Not while a job runs."""

    @abstractmethod
    async def open_enclosure(self) -> None:
        """Open the enclosure door (emission must be off)."""

    @abstractmethod
    async def close_enclosure(self) -> None:
        """Close the enclosure door."""

    @abstractmethod
    async def load(self, wafer_id: str, face_up: FaceUp = FaceUp.FRONT) -> None:
        """Place a wafer on the chuck through the open door, `face_up` towards the beam (a
        panel's back up: its solder resist is drilled and its metal cleaned from below)."""

    @abstractmethod
    async def unload(self) -> str:
        """Take the wafer off the chuck through the open door; returns its id."""

    @abstractmethod
    async def enable_emission(self) -> None:
        """Switch laser emission on; the enclosure must be closed."""

    @abstractmethod
    async def disable_emission(self) -> None:
        """Switch laser emission off (the shutter closes with it)."""

    @abstractmethod
    async def open_shutter(self) -> None:
        """Open the beam shutter; the enclosure must be closed."""

    @abstractmethod
    async def close_shutter(self) -> None:
        """Close the beam shutter."""

    @abstractmethod
    async def drill_vias(
        self, recipe: DrillRecipe, sites: Sequence[int] | None = None
    ) -> DrillResult:
        """Drill a via at each of `sites` (every site when None) of the loaded wafer."""

    @abstractmethod
    async def clean_surfaces(
        self,
        recipe: CleanRecipe,
        sites: Sequence[int] | None = None,
        *,
        allow_metal_damage: bool = False,
    ) -> CleanResult:
        """Clean the exposed metal at each of `sites` (every site when None)."""
