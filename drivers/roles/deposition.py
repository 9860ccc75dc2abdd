"""The thin-film deposition role: a vacuum chamber that lays a blanket film on every wafer.

Used by the claimed methods for the seed or barrier metal of the wiring (001:8, 001:9: Ti, TiW,
Cu, Ni or Au by sputtering or vacuum evaporation, before patterning and electroplating), the
interconnections over the pads (002:1a-d) and the SiO2 or SiN passivation (002:15, by CVD). A
batch tool: several wafers share one chamber run. The film covers everything the sources see
(the resin top, projecting bump tips, open vias); patterning it is lithography and etching.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum

from ..errors import ToolStateError
from .batch_chamber import BatchChamber, ChamberState, LastResult

__all__ = [
    "CVD_GAS",
    "NEEDED_SETTINGS",
    "STEP_SETTINGS",
    "ChamberState",
    "DepositionRecipe",
    "DepositionResult",
    "DepositionStatus",
    "DepositionStep",
    "DepositionTool",
    "LastResult",
    "Material",
    "Method",
    "ProcessGas",
    "Source",
    "above_base_pressure",
]


class Method(StrEnum):
    """How a step deposits its film."""

    SPUTTER = "sputter"  # DC magnetron, Ar plasma, power-controlled
    EVAPORATE = "evaporate"  # e-beam, high vacuum, rate held by the crystal monitor
    CVD = "cvd"  # plasma-enhanced CVD from silane, RF power-controlled


class Material(StrEnum):
    """What a step deposits: seed and barrier metals, or a passivation dielectric."""

    TI = "Ti"
    TIW = "TiW"
    CU = "Cu"
    NI = "Ni"
    AU = "Au"
    SIO2 = "SiO2"
    SIN = "SiN"

    @property
    def dielectric(self) -> bool:
        return self in (Material.SIO2, Material.SIN)


class ProcessGas(StrEnum):
    """The gas (or gas mixture) a step flows."""

    NONE = "none"
    AR = "Ar"
    SIH4_N2O = "SiH4/N2O"  # gives SiO2
    SIH4_NH3 = "SiH4/NH3"  # gives SiN (with N2 dilution)


#: The settings of a step (`DepositionStep`) each method needs above 0; it takes none of the
#: others of `STEP_SETTINGS` (0).
NEEDED_SETTINGS = {
    Method.SPUTTER: ("power_w", "pressure_mtorr", "flow_sccm"),
    Method.EVAPORATE: ("rate_nm_s",),
    Method.CVD: ("power_w", "pressure_mtorr", "flow_sccm"),
}

#: Every setting a method of `NEEDED_SETTINGS` may need.
STEP_SETTINGS = ("power_w", "rate_nm_s", "pressure_mtorr", "flow_sccm")

#: The gas mixture that deposits each dielectric by CVD.
CVD_GAS = {Material.SIO2: ProcessGas.SIH4_N2O, Material.SIN: ProcessGas.SIH4_NH3}

#: The high vacuum the tool's turbo pump tends to and never passes (its ultimate pressure),
#: uTorr: the line's process data, the floor of the simulated chamber's pump-down; a recipe's
#: base pressure lies above it (the spec's range), or the chamber never reaches it.
ULTIMATE_PRESSURE_UTORR = 0.5


@dataclass(frozen=True)
class DepositionStep:
    """One film of a deposition recipe.

    A step with `thickness_nm` 0 runs for `time_s`; one with a thickness ends when the crystal
    monitor reads it, and `time_s` is then its time limit (the run faults when the limit comes
    first). Sputtering sets `power_w` (DC), `pressure_mtorr` and an Ar flow; evaporation sets
    `rate_nm_s` (held by the crystal monitor) at high vacuum with no gas; CVD sets `power_w`
    (RF), `pressure_mtorr` and the silane mixture of its dielectric (`CVD_GAS`). The values a
    method does not use are 0 (`mismatch` says what does not fit).
    """

    method: Method
    material: Material
    time_s: float
    thickness_nm: float = 0.0
    power_w: float = 0.0
    rate_nm_s: float = 0.0
    pressure_mtorr: float = 0.0
    gas: ProcessGas = ProcessGas.NONE
    flow_sccm: float = 0.0

    def mismatch(self) -> str | None:
        """What of this step does not fit its method, or None: the rule the tool refuses a
        step by (STEP_MISMATCH) and the driver checks before it sends anything."""
        method, material = Method(self.method), Material(self.material)
        if method is Method.EVAPORATE:
            gas = ProcessGas.NONE
        elif method is Method.SPUTTER:
            gas = ProcessGas.AR
        elif material.dielectric:
            gas = CVD_GAS[material]
        else:
            return f"cvd deposits SiO2 or SiN, not {material.value}"
        needed = NEEDED_SETTINGS[method]
        for name in STEP_SETTINGS:
            value: float = getattr(self, name)
            if name not in needed and value != 0:
                return f"{method.value} takes no {name} (0, got {value:g})"
        for name in needed:
            if getattr(self, name) <= 0:
                return f"{method.value} needs {name} above 0"
        if ProcessGas(self.gas) is not gas:
            return f"{method.value} of {material.value} flows {gas.value}, not {self.gas}"
        return None


@dataclass(frozen=True)
class DepositionRecipe:
    """The films of one chamber run, in order (e.g. a Ti adhesion layer, then a Cu seed), and
    the base pressure the chamber must reach before the first step (below it, the film takes
    up the residual gas: a reactive metal oxidises)."""

    steps: tuple[DepositionStep, ...]
    base_pressure_utorr: float = 5.0

    @property
    def time_limit_s(self) -> float:
        """The longest the run may take: every step's time (or time limit)."""
        return sum(step.time_s for step in self.steps)


@dataclass(frozen=True)
class Source:
    """A deposition source of the tool: a sputter target, an evaporator pocket or the CVD
    electrode with its gas chemistry, and the film it gives."""

    position: int
    method: Method
    material: Material


@dataclass(frozen=True)
class DepositionStatus:
    """One snapshot of the chamber and its crystal monitor."""

    chamber: ChamberState
    pressure_mtorr: float
    high_vacuum_utorr: float
    source_power_w: float
    gas_flow_sccm: float
    method: Method | None
    material: Material | None
    step: int
    step_remaining_s: float
    film_thickness_nm: float
    rate_nm_s: float
    crystal_life_pct: float
    door_closed: bool
    recipes_completed: int

    def delivering(self) -> dict[str, tuple[float, str]]:
        """Source power and gas flow, each off in the safe state (`ChamberStatus`)."""
        return {
            "source power": (self.source_power_w, "W"),
            "gas flow": (self.gas_flow_sccm, "sccm"),
        }


def above_base_pressure(high_vacuum_utorr: float, base_pressure_utorr: float) -> str:
    """What a wait for `base_pressure_utorr` that timed out with the high vacuum last read
    `high_vacuum_utorr` says."""
    return (
        f"high vacuum {high_vacuum_utorr:g} uTorr, above the base pressure "
        f"{base_pressure_utorr:g} uTorr,"
    )


@dataclass(frozen=True)
class DepositionResult:
    """What a finished run reports: the wafers, the process time and, per step, the film
    thickness the crystal monitor measured."""

    wafer_ids: tuple[str, ...]
    process_time_s: float
    thickness_nm: tuple[float, ...]


class DepositionTool(BatchChamber):
    """A batch vacuum deposition chamber: sputter targets, an e-beam evaporator, a PECVD
    electrode, a crystal monitor, wafer slots behind a door."""

    role = "deposition"

    @abstractmethod
    async def request_status(self) -> DepositionStatus:
        """A snapshot of pressures, source power, gas, crystal monitor and chamber cycle."""

    async def request_activity(self) -> str | None:
        """The chamber's state when not at rest, and the source's power when it is on (in any
        state)."""
        status = await self.request_status()
        return self.activity(status, "source power on" if status.source_power_w > 0 else None)

    @abstractmethod
    async def request_sources(self) -> list[Source]:
        """The sources installed: which method gives which material at which position."""

    @abstractmethod
    async def request_film_thickness_nm(self) -> float:
        """The crystal monitor's film thickness of the step running (or of the last step)."""

    def step_settings(self, action: str, recipe: DepositionRecipe) -> list[dict[str, float | str]]:
        """Every step of `recipe` checked against its method (`DepositionStep.mismatch`: a
        ValueError naming `<action> step <n>`), as the settings the tool takes, by the map's
        names; the limits are the driver's to check. Nothing is sent."""
        settings: list[dict[str, float | str]] = []
        for index, step in enumerate(recipe.steps):
            try:
                mismatch = step.mismatch()
            except ValueError as error:  # a method, material or gas the tool does not know
                mismatch = str(error)
            if mismatch is not None:
                raise ValueError(f"{self.name}: {action} step {index + 1}: {mismatch}")
            settings.append(
                {
                    "method": Method(step.method).value,
                    "material": Material(step.material).value,
                    "power_w": step.power_w,
                    "rate_nm_s": step.rate_nm_s,
                    "pressure_mtorr": step.pressure_mtorr,
                    "gas": ProcessGas(step.gas).value,
                    "flow_sccm": step.flow_sccm,
                    "time_s": step.time_s,
                    "thickness_nm": step.thickness_nm,
                }
            )
        return settings

    async def require_evacuated(self, action: str, status: DepositionStatus) -> None:
        """Refuse a wait for a recipe's base pressure unless the chamber is evacuated (it pumps
        on to it only then): a faulted one is its alarms, any other a `ToolStateError`."""
        if status.chamber is ChamberState.FAULT:
            await self.refresh_alarms()
            raise self.alarm_error(action)
        if status.chamber is not ChamberState.EVACUATED:
            raise ToolStateError(
                self.name,
                self.address,
                action,
                f"chamber {status.chamber.name.lower()}, not evacuated (pump down first)",
            )

    async def require_sources(self, action: str, recipe: DepositionRecipe) -> None:
        """Refuse a step no installed source can deposit, naming it, before anything is sent."""
        installed = {(source.method, source.material) for source in await self.request_sources()}
        for index, step in enumerate(recipe.steps):
            if (step.method, step.material) not in installed:
                raise ValueError(
                    f"{self.name}: {action} step {index + 1}: no {step.method} source of "
                    f"{step.material} is installed"
                )

    @abstractmethod
    async def deposit(self, recipe: DepositionRecipe) -> DepositionResult:
        """Run a deposition recipe on every wafer in the evacuated chamber, recording traces;
        the recipe is checked (limits, each step against its method, a source for each) before
        anything is sent."""
