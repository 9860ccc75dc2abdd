"""The wire bonder role: stud ("sprout-shaped") bumps formed from bonding wire on electrode pads.

Used by the claimed methods to put a bump on every pad of a wafer (001:1a, 003:7.1): the
bonder melts a free-air ball at the wire end, bonds it on the pad with heat, force and
ultrasonic energy (the base), and tears the wire off above it, leaving a cone (001:5). A stud
can be bonded on top of another to make a taller bump (001:6, a stack of at least two), and
gold stud bumps are the connection terminals of 000:c. A single-wafer tool: one wafer on the
heated chuck at a time.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from ..equipment import Equipment
from ..errors import ToolAlarm


class WireMaterial(StrEnum):
    """Bonding wire: gold, or copper (cheaper, harder, grows an oxide on the stud tip)."""

    AU = "Au"
    CU = "Cu"


#: The oxide a copper stud's tip grows per 100 degC of stage temperature, nm (gold grows none)
#: (est; the line's process data): what a cleaning after the bonding must take off (003:11),
#: judged before the run, and what the simulated bonder leaves.
COPPER_TIP_OXIDE_NM_PER_100C = 1.5


def stud_tip_oxide_nm(wire: WireMaterial, stage_temperature_c: float) -> float:
    """The oxide on a fresh stud's tip bonded of `wire` on a stage at `stage_temperature_c`:
    none on gold, more on copper the hotter the stage."""
    if wire is WireMaterial.AU:
        return 0.0
    return COPPER_TIP_OXIDE_NM_PER_100C * stage_temperature_c / 100


class BonderState(StrEnum):
    """What the bonder is doing, as the tool itself reports it."""

    IDLE = "idle"  # nothing running (a wafer may be on the chuck)
    HEATING = "heating"  # a bump run is waiting for the stage to reach its temperature
    BUMPING = "bumping"  # forming studs on the selected sites
    FAULT = "fault"  # an alarm stopped the tool; reset to go on


#: The states in which the bonder runs no bump run; every other is working (`working`), a fault
#: told by the alarms.
AT_REST = frozenset({BonderState.IDLE, BonderState.FAULT})


class RunResult(StrEnum):
    """How the last bump run ended."""

    NONE = "none"  # no run since power-up
    COMPLETED = "completed"
    ABORTED = "aborted"
    ALARM = "alarm"


@dataclass(frozen=True)
class BondProgram:
    """The bond parameters of one stud-bump run (PROCESS_WINDOWS: wire bonder)."""

    wire_material: WireMaterial
    wire_diameter_um: float
    stage_temperature_c: float
    bond_force_gf: float
    ultrasonic_power_mw: float
    ultrasonic_time_ms: float

    @property
    def ultrasonic_energy_uj(self) -> float:
        """Ultrasonic energy per bond (mW x ms = µJ), what decides whether a ball sticks."""
        return self.ultrasonic_power_mw * self.ultrasonic_time_ms


#: The line's stud law (qualified on the line's bonder, est where the process windows give a
#: range): what a program forms, read by validate to judge a recipe's bump height before the
#: run and by the simulated bonder to form its studs. Heights and diameters per wire diameter
#: are at the reference program (`REFERENCE_FORCE_GF`, `REFERENCE_ENERGY_UJ`) in gold; more
#: force or energy, or copper, flattens a stud (`stud_deformation`).
#: bonded base (collar) diameter / wire diameter: about 104 um on 25 um wire
STUD_COLLAR_RATIO = 4.16
#: body height of a stud bonded on a bare pad / wire diameter (before its tail)
FIRST_STUD_RATIO = 1.4
#: height each stud bonded on another adds / wire diameter: 20-35 um on 25 um wire
STACKED_STUD_RATIO = 1.1
#: the tail left on the top stud when the wire is torn off (5-20 um)
STUD_TAIL_UM = 10.0
#: relative 1-sigma spread of what a run's studs add to a site's height, and of their base
STUD_HEIGHT_SPREAD = 0.02
STUD_BASE_SPREAD = 0.015
#: the spread is clipped at this many sigma: no stud stands further from its program's height
STUD_SPREAD_SIGMAS = 3.0
REFERENCE_FORCE_GF = 35.0
REFERENCE_ENERGY_UJ = 720.0
#: copper is harder than gold: it deforms less under the same program (est)
COPPER_DEFORMATION = 0.9


def stud_deformation(program: BondProgram) -> float:
    """How much more than at the reference program a stud is flattened (1.0 at the reference):
    its heights are divided by it, its base multiplied."""
    material = COPPER_DEFORMATION if program.wire_material is WireMaterial.CU else 1.0
    return float(
        material
        * (program.bond_force_gf / REFERENCE_FORCE_GF) ** 0.15
        * (program.ultrasonic_energy_uj / REFERENCE_ENERGY_UJ) ** 0.05
    )


def studs_added_um(program: BondProgram, stack_count: int, on_a_bump: bool) -> float:
    """The height `stack_count` studs of `program` add to a site before their spread: on a bare
    pad a base stud, its body and tail, and each other stacked on it; on a site that carries a
    bump already (its tail the first new stud's seat), each stacked on it."""
    d = program.wire_diameter_um / stud_deformation(program)
    if on_a_bump:
        return stack_count * STACKED_STUD_RATIO * d
    return (FIRST_STUD_RATIO + (stack_count - 1) * STACKED_STUD_RATIO) * d


def stud_heights_um(
    program: BondProgram, stack_count: int, below_um: tuple[float, float] | None = None
) -> tuple[float, float]:
    """The shortest and tallest bump `stack_count` studs of `program` make, across their
    clipped spread (`STUD_SPREAD_SIGMAS`): on bare pads, or on bumps standing `below_um`
    (their shortest and tallest)."""
    added = studs_added_um(program, stack_count, below_um is not None)
    spread = STUD_SPREAD_SIGMAS * STUD_HEIGHT_SPREAD * added
    low, high = (0.0, 0.0) if below_um is None else below_um
    tail = STUD_TAIL_UM if below_um is None else 0.0
    return low + added - spread + tail, high + added + spread + tail


def stud_base_um(program: BondProgram) -> float:
    """The base (collar) diameter a stud of `program` is bonded at, before its spread: set by
    the wire and the program, as the simulated bonder forms it and as validate judges what a
    stud terminal fills of its hole (000:b-c)."""
    return STUD_COLLAR_RATIO * program.wire_diameter_um * stud_deformation(program)


def stud_bases_um(program: BondProgram) -> tuple[float, float]:
    """The narrowest and widest base a run of `program` bonds, across its clipped spread
    (`STUD_SPREAD_SIGMAS`)."""
    base = stud_base_um(program)
    spread = STUD_SPREAD_SIGMAS * STUD_BASE_SPREAD * base
    return base - spread, base + spread


@dataclass(frozen=True)
class BonderStatus:
    """One snapshot of the bonder; `bumps_done` / `bumps_total` is the progress of a run."""

    state: BonderState
    wafer_id: str | None
    bumps_done: int
    bumps_total: int
    stack_count: int
    stage_temperature_c: float
    wire_remaining_m: float
    elapsed_s: float
    last_result: RunResult

    @property
    def progress_percent(self) -> float:
        return 100.0 * self.bumps_done / self.bumps_total if self.bumps_total else 0.0


@dataclass(frozen=True)
class BumpResult:
    """What a finished bump run reports."""

    wafer_id: str
    stack_count: int
    sites_requested: int
    bumps_formed: int
    process_time_s: float


@dataclass(frozen=True)
class HeightSummary:
    """Statistics of the bump heights the bonder measured on the loaded wafer."""

    bumped_sites: int
    min_um: float
    mean_um: float
    max_um: float
    std_um: float


class WireBonder(Equipment):
    """A stud-bumping wire bonder with a heated wafer chuck, a bond head and a wire spool.

    Sites are the electrode pads of the loaded wafer's map, numbered from 0 in the map's
    order; `request_site_count` says how many there are.
    """

    role = "wire_bonder"
    activity_field = "state"
    at_rest = AT_REST

    def record_status(self, status: BonderStatus) -> None:
        """Record a status's process readings: progress, stage temperature, wire left."""
        self.record_reading("bumps_done", status.bumps_done, "bumps")
        self.record_reading("progress", status.progress_percent, "%")
        self.record_reading("stage_temperature", status.stage_temperature_c, "degC")
        self.record_reading("wire_remaining", status.wire_remaining_m, "m")

    def record_height_summary(self, summary: HeightSummary) -> None:
        """Record a height summary's readings: the mean and spread of the bump heights."""
        self.record_reading("bump_height_mean", summary.mean_um, "um")
        self.record_reading("bump_height_std", summary.std_um, "um")

    async def check_run_ended(self, action: str, status: BonderStatus, total: int) -> None:
        """Raise `ToolAlarm` for a run of `total` sites that ended other than completed: the
        tool's alarms when one stopped it (read first), else how it ended."""
        if status.state is BonderState.FAULT:
            await self.refresh_alarms()
            raise self.alarm_error(f"{action} (stopped after {status.bumps_done} of {total} sites)")
        if status.last_result is not RunResult.COMPLETED:
            raise ToolAlarm(
                self.name,
                self.address,
                action,
                [
                    f"run ended {status.last_result.value} "
                    f"after {status.bumps_done} of {total} sites"
                ],
            )

    def check_site_span(self, first_site: int, count: int | None) -> None:
        """Refuse a negative first site or count (of `request_bump_heights`), naming the tool."""
        if first_site < 0 or (count is not None and count < 0):
            raise ValueError(f"{self.name}: first_site and count must not be negative")

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = (await self.request_status()).wafer_id
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        for wafer_id in await self.request_workpieces():
            await self.unload(wafer_id)

    @abstractmethod
    async def request_status(self) -> BonderStatus:
        """State, loaded wafer, progress of the present or last run, stage and wire."""

    @abstractmethod
    async def request_site_count(self) -> int:
        """How many pad sites the loaded wafer's map has."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Put wafer `wafer_id` on the chuck (vacuum on); the chuck must be empty."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Take wafer `wafer_id` off the chuck; it must be the one loaded."""

    @abstractmethod
    async def form_stud_bumps(
        self,
        program: BondProgram,
        *,
        sites: Iterable[int] | None = None,
        stack_count: int = 1,
        timeout_s: float | None = None,
    ) -> BumpResult:
        """Bond `stack_count` studs on each of `sites` (None: every site) of the loaded wafer.

        Waits until the run is done, recording its progress; an alarm (wire break, non-stick
        on pad, out of wire) stops it with the bumps done so far kept on the wafer.
        """

    @abstractmethod
    async def request_bump_height_summary(self) -> HeightSummary:
        """Height statistics over every bumped site of the loaded wafer."""

    @abstractmethod
    async def request_bump_heights(
        self, first_site: int = 0, count: int | None = None
    ) -> np.ndarray:
        """Measured bump height (µm, 0 where no bump) of `count` sites from `first_site`
        (None: to the last site)."""
