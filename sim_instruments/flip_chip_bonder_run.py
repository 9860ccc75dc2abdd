"""A simulated flip-chip bonder's run: planned when `BOND`, `XFER` or `FRAME` is accepted, laid
onto the twin die by die (or frame by frame) as the clock passes each one's cycle, and read back
by `RESULT?`, `XFER?` and `FRAME?`.

The simulated bonder (`sim_instruments/flip_chip_bonder.py`) owns the wire, the stage's
temperature, the die source and the decisions of its faults (when a run ends and why); a run
is its process model: the units it works on, its recipe and timing, and what it bonds (the
source's dies, their fit and placement; or, from a diced panel of packages, the packages it
stacks, 000:x2), transfers (a solder sheet onto the bumps) or frames (a frame with conductor
columns on each unit, 000:x2). The
physics are in `sim_instruments/physics/flip_chip_bonder.py`, (frames, stacks)
`flip_chip_frame.py` and (the transfer) `flip_chip_transfer.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from packline.clock import Clock
from packline.drivers.roles.flip_chip_bonder import (
    BondRecipe,
    BondResult,
    FrameRecipe,
    FrameResult,
    SolderTransfer,
    TransferResult,
)
from packline.drivers.specs.flip_chip_bonder import BOND_REPLY, FRAME_REPLY, TRANSFER_REPLY

from .physics.flip_chip_bonder import (
    FlipChipPhysics,
    Placement,
    bond_dies,
    joint_temperature_c,
    terminal_layout,
)
from .physics.flip_chip_frame import column_layout, mount_frames, stack_devices
from .physics.flip_chip_transfer import transfer_layer
from .twin import TwinStore, Workpiece


@dataclass
class Bond:
    """What a bond run places: the source's dies (or packages to stack), their fit and their
    placement."""

    source_id: str
    source_units: np.ndarray
    match: np.ndarray
    placement: Placement
    before: int  # dies on the substrate (or packages in the stack level) before the run
    level: int | None = None  # the stack level the run's packages go to (None: dies)


@dataclass
class Framing:
    """What a frame run presses: the frame and each frame's placement."""

    frame: FrameRecipe
    placement: Placement


@dataclass
class Run:
    """A run under way: its units, when it started and starts bonding, each die's cycle; what
    it bonds (`bond`), transfers (`transfer`) or frames (`framing`)."""

    substrate_id: str
    units: np.ndarray
    recipe: BondRecipe
    stage_from_c: float
    started_s: float
    bonding_from_s: float
    cycle_s: float
    bond: Bond | None = None
    transfer: SolderTransfer | None = None
    framing: Framing | None = None
    coated: list[np.ndarray] = field(default_factory=list)  # per die done: its sites coated
    done: int = 0

    @property
    def ends_s(self) -> float:
        return self.bonding_from_s + self.units.size * self.cycle_s

    @property
    def operation(self) -> str:
        """What the run does, in the words of its twin events: dies bonded (or packages
        stacked on a level), frames mounted or solder transferred."""
        if self.bond is not None:
            level = self.bond.level
            return "flip-chip bond" if level is None else f"stack level {level + 1}"
        return "frame mount" if self.framing is not None else "solder transfer"

    @property
    def workpieces(self) -> list[str]:
        """The workpieces the run works on: its substrate, and a bond run's source of dies."""
        source = [] if self.bond is None else [self.bond.source_id]
        return [self.substrate_id, *source]

    def bond_dies(
        self, due: int, twin: TwinStore, physics: FlipChipPhysics, tool: str, clock: Clock
    ) -> None:
        """Lay the dies from `done` up to `due` onto the substrate (a bond run), or stack the
        packages so."""
        bond = self.bond
        assert bond is not None
        part = slice(self.done, due)
        substrate = twin.get(self.substrate_id)
        source = twin.get(bond.source_id)
        args = (
            substrate,
            source,
            self.units[part],
            bond.source_units[part],
            bond.match,
            bond.placement.part(part),
            self.recipe,
            physics,
        )
        stacked = bond.level is not None
        bonded = stack_devices(*args, twin.get) if stacked else bond_dies(*args)
        self.done = due
        now = clock.now()
        recipe = self.recipe
        substrate.record(
            tool,
            self.operation,
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

    def mount_frames(
        self, due: int, twin: TwinStore, physics: FlipChipPhysics, tool: str, clock: Clock
    ) -> None:
        """Press the frames from `done` up to `due` on the panel's units (a frame run)."""
        framing = self.framing
        assert framing is not None
        frame = framing.frame
        part = slice(self.done, due)
        panel = twin.get(self.substrate_id)
        units = self.units[part]
        bonded = mount_frames(
            panel,
            units,
            frame,
            framing.placement.part(part),
            physics,
        )
        self.done = due
        recipe = frame.recipe
        panel.record(
            tool,
            self.operation,
            clock.now(),
            units=f"{int(units[0])}-{int(units[-1])}",
            frames_bonded=int(bonded.sum()),
            frame_um=frame.frame_um,
            column_um=frame.column_diameter_um,
            head_c=recipe.head_temperature_c,
            stage_c=recipe.stage_temperature_c,
            force_n=recipe.bond_force_n,
        )

    def transfer_solder(
        self, due: int, twin: TwinStore, physics: FlipChipPhysics, tool: str, clock: Clock
    ) -> None:
        """Press the sheet on the dies from `done` up to `due` of the wafer (a transfer run)."""
        transfer = self.transfer
        assert transfer is not None
        units = self.units[self.done : due]
        wafer = twin.get(self.substrate_id)
        layout = terminal_layout(wafer.geometry)
        recipe = transfer.recipe
        coated = transfer_layer(
            wafer, units, transfer.alloy.value, transfer.film_um, recipe, physics
        )
        self.coated.append(layout.sites[units].ravel()[coated])
        self.done = due
        wafer.record(
            tool,
            self.operation,
            clock.now(),
            alloy=transfer.alloy.value,
            film_um=transfer.film_um,
            units=f"{int(units[0])}-{int(units[-1])}",
            bumps_coated=int(coated.sum()),
            head_c=recipe.head_temperature_c,
            stage_c=recipe.stage_temperature_c,
            joint_c=round(joint_temperature_c(recipe, physics), 1),
        )

    def bond_result(self, twin: TwinStore) -> str:
        """`RESULT?`'s answer for this bond run: its dies (or stacked packages) bonded, their
        terminals seated and joined, the worst offset and rotation, the fill of the holes under
        them and how many of those holes spilled (none under stacked packages: their balls sit
        on column tops)."""
        bond = self.bond
        assert bond is not None
        substrate = twin.get(self.substrate_id)
        placed = slice(bond.before, bond.before + self.done)
        if bond.level is None:
            dies = substrate.dies
            units, bonded, offset_um, rotation_mdeg, joined = (
                dies.unit,
                dies.bonded,
                dies.offset_um,
                dies.rotation_mdeg,
                dies.joined,
            )
            sites = terminal_layout(substrate.geometry).sites[units[placed]].ravel()
            seated = dies.seated[sites]
            low, high = fill_levels(substrate, sites[seated])
            spilled = holes_spilled(substrate, sites)
        else:
            level = substrate.stack.levels[bond.level]
            units, bonded, offset_um, rotation_mdeg, joined = (
                level.unit,
                level.bonded,
                level.offset_um,
                level.rotation_mdeg,
                level.joined,
            )
            sites = column_layout(substrate.geometry).sites[units[placed]].ravel()
            seated = level.seated[sites]
            low = high = 0.0
            spilled = 0
        return BOND_REPLY.render(
            BondResult(
                substrate_id=self.substrate_id,
                source_id=bond.source_id,
                dies_placed=self.done,
                dies_bonded=int(bonded[placed].sum()),
                terminals=sites.size,
                terminals_seated=int(seated.sum()),
                terminals_joined=int(joined[sites].sum()),
                max_offset_um=float(np.hypot(*offset_um[placed].T).max(initial=0.0)),
                max_rotation_mdeg=float(np.abs(rotation_mdeg[placed]).max(initial=0.0)),
                fill_level_min_percent=low,
                fill_level_max_percent=high,
                holes_spilled=spilled,
            )
        )

    def frame_result(self, twin: TwinStore) -> str:
        """`FRAME?`'s answer for this frame run: its frames with every column joined, their
        columns seated and joined, the worst offset, the fill of the holes under them and how
        many of those holes spilled."""
        substrate = twin.get(self.substrate_id)
        frame = substrate.frame
        units = self.units[: self.done]
        sites = column_layout(substrate.geometry).sites[units]
        joined = frame.joined[sites]
        seated = frame.seated[sites].ravel()
        low, high = fill_levels(substrate, sites.ravel()[seated])
        offset = np.hypot(*frame.offset_um[units].T)
        return FRAME_REPLY.render(
            FrameResult(
                substrate_id=self.substrate_id,
                frames=self.done,
                frames_bonded=int(joined.all(axis=1).sum()),
                columns=sites.size,
                columns_seated=int(seated.sum()),
                columns_joined=int(joined.sum()),
                max_offset_um=float(offset.max(initial=0.0)),
                fill_level_min_percent=low,
                fill_level_max_percent=high,
                holes_spilled=holes_spilled(substrate, sites.ravel()),
            )
        )

    def transfer_result(self, twin: TwinStore, physics: FlipChipPhysics) -> str:
        """`XFER?`'s answer for this transfer run: its bumps and those coated, the layer's
        thinnest and mean thickness, and the joint's temperature under the head (its
        bond-line temperature: every die's, pressed by one recipe; 0 before a die)."""
        transfer = self.transfer
        assert transfer is not None
        wafer = twin.get(self.substrate_id)
        sites = terminal_layout(wafer.geometry).sites[self.units[: self.done]].ravel()
        bumps = sites[wafer.bumps.height_um[sites] > 0]
        coated = np.concatenate([np.zeros(0, np.intp), *self.coated])
        layer = wafer.bumps.layer_um[coated]
        return TRANSFER_REPLY.render(
            TransferResult(
                wafer_id=self.substrate_id,
                alloy=transfer.alloy,
                dies=self.done,
                bumps=bumps.size,
                bumps_coated=coated.size,
                layer_min_um=float(layer.min()) if layer.size else 0.0,
                layer_mean_um=float(layer.mean()) if layer.size else 0.0,
                joint_max_c=joint_temperature_c(transfer.recipe, physics) if self.done else 0.0,
            )
        )


def fill_levels(substrate: Workpiece, seated: np.ndarray) -> tuple[float, float]:
    """The lowest and highest filler top over the holes of the `seated` sites, in % of the
    hole's depth (0 without holes)."""
    in_holes = seated[substrate.geometry.hole[seated]]
    depth = substrate.openings.substrate.depth_um[in_holes]
    level = 100.0 * substrate.fill.level_um[in_holes] / np.where(depth > 0, depth, 1.0)
    return (float(level.min()) if level.size else 0.0), float(level.max(initial=0.0))


def holes_spilled(substrate: Workpiece, sites: np.ndarray) -> int:
    """How many holes among `sites` have filler spilled over their top onto the substrate:
    what the bonder's X-ray sees outside a hole, whose level reads at its meniscus at most."""
    in_holes = sites[substrate.geometry.hole[sites]]
    return int(np.count_nonzero(substrate.fill.overflow_nl[in_holes] > 0))
