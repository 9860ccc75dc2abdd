"""What every simulated tool with a PLC on Modbus shares: its wire side.

Such a tool (the plasma cleaner, the laminator) is a `SimDevice` whose `action` hook sees every
access: it brings the tool's model to the clock's present time, records and judges a write
(refused with Modbus exception 3 and a reason kept for the map's "why refused" register, see
docs/protocols/conventions.md), and renders the status registers. Each tool gives its register
blocks and the three model steps; identity (FC43), transports and serving are written here.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar, Generic, TypeVar

from pymodbus.constants import ExcCodes
from pymodbus.pdu.device import ModbusDeviceIdentification
from pymodbus.simulator import SimData, SimDevice

from packline.clock import Clock

from ..servers import ModbusToolServer, ModbusTransport
from ..tool import SimulatedTool
from ..twin import TwinStore

Refusal = TypeVar("Refusal")


class ModbusPlcSimulator(SimulatedTool, Generic[Refusal]):
    """Base of simulated tools whose controller is a PLC on Modbus (TCP, or RTU)."""

    #: FC43 identity of the simulated PLC.
    vendor: ClassVar[str] = "packline"
    product_code: ClassVar[str]
    revision: ClassVar[str] = "1.0"

    def __init__(
        self,
        name: str,
        twin: TwinStore,
        clock: Clock | None = None,
        *,
        device_id: int = 1,
        transport: ModbusTransport = "tcp",
    ) -> None:
        super().__init__(name, twin, clock)
        self.device_id = device_id
        self.transport: ModbusTransport = transport

    def device(self) -> SimDevice:
        """The register map as a pymodbus device, its accesses handled by this model."""
        identity = ModbusDeviceIdentification(
            info_name={
                "VendorName": self.vendor,
                "ProductCode": self.product_code,
                "MajorMinorRevision": self.revision,
            }
        )
        return SimDevice(
            id=self.device_id,
            simdata=self.register_blocks(),
            identity=identity,
            action=self._on_access,
        )

    def make_server(self, host: str, port: int) -> ModbusToolServer:
        return ModbusToolServer(self.device(), transport=self.transport, host=host, port=port)

    async def _on_access(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Every Modbus access: advance the model to now, judge a write, render the status."""
        self.advance()
        if set_values is not None:
            values = [int(v) for v in set_values]
            self.received.append(f"FC{function_code} write {address} {values}")
            refusal = self.judge_write(start_address, address, values, registers)
            if refusal is not None:
                self.keep_refusal(refusal)
                self.render(start_address, registers)
                return ExcCodes.ILLEGAL_VALUE
        self.render(start_address, registers)
        return None

    @abstractmethod
    def register_blocks(self) -> list[SimData]:
        """The map's register blocks (status read-only, setpoints and command writable)."""

    @abstractmethod
    def advance(self) -> None:
        """Bring the tool's model to the clock's present time."""

    @abstractmethod
    def judge_write(
        self, start: int, address: int, values: list[int], registers: list[int]
    ) -> Refusal | None:
        """Apply a write (a setpoint, a command) or say why the tool refuses it.

        `registers` is the whole block from address `start`; the write lands in it after this
        returns None.
        """

    @abstractmethod
    def keep_refusal(self, refusal: Refusal) -> None:
        """Keep the reason of a refused write for the map's "why refused" register(s)."""

    @abstractmethod
    def render(self, start: int, registers: list[int]) -> None:
        """Write the present status into the block of registers from address `start`."""
