"""Method "two-process-via": resin layers over the interconnections, opened onto them by two
different processes, then the external terminals (document 002, claims 1-20).

Claim 1 of 002, step by step, as this script runs it on every wafer of the lot:

0. 002:16     the incoming wafer (the recipe's `wafer`): integrated circuits whose bonding
              pads lie on its upper surface along every die edge; the dry run's line
              receives the lot so.
   002:15     (a recipe option) a SiO2 or SiN passivation: laid by plasma CVD, a resist mask
              opened over the pads, the openings etched through in CF4/O2, the mask stripped.
1. 002:17     (a recipe option) a stress-relieving layer from a resin precursor: coated,
              soft-baked, cured, and lasered open over every pad.
2. 002:1a-d   interconnections over the surface, joined through the pads to the circuits: the
              pads descummed in the plasma chamber (a recipe option), a thin metal seed, a
              resist mould by lithography, electroplated copper, the mould stripped and the
              seed etched away on the wet bench.
3. 002:1e     resin layers covering the interconnections (resin coater, spin coat and soft
              bake): a thermosetting precursor (002:2), a radiation-sensitive one (002:3) or
              a solder resist (002:5).
4. 002:1f     concave portions over the interconnects by a first process, resin left at their
              bottoms: lasered to a depth, or (002:3) irradiated and developed partly through.
5. 002:1g     the resin cured with its concave portions (cure oven; 002:2: a thermoset heated).
6. 002:1h     through-holes by removing the concave bottoms by a second process that differs
              from the first: an O2 dry etch in the plasma chamber (002:4), or the laser.
7. 002:1i     external connection terminals on the interconnects exposed at the holes: flux
              and solder balls (ball mounter, the missing ones repaired), reflowed into
              joints (oven): the solder module's `mount_balls`.
8. 002:6      (a recipe option) dice the wafer into separate devices (dicing saw).
9. 002:7-8    (a recipe option) mount devices on the circuit board of an electronic
              apparatus by their terminals, active side down (flip-chip bonder): bump-seal-
              clean's `mount_chips` (003:24), in 002's words (`DEVICES`: step 'mount devices',
              'devices bonded', 'balls joined').

The recipe's own constraints (the second process differs from the first, 002:1h; a develop
needs a radiation-sensitive resin, 002:3) are checked before any tool moves. What each step
leaves, and the product claims (the device 002:6, the wafer 002:9-14 and 002:18-20), are
checked on the product: the openings keep which process made them (`OpeningLayer.stages`);
the passivation keeps its opening over every pad (`Film.openings`); the board its devices are
mounted on is checked on its own twin.

The package holds the recipe (`recipe`), the steps (`steps`) and the product checks with the
claim map (`product`); this module is the script.
"""

from __future__ import annotations

from packline.drivers.roles.dicing_saw import DicingSaw
from packline.drivers.roles.flip_chip_bonder import FlipChipBonder
from packline.drivers.roles.laser import Laser, LaserSource
from packline.drivers.roles.lithography import Lithography
from packline.drivers.roles.oven import Oven
from packline.drivers.roles.plasma_cleaner import PlasmaCleaner
from packline.drivers.roles.resin_coater import ResinCoater
from packline.sequences.engine import Wafer, method

from ..bump_seal_clean import Mounted, board_of, dice, mount_chips
from ..plasma_clean import chamber_cycle
from ..solder import MOUNT_BALLS_TOOLS, mount_balls
from ..sprout_bump_csp.recipe import DEPOSITION_PHYSICS
from .product import CLAIM_MAP, CURE_STEP, THERMOSET_KINDS, claim_conditions
from .recipe import (
    MOUNTING_CLAIMS,
    THERMOSETTING,
    CoatStep,
    ConcaveLaser,
    CureStep,
    Develop,
    DryEtch,
    IncomingWafer,
    InterconnectRecipe,
    LaserDrill,
    PassivationFilm,
    PassivationRecipe,
    StressReliefRecipe,
    TwoProcessViaRecipe,
)
from .steps import (
    CONCAVE_LASER_STEP,
    PASSIVATION_TOOLS,
    STRESS_RELIEF_OPENING_STEP,
    STRESS_RELIEF_TOOLS,
    VIA_BOTTOM_LASER_STEP,
    coat,
    cure,
    develop_concave_portions,
    drill,
    form_interconnects,
    interconnect_tools,
    lasers_drill_the_vias,
    passivate,
    relieve_stress,
)

__all__ = [
    "CLAIM_MAP",
    "IRREVERSIBLE",
    "THERMOSETTING",
    "THERMOSET_KINDS",
    "CoatStep",
    "ConcaveLaser",
    "CureStep",
    "Develop",
    "DryEtch",
    "IncomingWafer",
    "InterconnectRecipe",
    "LaserDrill",
    "PassivationFilm",
    "PassivationRecipe",
    "StressReliefRecipe",
    "TwoProcessViaRecipe",
    "claim_conditions",
    "two_process_via",
]

#: Steps that change the wafer for good: never repeated on resume, the wafer is held instead.
IRREVERSIBLE = (
    "deposit passivation",
    "coat passivation mask",
    "pattern passivation openings",
    "etch passivation openings",
    "strip passivation mask",
    "coat stress relief",
    "cure stress relief",
    STRESS_RELIEF_OPENING_STEP,
    "descum pads",
    "deposit seed",
    "coat mould",
    "pattern wiring",
    "electroplate wiring",
    "strip mould",
    "etch seed",
    "coat resin",
    CONCAVE_LASER_STEP,
    "expose concave portions",
    "develop concave portions",
    CURE_STEP,
    "dry etch via bottoms",
    VIA_BOTTOM_LASER_STEP,
    "apply flux",
    "mount balls",
    "reflow balls",
    "dice",
    "mount devices",
)


#: What 002:7 mounts on the board, and by what: devices, by their solder balls.
DEVICES = Mounted("devices", "balls")


def recipe_tools(recipe: TwoProcessViaRecipe) -> set[str]:
    """The tool roles `two_process_via` drives for `recipe`, branch by branch as it runs."""
    roles = {*interconnect_tools(recipe.interconnects), ResinCoater.role, Oven.role}
    roles |= MOUNT_BALLS_TOOLS
    if recipe.passivation is not None:
        roles |= PASSIVATION_TOOLS
    if recipe.stress_relief is not None:
        roles |= STRESS_RELIEF_TOOLS
    roles.add(Laser.role if isinstance(recipe.first, LaserDrill) else Lithography.role)
    roles.add(PlasmaCleaner.role if isinstance(recipe.second, DryEtch) else Laser.role)
    if recipe.dicing is not None:
        roles.add(DicingSaw.role)
    if recipe.mounting is not None:
        roles.add(FlipChipBonder.role)
    return roles


@method(
    name="two-process-via",
    title="Resin over the interconnects, opened onto them by two different processes (002:1)",
    claims=(
        "002:1a-d",
        "002:1e",
        "002:1f",
        "002:1g",
        "002:1h",
        "002:1i",
        "002:2",
        "002:3",
        "002:4",
        "002:5",
        "002:6",
        "002:7",
        "002:8",
        "002:9",
        "002:10",
        "002:11",
        "002:12",
        "002:13",
        "002:14",
        "002:15",
        "002:16",
        "002:17",
        "002:18",
        "002:19",
        "002:20",
    ),
    recipe=TwoProcessViaRecipe,
    tools=(
        "resin_coater",
        "oven",
        "laser",
        "plasma_cleaner",
        "deposition",
        "lithography",
        "electroplater",
        "wet_bench",
        "ball_mounter",
        "dicing_saw",
        "flip_chip_bonder",
    ),
    recipe_tools=recipe_tools,
    irreversible=IRREVERSIBLE,
    default_recipe="two-process-via.yaml",
    claim_checks=claim_conditions,
    claim_map=CLAIM_MAP,
    incoming=lambda recipe: recipe.wafer.spec(),
    # the dry run's chamber lays the passivation as validate judged it (002:15); its laser
    # is the CO2 source that drills vias a terminal's ball reaches through (decision 0128)
    sim_tools=lambda recipe: {
        "deposition": {"physics": DEPOSITION_PHYSICS},
        "laser": {"source": LaserSource.CO2_10600},
    },
    side_workpieces=lambda wafer_id: (board_of(wafer_id),),
    tools_check=lasers_drill_the_vias,
    # the mounting was bump-seal-clean's 'mount chips' before it took 002's words
    renamed_steps={"mount chips": "mount devices"},
    renamed_measurements={
        "chips bonded": ("devices bonded", "devices"),
        "bumps joined": ("balls joined", "balls"),
    },
)
async def two_process_via(wafer: Wafer, recipe: TwoProcessViaRecipe) -> None:
    """One wafer through claim 002:1: interconnects, resin, two openings, terminals."""
    if recipe.passivation is not None:
        await passivate(wafer, recipe.passivation)
    if recipe.stress_relief is not None:
        await relieve_stress(wafer, recipe.stress_relief)
    await form_interconnects(wafer, recipe.interconnects, recipe.wafer.spec())
    await coat(
        wafer,
        recipe.resin,
        "coat resin",
        ("002:1e", *recipe.resin_claims()),
        over="the interconnects",
    )
    if isinstance(recipe.first, LaserDrill):
        await drill(wafer, recipe.first, CONCAVE_LASER_STEP, ("002:1f",))
    else:
        await develop_concave_portions(wafer, recipe.first)
    heated = ("002:2",) if recipe.resin.resin in THERMOSETTING else ()
    await cure(wafer, recipe.cure, CURE_STEP, ("002:1g", *heated))
    if isinstance(recipe.second, DryEtch):
        plasma = recipe.second.plasma
        await wafer.batch(
            PlasmaCleaner,
            chamber_cycle,
            plasma,
            "dry etch via bottoms",
            ("002:1h", "002:4"),
            timeout_s=plasma.batch_timeout_s,
        )
    else:
        await drill(wafer, recipe.second, VIA_BOTTOM_LASER_STEP, ("002:1h",))
    await mount_balls(wafer, recipe.terminals, ("002:1i",))
    if recipe.dicing is not None:
        await dice(wafer, recipe.dicing, ("002:6",))
    if recipe.mounting is not None:
        mounting = recipe.mounting
        await mount_chips(wafer, mounting, mounting.devices, MOUNTING_CLAIMS, DEVICES)
