"""What the Modbus specifications fix, as a link needs it: the names of the exception codes and
of the device identification objects, the most bytes a reply takes and the most registers or
bits a request carries, and the addresses a station file gives a Modbus device.

Addresses: `modbus+tcp://HOST:PORT` (Modbus TCP) and `modbus+rtu:PORT` where PORT is anything
pyserial opens: a device path (`/dev/ttyUSB0`, a pty `/dev/pts/5`) or a URL
(`socket://10.0.3.40:4001` for a serial device server's raw TCP port; not `rfc2217://`,
`ports.refuse_rfc2217`). The unit id
(`device_id`) is a whole number 0-255.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .ports import SERIAL_URL, refuse_rfc2217, tcp_port

#: Modbus exception codes by their names in the Modbus Application Protocol specification.
EXCEPTION_NAMES: dict[int, str] = {
    1: "ILLEGAL_FUNCTION",
    2: "ILLEGAL_DATA_ADDRESS",
    3: "ILLEGAL_DATA_VALUE",
    4: "SERVER_DEVICE_FAILURE",
    5: "ACKNOWLEDGE",
    6: "SERVER_DEVICE_BUSY",
    7: "NEGATIVE_ACKNOWLEDGE",
    8: "MEMORY_PARITY_ERROR",
    10: "GATEWAY_PATH_UNAVAILABLE",
    11: "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND",
}

#: Device identification objects (FC43 / MEI 14) by object id, under the names returned.
IDENTIFICATION_OBJECTS: dict[int, str] = {
    0x00: "vendor_name",
    0x01: "product_code",
    0x02: "revision",
    0x03: "vendor_url",
    0x04: "product_name",
    0x05: "model_name",
    0x06: "user_application_name",
}

#: The most bytes one Modbus reply takes on the wire (Modbus Application Protocol 4.1, and
#: Modbus over serial line 2.5.1): a 253-byte PDU behind a 7-byte MBAP header (TCP), or behind
#: the unit id and followed by the CRC (RTU).
MAX_ADU_BYTES = {"tcp": 260, "rtu": 256}

#: How many registers or bits one request may carry (Modbus Application Protocol, 6.1-6.12).
MAX_READ_REGISTERS = 125
MAX_WRITE_REGISTERS = 123
#: How many registers the write of a read/write request (FC23) carries (6.17).
MAX_READ_WRITE_REGISTERS = 121
MAX_READ_BITS = 2000


def parse_modbus_address(address: str) -> tuple[str, str, int]:
    """Split a Modbus address into (`"tcp"`, host, port) or (`"rtu"`, serial port, 0).

    Raises ValueError naming the address and the accepted forms, or the port out of range.
    """
    if address.startswith("modbus+tcp://"):
        parts = urlsplit(address)
        port = parts.netloc.rpartition(":")[2]
        if parts.hostname and port.isdigit() and not parts.path.strip("/"):
            return "tcp", parts.hostname, tcp_port(address, port)
    elif address.startswith("modbus+rtu:") and len(address) > len("modbus+rtu:"):
        line = address.removeprefix("modbus+rtu:")
        refuse_rfc2217(address, line)
        if (url := SERIAL_URL.match(line)) is not None:
            tcp_port(address, url["port"])
        return "rtu", line, 0
    raise ValueError(
        f"{address!r} is not a Modbus address; expected 'modbus+tcp://HOST:PORT' or "
        "'modbus+rtu:SERIAL_PORT' (a device path such as /dev/ttyUSB0, or a pyserial URL "
        "such as socket://HOST:PORT)"
    )


def check_device_id(where: str, device_id: object) -> None:
    """Refuse, naming `where`, a unit id that is not a whole number 0-255."""
    if isinstance(device_id, bool) or not isinstance(device_id, int) or not 0 <= device_id <= 255:
        raise ValueError(
            f"{where}: device_id must be 0..255 (the Modbus unit id, a whole number), "
            f"got {device_id!r}"
        )
