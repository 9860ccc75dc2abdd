"""Every tool kind packline knows: the one place a new tool is registered.

A station file names a tool's kind in its `driver:` key; the kind says which driver class
talks to it and which simulated tool stands in for it on the bundled simulated line. Both are
named by import path and loaded on first use, so importing the registry stays cheap.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from packline.sim_instruments.gem.model import GemModel
    from packline.sim_instruments.tool import SimulatedTool

    from .equipment import Equipment
    from .gem.equipment import GemEquipment
    from .specs import ToolSpec


@dataclass(frozen=True)
class ToolKind:
    """One kind of tool: its role, its spec, its driver and its simulated stand-in."""

    name: str
    role: str
    driver: str
    simulator: str
    description: str
    #: The GEM host driver of this kind's role (`drivers/gem/`), for a tool of this kind that
    #: speaks SECS/GEM: a station's `driver: gem` with a dictionary of this kind.
    gem_driver: str | None = None
    #: The simulated GEM face of this kind's simulated tool (`sim_instruments/gem/`), served
    #: with the kind's GEM dictionary (`drivers/specs/gem/<kind>.yaml`) by `sim serve --gem`.
    gem_simulator: str | None = None

    @property
    def spec(self) -> str:
        """Where the kind's spec is: `drivers/specs/<kind>.py`, as `SPEC`."""
        return f"packline.drivers.specs.{self.name}:SPEC"

    def load_spec(self) -> ToolSpec[Any]:
        return cast("ToolSpec[Any]", _load(self.spec))

    def load_device_specs(self) -> dict[str, ToolSpec[Any]]:
        """The specs of a tool's further devices (a plating cell's supply), by device name:
        the spec module's `DEVICES`; empty for a tool of one device."""
        return dict(getattr(import_module(self.spec.partition(":")[0]), "DEVICES", {}))

    def load_driver(self) -> type[Equipment]:
        return cast("type[Equipment]", _load(self.driver))

    def load_simulator(self) -> type[SimulatedTool]:
        return cast("type[SimulatedTool]", _load(self.simulator))

    def load_gem_driver(self) -> type[GemEquipment]:
        """The GEM driver of this kind; KeyError naming the kinds that have one."""
        if self.gem_driver is None:
            having = [kind.name for kind in TOOL_KINDS.values() if kind.gem_driver]
            raise KeyError(f"no GEM driver for a {self.name}; kinds with one: {', '.join(having)}")
        return cast("type[GemEquipment]", _load(self.gem_driver))

    def load_gem_simulator(self) -> type[GemModel]:
        """The simulated GEM face of this kind (it has one: `gem_simulator` is set)."""
        assert self.gem_simulator is not None, f"{self.name} has no simulated GEM tool"
        return cast("type[GemModel]", _load(self.gem_simulator))


def _load(path: str) -> object:
    """The attribute an import path `module:attribute` names, its module imported."""
    module_name, _, attribute = path.partition(":")
    return getattr(import_module(module_name), attribute)


TOOL_KINDS: dict[str, ToolKind] = {
    kind.name: kind
    for kind in [
        ToolKind(
            name="plasma_cleaner",
            role="plasma_cleaner",
            driver="packline.drivers.plasma_cleaner:ModbusPlasmaCleaner",
            simulator="packline.sim_instruments.plasma_cleaner:SimPlasmaCleaner",
            description="batch plasma chamber PLC on Modbus TCP/RTU",
            gem_driver="packline.drivers.gem.plasma_cleaner:GemPlasmaCleaner",
            gem_simulator="packline.sim_instruments.gem.plasma_cleaner:GemPlasmaCleanerModel",
        ),
        ToolKind(
            name="wire_bonder",
            role="wire_bonder",
            driver="packline.drivers.wire_bonder:AsciiWireBonder",
            simulator="packline.sim_instruments.wire_bonder:SimWireBonder",
            description="stud-bumping wire bonder, ASCII host link on RS-232 (pty or socket://)",
            gem_driver="packline.drivers.gem.wire_bonder:GemWireBonder",
            gem_simulator="packline.sim_instruments.gem.wire_bonder:GemWireBonderModel",
        ),
        ToolKind(
            name="laminator",
            role="laminator",
            driver="packline.drivers.laminator:ModbusLaminator",
            simulator="packline.sim_instruments.laminator:SimLaminator",
            description="vacuum laminator PLC for adhesive resin sheets on Modbus TCP/RTU",
            gem_driver="packline.drivers.gem.laminator:GemLaminator",
            gem_simulator="packline.sim_instruments.gem.laminator:GemLaminatorModel",
        ),
        ToolKind(
            name="ball_mounter",
            role="ball_mounter",
            driver="packline.drivers.ball_mounter:ModbusBallMounter",
            simulator="packline.sim_instruments.ball_mounter:SimBallMounter",
            description="ball-mount cell PLC (flux, solder balls, inspection) on Modbus TCP/RTU",
        ),
        ToolKind(
            name="dicing_saw",
            role="dicing_saw",
            driver="packline.drivers.dicing_saw:AsciiDicingSaw",
            simulator="packline.sim_instruments.dicing_saw:SimDicingSaw",
            description="dicing saw on an ASCII serial host link (socket:// serial server or pty)",
            gem_driver="packline.drivers.gem.dicing_saw:GemDicingSaw",
            gem_simulator="packline.sim_instruments.gem.dicing_saw:GemDicingSawModel",
        ),
        ToolKind(
            name="grinder",
            role="grinder",
            driver="packline.drivers.grinder:ScpiGrinder",
            simulator="packline.sim_instruments.grinder:SimGrinder",
            description="in-feed grinder (coarse/fine wheel, polish, gauge) on a SCPI socket",
            gem_driver="packline.drivers.gem.grinder:GemGrinder",
            gem_simulator="packline.sim_instruments.gem.grinder:GemGrinderModel",
        ),
        ToolKind(
            name="laser",
            role="laser",
            driver="packline.drivers.laser:ScpiLaser",
            simulator="packline.sim_instruments.laser:SimLaser",
            description="pulsed UV laser (355 nm) for via drilling and bump cleaning, SCPI/TCP",
        ),
        ToolKind(
            name="lithography",
            role="lithography",
            driver="packline.drivers.lithography:AsciiLithography",
            simulator="packline.sim_instruments.lithography:SimLithography",
            description="litho cell: coat/bake/develop track and inline stepper, ASCII host on TCP",
        ),
        ToolKind(
            name="electroplater",
            role="electroplater",
            driver="packline.drivers.electroplater:ModbusScpiElectroplater",
            simulator="packline.sim_instruments.electroplater:SimElectroplater",
            description="plating cell: bath controller on Modbus TCP/RTU (`cell`) and a DC "
            "supply on SCPI (`supply`)",
        ),
        ToolKind(
            name="oven",
            role="oven",
            driver="packline.drivers.oven:ModbusOven",
            simulator="packline.sim_instruments.oven:SimOven",
            description="batch cure and reflow oven under N2: a PLC and Eurotherm-map zone "
            "controllers on one Modbus RTU line",
            gem_driver="packline.drivers.gem.oven:GemOven",
            gem_simulator="packline.sim_instruments.gem.oven:GemOvenModel",
        ),
        ToolKind(
            name="deposition",
            role="deposition",
            driver="packline.drivers.deposition:ModbusDepositionTool",
            simulator="packline.sim_instruments.deposition:SimDepositionTool",
            description="batch thin-film deposition chamber (sputter, e-beam evaporation, "
            "PECVD) PLC on Modbus TCP/RTU",
            gem_driver="packline.drivers.gem.deposition:GemDeposition",
            gem_simulator="packline.sim_instruments.gem.deposition:GemDepositionModel",
        ),
        ToolKind(
            name="wet_bench",
            role="wet_bench",
            driver="packline.drivers.wet_bench:AsciiWetBench",
            simulator="packline.sim_instruments.wet_bench:SimWetBench",
            description="wet bench: resist strip, metal etch, electroless Cu; ASCII host on TCP",
        ),
        ToolKind(
            name="resin_coater",
            role="resin_coater",
            driver="packline.drivers.resin_coater:AsciiResinCoater",
            simulator="packline.sim_instruments.resin_coater:SimResinCoater",
            description="resin coater track: spin or slot-die coat, soft bake; ASCII host on TCP",
        ),
        ToolKind(
            name="dispenser",
            role="dispenser",
            driver="packline.drivers.dispenser:AsciiDispenser",
            simulator="packline.sim_instruments.dispenser:SimDispenser",
            description="jetting dispenser: filler into holes by volume, sealing resin around "
            "dies; ASCII host on TCP",
        ),
        ToolKind(
            name="flip_chip_bonder",
            role="flip_chip_bonder",
            driver="packline.drivers.flip_chip_bonder:AsciiFlipChipBonder",
            simulator="packline.sim_instruments.flip_chip_bonder:SimFlipChipBonder",
            description="flip-chip bonder: dies from a diced wafer, flipped, aligned, bonded with "
            "heat and force; ASCII host on TCP",
            gem_driver="packline.drivers.gem.flip_chip_bonder:GemFlipChipBonder",
            gem_simulator="packline.sim_instruments.gem.flip_chip_bonder:GemFlipChipBonderModel",
        ),
        ToolKind(
            name="stencil_printer",
            role="stencil_printer",
            driver="packline.drivers.stencil_printer:ModbusStencilPrinter",
            simulator="packline.sim_instruments.stencil_printer:SimStencilPrinter",
            description="stencil printer PLC: solder paste through a stencil onto bumps, SPI; "
            "Modbus TCP/RTU",
        ),
    ]
}


#: The GEM host driver's name in a station file (`driver: gem`): one driver for any GEM tool,
#: told by its dictionary (`dictionary: <name>`, drivers/specs/gem/) which kind it is.
GEM_DRIVER = "gem"


def kind_of_identity(vendor: str, model: str) -> str | None:
    """The registered kind whose spec declares this vendor and model, if any."""
    for kind in TOOL_KINDS.values():
        if kind.load_spec().identity.matches(vendor, model):
            return kind.name
    return None


def kinds_of(roles: Collection[str]) -> list[ToolKind]:
    """The registered kinds that play one of `roles`, in registry order."""
    return [kind for kind in TOOL_KINDS.values() if kind.role in roles]


def kinds_driven_by(driver: type[Equipment]) -> set[str]:
    """The registered kinds whose driver is `driver`."""
    return {kind.name for kind in TOOL_KINDS.values() if kind.load_driver() is driver}


def gem_face_kinds() -> list[str]:
    """The kinds whose simulated tool has a GEM face too (`sim serve --gem`, `run --sim
    --gem`), as a reader names them ("wire bonder")."""
    return [kind.name.replace("_", " ") for kind in TOOL_KINDS.values() if kind.gem_simulator]


def tool_kind(name: str) -> ToolKind:
    """The registered kind `name`, or a KeyError that lists the known kinds."""
    try:
        return TOOL_KINDS[name]
    except KeyError:
        raise KeyError(
            f"unknown tool driver {name!r}; known drivers: {', '.join(sorted(TOOL_KINDS))}"
        ) from None
