"""The claim check of bump-seal-clean: the conditions on the product and the claim map."""

from __future__ import annotations

from dataclasses import replace

from packline.sequences.engine import Condition

from .. import conditions
from .recipe import (
    BumpSealCleanRecipe,
    PlasmaCleaning,
    PrintedSolderLayer,
    SolderBumpRecipe,
    board_of,
)


def joints_on_board(claim: str) -> Condition:
    """A joint at every terminal of the chips mounted on the wafer's board (read on the board,
    `board_of`). Said as the board's pads under them, which is what it counts (its sites:
    decision 0099)."""
    joints = conditions.joint_at_every_terminal(claim)
    return replace(joints, text="a joint at every pad under the dies on its board", on=board_of)


def claim_conditions(recipe: BumpSealCleanRecipe) -> list[Condition]:
    """What claim 003:7 and the recipe's options leave on every wafer, checked on the twin.

    Residue and oxide are checked whatever the cleaning option (both raise the connection
    resistance, 003:8); activation only where the option activates (the plasma, 003:9). With
    a solder layer, the product claims 003:3-6: the layer of another solder on every tip
    (003:3), over a cleaned tip (003:4, of claim 2), eutectic on high-melting bumps (003:5,
    003:6), and the layer reflowed above its liquidus with the cores solid below theirs, by
    the heat the tools measured (003:20); the layer on every tip by
    the option of 003:21, and, printed, no solder bridge between two bumps.
    """
    checks = [
        conditions.bump_on_every_pad("003:7.1"),
        conditions.resin_thinner_than_bumps("003:7.2"),
        conditions.tips_project("003:7.3"),
        *conditions.left_clean(tips=True),
    ]
    if isinstance(recipe.cleaning, PlasmaCleaning):
        checks.append(conditions.tips_activated("003:9"))
    layer = recipe.solder_layer
    if layer is not None:
        least, on = layer.min_thickness_um, conditions.solder_layer_on_tips
        product, eutectic = ", a solder bump of the product", ", a high-melting bump's"
        checks += [
            on("003:19", least),
            on("003:20", least, eutectic=True),
            on("003:3", least, telling=product),
            on("003:4", least, cleaned=True, telling=product),
            on("003:5", least, eutectic=True, telling=eutectic),
            on("003:6", least, cleaned=True, eutectic=True, telling=eutectic),
            on("003:21", least, eutectic=True, telling=f", whichever way laid ({layer.method})"),
        ]
        if isinstance(recipe.bumps, SolderBumpRecipe):  # a layer validates on solder bumps only
            core = recipe.bumps.alloy.value
            checks += conditions.layer_reflowed_core_solid("003:20", layer.alloy, core)
        if isinstance(layer, PrintedSolderLayer):
            checks.append(conditions.no_solder_bridges("003:21"))
    if recipe.dicing is not None:
        checks.append(conditions.singulated_into_dies("003:23"))
    if recipe.mounting is not None:
        checks.append(joints_on_board("003:24"))
    return checks


CLAIM_MAP = {
    "003:1": "claim checks on the product: bumps on every pad (003:7.1), resin thinner "
    "(003:7.2), tips cleaned (003:10, 003:11)",
    "003:2": "claim checks: no residue (003:10) and no oxide (003:11) on the exposed tips",
    "003:3": "recipe options bumps.method = solder-ball and solder_layer "
    "(bump-seal-clean-solder-plated.yaml, -printed, -transferred); claim check: another "
    "solder on every tip",
    "003:4": "recipe options bumps.method = solder-ball and solder_layer; claim check: "
    "another solder on every tip cleaned of residue and oxide beneath it",
    "003:5": "recipe options bumps.alloy (high-melting) and solder_layer (eutectic); claim "
    "check: a eutectic layer below the bumps' solidus on every tip",
    "003:6": "recipe options bumps.alloy (high-melting) and solder_layer (eutectic); claim "
    "check: a eutectic layer below the bumps' solidus on every cleaned tip",
    "003:7.1": "step 'form bumps': a stud bump on every pad, or recipe option bumps.method = "
    "solder-ball, step 'mount balls' and step 'reflow balls': a solder bump on every pad; "
    "claim check: a bump on every pad",
    "003:7.2": "step 'laminate resin film' and step 'peel support'; recipe constraint and "
    "claim check: resin thinner than every bump",
    "003:7.3": "step 'plasma clean' or step 'laser clean' (recipe option cleaning.method); "
    "claim check: tips project above the resin",
    "003:8": "step 'plasma clean' or step 'laser clean'; claim checks 003:10 and 003:11",
    "003:9": "step 'plasma clean' (the RF dose activates); claim check: exposed tips activated",
    "003:10": "step 'plasma clean' (O2) or step 'laser clean'; recipe constraint: the steps "
    "or the pulses take the residue off; claim check: no residue on tips",
    "003:11": "step 'plasma clean' (Ar or forming gas) or step 'laser clean' in forming gas; "
    "recipe constraint: the steps or the atmosphere and pulses take the oxide off; claim "
    "check: no oxide on the exposed tips",
    "003:12": "recipe option cleaning.method = plasma, step 'plasma clean'",
    "003:13": "recipe option cleaning.plasma.steps with Ar (bump-seal-clean-plasma-ar.yaml), "
    "step 'plasma clean'",
    "003:14": "recipe option cleaning.plasma.steps O2 then Ar (bump-seal-clean.yaml), "
    "step 'plasma clean'",
    "003:15": "recipe option cleaning.plasma.steps O2 then forming gas "
    "(bump-seal-clean-plasma-o2-reducing.yaml), step 'plasma clean'",
    "003:16": "recipe option cleaning.method = laser (bump-seal-clean-laser.yaml), "
    "step 'laser clean'",
    "003:17": "plasma: step 'pump down'; laser: recipe option cleaning.atmosphere "
    "(reduced-pressure, N2, Ar or forming-gas), step 'laser clean'",
    "003:18": "recipe options cleaning.gas_jet and cleaning.suction, step 'laser clean'; "
    "recipe constraint: a jet with suction, in an atmosphere at pressure",
    "003:19": "recipe option bumps.method = solder-ball (step 'mount balls', step 'reflow "
    "balls') and solder_layer, step 'electroplate solder layer', 'print solder paste' or "
    "'transfer solder layer' after the cleaning; recipe constraint: a layer on solder bumps "
    "only, of another solder, plated, printed or transferred at least its min_thickness_um; "
    "claim check: another solder on every tip",
    "003:20": "recipe options bumps.alloy (high-melting) and solder_layer (eutectic), step "
    "'reflow solder layer' (or the transfer's head); recipe constraint: the layer's liquidus "
    "and the reflow's peak (or the transfer's joint) below the bumps' solidus; claim checks: "
    "a eutectic layer on every tip, reflowed above its liquidus with the core solid below "
    "the bumps', by the heat the tools measured (the oven's peak, the bonder's joint, which "
    "the line holds to both too)",
    "003:21": "recipe option solder_layer.method = plating (bump-seal-clean-solder-plated.yaml), "
    "step 'electroplate solder layer'; printing (bump-seal-clean-solder-printed.yaml), step "
    "'print solder paste'; or transfer (bump-seal-clean-solder-transferred.yaml), step "
    "'transfer solder layer'; recipe constraints: a printed aperture whose deposits stay "
    "apart at the bumps' pitch, a transfer's joint above the film's liquidus and pressed "
    "until it wets; claim checks: a eutectic layer on every tip, printed without a solder "
    "bridge",
    "003:22": "step 'form bumps' or 'mount balls' and every later step run on whole wafers",
    "003:23": "recipe option dicing, step 'dice'; claim check: units == whole dies",
    "003:24": "recipe option mounting (bump-seal-clean-solder-mounted.yaml; recipe constraint: "
    "after dicing), step 'mount chips'; claim check on the wafer's board: a joint at every "
    "pad under the mounted chips",
}
