"""From address strings to links: every accepted form, and clear errors for the rest."""

from __future__ import annotations

import pytest

from packline.clock import VirtualClock
from packline.drivers.links import (
    LINK_KINDS,
    ModbusLink,
    SerialLink,
    VisaLink,
    link_kind,
    open_link,
    parse_modbus_address,
)


@pytest.mark.parametrize(
    ("address", "kind", "link_class"),
    [
        ("TCPIP0::10.0.3.17::5025::SOCKET", "visa", VisaLink),
        ("TCPIP::bonder.line::INSTR", "visa", VisaLink),
        ("ASRL/dev/pts/5::INSTR", "visa", VisaLink),
        ("ASRL3::INSTR", "visa", VisaLink),
        ("GPIB0::12::INSTR", "visa", VisaLink),
        ("USB0::0x1234::0x5678::SN1::INSTR", "visa", VisaLink),
        ("/dev/ttyUSB0", "serial", SerialLink),
        ("/dev/pts/7", "serial", SerialLink),
        ("socket://127.0.0.1:4001", "serial", SerialLink),
        ("modbus+tcp://127.0.0.1:502", "modbus", ModbusLink),
        ("modbus+rtu:/dev/pts/5", "modbus", ModbusLink),
        ("modbus+rtu:socket://127.0.0.1:5021", "modbus", ModbusLink),
    ],
)
def test_each_form_selects_its_link(address, kind, link_class):
    assert link_kind(address) == kind
    assert LINK_KINDS[kind].link_class is link_class
    link = open_link(address, tool="bonder")
    assert type(link) is link_class
    assert (link.address, link.tool, link.connected) == (address, "bonder", False)


@pytest.mark.parametrize(
    "address",
    ["", "10.0.3.17:5025", "http://10.0.3.17", "tcp://10.0.3.17:502", "/dev/", "COM3"],
)
def test_unknown_forms_are_refused_naming_the_accepted_ones(address):
    with pytest.raises(ValueError, match="is not a tool address; accepted forms are") as error:
        link_kind(address)
    assert repr(address) in str(error.value)
    for kind in ("visa:", "serial:", "modbus:", "modbus+rtu:", "::SOCKET", "socket://"):
        assert kind in str(error.value)


@pytest.mark.parametrize(
    "address", ["modbus+tcp://host", "modbus+tcp://:502", "modbus+rtu:", "modbus+udp://h:1"]
)
def test_malformed_modbus_addresses(address):
    with pytest.raises(ValueError, match="is not a Modbus address; expected 'modbus\\+tcp://"):
        open_link(address, tool="mixer")


@pytest.mark.parametrize(
    ("address", "port"),
    [
        ("modbus+tcp://10.0.3.17:99999", 99999),
        ("modbus+tcp://10.0.3.17:0", 0),
        ("modbus+rtu:socket://10.0.3.40:99999", 99999),
        ("TCPIP0::10.0.3.21::99999::SOCKET", 99999),
        ("socket://10.0.3.22:99999", 99999),
        ("hsms://10.0.3.30:99999", 99999),
    ],
)
def test_a_port_out_of_range_is_refused_as_such_in_every_form(address, port):
    """A new user's port 99999 read "is not a Modbus address; expected
    'modbus+tcp://HOST:PORT'", which it looked like; the other forms took it."""
    with pytest.raises(ValueError, match="out of range") as refused:
        link_kind(address)
    assert str(refused.value) == f"{address!r}: port {port} is out of range (1-65535)"


def test_parse_modbus_address():
    assert parse_modbus_address("modbus+tcp://10.0.3.40:1502") == ("tcp", "10.0.3.40", 1502)
    assert parse_modbus_address("modbus+rtu:/dev/ttyUSB1") == ("rtu", "/dev/ttyUSB1", 0)


def test_options_reach_the_link():
    clock = VirtualClock()
    link = open_link(
        "modbus+rtu:/dev/ttyUSB0", tool="mixer", clock=clock, device_id=3, baudrate=9600
    )
    assert isinstance(link, ModbusLink)
    assert (link.device_id, link.serial_options["baudrate"], link.clock) == (3, 9600, clock)
    visa = open_link("TCPIP0::h::5025::SOCKET", tool="m", timeout_s=1.0, read_termination="\r")
    assert isinstance(visa, VisaLink)
    assert (visa.timeout_s, visa.read_termination, visa.visa_timeout_ms) == (1.0, "\r", 950)


def test_unknown_options_are_named():
    with pytest.raises(TypeError) as refused:
        open_link("/dev/ttyUSB0", tool="oven", speed=9600, device_id=1)
    takes = ", ".join(sorted(LINK_KINDS["serial"].options))
    assert str(refused.value) == (
        f"oven at /dev/ttyUSB0: device_id: not an option of oven's serial link; it takes {takes}; "
        f"speed: not an option of oven's serial link; it takes {takes}"
    )
    with pytest.raises(TypeError, match="read_termination: not an option of mixer's modbus link"):
        open_link("modbus+tcp://h:502", tool="mixer", read_termination="\n")
    with pytest.raises(TypeError, match="not an option of mixer's modbus link \\(did you mean "):
        open_link("modbus+tcp://h:502", tool="mixer", device_idd=2)


def test_link_kinds_describe_forms_and_options():
    assert set(LINK_KINDS) == {"visa", "serial", "modbus", "hsms"}
    assert "device_id" in LINK_KINDS["modbus"].options
    assert "baudrate" in LINK_KINDS["serial"].options
    assert {"timeout_s", "reconnect"} <= LINK_KINDS["visa"].options
    for kind in LINK_KINDS.values():
        for example in kind.examples:
            assert link_kind(example) == kind.name


@pytest.mark.parametrize("address", ["rfc2217://portserver:2217", "modbus+rtu:rfc2217://ps:2217"])
def test_an_rfc2217_url_is_refused_with_the_raw_tcp_port_to_give_instead(address):
    """pyserial's RFC 2217 client cannot be driven by the asyncio serial transport (it refuses
    the write timeout of 0 every port gets): such a link had failed its every connect with a
    bare NotImplementedError. The station file is refused instead, saying what works."""
    with pytest.raises(ValueError, match="RFC 2217") as refused:
        link_kind(address)
    assert str(refused.value) == (
        f"{address!r}: RFC 2217 (rfc2217://) is not supported; set the device server's port "
        "to raw TCP with the tool's line settings (baud rate, parity, stop bits) and give it "
        "as socket://HOST:PORT"
    )
