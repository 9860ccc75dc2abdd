"""Method "sprout-bump-csp": wafer-level chip-size packages with sprout-shaped bumps (document
001, claims 1-17).

Claim 1 of 001, step by step, as this script runs it on every wafer of the lot:

1. 001:1a  sprout-shaped metal bumps on every electrode pad: stud bumps, a base bonded on the
           pad and a cone, by a wire-bonding machine (001:5), each a stack of studs when the
           recipe asks for more than one (001:6); their heights inspected against the recipe.
2. 001:1b  a resin-sealing layer whose top the bump tips project through: an adhesive resin
           sheet laminated so the bumps penetrate it (001:7), its film support peeled once
           cool; the resin at least 50 um thick when the recipe says so (001:13).
3. 001:1c  a wiring pattern per device on the resin top, touching the bump tips (001:8): the
           tips descummed in the plasma chamber (a recipe option), a thin metal film by
           sputtering, vacuum evaporation or electroless plating (001:9), a resist mould by
           lithography, the wiring thickened by electroplating, then the mould stripped and
           the seed etched between the patterns on the wet bench (a recipe option). With a
           metal-film support (001:10) the foil the tips were pressed into is the film that is
           moulded, plated and etched (001:11, 001:12).
4. 001:1d  outer terminals on each wiring pattern (a recipe option): solder balls fluxed and
           mounted on the conducting paths and reflowed into joints in the oven (001:3), then
           a solder resist coated over them and opened around every ball (001:4).
5. 001:2   dice the wafer into separate packages (dicing saw), unless the recipe leaves
           dicing out.

The recipe's own constraints (the resin thinner than the bumps, 001:1b / 001:7; at least
50 um, 001:13; no seed and no descum on a metal support, 001:10-11; a solder resist that
stays, 001:4; a reflow peak above the balls' liquidus) are checked before any tool moves; what
the steps leave (a bump on every pad, tips projecting, a seed joining every tip, a joined ball
on connected wiring, the resist open at every ball) is checked on the product.

Claims 14-17 stack wiring arrangements (recipe option `upper_levels`): after the first
arrangement's wiring, each level bonds studs on the wiring below over every tip, laminates a
sheet they project through and lays its wiring on it; terminals go on the uppermost wiring and
the check follows every pad through every level to its ball.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from packline.drivers.roles.deposition import (
    DepositionRecipe,
    DepositionStep,
    DepositionTool,
    Material,
    Method,
    ProcessGas,
)
from packline.drivers.roles.laminator import Laminator, ResinSheet, SupportKind
from packline.drivers.roles.lithography import MATERIALS, CoatMaterial, FilmLayer, Lithography
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.drivers.roles.wet_bench import Tank, WetBench
from packline.sequences.engine import (
    Batch,
    Condition,
    Feeds,
    Recipe,
    Wafer,
    claim_violation,
    method,
)
from packline.units import Unit

from . import conditions
from .bump_seal_clean import (
    BumpRecipe,
    DicingStep,
    ResinRecipe,
    dice,
    form_bumps,
    require_resin_thinner_than_bumps,
)
from .plasma_clean import PlasmaCleanRecipe, chamber_cycle, load_wafers, unload_wafers
from .solder import PlatingStep, SolderBallRecipe, electroplate, mount_balls

#: The most wiring arrangements stacked on the first (001:16 sets no limit; a recipe does).
MAX_UPPER_LEVELS = 8

#: The resin thickness of claim 001:13.
THICK_RESIN_UM = 50.0

#: How far the deposition's crystal may read below a step's thickness before the wafer is
#: held: a seed that thin breaks on the tips' sidewalls.
SEED_TOLERANCE = 0.10

# ---------------------------------------------------------------------------------- recipe


class SeedStep(Recipe):
    """001:9: one film of the thin metal film, by sputtering or vacuum evaporation.

    A step with `thickness_nm` ends when the crystal monitor reads it and `time_s` is its time
    limit; sputtering sets `power_w`, `pressure_mtorr` and an Ar `flow_sccm`, evaporation
    `rate_nm_s`.
    """

    method: Method
    material: Material
    time_s: Annotated[float, Unit("s"), Feeds("deposition", "time_s")]
    thickness_nm: Annotated[float, Unit("nm"), Feeds("deposition", "thickness_nm")] = 0.0
    power_w: Annotated[float, Unit("W"), Feeds("deposition", "power_w")] = 0.0
    rate_nm_s: Annotated[float, Unit("nm/s"), Feeds("deposition", "rate_nm_s")] = 0.0
    pressure_mtorr: Annotated[float, Unit("mTorr"), Feeds("deposition", "pressure_mtorr")] = 0.0
    flow_sccm: Annotated[float, Unit("sccm"), Feeds("deposition", "flow_sccm")] = 0.0

    @model_validator(mode="after")
    def _a_metal_by_sputter_or_evaporation(self) -> Self:
        if self.method is Method.CVD or self.material.dielectric:
            raise claim_violation(
                "001:9",
                "method",
                f"{self.method.value} of {self.material.value}",
                "the thin metal film is a metal, sputtered or evaporated",
            )
        problem = self.step().mismatch()
        if problem is not None:
            raise ValueError(problem)
        return self

    def step(self) -> DepositionStep:
        return DepositionStep(
            method=self.method,
            material=self.material,
            time_s=self.time_s,
            thickness_nm=self.thickness_nm,
            power_w=self.power_w,
            rate_nm_s=self.rate_nm_s,
            pressure_mtorr=self.pressure_mtorr,
            gas=ProcessGas.AR if self.method is Method.SPUTTER else ProcessGas.NONE,
            flow_sccm=self.flow_sccm,
        )


class SeedRecipe(Recipe):
    """001:8, 001:9: the thin metal film laid over the resin top and the projecting tips, in
    the deposition chamber."""

    process: Literal["deposition"] = "deposition"
    steps: Annotated[list[SeedStep], Field(min_length=1), Feeds("deposition", "steps", len)]
    base_pressure_utorr: Annotated[
        float, Unit("uTorr"), Feeds("deposition", "base_pressure_utorr")
    ] = 5.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600)] = 600.0

    def deposition_recipe(self) -> DepositionRecipe:
        return DepositionRecipe(tuple(step.step() for step in self.steps), self.base_pressure_utorr)

    def claims(self) -> tuple[str, ...]:
        return ("001:1c", "001:8", "001:9")


class ElectrolessSeedRecipe(Recipe):
    """001:9: the thin metal film by electroless copper plating, on the wet bench: copper
    grows over the resin top and joins the tips standing above it."""

    process: Literal["electroless"]
    time_s: Annotated[float, Unit("s"), Feeds("wet_bench", "dip_time_s")]
    temperature_c: Annotated[float, Unit("degC"), Feeds("wet_bench", "bath_temperature_c")]
    #: the thinnest seed the plating can thicken evenly: a thinner film holds the wafer
    min_thickness_nm: Annotated[float, Unit("nm"), Field(gt=0, le=5000)]

    def claims(self) -> tuple[str, ...]:
        return ("001:1c", "001:8", "001:9")


#: A reticle of the litho cell's library, by name (the cell refuses a name it lacks).
ReticleName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]


class MouldRecipe(Recipe):
    """A film the litho cell coats, bakes, exposes and develops: the resist mould that patterns
    the thin film into one wiring per device (001:8), or the solder resist opened around the
    balls (001:4)."""

    material: CoatMaterial = CoatMaterial.PR_THICK
    spin_rpm: Annotated[int, Field(strict=True), Feeds("lithography", "spin_rpm")]
    spin_time_s: Annotated[float, Unit("s"), Feeds("lithography", "spin_time_s")] = 30.0
    bake_temperature_c: Annotated[float, Unit("degC"), Feeds("lithography", "bake_temperature_c")]
    bake_time_s: Annotated[float, Unit("s"), Feeds("lithography", "bake_time_s")]
    #: a reticle of the stepper's library, by its name (lowercase letters, digits, hyphens)
    mask: ReticleName = "wiring-level-1"
    dose_mj_cm2: Annotated[float, Unit("mJ/cm^2"), Feeds("lithography", "dose_mj_cm2")]
    develop_time_s: Annotated[float, Unit("s"), Feeds("lithography", "develop_time_s")]


class Dip(Recipe):
    """One dip of the wet bench: how long, and the bath's temperature."""

    time_s: Annotated[float, Unit("s"), Feeds("wet_bench", "dip_time_s")]
    temperature_c: Annotated[float, Unit("degC"), Feeds("wet_bench", "bath_temperature_c")]


class SeedEtchRecipe(Recipe):
    """001:8: the thin film patterned once the wiring is plated: the mould stripped, then the
    seed etched off between the patterns (copper, then the barrier if the seed has one)."""

    strip: Dip
    copper_etch: Dip
    barrier_etch: Dip | None = None


class WiringRecipe(Recipe):
    """001:1c: the wiring on the resin top, touching the tips (001:8: film, pattern, plate)."""

    descum: PlasmaCleanRecipe | None = None
    #: 001:9: sputtered or evaporated (the deposition chamber) or electroless (the wet bench);
    #: none when the metal-film support is the wiring's metal (001:11)
    seed: Annotated[SeedRecipe | ElectrolessSeedRecipe | None, Field(discriminator="process")] = (
        None
    )
    mould: MouldRecipe
    plating: PlatingStep
    #: the mould stripped and the seed etched between the patterns (None: left on the wafer)
    etch: SeedEtchRecipe | None = None


class TerminalsRecipe(SolderBallRecipe):
    """001:1d, 001:3: a solder ball on the conducting paths of every wiring pattern, fluxed,
    mounted and inspected on the ball mounter, then reflowed into joints in the oven; 001:4:
    a solder resist over them, opened around every ball."""

    #: claim 001:4: a photosensitive solder resist coated over the balls once reflowed and
    #: opened around them by the litho cell (None: no solder resist)
    solder_resist: MouldRecipe | None = None

    @model_validator(mode="after")
    def _a_solder_resist_stays(self) -> Self:
        resist = self.solder_resist
        if resist is not None and MATERIALS[resist.material].layer is not FilmLayer.RESIN:
            resins = ", ".join(m.value for m, f in MATERIALS.items() if f.layer is FilmLayer.RESIN)
            raise claim_violation(
                "001:4",
                "solder_resist.material",
                resist.material.value,
                f"the solder resist stays on the package: a photosensitive resin ({resins}), "
                "not a resist that is stripped",
            )
        return self


class LevelRecipe(Recipe):
    """001:14-17: a wiring arrangement stacked on the one below: bumps bonded on its wiring,
    a resin sheet they project through, and wiring on that resin touching their tips."""

    #: heights as the bonder measures them, from the wafer's surface: each level's bumps stand
    #: on the levels below
    bumps: BumpRecipe
    resin: ResinRecipe
    wiring: WiringRecipe


class SproutBumpRecipe(Recipe):
    """Bumps, the resin they project through, the wiring on it, its terminals: the options of
    claim 001:1."""

    bumps: BumpRecipe
    resin: ResinRecipe
    #: what carries the resin sheet: a film peeled after lamination (001:7), or a metal film
    #: that stays, the tips pressed into it, and is patterned into the wiring (001:10-12)
    support: SupportKind = SupportKind.FILM
    #: claim 001:13: the resin layer at least 50 um thick
    thick_resin: bool = False
    wiring: WiringRecipe
    #: 001:14-17: wiring arrangements stacked on the first, lowest first (one: claim 14's
    #: second arrangement; two or more: claim 16's intermediate and uppermost ones; None or
    #: empty: claim 1's single arrangement)
    upper_levels: Annotated[list[LevelRecipe], Field(max_length=MAX_UPPER_LEVELS)] | None = None
    #: claims 001:1d, 001:3: solder balls on the (uppermost) wiring, reflowed (None: none)
    terminals: TerminalsRecipe | None = None
    #: claim 001:2: dice the wafer into separate packages (None: leave the wafer whole)
    dicing: DicingStep | None = None

    @model_validator(mode="after")
    def _resin_thinner_than_the_bumps(self) -> Self:
        require_resin_thinner_than_bumps(self.resin, self.bumps, "001:1b")
        below_um = self.resin.sheet_thickness_um
        for index, level in enumerate(self.upper_levels or ()):
            standing_um = level.bumps.height_um - below_um
            if level.resin.sheet_thickness_um >= standing_um:
                raise claim_violation(
                    self.stack_claim() or "001:14",
                    f"upper_levels.{index}.resin.sheet_thickness_um",
                    f"{level.resin.sheet_thickness_um:g} um",
                    f"must be thinner than the bumps stand above the resin below: "
                    f"bumps.height_um {level.bumps.height_um:g} um - {below_um:g} um of resin "
                    f"below = {standing_um:g} um",
                )
            below_um += level.resin.sheet_thickness_um
        return self

    @model_validator(mode="after")
    def _terminals_on_the_uppermost_wiring(self) -> Self:
        claim = self.stack_claim()
        if claim is not None and self.terminals is None:
            raise claim_violation(
                claim,
                "terminals",
                "none",
                "stacked wiring arrangements end with outer terminals on the uppermost wiring",
            )
        return self

    def levels(self) -> list[LevelRecipe]:
        """Every wiring arrangement, the lowermost (on the pads) first."""
        lowest = LevelRecipe(bumps=self.bumps, resin=self.resin, wiring=self.wiring)
        return [lowest, *(self.upper_levels or ())]

    def stack_claim(self) -> str | None:
        """The claim a stack of arrangements carries out: 001:14 for two, 001:16 for more;
        None for the single arrangement of claim 1."""
        if not self.upper_levels:
            return None
        return "001:14" if len(self.upper_levels) == 1 else "001:16"

    def dicing_claim(self) -> str:
        """001:2 for claim 1's packages, 001:15 or 001:17 for stacked ones."""
        return {None: "001:2", "001:14": "001:15", "001:16": "001:17"}[self.stack_claim()]

    @model_validator(mode="after")
    def _a_seed_or_the_metal_support(self) -> Self:
        upper = range(len(self.upper_levels or ()))
        paths = ["wiring", *(f"upper_levels.{i}.wiring" for i in upper)]
        for path, level in zip(paths, self.levels(), strict=True):
            wiring = level.wiring
            if self.metal_support:
                if wiring.seed is not None:
                    raise claim_violation(
                        "001:11",
                        f"{path}.seed",
                        "a seed",
                        "with support metal-film the support is the wiring's metal: leave out "
                        "the seed",
                    )
                if wiring.descum is not None:
                    raise claim_violation(
                        "001:10",
                        f"{path}.descum",
                        "a plasma clean",
                        "with support metal-film the tips are pressed into the metal, under it: "
                        "there is nothing to descum",
                    )
            elif wiring.seed is None:
                raise ValueError(
                    f"{path}.seed is missing: with support film the wiring needs a thin metal "
                    "film (001:8), sputtered, evaporated or electroless"
                )
        return self

    @property
    def metal_support(self) -> bool:
        """The sheet's support is a metal film that becomes the wiring (001:10-12)."""
        return self.support is SupportKind.METAL_FILM

    def wiring_claims(self) -> tuple[str, ...]:
        """The claims the wiring's mould, plating and etch carry out: the thin film's (001:8)
        or the metal support's (001:11)."""
        return ("001:1c", "001:11") if self.metal_support else ("001:1c", "001:8")

    def plating_claims(self) -> tuple[str, ...]:
        """The claims the electroplating carries out (001:9, or 001:12 on the support)."""
        if self.metal_support:
            return ("001:1c", "001:11", "001:12")
        return ("001:1c", "001:8", "001:9")

    @model_validator(mode="after")
    def _thick_resin(self) -> Self:
        if self.thick_resin and self.resin.sheet_thickness_um < THICK_RESIN_UM:
            raise claim_violation(
                "001:13",
                "resin.sheet_thickness_um",
                f"{self.resin.sheet_thickness_um:g} um",
                f"must be at least {THICK_RESIN_UM:g} um (thick_resin is true)",
            )
        return self


# ---------------------------------------------------------------------------------- the product


def claim_conditions(recipe: SproutBumpRecipe) -> list[Condition]:
    """What claim 001:1 and the recipe's options leave on every wafer, checked on the twin."""
    checks = [
        conditions.bump_on_every_pad("001:1a"),
        conditions.tips_project("001:1b", sealing_only=True),
        conditions.seed_joins_tips("001:1c"),
    ]
    plated = "001:11" if recipe.metal_support else "001:8"
    if recipe.metal_support:
        checks.append(conditions.seed_joins_tips("001:10"))
    for number, level in enumerate(recipe.levels(), start=1):
        min_um = level.wiring.plating.min_thickness_um
        checks.append(conditions.wiring_plated_at_least(plated, min_um, level=number))
    stack = recipe.stack_claim()
    if stack is not None:
        checks.append(conditions.connected_through_levels(stack, len(recipe.levels())))
    if recipe.terminals is not None:
        checks.append(conditions.terminals_connected("001:1d"))
        checks.append(conditions.joint_under_every_ball("001:3"))
        if recipe.terminals.solder_resist is not None:
            checks.append(conditions.solder_resist_open_at_balls("001:4"))
    if recipe.thick_resin:
        checks.append(conditions.resin_at_least("001:13", THICK_RESIN_UM))
    if recipe.dicing is not None:
        checks.append(conditions.singulated_into_dies(recipe.dicing_claim()))
    return checks


CLAIM_MAP = {
    "001:1a": "step 'form bumps': a stud bump on every pad; claim check: a bump on every pad",
    "001:1b": "step 'laminate resin sheet'; recipe constraint: resin thinner than the bumps; "
    "claim check: every tip projects above the sealing resin",
    "001:1c": "step 'deposit seed', step 'pattern wiring' and step 'electroplate wiring'; "
    "claim check: a seed film joins every tip",
    "001:1d": "recipe option terminals, step 'mount balls' and step 'reflow balls'; claim "
    "check: every ball joined, unbridged, on connected wiring, a ball on every die",
    "001:3": "recipe option terminals (solder balls of terminals.alloy), step 'apply flux', "
    "step 'mount balls' and step 'reflow balls'; claim check: a joint under every ball",
    "001:4": "recipe option terminals.solder_resist (sprout-bump-csp.yaml), "
    "step 'coat solder resist' and step 'open solder resist', after the balls are reflowed; "
    "claim check: the solder resist open at every ball, the ball joined",
    "001:2": "recipe option dicing (sprout-bump-csp.yaml), step 'dice'; claim check: units "
    "== whole dies",
    "001:5": "step 'form bumps' (stud bumps from metal wire by the wire bonder)",
    "001:6": "recipe option bumps.stack >= 2 (sprout-bump-csp-stacked.yaml), step 'form bumps'",
    "001:7": "step 'laminate resin sheet' (the bumps penetrate the sheet) and step "
    "'peel support'; recipe constraint: resin thinner than the bumps",
    "001:8": "step 'deposit seed', step 'pattern wiring', step 'electroplate wiring', step "
    "'etch seed' (recipe option wiring.etch); claim check: the wiring plated to at least "
    "wiring.plating.min_thickness_um, sound",
    "001:9": "recipe option wiring.seed: steps (sputter or evaporate), step 'deposit seed', or "
    "electroless (sprout-bump-csp-electroless.yaml), step 'plate electroless seed'; step "
    "'electroplate wiring'",
    "001:10": "recipe option support: metal-film (sprout-bump-csp-metal-support.yaml), step "
    "'laminate resin sheet' (the tips pressed into the metal, no peel); claim check: the metal "
    "joins every tip",
    "001:11": "recipe option support: metal-film, step 'pattern wiring' (the mould on the "
    "metal), step 'electroplate wiring' and step 'etch seed' (the metal etched between the "
    "patterns); claim check: the wiring plated to at least wiring.plating.min_thickness_um",
    "001:12": "recipe option support: metal-film, step 'electroplate wiring'",
    "001:14": "recipe option upper_levels with one level (sprout-bump-csp-levels-2.yaml): step "
    "'form bumps', step 'laminate resin sheet' and step 'electroplate wiring' at both levels, "
    "the second bumps on the first wiring, terminals required; claim check: every pad connected "
    "through both levels' bumps and wiring to its ball",
    "001:15": "recipe option dicing with upper_levels of one level, step 'dice'; claim check: "
    "units == whole dies",
    "001:16": "recipe option upper_levels with two or more levels (sprout-bump-csp-levels-5.yaml: "
    "lowermost, three intermediate, uppermost): step 'form bumps', step 'laminate resin sheet' "
    "and step 'electroplate wiring' at every level; claim check: every pad connected through "
    "every level's bumps and wiring to its ball",
    "001:17": "recipe option dicing with upper_levels of two or more levels, step 'dice'; claim "
    "check: units == whole dies",
    "001:13": "recipe option thick_resin (recipe constraint: resin >= 50 um), step 'laminate "
    "resin sheet'; claim check: resin at least 50 um",
}

# ---------------------------------------------------------------------------------- the script

#: Steps that change the wafer for good: never repeated on resume, the wafer is held instead.
IRREVERSIBLE = (
    "form bumps",
    "laminate resin sheet",
    "peel support",
    "plasma clean",
    "deposit seed",
    "plate electroless seed",
    "coat mould",
    "pattern wiring",
    "electroplate wiring",
    "strip mould",
    "etch seed",
    "etch barrier",
    "apply flux",
    "mount balls",
    "reflow balls",
    "coat solder resist",
    "open solder resist",
    "dice",
)


@method(
    name="sprout-bump-csp",
    title="Wafer-level chip-size packages with sprout-shaped bumps (001:1)",
    claims=(
        "001:1a",
        "001:1b",
        "001:1c",
        "001:1d",
        "001:2",
        "001:3",
        "001:4",
        "001:5",
        "001:6",
        "001:7",
        "001:8",
        "001:9",
        "001:10",
        "001:11",
        "001:12",
        "001:13",
        "001:14",
        "001:15",
        "001:16",
        "001:17",
    ),
    recipe=SproutBumpRecipe,
    tools=(
        "wire_bonder",
        "laminator",
        "plasma_cleaner",
        "deposition",
        "lithography",
        "electroplater",
        "wet_bench",
        "ball_mounter",
        "oven",
        "dicing_saw",
    ),
    irreversible=IRREVERSIBLE,
    default_recipe="sprout-bump-csp.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
)
async def sprout_bump_csp(wafer: Wafer, recipe: SproutBumpRecipe) -> None:
    """One wafer through claim 001:1 (001:14, 001:16: level after level): bumps, resin,
    wiring; then terminals and dicing."""
    stack = recipe.stack_claim()
    for index, level in enumerate(recipe.levels()):
        tags = (stack,) if stack is not None else ()
        studs = ("001:6",) if level.bumps.stack >= 2 else ()
        await form_bumps(wafer, level.bumps, (*tags, "001:1a", "001:5", *studs))
        thick = recipe.thick_resin and index == 0
        await laminate_resin(wafer, level.resin, recipe.support, thick, tags)
        await form_wiring(wafer, recipe, level.wiring, tags)
    if recipe.terminals is not None:
        await form_terminals(wafer, recipe.terminals)
    if recipe.dicing is not None:
        await dice(wafer, recipe.dicing, (recipe.dicing_claim(),))


async def laminate_resin(
    wafer: Wafer,
    resin: ResinRecipe,
    support: SupportKind,
    thick: bool,
    tags: tuple[str, ...] = (),
) -> None:
    """001:1b: the bumps penetrate the resin sheet. A film support is peeled once cool
    (001:7); a metal-film support stays, the tips pressed into it (001:10). 001:13: the sheet
    at least 50 um when the recipe asks."""
    sheet = "001:10" if support is SupportKind.METAL_FILM else "001:7"
    claims = (*tags, "001:1b", sheet, "001:13") if thick else (*tags, "001:1b", sheet)
    job = replace(resin.job(), sheet=ResinSheet(resin.sheet_thickness_um, support))
    async with wafer.use(Laminator) as laminator:
        await wafer.step("load on laminator", laminator.load, wafer.id)
        await wafer.step("laminate resin sheet", laminator.laminate, job, claims=claims)
        await wafer.step("cool", laminator.cool, resin.peel_below_c)
        if support is SupportKind.FILM:
            await wafer.step("peel support", laminator.peel_support, claims=("001:7",))
        await wafer.step("unload from laminator", laminator.unload)


async def form_wiring(
    wafer: Wafer, recipe: SproutBumpRecipe, wiring: WiringRecipe, tags: tuple[str, ...]
) -> None:
    """001:1c, 001:8: descum the tips, lay the thin film, mould it, thicken it by plating,
    strip the mould and etch the film between the patterns (001:11: the metal support is the
    film); `tags`: the stacked arrangement's claim, at every level."""
    if wiring.descum is not None:
        descum = wiring.descum
        await wafer.batch(PlasmaCleaner, chamber_cycle, descum, timeout_s=descum.batch_timeout_s)
    seed = wiring.seed
    if isinstance(seed, SeedRecipe):
        await wafer.batch(DepositionTool, deposition_cycle, seed, timeout_s=seed.batch_timeout_s)
    elif seed is not None:
        await plate_electroless_seed(wafer, seed)
    await pattern(wafer, wiring.mould, recipe.wiring_claims())
    await electroplate(wafer, wiring.plating, (*tags, *recipe.plating_claims()))
    if wiring.etch is not None:
        await etch_seed(wafer, wiring.etch, recipe.wiring_claims()[1:])


async def plate_electroless_seed(wafer: Wafer, seed: ElectrolessSeedRecipe) -> None:
    """001:9: grow the thin copper film in the wet bench's electroless bath."""
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id)
        await wafer.step("heat CU-ELESS bath", bench.heat_bath, Tank.CU_ELESS, seed.temperature_c)
        await wafer.step(
            "plate electroless seed", grow_seed, wafer, bench, seed, claims=seed.claims()
        )
        await wafer.step("unload from wet bench", bench.unload, wafer.id)


async def grow_seed(wafer: Wafer, bench: WetBench, seed: ElectrolessSeedRecipe) -> None:
    result = await bench.plate_electroless(seed.time_s)
    wafer.measure("Cu seed", result.change_um * 1000, "nm", low=seed.min_thickness_nm)


async def deposition_cycle(
    batch: Batch[DepositionTool], seed: SeedRecipe, claims: tuple[str, ...] | None = None
) -> None:
    """Load, close, pump down, deposit, vent, unload: once for every wafer of the batch (the
    deposit tagged with `claims`, by default the seed's of 001)."""
    chamber = batch.tool
    await batch.step("open door", chamber.open_door)
    await batch.step("load", load_wafers, chamber, batch.wafer_ids)
    await batch.step("close door", chamber.close_door)
    await batch.step("pump down", chamber.pump_down)
    await batch.step("deposit seed", deposit, batch, chamber, seed, claims=claims or seed.claims())
    await batch.step("vent", chamber.vent)
    await batch.step("open door", chamber.open_door)
    await batch.step("unload", unload_wafers, chamber, batch.wafer_ids)


async def deposit(batch: Batch[DepositionTool], chamber: DepositionTool, seed: SeedRecipe) -> None:
    """Run the seed recipe; every film must reach its thickness on the crystal."""
    result = await chamber.deposit(seed.deposition_recipe())
    for step, thickness_nm in zip(seed.steps, result.thickness_nm, strict=True):
        if step.thickness_nm:
            batch.measure(
                f"{step.material.value} seed",
                thickness_nm,
                "nm",
                low=step.thickness_nm * (1 - SEED_TOLERANCE),
            )


async def pattern(
    wafer: Wafer,
    film: MouldRecipe,
    claims: tuple[str, ...],
    *,
    coat_step: str = "coat mould",
    pattern_step: str = "pattern wiring",
) -> None:
    """001:8 (001:11): coat, bake, expose and develop the mould (or, named by the steps, the
    solder resist of 001:4); every opening must clear."""
    async with wafer.use(Lithography) as cell:
        await wafer.step("load in litho cell", cell.load, wafer.id)
        await wafer.step(
            coat_step,
            cell.coat,
            film.material,
            film.spin_rpm,
            spin_time_s=film.spin_time_s,
            claims=claims,
        )
        await wafer.step("soft bake", cell.bake, film.bake_temperature_c, film.bake_time_s)
        await wafer.step(pattern_step, expose_and_develop, wafer, cell, film, claims=claims)
        await wafer.step("unload from litho cell", cell.unload, wafer.id)


async def expose_and_develop(wafer: Wafer, cell: Lithography, film: MouldRecipe) -> None:
    await cell.expose(film.mask, film.dose_mj_cm2)
    report = await cell.develop(MATERIALS[film.material].tone, film.develop_time_s)
    wafer.measure("openings cleared", report.cleared, "sites", low=report.sites)
    wafer.measure("openings bridged", report.bridged, "sites", high=0)


async def etch_seed(wafer: Wafer, etch: SeedEtchRecipe, claims: tuple[str, ...]) -> None:
    """001:8 (001:11): strip the mould, then etch the seed (or the metal support) off between
    the patterns; the stripper must leave no resist and the etch must cut no pattern
    through."""
    async with wafer.use(WetBench) as bench:
        await wafer.step("load on wet bench", bench.load, wafer.id)
        await wafer.step("heat stripper", bench.heat_bath, Tank.STRIP, etch.strip.temperature_c)
        await wafer.step("strip mould", strip, wafer, bench, etch.strip.time_s)
        dips = [("etch seed", Tank.CU_ETCH, etch.copper_etch)]
        if etch.barrier_etch is not None:
            dips.append(("etch barrier", Tank.TI_ETCH, etch.barrier_etch))
        for name, tank, dip in dips:
            await wafer.step(f"heat {tank.value} bath", bench.heat_bath, tank, dip.temperature_c)
            await wafer.step(
                name, etch_between_patterns, wafer, bench, tank, dip.time_s, claims=claims
            )
        await wafer.step("unload from wet bench", bench.unload, wafer.id)


async def strip(wafer: Wafer, bench: WetBench, time_s: float) -> None:
    result = await bench.strip_resist(time_s)
    wafer.measure("resist left", result.left_sites, "sites", high=0)


async def etch_between_patterns(wafer: Wafer, bench: WetBench, tank: Tank, time_s: float) -> None:
    result = await bench.etch(tank, time_s)
    wafer.measure(f"patterns cut through ({tank.value})", result.opened_sites, "sites", high=0)


async def form_terminals(wafer: Wafer, terminals: TerminalsRecipe) -> None:
    """001:1d, 001:3: flux and solder balls on the conducting paths of every wiring pattern,
    inspected (no ball missing, extra or bridged), reflowed in an oven batch; 001:4: then the
    solder resist coated over them and opened around every ball."""
    await mount_balls(wafer, terminals, ("001:1d", "001:3"))
    if terminals.solder_resist is not None:
        await pattern(
            wafer,
            terminals.solder_resist,
            ("001:4",),
            coat_step="coat solder resist",
            pattern_step="open solder resist",
        )
