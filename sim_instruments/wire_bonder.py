"""Simulated stud-bumping wire bonder: the ASCII host link on a serial line, with its bond physics.

Speaks the command set of `docs/protocols/wire-bonder.md` (the tool's spec, through the ASCII
host-link wire side `families.ascii_host`; the program and site-range codecs come from the
driver module), on a pty by default or behind a `socket://` serial server. Time is the line's
clock: the run is advanced lazily to `clock.now()` on every command, so a virtual clock makes a
20-minute wafer cost only the polls that watch it. A run is planned when it starts (stud
geometry and where a ball fails to stick, vectorised over the selected sites) and laid onto the
wafer twin slice by slice as time passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from packline.clock import Clock
from packline.drivers.families.ascii_host import render_status
from packline.drivers.roles.wire_bonder import BonderState, BondProgram, RunResult, WireMaterial
from packline.drivers.specs.wire_bonder import HEIGHT_CHUNK, SPEC
from packline.drivers.wire_bonder import (
    MATERIAL_OF_TOKEN,
    STATE_TOKENS,
    format_program,
    parse_site_ranges,
)

from .families.ascii_host import HostLinkTool, HostRefused, Transport, whole_number
from .twin import TwinStore, Workpiece, validate_wafer_id


@dataclass(frozen=True)
class BondPhysics:
    """Constants of the stud model; defaults from PROCESS_WINDOWS (the (est) ones kept wide)."""

    #: bonded base (collar) diameter / wire diameter: about 104 µm on 25 µm wire
    collar_ratio: float = 4.16
    #: body height of a stud bonded on a pad / wire diameter (before its tail)
    first_stud_ratio: float = 1.4
    #: height each stud stacked on another adds / wire diameter: 20-35 µm on 25 µm wire
    stacked_stud_ratio: float = 1.1
    #: tail left on the top stud when the wire is torn off (5-20 µm)
    tail_um: float = 10.0
    #: relative 1-sigma spread of stud height and base diameter
    height_spread: float = 0.02
    base_spread: float = 0.015
    #: the program at which the ratios above hold; more force or energy flattens the stud
    reference_force_gf: float = 35.0
    reference_energy_uj: float = 720.0
    #: copper is harder than gold: it deforms less under the same program (est)
    copper_deformation: float = 0.9
    #: free-air ball diameter / wire diameter (1.6-2.5); sets the wire a stud consumes
    free_air_ball_ratio: float = 2.0
    #: ultrasonic energy a ball needs to stick to a clean pad at the reference temperature (est)
    clean_bond_energy_uj: float = 100.0
    #: each this much residue + oxide on a pad adds the clean bond energy again (est)
    contamination_scale_nm: float = 10.0
    #: the needed energy grows e-fold for every this many degrees below the reference (est)
    reference_temperature_c: float = 150.0
    temperature_scale_c: float = 80.0
    #: how sharply sticking fails as the energy falls towards what the pad needs
    stick_steepness: float = 8.0
    #: oxide a copper stud tip grows per 100 °C of stage temperature (gold grows none) (est)
    copper_tip_oxide_nm_per_100c: float = 1.5
    #: bond head motion, ball forming and tail cut per stud, besides the ultrasonic time:
    #: 55 ms + 12 ms gives 15 studs/s (10-25 bumps/s)
    motion_s: float = 0.055
    heating_rate_c_per_s: float = 5.0
    ambient_c: float = 25.0
    spool_length_m: float = 500.0


# ------------------------------------------------------------------------- pure physics


def stud_deformation(program: BondProgram, physics: BondPhysics) -> float:
    """How much more than at the reference program a stud is flattened (1.0 at the reference)."""
    material = physics.copper_deformation if program.wire_material is WireMaterial.CU else 1.0
    return (
        material
        * (program.bond_force_gf / physics.reference_force_gf) ** 0.15
        * (program.ultrasonic_energy_uj / physics.reference_energy_uj) ** 0.05
    )


def form_studs(
    existing_height_um: np.ndarray,
    existing_base_um: np.ndarray,
    program: BondProgram,
    stack_count: int,
    physics: BondPhysics,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Height and base diameter of each site after `stack_count` studs are bonded on it.

    A bare pad (height 0) gets a base stud and `stack_count - 1` studs on top; a site that
    already carries a bump gets all `stack_count` stacked on it and keeps its base.
    """
    d = program.wire_diameter_um
    deformation = stud_deformation(program, physics)
    first = physics.first_stud_ratio * d / deformation
    stacked = physics.stacked_stud_ratio * d / deformation
    n = existing_height_um.size
    bare = existing_height_um <= 0
    body = np.where(
        bare,
        first + (stack_count - 1) * stacked,
        existing_height_um - physics.tail_um + stack_count * stacked,
    )
    height = body * (1 + physics.height_spread * rng.standard_normal(n)) + physics.tail_um
    new_base = (
        physics.collar_ratio * d * deformation * (1 + physics.base_spread * rng.standard_normal(n))
    )
    base = np.where(bare, new_base, existing_base_um)
    return height.astype(np.float32), base.astype(np.float32)


def non_stick_probability(
    residue_nm: np.ndarray, oxide_nm: np.ndarray, program: BondProgram, physics: BondPhysics
) -> np.ndarray:
    """Chance that the first ball on each site does not stick (NSOP).

    The energy a site needs grows with the residue and oxide on its metal and as the stage
    runs colder; the ball fails more and more surely as the program's ultrasonic energy falls
    towards and below it.
    """
    contamination = residue_nm.astype(np.float64) + oxide_nm
    needed_uj = (
        physics.clean_bond_energy_uj
        * (1 + contamination / physics.contamination_scale_nm)
        * math.exp(
            (physics.reference_temperature_c - program.stage_temperature_c)
            / physics.temperature_scale_c
        )
    )
    margin = program.ultrasonic_energy_uj / needed_uj
    return 1 / (1 + np.exp(np.minimum(physics.stick_steepness * (margin - 1), 700)))


def wire_per_stud_m(program: BondProgram, physics: BondPhysics) -> float:
    """Wire length one stud consumes: its free-air ball's volume as wire, plus the tail."""
    d = program.wire_diameter_um
    ball_um3 = math.pi / 6 * (physics.free_air_ball_ratio * d) ** 3
    return (ball_um3 / (math.pi / 4 * d**2) + physics.tail_um) * 1e-6


def stud_cycle_s(program: BondProgram, physics: BondPhysics) -> float:
    """Time for one stud: bond head motion and ball forming plus the ultrasonic bond."""
    return physics.motion_s + program.ultrasonic_time_ms / 1000


def tip_oxide_nm(program: BondProgram, physics: BondPhysics) -> float:
    """Oxide on a fresh stud tip: none on gold, some on copper, more on a hotter stage."""
    if program.wire_material is WireMaterial.AU:
        return 0.0
    return physics.copper_tip_oxide_nm_per_100c * program.stage_temperature_c / 100


def bond_studs(
    workpiece: Workpiece,
    sites: np.ndarray,
    height_um: np.ndarray,
    base_um: np.ndarray,
    stack_count: int,
    program: BondProgram,
    physics: BondPhysics,
) -> None:
    """Put finished bumps on `sites` of the workpiece: geometry, stack and a clean tip."""
    workpiece.bump_height_um[sites] = height_um
    workpiece.bump_base_diameter_um[sites] = base_um
    workpiece.bump_stack[sites] += stack_count
    workpiece.residue_nm[sites] = 0
    workpiece.oxide_nm[sites] = tip_oxide_nm(program, physics)
    workpiece.activated[sites] = False
    workpiece.bump_material = program.wire_material.value


@dataclass
class BumpPlan:
    """A run worked out at its start: what each selected site becomes, and where a ball fails."""

    sites: np.ndarray
    height_um: np.ndarray
    base_um: np.ndarray
    #: index (into `sites`) of the first site whose ball does not stick; len(sites) if none
    non_stick_at: int


def plan_bumps(
    workpiece: Workpiece,
    sites: np.ndarray,
    program: BondProgram,
    stack_count: int,
    physics: BondPhysics,
    rng: np.random.Generator,
) -> BumpPlan:
    """Plan bumping `sites` (ascending) of the workpiece with `program`, vectorised."""
    height, base = form_studs(
        workpiece.bump_height_um[sites],
        workpiece.bump_base_diameter_um[sites],
        program,
        stack_count,
        physics,
        rng,
    )
    p = non_stick_probability(
        workpiece.residue_nm[sites], workpiece.oxide_nm[sites], program, physics
    )
    fails = rng.random(sites.size) < p
    non_stick_at = int(np.argmax(fails)) if fails.any() else int(sites.size)
    return BumpPlan(sites, height, base, non_stick_at)


# ------------------------------------------------------------------------- the tool


def _wafer_id(word: str) -> str:
    validate_wafer_id(word)
    return word


def _material(word: str) -> WireMaterial:
    if word not in MATERIAL_OF_TOKEN:
        raise ValueError(f"wire material {word!r} is not one of {', '.join(MATERIAL_OF_TOKEN)}")
    return MATERIAL_OF_TOKEN[word]


@dataclass
class _Run:
    """A bump run on the tool: its plan and how far it got."""

    wafer_id: str
    program: BondProgram
    stack_count: int
    plan: BumpPlan
    started_s: float  # when BUMP was accepted
    bonding_from_s: float  # when the stage is at temperature and the first stud starts
    cycle_s: float
    done: int = 0
    ended_s: float | None = None

    @property
    def total(self) -> int:
        return int(self.plan.sites.size)

    @property
    def site_s(self) -> float:
        return self.stack_count * self.cycle_s


class SimWireBonder(HostLinkTool):
    """The simulated bonder behind a serial line (a pty, or a `socket://` serial server)."""

    spec = SPEC
    faults = {
        "wire_break": "the wire breaks on the next stud, and on every stud while injected",
        "non_stick": "the next ball does not stick to its pad, and every one while injected",
        "out_of_wire": "the spool runs empty now (clear_fault or load_spool loads a new one)",
        "cover_open": "the safety cover is open",
        "vacuum_leak": "the chuck vacuum does not hold the wafer",
    }
    fault_opens = {"cover_open": "cover_closed", "vacuum_leak": "wafer_vacuum"}

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "pty",
        serial_number: str = "WB1-0001",
        physics: BondPhysics | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or BondPhysics()
        self.rng = np.random.default_rng(seed)
        self.state = BonderState.IDLE
        self.wafer_id: str | None = None
        self.program: BondProgram | None = None
        self.selection: np.ndarray | None = None  # bool mask over the loaded wafer's sites
        self.run: _Run | None = None
        self.last_result = RunResult.NONE
        self.spool_m = self.physics.spool_length_m
        now = self.clock.now()
        self._stage_from_c = self._stage_target_c = self.physics.ambient_c
        self._stage_since_s = now

    def phase(self) -> str:
        return STATE_TOKENS[self.state]

    # ----------------------------------------------------------------- commands

    def _status(self) -> str:
        run = self.run
        now = self.clock.now()
        elapsed = (
            0.0
            if run is None
            else (run.ended_s if run.ended_s is not None else now) - run.started_s
        )
        return render_status(
            SPEC,
            {
                "state": STATE_TOKENS[self.state],
                "wafer_id": self.wafer_id or "",
                "bumps_done": run.done if run else 0,
                "bumps_total": run.total if run else 0,
                "stack_count": run.stack_count if run else 0,
                "stage_temperature_c": self.stage_temperature_c(now),
                "wire_remaining_m": self.spool_m,
                "elapsed_s": elapsed,
                "last_result": self.last_result.name,
            },
        )

    def _clear_alarms(self) -> str:
        causes = {
            "OUT_OF_WIRE": not self.interlocks()["wire_present"],
            "COVER_OPENED": "cover_open" in self.injected,
            "VACUUM_LOST": "vacuum_leak" in self.injected,
        }
        self.alarms = [alarm for alarm in self.alarms if causes.get(alarm, False)]
        if not self.alarms and self.state is BonderState.FAULT:
            self.state = BonderState.IDLE
        return ""

    def _load(self, wafer_id: str) -> str:
        if self.wafer_id is not None:
            raise HostRefused("WRONG_STATE", f"wafer {self.wafer_id} is on the chuck")
        self.require_interlocks("LOAD")
        self.twin.get(wafer_id)
        self.wafer_id, self.selection = wafer_id, None
        return ""

    def _unload(self, wafer_id: str) -> str:
        loaded = self._require_wafer()
        if wafer_id != loaded.id:
            raise HostRefused(
                "WAFER_MISMATCH", f"wafer on the chuck is {loaded.id}, not {wafer_id}"
            )
        self.require_interlocks("UNLOAD")
        self.wafer_id, self.selection = None, None
        return ""

    def _site_count(self) -> str:
        return str(self._require_wafer().site_count)

    def _set_program(self, material: WireMaterial, *values: float) -> str:
        program = BondProgram(material, *values)
        now = self.clock.now()
        self._stage_from_c, self._stage_since_s = self.stage_temperature_c(now), now
        self._stage_target_c = program.stage_temperature_c
        self.program = program
        return ""

    def _read_program(self) -> str:
        if self.program is None:
            raise HostRefused("NO_PROGRAM", "no bond program")
        return format_program(self.program).removeprefix("PROG ")

    def _select_all(self) -> str:
        self.selection = np.ones(self._require_wafer().site_count, bool)
        return str(self.selection.size)

    def _select_clear(self) -> str:
        self.selection = np.zeros(self._require_wafer().site_count, bool)
        return "0"

    def _select_add(self, sites: np.ndarray) -> str:
        count = self._require_wafer().site_count
        if sites[-1] >= count:
            raise HostRefused("BAD_SITE", f"site {sites[-1]} not on the map (0-{count - 1})")
        if self.selection is None:
            self.selection = np.zeros(count, bool)
        self.selection[sites] = True
        return str(int(self.selection.sum()))

    def _selected(self) -> str:
        return str(0 if self.selection is None else int(self.selection.sum()))

    def _bump(self, stack: float) -> str:
        stack_count = int(stack)
        workpiece = self._require_wafer()
        if self.program is None:
            raise HostRefused("NO_PROGRAM", "no bond program")
        if self.selection is None or not self.selection.any():
            raise HostRefused("NO_SELECTION", "no sites selected")
        self.require_interlocks("BUMP")
        now = self.clock.now()
        program = self.program
        plan = plan_bumps(
            workpiece, np.flatnonzero(self.selection), program, stack_count, self.physics, self.rng
        )
        heating_s = abs(program.stage_temperature_c - self.stage_temperature_c(now)) / (
            self.physics.heating_rate_c_per_s
        )
        self.run = _Run(
            wafer_id=workpiece.id,
            program=program,
            stack_count=stack_count,
            plan=plan,
            started_s=now,
            bonding_from_s=now + heating_s,
            cycle_s=stud_cycle_s(program, self.physics),
        )
        self.state = BonderState.HEATING if heating_s > 0 else BonderState.BUMPING
        self.last_result = RunResult.NONE
        return str(self.run.total)

    def _abort(self) -> str:
        """Stop at once: the site in progress gets none of its studs (`advance` laid the
        finished ones)."""
        if self.state in (BonderState.HEATING, BonderState.BUMPING):
            self._end_run(RunResult.ABORTED, self.clock.now())
            self.state = BonderState.IDLE
        return ""

    def _height_summary(self) -> str:
        heights = self._require_wafer().bump_height_um
        bumped = heights[heights > 0].astype(np.float64)
        if bumped.size == 0:
            return "BUMPS=0 MIN=0.0 MEAN=0.0 MAX=0.0 STD=0.0"
        return (
            f"BUMPS={bumped.size} MIN={bumped.min():.1f} MEAN={bumped.mean():.2f} "
            f"MAX={bumped.max():.1f} STD={bumped.std():.2f}"
        )

    def _heights(self, first: int, count: int) -> str:
        if not 1 <= count <= HEIGHT_CHUNK:
            raise HostRefused("OUT_OF_RANGE", f"count {count} outside 1-{HEIGHT_CHUNK}")
        heights = self._require_wafer().bump_height_um
        if first + count > heights.size:
            raise HostRefused(
                "BAD_SITE",
                f"sites {first}-{first + count - 1} not on the map (0-{heights.size - 1})",
            )
        return f"{first} " + ",".join(f"{h:.1f}" for h in heights[first : first + count].tolist())

    handlers = {
        "STAT?": _status,
        "ALM:CLR": _clear_alarms,
        "LOAD": _load,
        "UNLOAD": _unload,
        "MAP?": _site_count,
        "PROG": _set_program,
        "PROG?": _read_program,
        "SEL:ALL": _select_all,
        "SEL:CLR": _select_clear,
        "SEL:ADD": _select_add,
        "SEL?": _selected,
        "BUMP": _bump,
        "ABORT": _abort,
        "HGT:STAT?": _height_summary,
        "HGT?": _heights,
    }
    parsers = {
        "wafer": _wafer_id,
        "material": _material,
        "ranges": parse_site_ranges,
        "first": whole_number,
        "count": whole_number,
    }

    # ----------------------------------------------------------------- tool state

    def interlock_conditions(self) -> dict[str, bool]:
        feed_m = wire_per_stud_m(self.program, self.physics) if self.program else 0.0
        return {
            "wafer_vacuum": self.wafer_id is not None,
            "wire_present": self.spool_m > 0 and self.spool_m >= feed_m,
        }

    def stage_temperature_c(self, now: float) -> float:
        """The chuck's temperature, ramping at the heating rate towards the program's."""
        change = self.physics.heating_rate_c_per_s * (now - self._stage_since_s)
        gap = self._stage_target_c - self._stage_from_c
        return (
            self._stage_target_c
            if abs(gap) <= change
            else self._stage_from_c + math.copysign(change, gap)
        )

    def _require_wafer(self) -> Workpiece:
        if self.wafer_id is None:
            raise HostRefused("NO_WAFER", "no wafer on the chuck")
        return self.twin.get(self.wafer_id)

    def load_spool(self, length_m: float | None = None) -> None:
        """The operator puts a new spool on the tool (default: a full one)."""
        self.advance()
        self.spool_m = self.physics.spool_length_m if length_m is None else length_m

    def inject_fault(self, fault: str) -> None:
        self.advance()  # the run so far happened before the fault
        super().inject_fault(fault)
        if fault == "out_of_wire":
            self.spool_m = 0.0

    def clear_fault(self, fault: str) -> None:
        self.advance()
        super().clear_fault(fault)
        if fault == "out_of_wire":
            self.load_spool()

    # ----------------------------------------------------------------- time and physics

    def advance(self) -> None:
        """Bring the run to the clock's present time: lay the studs due onto the wafer."""
        run = self.run
        if run is None or self.state not in (BonderState.HEATING, BonderState.BUMPING):
            return
        now = self.clock.now()
        for fault, alarm in (
            ("cover_open", "COVER_OPENED"),
            ("vacuum_leak", "VACUUM_LOST"),
            ("wire_break", "WIRE_BREAK"),
            ("non_stick", "NSOP"),
        ):
            if fault in self.injected:
                self._fault(alarm, now)
                return
        elapsed = now - run.bonding_from_s
        if elapsed < 0:
            return
        self.state = BonderState.BUMPING
        feed_m = wire_per_stud_m(run.program, self.physics) * run.stack_count
        affordable = run.done + int(self.spool_m / feed_m + 1e-9)
        by_time = int(elapsed / run.site_s + 1e-9)
        stop = min(run.plan.non_stick_at, affordable, run.total)
        target = min(by_time, stop)
        if target > run.done:
            self._bond(run, target, feed_m)
        if target < stop:
            return
        if stop == run.total:
            if elapsed >= run.total * run.site_s - 1e-9:
                self._end_run(RunResult.COMPLETED, run.bonding_from_s + run.total * run.site_s)
                self.state = BonderState.IDLE
        elif elapsed >= stop * run.site_s + run.cycle_s - 1e-9:
            self._fault("NSOP" if stop == run.plan.non_stick_at else "OUT_OF_WIRE", now)

    def _bond(self, run: _Run, target: int, feed_m: float) -> None:
        plan, part = run.plan, slice(run.done, target)
        bond_studs(
            self.twin.get(run.wafer_id),
            plan.sites[part],
            plan.height_um[part],
            plan.base_um[part],
            run.stack_count,
            run.program,
            self.physics,
        )
        self.spool_m = max(self.spool_m - (target - run.done) * feed_m, 0.0)
        run.done = target

    def _fault(self, alarm: str, now: float) -> None:
        self.latch(alarm)
        self._end_run(RunResult.ALARM, now, alarm=alarm)
        self.state = BonderState.FAULT

    def _end_run(self, result: RunResult, now: float, alarm: str = "") -> None:
        run = self.run
        assert run is not None
        run.ended_s = now
        self.last_result = result
        program = run.program
        detail: dict[str, float | str] = {
            "result": result.value,
            "wire_material": program.wire_material.value,
            "wire_diameter_um": program.wire_diameter_um,
            "stage_temperature_c": program.stage_temperature_c,
            "bond_force_gf": program.bond_force_gf,
            "ultrasonic_energy_uj": program.ultrasonic_energy_uj,
            "stack_count": run.stack_count,
            "sites_requested": run.total,
            "bumps_formed": run.done,
        }
        if alarm:
            detail["alarm"] = alarm
        self.twin.get(run.wafer_id).record(self.name, "stud bumping", now, **detail)
