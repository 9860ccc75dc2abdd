"""A wafer reworked at a measured step keeps both measurements, in order, each with its
attempt, in every reader: the run's summary and `show --json` (its wafer's `attempts`), `show`
(its timeline) and the report (its table of measurements). A tape panel's dies land 40 um off (the
bonder's vision drifted): none bonds and the panel is held; reworked, they all bond. Both
summaries had kept only the rework's 100 dies. What the wafer measured once reads as before."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from packline.cli import main

DRIFT = "flip_chip_bonder:vision_drift@bond dies"


@pytest.fixture
def reworked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> str:
    """A tape-substrate panel held at 'bond dies' (none bonded), reworked and completed."""
    monkeypatch.setenv("PACKLINE_DB", str(tmp_path / "runs.db"))
    assert main(["run", "tape-substrate", "--sim", "--lot", "1", "--json", "--fault", DRIFT]) == 1
    run_id = json.loads(capsys.readouterr().out.splitlines()[0])["run_id"]
    assert main(["disposition", run_id, "W01", "rework", "--by", "bo", "--reason", "drift"]) == 0
    assert main(["resume", run_id, "--quiet"]) == 0
    capsys.readouterr()
    return run_id


def test_every_reader_shows_the_first_try_beside_the_rework(reworked: str, tmp_path, capsys):
    assert main(["show", reworked, "--json"]) == 0
    (wafer,) = json.loads(capsys.readouterr().out)["wafers"]
    bonded = wafer["measurements"]["dies bonded"]
    first = {"step": "bond dies", "value": 0.0, "unit": "dies", "resolution": None}
    first |= {"low": 100.0, "low_exclusive": 0, "high": None}
    first |= {"passed": False, "verdict": "fail", "source": "tool"}
    again = first | {"value": 100.0, "passed": True, "verdict": "pass"}
    assert bonded == again | {"attempts": [{"attempt": 1, **first}, {"attempt": 2, **again}]}
    # measured once: as it always read
    assert "attempts" not in wafer["measurements"]["package thickness"]
    # the filler's level the X-ray saw, judged against the hole's top within the fill's
    # tolerance (5 %: 000:b-c), as the claim check judges it on the twin
    fill = wafer["measurements"]["fill level min"]
    assert (fill["low"], fill["high"]) == (95.0, 105.0)
    assert (fill["passed"], fill["verdict"]) == (True, "pass")

    assert main(["show", reworked]) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    measured = [line for line in lines if "measured dies bonded" in line]
    assert [line.split("│")[2].strip() for line in measured] == [
        "measured dies bonded (attempt 1)",
        "measured dies bonded (attempt 2)",
    ]
    assert any("measured package thickness │" in line for line in lines)
    # the failed try's status and its error read apart, as the skipped steps' do; each try
    # says its attempt and session
    assert any(
        "step bond dies (attempt 1, session 1) │ flip_chip_bonder │ failed: dies bonded = 0 "
        "dies, below" in line
        for line in lines
    )
    assert any("step bond dies (attempt 2, session 2) │" in line for line in lines)
    assert any("│ skipped: completed before │" in line for line in lines)

    # both tries over the lot, and saying so: the lot of 1 had read '2 failed' of '1 wafer'
    assert main(["diff", reworked, reworked, "--json"]) == 0
    rows = {row["what"]: row for row in json.loads(capsys.readouterr().out)["measurements"]}
    assert rows["dies bonded"]["a"] == "50 dies (0-100, 2 values of 1 wafer, 1 failed) in [100, -]"
    # measured once, by the grinder's gauge: one value of one wafer, and the steps it read in
    assert ", 1 wafer, read in 0.1 um steps) in [" in rows["package thickness"]["a"]

    # spc charts each try, saying which (both had read 'RUN W01')
    spc = ["spc", "dies bonded", "--method", "tape-substrate", "--chart", "individuals"]
    assert main([*spc, "--json"]) == 0
    points = json.loads(capsys.readouterr().out)["points"]
    assert [(point["label"], point["value"]) for point in points] == [
        (f"{reworked} W01 (attempt 1)", 0.0),
        (f"{reworked} W01 (attempt 2)", 100.0),
    ]

    # the exported measurements say which try each is; once measured: empty
    assert main(["export", reworked, "--to", str(tmp_path / "tables")]) == 0
    capsys.readouterr()
    table = pd.read_csv(tmp_path / "tables" / "measurements.csv")
    bonded = table[table["name"] == "dies bonded"]
    assert bonded[["value", "attempt"]].to_numpy().tolist() == [[0.0, 1.0], [100.0, 2.0]]
    assert table.loc[table["name"] == "package thickness", "attempt"].isna().all()

    page = tmp_path / "report.html"
    assert main(["report", reworked, "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert html.count("bond dies (attempt 1)") == html.count("bond dies (attempt 2)") > 0
    # the verdict column is headed so: it reads pass, fail or recorded
    assert "<th>verdict</th>" in html
    assert "<th>passed</th>" not in html
