"""Station files: valid ones open drivers; bad ones are refused naming the file, key and problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from packline.cli import main
from packline.drivers.electroplater import ModbusScpiElectroplater
from packline.drivers.gem import dictionary as dictionary_module
from packline.drivers.gem.oven import GemOven
from packline.drivers.links import ReconnectPolicy
from packline.drivers.oven import ZONE_TRACE_INTERVAL_S, ModbusOven
from packline.drivers.plasma_cleaner import ModbusPlasmaCleaner
from packline.station import StationError, load_station, parse_station

GOOD = """\
name: line-3
tools:
  plasma_cleaner:
    driver: plasma_cleaner
    address: modbus+tcp://10.0.3.17:502
    options: {device_id: 2, timeout_s: 1.5}
    limits: {rf_power_w: [100, 600]}
    poll_interval_s: 0.5
    capacity: 4
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "line.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refusals_of(path: Path) -> list[str]:
    """What loading the station file at `path` refuses, a line each without the file's name
    the lines start with."""
    with pytest.raises(StationError) as error:
        load_station(path)
    return [line.removeprefix(f"station file {path}: ") for line in str(error.value).splitlines()]


def test_a_valid_station_builds_its_drivers_without_contacting_them(tmp_path: Path):
    station = load_station(write(tmp_path, GOOD))
    assert station.tools_for_role("plasma_cleaner") == ["plasma_cleaner"]
    driver = station.open_tool("plasma_cleaner")
    assert isinstance(driver, ModbusPlasmaCleaner)
    assert driver.limits["rf_power_w"].maximum == 600
    assert driver.poll_interval_s == 0.5
    assert driver.link.timeout_s == 1.5
    assert not driver.link.connected
    assert parse_station(station.model_dump()).tools == station.tools
    assert "modbus+tcp://10.0.3.17:502" in station.to_yaml()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "driver: plasma_cleaner",
            "driver: plasma_cleanr",
            "tools.plasma_cleaner.driver: unknown driver 'plasma_cleanr'",
        ),
        ("modbus+tcp://10.0.3.17:502", "10.0.3.17", "tools.plasma_cleaner.address: "),
        (
            "modbus+tcp://10.0.3.17:502",
            "TCPIP0::10.0.3.17::5025::SOCKET",
            "tools.plasma_cleaner: driver plasma_cleaner takes a modbus address, but "
            "TCPIP0::10.0.3.17::5025::SOCKET is a visa address; modbus addresses look like "
            "modbus+tcp://<host>:<port>",
        ),
        (
            "rf_power_w: [100, 600]",
            "rf_pwr_w: [100, 600]",
            "tools.plasma_cleaner: no setpoint 'rf_pwr_w' to limit",
        ),
        (
            "rf_power_w: [100, 600]",
            "rf_power_w: [600, 100]",
            "limit minimum 600 is above maximum 100",
        ),
        (
            "poll_interval_s: 0.5",
            "poll_interval_s: 0",
            "tools.plasma_cleaner.poll_interval_s: must be at least 0.01 s, got 0",
        ),
        (
            "poll_interval_s: 0.5",
            "poll_interval_s: 0.001",
            "tools.plasma_cleaner.poll_interval_s: must be at least 0.01 s, got 0.001",
        ),
        ("capacity: 4", "capacity: 0", "tools.plasma_cleaner.capacity: must be at least 1, got 0"),
        (  # once, not once for text and once for a mapping at `address.str`, `address.dict[...]`
            "address: modbus+tcp://10.0.3.17:502",
            "address: 502",
            "tools.plasma_cleaner.address: must be text or a mapping, a `name: value` a line, "
            "each indented under it, got 502",
        ),
        (
            "capacity: 4",
            "capacity: 4\n    colour: red",
            "tools.plasma_cleaner.colour: not a field of a station tool; its fields: driver, "
            "address, options, dictionary, limits,",
        ),
        ("timeout_s: 1.5", "timeout_seconds: 1.5", "timeout_seconds"),
        (
            "timeout_s: 1.5",
            "timeout_s: fast",
            "tools.plasma_cleaner.options.timeout_s: timeout_s must be a positive number of "
            "seconds, got 'fast'",
        ),
        (
            "timeout_s: 1.5",
            "timeout_s: 1.5, reconnect: {tries: 3}",
            "reconnect takes attempts and delay_s, not tries",
        ),
        (
            "timeout_s: 1.5",
            "timeout_s: 1.5, baudrate: fast",
            "baudrate must be a whole number of baud 50..4000000, got 'fast'",
        ),
        (
            "timeout_s: 1.5",
            "timeout_s: 1.5, stopbits: 7",
            "stopbits must be one of 1, 1.5, 2, got 7",
        ),
        (
            "timeout_s: 1.5",
            "timeout_s: 1.5, reconnect: {attempts: 3, delay_s: 1.0e+9}",
            "ReconnectPolicy.delay_s must be >= 0 and <= 600 s, a number; got 1000000000.0",
        ),
        (
            "timeout_s: 1.5",
            "timeout_s: 1.5, reconnect: {attempts: 2.5, delay_s: 1}",
            "ReconnectPolicy.attempts must be >= 0 and <= 100, a whole number; got 2.5",
        ),
        (
            "poll_interval_s: 0.5",
            "poll_interval_s: 1.0e-12",
            "tools.plasma_cleaner.poll_interval_s: must be at least 0.01 s, got 1e-12",
        ),
        (
            "timeout_s: 1.5",
            "timeout_s: 1.0e+12",
            "timeout_s must be a positive number of seconds, got 1000000000000.0 (at most 600 s)",
        ),
        (
            "device_id: 2",
            "device_id: one",
            "device_id must be 0..255 (the Modbus unit id, a whole number), got 'one'",
        ),
        (
            "device_id: 2",
            "device_id: 2.5",
            "device_id must be 0..255 (the Modbus unit id, a whole number), got 2.5",
        ),
        (
            "rf_power_w: [100, 600]",
            "rf_power_w: [.nan, 600]",
            "tools.plasma_cleaner: limits.rf_power_w must be [minimum, maximum] "
            "in W, minimum not above maximum; got [nan, 600] (limits must be finite)",
        ),
    ],
)
def test_a_bad_station_file_names_the_key_and_the_problem(
    tmp_path: Path, old: str, new: str, message: str
):
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(StationError) as error:
        load_station(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


SERIAL_TOOLS = """\
name: line-3
tools:
  wire_bonder:
    driver: wire_bonder
    address: /dev/ttyUSB0
    options: {OPTION}
  plasma_cleaner:
    driver: plasma_cleaner
    address: modbus+rtu:/dev/ttyUSB0
    options: {OPTION}
"""


@pytest.mark.parametrize(
    ("option", "serial", "modbus_rtu"),
    [
        pytest.param(
            "parity: e",
            "parity must be one of N, E, O, M, S (did you mean 'E'?), got 'e'",
            "parity must be one of N, E, O (did you mean 'E'?), got 'e'",
            id="a parity in the other case",
        ),
        pytest.param(
            "parity: s",
            "parity must be one of N, E, O, M, S (did you mean 'S'?), got 's'",
            "parity must be one of N, E, O, got 's'",  # pymodbus takes no mark nor space
            id="a parity one link takes",
        ),
        pytest.param(
            "parity: even",
            "parity must be one of N, E, O, M, S (the letter of even parity is 'E'), got 'even'",
            "parity must be one of N, E, O (the letter of even parity is 'E'), got 'even'",
            id="a parity by its name",
        ),
        pytest.param(
            "parity: space",
            "parity must be one of N, E, O, M, S (the letter of space parity is 'S'), got 'space'",
            "parity must be one of N, E, O, got 'space'",  # pymodbus takes no space parity
            id="a parity by its name that one link takes",
        ),
        pytest.param(
            "bytesize: 9",
            "bytesize must be one of 5, 6, 7, 8, got 9",
            "bytesize must be one of 5, 6, 7, 8, got 9",
            id="data bits",
        ),
        pytest.param(
            "stopbits: '1'",
            "stopbits must be one of 1, 1.5, 2, got '1'",  # a number is no slip of another
            "stopbits must be one of 1, 1.5, 2, got '1'",
            id="stop bits as text",
        ),
        pytest.param(
            "reconnect: {attempts: 3, delay: 1}",
            "reconnect takes attempts and delay_s, not delay (did you mean 'delay_s'?)",
            "reconnect takes attempts and delay_s, not delay (did you mean 'delay_s'?)",
            id="a misspelt key of the reconnect policy",
        ),
    ],
)
def test_a_link_options_choice_is_refused_with_what_it_may_mean(
    tmp_path: Path, option: str, serial: str, modbus_rtu: str
):
    """A serial line's setting misspelt was told its choices but not, as a recipe's `gas: o2`
    is, the one it may mean; and the reconnect policy's keys were told without it."""
    path = write(tmp_path, SERIAL_TOOLS.replace("OPTION", option))
    with pytest.raises(StationError) as error:
        load_station(path)
    key = option.split(":")[0]
    assert str(error.value).splitlines() == [
        f"station file {path}: tools.wire_bonder.options.{key}: {serial}; `{key}` is on line 6 "
        f"of station file {path}",
        f"station file {path}: tools.plasma_cleaner.options.{key}: {modbus_rtu}; `{key}` is on "
        f"line 10 of station file {path}",
    ]


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ("tools: {}", "tools: must have at least 1 item"),
        ("tools:", "tools: must be a mapping, a `name: value` a line, each indented under it"),
    ],
)
def test_a_station_of_no_tools_is_refused(tmp_path: Path, tools: str, message: str):
    """`station check` of one said `0 of 0 tools ready` and exited 0: every tool ready."""
    path = write(tmp_path, f"name: line-3\n{tools}\n")
    with pytest.raises(StationError) as error:
        load_station(path)
    assert str(error.value).endswith(f"{message}; `tools` is on line 2 of station file {path}")


def test_a_required_field_left_out_is_named_with_an_example_not_in_pydantics_words(
    tmp_path: Path,
):
    """pydantic said `tools.plasma_cleaner.address: Field required`."""
    path = write(tmp_path, "tools:\n  plasma_cleaner:\n    driver: plasma_cleaner\n")
    with pytest.raises(StationError) as error:
        load_station(path)
    assert str(error.value).splitlines() == [  # by the file's lines, one of none last
        f"station file {path}: tools.plasma_cleaner.address: missing (required; e.g. "
        f"`address: modbus+tcp://10.0.3.17:502`); tool plasma_cleaner is on line 2 of station "
        f"file {path}",
        f"station file {path}: name: missing (required; e.g. `name: line-3`)",
    ]


def test_unreadable_and_malformed_files_are_refused(tmp_path: Path):
    with pytest.raises(StationError, match="cannot read it"):
        load_station(tmp_path / "missing.yaml")
    with pytest.raises(StationError, match="not valid YAML"):
        load_station(write(tmp_path, "name: [unclosed"))
    with pytest.raises(StationError, match="a station is a mapping"):
        load_station(write(tmp_path, "- just a list"))
    with pytest.raises(StationError, match=r"tools: missing \(required; e.g. `tools: "):
        load_station(write(tmp_path, "name: empty"))


def test_yaml_is_data_never_code(tmp_path: Path):
    with pytest.raises(StationError, match="not valid YAML"):
        load_station(write(tmp_path, "name: !!python/object/apply:os.system ['true']\ntools: {}"))


def test_open_tool_names_the_known_tools(tmp_path: Path):
    station = load_station(write(tmp_path, GOOD))
    with pytest.raises(StationError, match="no tool 'bonder'; tools: plasma_cleaner"):
        station.open_tool("bonder")


def test_reconnect_policy_is_written_as_a_mapping(tmp_path: Path):
    text = GOOD.replace("timeout_s: 1.5", "timeout_s: 1.5, reconnect: {attempts: 0, delay_s: 1}")
    driver = load_station(write(tmp_path, text)).open_tool("plasma_cleaner")
    assert driver.link.reconnect == ReconnectPolicy(attempts=0, delay_s=1.0)


LASER = """\
name: line-3
tools:
  laser:
    driver: laser
    address: TCPIP0::10.0.3.21::5025::SOCKET
    limits: {clean_fluence_j_cm2: [0.05, 5.0]}
"""


def test_a_station_limit_wider_than_the_drivers_is_refused_when_the_file_is_read(tmp_path: Path):
    # 2.0 J/cm2 would ablate the bump metal: the driver's cleaning range keeps below it, and a
    # station file must not be able to lift that
    path = write(tmp_path, LASER)
    with pytest.raises(StationError) as error:
        load_station(path)
    assert (
        f"station file {path}: tools.laser: limits.clean_fluence_j_cm2 "
        "[0.05, 5] J/cm2 reaches outside the driver's range [0.05, 0.3] J/cm2; a station's "
        "limits may only narrow it"
    ) in str(error.value)


def test_a_station_limit_inside_the_drivers_range_narrows_it(tmp_path: Path):
    text = LASER.replace("[0.05, 5.0]", "[0.1, 0.2]")
    driver = load_station(write(tmp_path, text)).open_tool("laser")
    limit = driver.limits["clean_fluence_j_cm2"]
    assert (limit.minimum, limit.maximum, limit.unit) == (0.1, 0.2, "J/cm2")


def test_a_visa_socket_address_without_a_host_is_refused_when_the_file_is_read(tmp_path: Path):
    text = LASER.replace("TCPIP0::10.0.3.21::5025::SOCKET", "TCPIP0::::SOCKET").replace(
        "    limits: {clean_fluence_j_cm2: [0.05, 5.0]}\n", ""
    )
    with pytest.raises(StationError, match=r"'TCPIP0::::SOCKET' names no host or no port"):
        load_station(write(tmp_path, text))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("{encoding: bogus}", "encoding 'bogus' is not a text encoding"),
        ('{visa_library: "@bogus"}', "visa_library '@bogus' is not an installed PyVISA backend"),
        ("{xonxoff: maybe}", "xonxoff must be true or false"),
    ],
)
def test_text_link_options_are_checked_when_the_file_is_read(
    tmp_path: Path, options: str, message: str
):
    driver, address = (
        ("laser", "TCPIP0::10.0.3.21::5025::SOCKET")
        if "visa" in options or "encoding" in options
        else ("wire_bonder", "socket://10.0.3.22:4001")
    )
    text = (
        f"name: line\ntools:\n  t: {{driver: {driver}, address: '{address}', options: {options}}}\n"
    )
    with pytest.raises(StationError, match=message):
        load_station(write(tmp_path, text))


OVEN = """\
name: line-3
tools:
  oven:
    driver: oven
    address: modbus+rtu:/dev/ttyUSB0
    poll_interval_s: 10
    zone_trace_interval_s: 120
"""


#: The oven of `OVEN` on GEM.
GEM_OVEN_ENTRY = "driver: gem\n    dictionary: oven\n    address: hsms://10.0.3.21:5000"


def test_an_ovens_zone_trace_interval_reaches_its_driver(tmp_path: Path):
    station = load_station(write(tmp_path, OVEN))
    driver = station.open_tool("oven")
    assert isinstance(driver, ModbusOven)
    assert (driver.poll_interval_s, driver.zone_trace_interval_s) == (10, 120)
    assert "zone_trace_interval_s: 120" in station.to_yaml()
    unset = load_station(write(tmp_path, OVEN.replace("    zone_trace_interval_s: 120\n", "")))
    assert unset.open_tool("oven").zone_trace_interval_s == ZONE_TRACE_INTERVAL_S
    assert "zone_trace_interval_s" not in unset.to_yaml()


def test_a_gem_ovens_zone_trace_interval_reaches_its_driver(tmp_path: Path):
    gem = OVEN.replace("driver: oven\n    address: modbus+rtu:/dev/ttyUSB0", GEM_OVEN_ENTRY)
    driver = load_station(write(tmp_path, gem)).open_tool("oven")
    assert isinstance(driver, GemOven)
    assert (driver.poll_interval_s, driver.zone_trace_interval_s) == (10, 120)


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        ("-1", "tools.oven.zone_trace_interval_s: must be at least 0 s, got -1"),
        ("7200", "tools.oven.zone_trace_interval_s: must be at most 3600 s, got 7200"),
        (".nan", "tools.oven.zone_trace_interval_s: must be a finite number, got nan"),
        ("a minute", "tools.oven.zone_trace_interval_s: must be a number, got 'a minute'"),
        ("'60'", "tools.oven.zone_trace_interval_s: must be a number, got '60'"),
    ],
)
def test_a_zone_trace_interval_that_is_no_interval_is_refused(
    tmp_path: Path, interval: str, message: str
):
    path = write(
        tmp_path, OVEN.replace("zone_trace_interval_s: 120", f"zone_trace_interval_s: {interval}")
    )
    with pytest.raises(StationError, match=re.escape(message)):
        load_station(path)


def test_a_zone_trace_interval_is_refused_on_a_tool_without_zones(tmp_path: Path):
    with pytest.raises(StationError) as error:
        load_station(write(tmp_path, GOOD + "    zone_trace_interval_s: 60\n"))
    assert (
        "tools.plasma_cleaner: zone_trace_interval_s: only an oven (driver: oven, or an oven's "
        "GEM dictionary) has zones to log, not driver: plasma_cleaner"
    ) in str(error.value)


PLATER = """\
name: line-3
tools:
  electroplater:
    driver: electroplater
    address:
      cell: modbus+tcp://10.0.3.30:502
      supply: TCPIP0::10.0.3.31::5025::SOCKET
    options: {cell: {device_id: 3}, supply: {timeout_s: 2.5}}
"""


def test_each_narrowed_limit_names_its_own_line(tmp_path: Path):
    """A driver refusing a value at run time names the line of the bound it broke, as the
    recipe's check before it does: the tool's own bound and a further device's, each its own
    (the refusal itself: tests/sim_instruments/test_electroplater.py)."""
    text = PLATER + (
        "    limits:\n"
        "      bath_temperature_c: [25, 30]\n"
        "      supply:\n"
        "        voltage_v: [0, 3]\n"
    )
    path = write(tmp_path, text)
    driver = load_station(path).open_tool("electroplater")
    assert isinstance(driver, ModbusScpiElectroplater)
    assert driver.limits["bath_temperature_c"].source == f"line 10 of station file {path}"
    assert driver.supply.limits["voltage_v"].source == f"line 12 of station file {path}"


def test_a_tool_of_several_devices_gets_a_link_per_named_address(tmp_path: Path):
    station = load_station(write(tmp_path, PLATER))
    driver = station.open_tool("electroplater")
    assert isinstance(driver, ModbusScpiElectroplater)
    assert (driver.address, driver.link.device_id) == ("modbus+tcp://10.0.3.30:502", 3)
    supply = driver.device_links["supply"]
    assert (supply.address, supply.timeout_s, supply.tool) == (
        "TCPIP0::10.0.3.31::5025::SOCKET",
        2.5,
        "electroplater.supply",
    )
    assert driver.supply.link is supply
    assert parse_station(station.model_dump()).tools == station.tools
    assert "supply: TCPIP0::10.0.3.31::5025::SOCKET" in station.to_yaml()


def test_a_further_devices_setpoints_are_narrowed_under_its_name(tmp_path: Path):
    """The plating cell's supply delivers the energy: its compliance voltage and current are
    narrowed under the device's name, the cell's own setpoints at the top of `limits:`; both
    reach the drivers, and a recipe's check sees the supply's as `supply.<setpoint>`."""
    text = PLATER + (
        "    limits: {bath_temperature_c: [25, 30], "
        "supply: {voltage_v: [0, 3], list_current_a: [0, 0.5]}}\n"
    )
    path = write(tmp_path, text)
    driver = load_station(path).open_tool("electroplater")
    assert isinstance(driver, ModbusScpiElectroplater)
    line = f"line 9 of station file {path}"  # the line that narrows them
    assert driver.limits["bath_temperature_c"].described() == f"[25, 30] degC of {line}"
    assert driver.supply.limits["voltage_v"].described() == f"[0, 3] V of {line}"
    limits = driver.setpoint_limits()
    assert limits["supply.list_current_a"].described() == f"[0, 0.5] A of {line}"
    assert limits["supply.over_voltage_v"].described() == "[1, 25] V"  # the driver's own


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        (
            "{supply: {voltage_v: [0, 30]}}",
            "tools.electroplater: limits.supply.voltage_v [0, 30] V reaches outside the "
            "driver's range [0, 20] V; a station's limits may only narrow it",
        ),
        (
            "{supply: {list_curent_a: [0, 1]}}",
            "tools.electroplater: no setpoint 'list_curent_a' to limit in limits.supply (did "
            "you mean 'list_current_a'?); known setpoints: current_a, list_count, ",
        ),
        (
            "{suply: {voltage_v: [0, 3]}}",
            "tools.electroplater: limits.suply: a mapping limits the setpoints of a further "
            "device of the tool, under the device's name (its further devices: supply (did you "
            "mean 'supply'?)); a setpoint of the tool's own is limited by [minimum, maximum]",
        ),
        (
            "{supply: {voltage_v: [0, x]}}",
            "tools.electroplater.limits.supply.voltage_v: must be [minimum, maximum] in the "
            "setpoint's unit, got [0, 'x']",
        ),
    ],
)
def test_a_further_devices_limit_is_refused_naming_the_device_and_setpoint(
    tmp_path: Path, limits: str, message: str
):
    path = write(tmp_path, PLATER + f"    limits: {limits}\n")
    with pytest.raises(StationError) as error:
        load_station(path)
    (problem,) = str(error.value).splitlines()
    assert problem.startswith(f"station file {path}: {message}")


def test_a_device_mapping_on_a_tool_of_one_device_is_refused(tmp_path: Path):
    path = write(tmp_path, LASER.replace("{clean_fluence_j_cm2: [0.05, 5.0]}", "{supply: {}}"))
    with pytest.raises(StationError) as error:
        load_station(path)
    assert str(error.value) == (
        f"station file {path}: tools.laser: limits.supply: a mapping limits the setpoints of a "
        "further device of the tool, under the device's name (it has no further device); a "
        f"setpoint of the tool's own is limited by [minimum, maximum]; the limit is on line 6 of "
        f"station file {path}"
    )


@pytest.mark.parametrize(
    ("limits", "told"),
    [
        ("{clean_fluence_j_cm2: [0.05, 5.0]}", "reaches outside the driver's range"),
        ("{clean_fluense_j_cm2: [0.05, 0.2]}", "no setpoint 'clean_fluense_j_cm2' to limit"),
        ("{clean_fluence_j_cm2: 0.2}", "must be [minimum, maximum]"),
        ("{clean_fluence_j_cm2: [0.2, 0.1]}", "limit minimum 0.2 is above maximum 0.1"),
        ("{supply: {voltage_v: [0, 3]}}", "a mapping limits the setpoints of a further device"),
    ],
)
def test_each_limit_refusal_names_the_line_the_limit_is_on(
    tmp_path: Path, capsys, limits: str, told: str
):
    """A refusal of a `limits:` entry, read from the file (one that widens the driver's limit,
    names no setpoint of it, is not a pair, is upside down, or maps a device the tool does not
    have), named the station file but no line, where a tool's address and capacity did; in a
    file of many tools a user searched for it. Each names its line, in `station check` and a
    run (the limit below a first one given right, on line 8)."""
    text = LASER.replace(
        "    limits: {clean_fluence_j_cm2: [0.05, 5.0]}\n",
        f"    limits:\n      drill_fluence_j_cm2: [1, 2]\n      {limits[1:-1]}\n",
    )
    path = write(tmp_path, text)
    with pytest.raises(StationError) as error:
        load_station(path)
    (problem,) = str(error.value).splitlines()
    assert told in problem
    assert problem.endswith(f"; the limit is on line 8 of station file {path}")
    for command in (
        ["station", "check", str(path)],
        ["run", "plasma-clean", "--station", str(path)],
    ):
        assert main(command) == 2
        assert f"; the limit is on line 8 of station file {path}" in capsys.readouterr().err


def test_every_limit_refusal_of_a_tool_is_told_at_once(tmp_path: Path):
    """A limit that is no pair hid the tool's other limits from its driver: the widened one
    below it was told only once the first was fixed. Both are told, each at its line."""
    path = write(
        tmp_path,
        LASER.replace(
            "{clean_fluence_j_cm2: [0.05, 5.0]}",
            "\n      clean_fluence_j_cm2: 0.2\n      drill_fluence_j_cm2: [0.5, 2]",
        ),
    )
    told = refusals_of(path)
    assert told == [
        "tools.laser.limits.clean_fluence_j_cm2: must be [minimum, maximum] in the setpoint's "
        f"unit, got 0.2; the limit is on line 7 of station file {path}",
        "tools.laser: limits.drill_fluence_j_cm2 [0.5, 2] J/cm2 reaches outside the driver's "
        "range [1, 10] J/cm2; a station's limits may only narrow it; the limit is on line 8 of "
        f"station file {path}",
    ]


def test_a_station_file_names_the_line_of_each_tools_address_and_of_each_device(
    tmp_path: Path,
):
    """A tool that cannot be reached is named with the line its address is on (a tool of
    several devices: the line of the device its link names); a station read from no file,
    such as a run's recorded one, has no lines to name."""
    path = write(tmp_path, GOOD + PLATER.removeprefix("name: line-3\ntools:\n"))
    station = load_station(path)
    assert station.address_at("plasma_cleaner") == f"line 5 of station file {path}"
    assert station.address_at("electroplater") == f"line 12 of station file {path}"
    assert station.address_at("electroplater.cell") == f"line 13 of station file {path}"
    assert station.address_at("electroplater.supply") == f"line 14 of station file {path}"
    capacity = station.where("tools", "plasma_cleaner", "capacity")
    assert capacity == f"line 9 of station file {path}"
    assert station.where("tools", "electroplater", "capacity") is None  # not in the file
    recorded = parse_station(yaml.safe_load(station.to_yaml()), "run R station")
    assert recorded.address_at("plasma_cleaner") is None


GEM = """\
name: line-3
tools:
  bonder:
    driver: gem
    dictionary: wire_bonder
    address: hsms://10.0.3.30:5000
    options: {timeout_s: 3.0, session_id: 1}
    limits: {bond_force_gf: [20, 50]}
"""


def test_a_gem_tool_plays_its_dictionarys_role(tmp_path: Path):
    from packline.drivers.gem.wire_bonder import GemWireBonder

    station = load_station(write(tmp_path, GEM))
    assert station.tools_for_role("wire_bonder") == ["bonder"]
    driver = station.open_tool("bonder")
    assert isinstance(driver, GemWireBonder)
    assert driver.dictionary.name == "wire_bonder"
    assert driver.limits["bond_force_gf"].maximum == 50
    assert driver.link.hsms.timers.t3_s == 3.0
    assert driver.link.hsms.session_id == 1
    assert "dictionary: wire_bonder" in station.to_yaml()
    assert "dictionary" not in load_station(write(tmp_path, GOOD)).to_yaml()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "      supply: TCPIP0::10.0.3.31::5025::SOCKET\n",
            "",
            "tools.electroplater: driver electroplater drives a tool of several devices: the "
            "address names each of cell, supply (got cell)",
        ),
        (
            "supply: TCPIP0::10.0.3.31::5025::SOCKET",
            "supply: modbus+tcp://10.0.3.31:502",
            "tools.electroplater: driver electroplater's supply takes a visa or serial address, "
            "but modbus+tcp://10.0.3.31:502 is a modbus address",
        ),
        ("supply: TCPIP0::10.0.3.31::5025::SOCKET", "supply: 10.0.3.31", "address"),
        (
            "options: {cell: {device_id: 3}, supply: {timeout_s: 2.5}}",
            "options: {device_id: 3}",
            "options are given per device (cell, supply), each a mapping of link options",
        ),
        (
            "options: {cell: {device_id: 3}, supply: {timeout_s: 2.5}}",
            "options: {supply: {device_id: 3}}",
            "tools.electroplater.options.supply.device_id: not an option of electroplater.supply's "
            "visa link; it takes baudrate, connect_timeout_s,",
        ),
    ],
)
def test_a_bad_tool_of_several_devices_is_refused_naming_the_device(
    tmp_path: Path, old: str, new: str, message: str
):
    with pytest.raises(StationError, match="station file") as refused:
        load_station(write(tmp_path, PLATER.replace(old, new)))
    assert message in str(refused.value)


def test_one_address_for_a_tool_of_several_devices_and_the_reverse_are_refused(tmp_path: Path):
    one = PLATER.replace(
        "address:\n      cell: modbus+tcp://10.0.3.30:502\n"
        "      supply: TCPIP0::10.0.3.31::5025::SOCKET\n",
        "address: modbus+tcp://10.0.3.30:502\n",
    )
    with pytest.raises(StationError, match=r"names each of cell, supply \(got one address\)"):
        load_station(write(tmp_path, one))
    several = GOOD.replace(
        "address: modbus+tcp://10.0.3.17:502", "address: {cell: modbus+tcp://10.0.3.17:502}"
    )
    with pytest.raises(StationError, match="drives one device: its address is one string"):
        load_station(write(tmp_path, several))


def test_another_vendors_tool_is_a_dictionary_file_beside_the_station_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    shipped = Path(dictionary_module.__file__).parent.parent / "specs" / "gem" / "wire_bonder.yaml"
    vendor = shipped.read_text(encoding="utf-8").replace("model: WB-1", "model: ACME-9")
    (tmp_path / "acme_bonder.yaml").write_text(vendor, encoding="utf-8")
    path = write(tmp_path, GEM.replace("dictionary: wire_bonder", "dictionary: acme_bonder.yaml"))
    monkeypatch.chdir("/")  # found beside the station file, wherever the command runs
    station = load_station(path)
    assert station.tools_for_role("wire_bonder") == ["bonder"]
    assert station.tools["bonder"].dictionary == str(tmp_path / "acme_bonder.yaml")
    driver = station.open_tool("bonder")
    assert driver.dictionary.name == "acme_bonder"
    assert driver.dictionary.identity.model == "ACME-9"
    assert parse_station(station.model_dump()).tools == station.tools  # as the records keep it


def test_a_bad_dictionary_file_is_refused_naming_the_file_and_key(tmp_path: Path):
    (tmp_path / "acme_bonder.yaml").write_text("kind: wire_bonder\nid_format: U9\n")
    path = write(tmp_path, GEM.replace("dictionary: wire_bonder", "dictionary: acme_bonder.yaml"))
    with pytest.raises(StationError) as error:
        load_station(path)
    assert f"GEM dictionary {tmp_path / 'acme_bonder.yaml'}" in str(error.value)
    assert "id_format" in str(error.value)
    missing = write(tmp_path, GEM.replace("dictionary: wire_bonder", "dictionary: gone.yml"))
    with pytest.raises(StationError, match=r"gone\.yml: cannot read it"):
        load_station(missing)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    dictionary: wire_bonder\n", "", "tools.bonder: dictionary: a driver: gem tool needs"),
        ("dictionary: wire_bonder", "dictionary: lathe", "unknown GEM dictionary 'lathe'"),
        ("driver: gem", "driver: wire_bonder", "dictionary: only a driver: gem tool has one"),
        ("hsms://10.0.3.30:5000", "hsms://10.0.3.30", "is not an HSMS address"),
        ("session_id: 1", "session_id: 70000", "session_id must be 0..65534"),
        (
            "timeout_s: 3.0",
            "t9_s: 3.0",
            "tools.bonder.options.t9_s: not an option of bonder's hsms link (did you mean 't5_s' "
            "or 't6_s' or 't7_s'?); it takes connect_timeout_s,",
        ),
    ],
)
def test_a_bad_gem_tool_is_refused_naming_the_key(tmp_path: Path, old: str, new: str, message):
    path = write(tmp_path, GEM.replace(old, new))
    with pytest.raises(StationError) as error:
        load_station(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_every_problem_of_a_station_file_is_told_at_once_each_at_its_place(tmp_path: Path):
    """A new user's file told one problem per attempt (the option `device_idd` first, its
    `timeout_s: -2` only once that was fixed), in pydantic's words or a link's class name;
    as a recipe's, every problem is a line of its own, at its tool and key, with what a
    misspelt name may mean; in the order of the file's lines, as a recipe's."""
    text = (
        GOOD.replace("driver: plasma_cleaner", "driver: plasma_claener")
        .replace("capacity: 4", "capacty: 4")
        .replace("{device_id: 2, timeout_s: 1.5}", "{device_idd: 2, timeout_s: -2}")
        .replace("[100, 600]", "[600, 100], rf_pwr_w: [1, 2]")
        + "  laser:\n    driver: laser\n    address: TCPIP0::10.0.3.21::99999::SOCKET\n"
        + "  oven:\n    driver: oven\n    address: modbus+rtu:/dev/ttyUSB0\n"
        + "    options: {device_idd: 2, timeout_s: -2, baudrate: 9600}\n"
        + "    limits: {zone_1_c: []}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(StationError) as error:
        load_station(path)
    modbus = "baudrate, bytesize, connect_timeout_s, device_id, parity, read_retries, reconnect, "
    fields = "driver, address, options, dictionary, limits, poll_interval_s, zone_trace_interval_s"
    drivers = (
        "ball_mounter, deposition, dicing_saw, dispenser, electroplater, flip_chip_bonder, gem, "
        "grinder, laminator, laser, lithography, oven, plasma_cleaner, resin_coater, "
        "stencil_printer, wet_bench, wire_bonder"
    )
    assert str(error.value).splitlines() == [
        f"station file {path}: {line} is on line {number} of station file {path}"
        for line, number in (
            (
                "tools.plasma_cleaner.driver: unknown driver 'plasma_claener' (did you mean "
                f"'plasma_cleaner'?); known drivers: {drivers}; `driver`",
                4,
            ),
            (
                "tools.plasma_cleaner.capacty: not a field of a station tool (did you mean "
                f"'capacity'?); its fields: {fields}, capacity, serial_number; `capacty`",
                9,
            ),
            (
                "tools.laser.address: 'TCPIP0::10.0.3.21::99999::SOCKET': port 99999 is out of "
                "range (1-65535); `address`",
                12,
            ),
            (
                "tools.oven.options.device_idd: not an option of oven's modbus link (did you mean "
                f"'device_id'?); it takes {modbus}stopbits, timeout_s; `device_idd`",
                16,
            ),
            (
                "tools.oven.options.timeout_s: timeout_s must be a positive number of seconds, "
                "got -2 (at most 600 s); `timeout_s`",
                16,
            ),
            (
                "tools.oven.limits.zone_1_c: must be [minimum, maximum] in the setpoint's unit, "
                "got []; the limit",
                17,
            ),
        )
    ]
    fixed = text.replace("plasma_claener", "plasma_cleaner").replace("capacty", "capacity")
    with pytest.raises(StationError) as error:  # its driver right: its own problems, each
        load_station(write(tmp_path, fixed))
    told = [line.removeprefix(f"station file {path}: ") for line in str(error.value).splitlines()]
    assert told[:4] == [  # lines 6 and 7, before the laser's and the oven's
        "tools.plasma_cleaner.options.device_idd: not an option of plasma_cleaner's modbus link "
        f"(did you mean 'device_id'?); it takes {modbus}stopbits, timeout_s; `device_idd` is on "
        f"line 6 of station file {path}",
        "tools.plasma_cleaner.options.timeout_s: timeout_s must be a positive number of seconds, "
        f"got -2 (at most 600 s); `timeout_s` is on line 6 of station file {path}",
        "tools.plasma_cleaner: limits.rf_power_w must be [minimum, maximum] in W, minimum not "
        "above maximum; got [600, 100] (limit minimum 600 is above maximum 100); the "
        f"limit is on line 7 of station file {path}",
        "tools.plasma_cleaner: no setpoint 'rf_pwr_w' to limit (did you mean 'rf_power_w'?); "
        "known setpoints: flow_sccm, pressure_mtorr, rf_power_w, steps, time_s; the limit is on "
        f"line 7 of station file {path}",
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("name: line-3", "name: ''", "name: must not be empty, got ''"),
        ("capacity: 4", "capacity: 4\n    serial_number: ''", "serial_number: must not be empty"),
        ("[100, 600]", "[100]", "limits.rf_power_w: must be [minimum, maximum] in the setpoint's"),
        ("[100, 600]", "[1, 2, 3]", "limits.rf_power_w: must be [minimum, maximum] in the"),
    ],
)
def test_a_value_of_the_wrong_length_is_refused_in_plain_words(
    tmp_path: Path, old: str, new: str, message: str
):
    """pydantic said "String should have at least 1 character" and, of a limit given one
    bound, "limits.rf_power_w.1: Field required"."""
    with pytest.raises(StationError) as error:
        load_station(write(tmp_path, GOOD.replace(old, new)))
    assert message in str(error.value)
    assert "should have" not in str(error.value)
    assert "Field required" not in str(error.value)


#: A newcomer's GEM dicing saw: its port out of range, its capacity 0, its spindle limit
#: wider than the driver's (the dicing saw's spindle runs 20-60 krpm).
GEM_SAW = """\
name: line-3
tools:
  dicing_saw:
    driver: gem
    dictionary: dicing_saw
    address: hsms://127.0.0.1:99999
    capacity: 0
    limits:
      spindle_krpm: [5, 60]
"""


def test_an_address_and_a_capacity_refused_name_their_lines_and_the_tool_s_limit_is_told_too(
    tmp_path: Path,
):
    """The port and the capacity were told without their lines, a limit's refusal with its
    own; and the limit was told only once the port was fixed (the entry was dropped with its
    address)."""
    path = write(tmp_path, GEM_SAW)
    told = refusals_of(path)
    assert told == [
        "tools.dicing_saw.address: 'hsms://127.0.0.1:99999': port 99999 is out of range "
        f"(1-65535); `address` is on line 6 of station file {path}",
        f"tools.dicing_saw.capacity: must be at least 1, got 0; `capacity` is on line 7 of "
        f"station file {path}",
        "tools.dicing_saw: limits.spindle_krpm [5, 60] krpm reaches outside the driver's range "
        "[20, 60] krpm; a station's limits may only narrow it; the limit is on line 9 of "
        f"station file {path}",
    ]


def test_the_limits_of_a_tool_of_several_devices_are_told_with_its_address_refused(
    tmp_path: Path,
):
    """A device's address refused: the tool's limits, a further device's among them, are
    checked at a stand-in address of each device's link; its link options, whose link the
    address chooses, are not."""
    text = """\
name: line-3
tools:
  electroplater:
    driver: electroplater
    address: {cell: modbus+tcp://10.0.3.30:70000, supply: TCPIP0::10.0.3.31::5025::SOCKET}
    options: {cell: {device_idd: 3}}
    limits: {supply: {voltage_v: [0, 90]}}
"""
    path = write(tmp_path, text)
    told = refusals_of(path)
    assert told == [
        "tools.electroplater.address: 'modbus+tcp://10.0.3.30:70000': port 70000 is out of "
        f"range (1-65535); `address` is on line 5 of station file {path}",
        "tools.electroplater: limits.supply.voltage_v [0, 90] V reaches outside the driver's "
        "range [0, 20] V; a station's limits may only narrow it; the limit is on line 7 of "
        f"station file {path}",
    ]


def test_a_misspelt_dictionary_is_told_with_the_one_it_may_mean(tmp_path: Path):
    path = write(tmp_path, GEM_SAW.replace("dictionary: dicing_saw", "dictionary: dicing_sew"))
    told = refusals_of(path)  # the first: the file gives it first
    assert told[0].startswith(
        "tools.dicing_saw.dictionary: unknown GEM dictionary 'dicing_sew' (did you mean "
        "'dicing_saw'?); known dictionaries: "
    )
    assert told[0].endswith(f"; `dictionary` is on line 5 of station file {path}")


def test_the_limits_of_a_tool_are_told_with_an_address_of_a_link_its_driver_does_not_speak(
    tmp_path: Path,
):
    """The Modbus plasma cleaner given a VISA address: its RF power limit, wider than the
    driver's, was told only once the address was fixed, though the page says a tool's limits
    are checked whatever is wrong with its address (only an address of no link's form had them
    checked)."""
    visa = GOOD.replace("modbus+tcp://10.0.3.17:502", "TCPIP0::10.0.3.17::5025::SOCKET")
    path = write(tmp_path, visa.replace("[100, 600]", "[0, 100000]"))
    told = refusals_of(path)
    assert len(told) == 2, told
    assert told[0].startswith(
        "tools.plasma_cleaner: driver plasma_cleaner takes a modbus address, but "
        "TCPIP0::10.0.3.17::5025::SOCKET is a visa address; "
    )
    assert told[0].endswith(f"; `address` is on line 5 of station file {path}")
    assert told[1].startswith("tools.plasma_cleaner: limits.rf_power_w [0, 100000] W reaches ")
    assert told[1].endswith(f"; the limit is on line 7 of station file {path}")


def test_a_key_of_the_tool_indented_into_its_limits_is_named_as_the_tools(tmp_path):
    """A newcomer's `capacity: 4` indented one level too deep, into `limits:`, was refused as
    a setpoint's bounds: the refusal says it is a key of the tool, to indent as `limits` is."""
    text = GOOD.removesuffix("    capacity: 4\n").replace(
        "    limits: {rf_power_w: [100, 600]}\n",
        "    limits:\n      rf_power_w: [100, 600]\n      capacity: 4\n",
    )
    path = write(tmp_path, text)
    assert refusals_of(path) == [
        "tools.plasma_cleaner.limits.capacity: must be [minimum, maximum] in the setpoint's unit "
        "(`capacity` is a key of the tool, not a setpoint: indent it as `limits` is), got 4; the "
        f"limit is on line 9 of station file {path}"
    ]


def test_a_station_name_yaml_read_as_a_tab_and_a_newline_is_refused(tmp_path):
    """A newcomer's `name: "C:\\temp\\new"`: YAML reads `\\t` and `\\n` in double quotes as
    a tab and a newline, and the line's name printed over two lines with every run. Refused,
    naming what YAML read."""
    path = write(tmp_path, GOOD.replace("name: line-3", r'name: "C:\temp\new"'))
    (refused,) = refusals_of(path)
    assert refused.startswith("name: 'C:\\temp\\new' must be printable text: a tab or newline")
