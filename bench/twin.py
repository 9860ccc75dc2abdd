"""Benchmark: computation per process step in the workpiece twin, on a real wafer map and panel.

Prints, for each tool's physics on a 300 mm wafer with about 60,000 bump sites, and for the
tools that take panels on a tape panel of 500 units, the median and p99 CPU time of one process
step (target: under 10 ms), and its median wall time. The verdict is on the CPU time, the
step's own computation: on a shared machine the wall time also counts the time the process
waits for a core (with a load of 10 on 2 cores, about five times the CPU time).

Then the twin snapshot the engine takes with every completed step (`Snapshots.take`), of a
wafer of five wiring levels (as sprout-bump-csp-levels-5's: 8,352 sites, about 170 arrays):
left alone since the last snapshot, a step recorded, one array written, and every array
thawed: each one's bytes compared with the last snapshot's, as every take compared them before
decision 0084 (the baseline, measured alongside, with the cost of freezing them again).
Run: `python bench/twin.py`.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable

import numpy as np

from packline.drivers.roles.deposition import Material, Method
from packline.drivers.roles.electroplater import Metal
from packline.drivers.roles.flip_chip_bonder import BondRecipe
from packline.drivers.roles.grinder import GrindSide
from packline.drivers.roles.laser import Atmosphere
from packline.drivers.roles.lithography import RETICLES, CoatMaterial
from packline.drivers.roles.oven import LastResult
from packline.drivers.roles.plasma_cleaner import Gas
from packline.drivers.roles.resin_coater import CoatResin
from packline.drivers.roles.wet_bench import Tank
from packline.drivers.roles.wire_bonder import BondProgram, WireMaterial
from packline.sim_instruments.dicing_saw_cut import Cut, CutSettings
from packline.sim_instruments.physics.deposition import DepositionPhysics, deposit_film
from packline.sim_instruments.physics.dicing_saw import SawPhysics, singulated_units
from packline.sim_instruments.physics.electroplater import PlatingPhysics, cathode_of, plate
from packline.sim_instruments.physics.flip_chip_bonder import (
    FlipChipPhysics,
    bond_dies,
    fit_terminals,
    free_dies,
    place,
    terminal_layout,
)
from packline.sim_instruments.physics.flip_chip_transfer import transfer_layer
from packline.sim_instruments.physics.grinder import grind_to_level
from packline.sim_instruments.physics.laminator import LaminatorPhysics, laminate_sheet
from packline.sim_instruments.physics.laser import LaserPhysics, laser_clean
from packline.sim_instruments.physics.lithography import (
    LithoPhysics,
    bake,
    coat,
    develop_film,
    expose,
)
from packline.sim_instruments.physics.oven import LoadHistory, ReflowPhysics, apply_run
from packline.sim_instruments.physics.plasma_cleaner import PlasmaPhysics, expose_to_plasma
from packline.sim_instruments.physics.resin_coater import (
    Coat,
    CoaterPhysics,
    coated_layer,
    soft_bake,
    spin_coat,
)
from packline.sim_instruments.physics.wet_bench import (
    WetPhysics,
    etch,
    plate_electroless,
    strip,
)
from packline.sim_instruments.physics.wire_bonder import BondPhysics, plan_bumps
from packline.sim_instruments.twin import (
    PanelSpec,
    ResinKind,
    Support,
    WaferSpec,
    Workpiece,
    new_panel,
    new_wafer,
)
from packline.sim_instruments.twin.freezing import thaw
from packline.sim_instruments.twin.parts import BumpKind, Dies, Film, FilmMaterial
from packline.sim_instruments.twin.snapshot import Snapshots

SPEC = WaferSpec(diameter_mm=300.0, die_size_mm=(10.0, 10.0), pads_per_die_side=24)
PANEL = PanelSpec(rows=10, columns=50)
REPEATS = 200
TARGET_MS = 10.0
#: Dies bonded at 240 degC over a Sn-Bi filled hole or onto pads (chip on wafer).
BOND = BondRecipe(250, 150, 20, 5)


def bumped_wafer() -> Workpiece:
    wafer = new_wafer("BENCH", SPEC)
    wafer.bumps.height_um[:] = 60.0
    wafer.add_resin(ResinKind.THERMOSET, 45.0)
    wafer.surface.residue_nm[:] = 300.0
    sites = wafer.geometry.site_count
    seed = Film.blanket(FilmMaterial.CU, 0.3, sites)
    plated = Film.blanket(FilmMaterial.CU, 5.0, sites)
    wafer.films.layers += [seed, plated]
    return wafer


def relaminate(wafer: Workpiece, laminator: LaminatorPhysics, rng: np.random.Generator) -> None:
    """Laminate a sheet in place of the wafer's top one (so repeats do not pile up layers)."""
    wafer.resins.layers.pop()
    wafer.openings.layers.pop()
    laminate_sheet(wafer, 45.0, Support.FILM, 0.0, 100.0, 0.5, 100.0, 20.0, laminator, rng)


def redeposit(wafer: Workpiece, physics: DepositionPhysics) -> None:
    """Sputter a Cu seed in place of the wafer's last one (so repeats do not pile up films)."""
    if wafer.films.layers:
        wafer.films.layers.pop()
    deposit_film(wafer, Method.SPUTTER, Material.CU, 300.0, 0.01, physics)


def recoat(wafer: Workpiece, physics: CoaterPhysics) -> Coat:
    """Spin a precursor in place of the coater's last one (so repeats do not pile up layers)."""
    if coated_layer(wafer) is not None:
        wafer.resins.layers.pop()
        wafer.openings.layers.pop()
    return spin_coat(wafer, CoatResin.THERMOSET, 1000, 30, physics)


def die_wafer(workpiece_id: str, spec: WaferSpec) -> Workpiece:
    """A wafer of `spec` with a gold stud on every pad, diced into its dies: a die source."""
    wafer = new_wafer(workpiece_id, spec)
    wafer.bumps.height_um[:] = 60.0
    wafer.bumps.base_diameter_um[:] = 100.0
    wafer.bumps.kind, wafer.bumps.material = BumpKind.STUD, "Au"
    wafer.singulation.units = wafer.geometry.unit_count
    return wafer


def rebond(substrate: Workpiece, source: Workpiece, physics: FlipChipPhysics) -> object:
    """Bond a die of `source` on every unit of `substrate`, as the simulated bonder plans and
    lays a run, in place of the last run's dies (so repeats do not pile up dies)."""
    substrate.dies = Dies.empty(substrate.geometry.site_count)
    source.singulation.picked.clear()
    match = fit_terminals(
        terminal_layout(substrate.geometry), terminal_layout(source.geometry), physics
    )
    units = np.arange(substrate.geometry.unit_count)
    placement = place(units.size, (0.0, 0.0), physics, np.random.default_rng(0))
    return bond_dies(
        substrate, source, units, free_dies(source)[: units.size], match, placement, BOND, physics
    )


def oven_history(points: tuple[tuple[float, float], ...]) -> LoadHistory:
    """A load history sampled every second, as the simulated oven keeps it, through `points`
    (time s, temperature degC)."""
    history = LoadHistory()
    times = np.arange(points[0][0], points[-1][0] + 1.0)
    temperatures = np.interp(times, [p[0] for p in points], [p[1] for p in points])
    for time_s, temperature_c in zip(times, temperatures, strict=True):
        history.add(float(time_s), float(temperature_c), 20.0)
    return history


def reflow_layered_bumps(wafer: Workpiece, history: LoadHistory) -> None:
    """A reflow of a Sn63Pb37 layer on Pb90Sn10 bumps, and of SAC305 balls on the pads."""
    wafer.bumps.material, wafer.bumps.layer_alloy = "Pb90Sn10", "Sn63Pb37"
    wafer.bumps.layer_um[:] = 10.0
    wafer.balls.present[:] = True
    wafer.balls.alloy = "SAC305"
    apply_run(wafer, history, ReflowPhysics(), "oven", 0.0, LastResult.COMPLETED)


def steps(wafer: Workpiece) -> dict[str, Callable[[Workpiece], object]]:
    """One process step of each simulated tool, as its simulator applies it to the twin."""
    rng = np.random.default_rng(0)
    every_site = np.arange(wafer.geometry.site_count)
    program = BondProgram(WireMaterial.CU, 32, 150, 30, 60, 15)
    plasma, laminator, laser = PlasmaPhysics(), LaminatorPhysics(), LaserPhysics()
    deposition = DepositionPhysics()
    litho, wet, mould = LithoPhysics(), WetPhysics(), RETICLES["wiring-level-1"]
    coater = CoaterPhysics()
    spun = Coat(25.2, 17.0, 32.7, 0.17)  # what the coat below leaves, for the bake's report
    dies = wafer.geometry.unit_count
    plating = PlatingPhysics()
    flip_chip, chips = FlipChipPhysics(), die_wafer("BENCH-D", SPEC)  # chips on a wafer
    every_die = np.arange(dies)

    def plating_of(metal: Metal, charge_c: float, on_s: float) -> Callable[[Workpiece], object]:
        """Plate `metal` on the workpiece's cathode (the tips without a seed, else the seed the
        developed mould exposes), the film left off: repeats would pile up films."""

        def plate_on(w: Workpiece) -> object:
            cathode = cathode_of(w, metal)
            return plate(
                metal, charge_c, on_s, cathode.site_area_cm2, cathode.sites, 25, 60, 100, plating
            )

        return plate_on

    die_x = np.unique(wafer.geometry.unit_origin_mm[:, 0])
    die_y = np.unique(wafer.geometry.unit_origin_mm[:, 1])
    cure = oven_history(((0, 25), (1500, 150), (5100, 150), (6300, 60)))
    reflow = oven_history(((0, 25), (90, 150), (150, 150), (200, 235), (240, 235), (330, 60)))
    return {
        "wire bonder: plan all bumps": lambda w: plan_bumps(
            w, every_site, program, 1, BondPhysics(), rng
        ),
        "laminator: laminate a sheet": lambda w: relaminate(w, laminator, rng),
        "plasma: O2 step (1 s)": lambda w: expose_to_plasma(w, Gas.O2, 300, 1.0, plasma, 300),
        "plasma: Ar step (1 s)": lambda w: expose_to_plasma(w, Gas.AR, 500, 1.0, plasma, 500),
        "laser: clean all sites": lambda w: laser_clean(
            w, every_site, 0.2, 50, Atmosphere.FORMING_GAS, True, True, laser
        ),
        "grinder: grind to a level": lambda w: grind_to_level(w, GrindSide.BACK, 700.0),
        "deposition: sputter a Cu seed": lambda w: redeposit(w, deposition),
        "electroplater: SnPb on the tips": plating_of(Metal.SNPB, 50.0, 20.0),
        "dicing saw: singulated units": lambda w: singulated_units(
            w.geometry.unit_origin_mm, w.geometry.unit_size_mm, die_x, die_y, 23.0
        ),
        "oven: cure 60 min at 150 degC": lambda w: apply_run(
            w, cure, ReflowPhysics(), "oven", 0.0, LastResult.COMPLETED
        ),
        "oven: reflow layer, core, balls": lambda w: reflow_layered_bumps(w, reflow),
        "litho: coat a resist": lambda w: coat(w, CoatMaterial.PR_THICK, 4000, 30, litho),
        "litho: soft bake": lambda w: bake(w, 110, 90, litho),
        "litho: expose every die": lambda w: expose(w, mould, 450, dies),
        "litho: develop": lambda w: develop_film(w, mould, 120, litho),
        "electroplater: Cu in a mould": plating_of(Metal.CU, 500.0, 600.0),
        "wet bench: strip (1 s)": lambda w: strip(w, 1.0, 60, wet),
        "wet bench: Cu etch (1 s)": lambda w: etch(w, Tank.CU_ETCH, 1.0, 30, wet),
        "wet bench: electroless Cu (1 s)": lambda w: plate_electroless(w, 1.0, 60, wet),
        "resin coater: spin a precursor": lambda w: recoat(w, coater),
        "resin coater: soft bake": lambda w: soft_bake(w, spun, 100, 60, coater),
        "flip-chip: a die on every unit": lambda w: rebond(w, chips, flip_chip),
        "flip-chip: transfer a layer": lambda w: transfer_layer(
            w, every_die, "Sn63Pb37", 20.0, BOND, flip_chip
        ),
    }


def drilled_panel() -> Workpiece:
    """A tape panel whose through-holes are open onto the interconnect (after 000:a), filled
    with Sn-Bi (000:b)."""
    panel = new_panel("BENCH-P", PANEL)
    holes = panel.openings.substrate
    holes.open[:] = True
    holes.depth_um[:] = PANEL.tape_thickness_um
    holes.diameter_um[:] = 150.0
    panel.fill.volume_nl[:] = 1.0
    panel.fill.material = "SNBI"
    return panel


def panel_steps(panel: Workpiece) -> dict[str, Callable[[Workpiece], object]]:
    """One process step of each simulated tool that takes panels, as it applies to the twin."""
    every_site = np.arange(panel.geometry.site_count)
    plasma, laser = PlasmaPhysics(), LaserPhysics()
    origins = panel.geometry.unit_origin_mm
    width, height = panel.geometry.unit_size_mm
    kerfs_x = np.unique(np.concatenate([origins[:, 0], origins[:, 0] + width]))
    kerfs_y = np.unique(np.concatenate([origins[:, 1], origins[:, 1] + height]))
    # the panel's die sites (8 mm, six a side) take the dies of a 300 mm wafer of such dies
    flip_chip = FlipChipPhysics()
    chips = die_wafer("BENCH-D", WaferSpec(300.0, die_size_mm=(8.0, 8.0), pads_per_die_side=6))
    saw = SawPhysics()
    return {
        "plasma: O2 step (1 s)": lambda w: expose_to_plasma(w, Gas.O2, 300, 1.0, plasma, 300),
        "laser: clean all hole sites": lambda w: laser_clean(
            w, every_site, 0.2, 50, Atmosphere.FORMING_GAS, True, True, laser
        ),
        "grinder: grind to a level": lambda w: grind_to_level(w, GrindSide.BACK, 70.0),
        "dicing saw: singulated units": lambda w: singulated_units(
            w.geometry.unit_origin_mm, w.geometry.unit_size_mm, kerfs_x, kerfs_y, 40.0
        ),
        "dicing saw: plan the panel's cut": lambda w: Cut.plan(w, CutSettings(), 30, 20, saw, 0),
        "flip-chip: a die on every unit": lambda w: rebond(w, chips, flip_chip),
    }


def measure(workpiece: Workpiece, named_steps: dict[str, Callable[[Workpiece], object]]) -> None:
    """Time each step `REPEATS` times on `workpiece` and print the median and p99 of its CPU
    time and the median of its wall time."""
    print(
        f"{'process step':32} {'CPU median':>10} {'CPU p99':>10} {'wall median':>12}"
        f"  target < {TARGET_MS:g} ms CPU"
    )
    for name, step in named_steps.items():
        cpu, wall = [], []
        for _ in range(REPEATS):
            started_cpu, started = time.thread_time(), time.perf_counter()
            step(workpiece)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
        cpu.sort()
        median = statistics.median(cpu)
        p99 = cpu[int(0.99 * (len(cpu) - 1))]
        verdict = "ok" if p99 < TARGET_MS else "OVER TARGET"
        print(f"{name:32} {median:10.3f} {p99:10.3f} {statistics.median(wall):12.3f}  {verdict}")


#: The wafer of sprout-bump-csp-levels-5.yaml: 8,352 pad sites.
LEVELS_SPEC = WaferSpec(diameter_mm=200.0, die_size_mm=(10.0, 10.0), pads_per_die_side=8)
LEVELS = 5


def five_level_wafer() -> Workpiece:
    """A wafer built up as sprout-bump-csp-levels-5 leaves it, part for part: studs, then for
    each level a sheet and a Ti seed, a Cu seed and plated Cu tracked for the field's etch,
    each step recorded."""
    wafer = new_wafer("BENCH-L5", LEVELS_SPEC)
    sites = wafer.geometry.site_count
    wafer.bumps.height_um[:] = 60.0
    for level in range(LEVELS):
        wafer.record("wire_bonder", "stud bumping", 600.0 * level, bumps_formed=sites)
        wafer.add_resin(ResinKind.THERMOSET, 45.0 if level == 0 else 30.0)
        wafer.record("laminator", "laminate", 600.0 * level + 100, resin_um=45.0)
        for material, thickness_um in ((FilmMaterial.TI, 0.05), (FilmMaterial.CU, 0.3)):
            film = Film.blanket(material, thickness_um, sites, level=level)
            film.track_field()
            wafer.films.layers.append(film)
            wafer.record("deposition", "sputter", 600.0 * level + 200, thickness_nm=300.0)
        wafer.films.layers.append(Film.blanket(FilmMaterial.CU, 5.0, sites, level=level))
        for operation in ("coat", "bake", "expose", "develop", "plate", "strip", "etch"):
            wafer.record("lithography", operation, 600.0 * level + 300, result="completed")
    return wafer


def measure_snapshots(wafer: Workpiece) -> None:
    """Time `REPEATS` takes of `wafer`'s snapshot after each change (the changes in turn, so
    the machine's drift falls on each alike) and print the median and best CPU time."""
    snapshots = Snapshots()
    taken = snapshots.take(wafer)
    print(
        f"\ntwin snapshot of a wafer of {LEVELS} levels: {len(taken.parts)} arrays, "
        f"{len(taken.data) / 1e6:.1f} MB, {len(wafer.history)} events"
    )
    residue = wafer.surface.residue_nm

    def record_a_step(w: Workpiece) -> None:
        w.record("bench", "step", 0.0)
        w.history.pop(0)  # as long a history every time

    def write_an_array(w: Workpiece) -> None:
        thaw(residue)
        residue[0] += 1.0

    def thaw_every_array(w: Workpiece) -> None:
        thaw(*snapshots_arrays(w))

    changes: dict[str, Callable[[Workpiece], object]] = {
        "left alone": lambda w: None,
        "a step recorded": record_a_step,
        "one array written": write_an_array,
        "every array thawed (before 0084)": thaw_every_array,
    }
    cpu: dict[str, list[float]] = {name: [] for name in changes}
    for _ in range(REPEATS):
        for name, change in changes.items():
            change(wafer)
            started = time.thread_time()
            snapshots.take(wafer)
            cpu[name].append((time.thread_time() - started) * 1e6)
    print(f"{'take after':36} {'CPU median':>10} {'CPU best':>10}  us")
    for name, times in cpu.items():
        print(f"{name:36} {statistics.median(times):10.0f} {min(times):10.0f}")


def snapshots_arrays(wafer: Workpiece) -> list[np.ndarray]:
    """Every array of `wafer`'s twin, as its snapshot holds them."""
    found: list[np.ndarray] = []
    pending: list[object] = [wafer]
    while pending:
        value = pending.pop()
        if isinstance(value, np.ndarray):
            found.append(value)
        elif isinstance(value, list | tuple):
            pending += value
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            pending += [getattr(value, field.name) for field in dataclasses.fields(value)]
    return found


def main() -> None:
    wafer = bumped_wafer()
    geometry = wafer.geometry
    print(
        f"wafer: {SPEC.diameter_mm:g} mm, {geometry.unit_count} dies, {geometry.site_count} sites"
    )
    measure(wafer, steps(wafer))
    panel = drilled_panel()
    geometry = panel.geometry
    print(
        f"\npanel: {PANEL.rows} x {PANEL.columns} units, {geometry.site_count} hole sites, "
        f"{geometry.outline_mm[0]:g} x {geometry.outline_mm[1]:g} mm"
    )
    measure(panel, panel_steps(panel))
    measure_snapshots(five_level_wafer())


if __name__ == "__main__":
    main()
