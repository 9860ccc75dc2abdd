"""SPC across runs: control limits and capability on known data sets, against the textbook's
constants typed by hand and against NumPy."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from packline.cli import main
from packline.cli.trends import print_spc
from packline.records.spc import D2_D3, control_chart, measurement_values
from packline.records.spcpage import render_spc
from packline.sequences.engine import BadInput, RunStore

#: Five runs (lots) of four wafers: a measurement in um, limits 9 .. 11.
LOTS = [
    [10.1, 9.8, 10.0, 10.3],
    [9.9, 10.2, 10.4, 10.1],
    [10.0, 9.7, 9.9, 10.2],
    [10.6, 10.2, 10.3, 10.5],
    [9.6, 10.0, 9.8, 9.9],
]
#: One value per wafer, the last far off.
SINGLES = [5.0, 5.2, 4.9, 5.1, 5.3, 5.0, 4.8, 5.1, 6.5]


def values_of(
    lots: list[list[float]],
    low: float | None = 9.0,
    high: float | None = 11.0,
    low_exclusive: int | None = None,
):
    """`lots` as `measurement_values` returns them: run R1.., wafers W1.. in lot order."""
    return pd.DataFrame(
        [
            {
                "run_id": f"R{r + 1}",
                "recipe_hash": "0",
                "wafer_id": f"W{w + 1}",
                "attempt": None,
                "value": value,
                "unit": "um",
                "resolution": None,
                "low": low,
                "high": high,
                "low_exclusive": low_exclusive,
            }
            for r, lot in enumerate(lots)
            for w, value in enumerate(lot)
        ]
    )


def test_xbar_r_limits_and_cpk_are_the_textbooks():
    """Subgroups of 4: A2 = 0.729, D3 = 0, D4 = 2.282, d2 = 2.059 (the printed table)."""
    chart = control_chart(values_of(LOTS), measurement="m", method="x", chart="xbar-r")
    data = np.array(LOTS)
    grand, r_bar = data.mean(axis=1).mean(), np.ptp(data, axis=1).mean()
    assert (grand, r_bar) == pytest.approx((10.075, 0.46))
    points = chart.points
    assert points["value"].tolist() == pytest.approx(data.mean(axis=1).tolist())
    assert points["spread"].tolist() == pytest.approx(np.ptp(data, axis=1).tolist())
    assert points["cl"].tolist() == pytest.approx([grand] * 5)
    assert points["ucl"].tolist() == pytest.approx([grand + 0.729 * r_bar] * 5, rel=1e-4)
    assert points["lcl"].tolist() == pytest.approx([grand - 0.729 * r_bar] * 5, rel=1e-4)
    assert points["spread_cl"].tolist() == pytest.approx([r_bar] * 5)
    assert points["spread_ucl"].tolist() == pytest.approx([2.282 * r_bar] * 5, rel=1e-3)
    assert points["spread_lcl"].tolist() == [0.0] * 5
    assert not points["out_of_control"].any()
    sigma = r_bar / 2.059
    capability = chart.capability
    assert capability.sigma_within == pytest.approx(sigma)
    assert capability.cpk == pytest.approx(min(11 - grand, grand - 9) / (3 * sigma))
    assert capability.cpk == pytest.approx(1.380, abs=1e-3)  # by hand: 0.925 / (3 * 0.2234)
    assert capability.cp == pytest.approx(2 / (6 * sigma))
    overall = np.std(data, ddof=1)
    assert capability.sigma_overall == pytest.approx(overall)
    assert capability.ppk == pytest.approx((11 - grand) / (3 * overall))


def test_a_constant_measurements_limits_are_its_centre_and_never_minus_zero(capsys):
    chart = control_chart(
        values_of([[0.0, 0.0], [0.0, 0.0]]), measurement="m", method="x", chart="xbar-r"
    )
    points = chart.points
    assert points["spread_lcl"].map(lambda v: math.copysign(1.0, v)).tolist() == [1.0, 1.0]
    assert (points["lcl"].tolist(), points["ucl"].tolist()) == ([0.0, 0.0], [0.0, 0.0])
    print_spc(Console(width=120), chart, None)
    out = capsys.readouterr().out
    assert "R: centre 0, limits 0 .. 0" in out
    assert "-0" not in out


@pytest.mark.parametrize("chart", ["xbar-r", "individuals"])
def test_equal_values_have_no_spread_however_their_mean_rounds(chart, capsys):
    """The mean of seven equal 63.4 um is not exactly 63.4: their deviation read 7.7e-15 um,
    and Pp 2.8e+14; it is 0, and Pp and Ppk say `-`, as for values whose mean is exact."""
    equal = values_of([[63.4] * 7, [63.4] * 7], low=54.0, high=66.0)
    assert np.std(equal["value"], ddof=1) > 0  # the rounding this is about
    chart_ = control_chart(equal, measurement="m", method="x", chart=chart)
    capability = chart_.capability
    assert (capability.sigma_within, capability.sigma_overall) == (0.0, 0.0)
    assert (capability.cp, capability.cpk, capability.pp, capability.ppk) == (None,) * 4
    print_spc(Console(width=120), chart_, None)
    assert "sigma within 0, overall 0; Cp -, Cpk -, Pp -, Ppk -" in capsys.readouterr().out
    # a spread a measurement resolves is one, however small beside the values
    spread = values_of([[63.4] * 6 + [63.4001]] * 2, low=54.0, high=66.0)
    assert control_chart(spread, measurement="m", method="x", chart=chart).capability.ppk


def test_subgroups_without_spread_are_not_judged_and_the_output_says_why(tmp_path, capsys):
    """Identical dry runs of two recipes (180 s, 210 s, 180 s, each lot's wafers alike):
    sigma within is 0, so the limits collapse onto the centre line, where they had flagged
    every run out of control. None is flagged; the terminal, --json and the page say why
    and what to chart instead."""
    values = values_of([[180.0, 180.0], [210.0, 210.0], [180.0] * 3], low=178.0, high=182.0)
    chart = control_chart(values, measurement="plasma process time", method="x", chart="xbar-r")
    assert chart.capability.sigma_within == 0.0
    assert (chart.points["lcl"] == chart.points["ucl"]).all()  # the arithmetic, kept
    assert not chart.points["out_of_control"].any()
    assert chart.note is not None
    assert "no spread within any run" in chart.note
    assert chart.as_json()["note"] == chart.note
    assert chart.as_json()["judged"] is False
    print_spc(Console(width=600), chart, None)
    out = capsys.readouterr().out
    assert "not judged: no spread within any run: its values are all equal" in out
    assert "chart each value: --chart individuals" in out
    assert "nothing judged: no spread (see above)" in out
    assert "out of control" not in out
    assert "X" not in out.split("out ┃")[1]
    assert "Not judged: no spread within any run" in render_spc(chart, values)
    individuals = control_chart(values, measurement="m", method="x", chart="individuals")
    assert individuals.note is None
    assert individuals.as_json()["judged"] is True
    assert not individuals.points["out_of_control"].any()


def test_equal_values_charted_one_by_one_are_not_judged_and_the_output_says_why(capsys):
    """A trial's identical dry runs of a reflow peak: X-bar/R said `not judged: no spread`,
    and --chart individuals of the same values `limits 219.8 .. 219.8` and then `every
    subgroup within its limits`, a verdict limits of no width cannot give."""
    values = values_of([[219.8, 219.8], [219.8, 219.8]], low=183.0, high=308.0)
    chart = control_chart(values, measurement="reflow peak", method="x", chart="individuals")
    assert chart.note is not None
    assert "no spread between the values" in chart.note
    assert not chart.points["out_of_control"].any()
    print_spc(Console(width=600), chart, None)
    out = capsys.readouterr().out
    assert "not judged: no spread between the values: they are all equal" in out
    assert "nothing judged: no spread (see above)" in out
    assert "within its limits" not in out.splitlines()[-1]
    # charted by subgroups, they are not judged either, and nothing advises charting them
    # one by one (a trial followed that advice to this chart)
    by_run = control_chart(values, measurement="reflow peak", method="x", chart="xbar-r")
    assert by_run.note is not None
    assert "--chart individuals" not in by_run.note
    assert by_run.note.endswith(
        "Nor do the runs differ from each other: every value is equal, which no chart judges "
        "(charted one by one, their limits collapse too)"
    )


def test_individuals_limits_flag_the_value_far_off():
    """Mean +- 2.66 MR-bar; the moving range's upper limit 3.267 MR-bar."""
    values = values_of([[v] for v in SINGLES], low=4.0, high=None)
    chart = control_chart(values, measurement="m", method="x", chart="individuals")
    moving = np.abs(np.diff(SINGLES))
    mr_bar, mean = moving.mean(), np.mean(SINGLES)
    assert mr_bar == pytest.approx(3.1 / 8)
    points = chart.points
    assert points["ucl"].iloc[0] == pytest.approx(mean + 2.66 * mr_bar, rel=1e-3)
    assert points["lcl"].iloc[0] == pytest.approx(mean - 2.66 * mr_bar, rel=1e-3)
    assert points["spread_ucl"].iloc[0] == pytest.approx(3.267 * mr_bar, rel=1e-3)
    assert math.isnan(points["spread"].iloc[0])
    assert points["spread"].iloc[1:].tolist() == pytest.approx(moving.tolist())
    assert points["out_of_control"].tolist() == [False] * 8 + [True]
    # one-sided: the low limit alone
    sigma = mr_bar / 1.128
    assert chart.capability.cpk == pytest.approx((mean - 4.0) / (3 * sigma))
    assert chart.capability.cp is None


@pytest.mark.parametrize(
    ("low_exclusive", "limits"), [(1, "(220, -]"), (0, "[220, -]"), (None, "[220, -]")]
)
def test_a_low_limit_to_pass_reads_as_one_as_show_prints_it(low_exclusive, limits, capsys):
    """A trial's reflow peaks, each to be above the solder's 220 degC liquidus, read `against
    220 .. - degC`, as if 220 passed: the spec limits read as `show` prints them (decision
    0129), a record of before schema 19 (None) as a limit to reach."""
    values = values_of(
        [[244.8], [245.1], [244.9]], low=220.0, high=None, low_exclusive=low_exclusive
    )
    chart = control_chart(values, measurement="m", method="x", chart="individuals")
    assert chart.capability.low_exclusive is (low_exclusive == 1)
    print_spc(Console(width=160), chart, None)
    assert f"against {limits} um: mean 244.9" in capsys.readouterr().out


def test_unequal_subgroups_use_each_ones_own_size():
    """A lot of 2 beside lots of 4: sigma is the mean of R/d2(n); the lot of 2's X-bar limits
    are 3 sigma / sqrt(2) from the centre, its range's upper limit D4(2) d2(2) sigma."""
    lots = [*LOTS[:2], [10.0, 10.4]]
    chart = control_chart(values_of(lots), measurement="m", method="x", chart="xbar-r")
    sigma = np.mean([0.5 / 2.059, 0.5 / 2.059, 0.4 / 1.128])
    assert chart.capability.sigma_within == pytest.approx(sigma)
    centre = np.mean([v for lot in lots for v in lot])
    last = chart.points.iloc[-1]
    assert last["n"] == 2
    assert last["ucl"] == pytest.approx(centre + 3 * sigma / math.sqrt(2))
    assert last["spread_ucl"] == pytest.approx(3.267 * 1.128 * sigma, rel=1e-3)


def test_a_last_subgroup_of_one_value_prints_no_nan(capsys):
    """Runs of 2, 1, 1 values (a new user's 'resin over the interconnects'): the last subgroup
    has no range, so no R limits; they read '-', never 'nan'."""
    chart = control_chart(
        values_of([[10.0, 10.4], [10.1], [10.2]]), measurement="m", method="x", chart="xbar-r"
    )
    print_spc(Console(width=120), chart, None)
    out = capsys.readouterr().out
    assert "nan" not in out
    assert "R: centre -, limits - .. - (last subgroup)" in out


def test_the_d2_table_is_the_mean_range_of_normal_values():
    """d2(n) = integral of 1 - F(x)^n - (1 - F(x))^n over x, F the normal distribution."""
    x = np.linspace(-10, 10, 200_001)
    normal = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    for n, (d2, _) in D2_D3.items():
        integral = np.trapezoid(1 - normal**n - (1 - normal) ** n, x)
        assert integral == pytest.approx(d2, abs=6e-4), n


def test_charts_that_cannot_be_drawn_are_refused_naming_why():
    singles = values_of([[v] for v in SINGLES])
    with pytest.raises(BadInput, match=r"one value .* no range: use --chart individuals"):
        control_chart(singles, measurement="m", method="x", chart="xbar-r")
    with pytest.raises(BadInput, match=r"up to 25 values .* 26 values in one run"):
        control_chart(values_of([[1.0] * 26]), measurement="m", method="x", chart="xbar-r")
    with pytest.raises(BadInput, match="--chart 'pareto': one of xbar-r, individuals"):
        control_chart(singles, measurement="m", method="x", chart="pareto")


#: The sha256 of `lots_db`'s recipes: the fourth run's is the second.
RECIPES = ("a" * 64, "b" * 64)


@pytest.fixture
def lots_db(tmp_path: Path, add_run) -> Path:
    """`LOTS` as five dry runs of method m on five days (the fourth of a recipe of its own,
    `RECIPES`), and one run of method other."""
    store = RunStore(tmp_path / "runs.db")
    for index, lot in enumerate([*LOTS, [1.0]]):
        run_id = f"R{index + 1}"
        wafers = [f"W{w + 1}" for w in range(len(lot))]
        add_run(
            store,
            run_id,
            wafers,
            method="m" if index < len(LOTS) else "other",
            recipe_hash=RECIPES[index == 3],
            simulated=1,
            started_wall=time.mktime((2026, 3, 2 + index, 12, 0, 0, 0, 0, -1)),
        )
        # recorded out of lot order: the chart keeps the lot's
        store.add_rows(
            "measurements",
            [
                {
                    "run_id": run_id,
                    "wafer_id": wafer,
                    "step_id": None,
                    "name": "bump height",
                    "value": value,
                    "unit": "um",
                    "low": 9.0,
                    "high": 11.0,
                    "passed": 1,
                    "source": "tool",
                    "t": 1.0,
                    "wall": 0.0,
                }
                for wafer, value in reversed(list(zip(wafers, lot, strict=True)))
            ],
        )
    store.close()
    return tmp_path / "runs.db"


def test_the_values_come_from_the_records_in_run_and_lot_order(lots_db):
    store = RunStore(lots_db, create=False)
    try:
        values = measurement_values(store, "bump height", "m")
        assert values["value"].tolist() == [v for lot in LOTS for v in lot]
        assert values["run_id"].unique().tolist() == ["R1", "R2", "R3", "R4", "R5"]
        since = time.mktime((2026, 3, 5, 0, 0, 0, 0, 0, -1))
        assert measurement_values(store, "bump height", "m", since_wall=since)[
            "run_id"
        ].unique().tolist() == ["R4", "R5"]
        with pytest.raises(BadInput, match=r"no measurement 'height' .* measurements: bump"):
            measurement_values(store, "height", "m")
        with pytest.raises(
            BadInput, match=r"measurements: bump height\) \(did you mean 'bump height'\?\)$"
        ):
            measurement_values(store, "bump hieght", "m")
        with pytest.raises(BadInput, match="no run of method 'nope'"):
            measurement_values(store, "bump height", "nope")
    finally:
        store.close()


def test_the_command_charts_in_the_terminal_json_and_html(lots_db, tmp_path, capsys):
    db = ["--db", str(lots_db)]
    assert main(["spc", "bump height", "--method", "m", *db, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["chart"] == "xbar-r"
    assert data["capability"]["cpk"] == pytest.approx(1.380, abs=1e-3)
    assert [p["run_id"] for p in data["points"]] == ["R1", "R2", "R3", "R4", "R5"]
    assert data["points"][0]["n"] == 4
    assert data["points"][0]["out_of_control"] is False
    page = tmp_path / "spc.html"
    args = ["spc", "bump height", "--method", "m", *db, "--chart", "individuals"]
    assert main([*args, "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert "Cpk" in out
    assert "R5 W4" in out
    assert str(page) in out
    html = page.read_text(encoding="utf-8")
    assert len(html) > 500_000  # the Bokeh library, inlined
    assert not re.search(r"<(script|link|img)\b[^>]*\b(src|href)=", html)  # nothing fetched
    assert "individuals chart of bump height" in html
    assert main(["spc", "bump height", "--method", "m", *db, "--since", "2026-03-20"]) == 2
    assert "no run of method 'm'" in capsys.readouterr().err


def test_the_page_draws_in_a_browser_without_a_console_error(lots_db, chromium):
    store = RunStore(lots_db, create=False)
    try:
        values = measurement_values(store, "bump height", "m")
    finally:
        store.close()
    chart = control_chart(values, measurement="bump height", method="m", chart="xbar-r")
    _, probe = chromium.probe(render_spc(chart, values), "spc.html")
    assert [line for line in probe["log"] if line.startswith("error")] == []
    assert probe["canvases"] >= 2 * 3  # X-bar, R and the histogram, each on its canvases


def test_runs_of_different_recipes_mixed_are_said_and_one_recipe_charted_alone(
    lots_db, capsys, tmp_path
):
    """A new user's spc of the descum over runs of its 300 s and 330 s recipes judged the
    330 s run against the 300 s run's limits (Cpk -0.197), saying nothing and offering no way
    to chart one recipe: the output names the recipes mixed, and --recipe charts one."""
    db = ["--db", str(lots_db)]
    assert main(["spc", "bump height", "--method", "m", *db]) == 0
    out = " ".join(capsys.readouterr().out.split())  # as the terminal's lines wrap it
    assert "runs of 2 recipes mixed: aaaaaaaaaaaa (4 runs), bbbbbbbbbbbb (1 run)" in out
    assert "chart one recipe with --recipe HASH" in out
    assert main(["spc", "bump height", "--method", "m", *db, "--recipe", "aaaaaa", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["run_id"] for p in data["points"]] == ["R1", "R2", "R3", "R5"]
    assert data["recipes"] == [{"sha256": RECIPES[0], "runs": 4}]
    assert main(["spc", "bump height", "--method", "m", *db, "--recipe", "aaaaaa"]) == 0
    assert "mixed" not in capsys.readouterr().out
    assert main(["spc", "bump height", "--method", "m", *db, "--recipe", "c"]) == 2
    assert "no run of method 'm' of recipe 'c' (by name or sha256)" in capsys.readouterr().err
    # the page says it too
    page = tmp_path / "spc.html"
    assert main(["spc", "bump height", "--method", "m", *db, "--html", str(page)]) == 0
    text = " ".join(page.read_text().split())
    assert "Runs of 2 recipes mixed: aaaaaaaaaaaa (4 runs), bbbbbbbbbbbb (1 run)" in text


def test_the_chart_says_the_steps_its_values_were_read_to():
    """Values a gauge read to its step (their records' `resolution`, decision 0121) are
    charted saying so, of gauges of several steps each, and of values whose records do not
    say (an older run's) that too; values none of whose records say read as before."""
    values = values_of([[10.0, 10.5], [10.0, 9.5]])

    def said(resolutions: list[float | None]) -> str | None:
        read = values.assign(resolution=resolutions)
        chart = control_chart(read, measurement="t", method="m", chart="xbar-r")
        return chart.resolutions_text()

    assert said([None, None, None, None]) is None
    assert said([0.5, 0.5, 0.5, 0.5]) == "values read in 0.5 um steps"
    assert said([0.5, 0.5, None, None]) == (
        "values read in 0.5 um steps; some values' records do not say theirs"
    )
    assert said([0.5, 0.5, 0.1, 0.1]) == (
        "values read in 0.5 um and 0.1 um steps: instruments of several resolutions mixed"
    )
