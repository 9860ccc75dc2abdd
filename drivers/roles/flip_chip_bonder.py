"""The flip-chip bonder role: dies picked from a diced wafer, flipped, aligned and bonded.

Used by the claimed methods to mount bumped dies active side down: on a tape panel, their gold
or copper bump terminals inserted into the panel's filled through-holes so that the filler
rises to the holes' tops (000:c), each die bonded to the tape with heat and force (000:d); on
a board, a chip mounted by its bumps (003:24); and, at wafer level, a eutectic solder layer
transferred from a transfer sheet onto a wafer's high-melting bumps (003:21-22). The bonder
takes the dies from a die source (a
wafer diced into its dies, on its frame) in the order of the source's units, flips each one,
aligns it to its unit of the substrate with its vision (a placement offset and a rotation
remain), and bonds it with the head's temperature and force for the bond time over a heated
stage. For a transfer the head presses a sheet carrying a film of eutectic solder on each die
of the wafer on the stage, bumps up, above the solder's liquidus: the film wets the bump tips
it touches and stays on them as a layer.

For a multilayer device (000:x2) the bonder presses a frame with conductor columns from its
frame magazine on each unit of a panel, around its die, the columns' lower ends into the
panel's column holes (`mount_frames`); and it stacks devices: a bond run whose die source is
a diced panel of packages with their external terminals (solder balls) on their bottom places
each package as it is (not flipped) on a unit, its balls on the top ends of the columns below,
and joins them above the balls' liquidus (`bond_dies`: its dies are those packages, its
terminals their balls).

Two workpieces are in the tool at once: the substrate on the bond stage (`load`) and the die
source in the die supply (`load_die_source`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from ..equipment import Equipment
from ..errors import ProtocolError

#: The share of the head's temperature above the stage's that reaches a die's terminals through
#: the die while it is pressed (est; the bonder's thermal path, qualified on the line): a
#: recipe's joint is judged by it before the run, and the simulated bonder heats by it.
HEAD_TO_JOINT = 0.9


#: How long a solder molten under the head takes to wet what it is pressed on (est; the
#: bonder's figure, qualified on the line): a recipe's bond time is judged by it before the
#: run, and the simulated bonder joins only a bond this long. Not the oven's reflow wetting
#: time (`REFLOW_WETTING_TIME_S`, 20 s, `oven.py`): the head presses the solder on what it
#: joins at the joint's temperature, where balls molten in the oven wet their pads unpressed.
WETTING_TIME_S = 2.0


#: A conductive paste filler gels around what is pressed into it (a die's terminal, a frame's
#: column) held at this or warmer for this long under the head (est; the bonder's figures for
#: the dispenser's pastes, qualified on the line): a recipe's bond is judged by them before the
#: run, and the simulated bonder joins only a bond so hot and so long.
PASTE_GEL_C = 150.0
PASTE_GEL_S = 5.0


def joint_temperature_c(head_c: float, stage_c: float, share: float = HEAD_TO_JOINT) -> float:
    """The terminals' temperature while a head at `head_c` presses a die on a stage at
    `stage_c`, `share` of the head's excess reaching them."""
    return stage_c + share * (head_c - stage_c)


def least_head_c(joint_c: float, stage_c: float, *, reaching: bool = False) -> float:
    """The coolest head, in whole degrees, whose joint over a stage at `stage_c` is above
    `joint_c` (a solder's liquidus), or (`reaching`) at it or above (a paste's gel)."""
    head_c = stage_c + (joint_c - stage_c) / HEAD_TO_JOINT
    return float(math.ceil(head_c - 1e-9) if reaching else math.floor(head_c) + 1)


#: A stud terminal's volume / the cylinder of its base diameter and height: its collar and
#: cone fill little more than half of it (est).
TERMINAL_FILL_FACTOR = 0.6


def terminal_volume_nl(
    height_um: npt.ArrayLike, base_diameter_um: npt.ArrayLike, hole_depth_um: npt.ArrayLike
) -> np.ndarray:
    """The volume (nl) of stud terminals of this height and base inside holes this deep (numbers
    or arrays, elementwise): what 000:b's filler must leave of a hole for the terminal 000:c
    inserts, the part of a cylinder its collar and cone fill."""
    return TERMINAL_FILL_FACTOR * column_volume_nl(base_diameter_um, height_um, hole_depth_um)


def column_volume_nl(
    diameter_um: npt.ArrayLike, protrusion_um: npt.ArrayLike, hole_depth_um: npt.ArrayLike
) -> np.ndarray:
    """The volume (nl) of a frame's conductor columns (cylinders of `diameter_um`) whose lower
    ends stand `protrusion_um` below the frame, inside holes this deep: what they take of a
    filled hole (000:x2), as a terminal does (000:b)."""
    inside_um = np.minimum(protrusion_um, hole_depth_um)
    diameter = np.asarray(diameter_um, np.float64)
    return np.asarray(np.pi / 4 * diameter**2 * inside_um * 1e-6)


class FlipChipState(StrEnum):
    """What the bonder is doing (the names are the protocol's)."""

    IDLE = "IDLE"
    HEATING = "HEATING"  # the stage goes to the run's temperature
    BONDING = "BONDING"  # picking, aligning and bonding dies (or frames, or stacked packages)
    TRANSFERRING = "TRANSFERRING"  # pressing the transfer sheet on each die's bumps
    FAULT = "FAULT"


#: The states in which the bonder runs no run; every other is working (`working`), a fault told
#: by the alarms.
AT_REST = frozenset({FlipChipState.IDLE, FlipChipState.FAULT})


@dataclass(frozen=True)
class BondRecipe:
    """How each die is bonded: the head's temperature and force for the bond time, over the
    stage at its temperature (thermocompression; a solder on the terminals or in the holes
    wets above its liquidus)."""

    head_temperature_c: float
    stage_temperature_c: float
    bond_force_n: float
    bond_time_s: float


@dataclass(frozen=True)
class FrameRecipe:
    """A frame with copper conductor columns pressed on each unit around its die (000:x2):
    the frame's thickness (the columns' top ends at its top), the columns' diameter and how far
    their lower ends stand below the frame (into the unit's column holes), and the head's
    temperature, force and time on each frame over the stage."""

    frame_um: float
    column_diameter_um: float
    column_protrusion_um: float
    recipe: BondRecipe


@dataclass(frozen=True)
class FrameResult:
    """The last frame run as the bonder's inspection (X-ray and vision) sees it: the frames
    pressed and bonded, their columns seated in the holes and joined, the largest placement
    offset, the filler's top over the seated columns' holes as a percentage of the hole
    depth, and the column holes whose filler spilled over their top (as `BondResult`'s)."""

    substrate_id: str
    frames: int
    frames_bonded: int
    columns: int
    columns_seated: int
    columns_joined: int
    max_offset_um: float
    fill_level_min_percent: float
    fill_level_max_percent: float
    holes_spilled: int


class TransferAlloy(StrEnum):
    """The solders of the transfer sheets (the names are the protocol's): eutectics, and the
    near-eutectic SAC305."""

    SN63PB37 = "Sn63Pb37"  # eutectic tin-lead, 183 degC
    SAC305 = "SAC305"  # lead-free, melts from 217 to 220 degC
    SN42BI58 = "Sn42Bi58"  # low-melting tin-bismuth, 138 degC


@dataclass(frozen=True)
class SolderTransfer:
    """A transfer of a eutectic layer onto bumps (003:21): the sheet's solder and film
    thickness, and the head's temperature, force and time on each die over the stage."""

    alloy: TransferAlloy
    film_um: float
    recipe: BondRecipe


@dataclass(frozen=True)
class TransferResult:
    """The last transfer as the bonder's inspection sees it: the bumps under the sheet, those
    that took a layer, and the layer on them; and the hottest the joints got under the head,
    which a method judges against the liquidus of the sheet's solder (below it nothing wets)
    and of the bumps' own (above it their cores melt, 003:20)."""

    wafer_id: str
    alloy: TransferAlloy
    dies: int
    bumps: int
    bumps_coated: int
    layer_min_um: float  # over the coated bumps (0 when none)
    layer_mean_um: float
    #: the bonder's bond-line temperature at its hottest over the run's dies, degC: worked
    #: from its head and stage thermocouples over its qualified thermal path (0: no die)
    joint_max_c: float

    @property
    def every_bump_coated(self) -> bool:
        return self.bumps_coated == self.bumps


@dataclass(frozen=True)
class FlipChipStatus:
    """One snapshot of the bonder; `dies_done` / `dies_total` is the progress of a run."""

    state: FlipChipState
    substrate_id: str | None
    source_id: str | None
    dies_left: int  # dies the source still holds
    dies_done: int
    dies_total: int
    stage_temperature_c: float
    remaining_s: float
    runs_completed: int


@dataclass(frozen=True)
class BondResult:
    """The last run as the bonder's post-bond inspection sees it (X-ray and vision).

    Placement is the largest over the run's dies; the fill levels are the filler's top over
    the seated terminals' holes as a percentage of the hole depth (0 when no terminal went
    into a hole: a board's pads). A hole can hold its filler only up to its meniscus, so a
    level reads at most a little over the top however much was pushed in: `holes_spilled`
    counts the run's holes the X-ray sees filler outside of, spilled over their top (0 without
    holes)."""

    substrate_id: str
    source_id: str
    dies_placed: int
    dies_bonded: int
    terminals: int
    terminals_seated: int
    terminals_joined: int
    max_offset_um: float
    max_rotation_mdeg: float
    fill_level_min_percent: float
    fill_level_max_percent: float
    holes_spilled: int

    @property
    def every_die_bonded(self) -> bool:
        return self.dies_bonded == self.dies_placed

    @property
    def every_terminal_seated(self) -> bool:
        return self.terminals_seated == self.terminals


class FlipChipBonder(Equipment):
    """A flip-chip bonder: a die supply, a flip unit, a bond head with vision, a heated stage.

    Units are the substrate's package units (a panel) or chip sites (a board), numbered from
    0 in its map's order; a run bonds one die on each of `unit_count` units from `first_unit`.
    """

    role = "flip_chip_bonder"
    activity_field = "state"
    at_rest = AT_REST

    def record_status(self, status: FlipChipStatus) -> None:
        """Record a status's process readings: progress and stage temperature."""
        self.record_reading("dies_done", status.dies_done, "dies")
        self.record_reading("stage_temperature", status.stage_temperature_c, "degC")

    def accept_bond(self, action: str, result: BondResult | None, substrate_id: str) -> BondResult:
        """The bonder's report of the bond run it just did on `substrate_id`, its inspection
        readings recorded: bonded dies, seated terminals, placement."""
        if result is None or result.substrate_id != substrate_id:
            raise self._report_of_another_run(action, result)
        self.record_reading("dies_bonded", result.dies_bonded, "dies")
        self.record_reading("terminals_seated", result.terminals_seated, "terminals")
        self.record_reading("placement_offset_max", result.max_offset_um, "um")
        return result

    def accept_transfer(
        self, action: str, result: TransferResult | None, wafer_id: str
    ) -> TransferResult:
        """The bonder's report of the solder transfer it just did onto `wafer_id`'s bumps, its
        readings recorded: bumps coated, mean layer, hottest joint."""
        if result is None or result.wafer_id != wafer_id:
            raise self._report_of_another_run(action, result)
        self.record_reading("bumps_coated", result.bumps_coated, "bumps")
        self.record_reading("transfer_layer_mean", result.layer_mean_um, "um")
        self.record_reading("transfer_joint_max", result.joint_max_c, "degC")
        return result

    def accept_frames(
        self, action: str, result: FrameResult | None, substrate_id: str
    ) -> FrameResult:
        """The bonder's report of the frame run it just did on `substrate_id`, its readings
        recorded: columns joined, frame placement."""
        if result is None or result.substrate_id != substrate_id:
            raise self._report_of_another_run(action, result)
        self.record_reading("columns_joined", result.columns_joined, "columns")
        self.record_reading("frame_offset_max", result.max_offset_um, "um")
        return result

    def _report_of_another_run(self, action: str, result: object) -> ProtocolError:
        """No report, or one of another workpiece, after a run the bonder just ended: its
        report does not follow the run it was given."""
        return ProtocolError(self.name, self.address, action, f"bonder reports {result}")

    async def request_workpieces(self) -> tuple[str, ...]:
        status = await self.request_status()
        return tuple(held for held in (status.substrate_id, status.source_id) if held is not None)

    async def _load_blockers(self) -> tuple[str, ...]:
        """A substrate load is stopped by a substrate on the stage (a die source beside it is
        where it belongs)."""
        substrate_id = (await self.request_status()).substrate_id
        return () if substrate_id is None else (substrate_id,)

    async def _source_blockers(self) -> tuple[str, ...]:
        """A die source load is stopped by a die source already held."""
        source_id = (await self.request_status()).source_id
        return () if source_id is None else (source_id,)

    async def _unload_everything(self) -> None:
        status = await self.request_status()
        if status.substrate_id is not None:
            await self.unload(status.substrate_id)
        if status.source_id is not None:
            await self.unload_die_source(status.source_id)

    @abstractmethod
    async def request_status(self) -> FlipChipStatus:
        """State, substrate and die source held, progress of the present or last run."""

    @abstractmethod
    async def request_last_bond(self) -> BondResult | None:
        """The last bond run's inspection (None before the first)."""

    @abstractmethod
    async def request_last_transfer(self) -> TransferResult | None:
        """The last transfer's inspection (None before the first)."""

    @abstractmethod
    async def request_last_frame(self) -> FrameResult | None:
        """The last frame run's inspection (None before the first)."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Put substrate `wafer_id` (a panel, a board) on the bond stage; it must be empty."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Take substrate `wafer_id` off the bond stage; it must be the one loaded."""

    @abstractmethod
    async def load_die_source(self, wafer_id: str) -> int:
        """Put diced wafer `wafer_id` in the die supply; returns how many dies it holds."""

    @abstractmethod
    async def unload_die_source(self, wafer_id: str) -> None:
        """Return die source `wafer_id` (with the dies not picked) to its carrier."""

    @abstractmethod
    async def bond_dies(
        self,
        recipe: BondRecipe,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> BondResult:
        """Bond one die from the source, active side down, on each of `unit_count` units
        (None: to the substrate's last unit) from `first_unit`, and inspect them. From a
        source of packages with their terminals on their bottom, each package is stacked as
        it lies on the column tops of the unit (000:x2).

        Waits until the run is done, recording its progress; an alarm stops it with the dies
        bonded so far kept on the substrate.
        """

    @abstractmethod
    async def mount_frames(
        self,
        frame: FrameRecipe,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> FrameResult:
        """Press a frame with conductor columns on each of `unit_count` units (None: to the
        last) from `first_unit` of the panel on the stage, its columns into the unit's column
        holes, and inspect them (000:x2).

        Waits until the run is done; an alarm stops it with the frames pressed so far kept.
        """

    @abstractmethod
    async def transfer_solder_layer(
        self,
        transfer: SolderTransfer,
        *,
        first_unit: int = 0,
        unit_count: int | None = None,
        timeout_s: float | None = None,
    ) -> TransferResult:
        """Press the transfer sheet on the bumps of each of `unit_count` dies (None: to the last)
        from `first_unit` of the wafer on the stage, bumps up, and inspect them (003:21).

        Waits until the run is done; an alarm stops it with the dies coated so far kept.
        """
