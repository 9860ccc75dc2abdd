"""The resin coater role: a one-wafer coater track that coats a resin precursor and soft-bakes it.

Used by the claimed methods wherever a resin layer is coated rather than laminated: the resin
layers covering the interconnections (002:1e), a thermosetting or radiation-sensitive
precursor (002:2, 002:3), a solder resist (002:5), a stress-relieving layer (002:17), and the
coater alternative of the sealing resin (003:7.2). A spin module gives a thickness by the
speed law (speed, and the resin's viscosity); a slot-die module gives it by the slot gap and
the resin's wet-to-dry shrink (its solids). A hot plate soft-bakes the film: the solvent
leaves, the film shrinks. The resin stays uncured: the cure oven cures it.

One wafer at a time: load it, coat, soft-bake, unload it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from ..equipment import Equipment
from .lithography import MATERIALS, CoatMaterial, soft_baked, solvent_after_spin, speed_law_um

if TYPE_CHECKING:
    import numpy as np


class CoatResin(StrEnum):
    """The coater's dispense lines (the names are the protocol's; facts in `RESINS`)."""

    THERMOSET = "THERMOSET"  # thermosetting precursor (002:2), e.g. an epoxy or BCB
    PHOTO = "PHOTO"  # radiation-sensitive precursor (002:3): the litho cell's PI-N
    SOLDER_RESIST = "SOLDER-RESIST"  # 002:5
    STRESS_RELIEF = "STRESS-RELIEF"  # a low-modulus stress-relieving layer (002:17)


@dataclass(frozen=True)
class ResinFacts:
    """A dispense line's resin: its viscosity and solids (the material's data sheet, est)."""

    viscosity_cp: float
    solids_fraction: float  # of the wet film by volume: what a full bake leaves
    doc: str
    #: the cure kinetics it cures by in the oven (`RESIN_CURE`, `drivers/roles/oven.py`)
    chemistry: str


#: The litho cell's material a radiation-sensitive coat is (002:3): it exposes and develops it
#: as that film.
PHOTO_MATERIAL = CoatMaterial.PI_N

#: The coater's resins (est, wide: typical data-sheet values).
RESINS: dict[CoatResin, ResinFacts] = {
    CoatResin.THERMOSET: ResinFacts(1500.0, 0.45, "thermosetting epoxy precursor", "epoxy"),
    CoatResin.PHOTO: ResinFacts(
        MATERIALS[PHOTO_MATERIAL].viscosity_cp,
        0.35,
        "negative photosensitive polyimide precursor (the litho cell exposes it as PI-N)",
        "polyimide",
    ),
    CoatResin.SOLDER_RESIST: ResinFacts(3000.0, 0.60, "liquid solder resist", "epoxy"),
    CoatResin.STRESS_RELIEF: ResinFacts(
        800.0, 0.40, "low-modulus silicone-modified resin", "polyimide"
    ),
}


#: The coater's spin film (est; the line's process data, qualified per resin), with the line's
#: spin law and bake (`drivers/roles/lithography.py`): the share of the resin's solvent a
#: short spin leaves in the film; how far the film levels a feature of height f under it (a
#: film of t on the open field covers it by t² / (t + P · f)); and the bead that stands
#: EDGE_BEAD_FACTOR times the field within EDGE_BEAD_MM of the wafer's rim (no edge-bead
#: removal for thick resins). A recipe's layer is worked out by them before the run (the
#: concave bottoms a dry etch must open, 002:4), and the simulated coater lays it so.
SPUN_SOLVENT_KEPT = 0.5
SPIN_PLANARISATION = 0.6
EDGE_BEAD_MM = 8.0
EDGE_BEAD_FACTOR = 1.3

#: A thickness, one number or one per site.
Thickness = TypeVar("Thickness", float, "np.ndarray")


def cover_um(film_um: Thickness, feature_um: Thickness, planarisation: float) -> Thickness:
    """The film over a feature `feature_um` high, of a film `film_um` thick on the open field
    that levels it by `planarisation`: t² / (t + P · f)."""
    covered: Thickness = film_um * film_um / (film_um + planarisation * feature_um)
    return covered


def spun_layer_um(
    resin: CoatResin,
    spin_rpm: float,
    spin_time_s: float,
    bake_temperature_c: float,
    bake_time_s: float,
    feature_um: float,
    *,
    in_edge_bead: bool,
) -> float:
    """The layer a spin coat of `resin` and its soft bake leave where a feature stands
    `feature_um` above what it is laid on (0: the open field), in the edge bead or not: the
    feature's height and the film over it, shrunk by the solvent the bake drives off."""
    field = speed_law_um(RESINS[resin].viscosity_cp, spin_rpm)
    if in_edge_bead:
        field *= EDGE_BEAD_FACTOR
    shrink, _ = spun_and_baked(resin, spin_time_s, bake_temperature_c, bake_time_s)
    return feature_um + cover_um(field, feature_um, SPIN_PLANARISATION) * shrink


def spun_and_baked(
    resin: CoatResin, spin_time_s: float, bake_temperature_c: float, bake_time_s: float
) -> tuple[float, float]:
    """What a spin coat of `resin` and its soft bake leave of its film: the share of its
    thickness over a feature the film keeps (it shrinks by the solvent the bake drives off)
    and the solvent fraction left in it (what a radiation-sensitive resin's develop erodes
    its field by)."""
    facts = RESINS[resin]
    solvent = solvent_after_spin((1.0 - facts.solids_fraction) * SPUN_SOLVENT_KEPT, spin_time_s)
    return soft_baked(solvent, bake_temperature_c, bake_time_s)


class CoaterState(StrEnum):
    """What the coater is doing (the names are the protocol's)."""

    IDLE = "IDLE"
    COATING = "COATING"
    BAKING = "BAKING"
    FAULT = "FAULT"


#: The states in which the coater runs no step; every other is working (`working`), a fault told
#: by the alarms.
AT_REST = frozenset({CoaterState.IDLE, CoaterState.FAULT})


class CoatStep(StrEnum):
    """A step of the coater's log (the names are the protocol's)."""

    SPIN = "SPIN"
    SLOT = "SLOT"
    BAKE = "BAKE"


@dataclass(frozen=True)
class CoaterStatus:
    """One snapshot of the coater."""

    state: CoaterState
    wafer_id: str | None
    remaining_s: float
    jobs_completed: int


@dataclass(frozen=True)
class CoatResult:
    """The last step's film, from the coater's own thickness gauge."""

    wafer_id: str
    step: CoatStep
    resin: CoatResin
    field_um: float  # the film on the open field (no feature below), mean
    min_cover_um: float  # the thinnest film over a bump or wiring (the field's if none)
    edge_um: float  # the film at the wafer's edge bead, mean
    solvent: float  # solvent fraction left in the film


class ResinCoater(Equipment):
    """A coater track: a robot, a spin module, a slot-die module and a hot plate."""

    role = "resin_coater"
    activity_field = "state"
    at_rest = AT_REST

    async def request_workpieces(self) -> tuple[str, ...]:
        wafer_id = (await self.request_status()).wafer_id
        return () if wafer_id is None else (wafer_id,)

    async def _unload_everything(self) -> None:
        for wafer_id in await self.request_workpieces():
            await self.unload(wafer_id)

    @abstractmethod
    async def request_status(self) -> CoaterStatus:
        """State, loaded wafer, time left of the step, steps completed."""

    @abstractmethod
    async def request_last_coat(self) -> CoatResult | None:
        """The film the last step left (None before the first)."""

    @abstractmethod
    async def load(self, wafer_id: str) -> None:
        """Take wafer `wafer_id` into the coater; it must be empty."""

    @abstractmethod
    async def unload(self, wafer_id: str) -> None:
        """Return wafer `wafer_id` to its carrier; it must be the one loaded."""

    @abstractmethod
    async def coat_resin(
        self,
        resin: CoatResin,
        spin_rpm: float,
        spin_time_s: float,
        *,
        timeout_s: float | None = None,
    ) -> CoatResult:
        """Spin-coat `resin` on the loaded wafer at `spin_rpm` for `spin_time_s`: an uncured
        layer whose thickness follows the speed law, thinner over bumps and wiring."""

    @abstractmethod
    async def coat_resin_slot(
        self, resin: CoatResin, slot_gap_um: float, *, timeout_s: float | None = None
    ) -> CoatResult:
        """Slot-die coat `resin` through a slot of `slot_gap_um`: the wet film is half the
        gap; it shrinks to its solids in the bake."""

    @abstractmethod
    async def soft_bake(
        self, temperature_c: float, time_s: float, *, timeout_s: float | None = None
    ) -> CoatResult:
        """Bake the film on the hot plate: the solvent leaves, the film shrinks, no cure."""
