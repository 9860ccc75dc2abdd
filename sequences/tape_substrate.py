"""Method "tape-substrate": packages on a tape substrate with filled through-holes (document 000).

Document 000 describes, on a tape panel with room for many package units whose bottom carries
a metal interconnection layer and a solder resist, as this script runs it on every panel:

1. 000:a  through-holes in the tape down to the interconnection layer, and openings in the
          solder resist: the laser drills the tape from the top, the tool's flipper turns the
          panel over, and the laser opens the solder resist from the bottom.
2. 000:b  conductive filler (a paste or a low-melting metal) dispensed into every hole by
          volume, deliberately short of full: filler + terminal volume = hole volume.
3. 000:c  the dies' connection terminals (gold or copper studs the wire bonder forms on the
          die wafer, which the saw then dices) inserted into the holes; the filler rises to
          about the holes' tops.
4. 000:d  each die bonded active side down on the tape's top by the flip-chip bonder (heat,
          force).
5. 000:e  sealing resin dispensed around every die, sealing its side faces, then cured in the
          oven.
6. 000:f  the resin top and the die backs ground and polished to the package thickness.
7. 000:x1 (recipe option `balls`) external terminals: solder balls on the metal in the solder
          resist openings, reflowed.
8. 000:g  the panel cut into its package units.

The recipe describes the incoming panel (the dry run's line receives it so) and the wafer the
dies come from: each panel takes its dies from its own die wafer, named after it
(`die_wafer_id`). Before any tool moves, every setpoint is checked against the tools' limits
and the claims' own constraints: filler + terminal volume within tolerance of the hole volume
(000:b), gold or copper terminals no taller than the hole (000:c), a sealing resin above the
ground height and dies thicker than it, so the ground die backs are flush with the resin
(000:e, 000:f). After a dry run, the claim check looks at every hole, die and unit.
"""

from __future__ import annotations

import math
from typing import Annotated, Self

from pydantic import Field, model_validator

from packline.drivers.roles.ball_mounter import BallMap, Side
from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.dispenser import Dispenser, FillMaterial, SealResin
from packline.drivers.roles.flip_chip_bonder import FlipChipBonder, terminal_volume_nl
from packline.drivers.roles.grinder import Grinder, GrindSide
from packline.drivers.roles.grinder import GrindRecipe as GrindCycle
from packline.drivers.roles.laser import DrillRecipe, FaceUp, Laser, LaserSource
from packline.drivers.roles.oven import Oven, ThermalProfile, cure_profile
from packline.drivers.roles.wire_bonder import WireBonder
from packline.sequences.engine import (
    Batch,
    Condition,
    Feeds,
    Recipe,
    Wafer,
    claim_violation,
    method,
)
from packline.sim_instruments.twin import PanelSpec, WaferSpec, die_grid
from packline.units import Unit

from . import conditions
from .bump_seal_clean import (
    BondStep,
    BumpRecipe,
    DicingStep,
    cut_and_inspect,
    dice,
    inspect_bump_heights,
    on_laser,
    prepare_blade,
)
from .solder import SolderBallRecipe, mount_balls, oven_cycle

#: A panel's die wafer is named after it: this letter, then the panel id's last 15 characters.
DIE_WAFER_PREFIX = "D"

# ---------------------------------------------------------------------------------- recipe


class PanelRecipe(Recipe):
    """The incoming tape panel (000): package units in rows and columns, a die's terminal
    holes along each of its four edges, the tape with its metal interconnection layer and
    solder resist. What the operator loads; the dry run's line receives panels so."""

    rows: Annotated[int, Field(strict=True, ge=1, le=20)] = 5
    columns: Annotated[int, Field(strict=True, ge=1, le=40)] = 20
    unit_width_mm: Annotated[float, Unit("mm"), Field(gt=1, le=50)] = 12.0
    unit_height_mm: Annotated[float, Unit("mm"), Field(gt=1, le=50)] = 12.0
    die_width_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50)] = 8.0
    die_height_mm: Annotated[float, Unit("mm"), Field(gt=0.5, le=50)] = 8.0
    holes_per_die_side: Annotated[int, Field(strict=True, ge=1, le=64)] = 6
    tape_thickness_um: Annotated[float, Unit("um"), Field(ge=12, le=200)] = 75.0
    interconnect_um: Annotated[float, Unit("um"), Field(ge=5, le=50)] = 18.0
    solder_resist_um: Annotated[float, Unit("um"), Field(ge=5, le=50)] = 20.0

    @model_validator(mode="after")
    def _die_fits_its_unit(self) -> Self:
        for axis in ("width", "height"):
            die, unit = getattr(self, f"die_{axis}_mm"), getattr(self, f"unit_{axis}_mm")
            if die > unit:
                raise ValueError(
                    f"die_{axis}_mm = {die:g} mm does not fit a unit of unit_{axis}_mm = "
                    f"{unit:g} mm"
                )
        return self

    @property
    def units(self) -> int:
        return self.rows * self.columns

    @property
    def base_um(self) -> float:
        """The tape with what its bottom carries: the package's thickness under the dies."""
        return self.tape_thickness_um + self.interconnect_um + self.solder_resist_um

    def hole_volume_nl(self, diameter_um: float) -> float:
        """A through-hole of `diameter_um` down to the interconnection layer, nl."""
        return math.pi / 4 * diameter_um**2 * self.tape_thickness_um * 1e-6

    def spec(self) -> PanelSpec:
        return PanelSpec(
            rows=self.rows,
            columns=self.columns,
            unit_size_mm=(self.unit_width_mm, self.unit_height_mm),
            die_size_mm=(self.die_width_mm, self.die_height_mm),
            holes_per_die_side=self.holes_per_die_side,
            tape_thickness_um=self.tape_thickness_um,
            interconnect_um=self.interconnect_um,
            solder_resist_um=self.solder_resist_um,
        )


class DieWaferRecipe(Recipe):
    """The wafer a panel's dies come from: a pad under each of its die's terminal holes, its
    terminals formed on the wire bonder as gold or copper studs (000:c), diced on the saw."""

    diameter_mm: Annotated[float, Unit("mm"), Field(ge=50, le=300)] = 150.0
    thickness_um: Annotated[float, Unit("um"), Field(ge=50, le=800)]
    terminals: BumpRecipe
    #: the studs' base diameter the bond program gives (about 4 wire diameters)
    terminal_base_um: Annotated[float, Unit("um"), Field(ge=10, le=300)]
    dicing: DicingStep

    def terminal_volume_nl(self, panel: PanelRecipe) -> float:
        """What one terminal fills of its hole once inserted: its stud inside the hole."""
        return float(
            terminal_volume_nl(
                self.terminals.height_um, self.terminal_base_um, panel.tape_thickness_um
            )
        )

    def spec(self, panel: PanelRecipe) -> WaferSpec:
        return WaferSpec(
            diameter_mm=self.diameter_mm,
            thickness_um=self.thickness_um,
            die_size_mm=(panel.die_width_mm, panel.die_height_mm),
            pads_per_die_side=panel.holes_per_die_side,
        )


class HoleDrilling(Recipe):
    """000:a: through-holes in the tape to the metal, openings in the solder resist (CO2 laser)."""

    diameter_um: Annotated[float, Unit("um"), Feeds("laser", "co2_via_diameter_um")]
    resist_opening_um: Annotated[float, Unit("um"), Feeds("laser", "co2_via_diameter_um")]
    fluence_j_cm2: Annotated[float, Unit("J/cm^2"), Feeds("laser", "drill_fluence_j_cm2")]
    rep_rate_khz: Annotated[float, Unit("kHz"), Feeds("laser", "rep_rate_khz")]

    def holes(self) -> DrillRecipe:
        return DrillRecipe(self.diameter_um, self.fluence_j_cm2, self.rep_rate_khz)

    def resist_openings(self) -> DrillRecipe:
        return DrillRecipe(self.resist_opening_um, self.fluence_j_cm2, self.rep_rate_khz)


class FillStep(Recipe):
    """000:b: conductive filler jetted into every hole, short of full by the terminal's volume."""

    material: FillMaterial
    volume_nl: Annotated[float, Unit("nl"), Feeds("dispenser", "fill_volume_nl")]
    #: how far filler + terminal may stand from the hole's volume, as a share of it
    tolerance: Annotated[float, Field(gt=0, le=0.2)] = 0.05


class CureStep(Recipe):
    """The sealing resin's cure in the oven under nitrogen: ramp, soak, cool."""

    n2_flow_slm: Annotated[float, Unit("slm"), Feeds("oven", "n2_flow_slm")] = 20.0
    o2_limit_ppm: Annotated[float, Unit("ppm"), Feeds("oven", "o2_limit_ppm")] = 1000.0
    temperature_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")]
    hold_s: Annotated[float, Unit("s"), Field(ge=0, le=8 * 3600)]
    ramp_c_per_min: Annotated[float, Unit("degC/min"), Feeds("oven", "ramp_rate_c_per_min")] = 5.0
    cool_to_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")] = 60.0
    cool_c_per_min: Annotated[float, Unit("degC/min"), Feeds("oven", "ramp_rate_c_per_min")] = 10.0
    cool_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=4 * 3600)] = 3600.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600)] = 1800.0


class SealStep(Recipe):
    """000:e: sealing resin around every die up to a height, sealing its side faces; cured."""

    resin: SealResin
    height_um: Annotated[float, Unit("um"), Feeds("dispenser", "seal_height_um")]
    cure: CureStep


class GrindStep(Recipe):
    """000:f: the resin top and the die backs ground and polished to the package thickness."""

    thickness_um: Annotated[float, Unit("um"), Feeds("grinder", "target_thickness_um")]
    spindle_rpm: Annotated[float, Unit("rpm"), Feeds("grinder", "spindle_rpm")] = 4500.0
    coarse_feed_um_s: Annotated[float, Unit("um/s"), Feeds("grinder", "coarse_feed_um_s")] = 5.0
    fine_feed_um_s: Annotated[float, Unit("um/s"), Feeds("grinder", "fine_feed_um_s")] = 0.3
    #: how far a measured thickness may stand from the target before the panel is held
    tolerance_um: Annotated[float, Unit("um"), Field(gt=0, le=50)] = 2.0

    def cycle(self) -> GrindCycle:
        return GrindCycle(
            self.thickness_um,
            spindle_rpm=self.spindle_rpm,
            coarse_feed_um_s=self.coarse_feed_um_s,
            fine_feed_um_s=self.fine_feed_um_s,
        )


class ExternalTerminals(SolderBallRecipe):
    """000:x1: external connection terminals: solder balls on the interconnection layer in the
    solder resist openings of every unit, on the panel's bottom, reflowed. A unit's openings
    lie under its holes, along its die's edges: a full map is a peripheral array."""

    def ball_map(self) -> BallMap:
        return BallMap.every(self.balls_per_unit, Side.BACK)


class TapeSubstrateRecipe(Recipe):
    """The panel, its dies, and the steps 000:a-g with the variant options."""

    panel: PanelRecipe
    dies: DieWaferRecipe
    holes: HoleDrilling
    fill: FillStep
    #: 000:c-d: each die flipped, its terminals inserted into the holes, bonded with heat and
    #: force on the tape's top
    bond: BondStep
    seal: SealStep
    grind: GrindStep
    #: 000:x1: solder balls in the solder resist openings, reflowed (None: no external terminals)
    balls: ExternalTerminals | None = None
    dicing: DicingStep

    @model_validator(mode="after")
    def _die_wafer_holds_a_panel_of_dies(self) -> Self:
        whole = int(die_grid(self.dies.spec(self.panel)).shape[0])
        if whole < self.panel.units:
            raise ValueError(
                f"dies.diameter_mm = {self.dies.diameter_mm:g} mm: the die wafer holds "
                f"{whole} whole dies, a panel has {self.panel.units} units"
            )
        return self

    @model_validator(mode="after")
    def _terminals_fit_the_holes(self) -> Self:
        terminals = self.dies.terminals
        if self.dies.terminal_base_um >= self.holes.diameter_um:
            raise claim_violation(
                "000:c",
                "dies.terminal_base_um",
                f"{self.dies.terminal_base_um:g} um",
                f"a terminal must go into its hole: narrower than holes.diameter_um = "
                f"{self.holes.diameter_um:g} um",
            )
        if terminals.height_um > self.panel.tape_thickness_um:
            raise claim_violation(
                "000:c",
                "dies.terminals.height_um",
                f"{terminals.height_um:g} um",
                f"a terminal taller than its hole (panel.tape_thickness_um = "
                f"{self.panel.tape_thickness_um:g} um) holds its die off the tape's top",
            )
        return self

    @model_validator(mode="after")
    def _filler_and_terminal_fill_the_hole(self) -> Self:
        hole = self.panel.hole_volume_nl(self.holes.diameter_um)
        terminal = self.dies.terminal_volume_nl(self.panel)
        total = self.fill.volume_nl + terminal
        if abs(total - hole) > self.fill.tolerance * hole:
            raise claim_violation(
                "000:b",
                "fill.volume_nl",
                f"{self.fill.volume_nl:g} nl",
                f"with a terminal's {terminal:.3g} nl (dies.terminals.height_um and "
                f"dies.terminal_base_um) it makes {total:.3g} nl, not within "
                f"{self.fill.tolerance:.0%} of the hole's {hole:.3g} nl (holes.diameter_um = "
                f"{self.holes.diameter_um:g} um through panel.tape_thickness_um = "
                f"{self.panel.tape_thickness_um:g} um)",
            )
        return self

    @model_validator(mode="after")
    def _ground_flush_inside_the_seal(self) -> Self:
        height = self.grind.thickness_um - self.panel.base_um
        if self.seal.height_um <= height:
            raise claim_violation(
                "000:e",
                "seal.height_um",
                f"{self.seal.height_um:g} um",
                f"must stand above the ground height ({height:g} um: grind.thickness_um less "
                f"the tape, its metal and its solder resist, {self.panel.base_um:g} um), or "
                "the dies' side faces are not sealed to the top",
            )
        if height <= 0 or self.dies.thickness_um <= height:
            raise claim_violation(
                "000:f",
                "grind.thickness_um",
                f"{self.grind.thickness_um:g} um",
                f"must leave the die backs ground: between the panel's base "
                f"{self.panel.base_um:g} um and the dies' back at "
                f"{self.panel.base_um + self.dies.thickness_um:g} um",
            )
        return self

    @model_validator(mode="after")
    def _a_ball_in_each_opening(self) -> Self:
        openings = 4 * self.panel.holes_per_die_side
        if self.balls is not None and self.balls.balls_per_unit > openings:
            raise claim_violation(
                "000:x1",
                "balls.balls_per_unit",
                str(self.balls.balls_per_unit),
                f"a unit has {openings} solder resist openings (4 x "
                f"panel.holes_per_die_side): a ball goes through an opening",
            )
        return self

    def incoming(self, wafer_id: str) -> PanelSpec | WaferSpec:
        """What arrives at the line: a panel, or (named for its panel) its die wafer."""
        if wafer_id.startswith(DIE_WAFER_PREFIX):
            return self.dies.spec(self.panel)
        return self.panel.spec()


def die_wafer_id(panel_id: str) -> str:
    """The die wafer a panel takes its dies from, named after it."""
    return DIE_WAFER_PREFIX + panel_id[-15:]


# ---------------------------------------------------------------------------------- the product


def claim_conditions(recipe: TapeSubstrateRecipe) -> list[Condition]:
    """What 000:a-g (and the recipe's variants) leave on every hole, die and unit of every
    panel, checked on the twin."""
    checks = [
        conditions.holes_open_to_metal("000:a"),
        conditions.solder_resist_opened("000:a"),
        conditions.filler_at_hole_tops("000:b", recipe.fill.tolerance),
        conditions.terminals_seated("000:c"),
        conditions.dies_bonded_face_down("000:d"),
        conditions.sealed_around_every_die("000:e"),
        conditions.resin_cured("000:e"),
        conditions.ground_to_thickness(
            "000:f", recipe.grind.thickness_um, recipe.grind.tolerance_um
        ),
        conditions.die_backs_flush("000:f", recipe.grind.tolerance_um),
        conditions.singulated_into_dies("000:g"),
    ]
    if recipe.balls is not None:
        checks += [
            conditions.ball_in_every_opening("000:x1", recipe.balls.balls_per_unit),
            conditions.joint_under_every_ball("000:x1"),
        ]
    return checks


CLAIM_MAP = {
    "000:a": "step 'drill holes' (the tape, to the metal) and step 'open solder resist'; "
    "claim checks: every hole open to the metal, every solder resist opening open",
    "000:b": "step 'fill holes'; recipe constraint: fill + terminal volume within tolerance of "
    "the hole volume; claim check: filler at every hole's top, no spill",
    "000:c": "step 'form terminals' (gold or copper studs on the die wafer) and step 'bond dies' "
    "(inserted into the holes); recipe constraint: terminals no taller than the hole; claim "
    "check: a terminal seated in every hole",
    "000:d": "step 'bond dies' (heat and force); claim check: a die bonded active side down on "
    "every unit",
    "000:e": "step 'seal dies' and step 'cure sealing resin'; recipe constraint: the seal above "
    "the ground height; claim checks: resin around every die to its back, resin cured",
    "000:f": "step 'grind'; recipe constraint: the ground height below the die backs; claim "
    "checks: package thickness at target, die backs flush with the resin",
    "000:g": "step 'dice'; claim check: units == the panel's package units",
    "000:x1": "recipe option balls (tape-substrate-balls.yaml): step 'apply flux', step "
    "'mount balls' and step 'reflow balls' on the panel's bottom; claim checks: a ball in "
    "every solder resist opening of the map, a joint under every ball",
}

# ---------------------------------------------------------------------------------- the script

IRREVERSIBLE = (
    "drill holes",
    "open solder resist",
    "fill holes",
    "form terminals",
    "dice die wafer",
    "bond dies",
    "seal dies",
    "cure sealing resin",
    "grind",
    "apply flux",
    "mount balls",
    "reflow balls",
    "dice",
)


@method(
    name="tape-substrate",
    title="Packages on a tape substrate with filled through-holes (000:a-g)",
    claims=("000:a", "000:b", "000:c", "000:d", "000:e", "000:f", "000:g", "000:x1"),
    recipe=TapeSubstrateRecipe,
    tools=(
        "laser",
        "dispenser",
        "wire_bonder",
        "dicing_saw",
        "flip_chip_bonder",
        "oven",
        "grinder",
        "ball_mounter",
    ),
    irreversible=IRREVERSIBLE,
    default_recipe="tape-substrate.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
    incoming=lambda recipe: recipe.incoming,
    sim_tools=lambda recipe: {"laser": {"source": LaserSource.CO2_10600}},
)
async def tape_substrate(wafer: Wafer, recipe: TapeSubstrateRecipe) -> None:
    """One tape panel through 000:a-g."""
    await drill_holes(wafer, recipe.holes)
    await fill_holes(wafer, recipe.fill, recipe.dies.terminal_volume_nl(recipe.panel))
    await prepare_dies(wafer, recipe.dies)
    await bond_dies(wafer, recipe.bond, recipe.panel)
    await seal_dies(wafer, recipe.seal)
    await cure(wafer, recipe.seal.cure)
    await grind(wafer, recipe.grind)
    if recipe.balls is not None:
        await mount_balls(wafer, recipe.balls, claims=("000:x1",))
    await dice(wafer, recipe.dicing, claims=("000:g",))


async def drill_holes(wafer: Wafer, holes: HoleDrilling) -> None:
    """000:a: the tape drilled from the top at every hole site, down to the metal layer; the
    panel turned over; the solder resist opened from the bottom to the same metal."""
    async with on_laser(wafer, FaceUp.FRONT) as laser:
        await wafer.step(
            "drill holes", drill_and_count, wafer, laser, holes.holes(), claims=("000:a",)
        )
        await wafer.step("flip panel", laser.flip)
        await wafer.step(
            "open solder resist",
            drill_and_count,
            wafer,
            laser,
            holes.resist_openings(),
            claims=("000:a",),
        )


async def drill_and_count(wafer: Wafer, laser: Laser, drill: DrillRecipe) -> None:
    """Drill every site; the tool's breakthrough count must be every site."""
    result = await laser.drill_vias(drill)
    wafer.measure(
        "openings to metal", result.vias_open, "sites", low=result.sites, high=result.sites
    )


async def fill_holes(wafer: Wafer, fill: FillStep, terminal_nl: float) -> None:
    """000:b: filler by volume into every hole, leaving room for the terminal's `terminal_nl`."""
    async with wafer.use(Dispenser) as dispenser:
        await wafer.step("load on dispenser", dispenser.load, wafer.id)
        await wafer.step(
            "fill holes", fill_and_inspect, wafer, dispenser, fill, terminal_nl, claims=("000:b",)
        )
        await wafer.step("unload from dispenser", dispenser.unload, wafer.id)


async def fill_and_inspect(
    wafer: Wafer, dispenser: Dispenser, fill: FillStep, terminal_nl: float
) -> None:
    """Fill; the dispenser's camera must find no hole over- or underfilled."""
    result = await dispenser.fill_holes(fill.material, fill.volume_nl, terminal_nl)
    wafer.measure("holes filled", result.holes, "holes", low=1)
    wafer.measure("holes overfilled", result.overfilled, "holes", high=0)
    wafer.measure("holes underfilled", result.underfilled, "holes", high=0)
    wafer.measure("worst fill error", 100 * result.worst_error, "%", high=100 * fill.tolerance)


async def prepare_dies(wafer: Wafer, dies: DieWaferRecipe) -> None:
    """The panel's die wafer: gold or copper stud terminals on every pad (000:c), their
    heights inspected, then diced into its dies for the flip-chip bonder."""
    source = die_wafer_id(wafer.id)
    async with wafer.use(WireBonder) as bonder:
        await wafer.step("load die wafer on bonder", bonder.load, source)
        await wafer.step(
            "form terminals",
            bonder.form_stud_bumps,
            dies.terminals.program(),
            stack_count=dies.terminals.stack,
            claims=("000:c",),
        )
        await wafer.step(
            "inspect terminal heights", inspect_bump_heights, wafer, bonder, dies.terminals
        )
        await wafer.step("unload die wafer from bonder", bonder.unload, source)
    async with wafer.use(DicingSaw) as saw:
        await wafer.step("prepare blade for die wafer", prepare_blade, saw, dies.dicing)
        await wafer.step("mount die wafer on saw", saw.mount, source)
        await wafer.step("dice die wafer", cut_and_inspect, wafer, saw, dies.dicing)
        await wafer.step("stop spindle after die wafer", saw.stop_spindle)
        await wafer.step("unmount die wafer from saw", saw.unmount)


async def bond_dies(wafer: Wafer, bond: BondStep, panel: PanelRecipe) -> None:
    """000:c-d: a die from the panel's die wafer on every unit, its terminals in the holes,
    bonded active side down with heat and force."""
    source = die_wafer_id(wafer.id)
    async with wafer.use(FlipChipBonder) as bonder:
        await wafer.step("load on flip-chip bonder", bonder.load, wafer.id)
        await wafer.step("load die wafer in die supply", load_dies, wafer, bonder, source, panel)
        await wafer.step(
            "bond dies", bond_and_inspect, wafer, bonder, bond, claims=("000:c", "000:d")
        )
        await wafer.step("unload die wafer from die supply", bonder.unload_die_source, source)
        await wafer.step("unload from flip-chip bonder", bonder.unload, wafer.id)


async def load_dies(wafer: Wafer, bonder: FlipChipBonder, source: str, panel: PanelRecipe) -> None:
    """The die wafer must hold a die for every unit of the panel."""
    dies = await bonder.load_die_source(source)
    wafer.measure("dies in supply", dies, "dies", low=panel.units)


async def bond_and_inspect(wafer: Wafer, bonder: FlipChipBonder, bond: BondStep) -> None:
    """Bond; the bonder's inspection must find every die bonded, every terminal seated and
    joined. The filler's levels are recorded as the bonder's X-ray sees them: whether they
    stand at the holes' tops is the claim's condition (000:b), judged on the product."""
    result = await bonder.bond_dies(bond.bond_recipe())
    wafer.measure("fill level min", result.fill_level_min_percent, "% of hole depth")
    wafer.measure("fill level max", result.fill_level_max_percent, "% of hole depth")
    wafer.measure("dies bonded", result.dies_bonded, "dies", low=result.dies_placed)
    wafer.measure("terminals seated", result.terminals_seated, "terminals", low=result.terminals)
    wafer.measure("terminals joined", result.terminals_joined, "terminals", low=result.terminals)


async def seal_dies(wafer: Wafer, seal: SealStep) -> None:
    """000:e: resin around every die up to the seal height."""
    async with wafer.use(Dispenser) as dispenser:
        await wafer.step("load on dispenser", dispenser.load, wafer.id)
        await wafer.step("seal dies", seal_and_inspect, wafer, dispenser, seal, claims=("000:e",))
        await wafer.step("unload from dispenser", dispenser.unload, wafer.id)


async def seal_and_inspect(wafer: Wafer, dispenser: Dispenser, seal: SealStep) -> None:
    """Seal; no die may stand out of the resin."""
    result = await dispenser.seal_dies(seal.resin, seal.height_um)
    wafer.measure("dies sealed", result.dies, "dies", low=1)
    wafer.measure("dies standing out of the resin", result.exposed, "dies", high=0)


async def cure(wafer: Wafer, cure: CureStep) -> None:
    """000:e: cure the sealing resin in an oven batch under nitrogen."""
    profile = cure_profile(
        cure.temperature_c,
        cure.hold_s,
        ramp_c_per_min=cure.ramp_c_per_min,
        cool_to_c=cure.cool_to_c,
        cool_c_per_min=cure.cool_c_per_min,
    )
    await wafer.batch(
        Oven,
        oven_cycle,
        cure.n2_flow_slm,
        cure.o2_limit_ppm,
        cure.cool_timeout_s,
        "cure sealing resin",
        ("000:e",),
        run_profile,
        profile,
        timeout_s=cure.batch_timeout_s,
    )


async def run_profile(batch: Batch[Oven], profile: ThermalProfile) -> None:
    await batch.tool.run_profile(profile)


async def grind(wafer: Wafer, step: GrindStep) -> None:
    """000:f: resin top and die backs ground to the package thickness, measured."""
    async with wafer.use(Grinder) as grinder:
        await wafer.step("load on grinder", grinder.load, wafer.id, GrindSide.FRONT)
        await wafer.step("apply chuck vacuum", grinder.apply_chuck_vacuum)
        await wafer.step("grind", grind_and_measure, wafer, grinder, step, claims=("000:f",))
        await wafer.step("release chuck vacuum", grinder.release_chuck_vacuum)
        await wafer.step("unload from grinder", grinder.unload)


async def grind_and_measure(wafer: Wafer, grinder: Grinder, step: GrindStep) -> None:
    result = await grinder.grind(step.cycle())
    wafer.measure(
        "package thickness",
        result.final_thickness_um,
        "um",
        low=step.thickness_um - step.tolerance_um,
        high=step.thickness_um + step.tolerance_um,
    )
