"""A step the method's script runs more than once (sprout-bump-csp's `inspect bump heights`
at each level of its bumps) gives each run of it its own label, `<name> at <step> #<n>`: the
run's report had kept the last level's bump heights only (104.9 um), its first level's
(63.4 um) hidden under the one label, and diff had pooled both levels in one row."""

from __future__ import annotations

import json
from pathlib import Path

from packline.cli import main
from packline.sequences.engine.report import measurement_labels

LEVELS_2 = Path(__file__).parents[3] / "sequences" / "recipes" / "sprout-bump-csp-levels-2.yaml"


def test_each_run_of_a_repeated_step_keeps_its_measurement_under_its_own_label(tmp_path, capsys):
    db = str(tmp_path / "runs.db")
    run = ["run", "sprout-bump-csp", "--sim", "--lot", "1", "--quiet", "--db", db]
    assert main([*run, "--recipe", str(LEVELS_2)]) == 0
    capsys.readouterr()
    assert main(["show", "last", "--json", "--db", db]) == 0
    (wafer,) = json.loads(capsys.readouterr().out)["wafers"]
    measured = wafer["measurements"]
    first = measured["bump height max at inspect bump heights #1"]
    second = measured["bump height max at inspect bump heights #2"]
    assert (first["value"], second["value"]) == (63.4, 104.9)
    assert first["step"] == second["step"] == "inspect bump heights"
    assert "bump height max" not in measured
    assert main(["diff", "last", "last", "--json", "--db", db]) == 0
    rows = {row["what"] for row in json.loads(capsys.readouterr().out)["measurements"]}
    assert {
        "bump height max at inspect bump heights #1",
        "bump height max at inspect bump heights #2",
    } <= rows


def test_a_step_run_once_or_done_again_keeps_its_label():
    """A step run once reads as it always did; one done again (its rework) keeps its key,
    and its measurement its label (its attempts tell them apart)."""
    assert measurement_labels(
        [
            ("kerf width", "dice", "dice#0"),
            ("dies bonded", "bond dies", "bond dies#0"),
            ("dies bonded", "bond dies", "bond dies#0"),
            ("wafer id", None, None),
        ]
    ) == ["kerf width", "dies bonded", "dies bonded", "wafer id"]
