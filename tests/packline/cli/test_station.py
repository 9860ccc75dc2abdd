"""`packline station check`: what it says of a line none of whose tools it can reach."""

from __future__ import annotations

import yaml

from packline.cli import main

from ...sequences.processes import Served


def test_a_served_line_that_stopped_is_said_to_be_gone_once(tmp_path, capsys):
    """Against a line whose `sim serve` had stopped, the check printed '0 of 16 tools ready'
    and a connect error a tool, without saying the line was gone, where `sim fault` with the
    same file says it cannot reach it and asks whether `sim serve` still runs. It says so
    once, in those words."""
    station = tmp_path / "line.yaml"
    with Served(station):
        pass
    control = yaml.safe_load(station.read_text())["control"]
    assert main(["station", "check", str(station)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert main(["sim", "fault", "plasma_cleaner", "rf_mismatch", "--station", str(station)]) == 2
    refused = capsys.readouterr().err.partition("rf_mismatch: ")[2].strip()
    assert refused.startswith(f"control socket {control}: cannot reach it (")
    assert refused.endswith("is `packline sim serve` still running?")
    assert out.count("could be reached") == 1
    assert f"no tool of {station} could be reached, nor the line that served them: {refused}" in (
        out
    )


def test_a_real_line_none_of_whose_tools_answers_is_said_to_be_out_of_reach(tmp_path, capsys):
    """A station of real tools (no control socket) is asked whether it is on, once; a check
    that reaches one tool says nothing of the kind."""
    station = tmp_path / "line.yaml"
    dead = "address: 'modbus+tcp://127.0.0.1:1'"
    station.write_text(
        f"name: dead\ntools:\n  plasma_cleaner: {{driver: plasma_cleaner, {dead}}}\n"
        f"  laminator: {{driver: laminator, {dead}}}\n"
    )
    assert main(["station", "check", str(station)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert (
        f"no tool of {station} could be reached: is the line on, and on this host's network? "
        "(each row says why)"
    ) in out
    with Served(tmp_path / "served.yaml"):
        served = yaml.safe_load((tmp_path / "served.yaml").read_text())
        half = yaml.safe_load(station.read_text())
        half["tools"]["plasma_cleaner"] = served["tools"]["plasma_cleaner"]
        station.write_text(yaml.safe_dump(half))
        assert main(["station", "check", str(station)]) == 1
    assert "could be reached" not in capsys.readouterr().out


def test_a_check_for_a_method_refuses_a_recipe_the_station_file_refuses(tmp_path, capsys):
    """A new user's `station check --method` said `4 of 4 tools ready` of a station file whose
    tighter limit, or missing tool, the run then refused: the recipe was validated for the
    bundled simulated line, not the file. It is validated for the file, as a run's is, and
    refused before any tool is contacted (exit 2)."""
    dead = "address: 'modbus+tcp://127.0.0.1:1'"
    tools = {
        "plasma_cleaner": f"{{driver: plasma_cleaner, {dead}, limits: {{rf_power_w: [100, 400]}}}}",
        "laminator": f"{{driver: laminator, {dead}}}",
        "wire_bonder": "{driver: wire_bonder, address: 'socket://127.0.0.1:1'}",
        "dicing_saw": "{driver: dicing_saw, address: 'socket://127.0.0.1:1'}",
    }
    station = tmp_path / "line.yaml"
    check = ["station", "check", str(station), "--method", "bump-seal-clean"]

    def write(names: list[str]) -> None:
        station.write_text(
            "name: tight\ntools:\n" + "".join(f"  {name}: {tools[name]}\n" for name in names)
        )

    write(list(tools))
    assert main(check) == 2
    error = capsys.readouterr().err
    assert "rf_power_w = 500 W: outside the plasma_cleaner limit rf_power_w [100, 400] W" in error
    assert f"of station file {station}" in error
    write(["plasma_cleaner", "laminator", "wire_bonder"])
    assert main(check) == 2
    assert "dicing_saw" in capsys.readouterr().err
