"""The bumps standing on the sites: stud, plated or solder, their size and material.

A solder bump may be a high-melting core with a eutectic layer on it (003:19-21): the layer
melts in a reflow while the core stays solid (`solid_core`). The layer tops the bump: its
thickness is part of `height_um`, whichever tool laid it (plating, printing, transfer). A
printed layer is solder paste first (`paste_nl`, what the stencil printer deposited: metal and
flux); its metal is counted in `layer_um` as the layer it makes over the bump's cap. Paste
that slumped into its neighbour's (`bridged`) is a solder bridge: the reflow joins the two bumps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class BumpKind(StrEnum):
    """How the bumps of a workpiece were made."""

    NONE = "none"
    STUD = "stud"  # wire-bonded stud bumps (001:5, 003:7)
    PLATED = "plated"  # electroplated (Cu, Au)
    SOLDER = "solder"  # solder bumps, printed, plated or transferred


@dataclass
class Bumps:
    """One bump per site at most: height 0 means none."""

    height_um: np.ndarray
    base_diameter_um: np.ndarray
    stack: np.ndarray  # studs stacked on each site (001:6)
    layer_um: np.ndarray  # the eutectic layer's thickness per site (003:19), 0: none
    solid_core: np.ndarray  # bool per site: the core stayed solid through a reflow (003:20)
    kind: BumpKind = BumpKind.NONE
    material: str | None = None  # "Au", "Cu", or a solder alloy such as "Pb95Sn5"
    layer_alloy: str | None = None  # the eutectic layer's alloy, such as "Sn63Pb37"
    #: solder paste printed on each site (nl; 0: none)
    paste_nl: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    #: bool per site: its printed paste touches a neighbour's (a solder bridge once reflowed)
    bridged: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @classmethod
    def empty(cls, site_count: int) -> Bumps:
        """No bump on any site."""
        return cls(
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, np.int8),
            np.zeros(site_count, np.float32),
            np.zeros(site_count, bool),
            paste_nl=np.zeros(site_count, np.float32),
            bridged=np.zeros(site_count, bool),
        )

    @property
    def present(self) -> np.ndarray:
        """Sites that carry a bump."""
        return self.height_um > 0
