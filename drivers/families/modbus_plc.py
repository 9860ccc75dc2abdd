"""Modbus PLC register maps: identity, and commands refused with a reason register.

The PLC maps of packline's Modbus tools (plasma cleaner, laminator) share their identity
(vendor, product code and revision by FC43/MEI 14, the serial number as ASCII in a block of
holding registers, two characters per register, high byte first, NUL-padded) and their
commands: parameters written first, then the command code; a refusal answers exception 3 and
leaves its reason in the map's "why refused" register.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

from ..equipment import Equipment, Identity
from ..errors import CommandRefused, ProtocolError
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


#: The one Modbus exception after which a PLC map's "why refused" register holds the reason.
EXPLAINED_EXCEPTION = "ILLEGAL_DATA_VALUE"

ReasonReader = Callable[[], Awaitable[str]]


async def send_command(
    tool: Equipment,
    action: str,
    command_register: int,
    command: int,
    reason: ReasonReader,
    parameter_register: int = 0,
    parameters: Sequence[int] = (),
) -> None:
    """Write a command's parameters, then its code; a refusal comes back explained.

    `reason` reads the map's "why refused" register(s) and words the reason.
    """
    link = tool.link
    assert isinstance(link, ModbusLink)
    try:
        if parameters:
            await link.write_registers(parameter_register, list(parameters))
        await link.write_register(command_register, int(command))
    except CommandRefused as refused:
        raise await explain_refusal(tool, action, refused, reason) from None


async def explain_refusal(
    tool: Equipment, action: str, refused: CommandRefused, reason: ReasonReader
) -> CommandRefused:
    """The refusal, naming `action`, with the tool's own reason.

    Only exception 3 (illegal data value) leaves a reason in the "why refused" register; after
    any other (e.g. 2, illegal data address) that register still holds an earlier refusal's
    reason, so the refusal is reported as it came.
    """
    if refused.code != EXPLAINED_EXCEPTION:
        detail = refused.detail.removesuffix(f" (tool error {refused.code})")
        return CommandRefused(
            tool.name, tool.address, action, f"{detail} to {refused.action}", refused.code
        )
    return CommandRefused(tool.name, tool.address, action, await reason(), refused.code)


def reason_text(code: int, texts: Mapping[int, str]) -> str:
    """The words for a "why refused" code, or a note that the map does not have it."""
    return texts.get(code, f"reason code {code} (not in the register map)")


async def open_interlocks(tool: Equipment) -> str:
    """The names of the tool's open interlocks, for a refusal that an interlock caused."""
    interlocks = await tool.request_interlocks()
    return ", ".join(name for name, closed in interlocks.items() if not closed)
