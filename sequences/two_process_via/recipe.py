"""The recipe of method two-process-via (002:1): every dependent claim an option, the claim's
own constraints refused before any tool moves."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Annotated, ClassVar, Literal, NamedTuple, Protocol, Self

import numpy as np
from pydantic import Field

from packline.drivers.roles.deposition import (
    CVD_GAS,
    DepositionRecipe,
    DepositionStep,
    Material,
    Method,
)
from packline.drivers.roles.laser import DEPTH_SPREAD, DrillMode, DrillRecipe
from packline.drivers.roles.lithography import (
    MATERIALS,
    RETICLES,
    Feature,
    Reticle,
    develop_rate_um_s,
)
from packline.drivers.roles.oven import (
    CURED_ALPHA,
    RESIN_CURE,
    ThermalProfile,
    cure_of_holds,
    cure_profile,
)
from packline.drivers.roles.plasma_cleaner import (
    CF4_DIELECTRIC_NM_PER_MIN,
    O2_RESIN_UM_PER_MIN,
    Gas,
)
from packline.drivers.roles.resin_coater import (
    PHOTO_MATERIAL,
    RESINS,
    CoatResin,
    spun_and_baked,
    spun_layer_um,
)
from packline.drivers.roles.wet_bench import Tank
from packline.sequences.engine import (
    Feeds,
    NeededWhen,
    Recipe,
    ToolSetpoint,
    claim_violation,
    every_problem,
    least_whole,
    leaving_unknown,
    recipe_check,
)
from packline.sequences.engine.recipe_meta import (
    WAITS_A_DAY_AT_MOST,
    Because,
    CheckedChoices,
    CheckedFloor,
    tool_range,
)
from packline.sim_instruments.physics.deposition import kept_um
from packline.sim_instruments.physics.lithography import CLEARED_UM, develop
from packline.sim_instruments.physics.resin_coater import MIN_COVER_UM
from packline.sim_instruments.twin import farthest_pad_radius_fraction, pad_pitch_um
from packline.units import Unit

from ..bump_seal_clean import (
    BondStep,
    DicingStep,
    require_a_site_for_every_part,
    require_dicing_before_mounting,
    require_joined_above_the_liquidus,
    require_pressed_until_wetted,
)
from ..plasma_clean import CHAMBER, PlasmaCleanRecipe, PlasmaStepRecipe
from ..solder import (
    PlatingStep,
    SolderBallRecipe,
    require_cooling_below_the_hold,
    um_left,
    um_text,
)
from ..sprout_bump_csp import (
    SEED_ETCH_DIPS,
    Dip,
    MouldRecipe,
    ReticleName,
    SeedRecipe,
    SeedStep,
    etch_missing,
    require_reticle_of,
)
from ..sprout_bump_csp.recipe import DEPOSITION_PHYSICS, LITHO_PHYSICS
from ..suggestion_rounding import (
    either,
    least_that_passes,
    most_that_passes,
    rounded_down,
    rounded_up,
)
from ..wafers import BOARD_SITES, WaferRecipe

#: How far short of the metal the deepest via of a first laser at its deepest advised depth
#: stops at least, um: a deliberate margin, so a laser at it leaves resin at every concave
#: bottom to spare.
LASER_SHORT_OF_METAL_UM = 0.005


def shallowest_first_laser_um(depth_um: float) -> float:
    """The shallowest a first laser asked for `depth_um` stops at a site: `DEPTH_SPREAD` short
    of it (the laser's depth spread, the farthest the simulated laser scatters a depth)."""
    return depth_um * (1 - DEPTH_SPREAD)


def depth_spread_text() -> str:
    """The laser's depth spread as a refusal names it."""
    return f"the laser's depth spread, +-{DEPTH_SPREAD:.0%} of it"


#: The resins that cure by heat: a thermosetting precursor (002:2) and a solder resist.
THERMOSETTING = frozenset({CoatResin.THERMOSET, CoatResin.SOLDER_RESIST})


class DevelopedOver(NamedTuple):
    """What a developed first process (002:3) leaves over an interconnect."""

    height_um: float  # the interconnect's
    in_edge_bead: bool
    layer_um: float  # the covering layer's thickness there, from what it is laid on
    to_the_metal_um: float  # the resin over the interconnect's top before the develop
    dissolved_um: float  # how far down the developer takes the unexposed resin
    concave_um: float  # the concave portion's depth below the field left around it
    field_um: float  # the field the develop leaves around it, from what it is laid on
    cd_um: float  # the concave portion's width at its top

    @property
    def above_metal_um(self) -> float:
        """The resin the develop leaves at the concave bottom over the metal's top."""
        return self.to_the_metal_um - self.dissolved_um

    @property
    def cover_um(self) -> float:
        """The field the develop leaves over the interconnect's top: what the dry etch thins
        and 002:1e keeps (the developer takes a little of even a cross-linked field)."""
        return self.field_um - (self.layer_um - self.to_the_metal_um)


def require_a_step_of(gas: Gas, plasma: PlasmaCleanRecipe, claim: str, path: str, why: str) -> None:
    """Refuse a plasma recipe none of whose steps runs `gas` (`why` it must), naming the gases
    it has."""
    gases = [step.gas for step in plasma.steps]
    if gas not in gases:
        raise claim_violation(
            claim, path, ", ".join(g.value for g in gases), f"{why}: add a step of {gas.value}"
        )


class IncomingWafer(WaferRecipe):
    """002:16: the wafer as it arrives, its integrated circuits' bonding pads on its upper
    surface along the four edges of every die. What the operator loads; the dry run's line
    receives the lot so, and the boards its devices are mounted on (002:7) with chip sites
    of the same layout."""

    def too_few_pads(self) -> Exception:
        return claim_violation(
            "002:16",
            "pads_per_die_side",
            str(self.pads_per_die_side),
            "the bonding pads lie on the upper surface along every die edge: at least 1",
        )


class PassivationFilm(Recipe):
    """002:15: the passivation laid by plasma CVD from silane, SiO2 (with N2O) or SiN (with
    NH3), until the crystal monitor reads `thickness_nm` (`time_s` is the limit)."""

    material: Annotated[Material, CheckedChoices((Material.SIO2.value, Material.SIN.value))]
    thickness_nm: Annotated[
        float, Unit("nm"), Feeds("deposition", "thickness_nm"), CheckedFloor(0, above=True)
    ]
    time_s: Annotated[float, Unit("s"), Feeds("deposition", "time_s")]
    power_w: Annotated[float, Unit("W"), Feeds("deposition", "power_w")]
    pressure_mtorr: Annotated[float, Unit("mTorr"), Feeds("deposition", "pressure_mtorr")]
    flow_sccm: Annotated[float, Unit("sccm"), Feeds("deposition", "flow_sccm")]

    @recipe_check
    def _an_inorganic_passivation(self) -> Self:
        if not self.material.dielectric:
            raise claim_violation(
                "002:15",
                "material",
                self.material.value,
                f"the passivation is an inorganic {Material.SIO2.value} or {Material.SIN.value}",
            )
        return self

    def step(self) -> DepositionStep:
        return DepositionStep(
            method=Method.CVD,
            material=self.material,
            time_s=self.time_s,
            thickness_nm=self.thickness_nm,
            power_w=self.power_w,
            pressure_mtorr=self.pressure_mtorr,
            gas=CVD_GAS[self.material],
            flow_sccm=self.flow_sccm,
        )


class PassivationMask(MouldRecipe):
    """002:15: the resist mask the litho cell opens over every pad, through the `pads`
    reticle unless `mask` says another hole reticle."""

    #: a reticle of the stepper's library, by its name (lowercase letters, digits, hyphens)
    mask: ReticleName = "pads"


class PassivationEtchStep(PlasmaStepRecipe):
    """002:15: a step of the etch that opens the passivation over the pads: CF4/O2, the
    line's one gas that etches SiO2 and SiN."""

    gas: Annotated[Gas, CheckedChoices((Gas.CF4_O2.value,))]


class PassivationEtch(PlasmaCleanRecipe):
    """002:15: the CF4/O2 steps that etch the passivation's openings, in one chamber cycle."""

    #: 002:15: the CF4/O2 steps, through the film over every pad
    steps: Annotated[  # type: ignore[assignment]  # lists are invariant: narrower steps
        list[PassivationEtchStep], Field(min_length=1), Feeds(CHAMBER, "steps", len)
    ]


class PassivationRecipe(Recipe):
    """002:15: a SiO2 or SiN passivation over the wafer, opened over every pad: laid by plasma
    CVD (deposition), a resist mask opened over the pads (lithography, the `pads` reticle),
    the openings etched through in CF4/O2 (plasma chamber), the mask stripped (wet bench)."""

    #: 002:15: the SiO2 or SiN laid by plasma CVD over the wafer
    film: PassivationFilm
    base_pressure_utorr: Annotated[
        float, Unit("uTorr"), Feeds("deposition", "base_pressure_utorr")
    ] = 5.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600), WAITS_A_DAY_AT_MOST] = (
        1800.0
    )
    #: 002:15: the resist mask opened over every pad (the `pads` reticle)
    mask: PassivationMask
    #: 002:15: the openings etched through the film in the plasma chamber (CF4/O2 steps)
    etch: PassivationEtch
    #: 002:15: the mask stripped once the openings are etched
    strip: Dip
    #: the thinnest passivation around a pad the claim check accepts
    min_thickness_nm: Annotated[
        float,
        Unit("nm"),
        Field(gt=0, le=5000),
        Because("the deposition chamber lays down at most 5000 nm (its thickness_nm range)"),
    ]

    @recipe_check
    def _openings_etched_by_fluorine(self) -> Self:
        """Only fluorine etches the film (O2 ashes resin, Ar sputters, forming gas reduces
        metal oxide): every step is CF4/O2, as the template offers."""
        for index, step in enumerate(self.etch.steps):
            if step.gas is not Gas.CF4_O2:
                raise claim_violation(
                    "002:15",
                    f"etch.steps.{index}.gas",
                    step.gas.value,
                    f"the openings through {self.film.material.value} are etched in "
                    f"{Gas.CF4_O2.value}, the line's one gas that etches SiO2 and SiN: give "
                    f"{Gas.CF4_O2.value}",
                )
        return self

    @recipe_check
    def _etched_through_the_film(self) -> Self:
        """The CF4/O2 steps etch the film at `CF4_DIELECTRIC_NM_PER_MIN` (the line's rate of
        its material at their power): through all of it, or the pads stay covered and the
        wafer is held hours later at the interconnects' plating."""
        film = self.film
        fluorine = self.etch.etch_of(Gas.CF4_O2, CF4_DIELECTRIC_NM_PER_MIN[film.material])
        if fluorine is None or fluorine.removed >= film.thickness_nm:
            return self  # no CF4/O2 step: refused by the check before
        raise fluorine.short_of(
            "002:15",
            "etch.steps",
            film.thickness_nm,
            f"the etch's {Gas.CF4_O2.value} takes {fluorine.removed:.4g} nm of "
            f"{film.material.value} off (the line's {fluorine.last_rate_per_min:.4g} nm/min at "
            f"{fluorine.last_power_w:g} W), leaving {film.thickness_nm - fluorine.removed:.4g} "
            f"nm of its {film.thickness_nm:g} nm (film.thickness_nm) over the pads",
        )

    def deposition_recipe(self) -> DepositionRecipe:
        return DepositionRecipe((self.film.step(),), self.base_pressure_utorr)

    def claims(self) -> tuple[str, ...]:
        return ("002:15",)


#: What the seed etch sets apart, in a refusal: 002's patterns are its interconnects.
INTERCONNECTS_APART = "the interconnects"


class InterconnectSeed(SeedRecipe):
    """The seed of 002:1a-d, its films described in 002's words (a `SeedRecipe`'s are 001's:
    sprout-bump-csp shares it)."""

    #: 002:1a-d: the seed's metal films, one a step (Ti, then Cu), sputtered or evaporated over
    #: the wafer and its pads
    steps: Annotated[list[SeedStep], Field(min_length=1), Feeds("deposition", "steps", len)]
    films_claim: ClassVar[str] = "002:1a-d"
    films_apart: ClassVar[str] = INTERCONNECTS_APART


class InterconnectRecipe(Recipe):
    """002:1a-d: the interconnections from the pads over the surface (seed, mould, plating,
    strip, seed etch), the pads descummed first when the recipe says so."""

    #: 002:1a-d: residue and oxide cleaned off the pads before the seed (a plasma clean)
    descum: PlasmaCleanRecipe | None = None
    #: 002:1a-d: the seed (Ti, then Cu) sputtered over the wafer, joined to every pad, that
    #: the interconnects are plated on
    seed: InterconnectSeed
    #: 002:1a-d: the resist mould the interconnects are plated through
    mould: MouldRecipe
    #: 002:1a-d: the interconnects thickened by copper electroplating through the mould
    plating: PlatingStep
    #: 002:1a-d: the mould stripped before the seed is etched
    strip: Dip
    #: the seed's Cu etched off between the interconnects: left out, it is refused naming the
    #: least etch (what is left joins them all)
    copper_etch: Annotated[Dip | None, NeededWhen("when the seed has Cu")] = None
    #: then the seed's Ti or TiW, likewise
    barrier_etch: Annotated[Dip | None, NeededWhen("when the seed has Ti or TiW")] = None

    def height_um(self, *, shortest: bool = False) -> float:
        """How high an interconnect stands on its pad: the seed's films, the plating, less what
        the copper etch takes off its top: the least (the bath at its slowest: the tallest
        interconnect), or, for the `shortest`, the most (the bath at its warmest). A film's
        thickness is its crystal end point or an evaporation's rate for its time; a sputter
        run for its time is refused (`SeedRecipe._every_film_of_a_known_thickness`), which
        takes its thickness out of the recipe, so the checks that read this height are not
        judged on a guess."""
        seed_um = sum(step.laid_nm() or 0.0 for step in self.seed.steps) / 1000
        etch = self.copper_etch
        etched_um = (
            0.0
            if etch is None
            else etch.most_removed_um(Tank.CU_ETCH)
            if shortest
            else etch.least_removed_um(Tank.CU_ETCH)
        )
        return seed_um + self.plating.thickness_um - etched_um

    def seed_etch_dips(self) -> list[tuple[Tank, Dip]]:
        """The dips that etch the seed between the interconnects, in their order."""
        dips = ((tank, getattr(self, name)) for tank, name in SEED_ETCH_DIPS)
        return [(tank, dip) for tank, dip in dips if dip is not None]

    @recipe_check
    def _seed_etched_apart(self) -> Self:
        """The copper etch clears the seed's Cu between the interconnects, the barrier etch
        its Ti or TiW (`Dip.require_clears`): what is left there joins them all."""
        for tank, name in SEED_ETCH_DIPS:
            metal = self.seed.to_clear(tank)
            if metal.um <= 0:
                continue
            dip: Dip | None = getattr(self, name)
            if dip is None:
                raise etch_missing(
                    "002:1a-d",
                    name,
                    [(name, tank, metal)],
                    "a dip that clears it",
                    between=INTERCONNECTS_APART,
                )
            dip.require_clears("002:1a-d", name, tank, metal, INTERCONNECTS_APART)
        return self


class CoatStep(Recipe):
    """A resin precursor spun on and soft-baked (002:1e, 002:17)."""

    resin: CoatResin
    spin_rpm: Annotated[float, Unit("rpm"), Feeds("resin_coater", "spin_rpm")]
    spin_time_s: Annotated[float, Unit("s"), Feeds("resin_coater", "spin_time_s")] = 30.0
    bake_temperature_c: Annotated[float, Unit("degC"), Feeds("resin_coater", "bake_temperature_c")]
    bake_time_s: Annotated[float, Unit("s"), Feeds("resin_coater", "bake_time_s")]

    def layer_um(self, feature_um: float, *, in_edge_bead: bool) -> float:
        """The layer this coat leaves where a feature stands `feature_um` above what it is
        laid on, by the line's spin film (`spun_layer_um`)."""
        return spun_layer_um(
            self.resin,
            self.spin_rpm,
            self.spin_time_s,
            self.bake_temperature_c,
            self.bake_time_s,
            feature_um,
            in_edge_bead=in_edge_bead,
        )


#: The longest hold a cure may ask of the oven, s.
HOLD_LIMIT_S = 24 * 3600


class CureStep(Recipe):
    """002:1g: ramp to the cure temperature, soak, cool, in the oven under nitrogen."""

    n2_flow_slm: Annotated[float, Unit("slm"), Feeds("oven", "n2_flow_slm")] = 40.0
    o2_limit_ppm: Annotated[float, Unit("ppm"), Feeds("oven", "o2_limit_ppm")] = 100.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600), WAITS_A_DAY_AT_MOST] = (
        1800.0
    )
    temperature_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")]
    hold_s: Annotated[
        float,
        Unit("s"),
        Field(gt=0, le=HOLD_LIMIT_S),
        Because("a resin cures in hours: a hold of more than a day is a step left running"),
    ]
    ramp_c_per_min: Annotated[float, Unit("K/min"), Feeds("oven", "ramp_rate_c_per_min")] = 5.0
    cool_to_c: Annotated[float, Unit("degC"), Feeds("oven", "temperature_c")] = 60.0

    @recipe_check
    def _cools_below_its_hold(self) -> Self:
        require_cooling_below_the_hold(self.temperature_c, self.cool_to_c)
        return self

    @property
    def cool_c_per_min(self) -> float:
        """The cure cools at its ramp's rate."""
        return self.ramp_c_per_min

    def profile(self) -> ThermalProfile:
        """The oven's profile of this cure (`held_profile`)."""
        return held_profile(self)

    def require_cures(self, resin: CoatResin, claim: str, path: str, layer: str) -> None:
        """Refuse a cure (the section at `path`) that leaves `layer` of `resin` uncured by the
        line's kinetics of its chemistry (`require_cured`), naming `claim`: the cure step
        itself cures it (a later reflow is no cure)."""
        chemistry = RESINS[resin].chemistry
        require_cured(self, chemistry, f"{layer} ({resin.value})", claim, path, HOLD_LIMIT_S)


class OvenCure(Protocol):
    """A resin's cure in the oven: ramp to its temperature, hold, cool."""

    temperature_c: float
    hold_s: float
    ramp_c_per_min: float
    cool_to_c: float

    @property
    def cool_c_per_min(self) -> float: ...


def held_profile(
    cure: OvenCure, hold_s: float | None = None, temperature_c: float | None = None
) -> ThermalProfile:
    """The oven's profile of `cure` (with another `hold_s` or `temperature_c`, to try one)."""
    return cure_profile(
        cure.temperature_c if temperature_c is None else temperature_c,
        cure.hold_s if hold_s is None else hold_s,
        ramp_c_per_min=cure.ramp_c_per_min,
        cool_to_c=cure.cool_to_c,
        cool_c_per_min=cure.cool_c_per_min,
    )


def require_cured(
    cure: OvenCure, chemistry: str, layer: str, claim: str, path: str, longest_s: float
) -> None:
    """Refuse `cure` (the section at `path`) whose hold leaves `layer`, a resin of
    `chemistry`, short of `CURED_ALPHA` by the line's kinetics of it (`cure_of_holds`: the
    hold alone, whatever the ramp), naming `claim`. The refusal gives the least hold; past
    `longest_s`, the longest hold the section takes, the least temperature; past the oven's
    hottest, both."""
    kinetics = RESIN_CURE[chemistry]

    def cured(hold_s: float | None = None, temperature_c: float | None = None) -> float:
        return cure_of_holds(kinetics, held_profile(cure, hold_s, temperature_c))

    reached = cured()
    if reached >= CURED_ALPHA:
        return
    hottest_c = tool_range("oven", "temperature_c").maximum
    why = (
        f"held {cure.hold_s:g} s at {cure.temperature_c:g} degC, the {chemistry} of "
        f"{layer} cures to {rounded_down(reached, 4):g} by the line's kinetics, short "
        f"of the {CURED_ALPHA:g} a cured layer has"
    )
    if cured(hold_s=longest_s) >= CURED_ALPHA:
        least_s = least_whole(cure.hold_s, longest_s, lambda s: cured(hold_s=s) >= CURED_ALPHA)
        field, given, advice = "hold_s", f"{cure.hold_s:g} s", f"give at least {least_s} s"
    elif cured(temperature_c=hottest_c) >= CURED_ALPHA:
        least_c = least_whole(
            cure.temperature_c, hottest_c, lambda c: cured(temperature_c=c) >= CURED_ALPHA
        )
        field, given = "temperature_c", f"{cure.temperature_c:g} degC"
        advice = f"no hold up to {longest_s:g} s cures it: give at least {least_c} degC"
    else:
        least_s = least_whole(
            cure.hold_s,
            longest_s,
            lambda s: cured(hold_s=s, temperature_c=hottest_c) >= CURED_ALPHA,
        )
        field, given = "temperature_c", f"{cure.temperature_c:g} degC"
        advice = (
            f"no hold up to {longest_s:g} s cures it: give {hottest_c:g} degC, the "
            f"oven's hottest, and hold_s at least {least_s} s"
        )
    raise claim_violation(claim, f"{path}.{field}", given, f"{why}: {advice}")


class LaserDrill(Recipe):
    """Vias by the laser at every site: to a depth (a concave portion, 002:1f) or, without a
    depth, through to the metal (002:1h, or the pads under the stress-relieving layer)."""

    process: Literal["laser"] = "laser"
    #: the vias' diameter, drilled by the line's CO2 source (50-150 um): a terminal's ball
    #: sinks into a via only a fraction of its width (decision 0128)
    diameter_um: Annotated[float, Unit("um"), Feeds("laser", "co2_via_diameter_um")]
    fluence_j_cm2: Annotated[float, Unit("J/cm^2"), Feeds("laser", "drill_fluence_j_cm2")]
    rep_rate_khz: Annotated[float, Unit("kHz"), Feeds("laser", "rep_rate_khz")]
    depth_um: Annotated[float, Unit("um"), Feeds("laser", "via_depth_um")] | None = None

    def drill_recipe(self) -> DrillRecipe:
        mode = DrillMode.TO_METAL if self.depth_um is None else DrillMode.TO_DEPTH
        return DrillRecipe(
            self.diameter_um, self.fluence_j_cm2, self.rep_rate_khz, mode, self.depth_um
        )


class ConcaveLaser(LaserDrill):
    """002:1f: concave portions lasered into the resin over every interconnect, stopped at a
    depth so that resin is left at their bottoms."""

    #: 002:1f: how deep the laser goes into the resin, from its top: less than the resin
    #: over an interconnect's top (the film the coat lays over it, the coater's `resin over
    #: the interconnects`), which the second process then opens (002:4 with a dry etch:
    #: validate gives the least O2 time for it)
    depth_um: Annotated[float, Unit("um"), Feeds("laser", "via_depth_um")]


class StressReliefRecipe(Recipe):
    """002:17: a stress-relieving layer from a resin precursor, cured, opened over the pads."""

    #: 002:17: the stress-relieving resin precursor spun on and soft-baked
    coat: CoatStep
    #: 002:17: the stress-relieving layer cured in the oven
    cure: CureStep
    #: 002:17: the layer lasered open over every pad, through to the metal
    opening: LaserDrill

    @recipe_check
    def _a_stress_relief_resin(self) -> Self:
        if self.coat.resin is not CoatResin.STRESS_RELIEF:
            raise claim_violation(
                "002:17",
                "coat.resin",
                self.coat.resin.value,
                f"the stress-relieving layer is coated from {CoatResin.STRESS_RELIEF.value}",
            )
        return self


class Develop(Recipe):
    """002:1f with 002:3: the radiation-sensitive resin irradiated through a reticle and
    developed only part of the way, leaving resin at the bottom of every concave portion."""

    process: Literal["develop"]
    mask: ReticleName = "terminal-vias"
    dose_mj_cm2: Annotated[float, Unit("mJ/cm^2"), Feeds("lithography", "dose_mj_cm2")]
    develop_time_s: Annotated[float, Unit("s"), Feeds("lithography", "develop_time_s")]


class DryEtch(Recipe):
    """002:1h with 002:4: an O2 plasma etches the resin down, the concave bottoms through."""

    process: Literal["dry-etch"]
    #: 002:1h, 002:4: the O2 plasma steps that etch the resin down and the concave bottoms
    #: through to the interconnects, in one chamber cycle
    plasma: PlasmaCleanRecipe

    @recipe_check
    def _etches_the_resin(self) -> Self:
        """Only oxygen etches the resin (Ar sputters, forming gas reduces, CF4/O2 etches the
        passivation and stops on metal): a dry etch without an O2 step never opens the
        concave bottoms, and the wafer would be held hours later at the terminals."""
        require_a_step_of(
            Gas.O2,
            self.plasma,
            "002:4",
            "plasma.steps",
            "the dry etch opens the concave bottoms through the resin, which only an O2 step "
            "etches",
        )
        return self


#: The claims the mounting carries out, which each of its constraints serves: 002:7's circuit
#: board carrying the devices of 002:6, and 002:8's electronic apparatus with them, whose share
#: the line makes is that board with the devices mounted on it.
MOUNTING_CLAIMS = ("002:7", "002:8")


class DeviceMounting(BondStep):
    """002:7, 002:8: devices of the diced wafer (002:6) flipped and bonded by their solder
    balls on the circuit board of an electronic apparatus (the flip-chip bonder): `devices`
    of them, one on each chip site of the wafer's board."""

    devices: Annotated[int, Field(strict=True, ge=1, le=10_000), BOARD_SITES]


class DeviceTerminals(SolderBallRecipe):
    """002:1i: the external connection terminals, a solder ball on the interconnect exposed
    at every hole, reflowed into a joint with it."""

    liquidus_claim = "002:1i"


def _lasered_as(field: str) -> Callable[[float], str]:
    """How a laser makes vias of a width, for a refusal: its `field`."""
    return lambda width_um: field


def _reticles_developing(mask: Reticle, developed_um: float, width_um: float) -> str:
    """The hole reticles of the line's library whose holes develop at least `width_um`
    across, as `mask`'s develop `developed_um` (its holes' size less the develop's bias), for a
    refusal: `first.mask terminal-vias (150 um holes)`, or that the library has none."""
    bias_um = mask.size_um - developed_um
    wide = [
        f"{reticle.name} ({reticle.size_um:g} um holes)"
        for reticle in RETICLES.values()
        if reticle.feature is Feature.HOLE and reticle.size_um - bias_um >= width_um
    ]
    if not wide:
        return "no hole reticle of the library develops them"
    return f"first.mask {either(wide)}"


class TwoProcessViaRecipe(Recipe):
    """The options of claim 002:1: the incoming wafer, a passivation, the resin, the two
    processes, the terminals, dicing, mounting."""

    wafer: Annotated[IncomingWafer, Field(default_factory=IncomingWafer)]
    #: claim 002:15: a SiO2 or SiN passivation opened over the pads
    passivation: PassivationRecipe | None = None
    stress_relief: StressReliefRecipe | None = None
    interconnects: InterconnectRecipe
    #: 002:1e: the resin precursor coated over the interconnects (002:2, 002:3 or 002:5 by
    #: the resin)
    resin: CoatStep
    #: 002:1f: the first process: concave portions over the interconnects, resin left below
    first: Annotated[ConcaveLaser | Develop, Field(discriminator="process")]
    #: 002:1g: the resin cured with its concave portions, in the oven
    cure: CureStep
    #: 002:1h: the second process, another than the first: the concave bottoms removed, the
    #: interconnects bared
    second: Annotated[LaserDrill | DryEtch, Field(discriminator="process")]
    #: 002:1i: the external connection terminals, solder balls on the exposed interconnects
    terminals: DeviceTerminals
    #: claim 002:6: dice the wafer into separate devices
    dicing: DicingStep | None = None
    #: claims 002:7, 002:8: devices mounted on the circuit board of an electronic apparatus,
    #: B + the wafer's id
    mounting: DeviceMounting | None = None

    @recipe_check
    def _a_terminal_on_every_pad(self) -> Self:
        self.terminals.require_one_on_every_pad(
            self.wafer.pads_per_die, "002:1i", "the interconnect"
        )
        return self

    @recipe_check
    def _terminals_apart_on_the_pads(self) -> Self:
        """The balls sit on the pads (`pad_pitch_um`: along a die's edge, at its corners,
        across two dies), where they must not touch (`SolderBallRecipe.require_apart`)."""
        wafer = self.wafer
        self.terminals.require_apart(
            pad_pitch_um(wafer.spec()),
            "002:1i",
            "terminals",
            wafer.pad_layout(),
            wafer.pads_that_fit,
        )
        return self

    @recipe_check
    def _passivation_kept_at_its_thinnest(self) -> Self:
        """The claim check judges the passivation where it is thinnest: the film's method
        (plasma CVD) lays it thinner towards the wafer's edge by the line's chamber
        (`DEPOSITION_PHYSICS.edge_thinned_nm`, the chamber the dry run lays it with), and the
        pad farthest from the centre (`farthest_pad_radius_fraction`) has the least of it
        around it; nothing later thins it there (the etch opens it through the mask, the
        cleans take no dielectric). The film is read as the twin keeps it (`kept_um`) and
        the claim check reads it, so a least the check passes here passes there. A least
        thicker than that fails 002:15 at every site hours into the run; the refusal gives
        the most, to 0.1 nm, that passes."""
        passivation = self.passivation
        if passivation is None:
            return self
        film = passivation.film
        farthest = farthest_pad_radius_fraction(self.wafer.spec())
        laid_nm = DEPOSITION_PHYSICS.edge_thinned_nm(
            film.step().method, film.thickness_nm, farthest
        )
        thinnest_nm = float(kept_um(laid_nm)) * 1000
        if passivation.min_thickness_nm <= thinnest_nm:
            return self
        most_nm = most_that_passes(thinnest_nm, 1, lambda most: most <= thinnest_nm)
        advice = f"give at most {most_nm:g} nm" if most_nm > 0 else "lay a thicker film"
        raise claim_violation(
            "002:15",
            "passivation.min_thickness_nm",
            f"{passivation.min_thickness_nm:g} nm",
            f"more than the {thinnest_nm:.2f} nm of {film.material.value} around the pad "
            f"farthest from the wafer's centre ({farthest:.3f} of its radius out), the thinnest "
            f"the claim check finds: plasma CVD lays passivation.film.thickness_nm = "
            f"{film.thickness_nm:g} nm at the centre, thinner towards the edge: {advice}",
        )

    @recipe_check
    def _plating_inside_its_window(self) -> Self:
        """The plating keeps its wiring through the copper etch (`PlatingStep.require_wiring`):
        refused, the interconnects' height is unknown, and the checks that judge the resin,
        the laser and the etch against it wait for it (what they would say follows)."""
        interconnects = self.interconnects
        dip = interconnects.copper_etch
        etch = None
        if dip is not None:
            metal = interconnects.seed.to_clear(Tank.CU_ETCH)
            etch = dip.after_plating("interconnects.copper_etch", Tank.CU_ETCH, metal)
        try:
            interconnects.plating.require_wiring("interconnects.plating", "002:1a-d", etch)
        except (ValueError, ExceptionGroup) as refused:
            raise leaving_unknown(refused, "interconnects.plating") from None
        interconnects.plating.require_through_mask(
            "interconnects", interconnects.mould.mask, self.wafer.spec()
        )
        return self

    @recipe_check
    def _resists_developed_and_stripped(self) -> Self:
        """The interconnects' mould (002:1a-d) and the passivation's mask (002:15) each
        developed open to the bottom of its openings (`MouldRecipe.require_developed`) and
        taken off whole by its strip (`MouldRecipe.require_stripped_by`)."""
        interconnects, passivation = self.interconnects, self.passivation
        strips = [(interconnects.mould, interconnects.strip, "002:1a-d", "interconnects.mould")]
        if passivation is not None:
            strips.append((passivation.mask, passivation.strip, "002:15", "passivation.mask"))
        every_problem(
            check
            for resist, strip, claim, path in strips
            for check in (
                functools.partial(resist.require_developed, claim, path),
                functools.partial(
                    resist.require_stripped_by, strip, claim, path, f"{path.split('.')[0]}.strip"
                ),
            )
        )
        return self

    @recipe_check
    def _reticles_of_their_patterns(self) -> Self:
        """Each mask a reticle of its pattern (`require_reticle_of`): the interconnects' mould
        a wiring's lines from the pads (002:1a-d), the passivation's mask and a developed first
        process holes over the pads or the interconnects (002:15, 002:1f)."""
        masks = [
            (
                Feature.LINE,
                self.interconnects.mould.mask,
                "002:1a-d",
                "interconnects.mould.mask",
                "the interconnects are plated through a mould open along a trace from every pad",
            )
        ]
        if self.passivation is not None:
            masks.append(
                (
                    Feature.HOLE,
                    self.passivation.mask.mask,
                    "002:15",
                    "passivation.mask.mask",
                    "the passivation is etched open over every pad through a hole in the mask",
                )
            )
        if isinstance(self.first, Develop):
            masks.append(
                (
                    Feature.HOLE,
                    self.first.mask,
                    "002:1f",
                    "first.mask",
                    "a concave portion is developed over every interconnect through a hole",
                )
            )
        every_problem(functools.partial(require_reticle_of, *mask) for mask in masks)
        return self

    def derived_setpoints(self) -> list[ToolSetpoint]:
        """The interconnects' plated area, when their plating states none."""
        interconnects = self.interconnects
        return interconnects.plating.mask_area_setpoints(
            "interconnects", interconnects.mould.mask, self.wafer.spec()
        )

    @recipe_check
    def _devices_mounted_once_diced(self) -> Self:
        require_dicing_before_mounting(
            self.dicing,
            self.mounting,
            MOUNTING_CLAIMS,
            "the devices of claim 002:6 are mounted once the wafer is diced into them",
        )
        return self

    @recipe_check
    def _devices_joined_above_the_liquidus(self) -> Self:
        """A device's balls join the board only molten (`require_joined_above_the_liquidus`)."""
        if self.mounting is not None:
            alloy = self.terminals.alloy.value
            require_joined_above_the_liquidus(
                self.mounting, alloy, MOUNTING_CLAIMS, "devices", "balls"
            )
        return self

    @recipe_check
    def _devices_pressed_until_wetted(self) -> Self:
        """The molten balls wet the board's pads in the bonder's wetting time
        (`require_pressed_until_wetted`)."""
        if self.mounting is not None:
            require_pressed_until_wetted(self.mounting, MOUNTING_CLAIMS, "devices", "balls")
        return self

    @recipe_check
    def _a_site_on_the_board_for_every_device(self) -> Self:
        """No more devices than the board has chip sites (`require_a_site_for_every_part`)."""
        mounting, wafer = self.mounting, self.wafer
        if mounting is not None:
            layout = (
                f"wafer.diameter_mm = {wafer.diameter_mm:g} mm, {wafer.die_width_mm:g} x "
                f"{wafer.die_height_mm:g} mm dies"
            )
            require_a_site_for_every_part(
                mounting.devices, wafer.spec(), MOUNTING_CLAIMS, "devices", layout
            )
        return self

    def resin_over_an_interconnect_um(self, height_um: float, *, in_edge_bead: bool) -> float:
        """The covering layer's thickness at an interconnect `height_um` high (on the
        stress-relieving layer, if any), in the wafer's edge bead or inside it: the part of
        the interconnect standing above what the resin is laid on and the film over it, by
        the line's spin film (`spun_layer_um`)."""
        return self.resin.layer_um(
            self._standing_um(height_um, in_edge_bead=in_edge_bead), in_edge_bead=in_edge_bead
        )

    def _standing_um(self, height_um: float, *, in_edge_bead: bool) -> float:
        """How far an interconnect `height_um` high stands above what the covering resin is
        laid on (the stress-relieving layer, if any)."""
        return max(height_um - self._relief_um(in_edge_bead=in_edge_bead), 0.0)

    def _relief_um(self, *, in_edge_bead: bool) -> float:
        """The stress-relieving layer under the interconnects (0 without one), in the wafer's
        edge bead or inside it."""
        if self.stress_relief is None:
            return 0.0
        return self.stress_relief.coat.layer_um(0.0, in_edge_bead=in_edge_bead)

    def cover_over_an_interconnect_um(self, height_um: float, *, in_edge_bead: bool) -> float:
        """The resin over the top of an interconnect `height_um` high (the resin over it,
        with the stress-relieving layer under it, less its height), in the wafer's edge bead
        or inside it: what the dry etch thins from the top and 002:1e keeps."""
        over = self.resin_over_an_interconnect_um(height_um, in_edge_bead=in_edge_bead)
        return self._relief_um(in_edge_bead=in_edge_bead) + over - height_um

    def resin_to_the_metal_um(self, height_um: float, *, in_edge_bead: bool) -> float:
        """How deep under the covering resin's top an opening reaches the metal of an
        interconnect `height_um` high, in the wafer's edge bead or inside it: the covering
        layer there less the part of the interconnect standing in it, the film the coat
        laid over its top (the coater's `resin over the interconnects`), not the layer's
        thickness from what it is laid on, which counts the interconnect's height. The
        twin's openings reach the metal there (`Workpiece.depth_to_metal_um`)."""
        over = self.resin_over_an_interconnect_um(height_um, in_edge_bead=in_edge_bead)
        return over - self._standing_um(height_um, in_edge_bead=in_edge_bead)

    def _interconnect_heights_um(self) -> tuple[float, float]:
        """The shortest interconnect (the copper etch at its most) and the tallest (at its
        least)."""
        interconnects = self.interconnects
        return interconnects.height_um(shortest=True), interconnects.height_um()

    def thinnest_cover_um(self) -> tuple[float, float]:
        """The thinnest resin over the top of any interconnect once the first process has
        made its concave portions, the shortest or the tallest, inside the wafer's edge bead
        or in it, and that interconnect's height: the coat's (a laser leaves the field as
        laid), or the field a develop leaves of it (`DevelopedOver.cover_um`) where its dose
        cross-links the field (else `_develop_keeps_the_field` refuses the dose)."""
        first = self.first
        if isinstance(first, Develop) and self.cross_links_the_field(
            first.dose_mj_cm2, first.develop_time_s
        ):
            return min((site.cover_um, site.height_um) for site in self._developed(first))
        return min(
            (self.cover_over_an_interconnect_um(height, in_edge_bead=in_edge_bead), height)
            for height in self._interconnect_heights_um()
            for in_edge_bead in (False, True)
        )

    def _resin_to_the_metal_um(self) -> list[tuple[float, float]]:
        """The resin a first process goes down through to reach the metal
        (`resin_to_the_metal_um`) over the shortest and the tallest interconnect, inside the
        wafer's edge bead and in it, each with that interconnect's height."""
        return [
            (self.resin_to_the_metal_um(height, in_edge_bead=in_edge_bead), height)
            for height in self._interconnect_heights_um()
            for in_edge_bead in (False, True)
        ]

    def resin_at_the_bottoms_um(self) -> tuple[float, float]:
        """The most resin the first process leaves at a concave bottom, which the second
        must take off (002:1h), and the resin over the metal there before it: a laser's, the
        thickest resin over an interconnect's top (the shortest, in the wafer's edge bead or
        inside it, whichever is thicker) less its shallowest depth (`shallowest_first_laser_um`);
        a develop's, the most its developer leaves over the metal at any interconnect
        (`developed_over_the_interconnects`: the litho cell's law, the bottom at the bulk
        rate's share of the layer)."""
        first = self.first
        if isinstance(first, ConcaveLaser):
            layer = max(self._resin_to_the_metal_um())[0]
            return layer - shallowest_first_laser_um(first.depth_um), layer
        site = max(self._developed(first), key=lambda site: site.above_metal_um)
        return site.above_metal_um, site.to_the_metal_um

    def _first_process_text(self, left_um: float, layer_um: float) -> str:
        """How the first process left `left_um` at a concave bottom under `layer_um` of resin
        over the metal, for a message: its setting that did (a laser's depth, with the
        shallowest its spread drills, `layer_um` less `left_um`)."""
        first = self.first
        if isinstance(first, ConcaveLaser):
            return (
                f"lasered first.depth_um = {first.depth_um:g} um, "
                f"{um_text(layer_um - left_um)} um at its shallowest ({depth_spread_text()})"
            )
        return f"developed first.develop_time_s = {first.develop_time_s:g} s"

    def _developed(self, first: Develop) -> list[DevelopedOver]:
        """What `first` leaves over the interconnects at its own dose and develop time."""
        return self.developed_over_the_interconnects(first, first.dose_mj_cm2, first.develop_time_s)

    @recipe_check
    def _dry_etch_leaves_the_interconnects_covered(self) -> Self:
        """The O2 etches the resin's top down as much as the concave bottoms
        (`O2_RESIN_UM_PER_MIN`): it may take off no more than the thinnest resin over an
        interconnect less the `MIN_COVER_UM` that insulates it, or 002:1e fails where the
        resin is thinnest. When no O2 time both opens the bottoms and leaves that, the first
        laser must go deeper: the refusal names its least depth."""
        second = self.second
        if not isinstance(second, DryEtch):
            return self
        o2 = second.plasma.etch_of(Gas.O2, O2_RESIN_UM_PER_MIN)
        if o2 is None:
            return self  # refused by the dry etch's own check
        cover, height = self.thinnest_cover_um()
        most = cover - MIN_COVER_UM
        left, layer = self.resin_at_the_bottoms_um()
        # the most the etch takes off in whole seconds of its last step
        most_etched = o2.removed_with_last_s(o2.most_last_s(most))
        if left > most_etched:
            field, given, advice = self._first_leaving_at_most(left, layer, most_etched)
            raise claim_violation(
                "002:1e",
                field,
                given,
                f"it leaves {um_text(left)} um of resin at the thickest concave bottom "
                f"({self._first_process_text(left, layer)}), which the dry etch must take "
                f"off, but it may take no more than {um_text(most_etched)} um off the top "
                f"({o2.most_last_s(most)} s of its last step): the resin over the "
                f"interconnects is {um_text(cover)} um where thinnest (over one "
                f"{um_text(height)} um high) and at least {MIN_COVER_UM:g} um must stay: "
                f"{advice}",
            )
        if o2.removed <= most:
            return self
        left_um = cover - o2.removed
        left_over = (
            f"leaving {um_text(left_um)} um over the interconnects"
            if left_um > 0
            else f"baring the interconnects ({um_text(-left_um)} um below their tops)"
        )
        raise o2.long_by(
            "002:1e",
            "second.plasma.steps",
            most,
            f"the dry etch's O2 takes {um_text(o2.removed)} um of resin off the top as well "
            f"as off the concave bottoms (the line's {o2.last_rate_per_min:g} um/min at "
            f"{o2.last_power_w:g} W), {left_over} where the covering resin is thinnest, "
            f"{um_text(cover)} um over one {um_text(height)} um high (at least "
            f"{MIN_COVER_UM:g} um must stay)",
        )

    def _first_leaving_at_most(
        self, left_um: float, layer_um: float, most_um: float
    ) -> tuple[str, str, str]:
        """The first process's field, its value and the advice, where it leaves `left_um` of
        resin at the thickest concave bottom (under `layer_um` over the metal) and the dry
        etch may take no more than `most_um` off: a laser's least depth, a develop's least
        time, each short of the metal (002:1f); where none is, a thicker resin."""
        first = self.first
        thicker = "a thicker resin does (resin.spin_rpm lower)"
        if isinstance(first, ConcaveLaser):
            least_depth = rounded_up((layer_um - most_um) / (1 - DEPTH_SPREAD), 2)
            deepest = self.deepest_first_laser_um()[0]
            advice = (
                f"give at least {least_depth:g} um"
                if least_depth <= deepest
                else f"no depth does, the laser reaching the metal past {deepest:g} um "
                f"(002:1f): {thicker}"
            )
            return "first.depth_um", f"{first.depth_um:g} um", advice
        longest_s = self.longest_first_develop_s(first)
        least_s = self.least_first_develop_s(first, most_um)
        advice = (
            f"give at least {least_s:g} s"
            if least_s <= longest_s
            else f"no develop does, the developer reaching the metal past {longest_s:g} s "
            f"(002:1f): {thicker}"
        )
        return "first.develop_time_s", f"{first.develop_time_s:g} s", advice

    @recipe_check
    def _dry_etch_opens_the_bottoms(self) -> Self:
        """The O2 steps etch the resin down at `O2_RESIN_UM_PER_MIN` (the line's rate at
        their power): at least what the first process left at the thickest concave bottom
        (a laser's or a develop's, `resin_at_the_bottoms_um`), or the via stays closed and
        the wafer is held hours later at the balls."""
        second = self.second
        if not isinstance(second, DryEtch):
            return self
        left, layer = self.resin_at_the_bottoms_um()
        o2 = second.plasma.etch_of(Gas.O2, O2_RESIN_UM_PER_MIN)
        if o2 is None:
            return self  # refused by the dry etch's own check
        if o2.removed >= left:
            return self
        raise o2.short_of(
            "002:4",
            "second.plasma.steps",
            left,
            f"the dry etch's O2 takes {um_text(o2.removed)} um of resin off (the line's "
            f"{o2.last_rate_per_min:g} um/min at {o2.last_power_w:g} W), short of the "
            f"{um_text(left)} um the first process leaves at the thickest concave bottom (the "
            f"resin {um_text(layer)} um over an interconnect's top, "
            f"{self._first_process_text(left, layer)})",
        )

    def deepest_first_laser_um(self) -> tuple[float, float, float]:
        """The deepest a first laser may be asked to go, to 0.01 um: its vias at their
        deepest (`DEPTH_SPREAD` past it) at least `LASER_SHORT_OF_METAL_UM` short of the
        metal; the thinnest resin over an interconnect's top (`resin_to_the_metal_um`), the
        shortest or the tallest, inside the wafer's edge bead or in it; that interconnect's
        height."""
        thinnest, height = min(self._resin_to_the_metal_um())
        deepest = (thinnest - LASER_SHORT_OF_METAL_UM) / (1 + DEPTH_SPREAD)
        return rounded_down(deepest, 2), thinnest, height

    @recipe_check
    def _first_laser_leaves_resin(self) -> Self:
        """A first laser stops short of the metal at every site: its depth, from the
        resin's top, at its deepest (the depth's spread, `DEPTH_SPREAD`, past it) shallower
        than the thinnest resin over an interconnect's top (the tallest interconnect's,
        inside the wafer's edge bead or in it, whichever is thinner). Deeper, it opens vias
        onto the metal itself and those concave portions keep no resin below (002:1f, lost
        for good); on a real line it cuts into the metal. The advice is
        `deepest_first_laser_um`."""
        first = self.first
        if not isinstance(first, ConcaveLaser):
            return self
        deepest, thinnest, height = self.deepest_first_laser_um()
        if first.depth_um <= deepest:
            return self
        reach_um = first.depth_um * (1 + DEPTH_SPREAD)
        where = (
            f"where the resin over it is thinnest, {um_text(thinnest)} um over the top of an "
            f"interconnect {um_text(height)} um high (the resin's spin film over it, the copper "
            "etch at its least or most)"
        )
        if reach_um >= thinnest:
            outcome = (
                f"past the metal {where}: those concave portions keep no resin at their bottom, "
                "where the claim needs some at every one"
            )
        else:
            outcome = (
                f"{um_left(thinnest, reach_um)} um short of the metal {where}: less than the "
                f"{LASER_SHORT_OF_METAL_UM:g} um validate keeps at every concave bottom, so that "
                "the claim's resin left there stays to spare"
            )
        raise claim_violation(
            "002:1f",
            "first.depth_um",
            f"{first.depth_um:g} um",
            f"its vias go down to {um_text(reach_um)} um at their deepest "
            f"({depth_spread_text()}), {outcome}: give at most {deepest:g} um",
        )

    @recipe_check
    def _resins_cured_by_their_cures(self) -> Self:
        """The covering resin cured by its cure (002:1g), the stress-relieving layer by its
        own (002:17) (`CureStep.require_cures`)."""
        cures = [(self.cure, self.resin.resin, "002:1g", "cure", "the covering resin")]
        relief = self.stress_relief
        if relief is not None:
            cures.append(
                (
                    relief.cure,
                    relief.coat.resin,
                    "002:17",
                    "stress_relief.cure",
                    "the stress-relieving layer",
                )
            )
        every_problem(
            functools.partial(cure.require_cures, resin, claim, path, layer)
            for cure, resin, claim, path, layer in cures
        )
        return self

    def developed_over_the_interconnects(
        self, first: Develop, dose_mj_cm2: float, develop_time_s: float
    ) -> list[DevelopedOver]:
        """What `first`, exposed at `dose_mj_cm2` and developed for `develop_time_s`, leaves
        over the shortest and the tallest interconnect, inside the wafer's edge bead and in
        it. The developer takes the unexposed resin over a concave portion at its bulk rate
        (`develop_rate_um_s`, the litho cell's law), a share of the covering layer's whole
        thickness there, which counts the interconnect's height, and the bottom meets the
        metal at its top (the twin's `covered_metal_um`); the field around it is what the
        simulated cell's develop (`develop`) leaves of the layer at the dose, its solvent
        what the coater's spin and bake leave (`spun_and_baked`)."""
        coat = self.resin
        _, solvent = spun_and_baked(
            coat.resin, coat.spin_time_s, coat.bake_temperature_c, coat.bake_time_s
        )
        over = []
        for height in self._interconnect_heights_um():
            for in_edge_bead in (False, True):
                layer = self.resin_over_an_interconnect_um(height, in_edge_bead=in_edge_bead)
                standing = self._standing_um(height, in_edge_bead=in_edge_bead)
                rate = develop_rate_um_s(PHOTO_MATERIAL, layer, dose_mj_cm2)
                done = develop(
                    PHOTO_MATERIAL,
                    np.full(1, layer, np.float32),
                    solvent,
                    np.full(1, dose_mj_cm2, np.float32),
                    RETICLES[first.mask],
                    develop_time_s,
                    LITHO_PHYSICS,
                )
                over.append(
                    DevelopedOver(
                        height,
                        in_edge_bead,
                        layer,
                        layer - standing,
                        min(rate * develop_time_s, layer),
                        float(done.depth_um[0]),
                        float(done.field_um[0]),
                        float(done.cd_um[0]),
                    )
                )
        return over

    def longest_first_develop_s(self, first: Develop) -> float:
        """The longest develop of `first`, in whole seconds, that leaves resin over the metal
        at every interconnect (`_develop_leaves_resin`): the bulk rate takes the whole layer
        in the nominal time, so the resin over an interconnect's top lasts that share of it,
        the least over the interconnects; whatever the dose (the unexposed resin dissolves
        at its bulk rate)."""

        def leaves_resin(time_s: float) -> bool:
            over = self.developed_over_the_interconnects(first, first.dose_mj_cm2, time_s)
            return all(site.above_metal_um > CLEARED_UM for site in over)

        nominal_s = MATERIALS[PHOTO_MATERIAL].nominal_develop_s
        over = self.developed_over_the_interconnects(first, first.dose_mj_cm2, nominal_s)
        share = min((site.to_the_metal_um - CLEARED_UM) / site.layer_um for site in over)
        return most_that_passes(nominal_s * share, 0, leaves_resin)

    def least_first_develop_s(self, first: Develop, most_left_um: float) -> float:
        """The least develop of `first`, in whole seconds, that leaves no more than
        `most_left_um` of resin at any concave bottom over the metal (what the dry etch may
        take off): the bulk rate takes the whole layer in the nominal time, so the bottom
        goes down that share of it, the most left over the interconnects."""

        def leaves_at_most(time_s: float) -> bool:
            over = self.developed_over_the_interconnects(first, first.dose_mj_cm2, time_s)
            return all(site.above_metal_um <= most_left_um for site in over)

        nominal_s = MATERIALS[PHOTO_MATERIAL].nominal_develop_s
        over = self.developed_over_the_interconnects(first, first.dose_mj_cm2, nominal_s)
        share = max((site.to_the_metal_um - most_left_um) / site.layer_um for site in over)
        return least_that_passes(nominal_s * share, 0, leaves_at_most)

    def cross_links_the_field(self, dose_mj_cm2: float, develop_time_s: float) -> bool:
        """Whether a first develop's `dose_mj_cm2` cross-links the whole field of the
        covering layer at every interconnect through a develop of `develop_time_s`: a um for
        every clearing dose per um over the develop's share of the nominal time (the law of
        `cross_linking_dose_mj_cm2` and `develop`), the thickest layer's (over the shortest
        interconnect in the edge bead)."""
        facts = MATERIALS[PHOTO_MATERIAL]
        per_um = facts.clearing_dose_mj_cm2_per_um * facts.nominal_develop_s / develop_time_s
        return dose_mj_cm2 / per_um >= self._thickest_layer_um()

    def _thickest_layer_um(self) -> float:
        """The covering layer at its thickest over an interconnect (`layer_um`)."""
        return max(
            self.resin_over_an_interconnect_um(height, in_edge_bead=in_edge_bead)
            for height in self._interconnect_heights_um()
            for in_edge_bead in (False, True)
        )

    def least_first_dose_mj_cm2(self, develop_time_s: float) -> float:
        """The least dose, in whole mJ/cm^2, that cross-links the whole field through a
        develop of `develop_time_s` (`cross_links_the_field`)."""
        facts = MATERIALS[PHOTO_MATERIAL]
        per_um = facts.clearing_dose_mj_cm2_per_um * facts.nominal_develop_s / develop_time_s
        return least_that_passes(
            self._thickest_layer_um() * per_um,
            0,
            lambda dose: self.cross_links_the_field(dose, develop_time_s),
        )

    @recipe_check
    def _develop_keeps_the_field(self) -> Self:
        """A developed first process's dose cross-links the whole field of the covering
        layer (a negative resin: `develop`, the simulated cell's), so the developer leaves
        it standing around the concave portions. Too little, and the developer thins the
        field: the resin over the interconnects is thinner than the coat laid, which the dry
        etch's 002:1e check counts on, and with less still the field goes down as far as the
        concave bottoms and no concave portion forms at all (002:1f fails every via at the
        claim check; a trial's 30 mJ/cm^2). The advice is `_dose_advice`."""
        first = self.first
        if not isinstance(first, Develop):
            return self
        longest_s = self.longest_first_develop_s(first)
        time_s = min(first.develop_time_s, longest_s)
        if self.cross_links_the_field(first.dose_mj_cm2, time_s):
            return self
        over = self.developed_over_the_interconnects(first, first.dose_mj_cm2, first.develop_time_s)
        shallowest = min(over, key=lambda site: site.concave_um)
        formed = shallowest.concave_um > 0
        site = max(over, key=lambda site: site.layer_um) if formed else shallowest
        where = "in the wafer's edge bead" if site.in_edge_bead else "inside the edge bead"
        thinned = (
            "the developer thins the field, and the resin over the interconnects is thinner "
            "than the coat laid, which the dry etch must leave covering them (002:1e)"
            if formed
            else "the developer takes the field down to or past the concave bottoms, "
            f"{um_text(site.layer_um - site.dissolved_um)} um above what the resin is laid "
            "on, and no concave portion forms"
        )
        raise claim_violation(
            "002:1f",
            "first.dose_mj_cm2",
            f"{first.dose_mj_cm2:g} mJ/cm^2",
            f"it cross-links too little of the {PHOTO_MATERIAL.value} to keep the field whole "
            f"through the develop: over an interconnect {um_text(site.height_um)} um "
            f"high {where} (a {um_text(site.layer_um)} um layer) {thinned}: "
            f"{self._dose_advice(time_s, longest_s, time_s == first.develop_time_s)}",
        )

    def _dose_advice(self, time_s: float, longest_s: float, own_time: bool) -> str:
        """What a first develop's dose too low to cross-link the field may be, each setting
        inside the litho cell's range (a suggestion must itself validate): the least dose
        (`least_first_dose_mj_cm2`) for the develop of `time_s` the recipe keeps (its own,
        `own_time`, or `longest_s`, the longest that leaves resin over the metal); past the
        cell's highest dose, the shortest develop up to `longest_s` at which a dose it gives
        does, with that dose; where none does, what else must change."""
        if (no_develop := self._no_develop_stops_short(longest_s)) is not None:
            return no_develop
        highest = tool_range("lithography", "dose_mj_cm2").maximum
        least = self.least_first_dose_mj_cm2(time_s)
        if least <= highest:
            longest = "" if own_time else ", the longest that leaves resin over the metal"
            return f"give at least {least:g} mJ/cm^2 for a develop of {time_s:g} s{longest}"
        beyond = f"no dose the cell gives (at most {highest:g} mJ/cm^2)"
        if not self.cross_links_the_field(highest, longest_s):
            return (
                f"{beyond} does through a develop that leaves resin over the metal (at most "
                f"{longest_s:g} s): the layer over the interconnects must change "
                "(resin.spin_rpm, interconnects.plating.thickness_um), or the first process "
                "be a laser"
            )
        at_s = least_whole(time_s, longest_s, lambda t: self.least_first_dose_mj_cm2(t) <= highest)
        return (
            f"{beyond} does for a develop of {time_s:g} s: give first.develop_time_s = "
            f"{at_s} s and at least {self.least_first_dose_mj_cm2(at_s):g} mJ/cm^2"
        )

    @staticmethod
    def _no_develop_stops_short(longest_s: float) -> str | None:
        """What to change where the longest develop that leaves resin over the metal,
        `longest_s`, is shorter than the litho cell's shortest (None where it is not): the
        resin over the interconnects is too thin a share of the layer for any develop."""
        shortest = tool_range("lithography", "develop_time_s").minimum
        if longest_s >= shortest:
            return None
        return (
            f"no develop the cell gives (at least {shortest:g} s) stops short of the metal "
            f"(the longest that does is {max(longest_s, 0):g} s): a thicker resin does "
            "(resin.spin_rpm lower)"
        )

    @recipe_check
    def _develop_leaves_resin(self) -> Self:
        """A developed first process stops short of the metal: the developer takes the
        unexposed resin over the concave portions at its bulk rate, a share of the covering
        layer's whole thickness at an interconnect (the whole in its nominal time), and the
        concave bottom reaches the interconnect's top once through the resin over it, so no
        concave portion keeps resin below (002:1f, as a first laser's depth,
        `_first_laser_leaves_resin`). The advice is `longest_first_develop_s`."""
        first = self.first
        if not isinstance(first, Develop):
            return self
        over = self.developed_over_the_interconnects(first, first.dose_mj_cm2, first.develop_time_s)
        reaching = [site for site in over if site.above_metal_um <= CLEARED_UM]
        if not reaching:
            return self
        worst = min(reaching, key=lambda site: site.above_metal_um)
        where = "in the wafer's edge bead" if worst.in_edge_bead else "inside the edge bead"
        longest_s = self.longest_first_develop_s(first)
        advice = self._no_develop_stops_short(longest_s) or f"give at most {longest_s:g} s"
        raise claim_violation(
            "002:1f",
            "first.develop_time_s",
            f"{first.develop_time_s:g} s",
            f"the developer takes the unexposed {PHOTO_MATERIAL.value} over the concave "
            f"portions at its bulk rate, the whole layer in "
            f"{MATERIALS[PHOTO_MATERIAL].nominal_develop_s:g} s: over an interconnect "
            f"{um_text(worst.height_um)} um high {where} it goes "
            f"{um_text(worst.dissolved_um)} um down the {um_text(worst.layer_um)} um layer, "
            f"past the metal {um_text(worst.to_the_metal_um)} um under the resin's top (the "
            "resin's spin film over the interconnect): it clears those concave portions to the "
            "metal and leaves no resin at their bottom, where the claim needs some left at every "
            f"one: {advice}",
        )

    @recipe_check
    def _develop_needs_a_radiation_sensitive_resin(self) -> Self:
        if isinstance(self.first, Develop) and self.resin.resin is not CoatResin.PHOTO:
            raise claim_violation(
                "002:3",
                "first.process",
                "develop",
                f"only a radiation-sensitive resin develops; resin.resin is "
                f"{self.resin.resin.value}, not {CoatResin.PHOTO.value}",
            )
        return self

    @recipe_check
    def _terminals_reach_the_interconnects(self) -> Self:
        """Each terminal's ball sinks into its via by its sag (`ball_sag_um`, by which the
        simulated oven joins it) and must reach the interconnect at the bottom (002:1i): into
        the first process's concave portion as wide as it opens, through the deepest the via
        goes to the metal once the second process is done (`deepest_via_um`); and where a
        second laser drills a narrower hole through the concave bottom, through that hole
        and the most resin the first process leaves under it. A ball held on a rim is never
        joined; the wafer would be held at its reflow, hours into the line."""
        terminals, first, second = self.terminals, self.first, self.second
        openings_by: Callable[[float], str]
        if isinstance(first, ConcaveLaser):
            top_um, top_field = first.diameter_um, "first.diameter_um"
            openings_by = _lasered_as("first.diameter_um")
        else:
            top_um = min(site.cd_um for site in self._developed(first))
            top_field = f"first.mask {first.mask} as developed"
            openings_by = functools.partial(_reticles_developing, RETICLES[first.mask], top_um)
        deepest_um = self.deepest_via_um()
        # a longer dry etch thins the resin over every interconnect alike, as far as 002:1e
        # lets it take the thinnest: the deepest via no shallower than the spread between
        # them (the edge bead, the interconnects' heights) over that cover; nothing else
        # thins it once the first process has made its portions
        thinnest_um, thinner_by = math.inf, ""
        if isinstance(second, DryEtch):
            spread_um = deepest_um - (self.thinnest_cover_um()[0] - self._dry_etched_um(second))
            thinnest_um = spread_um + MIN_COVER_UM
            thinner_by = " over the interconnects (a longer dry etch: second.plasma.steps)"
        terminals.require_through_the_resist(
            top_um,
            deepest_um,
            "002:1i",
            f"the resin over an interconnect ({top_field})",
            "terminals",
            thinnest_um=thinnest_um,
            thinner_by=thinner_by,
            openings_by=openings_by,
        )
        if isinstance(second, LaserDrill) and second.diameter_um < top_um:
            terminals.require_through_the_resist(
                second.diameter_um,
                self.resin_at_the_bottoms_um()[0],
                "002:1i",
                "the resin left under the concave portions (second.diameter_um)",
                "terminals",
                thinnest_um=math.inf,
                openings_by=_lasered_as("second.diameter_um"),
            )
        return self

    def deepest_via_um(self) -> float:
        """The deepest a via goes from the resin's top to its interconnect once both
        processes are done: the resin over the top of the shortest interconnect, in the
        wafer's edge bead or inside it (the field a develop leaves, `DevelopedOver.cover_um`,
        where the first process develops), less what a dry etch's O2 takes off the top with
        the concave bottoms."""
        first, second = self.first, self.second
        if isinstance(first, ConcaveLaser):
            deepest = max(self._resin_to_the_metal_um())[0]
        else:
            deepest = max(site.cover_um for site in self._developed(first))
        if isinstance(second, DryEtch):
            deepest -= self._dry_etched_um(second)
        return max(deepest, 0.0)

    @staticmethod
    def _dry_etched_um(second: DryEtch) -> float:
        """What the dry etch's O2 takes off the resin's top (0 without an O2 step, which its
        own check refuses)."""
        o2 = second.plasma.etch_of(Gas.O2, O2_RESIN_UM_PER_MIN)
        return 0.0 if o2 is None else o2.removed

    @recipe_check
    def _second_differs_from_first(self) -> Self:
        if self.second.process == self.first.process:
            raise claim_violation(
                "002:1h",
                "second.process",
                self.second.process,
                f"the second process must differ from the first (first.process = "
                f"{self.first.process})",
            )
        if isinstance(self.second, LaserDrill) and self.second.depth_um is not None:
            raise claim_violation(
                "002:1h",
                "second.depth_um",
                f"{self.second.depth_um:g} um",
                "the second process opens the holes through to the interconnects: no depth",
            )
        return self

    def interconnect_level(self) -> int:
        """The wiring level the interconnects and their seed are formed at: how many front
        resin layers lie under them (the stress-relieving layer's one, else none; a
        passivation is a film, not a resin layer)."""
        return 0 if self.stress_relief is None else 1

    def resin_claims(self) -> tuple[str, ...]:
        """The options the covering resin carries out (002:2, 002:3, 002:5)."""
        resin = self.resin.resin
        claims = ["002:2"] if resin in THERMOSETTING else []
        if resin is CoatResin.PHOTO:
            claims.append("002:3")
        if resin is CoatResin.SOLDER_RESIST:
            claims.append("002:5")
        return tuple(claims)
