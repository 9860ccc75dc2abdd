"""Simulated flip-chip bonder: the ASCII host link of `docs/protocols/flip-chip-bonder.md`.

Speaks the command set of the protocol page (the bonder's spec, through the ASCII host-link
wire side `families.ascii_host`) on a `socket://` server (the default) or on a pty. Two
workpieces of the twin are in it: the substrate on the stage (`LOAD`, one-wafer rules: no
rework) and the die source in the supply (`SRC:LOAD`: a wafer diced into its dies, taken
again as often as it has dies left). Time is the line's clock: a run is planned when `BOND` is
accepted (the fit of the dies on the substrate, each die's placement) and laid onto the twin
die by die as the clock passes each die's cycle; a transfer (`XFER`) the same way, die by die
of the wafer on the stage, and a frame run (`FRAME`) frame by frame on the panel's units. A
`BOND` whose die source is a diced panel of packages with balls on their bottom stacks them
(000:x2): one level above what stands on the units, each package on the column tops below.
`STOP` or an alarm ends it early: the dies bonded (or coated, or frames pressed) stay, the die
on the head is rejected. The run (its plan, the dies laid onto the twin, the results
read back) is `flip_chip_bonder_run.py`, the physics `sim_instruments/physics/flip_chip_bonder.py`
(frames and stacks: `flip_chip_frame.py`).
"""

from __future__ import annotations

import numpy as np

from packline.clock import Clock
from packline.drivers.families.ascii_host import render_status
from packline.drivers.roles.clean_room import AMBIENT_C, reachable_c
from packline.drivers.roles.flip_chip_bonder import (
    BondRecipe,
    FlipChipState,
    FrameRecipe,
    SolderTransfer,
    TransferAlloy,
)
from packline.drivers.specs.flip_chip_bonder import SPEC

from .families.ascii_host import HostRefused, Transport, wafer_id, whole_number
from .families.ascii_host_jobs import OneWaferTool
from .flip_chip_bonder_run import Bond, Framing, Run
from .physics.flip_chip_bonder import (
    FlipChipPhysics,
    Misfit,
    Placement,
    die_cycle_s,
    fit_terminals,
    free_dies,
    heating_s,
    place,
    source_problem,
    terminal_layout,
)
from .physics.flip_chip_frame import column_layout, device_layout, is_device_source
from .twin import JobEnd, TwinStore, Workpiece

#: How far a drifted vision calibration (the `vision_drift` fault) misplaces every die, um.
DRIFT_UM = (40.0, 0.0)


def _alloy(word: str) -> TransferAlloy:
    for alloy in TransferAlloy:
        if alloy.value.upper() == word.upper():
            return alloy
    raise ValueError(f"alloy {word!r} is not one of {', '.join(TransferAlloy)}")


def _run_recipe(head_c: float, stage_c: float, force_n: float, time_s: float) -> BondRecipe:
    """The recipe a run bonds with, as its command gives it but for a head or a stage set
    below the room, which holds the room (heaters, no chiller: `reachable_c`): the run
    bonds at it and heats its joints from it."""
    return BondRecipe(reachable_c(head_c), reachable_c(stage_c), force_n, time_s)


class SimFlipChipBonder(OneWaferTool):
    """The simulated flip-chip bonder behind a TCP line server (socket://) or a pty."""

    spec = SPEC
    transports = ("socket", "pty")
    faults = {
        "door_open": "the safety door is opened",
        "vacuum_leak": "the stage vacuum leaks",
        "air_loss": "the bond head's air supply fails",
        "vision_drift": f"the vision calibration drifts: dies land {DRIFT_UM[0]:g} um off",
    }
    fault_opens = {
        "door_open": "door_closed",
        "vacuum_leak": "wafer_vacuum",
        "air_loss": "head_air",
    }

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        transport: Transport = "socket",
        serial_number: str = "FC-1-0001",
        physics: FlipChipPhysics | None = None,
    ) -> None:
        super().__init__(name, twin, clock, transport=transport, serial_number=serial_number)
        self.physics = physics or FlipChipPhysics()
        self.state = FlipChipState.IDLE
        self.source_id: str | None = None
        self.stage_c = AMBIENT_C
        self.run: Run | None = None
        self.latest: Run | None = None  # the last run that ended, of either kind
        self.last: Run | None = None  # the last bond run
        self.last_transfer: Run | None = None
        self.last_frame: Run | None = None
        self.runs_completed = 0

    # ----------------------------------------------------------------- queries

    def _stage_now_c(self) -> float:
        run = self.run
        if run is None or self.state is not FlipChipState.HEATING:
            return self.stage_c
        target = run.recipe.stage_temperature_c
        span = run.bonding_from_s - run.started_s
        share = (self.clock.now() - run.started_s) / span if span > 0 else 1.0
        return run.stage_from_c + (target - run.stage_from_c) * min(share, 1.0)

    def _stat(self) -> str:
        run = self.run or self.latest
        return render_status(
            SPEC,
            {
                "state": self.state.value,
                "substrate_id": self.wafer_id or "-",
                "source_id": self.source_id or "-",
                "dies_left": self._dies_left(),
                "dies_done": run.done if run else 0,
                "dies_total": run.units.size if run else 0,
                "stage_temperature_c": self._stage_now_c(),
                "remaining_s": max(self.run.ends_s - self.clock.now(), 0.0) if self.run else 0.0,
                "runs_completed": self.runs_completed,
            },
        )

    def _dies_left(self) -> int:
        if self.source_id is None:
            return 0
        return int(free_dies(self.twin.get(self.source_id)).size)

    def _units(self) -> str:
        return str(self.loaded().geometry.unit_count)

    def _result(self) -> str:
        run = self.last
        if run is None or run.bond is None:
            return "NONE"
        return run.bond_result(self.twin)

    def _transfer_result(self) -> str:
        run = self.last_transfer
        if run is None or run.transfer is None:
            return "NONE"
        return run.transfer_result(self.twin, self.physics)

    def _frame_result(self) -> str:
        run = self.last_frame
        if run is None or run.framing is None:
            return "NONE"
        return run.frame_result(self.twin)

    # ----------------------------------------------------------------- commands

    def _load_source(self, source_id: str) -> str:
        if self.source_id is not None:
            raise HostRefused("WRONG_STATE", f"die source {self.source_id} is loaded")
        self.require_interlocks("SRC:LOAD")
        source = self.twin.get(source_id)
        problem = source_problem(source)
        if problem is not None:
            raise HostRefused("BAD_SOURCE", problem)
        self.source_id = source_id
        return str(self._dies_left())

    def _unload_source(self, source_id: str) -> str:
        if self.source_id != source_id:
            loaded = (
                "no die source is" if self.source_id is None else f"die source {self.source_id} is"
            )
            raise HostRefused("NO_DIES", f"{loaded} loaded, not {source_id}")
        self.source_id = None
        return ""

    def _bond(
        self,
        first: int,
        count: int,
        head_c: float,
        stage_c: float,
        force_n: float,
        time_s: float,
    ) -> str:
        substrate = self.loaded()
        if self.source_id is None:
            raise HostRefused("NO_DIES", "no die source loaded")
        source = self.twin.get(self.source_id)
        units = self._units_of(substrate, first, count)
        stacking = is_device_source(source)
        level, before = (
            self._stack_level(substrate, source, units)
            if stacking
            else self._bare(substrate, units)
        )
        free = free_dies(source)
        if free.size < count:
            raise HostRefused("NO_DIES", f"source {source.id} has {free.size} dies left")
        match = self._fit(substrate, source, stacking)
        self.require_interlocks("BOND")
        bond = Bond(source.id, free[:count], match, self._place(substrate, units), before, level)
        return self._start(substrate, units, _run_recipe(head_c, stage_c, force_n, time_s), bond)

    def _place(self, substrate: Workpiece, units: np.ndarray) -> Placement:
        """How the vision aligns the parts (dies, frames, packages) a run puts on `units` of
        `substrate`: drawn from the substrate's generator for its first unit
        (`Workpiece.draws`)."""
        bias = DRIFT_UM if "vision_drift" in self.injected else (0.0, 0.0)
        return place(units.size, bias, self.physics, substrate.draws(int(units[0])))

    @staticmethod
    def _bare(substrate: Workpiece, units: np.ndarray) -> tuple[None, int]:
        """Dies go on units without one: refused `BAD_UNIT` otherwise; no stack level, and the
        dies on the substrate before the run."""
        occupied = np.intersect1d(units, substrate.dies.unit)
        if occupied.size:
            raise HostRefused("BAD_UNIT", f"unit {int(occupied[0])} already carries a die")
        return None, substrate.dies.count

    @staticmethod
    def _stack_level(substrate: Workpiece, source: Workpiece, units: np.ndarray) -> tuple[int, int]:
        """The stack level packages go to on `units` (all as high, on a frame's columns) and
        the packages in it before the run; refused `BAD_UNIT` or, for a level whose packages
        come from another panel, `BAD_SOURCE`."""
        heights = substrate.stack.height(substrate.geometry.unit_count)[units]
        if heights.min() != heights.max():
            raise HostRefused("BAD_UNIT", f"units {units[0]}-{units[-1]} are stacked unevenly")
        bare = units[substrate.frame.height_um[units] <= 0]
        if bare.size:
            raise HostRefused("BAD_UNIT", f"unit {int(bare[0])} carries no frame to stack on")
        level = int(heights[0])
        levels = substrate.stack.levels
        if level < len(levels) and levels[level].source != source.id:
            raise HostRefused(
                "BAD_SOURCE",
                f"stack level {level + 1} takes its packages from {levels[level].source}",
            )
        return level, int(levels[level].unit.size) if level < len(levels) else 0

    def _xfer(
        self,
        first: int,
        count: int,
        alloy: TransferAlloy,
        film_um: float,
        head_c: float,
        stage_c: float,
        force_n: float,
        time_s: float,
    ) -> str:
        wafer = self.loaded()
        units = self._units_of(wafer, first, count)
        bumps = wafer.bumps
        if not bumps.present.any():
            raise HostRefused("BAD_BUMPS", f"wafer {wafer.id} carries no bumps")
        if bumps.layer_alloy not in (None, alloy.value) and bumps.layer_um.any():
            raise HostRefused(
                "BAD_BUMPS", f"the bumps of {wafer.id} carry a {bumps.layer_alloy} layer"
            )
        self.require_interlocks("XFER")
        recipe = _run_recipe(head_c, stage_c, force_n, time_s)
        transfer = SolderTransfer(alloy, film_um, recipe)
        return self._start(wafer, units, recipe, transfer=transfer)

    def _frame(
        self,
        first: int,
        count: int,
        frame_um: float,
        column_um: float,
        protrusion_um: float,
        head_c: float,
        stage_c: float,
        force_n: float,
        time_s: float,
    ) -> str:
        panel = self.loaded()
        units = self._units_of(panel, first, count)
        framed = units[panel.frame.height_um[units] > 0]
        if framed.size:
            raise HostRefused("BAD_UNIT", f"unit {int(framed[0])} already carries a frame")
        try:
            column_layout(panel.geometry)
        except Misfit as misfit:
            raise HostRefused("MISFIT", f"frames on {panel.id}: {misfit}") from None
        self.require_interlocks("FRAME")
        recipe = _run_recipe(head_c, stage_c, force_n, time_s)
        frame = FrameRecipe(frame_um, column_um, protrusion_um, recipe)
        return self._start(panel, units, recipe, framing=Framing(frame, self._place(panel, units)))

    def _units_of(self, substrate: Workpiece, first: int, count: int) -> np.ndarray:
        """Units `first` to `first + count - 1`, refused `BAD_UNIT` beyond the substrate."""
        units = np.arange(first, first + count)
        unit_count = substrate.geometry.unit_count
        if count < 1 or units[-1] >= unit_count:
            raise HostRefused(
                "BAD_UNIT", f"units {first}-{first + count - 1} are not 0-{unit_count - 1}"
            )
        return units

    def _start(
        self,
        substrate: Workpiece,
        units: np.ndarray,
        recipe: BondRecipe,
        bond: Bond | None = None,
        transfer: SolderTransfer | None = None,
        framing: Framing | None = None,
    ) -> str:
        """Plan the run: the stage's ramp, then a cycle per die (or frame)."""
        now = self.clock.now()
        self.run = Run(
            substrate_id=substrate.id,
            units=units,
            recipe=recipe,
            stage_from_c=self.stage_c,
            started_s=now,
            bonding_from_s=now + heating_s(self.stage_c, recipe, self.physics),
            cycle_s=die_cycle_s(recipe, self.physics),
            bond=bond,
            transfer=transfer,
            framing=framing,
        )
        self.state = FlipChipState.HEATING
        return str(units.size)

    def _fit(self, substrate: Workpiece, source: Workpiece, stacking: bool) -> np.ndarray:
        """Where the source's terminals fall in a unit: a die's, flipped, on the terminal
        sites; a package's, as it lies, on the column sites."""
        try:
            if stacking:
                return fit_terminals(
                    column_layout(substrate.geometry),
                    device_layout(source),
                    self.physics,
                    flipped=False,
                )
            return fit_terminals(
                terminal_layout(substrate.geometry), terminal_layout(source.geometry), self.physics
            )
        except Misfit as misfit:
            raise HostRefused(
                "MISFIT", f"dies of {source.id} on {substrate.id}: {misfit}"
            ) from None

    def _stop(self) -> str:
        if self.run is not None:
            self._end(JobEnd.ABORTED)
        return ""

    handlers = {
        "STAT?": _stat,
        "LOAD": OneWaferTool.load_wafer,
        "RELOAD": OneWaferTool.reload_wafer,
        "UNLOAD": OneWaferTool.unload_wafer,
        "SRC:LOAD": _load_source,
        "SRC:UNLOAD": _unload_source,
        "UNITS?": _units,
        "BOND": _bond,
        "XFER": _xfer,
        "XFER?": _transfer_result,
        "FRAME": _frame,
        "FRAME?": _frame_result,
        "RESULT?": _result,
        "STOP": _stop,
        "RST": OneWaferTool.reset_alarms,
    }
    parsers = {"wafer": wafer_id, "first": whole_number, "count": whole_number, "alloy": _alloy}

    # ----------------------------------------------------------------- time and physics

    def next_change_s(self, now: float) -> float:
        """When the run's state changes next by itself: the stage at temperature (bonding
        starts), then the run's last die; else the scan (a run's alarms come of faults, which
        wake a held reply themselves)."""
        run = self.run
        if run is None:
            return super().next_change_s(now)
        return run.bonding_from_s if now < run.bonding_from_s else run.ends_s

    def advance(self) -> None:
        """Bring the run to the clock's present time: bond the dies due, or alarm."""
        run = self.run
        if run is None:
            return
        for fault, alarm in (
            ("door_open", "DOOR_OPENED"),
            ("vacuum_leak", "VACUUM_LOST"),
            ("air_loss", "AIR_LOST"),
        ):
            if fault in self.injected:
                self.latch(alarm)
                self._end(JobEnd.FAULTED)
                return
        now = self.clock.now()
        if now < run.bonding_from_s:
            return
        self.state = FlipChipState.TRANSFERRING if run.transfer else FlipChipState.BONDING
        self.stage_c = run.recipe.stage_temperature_c
        due = min(int((now - run.bonding_from_s) / run.cycle_s + 1e-9), run.units.size)
        if due > run.done:
            if run.bond is not None:
                run.bond_dies(due, self.twin, self.physics, self.name, self.clock)
            elif run.framing is not None:
                run.mount_frames(due, self.twin, self.physics, self.name, self.clock)
            else:
                run.transfer_solder(due, self.twin, self.physics, self.name, self.clock)
        if run.done == run.units.size:
            self._end(JobEnd.COMPLETED)

    def _end(self, end: JobEnd) -> None:
        """End the run as `end` says (its bonded dies stay, a die on the head goes to the
        reject bin; the bonder in `FAULT` after an alarm, else `IDLE`), and tell its end; the
        stage holds the temperature it reached."""
        run = self.run
        assert run is not None
        bond = run.bond
        if bond is not None and self.state is FlipChipState.BONDING and run.done < run.units.size:
            self.twin.get(bond.source_id).singulation.picked.append(
                int(bond.source_units[run.done])
            )
        self.stage_c = self._stage_now_c()
        state = FlipChipState.FAULT if end is JobEnd.FAULTED else FlipChipState.IDLE
        self.run, self.latest, self.state = None, run, state
        if end is JobEnd.COMPLETED:
            self.runs_completed += 1
        if bond is not None:
            self.last = run
        elif run.framing is not None:
            self.last_frame = run
        else:
            self.last_transfer = run
        self.job_ended(run.operation, run.workpieces, self.clock.now(), end)
