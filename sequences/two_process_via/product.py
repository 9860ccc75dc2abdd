"""What method two-process-via leaves on every wafer: the conditions of claim 002:1, its
options and its product claims, checked on the twin, and where each claim is carried out."""

from __future__ import annotations

from packline.drivers.roles.resin_coater import CoatResin
from packline.sequences.engine import Condition
from packline.sim_instruments.twin.parts import OpeningProcess, ResinKind

from .. import conditions
from ..bump_seal_clean import joints_on_board
from ..solder import PLATED_WIRING_MIN_UM
from .recipe import (
    INTERCONNECTS_APART,
    MOUNTING_CLAIMS,
    THERMOSETTING,
    Develop,
    DryEtch,
    TwoProcessViaRecipe,
)

#: The step that heats the covering resin until cured (002:1g): its cure is judged as it
#: left it, not as the balls' reflow after it leaves it.
CURE_STEP = "cure resin"

#: The twin's resin kinds a thermosetting precursor or a solder resist lays (002:10, 002:19).
THERMOSET_KINDS = frozenset({ResinKind.THERMOSET, ResinKind.SOLDER_RESIST})


def claim_conditions(recipe: TwoProcessViaRecipe) -> list[Condition]:
    """What claim 002:1, its options and its product claims leave on every wafer, checked on
    the twin."""
    wafer = [
        conditions.interconnect_on_every_pad("002:1a-d"),
        conditions.interconnects_covered("002:1e"),
        conditions.concave_portions_with_resin_below("002:1f"),
        conditions.vias_opened_by_a_second_process("002:1h"),
        conditions.terminal_on_every_via("002:1i"),
    ]
    checks = [
        *wafer,
        conditions.wiring_plated_at_least(
            "002:1a-d", PLATED_WIRING_MIN_UM, wiring=INTERCONNECTS_APART
        ),
        # at the seed's own level: on a stress-relieving layer, level 0 holds no seed and its
        # check had passed with nothing checked ('0 um to spare')
        conditions.patterns_etched_apart(
            "002:1a-d", recipe.interconnect_level(), "the seed", INTERCONNECTS_APART
        ),
        conditions.resin_cured("002:1g", at=CURE_STEP),
    ]
    for claim in ("002:9", "002:18"):
        checks.append(
            conditions.all_of(
                claim,
                "interconnects on the pads, covered, opened by two processes, terminals on them",
                *wafer,
            )
        )
    checks.append(conditions.pads_on_upper_surface("002:16"))
    if recipe.passivation is not None:
        checks.append(
            conditions.passivation_open_at_pads("002:15", recipe.passivation.min_thickness_nm)
        )
    resin = recipe.resin.resin
    if resin in THERMOSETTING:
        for claim in ("002:10", "002:19"):
            checks.append(
                conditions.all_of(
                    claim,
                    "the covering resin a thermoset, heated until cured",
                    conditions.covering_resin(claim, THERMOSET_KINDS, "a thermoset"),
                    conditions.resin_cured(claim, at=CURE_STEP),
                )
            )
    if resin is CoatResin.PHOTO:
        for claim in ("002:11", "002:20"):
            checks.append(
                conditions.covering_resin(
                    claim, frozenset({ResinKind.RADIATION_SENSITIVE}), "radiation-sensitive"
                )
            )
    if resin is CoatResin.SOLDER_RESIST:
        checks.append(
            conditions.covering_resin(
                "002:14", frozenset({ResinKind.SOLDER_RESIST}), "a solder resist"
            )
        )
    if isinstance(recipe.first, Develop):
        checks.append(conditions.first_process_was("002:12", OpeningProcess.DEVELOP))
    if isinstance(recipe.second, DryEtch):
        checks.append(conditions.vias_opened_by("002:13", OpeningProcess.DRY_ETCH))
    if recipe.stress_relief is not None:
        checks.append(conditions.layer_open_at_pads("002:17", ResinKind.STRESS_RELIEF))
    if recipe.dicing is not None:
        checks += [
            conditions.singulated_into_dies("002:6"),
            conditions.every_device_whole("002:6", *wafer),
        ]
    if recipe.mounting is not None:
        # a board carrying the device of claim 6: its joints, and the dies on it whole devices
        for claim in MOUNTING_CLAIMS:
            checks += [
                joints_on_board(claim),
                conditions.mounted_devices_whole(claim, "002:6", *wafer),
            ]
    return checks


#: What carries out 002:7 and 002:8 alike (`MOUNTING_CLAIMS`): the mounting, its constraints
#: and its claim checks.
_MOUNTING = (
    "recipe option mounting (two-process-via.yaml; recipe constraints: after dicing, a head whose "
    "joint is above the balls' liquidus, a bond as long as they take to wet, no more devices than "
    "the board's chip sites), step 'mount devices' (bump-seal-clean's flip-chip mounting, "
    "003:24): devices of 002:6 bonded by their solder balls on the board B + the wafer's id; "
    "claim checks: on the board, a joint at every pad under the devices mounted on it; on the "
    "wafer, every die mounted a whole device of 002:6"
)

CLAIM_MAP = {
    "002:1a-d": "step 'deposit seed', step 'pattern wiring', step 'electroplate wiring', step "
    "'strip mould' and step 'etch seed'; recipe constraint: copper_etch and barrier_etch clear the "
    "seed between the interconnects; claim checks: an interconnect joined to every pad, "
    f"plated to at least {PLATED_WIRING_MIN_UM:g} um (interconnects.plating.min_thickness_um "
    "may not be lower), the seed etched through between the interconnects",
    "002:1e": "step 'coat resin'; claim check: interconnects covered by resin",
    "002:1f": "step 'laser concave portions' or step 'develop concave portions' (recipe option "
    "first.process); recipe constraint: the laser stops at a depth; claim check: a concave "
    "portion with resin below at every site",
    "002:1g": "step 'cure resin'; claim check: every resin layer cured",
    "002:1h": "step 'dry etch via bottoms' or step 'laser via bottoms' (recipe option "
    "second.process); recipe constraint: the second process differs from the first; claim "
    "check: every via opened through its concave bottom by a second, different process",
    "002:1i": "step 'mount balls' and step 'reflow balls'; recipe constraint: the balls sink "
    "through the vias to the interconnects; claim check: a joined terminal on every via, "
    "reaching its interconnect",
    "002:2": "recipe option resin.resin = THERMOSET or SOLDER-RESIST (two-process-via.yaml), "
    "step 'coat resin' and step 'cure resin'",
    "002:3": "recipe option resin.resin = PHOTO and first.process = develop "
    "(two-process-via-photo.yaml), step 'coat resin' and step 'develop concave portions'; "
    "recipe constraint: only a radiation-sensitive resin develops",
    "002:4": "recipe option second.process = dry-etch, step 'dry etch via bottoms'",
    "002:5": "recipe option resin.resin = SOLDER-RESIST (two-process-via-solder-resist.yaml), "
    "step 'coat resin'",
    "002:6": "recipe option dicing, step 'dice'; claim checks: units == whole dies, every die "
    "a whole device",
    "002:7": _MOUNTING,
    "002:8": f"{_MOUNTING} (the line's share of the apparatus is its circuit board with the "
    "devices mounted)",
    "002:9": "claim check on the product wafer: interconnects on the pads, covered, opened by "
    "two processes, terminals on them",
    "002:10": "claim check on the product wafer: the covering resin a thermoset, cured",
    "002:11": "claim check on the product wafer: the covering resin radiation-sensitive",
    "002:12": "claim check on the product wafer: the concave portions made by develop",
    "002:13": "claim check on the product wafer: every via opened by dry-etch",
    "002:14": "claim check on the product wafer: the covering resin a solder resist",
    "002:15": "recipe option passivation (two-process-via-passivated.yaml; recipe constraints: "
    "SiO2 or SiN, the openings etched in CF4/O2, min_thickness_nm at most the film at its "
    "thinnest, the CVD thinner towards the wafer's edge), step 'deposit passivation', step "
    "'pattern passivation openings', step 'etch passivation openings' and step 'strip passivation "
    "mask'; claim check: SiO2 or SiN around every pad, at least passivation.min_thickness_nm, "
    "opened through over every pad",
    "002:16": "recipe section wafer (the incoming wafer: its bonding pads on the upper surface "
    "along every die edge; the dry run's line receives it so; recipe constraint: at least one "
    "pad per die edge, a ball on every pad); claim check: every site a bonding pad on the "
    "wafer's upper surface, joined from above by its interconnect",
    "002:17": "recipe option stress_relief (two-process-via-solder-resist.yaml), step "
    "'coat stress relief', step 'cure stress relief' and step 'open stress relief'; claim "
    "check: a cured stress-relief layer open at every pad",
    "002:18": "claim check on the product wafer: the covering means on the interconnects, "
    "opened by two processes, terminals on them",
    "002:19": "claim check on the product wafer: the covering a thermoset, cured",
    "002:20": "claim check on the product wafer: the covering radiation-sensitive",
}
