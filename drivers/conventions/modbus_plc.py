"""Modbus PLC register maps: identity by FC43 plus a serial-number block of registers.

The PLC maps of packline's Modbus tools (plasma cleaner, laminator) share their identity:
vendor, product code and revision by FC43/MEI 14, and the serial number as ASCII in a block of
holding registers (two characters per register, high byte first, NUL-padded).
"""

from __future__ import annotations

from ..equipment import Equipment, Identity
from ..errors import ProtocolError
from ..links import ModbusLink
from ..links.registers import registers_to_ascii

SERIAL_REGISTERS = 8


async def request_plc_identity(tool: Equipment, serial_register: int) -> Identity:
    """The identity of a PLC tool: FC43 objects and the serial number at `serial_register`."""
    link = tool.link
    assert isinstance(link, ModbusLink)
    info = await link.read_device_identification()
    serial = await link.read_holding_registers(serial_register, SERIAL_REGISTERS)
    try:
        serial_number = registers_to_ascii(serial)
    except ValueError as error:
        raise ProtocolError(
            tool.name, tool.address, "read identity", f"serial number: {error}"
        ) from None
    return Identity(
        vendor=info.get("vendor_name", ""),
        model=info.get("product_code", ""),
        serial_number=serial_number,
        firmware=info.get("revision", ""),
    )
