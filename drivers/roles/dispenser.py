"""The dispenser role: a jetting dispenser that puts a measured volume where a step needs it.

Used by the claimed methods on the tape-substrate panel (000): the conductive filler dispensed
into the through-holes by volume, deliberately short of full (000:b: the filler and the die's
terminal together fill the hole, so the terminal pressed in later lifts the filler to about
the hole's top without overflowing it), and the sealing resin dispensed around every die
bonded on the panel, up its side faces (000:e). A jetting valve over an X-Y-Z gantry with a
camera does both: it measures each target (a hole's volume, a die's place) and dispenses onto
it. One panel (or wafer) at a time: load it, fill or seal, unload it.

A method calls, in this order for 000: `load(panel)`, `fill_holes(material, volume_nl,
terminal_volume_nl)` (000:b), `unload`; later, once the dies are bonded,
`load(panel)`, `seal_dies(resin, height_um)` (000:e), `unload`. Each verb returns what the
dispenser's camera saw, so a method on real tools checks its claim condition from it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from ..equipment import Equipment

#: The jet's volume repeatability, 1-sigma of a shot (the vendor's figure): each hole gets the
#: asked volume scattered by it.
SHOT_CV = 0.01
#: The farthest a shot strays from the asked volume across a lot, as a share of it: 5 sigma
#: (one shot in 1.7 million; a lot of 25 panels of 2400 holes jets 60 000). A recipe's fill is
#: judged at both ends of it, as a dip is across its bath's band (decision 0047).
SHOT_SPREAD = 5 * SHOT_CV
#: The camera's over/under threshold (est; the tool's figure): a hole whose filler + terminal
#: stands off its volume by more than this share of it is counted over- or underfilled (5 %
#: over, the terminal pressed in would push filler out over the top). A recipe's fill
#: tolerance may be tighter, never looser.
FILL_TOLERANCE = 0.05


class FillMaterial(StrEnum):
    """The conductive fillers the dispenser jets into holes (the names are the protocol's)."""

    AG_PASTE = "AG-PASTE"  # silver-filled conductive paste (000:b's "conductive paste")
    CU_PASTE = "CU-PASTE"  # copper-filled conductive paste
    SNBI = "SNBI"  # Sn42Bi58, a low-melting metal (138 degC) jetted molten (000:b)


#: The solder of each low-melting metal filler, by the oven's name of it (the others are conductive
#: pastes, which gel: `PASTE_GEL_C` of the flip-chip bonder's role).
FILLER_SOLDER: dict[str, str] = {FillMaterial.SNBI: "Sn42Bi58"}


class SealResin(StrEnum):
    """The sealing resins the dispenser lays around dies (the names are the protocol's)."""

    EPOXY = "EPOXY"  # a filled liquid epoxy encapsulant (000:e)
    SILICONE = "SILICONE"  # a low-stress silicone encapsulant


class DispenserState(StrEnum):
    """What the dispenser is doing (the names are the protocol's)."""

    IDLE = "IDLE"
    FILLING = "FILLING"
    SEALING = "SEALING"
    FAULT = "FAULT"


#: The states in which the dispenser runs no job; every other is working (`working`), a fault
#: told by the alarms.
AT_REST = frozenset({DispenserState.IDLE, DispenserState.FAULT})


@dataclass(frozen=True)
class DispenserStatus:
    """One snapshot of the dispenser."""

    state: DispenserState
    wafer_id: str | None  # the panel or wafer on the stage
    remaining_s: float  # of the job under way
    jobs_completed: int


@dataclass(frozen=True)
class FillResult:
    """What the last fill job did, hole by hole as the camera measured it.

    A hole is `overfilled` when filler + terminal volume exceeds the hole's volume by more than
    the tool's tolerance (`FILL_TOLERANCE`; the terminal pressed in would push filler out over
    the top), and `underfilled` when it falls short by more than it (a void would stay under
    the terminal).
    """

    wafer_id: str
    material: FillMaterial
    holes: int  # holes dispensed into
    hole_volume_nl: float  # mean measured volume of a hole
    fill_volume_nl: float  # mean volume dispensed into a hole
    terminal_volume_nl: float  # the room left per hole for its terminal, as asked
    overfilled: int
    underfilled: int
    worst_error: float  # the largest |filler + terminal - hole| / hole over the holes


@dataclass(frozen=True)
class SealResult:
    """What the last seal job did, die by die."""

    wafer_id: str
    resin: SealResin
    dies: int  # dies the resin was laid around
    height_um: float  # the resin's top above the substrate around the dies
    volume_ul: float  # mean volume dispensed per die
    exposed: int  # dies whose side faces the resin does not reach to the top (height < die)


class Dispenser(Equipment):
    """A jetting dispenser: a gantry with a jet valve, a camera, one workpiece on its stage."""

    role = "dispenser"
    activity_field = "state"
    at_rest = AT_REST

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = (await self.request_status()).wafer_id
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        for wafer_id in await self.request_workpieces():
            await self.unload(wafer_id)

    @abstractmethod
    async def request_status(self) -> DispenserStatus:
        """State, the workpiece on the stage, time left of the job, jobs completed."""

    @abstractmethod
    async def request_last_fill(self) -> FillResult | None:
        """What the last fill job did (None before the first)."""

    @abstractmethod
    async def request_last_seal(self) -> SealResult | None:
        """What the last seal job did (None before the first)."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Take panel (or wafer) `wafer_id` onto the stage; it must be empty."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Return panel (or wafer) `wafer_id` to its magazine; it must be the one loaded."""

    @abstractmethod
    async def fill_holes(
        self,
        material: FillMaterial,
        volume_nl: float,
        terminal_volume_nl: float,
        *,
        timeout_s: float | None = None,
    ) -> FillResult:
        """Jet `volume_nl` of `material` into every through-hole of the loaded panel (000:b).

        The holes get the filler (each its own shot's volume, within the valve's repeatability)
        and its level rises by volume over the hole's cross-section; a hole that takes more
        than its volume overflows onto the tape. `terminal_volume_nl` is the room to leave for
        the terminal to be inserted: the camera compares filler + terminal with each hole's
        measured volume and counts the over- and underfilled holes. A panel without drilled
        holes is refused.
        """

    @abstractmethod
    async def seal_dies(
        self, resin: SealResin, height_um: float, *, timeout_s: float | None = None
    ) -> SealResult:
        """Dispense `resin` around every die on the loaded panel up to `height_um` above the
        substrate (000:e): the resin levels over each die's unit outside the die, sealing its
        side faces up to that height, and covers the die's back where the height is above
        it. The resin stays uncured: the cure oven cures it. A panel without dies is refused."""
