"""A simulated flip-chip bonder's run: planned when `BOND` or `XFER` is accepted, laid onto the
twin die by die as the clock passes each die's cycle, and read back by `RESULT?` and `XFER?`.

The simulated bonder (`sim_instruments/flip_chip_bonder.py`) owns the wire, the stage's
temperature, the die source and the decisions of its faults (when a run ends and why); a run
is its process model: the units it works on, its recipe and timing, and what it bonds (the
source's dies, their fit and placement) or transfers (a solder sheet onto the bumps). The
physics are in `sim_instruments/physics/flip_chip_bonder.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from packline.clock import Clock
from packline.drivers.roles.flip_chip_bonder import BondRecipe, SolderTransfer

from .physics.flip_chip_bonder import (
    FlipChipPhysics,
    Placement,
    bond_dies,
    transfer_layer,
    unit_layout,
)
from .twin import TwinStore


@dataclass
class Bond:
    """What a bond run places: the source's dies, their fit and their placement."""

    source_id: str
    source_units: np.ndarray
    match: np.ndarray
    placement: Placement
    dies_before: int  # dies on the substrate before the run


@dataclass
class Run:
    """A run under way: its units, when it started and starts bonding, each die's cycle; what
    it bonds (`bond`) or transfers (`transfer`)."""

    substrate_id: str
    units: np.ndarray
    recipe: BondRecipe
    stage_from_c: float
    started_s: float
    bonding_from_s: float
    cycle_s: float
    bond: Bond | None = None
    transfer: SolderTransfer | None = None
    coated: list[np.ndarray] = field(default_factory=list)  # per die done: its sites coated
    done: int = 0

    @property
    def ends_s(self) -> float:
        return self.bonding_from_s + self.units.size * self.cycle_s

    def bond_dies(
        self, due: int, twin: TwinStore, physics: FlipChipPhysics, tool: str, clock: Clock
    ) -> None:
        """Lay the dies from `done` up to `due` onto the substrate (a bond run)."""
        bond = self.bond
        assert bond is not None
        part = slice(self.done, due)
        substrate = twin.get(self.substrate_id)
        source = twin.get(bond.source_id)
        placement = bond.placement
        bonded = bond_dies(
            substrate,
            source,
            self.units[part],
            bond.source_units[part],
            bond.match,
            Placement(placement.offset_um[part], placement.rotation_mdeg[part]),
            self.recipe,
            physics,
        )
        self.done = due
        now = clock.now()
        recipe = self.recipe
        substrate.record(
            tool,
            "flip-chip bond",
            now,
            source=source.id,
            units=f"{int(self.units[part][0])}-{int(self.units[part][-1])}",
            dies_bonded=int(bonded.sum()),
            head_c=recipe.head_temperature_c,
            stage_c=recipe.stage_temperature_c,
            force_n=recipe.bond_force_n,
            bond_s=recipe.bond_time_s,
        )
        source.record(tool, "dies picked", now, dies=int(bonded.size), onto=substrate.id)

    def transfer_solder(
        self, due: int, twin: TwinStore, physics: FlipChipPhysics, tool: str, clock: Clock
    ) -> None:
        """Press the sheet on the dies from `done` up to `due` of the wafer (a transfer run)."""
        transfer = self.transfer
        assert transfer is not None
        units = self.units[self.done : due]
        wafer = twin.get(self.substrate_id)
        layout = unit_layout(wafer.geometry)
        recipe = transfer.recipe
        coated = transfer_layer(
            wafer, units, transfer.alloy.value, transfer.film_um, recipe, physics
        )
        self.coated.append(layout.sites[units].ravel()[coated])
        self.done = due
        wafer.record(
            tool,
            "solder transfer",
            clock.now(),
            alloy=transfer.alloy.value,
            film_um=transfer.film_um,
            units=f"{int(units[0])}-{int(units[-1])}",
            bumps_coated=int(coated.sum()),
            head_c=recipe.head_temperature_c,
            stage_c=recipe.stage_temperature_c,
        )

    def bond_result(self, twin: TwinStore) -> str:
        """`RESULT?`'s answer for this bond run: its dies bonded, their terminals seated and
        joined, the worst offset and rotation, the fill of the holes under them."""
        bond = self.bond
        assert bond is not None
        substrate = twin.get(self.substrate_id)
        dies = substrate.dies
        placed = slice(bond.dies_before, bond.dies_before + self.done)
        sites = unit_layout(substrate.geometry).sites[dies.unit[placed]].ravel()
        seated = dies.seated[sites]
        in_holes = sites[seated & substrate.geometry.hole[sites]]
        depth = substrate.openings.substrate.depth_um[in_holes]
        level = 100.0 * substrate.fill.level_um[in_holes] / np.where(depth > 0, depth, 1.0)
        offset = np.hypot(*dies.offset_um[placed].T)
        return (
            f"SUBSTRATE={self.substrate_id} SOURCE={bond.source_id} DIES={self.done} "
            f"BONDED={int(dies.bonded[placed].sum())} TERMINALS={sites.size} "
            f"SEATED={int(seated.sum())} JOINED={int(dies.joined[sites].sum())} "
            f"OFFSET={offset.max(initial=0.0):.1f} "
            f"ROT={np.abs(dies.rotation_mdeg[placed]).max(initial=0.0):.1f} "
            f"FILLMIN={level.min() if level.size else 0.0:.1f} "
            f"FILLMAX={level.max(initial=0.0):.1f}"
        )

    def transfer_result(self, twin: TwinStore) -> str:
        """`XFER?`'s answer for this transfer run: its bumps and those coated, the layer's
        thinnest and mean thickness."""
        transfer = self.transfer
        assert transfer is not None
        wafer = twin.get(self.substrate_id)
        sites = unit_layout(wafer.geometry).sites[self.units[: self.done]].ravel()
        bumps = sites[wafer.bumps.height_um[sites] > 0]
        coated = np.concatenate([np.zeros(0, np.intp), *self.coated])
        layer = wafer.bumps.layer_um[coated]
        return (
            f"WAFER={self.substrate_id} ALLOY={transfer.alloy.value} DIES={self.done} "
            f"BUMPS={bumps.size} COATED={coated.size} "
            f"LAYERMIN={layer.min() if layer.size else 0.0:.2f} "
            f"LAYERMEAN={layer.mean() if layer.size else 0.0:.2f}"
        )
