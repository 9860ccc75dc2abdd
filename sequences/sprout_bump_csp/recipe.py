"""The recipe model of sprout-bump-csp: every option with its units and limits, and the
claims' own constraints."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal, Protocol, Self

import numpy as np
from pydantic import AfterValidator, Field

from packline.drivers.roles.ball_mounter import ball_stray_um, most_flux_um
from packline.drivers.roles.deposition import (
    NEEDED_SETTINGS,
    STEP_SETTINGS,
    DepositionRecipe,
    DepositionStep,
    Material,
    Method,
    ProcessGas,
)
from packline.drivers.roles.electroplater import XRF_DECIMALS, Metal
from packline.drivers.roles.laminator import (
    FOIL_STEP_UM,
    RESIN_SPREAD_FRACTION,
    RESIN_SPREAD_SIGMAS,
    ResinSheet,
    SupportKind,
    foil_steps_around,
    thickest_laminated_um,
    thinnest_laminated_um,
)
from packline.drivers.roles.lithography import (
    MATERIALS,
    OVERLAY_UM,
    RETICLES,
    CoatMaterial,
    Feature,
    FilmLayer,
    Tone,
    coated_film_um,
    cross_linking_dose_mj_cm2,
    develop_rate_um_s,
    least_develop_s,
    least_dose_mj_cm2,
    soft_baked,
    solvent_after_spin,
)
from packline.drivers.roles.oven import LIQUIDUS_C
from packline.drivers.roles.wet_bench import BATH_METALS, BATH_RATES, BATH_TOLERANCE_C, Tank
from packline.sequences.engine import (
    Feeds,
    NeededWhen,
    Recipe,
    ToolSetpoint,
    claim_violation,
    every_problem,
    field_problem,
    least_whole,
    recipe_check,
)
from packline.sequences.engine.recipe_fields import unit_of
from packline.sequences.engine.recipe_meta import (
    WAITS_A_DAY_AT_MOST,
    Because,
    CheckedChoices,
    CheckedFloor,
    tool_range,
)
from packline.shown_figures import figure_text
from packline.sim_instruments.physics.deposition import DepositionPhysics, SiteFilm, film_on_sites
from packline.sim_instruments.physics.lithography import Developed, LithoPhysics, develop
from packline.sim_instruments.twin import pad_pitch_um
from packline.units import Unit

from ..bump_seal_clean import (
    BumpRecipe,
    DicingStep,
    ResinRecipe,
    require_resin_thinner_than_bumps,
    require_sheet_below,
    require_the_height_the_studs_give,
)
from ..conditions import SOLDER_RESIST_COVER_UM
from ..plasma_clean import PlasmaCleanRecipe
from ..solder import (
    PlatingStep,
    SolderBallRecipe,
    WiringEtch,
    in_the_reticle_library,
    most_swim_free_flux_um,
    plated_melts_c,
    um_left,
    um_text,
)
from ..suggestion_rounding import least_that_passes, most_that_passes, rounded_down, rounded_up
from ..wafers import WaferRecipe

#: The most wiring arrangements stacked on the first (001:16 sets no limit; a recipe does).
MAX_UPPER_LEVELS = 8


#: The resin thickness of claim 001:13.
THICK_RESIN_UM = 50.0


#: The deposition chamber's physics, the simulated chamber's (`DepositionPhysics`, its defaults
#: the line's figures): a seed's first film is judged by it before the run.
DEPOSITION_PHYSICS = DepositionPhysics()

#: The litho cell's physics, the simulated cell's (`LithoPhysics`, its defaults the line's
#: figures): how wide a develop leaves a reticle's feature is worked out by it.
LITHO_PHYSICS = LithoPhysics()

#: How far the deposition's crystal may read below a step's thickness before the wafer is
#: held: a seed that thin breaks on the tips' sidewalls.
SEED_TOLERANCE = 0.10


@dataclass(frozen=True)
class Heat:
    """A step of the recipe that heats the wafer: the field that sets its temperature, the
    temperature, and what the step is (`the balls' reflow`)."""

    path: str
    temperature_c: float
    what: str
    #: the temperature the heat must pass, and what it is (a reflow's: its balls' liquidus)
    above: tuple[float, str] | None = None

    def described(self) -> str:
        """The heat as a refusal names it: `terminals.reflow.peak_c = 245 degC (the balls'
        reflow)`."""
        return f"{self.path} = {self.temperature_c:g} degC ({self.what})"

    def kept_below(self, melts_c: float) -> str | None:
        """A refusal's way out of this heat melting what melts at `melts_c`: the heat kept
        below it (and above what it must pass); None where what it must pass is not below."""
        if self.above is None:
            return f"{self.path} below {melts_c:g} degC"
        above_c, passed = self.above
        if above_c >= melts_c:
            return None
        return f"{self.path} above {passed} and below {melts_c:g} degC"


@dataclass(frozen=True)
class FieldMetal:
    """The metal of one etchant laid over the whole wafer before a wiring's mould (a seed's
    films, a metal support's foil): the etch after the plating must clear it between the
    patterns. `described` names it in a message: `the seed's 0.3 um of Cu`."""

    um: float
    described: str


def etch_missing(
    claim: str,
    path: str,
    dips: Sequence[tuple[str, Tank, FieldMetal]],
    needed: str,
    condition: str = "",
    between: str = "the patterns",
) -> Exception:
    """The refusal of `claim` of no etch at `path` (missing or null) where each of `dips`
    (its field's name, its tank, the metal it must clear) must clear its metal between the
    patterns (`between` names them: `the interconnects`; `condition`: what makes it the
    wiring's metal, `with support metal-film `):
    what to add (`needed`), and the least of each dip that clears its metal at its bath's
    reference temperature, all at once."""
    metals = " and ".join(metal.described for _, _, metal in dips)
    leasts = [
        f"at least {BATH_RATES[tank].least_clearing_s(metal.um, reference_c):d} s at "
        f"{reference_c:g} degC"
        for _, tank, metal in dips
        for reference_c in (BATH_RATES[tank].reference_c,)
    ]
    if len(dips) == 1:
        joined = f"{metals} is patterned by etching it off between {between} after the "
        joined += "plating; without the etch it joins them all"
        example = leasts[0]
    else:
        joined = f"{metals} are patterned by etching them off between {between} after the "
        joined += "plating; without the etch they join them all"
        example = " and ".join(
            f"{name} {least}" for (name, _, _), least in zip(dips, leasts, strict=True)
        )
    return claim_violation(
        claim, path, "none", f"{condition}{joined}: add {needed}, e.g. {example}"
    )


class SeedStep(Recipe):
    """001:9: one film of the thin metal film, by sputtering or vacuum evaporation.

    A step with `thickness_nm` ends when the crystal monitor reads it and `time_s` is its time
    limit; sputtering sets `power_w`, `pressure_mtorr` and an Ar `flow_sccm`, evaporation
    `rate_nm_s`, and a setting its method does not take is left out (`NEEDED_SETTINGS`).
    """

    #: an earlier release had 0 for every setting's default: a run it recorded holds 0 for each
    #: setting its method does not take (and an evaporation's thickness left to its rate)
    recorded_zero_is_none = frozenset({*STEP_SETTINGS, "thickness_nm"})

    method: Annotated[Method, CheckedChoices((Method.SPUTTER.value, Method.EVAPORATE.value))]
    material: Material
    time_s: Annotated[float, Unit("s"), Feeds("deposition", "time_s")]
    #: where the crystal monitor ends the step
    thickness_nm: Annotated[
        Annotated[float, Unit("nm"), Feeds("deposition", "thickness_nm")] | None,
        NeededWhen("to sputter", "optional to evaporate (left out: its rate for its time)"),
        CheckedFloor(0, above=True),
    ] = None
    power_w: Annotated[
        Annotated[float, Unit("W"), Feeds("deposition", "power_w")] | None,
        NeededWhen("to sputter"),
    ] = None
    rate_nm_s: Annotated[
        Annotated[float, Unit("nm/s"), Feeds("deposition", "rate_nm_s")] | None,
        NeededWhen("to evaporate"),
    ] = None
    pressure_mtorr: Annotated[
        Annotated[float, Unit("mTorr"), Feeds("deposition", "pressure_mtorr")] | None,
        NeededWhen("to sputter"),
    ] = None
    flow_sccm: Annotated[
        Annotated[float, Unit("sccm"), Feeds("deposition", "flow_sccm")] | None,
        NeededWhen("to sputter"),
    ] = None

    @recipe_check
    def _a_metal_by_sputter_or_evaporation(self) -> Self:
        if self.method is Method.CVD or self.material.dielectric:
            raise claim_violation(
                "001:9",
                "method",
                f"{self.method.value} of {self.material.value}",
                "the thin metal film is a metal, sputtered or evaporated",
            )
        return self

    @recipe_check
    def _the_settings_of_its_method(self) -> Self:
        """Each setting the step's method needs, given above 0, and none it does not take
        (each on its own)."""
        needed = NEEDED_SETTINGS[self.method]
        every_problem(
            functools.partial(self._require_setting, name, name in needed) for name in STEP_SETTINGS
        )
        return self

    def _require_setting(self, name: str, needed: bool) -> None:
        value: float | None = getattr(self, name)
        unit = unit_of(SeedStep, name)
        given = "none" if value is None else f"{value:g} {unit}"
        if needed and not value:
            raise field_problem(name, given, f"required to {self.method.value}, above 0 {unit}")
        if value and not needed:
            raise field_problem(name, given, f"{self.method.value} takes none: leave it out")

    def laid_nm(self) -> float | None:
        """The film the step lays: its `thickness_nm` (the crystal's end point), or an
        evaporation's rate for its time; None for a sputter run for its time (its rate is the
        chamber's, unknown before the run)."""
        if self.thickness_nm:
            return self.thickness_nm
        if self.method is Method.EVAPORATE:
            return (self.rate_nm_s or 0.0) * self.time_s
        return None

    def step(self) -> DepositionStep:
        return DepositionStep(
            method=self.method,
            material=self.material,
            time_s=self.time_s,
            thickness_nm=self.thickness_nm or 0.0,
            power_w=self.power_w or 0.0,
            rate_nm_s=self.rate_nm_s or 0.0,
            pressure_mtorr=self.pressure_mtorr or 0.0,
            gas=ProcessGas.AR if self.method is Method.SPUTTER else ProcessGas.NONE,
            flow_sccm=self.flow_sccm or 0.0,
        )


class SeedRecipe(Recipe):
    """001:8, 001:9: the thin metal film laid over the resin top and the projecting tips, in
    the deposition chamber."""

    process: Literal["deposition"] = "deposition"
    steps: Annotated[list[SeedStep], Field(min_length=1), Feeds("deposition", "steps", len)]
    #: The claim the seed's films carry, and what they are etched apart into (two-process-via's
    #: seed names its own).
    films_claim: ClassVar[str] = "001:9"
    films_apart: ClassVar[str] = "the patterns"
    base_pressure_utorr: Annotated[
        float, Unit("uTorr"), Feeds("deposition", "base_pressure_utorr")
    ] = 5.0
    batch_timeout_s: Annotated[float, Unit("s"), Field(gt=0, le=24 * 3600), WAITS_A_DAY_AT_MOST] = (
        600.0
    )

    def deposition_recipe(self) -> DepositionRecipe:
        return DepositionRecipe(tuple(step.step() for step in self.steps), self.base_pressure_utorr)

    def claims(self) -> tuple[str, ...]:
        return ("001:1c", "001:8", "001:9")

    @recipe_check
    def _every_film_of_a_known_thickness(self) -> Self:
        """Each film's thickness known before the run (each film on its own)."""
        every_problem(
            functools.partial(self._require_known_thickness, index, step)
            for index, step in enumerate(self.steps)
        )
        return self

    def _require_known_thickness(self, index: int, step: SeedStep) -> None:
        if step.laid_nm() is None:
            raise claim_violation(
                self.films_claim,
                f"steps.{index}.thickness_nm",
                "none" if step.thickness_nm is None else f"{step.thickness_nm:g} nm",
                f"the seed's {step.material.value} is etched off between {self.films_apart} "
                "after the plating, and the etch is checked against its thickness: a "
                "sputter run for its time lays what the chamber's rate gives, unknown "
                "before the run; give the thickness (above 0 nm) the crystal ends the "
                "step at",
            )

    @recipe_check
    def _every_film_etched_by_a_tank(self) -> Self:
        """A film no tank of the line's wet bench etches stays between the patterns after the
        seed etch and joins them all: refused before the run, not found in the claim check."""
        etched = BATH_METALS[Tank.CU_ETCH] | BATH_METALS[Tank.TI_ETCH]
        for index, step in enumerate(self.steps):
            if step.material.value not in etched:
                raise claim_violation(
                    self.films_claim,
                    f"steps.{index}.material",
                    step.material.value,
                    f"the seed is etched off between {self.films_apart} after the plating, and no "
                    f"tank of the line's wet bench etches {step.material.value} (its etches take "
                    f"{', '.join(sorted(etched))}): it would join them all; lay the seed of "
                    "those metals",
                )
        return self

    def require_joined_over_steps(self, claim: str, path: str, climbs: str) -> None:
        """Refuse a seed (at `path`) whose first film breaks on the sidewalls it climbs (`climbs`
        says what they are): it joins the seed to the metal there only where its sidewall film
        is continuous, by the deposition's physics (`film_on_sites`: the method's step
        coverage, the film thinner towards the wafer's edge), and the films after it join
        through it; a seed joined nowhere has no cathode contact at the plating, one joined
        short of the edge leaves wiring there open. Judged at the wafer's edge (its thinnest),
        naming `claim` and the least thickness, or, where the chamber lays none that joins,
        sputtering."""
        first = self.steps[0]
        laid_nm = first.laid_nm()
        if laid_nm is None:  # refused by `_every_film_of_a_known_thickness`
            return

        def edge(thickness_nm: float) -> SiteFilm:
            return film_on_sites(
                DEPOSITION_PHYSICS,
                first.method,
                thickness_nm,
                radius_fraction=np.ones(1),  # the wafer's edge, where the film is thinnest
                touches_metal=np.ones(1, bool),
                step_um=np.ones(1),  # a sidewall to climb: its height does not matter
                oxide_nm=np.zeros(1),
                residue_nm=np.zeros(1),
            )

        def joined(thickness_nm: float) -> bool:
            return bool(edge(thickness_nm).joined[0])

        if joined(laid_nm):
            return
        most_nm = tool_range("deposition", "thickness_nm").maximum
        advice = "sputter it"
        if joined(most_nm):
            least_nm = least_whole(laid_nm, most_nm, joined)
            advice = f"give at least {least_nm} nm"
            if not first.thickness_nm:  # an evaporation laying its rate for its time
                least_s = math.ceil(least_nm / (first.rate_nm_s or 1))
                advice = f"give at least {least_s} s ({least_nm} nm at its rate)"
        field, given = "thickness_nm", f"{laid_nm:g} nm"
        if not first.thickness_nm:
            field, given = "time_s", f"{first.time_s:g} s"
        method = first.method
        sidewall_nm = float(edge(laid_nm).sidewall_nm[0])
        raise claim_violation(
            claim,
            f"{path}.steps.0.{field}",
            given,
            f"the first film, {laid_nm:g} nm of {first.material.value} by {method.value}, "
            f"joins the seed to {climbs}; by {method.value} a sidewall gets "
            f"{DEPOSITION_PHYSICS.step_coverage[method]:g} of the film (the deposition's "
            f"physics), {sidewall_nm:.3g} nm at the wafer's edge, and a sidewall film under "
            f"{DEPOSITION_PHYSICS.continuous_nm:g} nm breaks, leaving the seed unjoined and the "
            f"plating without a cathode contact: {advice}",
        )

    def to_clear(self, tank: Tank) -> FieldMetal:
        """The seed's films of the metals `tank` etches: what the etch between the patterns
        must clear."""
        metals = BATH_METALS[tank]
        laid = [step for step in self.steps if step.material.value in metals]
        laid_um = sum(step.laid_nm() or 0.0 for step in laid) / 1000
        names = "/".join(dict.fromkeys(step.material.value for step in laid))
        return FieldMetal(laid_um, f"the seed's {um_text(laid_um)} um of {names}")


class ChamberFilms(Protocol):
    """A recipe section the deposition chamber runs: the seed (001:8-9), or another
    method's films (002:15's passivation)."""

    def deposition_recipe(self) -> DepositionRecipe: ...

    def claims(self) -> tuple[str, ...]: ...


class ElectrolessSeedRecipe(Recipe):
    """001:9: the thin metal film by electroless copper plating, on the wet bench: copper
    grows over the resin top and joins the tips standing above it."""

    process: Literal["electroless"]
    time_s: Annotated[float, Unit("s"), Feeds("wet_bench", "dip_time_s")]
    temperature_c: Annotated[float, Unit("degC"), Feeds("wet_bench", "bath_temperature_c")]

    #: the thinnest seed the plating can thicken evenly: a thinner film holds the wafer
    min_thickness_nm: Annotated[
        float,
        Unit("nm"),
        Field(gt=0, le=5000),
        Because("a film over 5000 nm is a plating, not a seed: the plating thickens it after"),
    ]

    def claims(self) -> tuple[str, ...]:
        return ("001:1c", "001:8", "001:9")

    def to_clear(self, tank: Tank) -> FieldMetal:
        """The seed's copper if `tank` etches it: the most the bath grows in `time_s`, at
        the line's nominal rate in the bath at the warmest it may run (`BATH_TOLERANCE_C`
        above `temperature_c`)."""
        if not BATH_METALS[tank] & BATH_METALS[Tank.CU_ELESS]:
            return FieldMetal(0.0, "")
        laid_um = BATH_RATES[Tank.CU_ELESS].band_um_s(self.temperature_c)[1] * self.time_s
        return FieldMetal(laid_um, f"the seed's up to {um_text(laid_um)} um of Cu")


#: A reticle of the line's library, by name: every mask field of every method is one, so
#: validate refuses a name the library lacks (the litho cell would, at its step).
ReticleName = Annotated[
    str,
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"),
    AfterValidator(in_the_reticle_library),
]


def require_reticle_of(feature: Feature, mask: str, claim: str, path: str, why: str) -> None:
    """Refuse the reticle `mask` (at `path`, naming `claim`) unless its pattern is a
    `feature` (`why` the step needs one), naming the library's reticles that are: a line
    reticle on a plate to be etched into lands cuts every land through, a hole reticle over
    the interconnects plates no wiring."""
    reticle = RETICLES.get(mask)
    if reticle is None or reticle.feature is feature:
        return  # a name the library lacks is refused by `ReticleName`
    fitting = ", ".join(name for name, r in RETICLES.items() if r.feature is feature)
    raise claim_violation(
        claim,
        path,
        mask,
        f"is a {reticle.feature.value.lower()} reticle: {why}, which a "
        f"{feature.value.lower()} reticle gives: give one of {fitting}",
    )


def hole_reticles(at_least_um: float = 0.0) -> str:
    """The library's hole reticles of holes at least `at_least_um` across, by name and size,
    for a refusal that asks for one ('' for none)."""
    return ", ".join(
        f"{name} {reticle.size_um:g} um"
        for name, reticle in RETICLES.items()
        if reticle.feature is Feature.HOLE and reticle.size_um >= at_least_um
    )


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

    def film_um(self, spin_rpm: int | None = None) -> float:
        """The film the cell spins and bakes on the open field (the line's law,
        `coated_film_um`), at `spin_rpm` if given (what another spin would lay), else the
        recipe's."""
        return coated_film_um(
            self.material,
            self.spin_rpm if spin_rpm is None else spin_rpm,
            self.spin_time_s,
            self.bake_temperature_c,
            self.bake_time_s,
        )

    def developed_um(self) -> float:
        """How wide the develop leaves the reticle's feature (an opening, or a land reticle's
        island of film), by the simulated cell's develop (`developed`): the reticle's size,
        an opening widened and an island narrowed by the dose's bias over the film the cell
        spins and bakes, with the solvent its bake leaves in it."""
        return float(self.developed(self.dose_mj_cm2).cd_um[0])

    def developed(self, dose_mj_cm2: float) -> Developed:
        """What the simulated cell's develop (`develop`) leaves of the film it spins and bakes
        (with the solvent its bake leaves in it), exposed at `dose_mj_cm2` through the
        reticle: the feature's width, the film left in the field around it."""
        spun = solvent_after_spin(MATERIALS[self.material].spun_solvent_fraction, self.spin_time_s)
        _, solvent = soft_baked(spun, self.bake_temperature_c, self.bake_time_s)
        return develop(
            self.material,
            np.array([self.film_um()], np.float32),
            solvent,
            np.array([dose_mj_cm2], np.float32),
            RETICLES[self.mask],
            self.develop_time_s,
            LITHO_PHYSICS,
        )

    def require_developed(self, claim: str, path: str) -> None:
        """Refuse the develop of `claim` if it may leave film at the bottom of this film's
        openings (`path` in the recipe): the film the cell spins and bakes, against what the
        developer dissolves in `develop_time_s` at the line's rate (`develop_rate_um_s`: the
        exposed film at the dose, or the unexposed at its bulk rate). Film left there masks the
        plating, etch or ball after it. The refusal gives the least time, rounded up."""
        film_um = self.film_um()
        rate_um_s = develop_rate_um_s(self.material, film_um, self.dose_mj_cm2)
        removed_um = rate_um_s * self.develop_time_s
        if removed_um >= film_um:
            return
        facts = MATERIALS[self.material]
        rate = f"{rate_um_s:.3g} um/s"
        if facts.tone is Tone.POSITIVE:
            dissolves = f"exposed at {self.dose_mj_cm2:g} mJ/cm^2, {self.material.value} "
            dissolves += f"dissolves in the developer at {rate}"
        else:
            dissolves = f"unexposed, {self.material.value} dissolves in the developer at its "
            dissolves += f"bulk rate, {rate} (the whole film in {facts.nominal_develop_s:g} s)"
        least_s = least_develop_s(self.material, film_um, self.dose_mj_cm2)
        advice = f"give at least {least_s:d} s"
        longest_s = tool_range("lithography", "develop_time_s").maximum
        if least_s > longest_s:  # past the cell's longest develop: the dose, or the film
            least_dose = least_dose_mj_cm2(self.material, film_um, self.develop_time_s)
            advice = f"it needs {least_s:d} s, past the cell's longest develop ({longest_s:g} s): "
            if least_dose is None:
                advice += f"give {path}.spin_rpm higher, for a thinner film"
            elif least_dose <= tool_range("lithography", "dose_mj_cm2").maximum:
                advice += f"give {path}.dose_mj_cm2 at least {least_dose:d} mJ/cm^2 for this time"
            else:
                least_dose = least_dose_mj_cm2(self.material, film_um, longest_s)
                advice += (
                    f"give it {longest_s:g} s and {path}.dose_mj_cm2 at least {least_dose} mJ/cm^2"
                )
        raise claim_violation(
            claim,
            f"{path}.develop_time_s",
            f"{self.develop_time_s:g} s",
            f"{dissolves}: {self.develop_time_s:g} s takes {um_text(removed_um)} um of the "
            f"{um_text(film_um)} um that {path} spins at {self.spin_rpm} rpm and bakes, leaving "
            f"{um_left(film_um, removed_um)} um at the bottom of its openings: {advice}",
        )

    def require_stripped_by(self, strip: Dip, claim: str, path: str, strip_path: str) -> None:
        """Refuse the strip (`strip_path` in the recipe) of `claim` if it may leave some of
        this resist (`path`): the film the cell spins and bakes (the line's law,
        `coated_film_um`), against what the stripper takes off in the bath at the coolest it
        may dip (`BATH_TOLERANCE_C` below its setpoint). Resist left there masks the etch
        after it. The refusal gives the least time, rounded up."""
        film_um = self.film_um()
        removed_um = strip.least_removed_um(Tank.STRIP)
        if removed_um >= film_um:
            return
        least_s = BATH_RATES[Tank.STRIP].least_clearing_s(film_um, strip.temperature_c)
        coolest_c = strip.temperature_c - BATH_TOLERANCE_C
        raise claim_violation(
            claim,
            f"{strip_path}.time_s",
            f"{strip.time_s:g} s",
            f"the bath dips within {BATH_TOLERANCE_C:g} degC of its {strip.temperature_c:g} "
            f"degC: at {coolest_c:g} degC the strip takes {um_text(removed_um)} um off the "
            f"{um_text(film_um)} um of {self.material.value} that {path} spins at "
            f"{self.spin_rpm} rpm and bakes, leaving {um_left(film_um, removed_um)} um of "
            f"resist: give at least {least_s:d} s",
        )


class SolderResistRecipe(MouldRecipe):
    """The solder resist the litho cell coats over the reflowed balls and opens around each
    (001:4): a photosensitive resin that stays on the package, through the `ball-lands`
    reticle unless `mask` says another."""

    material: CoatMaterial = CoatMaterial.PI_N
    #: a reticle of the stepper's library, by its name (lowercase letters, digits, hyphens)
    mask: ReticleName = "ball-lands"

    def require_covering(
        self,
        claim: str,
        path: str,
        covered: str,
        metal_um: float = 0.0,
        thinner_metal: Callable[[float], str | None] | None = None,
    ) -> None:
        """Refuse the solder resist of `claim` (at `path`) if the develop may leave less of
        it over the metal it covers (`covered` names it: `interconnections`) than the cover
        solder resist makers ask (`SOLDER_RESIST_COVER_UM`): the field the cell leaves
        (`MouldRecipe.developed`, its dark loss counted) less `metal_um`, the metal standing
        up into it (the front's wiring, a layer's thickness counting it as the claim check
        does; 0 for a plate it lies over). A negative film keeps of its exposed field only
        what the dose cross-linked: the refusal names the dose and gives the least that keeps
        the cover (the line's law, `cross_linking_dose_mj_cm2`); a film too thin at any dose
        names the spin and gives the fastest that spins enough. `thinner_metal`, given the
        metal's excess (how much thinner it must be), names the thinner metal that would keep
        the cover, the other way out (None where there is none)."""
        field_um = float(self.developed(self.dose_mj_cm2).field_um[0])
        kept_um = field_um - metal_um
        if kept_um >= SOLDER_RESIST_COVER_UM:
            return
        film_um = self.film_um()
        most_dose = tool_range("lithography", "dose_mj_cm2").maximum
        thickest_um = float(self.developed(most_dose).field_um[0])  # all of it cross-linked
        dark_um = film_um - thickest_um  # the developer's dark loss: what it takes off that field
        over = f"{figure_text(kept_um, SOLDER_RESIST_COVER_UM)} um over the {covered}"
        if metal_um:
            standing = f"the {um_text(metal_um)} um of {covered} standing in it"
            left = um_left(field_um, metal_um)  # the figures said add up, unless it reads as 10
            if float(left) >= SOLDER_RESIST_COVER_UM:
                left = figure_text(kept_um, SOLDER_RESIST_COVER_UM)
            over = f"a {um_text(field_um)} um field, {left} um over {standing}"
            if kept_um <= 0:
                below = um_left(metal_um, field_um)
                over = f"a {um_text(field_um)} um field, {below} um below the top of {standing}"
                over += ": none over it"
        thinner = None if thinner_metal is None else thinner_metal(SOLDER_RESIST_COVER_UM - kept_um)
        or_thinner = "" if thinner is None else f", or {thinner}"
        cover = (
            f"of the {um_text(film_um)} um of {self.material.value} that {path} spins at "
            f"{self.spin_rpm} rpm and bakes, the develop leaves {over}, thinner than the "
            f"{SOLDER_RESIST_COVER_UM:g} um solder resist makers ask over the copper to "
            "insulate it"
        )
        needed_um = SOLDER_RESIST_COVER_UM + metal_um  # the field that keeps the cover
        # the least dose that cross-links that field and the developer's dark loss
        least = cross_linking_dose_mj_cm2(self.material, needed_um + dark_um, self.develop_time_s)
        if thickest_um >= needed_um and MATERIALS[self.material].tone is Tone.NEGATIVE:
            raise claim_violation(
                claim,
                f"{path}.dose_mj_cm2",
                f"{self.dose_mj_cm2:g} mJ/cm^2",
                f"a negative film keeps of its exposed field only what the dose cross-linked: "
                f"{cover}: give at least {least} mJ/cm^2{or_thinner}",
            )
        # the film thickens as 1 / sqrt(rpm); the developer's dark loss stays as it is
        fastest = math.floor(self.spin_rpm * (film_um / (needed_um + dark_um)) ** 2)
        spun = self.model_copy(update={"spin_rpm": fastest})
        dose = ""
        if float(spun.developed(self.dose_mj_cm2).field_um[0]) < needed_um:
            # a negative film's dose cross-links too little of the thicker film as well
            dose = f", and {path}.dose_mj_cm2 at least {least} mJ/cm^2"
        raise claim_violation(
            claim,
            f"{path}.spin_rpm",
            str(self.spin_rpm),
            f"{cover}, whatever the dose: give at most {fastest} rpm, for a thicker film"
            f"{dose}{or_thinner}",
        )


class Dip(Recipe):
    """One dip of the wet bench: how long, and the bath's temperature."""

    time_s: Annotated[float, Unit("s"), Feeds("wet_bench", "dip_time_s")]
    temperature_c: Annotated[float, Unit("degC"), Feeds("wet_bench", "bath_temperature_c")]

    def least_removed_um(self, tank: Tank) -> float:
        """The least the dip takes off a film `tank` works on at the line's nominal rate: in
        the bath at the coolest it may dip (`BATH_TOLERANCE_C` below `temperature_c`)."""
        return BATH_RATES[tank].band_um_s(self.temperature_c)[0] * self.time_s

    def most_removed_um(self, tank: Tank) -> float:
        """The most the dip takes off a film `tank` works on: in the bath at the warmest it may
        dip (`BATH_TOLERANCE_C` above `temperature_c`)."""
        return BATH_RATES[tank].band_um_s(self.temperature_c)[1] * self.time_s

    def after_plating(self, path: str, tank: Tank, metal: FieldMetal) -> WiringEtch:
        """The dip (`path` in the recipe) in `tank` as the etch after a wiring's plating that
        clears `metal` between the patterns, for `PlatingStep.require_wiring`."""
        return WiringEtch(
            self.described(path),
            self.time_s,
            self.temperature_c,
            BATH_RATES[tank],
            metal.um,
            metal.described,
        )

    def require_clears(
        self, claim: str, path: str, tank: Tank, metal: FieldMetal, between: str = "the patterns"
    ) -> None:
        """Refuse the dip (`path` in the recipe) in `tank` as the etch of `claim` if it may
        leave some of `metal` between the patterns (`between` names them: `the
        interconnects`): at the line's nominal rate in its bath at the coolest it may dip
        (`BATH_TOLERANCE_C` below `temperature_c`). What is left there joins every pattern to
        its neighbours. The refusal names the field that is wrong: `temperature_c` when the
        dip's time would clear the metal in a bath set to its reference (the setpoint moved
        below it is what fails), else `time_s`; the least time and the coolest setpoint it
        suggests are rounded up: either, applied, clears the metal."""
        rate = BATH_RATES[tank]
        if self.time_s >= metal.um / rate.band_um_s(self.temperature_c)[0]:
            return
        least_s = rate.least_clearing_s(metal.um, self.temperature_c)
        removed_um = self.least_removed_um(tank)
        set_c = rate.least_clearing_c(metal.um, self.time_s)
        coolest = (
            f"the bath dips within {BATH_TOLERANCE_C:g} degC of its {self.temperature_c:g} "
            f"degC: at {self.temperature_c - BATH_TOLERANCE_C:g} degC the {self.time_s:g} s "
            f"etch takes {um_text(removed_um)} um off, leaving "
            f"{um_left(metal.um, removed_um)} um of {metal.described} between {between}, "
            "joining them"
        )
        hottest_c = tool_range("wet_bench", "bath_temperature_c").maximum
        if self.time_s >= rate.least_clearing_s(metal.um, rate.reference_c):
            field, value = f"{path}.temperature_c", f"{self.temperature_c:g} degC"
            why = f"set below the bath's {rate.reference_c:g} degC reference, {coolest}"
            fix = f"the bath set to at least {set_c:d} degC, or at least {least_s:d} s"
        else:
            field, value = f"{path}.time_s", f"{self.time_s:g} s"
            why, fix = coolest, f"at least {least_s:d} s"
            if set_c <= hottest_c:  # a setpoint the bench takes
                fix += f", or the bath set to {set_c:d} degC"
        raise claim_violation(claim, field, value, f"{why}: {fix}")

    def described(self, path: str) -> str:
        """The dip as a message names it, with the band its bath may dip in:
        `wiring.etch.copper_etch, 40 s at 30 degC, the bath within 1 degC of it`."""
        return (
            f"{path}, {self.time_s:g} s at {self.temperature_c:g} degC, the bath within "
            f"{BATH_TOLERANCE_C:g} degC of it"
        )


class SeedEtchRecipe(Recipe):
    """001:8: the thin film patterned once the wiring is plated: the mould stripped, then the
    seed etched off between the patterns (copper, then the barrier if the seed has one)."""

    #: 001:8: the mould stripped off before the seed (or the foil, 001:11) is etched
    strip: Dip
    #: 001:8: the seed's Cu (or the metal support's foil, 001:11) etched off between the
    #: patterns
    copper_etch: Dip
    #: the seed's Ti or TiW etched off between the patterns, after the copper (001:8)
    barrier_etch: Annotated[Dip | None, NeededWhen("when the seed has Ti or TiW")] = None

    def require_dip_clears(
        self, claim: str, path: str, name: str, tank: Tank, metal: FieldMetal
    ) -> None:
        """Refuse the etch (`path` in the recipe) of `claim` if its dip `name` in `tank` may
        leave `metal` between the patterns (`Dip.require_clears`), or is left out."""
        dip: Dip | None = getattr(self, name)
        if dip is None:
            needed = f"a {name} that clears it"
            raise etch_missing(claim, f"{path}.{name}", [(name, tank, metal)], needed)
        dip.require_clears(claim, f"{path}.{name}", tank, metal)


#: The seed etch's dips between the patterns, in their order: each tank, and its field in
#: `SeedEtchRecipe`.
SEED_ETCH_DIPS = ((Tank.CU_ETCH, "copper_etch"), (Tank.TI_ETCH, "barrier_etch"))


class WiringPlatingStep(PlatingStep):
    """The copper electroplating that thickens a wiring (001:8, 001:12 on the metal support):
    a plating below its `min_thickness_um` leaves wiring thinner than it needs, what every
    variant's wiring is (001:1c)."""

    deposit_claim = "001:1c"


class WiringRecipe(Recipe):
    """001:1c: the wiring on the resin top, touching the tips (001:8: film, pattern, plate)."""

    #: 001:1c: the resin smear and oxide cleaned off the tips before the seed (a plasma clean)
    descum: PlasmaCleanRecipe | None = None
    #: 001:9: sputtered or evaporated (the deposition chamber) or electroless (the wet bench);
    #: a metal-film support is the wiring's metal instead (001:11)
    seed: Annotated[
        SeedRecipe | ElectrolessSeedRecipe | None,
        Field(discriminator="process"),
        NeededWhen("with support film"),
    ] = None
    #: 001:8: the resist mould the wiring is plated through, one wiring per device (the
    #: litho cell)
    mould: MouldRecipe
    #: 001:8: the wiring thickened by copper electroplating through the mould (001:12 on the
    #: metal support)
    plating: WiringPlatingStep
    #: the mould stripped and the seed (or the metal support's foil) etched between the
    #: patterns: left out, it is refused naming the least etch (the metal left would join them)
    etch: Annotated[SeedEtchRecipe | None, NeededWhen()] = None

    def thicker_mould(self, path: str, plated_um: float) -> str | None:
        """What a plating of `plated_um` needs of the mould of the wiring at `path`, where
        the mould the litho cell spins and bakes (`MouldRecipe.film_um`) is thinner: the
        fastest spin that lays one at least as thick, or, past the cell's slowest spin, a
        thicker resist; None where the mould holds it."""
        mould = self.mould
        if plated_um <= mould.film_um():
            return None
        slowest_rpm = int(tool_range("lithography", "spin_rpm").minimum)
        if mould.film_um(slowest_rpm) < plated_um:
            return (
                f"a thicker resist (no spin of {mould.material.value} lays a mould that thick: "
                f"at the cell's slowest, {slowest_rpm} rpm, "
                f"{um_text(mould.film_um(slowest_rpm))} um)"
            )
        # the film thickens as the spin slows: the fastest spin, by bisection on -rpm
        fastest_rpm = -least_whole(
            -mould.spin_rpm, -slowest_rpm, lambda rpm: mould.film_um(-rpm) >= plated_um
        )
        return f"a thicker mould, {path}.mould.spin_rpm at most {fastest_rpm}"

    def require_plated_within_mould(self, claim: str, path: str) -> None:
        """Refuse a plating (`path` the wiring's, naming `claim`) thicker than the mould it is
        plated through, the film the litho cell spins and bakes (`MouldRecipe.film_um`): the
        metal grows up the mould's openings and, past their top, mushrooms over the mould and
        bridges the traces. The refusal gives the thickest plating, and the mould that holds
        this one (`thicker_mould`)."""
        plated_um = self.plating.thickness_um
        thicker = self.thicker_mould(path, plated_um)
        if thicker is None:
            return
        mould, film_um = self.mould, self.mould.film_um()
        most_um = most_that_passes(film_um, XRF_DECIMALS, lambda um: um <= film_um)
        raise claim_violation(
            claim,
            f"{path}.plating.thickness_um",
            f"{plated_um:g} um",
            f"the wiring is plated up the openings of its mould, {um_text(film_um)} um of "
            f"{mould.material.value} that {path}.mould spins at {mould.spin_rpm} rpm and "
            "bakes, and plated past their top it mushrooms over the mould and bridges the "
            f"traces: give at most {most_um:g} um, or {thicker}",
        )


class TerminalsRecipe(SolderBallRecipe):
    """001:1d, 001:3: a solder ball on the conducting paths of every wiring pattern, fluxed,
    mounted and inspected on the ball mounter, then reflowed into joints in the oven; 001:4:
    a solder resist over them, opened around every ball."""

    liquidus_claim = "001:3"
    mount_claim = "001:1d"

    #: claim 001:4: a photosensitive solder resist coated over the balls once reflowed and
    #: opened around them by the litho cell
    solder_resist: SolderResistRecipe | None = None

    @recipe_check
    def _a_solder_resist_that_stays(self) -> Self:
        """001:4's solder resist: a resin that stays (`require_a_resin_that_stays`); the
        cover it keeps over the wiring is the whole recipe's to check, which knows the wiring
        (`SproutBumpRecipe._solder_resist_covering_the_wiring`)."""
        if self.solder_resist is not None:
            require_a_resin_that_stays(self.solder_resist, "001:4", "solder_resist")
        return self


def require_a_resin_that_stays(resist: MouldRecipe, claim: str, path: str) -> None:
    """Refuse a solder resist (at `path`, naming `claim`) of a litho film that is stripped:
    it stays on the package, a photosensitive resin."""
    if MATERIALS[resist.material].layer is not FilmLayer.RESIN:
        resins = ", ".join(m.value for m, f in MATERIALS.items() if f.layer is FilmLayer.RESIN)
        raise claim_violation(
            claim,
            f"{path}.material",
            resist.material.value,
            f"the solder resist stays on the package: a photosensitive resin ({resins}), "
            "not a resist that is stripped",
        )


def most_flux_advice(ball_diameter_um: float, stray_um: float) -> str:
    """A refusal's advice of the most flux on which balls of `ball_diameter_um` stray at most
    `stray_um` from their sites (`most_flux_um`), rounded down to the 0.1 um it gives."""
    return f"give at most {rounded_down(most_flux_um(ball_diameter_um, stray_um), 1):g} um"


def require_balls_in_their_holes(terminals: TerminalsRecipe) -> None:
    """With a solder resist opened through a hole reticle, every ball inside its opening
    (claim 001:4: the resist opened around every ball): the opening as the cell develops it
    (`MouldRecipe.developed_um`) at least the ball's diameter and, on each side, the farthest
    the mounter sets a ball off its site (`ball_stray_um`, spread by a flux past the swim
    ratio) and the farthest the stepper lays the opening off it (`OVERLAY_UM`); a narrower
    opening is laid over the side of some ball. The refusal gives the largest ball that fits
    on a flux that does not swim (the flux's most for a ball that fits, where its flux swims
    it out), and the smallest hole on the reticle that fits these balls."""
    resist, diameter_um = terminals.solder_resist, terminals.ball_diameter_um
    if resist is None:
        return
    reticle = RETICLES[resist.mask]
    if reticle.feature is not Feature.HOLE:
        return
    opening_um = resist.developed_um()

    def room_um_for(ball_um: float, flux_um: float) -> float:
        """The room a ball of `ball_um` on `flux_um` of flux leaves on each side of it in its
        opening at the most (negative: how far it may reach under the resist's edge)."""
        return (opening_um - ball_um) / 2 - ball_stray_um(ball_um, flux_um) - OVERLAY_UM

    stray_um = ball_stray_um(diameter_um, terminals.flux_thickness_um)
    room_um = room_um_for(diameter_um, terminals.flux_thickness_um)
    if room_um >= 0:
        return
    # the holes the stepper must print: the develop's bias does not depend on their size
    hole_um = rounded_up(reticle.size_um - 2 * room_um, 1)
    holes = hole_reticles(hole_um)
    wider = f"reticle of holes at least {hole_um:g} um ({holes or 'none in the stepper library'})"
    still_um = ball_stray_um(diameter_um, 0.0)  # on a flux that does not swim
    largest_um = most_that_passes(
        opening_um - 2 * (still_um + OVERLAY_UM),
        1,
        lambda ball_um: room_um_for(ball_um, most_swim_free_flux_um(ball_um)) >= 0,
    )
    field, given = "ball_diameter_um", f"{diameter_um:g} um"
    if largest_um < tool_range("ball_mounter", "ball_diameter_um").minimum:
        advice = f"no ball the mounter takes fits: give a {wider}"
    elif diameter_um > largest_um:
        advice = f"give at most {largest_um:g} um"
        largest_ball_flux_um = most_swim_free_flux_um(largest_um)
        if terminals.flux_thickness_um > largest_ball_flux_um:
            advice += f", on a flux_thickness_um of at most {largest_ball_flux_um:g} um"
        advice += f", or a {wider}"
    else:  # the ball fits: its flux swims it out
        field, given = "flux_thickness_um", f"{terminals.flux_thickness_um:g} um"
        advice = most_flux_advice(diameter_um, (opening_um - diameter_um) / 2 - OVERLAY_UM)
    raise claim_violation(
        "001:4",
        f"terminals.{field}",
        given,
        f"the {reticle.size_um:g} um holes of terminals.solder_resist.mask = {resist.mask} "
        f"develop {opening_um:.1f} um across (as the cell develops them at "
        f"solder_resist.dose_mj_cm2 = {resist.dose_mj_cm2:g} mJ/cm^2), and a ball sits in its "
        f"opening only with room on "
        f"every side for the mounter's placement at its most ({um_text(stray_um)} um off its "
        f"site, its flux counted) and the stepper's overlay ({OVERLAY_UM:g} um off the balls): "
        f"a {diameter_um:g} um ball may reach {um_text(-room_um)} um under the resist's edge: "
        f"{advice}",
    )


class LevelRecipe(Recipe):
    """001:14-17: a wiring arrangement stacked on the one below: bumps bonded on its wiring,
    a resin sheet they project through, and wiring on that resin touching their tips."""

    #: 001:14, 001:16: bumps bonded on the wiring below; heights as the bonder measures them,
    #: from the wafer's surface: each level's bumps stand on the levels below
    bumps: BumpRecipe
    #: 001:14, 001:16: the resin sheet the level's bumps project through
    resin: ResinRecipe
    #: 001:14, 001:16: the level's wiring on that resin, touching the bumps' tips
    wiring: WiringRecipe


class SproutBumpRecipe(Recipe):
    """Bumps, the resin they project through, the wiring on it, its terminals: the options of
    claim 001:1."""

    #: the wafer as it arrives (its pads the electrode pads of 001:1a; the dry run's line
    #: receives the lot so): every plated area counts its sites
    wafer: Annotated[WaferRecipe, Field(default_factory=WaferRecipe)]
    #: 001:1a, 001:5: sprout-shaped stud bumps bonded on every electrode pad (the wire bonder)
    bumps: BumpRecipe
    #: 001:1b: the resin sheet laminated over the bumps, their tips projecting above it
    resin: ResinRecipe
    #: what carries the resin sheet: a film peeled after lamination (001:7), or a metal film
    #: that stays, the tips pressed into it, and is patterned into the wiring (001:10-12)
    support: SupportKind
    #: the metal-film support's foil (in the laminator's 0.1 um steps): the wiring's metal
    #: once laminated, etched off between the patterns (001:10-11); 001:10 sets no thickness
    foil_thickness_um: Annotated[
        Annotated[float, Unit("um"), Feeds("laminator", "foil_thickness_um"), Field(gt=0)] | None,
        NeededWhen("with support metal-film"),
    ] = None
    #: claim 001:13: the resin-sealing layer at least 50 um thick at every site: the sheet at
    #: the laminator's thinnest, less what the descum's O2 etches off its top
    thick_resin: bool = False
    wiring: WiringRecipe
    #: 001:14-17: wiring arrangements stacked on the first, lowest first (one: claim 14's
    #: second arrangement; two or more: claim 16's intermediate and uppermost ones; none:
    #: claim 1's single arrangement)
    upper_levels: Annotated[list[LevelRecipe], Field(max_length=MAX_UPPER_LEVELS)] | None = None
    #: claims 001:1d, 001:3: solder balls on the (uppermost) wiring, reflowed
    terminals: TerminalsRecipe | None = None
    #: claim 001:2: dice the wafer into separate packages
    dicing: DicingStep | None = None

    @recipe_check
    def _bumps_as_tall_as_the_studs_stand(self) -> Self:
        """Each level's height inspection passes the bumps its program makes
        (`require_the_height_the_studs_give`): the lowermost on the pads, each other stacked
        on the tips of the level below, as the line's stud law makes them (each level on its
        own)."""
        checks: list[Callable[[], object]] = [
            functools.partial(require_the_height_the_studs_give, self.bumps, "bumps", "001:1a")
        ]
        below = ("bumps", self.bumps.stands_um())
        for index, level in enumerate(self.upper_levels or ()):
            path = f"upper_levels.{index}.bumps"
            claim = self.stack_claim() or "001:14"
            checks.append(
                functools.partial(
                    require_the_height_the_studs_give, level.bumps, path, claim, below
                )
            )
            below = (path, level.bumps.stands_um(below[1]))
        every_problem(checks)
        return self

    @recipe_check
    def _resin_thinner_than_the_bumps(self) -> Self:
        """Each level's resin thinner than its bumps stand above the resin below (each level
        on its own)."""
        checks: list[Callable[[], object]] = [
            lambda: require_resin_thinner_than_bumps(self.resin, self.bumps, "001:1b")
        ]
        below_um = self.resin.sheet_thickness_um
        for index, level in enumerate(self.upper_levels or ()):
            checks.append(functools.partial(self._require_level_resin, index, level, below_um))
            below_um += level.resin.sheet_thickness_um
        every_problem(checks)
        return self

    def _require_level_resin(self, index: int, level: LevelRecipe, below_um: float) -> None:
        """The level's sheet, laid at its thickest, below the tip of its shortest bump over
        the resin below laid at its thickest (`require_sheet_below`)."""
        path = f"upper_levels.{index}"
        below_laid_um = thickest_laminated_um(below_um)
        top_um = level.bumps.shortest_um() - below_laid_um
        require_sheet_below(
            level.resin,
            f"{path}.resin.sheet_thickness_um",
            top_um,
            self.stack_claim() or "001:14",
            f"{level.bumps.shortest_text(f'{path}.bumps')}, less the resin below laid up to "
            f"{um_text(below_laid_um)} um of its {below_um:g} um, stands {um_text(top_um)} um "
            "above it",
        )

    @recipe_check
    def _balls_on_the_dies_lands(self) -> Self:
        """A ball on every pad of a die, each wired to its land, the balls apart; and, with a
        solder resist, balls inside the openings it develops around them
        (`require_balls_in_their_holes`)."""
        terminals = self.terminals
        if terminals is not None:
            every_problem(
                functools.partial(check, terminals)
                for check in (
                    self._require_a_ball_on_every_pad,
                    self._require_balls_apart,
                    require_balls_in_their_holes,
                )
            )
        return self

    def _require_balls_apart(self, terminals: TerminalsRecipe) -> None:
        """The balls sit over the pads they are wired to (`pad_pitch_um`: along a die's edge,
        at its corners, across two dies), where they must not touch
        (`SolderBallRecipe.require_apart`): a new user's 16 pads a side validated and the
        mounter bridged two balls at every die's corners."""
        wafer = self.wafer
        pitch_um = pad_pitch_um(wafer.spec())
        layout = wafer.pad_layout()
        terminals.require_apart(pitch_um, "001:1d", "terminals", layout, wafer.pads_that_fit)

    def _require_a_ball_on_every_pad(self, terminals: TerminalsRecipe) -> None:
        """A ball on the wiring of each of a die's pads (001:1d: terminals on each of the
        wiring patterns)."""
        terminals.require_one_on_every_pad(self.wafer.pads_per_die, "001:1d", "the conducting path")

    @recipe_check
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

    def wirings(self) -> list[tuple[str, WiringRecipe]]:
        """Every arrangement's wiring with its path in the recipe, the lowermost first."""
        upper = enumerate(self.upper_levels or ())
        return [
            ("wiring", self.wiring),
            *((f"upper_levels.{i}.wiring", u.wiring) for i, u in upper),
        ]

    def uppermost_wiring_um(self) -> float:
        """The metal of the uppermost wiring the recipe plates, as thick as the etch after its
        plating may leave it: its seed (as `to_clear` counts it: a sputter's crystal end
        point, an electroless bath's most), or on a metal support the foil its sheet came on
        (001:11), and its plating, less the least the copper etch takes off its top as it
        clears the field."""
        wiring = self.levels()[-1].wiring
        if wiring.seed is not None:
            under_um = sum(wiring.seed.to_clear(tank).um for tank, _ in SEED_ETCH_DIPS)
        else:  # every level's sheet comes on the foil (`sheet`)
            under_um = self.foil_thickness_um or 0.0
        etch = wiring.etch
        etched_um = 0.0 if etch is None else etch.copper_etch.least_removed_um(Tank.CU_ETCH)
        return max(0.0, under_um + wiring.plating.thickness_um - etched_um)

    @recipe_check
    def _a_foil_on_the_metal_support_only(self) -> Self:
        foil_um = self.foil_thickness_um
        if not self.metal_support:
            if foil_um is not None:
                raise claim_violation(
                    "001:7",
                    "foil_thickness_um",
                    f"{foil_um:g} um",
                    "a film support is peeled and has no foil: leave it out, or set support: "
                    "metal-film",
                )
            return self
        if foil_um is None:
            raise claim_violation(
                "001:10",
                "foil_thickness_um",
                "none",
                "with support metal-film the sheet's foil is the wiring's metal (001:11), and "
                "its etch between the patterns is checked against it: state the sheet's foil, "
                f"in {FOIL_STEP_UM:g} um steps (sprout-bump-csp-metal-support.yaml: 3 um)",
            )
        around = foil_steps_around(foil_um)
        if around is not None:
            raise field_problem(
                "foil_thickness_um",
                f"{foil_um:g} um",
                f"the laminator takes the foil in {FOIL_STEP_UM:g} um steps: {around[0]:g} um "
                f"or {around[1]:g} um",
            )
        return self

    @recipe_check
    def _a_seed_or_the_metal_support(self) -> Self:
        """Each level's wiring on its seed, or on the metal support without one (each level
        on its own). The checks of the etch and the plating, after it, read the seed."""
        every_problem(
            functools.partial(self._require_seed_or_support, path, wiring)
            for path, wiring in self.wirings()
        )
        return self

    def _require_seed_or_support(self, path: str, wiring: WiringRecipe) -> None:
        if not self.metal_support:
            if wiring.seed is None:
                raise claim_violation(
                    "001:8",
                    f"{path}.seed",
                    "none",
                    "with support film the wiring is plated on a thin metal film: add the "
                    "seed, sputtered, evaporated or electroless (001:9)",
                )
            return
        if wiring.seed is not None:
            raise claim_violation(
                "001:11",
                f"{path}.seed",
                "a seed",
                "with support metal-film the support is the wiring's metal: leave out the seed",
            )
        if wiring.descum is not None:
            raise claim_violation(
                "001:10",
                f"{path}.descum",
                "a plasma clean",
                "with support metal-film the tips are pressed into the metal, under it: there "
                "is nothing to descum",
            )

    @recipe_check
    def _seeds_joined_to_the_tips(self) -> Self:
        """Each level's seed joined to the tips it climbs
        (`SeedRecipe.require_joined_over_steps`): an evaporated one too thin broke on their
        sidewalls and every wafer was held at the plating, its cathode contact open (each
        level on its own)."""
        every_problem(
            functools.partial(
                wiring.seed.require_joined_over_steps,
                wiring.seed.films_claim,
                f"{path}.seed",
                "the bump tips it climbs, standing above the resin",
            )
            for path, wiring in self.wirings()
            if isinstance(wiring.seed, SeedRecipe)
        )
        return self

    @recipe_check
    def _plating_inside_its_window(self) -> Self:
        """Each level's etch and its plating's minimum (`_require_etched`), and its plating's
        area and current against its mould's mask, each level's and each part on its own."""
        foil_um = self.foil_thickness_um or 0.0
        spec = self.wafer.spec()
        every_problem(
            check
            for path, wiring in self.wirings()
            for check in (
                functools.partial(self._require_etched, path, wiring, foil_um),
                lambda path=path, wiring=wiring: wiring.plating.require_through_mask(
                    path, wiring.mould.mask, spec
                ),
            )
        )
        return self

    @recipe_check
    def _plated_within_the_moulds(self) -> Self:
        """Each level's plating no thicker than the mould it is plated through
        (`WiringRecipe.require_plated_within_mould`), each level on its own."""
        claim = self.plated_claim()
        every_problem(
            functools.partial(wiring.require_plated_within_mould, claim, path)
            for path, wiring in self.wirings()
        )
        return self

    @recipe_check
    def _wiring_solid_through_later_heats(self) -> Self:
        """Each level's plated metal stays solid through every heat of the recipe after its
        plating (`heats_after`): a tin or tin-lead wiring under balls reflowed at 245 degC
        validated and passed the claim check, though the reflow melts it (each level on its
        own)."""
        every_problem(
            functools.partial(self._require_solid_wiring, index, path, wiring)
            for index, (path, wiring) in enumerate(self.wirings())
        )
        return self

    def heats_after(self, index: int) -> list[Heat]:
        """Every heat of the recipe after the plating of the wiring level `index` (0: the
        lowermost), in their order: each level above's bonding stage, lamination and mould
        bake, then the balls' reflow and the solder resist's bake."""
        heats: list[Heat] = []
        for upper, level in enumerate(self.upper_levels or ()):
            if upper < index:  # level `upper + 1`, below the wiring or the wiring itself
                continue
            path = f"upper_levels.{upper}"
            heats += [
                Heat(
                    f"{path}.bumps.stage_temperature_c",
                    level.bumps.stage_temperature_c,
                    "a stud bonding",
                ),
                Heat(f"{path}.resin.temperature_c", level.resin.temperature_c, "a lamination"),
                Heat(
                    f"{path}.wiring.mould.bake_temperature_c",
                    level.wiring.mould.bake_temperature_c,
                    "a mould's soft bake",
                ),
            ]
        terminals = self.terminals
        if terminals is not None:
            liquidus_c = LIQUIDUS_C[terminals.alloy.value]
            liquidus = f"the {terminals.alloy.value} balls' {liquidus_c:g} degC liquidus"
            reflow = terminals.reflow.peak_c, "the balls' reflow", (liquidus_c, liquidus)
            heats.append(Heat("terminals.reflow.peak_c", *reflow))
            if terminals.solder_resist is not None:
                heats.append(
                    Heat(
                        "terminals.solder_resist.bake_temperature_c",
                        terminals.solder_resist.bake_temperature_c,
                        "the solder resist's soft bake",
                    )
                )
        return heats

    def _require_solid_wiring(self, index: int, path: str, wiring: WiringRecipe) -> None:
        """Refuse the plated metal of the wiring at `path` (level `index`) if it melts at or
        below a heat after its plating (`plated_melts_c`: an alloy's solidus, a pure metal's
        melting point): molten, the wiring the next level's studs or the terminals stand on
        runs and bridges its traces. The refusal names every such heat, and the ways out:
        copper, or each heat kept below the melting point (a reflow only where the balls'
        liquidus is below it)."""
        metal = wiring.plating.metal
        melts_c = plated_melts_c(metal)
        melting = [heat for heat in self.heats_after(index) if heat.temperature_c >= melts_c]
        if not melting:
            return
        copper = f"plate {Metal.CU.value} (it melts at {plated_melts_c(Metal.CU):g} degC)"
        kept = (heat.kept_below(melts_c) for heat in melting)
        fixes = [copper, *(fix for fix in kept if fix is not None)]
        uppermost = index == len(self.upper_levels or ())
        stands = "the terminals are formed on" if uppermost else "the next level's studs stand on"
        heats = ", ".join(heat.described() for heat in melting)
        raise claim_violation(
            self.plated_claim(),
            f"{path}.plating.metal",
            metal.value,
            f"the wiring {stands} must stay solid through every later heat of the recipe, "
            f"and plated {metal.value} begins to melt at {melts_c:g} degC: {heats} would melt it: "
            + ", or ".join(fixes),
        )

    @recipe_check
    def _moulds_stripped(self) -> Self:
        """Each level's strip takes its whole mould off (`MouldRecipe.require_stripped_by`):
        resist left on the field would mask the seed's etch after it (001:8)."""
        every_problem(
            functools.partial(
                wiring.mould.require_stripped_by,
                wiring.etch.strip,
                "001:8",
                f"{path}.mould",
                f"{path}.etch.strip",
            )
            for path, wiring in self.wirings()
            if wiring.etch is not None
        )
        return self

    @recipe_check
    def _films_developed(self) -> Self:
        """Each level's mould (001:8) and the solder resist (001:4) developed open to the
        bottom of its openings (`MouldRecipe.require_developed`): film left there keeps the
        plating off the seed, or the ball off its land."""
        films = [(wiring.mould, "001:8", f"{path}.mould") for path, wiring in self.wirings()]
        if self.terminals is not None and self.terminals.solder_resist is not None:
            films.append((self.terminals.solder_resist, "001:4", "terminals.solder_resist"))
        every_problem(
            functools.partial(film.require_developed, claim, path) for film, claim, path in films
        )
        return self

    @recipe_check
    def _solder_resist_covering_the_wiring(self) -> Self:
        """001:4's solder resist keeps the cover that insulates the uppermost wiring over it
        (`SolderResistRecipe.require_covering`): the wiring stands up into the resist, whose
        field keeps over it only that field less the wiring's metal
        (`uppermost_wiring_um`): a 14.6 um field had passed over 5 um of wiring, which kept 9.6 um
        over it."""
        resist = None if self.terminals is None else self.terminals.solder_resist
        if resist is not None:
            resist.require_covering(
                "001:4",
                "terminals.solder_resist",
                "wiring",
                self.uppermost_wiring_um(),
                self._thinner_uppermost_plating,
            )
        return self

    def _thinner_uppermost_plating(self, excess_um: float) -> str | None:
        """The uppermost wiring's plating `excess_um` thinner, rounded down as the gauge reads
        it, for a refusal's other way out; None where that is below the plating's own
        minimum."""
        path, wiring = self.wirings()[-1]
        most_um = rounded_down(wiring.plating.thickness_um - excess_um, XRF_DECIMALS)
        if most_um < wiring.plating.min_thickness_um:
            return None
        return f"{path}.plating.thickness_um at most {most_um:g} um"

    def _require_etched(self, path: str, wiring: WiringRecipe, foil_um: float) -> None:
        """The wiring at `path`'s etch clears the metal between its patterns
        (`_require_field_cleared`), and, once it does, leaves its plating at least 3 um
        (`PlatingStep.require_wiring`). A plating minimum below 3 um is refused whatever the
        etch and the seed (each a problem of its own, reported together: decision 0053)."""
        plating, claim = f"{path}.plating", self.plated_claim()
        every_problem(
            (
                functools.partial(self._require_field_cleared, path, wiring, foil_um),
                functools.partial(wiring.plating.require_wiring, plating, claim),
            )
        )
        etch = None
        if wiring.etch is not None:
            metal = self._field_metal(wiring, Tank.CU_ETCH, foil_um)
            etch = wiring.etch.copper_etch.after_plating(
                f"{path}.etch.copper_etch", Tank.CU_ETCH, metal
            )
        thicker_mould = functools.partial(wiring.thicker_mould, path)
        wiring.plating.require_wiring(plating, claim, etch, foil_um, thicker_mould)

    def _require_field_cleared(self, path: str, wiring: WiringRecipe, foil_um: float) -> None:
        """Refuse an etch of the wiring at `path` that may leave some of the metal laid over
        the whole wafer before its mould between the patterns, joining them: the metal
        support's `foil_um` (001:11), or the seed's films (001:8), each in the dip of the
        tank that etches it (`Dip.require_clears`), or no such dip."""
        claim = self.plated_claim()
        support = "with support metal-film " if self.metal_support else ""
        dips = [
            (name, tank, metal)
            for tank, name in SEED_ETCH_DIPS
            if (metal := self._field_metal(wiring, tank, foil_um)).um > 0
        ]
        if wiring.etch is None:
            names = " and ".join(f"a {name}" for name, _, _ in dips)
            them = "clears it" if len(dips) == 1 else "clear them"
            needed = f"the etch: a strip that takes the mould off, then {names} that {them}"
            raise etch_missing(claim, f"{path}.etch", dips, needed, support)
        etch = wiring.etch
        every_problem(
            functools.partial(etch.require_dip_clears, claim, f"{path}.etch", name, tank, metal)
            for name, tank, metal in dips
        )

    @staticmethod
    def _field_metal(wiring: WiringRecipe, tank: Tank, foil_um: float) -> FieldMetal:
        """What `tank`'s dip must clear between the wiring's patterns: the seed's films of its
        metals, or the metal support's `foil_um` (copper)."""
        if wiring.seed is not None:
            return wiring.seed.to_clear(tank)
        foil = foil_um if tank is Tank.CU_ETCH else 0.0
        return FieldMetal(foil, f"the {foil_um:g} um foil")

    def sheet(self, resin: ResinRecipe) -> ResinSheet:
        """The sheet a level's `resin` is laminated from: on the recipe's support (a metal
        film with its foil)."""
        return ResinSheet(resin.sheet_thickness_um, self.support, self.foil_thickness_um or 0.0)

    def derived_setpoints(self) -> list[ToolSetpoint]:
        """Each level's plated area, when its plating states none."""
        spec = self.wafer.spec()
        return [
            point
            for path, wiring in self.wirings()
            for point in wiring.plating.mask_area_setpoints(path, wiring.mould.mask, spec)
        ]

    @property
    def metal_support(self) -> bool:
        """The sheet's support is a metal film that becomes the wiring (001:10-12)."""
        return self.support is SupportKind.METAL_FILM

    def wiring_claims(self) -> tuple[str, ...]:
        """The claims the wiring's mould, plating and etch carry out: the thin film's (001:8)
        or the metal support's (001:11)."""
        return ("001:1c", "001:11") if self.metal_support else ("001:1c", "001:8")

    def plated_claim(self) -> str:
        """The claim whose wiring is thickened by the plating: 001:8, or 001:11 on the metal
        support (the claim check holds its thickness to `PLATED_WIRING_MIN_UM`)."""
        return "001:11" if self.metal_support else "001:8"

    def plating_claims(self) -> tuple[str, ...]:
        """The claims the electroplating carries out (001:9, or 001:12 on the support)."""
        if self.metal_support:
            return ("001:1c", "001:11", "001:12")
        return ("001:1c", "001:8", "001:9")

    @recipe_check
    def _thick_resin(self) -> Self:
        """With `thick_resin`, the resin-sealing layer at least `THICK_RESIN_UM` at every site
        (001:13): the sheet laid at its thinnest (`thinnest_laminated_um`: the laminator's
        spread), less what the descum's O2 etches off its top (`sealing_layer_etched_um`),
        as the claim check judges the layer on the product; refused with the least sheet
        that leaves that much."""
        if not self.thick_resin:
            return self
        sheet_um, etched_um = self.resin.sheet_thickness_um, self.sealing_layer_etched_um()

        def left_um(sheet_um: float) -> float:
            """The thinnest resin-sealing layer a sheet of `sheet_um` leaves."""
            return thinnest_laminated_um(sheet_um) - etched_um

        if left_um(sheet_um) >= THICK_RESIN_UM:
            return self
        laid_um = thinnest_laminated_um(sheet_um)
        least_um = least_that_passes(
            (THICK_RESIN_UM + etched_um) / thinnest_laminated_um(1.0),
            1,
            lambda sheet_um: left_um(sheet_um) >= THICK_RESIN_UM,
        )
        etched = (
            f", {um_left(laid_um, etched_um)} um once wiring.descum's O2 takes "
            f"{um_text(etched_um)} um off its top"
            if etched_um
            else ""
        )
        raise claim_violation(
            "001:13",
            "resin.sheet_thickness_um",
            f"{sheet_um:g} um",
            f"laid down to {um_text(laid_um)} um (the laminator's {RESIN_SPREAD_FRACTION:.0%} "
            f"spread, to {RESIN_SPREAD_SIGMAS:g} sigma){etched}, the resin-sealing layer must "
            f"be at least {THICK_RESIN_UM:g} um thick at every site (thick_resin is true): "
            f"give at least {least_um:g} um",
        )

    def sealing_layer_etched_um(self) -> float:
        """What the lowermost wiring's descum takes off the resin-sealing layer's top
        (`PlasmaCleanRecipe.resin_etched_um`); none without one."""
        descum = self.wiring.descum
        return 0.0 if descum is None else descum.resin_etched_um()
