"""`packline diff RUN_A RUN_B`: recipe values, timings, measurements and claim margins side by
side."""

from __future__ import annotations

import json

from packline.cli import main

LONGER_O2 = """steps:
  - {gas: O2, flow_sccm: 100 sccm, pressure_mtorr: 200 mTorr, rf_power_w: 300 W, time_s: 90 s}
  - {gas: Ar, flow_sccm: 100 sccm, pressure_mtorr: 100 mTorr, rf_power_w: 500 W, time_s: 2 min}
"""


def test_two_runs_of_different_recipes_side_by_side(tmp_path, capsys):
    db = str(tmp_path / "runs.db")
    recipe = tmp_path / "longer-o2.yaml"
    recipe.write_text(LONGER_O2)
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--quiet", "--db", db]) == 0
    args = ["run", "plasma-clean", "--sim", "--lot", "2", "--quiet", "--db", db]
    assert main([*args, "--recipe", str(recipe)]) == 0
    capsys.readouterr()
    assert main(["runs", "--json", "--db", db]) == 0
    second, first = (run["id"] for run in json.loads(capsys.readouterr().out))
    assert main(["diff", first, second, "--json", "--db", db]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["runs"] == [first, second]
    assert diff["recipe"] == [{"what": "steps.0.time_s", "a": "60 s", "b": "90 s"}]
    timings = {row["what"]: row for row in diff["timings"]}
    assert timings["wafers completed"]["a"] == timings["wafers completed"]["b"] == "2 of 2"
    assert timings["run clock"]["a"] != timings["run clock"]["b"]
    measured = {row["what"]: row for row in diff["measurements"]}
    assert measured["plasma process time"]["a"].startswith("180 s (180-180, 2 wafers)")
    assert measured["plasma process time"]["b"].startswith("210 s")
    claims = {row["what"]: row for row in diff["claims"]}
    residue = claims["003:10 no residue on the exposed metal (<= 0.1 nm)"]
    assert residue["a"].startswith("pass, largest residue")
    assert main(["diff", first, second, "--db", db]) == 0
    out = capsys.readouterr().out
    assert "steps.0.time_s" in out
    assert "recipe values that differ" in out


def test_an_unknown_run_is_bad_input(tmp_path, capsys):
    db = str(tmp_path / "runs.db")
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", db]) == 0
    assert main(["diff", "last", "nope", "--db", db]) == 2
    assert "nope" in capsys.readouterr().err
