"""Conditions of the claims on the product, for every method's `claim_checks`.

Each function builds a `Condition` for the claim id a method gives it, evaluated on a wafer's
twin (`Workpiece`) after a dry run: which sites are checked, and which of those pass. They read
the workpiece's parts (`surface`, `bumps`, `singulation`...) and its shared views (`resin_um`,
`exposed_metal`, `tip_projection_um`), and are vectorised over the sites (a wafer has tens of
thousands), never a loop per bump.

"Exposed metal" is what the line's tools treat as exposed: a bare pad (no resin over it), a
bump tip that stands above the resin, or the bottom of an open via. "Tips" are bump sites whose
tip stands above the resin. Films (residue, oxide) are in nanometres, lengths in micrometres.

This module registers no method; the engine imports it while it looks for methods, harmlessly.
"""

from packline.sequences.conditions.combined import all_of, every_device_whole
from packline.sequences.conditions.panel import (
    ball_in_every_opening,
    die_backs_flush,
    dies_bonded_face_down,
    filler_at_hole_tops,
    ground_to_thickness,
    holes_open_to_metal,
    joint_at_every_terminal,
    sealed_around_every_die,
    singulated_into_dies,
    solder_resist_opened,
    terminals_seated,
)
from packline.sequences.conditions.tips import (
    CLEAN_NM,
    SEALING_KINDS,
    bump_on_every_pad,
    every_site,
    exposed_metal_activated,
    exposed_tips,
    no_oxide_on_exposed_metal,
    no_oxide_on_tips,
    no_residue_on_exposed_metal,
    no_residue_on_tips,
    resin_at_least,
    resin_thinner_than_bumps,
    sealing_resin_um,
    tips_activated,
    tips_project,
)
from packline.sequences.conditions.vias import (
    concave_portions_with_resin_below,
    covering_resin,
    first_process_was,
    interconnects_covered,
    layer_open_at_pads,
    resin_cured,
    terminal_on_every_via,
    vias_open,
    vias_opened_by,
    vias_opened_by_a_second_process,
)
from packline.sequences.conditions.wiring import (
    SEED_CONTACT_MOHM,
    connected_through_levels,
    cores_solid_under_reflowed_layers,
    interconnect_on_every_pad,
    joint_under_every_ball,
    pads_on_upper_surface,
    passivation_open_at_pads,
    seed_joins_tips,
    solder_layer_on_tips,
    solder_resist_open_at_balls,
    terminals_connected,
    top_wiring_connected,
    wiring_connected_at,
    wiring_plated_at_least,
)

__all__ = [
    "CLEAN_NM",
    "SEALING_KINDS",
    "SEED_CONTACT_MOHM",
    "all_of",
    "ball_in_every_opening",
    "bump_on_every_pad",
    "concave_portions_with_resin_below",
    "connected_through_levels",
    "cores_solid_under_reflowed_layers",
    "covering_resin",
    "die_backs_flush",
    "dies_bonded_face_down",
    "every_device_whole",
    "every_site",
    "exposed_metal_activated",
    "exposed_tips",
    "filler_at_hole_tops",
    "first_process_was",
    "ground_to_thickness",
    "holes_open_to_metal",
    "interconnect_on_every_pad",
    "interconnects_covered",
    "joint_at_every_terminal",
    "joint_under_every_ball",
    "layer_open_at_pads",
    "no_oxide_on_exposed_metal",
    "no_oxide_on_tips",
    "no_residue_on_exposed_metal",
    "no_residue_on_tips",
    "pads_on_upper_surface",
    "passivation_open_at_pads",
    "resin_at_least",
    "resin_cured",
    "resin_thinner_than_bumps",
    "sealed_around_every_die",
    "sealing_resin_um",
    "seed_joins_tips",
    "singulated_into_dies",
    "solder_layer_on_tips",
    "solder_resist_open_at_balls",
    "solder_resist_opened",
    "terminal_on_every_via",
    "terminals_connected",
    "terminals_seated",
    "tips_activated",
    "tips_project",
    "top_wiring_connected",
    "vias_open",
    "vias_opened_by",
    "vias_opened_by_a_second_process",
    "wiring_connected_at",
    "wiring_plated_at_least",
]
