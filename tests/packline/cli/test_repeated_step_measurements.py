"""A step the method's script runs more than once (sprout-bump-csp's `inspect bump heights`
at each level of its bumps) gives each run of it its own label, `<step> #<n>`, and its
measurements theirs, `<name> at <step> #<n>`, in every reader: the run's report had kept the
last level's bump heights only (104.9 um), its first level's (63.4 um) hidden under the one
label; diff and spc had pooled both levels (spc charted 63.4 and 105.1 um as one process,
mean 84.3 um against the second level's 85 .. 115 um, Cpk -0.01); show's timeline named the
steps by their records' keys counted from 0 (`inspect bump heights#1` for the second level)
and the report's table of measurements by their bare name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packline.cli import main
from packline.sequences.engine.report import measurement_labels, step_labels

LEVELS_2 = Path(__file__).parents[3] / "sequences" / "recipes" / "sprout-bump-csp-levels-2.yaml"
FIRST, SECOND = "inspect bump heights #1", "inspect bump heights #2"


@pytest.fixture(scope="module")
def levels_2(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of a dry run of sprout-bump-csp with two levels of bumps, two wafers."""
    db = str(tmp_path_factory.mktemp("levels-2") / "runs.db")
    run = ["run", "sprout-bump-csp", "--sim", "--lot", "2", "--quiet", "--db", db]
    assert main([*run, "--recipe", str(LEVELS_2)]) == 0
    return db


def test_each_run_of_a_repeated_step_keeps_its_measurement_under_its_own_label(levels_2, capsys):
    capsys.readouterr()
    assert main(["show", "last", "--json", "--db", levels_2]) == 0
    report = json.loads(capsys.readouterr().out)
    wafer, _ = report["wafers"]
    measured = wafer["measurements"]
    first = measured[f"bump height max at {FIRST}"]
    second = measured[f"bump height max at {SECOND}"]
    assert (first["value"], second["value"]) == (63.4, 104.6)
    assert first["step"] == second["step"] == "inspect bump heights"
    assert "bump height max" not in measured
    inspections = [step for step in report["steps"] if step["name"] == "inspect bump heights"]
    assert [step["label"] for step in inspections] == [FIRST, FIRST, SECOND, SECOND]
    assert main(["diff", "last", "last", "--json", "--db", levels_2]) == 0
    rows = {row["what"] for row in json.loads(capsys.readouterr().out)["measurements"]}
    assert {f"bump height max at {FIRST}", f"bump height max at {SECOND}"} <= rows


def test_spc_charts_each_run_of_the_step_apart_never_pooled(levels_2, capsys):
    capsys.readouterr()
    spc = ["spc", "bump height max", "--method", "sprout-bump-csp", "--db", levels_2]
    individuals = ["--chart", "individuals", "--json"]
    assert main(spc) == 2  # bad input: which level?
    assert f"taken at 2 steps of sprout-bump-csp, each its own process: {FIRST}, {SECOND}" in (
        capsys.readouterr().err
    )
    assert main([*spc, "--step", SECOND, *individuals]) == 0
    chart = json.loads(capsys.readouterr().out)
    assert [point["value"] for point in chart["points"]] == [104.6, 104.6]  # W01, W02
    assert chart["measurement"] == f"bump height max at {SECOND}"  # which level it charts
    assert (chart["capability"]["low"], chart["capability"]["high"]) == (85.0, 115.0)
    # the label as show --json and diff list it names one process too
    spc[1] = f"bump height max at {FIRST}"
    assert main([*spc, *individuals]) == 0
    chart = json.loads(capsys.readouterr().out)
    assert [point["value"] for point in chart["points"]] == [63.4, 63.4]
    assert (chart["capability"]["low"], chart["capability"]["high"]) == (54.0, 66.0)


def test_show_and_the_report_name_each_run_of_the_step_alike(levels_2, tmp_path, capsys):
    capsys.readouterr()
    assert main(["show", "last", "--db", levels_2]) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    steps = [line.split("│")[2].strip() for line in lines if "step inspect bump" in line]
    assert steps == [f"step {FIRST}", f"step {SECOND}"] * 2  # W01, W02
    assert any("│ step dice │" in line for line in lines)  # run once: its name alone
    # counted as read, not '1 session(s)', 'on 2 wafer(s)'
    assert ", status completed, 1 session" in lines[0]
    # its status as the run printed it, though the event has a message
    assert any(line.endswith("claim-check passed: 11 conditions on 2 wafers") for line in lines)
    page = tmp_path / "report.html"
    assert main(["report", "last", "--out", str(page), "--db", levels_2]) == 0
    html = page.read_text(encoding="utf-8")
    assert "<th>lot</th><td>2 wafers</td>" in html
    for step, value in ((FIRST, "63.4"), (SECOND, "104.6")):
        row = f'<td>{step}</td><td>bump height max</td><td class="num">{value}</td>'
        assert row in html


def test_a_step_run_once_or_done_again_keeps_its_label():
    """A step run once reads by its name; one done again (its rework) keeps its key, so its
    label, and its measurement its label (its attempts tell them apart)."""
    steps = [
        {"id": 1, "name": "dice", "key": "dice#0"},
        {"id": 2, "name": "bond dies", "key": "bond dies#0"},
        {"id": 3, "name": "bond dies", "key": "bond dies#0"},
        {"id": 4, "name": "inspect", "key": "inspect#0"},
        {"id": 5, "name": "inspect", "key": "inspect#1"},
    ]
    labels = step_labels(steps)
    assert labels == {
        1: "dice",
        2: "bond dies",
        3: "bond dies",
        4: "inspect #1",
        5: "inspect #2",
    }
    taken = [("kerf width", labels[1]), ("dies bonded", labels[2]), ("dies bonded", labels[3])]
    taken += [("height", labels[4]), ("height", labels[5]), ("wafer id", None)]
    assert measurement_labels(taken) == [
        "kerf width",
        "dies bonded",
        "dies bonded",
        "height at inspect #1",
        "height at inspect #2",
        "wafer id",
    ]
