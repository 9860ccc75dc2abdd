"""Simulated stud-bumping wire bonder: the ASCII host link on a serial line.

Speaks the command set of `docs/protocols/wire-bonder.md` (the tool's spec, through the ASCII
host-link wire side `families.ascii_host`; the program and site-range codecs come from the
driver module), on a pty by default or behind a `socket://` serial server. Time is the line's
clock: the run is advanced lazily to `clock.now()` on every command, so a virtual clock makes a
20-minute wafer cost only the polls that watch it. A run is planned when it starts (stud
geometry and where a ball fails to stick, vectorised over the selected sites) and laid onto the
wafer twin slice by slice as time passes. The bond physics are in
`sim_instruments/physics/wire_bonder.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from packline.clock import Clock
from packline.drivers.families.ascii_host import render_status
from packline.drivers.roles.clean_room import AMBIENT_C
from packline.drivers.roles.wire_bonder import (
    BonderState,
    BondProgram,
    HeightSummary,
    RunResult,
    WireMaterial,
)
from packline.drivers.specs.wire_bonder import (
    HEIGHT_CHUNK,
    HEIGHT_DECIMALS,
    HEIGHT_REPLY,
    MATERIAL_OF_TOKEN,
    NO_WAFER,
    SPEC,
    STATE_TOKENS,
    format_program,
    parse_site_ranges,
)

from .families.ascii_host import HostLinkTool, HostRefused, Transport, wafer_id, whole_number
from .physics.wire_bonder import (
    BondPhysics,
    BumpPlan,
    bond_studs,
    plan_bumps,
    stud_cycle_s,
    wire_per_stud_m,
)
from .ramp import Ramp
from .twin import JobEnd, TwinStore, Workpiece

# ------------------------------------------------------------------------- the tool

#: A bump run, in the words of its twin event.
STUD_BUMPING = "stud bumping"
#: How a run that ended with each result ended.
_JOB_ENDS = {
    RunResult.COMPLETED: JobEnd.COMPLETED,
    RunResult.ABORTED: JobEnd.ABORTED,
    RunResult.ALARM: JobEnd.FAULTED,
}


def _material(word: str) -> WireMaterial:
    """A wire material, a word of a fixed list: taken in any case (conventions.md)."""
    if word.upper() not in MATERIAL_OF_TOKEN:
        raise ValueError(f"wire material {word!r} is not one of {', '.join(MATERIAL_OF_TOKEN)}")
    return MATERIAL_OF_TOKEN[word.upper()]


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
    #: The wire the spool held before the run's first site: the spool as the run started (or
    #: as it was put on or ran out since, with what the sites bonded before took added back).
    spool_base_m: float
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
    state: BonderState

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "pty",
        serial_number: str = "WB-1-0001",
        physics: BondPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or BondPhysics()
        self.state = BonderState.IDLE
        self.wafer_id: str | None = None
        self.program: BondProgram | None = None
        self.selection: np.ndarray | None = None  # bool mask over the loaded wafer's sites
        self.run: _Run | None = None
        self.last_result = RunResult.NONE
        self.spool_m = self.physics.spool_length_m
        #: The chuck's temperature, degC, ramping towards the program's.
        self.stage = Ramp.holding(AMBIENT_C, self.physics.heating_rate_c_per_s, self.clock.now())

    def phase(self) -> str:
        return STATE_TOKENS[self.state]

    # ----------------------------------------------------------------- commands

    def status_values(self) -> dict[str, object]:
        """The status of the spec (`STAT?`) by name, state and result as the role's enums."""
        run = self.run
        now = self.clock.now()
        elapsed = (
            0.0
            if run is None
            else (run.ended_s if run.ended_s is not None else now) - run.started_s
        )
        return {
            "state": self.state,
            "wafer_id": self.wafer_id or "",
            "bumps_done": run.done if run else 0,
            "bumps_total": run.total if run else 0,
            "stack_count": run.stack_count if run else 0,
            "stage_temperature_c": self.stage.at(now),
            "wire_remaining_m": self.spool_m,
            "elapsed_s": elapsed,
            "last_result": self.last_result,
        }

    def _status(self) -> str:
        values = self.status_values()
        values["state"] = STATE_TOKENS[self.state]
        values["last_result"] = self.last_result.name
        return render_status(SPEC, values)

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

    def _load(self, wafer_id: str, *, rework: bool = False) -> str:
        if self.wafer_id is not None:
            raise self.unmet("ALREADY_LOADED", wafer=self.wafer_id)
        self.require_interlocks("LOAD")
        self.take_into_tool(wafer_id, rework=rework)
        self._set_chuck_wafer(wafer_id)
        return ""

    def _reload(self, wafer_id: str) -> str:
        return self._load(wafer_id, rework=True)

    def _unload(self, wafer_id: str) -> str:
        loaded = self._require_wafer()
        if wafer_id != loaded.id:
            raise HostRefused(
                "WAFER_MISMATCH", f"wafer on the chuck is {loaded.id}, not {wafer_id}"
            )
        self.require_interlocks("UNLOAD")
        self._set_chuck_wafer(None)
        return ""

    def _set_chuck_wafer(self, wafer_id: str | None) -> None:
        """The chuck holds `wafer_id` (None: nothing) from now on, no site selected and no run
        on it: the status's run words (`DONE`, `TOTAL`, `STACK`, `ELAPSED`, `LAST`) are of the
        wafer on the chuck, so a wafer loaded or taken off leaves no run of another wafer in
        them (a `STAT?` after `LOAD W02` had read W01's run, `DONE=784 … LAST=COMPLETED`)."""
        self.wafer_id, self.selection = wafer_id, None
        self.run, self.last_result = None, RunResult.NONE

    def _site_count(self) -> str:
        return str(self._require_wafer().geometry.site_count)

    def _set_program(self, material: WireMaterial, *values: float) -> str:
        program = BondProgram(material, *values)
        self.stage.head_for(program.stage_temperature_c, self.clock.now())
        self.program = program
        return ""

    def _read_program(self) -> str:
        if self.program is None:
            raise self.unmet("NO_PROGRAM")
        return format_program(self.program).removeprefix("PROG ")

    def _select_all(self) -> str:
        self.selection = np.ones(self._require_wafer().geometry.site_count, bool)
        return str(self.selection.size)

    def _select_clear(self) -> str:
        self.selection = np.zeros(self._require_wafer().geometry.site_count, bool)
        return "0"

    def _select_add(self, sites: np.ndarray) -> str:
        count = self._require_wafer().geometry.site_count
        if sites[-1] >= count:
            raise HostRefused(
                "BAD_SITE", f"site {sites[-1]} not on the map (0-{count - 1})", argument=0
            )
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
            raise self.unmet("NO_PROGRAM")
        if self.selection is None or not self.selection.any():
            raise self.unmet("NO_SELECTION")
        self.require_interlocks("BUMP")
        now = self.clock.now()
        program = self.program
        sites = np.flatnonzero(self.selection)
        plan = plan_bumps(
            workpiece, sites, program, stack_count, self.physics, workpiece.draws(int(sites[0]))
        )
        heating_s = self.stage.time_to_target_s(now)
        self.run = _Run(
            wafer_id=workpiece.id,
            program=program,
            stack_count=stack_count,
            plan=plan,
            started_s=now,
            bonding_from_s=now + heating_s,
            cycle_s=stud_cycle_s(program, self.physics),
            spool_base_m=self.spool_m,
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
        """The loaded wafer's bump heights over its bumped sites (all 0 with none), at the
        reply's resolution (`HEIGHT_REPLY`)."""
        heights = self._require_wafer().bumps.height_um
        bumped = heights[heights > 0].astype(np.float64)
        if bumped.size == 0:
            return HEIGHT_REPLY.render(HeightSummary(0, 0.0, 0.0, 0.0, 0.0))
        summary = HeightSummary(
            int(bumped.size),
            float(bumped.min()),
            float(bumped.mean()),
            float(bumped.max()),
            float(bumped.std()),
        )
        return HEIGHT_REPLY.render(summary)

    def _heights(self, first: int, count: int) -> str:
        if not 1 <= count <= HEIGHT_CHUNK:
            raise HostRefused("OUT_OF_RANGE", f"count {count} outside 1-{HEIGHT_CHUNK}", argument=1)
        heights = self._require_wafer().bumps.height_um
        if first + count > heights.size:
            last = first + count - 1
            asked = f"site {first}" if count == 1 else f"sites {first}-{last}"
            raise HostRefused(
                "BAD_SITE", f"{asked} not on the map (0-{heights.size - 1})", argument=0
            )
        chunk = heights[first : first + count].tolist()
        return f"{first} " + ",".join(f"{h:.{HEIGHT_DECIMALS}f}" for h in chunk)

    handlers = {
        "STAT?": _status,
        "ALM:CLR": _clear_alarms,
        "LOAD": _load,
        "RELOAD": _reload,
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
        "wafer": wafer_id,
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

    def _require_wafer(self) -> Workpiece:
        if self.wafer_id is None:
            raise self.unmet(NO_WAFER)
        return self.twin.get(self.wafer_id)

    def load_spool(self, length_m: float | None = None) -> None:
        """The operator puts a new spool on the tool (default: a full one)."""
        self.advance()
        self._spool(self.physics.spool_length_m if length_m is None else length_m)

    def inject_fault(self, fault: str) -> None:
        self.advance()  # the run so far happened before the fault
        super().inject_fault(fault)
        if fault == "out_of_wire":
            self._spool(0.0)

    def _spool(self, length_m: float) -> None:
        """The spool holds `length_m` of wire from now on (a run's sites take theirs from it)."""
        self.spool_m = length_m
        run = self.run
        if run is not None:
            run.spool_base_m = length_m + run.done * self._feed_m(run)

    def clear_fault(self, fault: str) -> None:
        self.advance()
        super().clear_fault(fault)
        if fault == "out_of_wire":
            self.load_spool()

    # ----------------------------------------------------------------- time and physics

    def next_change_s(self, now: float) -> float:
        """When the run's state changes next by itself: bumping starts, the run ends (every
        site bonded), or it stops short (a non-stick, the wire run out); else the scan."""
        run = self.run
        if run is None or self.state not in (BonderState.HEATING, BonderState.BUMPING):
            return super().next_change_s(now)
        if now < run.bonding_from_s:
            return run.bonding_from_s
        stop = self._stop(run, self._feed_m(run))
        if stop == run.total:
            return run.bonding_from_s + run.total * run.site_s
        return run.bonding_from_s + stop * run.site_s + run.cycle_s

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
        feed_m = self._feed_m(run)
        by_time = int(elapsed / run.site_s + 1e-9)
        stop = self._stop(run, feed_m)
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

    def _feed_m(self, run: _Run) -> float:
        """The wire one site of the run takes, m."""
        return wire_per_stud_m(run.program, self.physics) * run.stack_count

    def _stop(self, run: _Run, feed_m: float) -> int:
        """The site the run stops before: its end, a non-stick, or the last the spool affords."""
        affordable = run.done + int(self.spool_m / feed_m + 1e-9)
        return min(run.plan.non_stick_at, affordable, run.total)

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
        # the wire the sites bonded so far took, in one product: the same however often the
        # run was looked at (a sum over each look's sites would carry the looks' roundings)
        self.spool_m = max(run.spool_base_m - target * feed_m, 0.0)
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
        self.twin.get(run.wafer_id).record(self.name, STUD_BUMPING, now, **detail)
        self.job_ended(STUD_BUMPING, [run.wafer_id], now, _JOB_ENDS[result], alarm or None)
