"""The reader API: each kind of record as a DataFrame, the twin as a table of its sites."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from packline.records import TABLES, open_records, site_table
from packline.sequences.engine import BadInput
from packline.sequences.engine.confirmations import CONFIRMATION_UNANSWERED
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.snapshot import read_snapshot


def _raw(run_db, sql, *params):
    with sqlite3.connect(run_db) as db:
        return db.execute(sql, params).fetchall()


@pytest.mark.parametrize("table", [name for name in TABLES if name != "maps"])
def test_every_table_holds_the_runs_rows_with_the_schemas_columns(records, run_db, table):
    frame = records.table(table)
    schema = [row[1] for row in _raw(run_db, f"PRAGMA table_info({table})")]
    if table == "measurements":  # and the label of the step that took it, beside its id
        schema.insert(schema.index("step_id") + 1, "step")
        schema.remove("resolution")  # the step it was read to, beside its unit (schema 17)
        schema.insert(schema.index("unit") + 1, "resolution")
        schema.remove("low_exclusive")  # whether the low limit was to pass, beside it (19)
        schema.insert(schema.index("low") + 1, "low_exclusive")
        schema.insert(schema.index("passed") + 1, "verdict")  # pass, fail or recorded
        schema.append("attempt")  # and which try of it, where a rework measured it again
    if table == "wafers":  # and its time on the line, as `show` gives it
        schema.append("time_on_line_s")
    if table == "steps":  # and its label, beside its name
        schema.insert(schema.index("name") + 1, "label")
    if table == "confirmations":  # the label of the step that asked it; the answer in words
        schema.insert(schema.index("step_id") + 1, "step")
        # and for one the run stopped at, unanswered: why
        after_by = schema.index("by") + 1  # its outcome, in words, and why it went unanswered
        schema[after_by:after_by] = ["outcome", "answer", "stopped", "reason"]
    assert list(frame.columns) == schema
    rows = f"SELECT count(*) FROM {table} WHERE run_id = ?1"
    if table == "confirmations":  # and each the run stopped at, unanswered (an event)
        unanswered = "SELECT count(*) FROM events WHERE run_id = ?1 AND kind = ?2"
        rows = f"SELECT ({rows}) + ({unanswered})"
    if table == "traces":  # and the samples packed per series (schema 6)
        rows = f"SELECT ({rows}) + (SELECT sum(samples) FROM trace_series WHERE run_id = ?1)"
    kinds = (CONFIRMATION_UNANSWERED,) if table == "confirmations" else ()
    (count,) = _raw(run_db, rows, records.run_id, *kinds)[0]
    assert len(frame) == count


def test_the_dry_run_has_rows_in_the_tables_a_process_engineer_reads(records):
    assert len(records.wafers()) == 2
    # the tools' held reads record at each change and at least every HOLD_S (decision 0101)
    assert len(records.traces()) > 200
    assert {"temperature", "rf_forward", "stage_temperature"} <= set(records.traces()["name"])
    assert len(records.claim_checks()) == 7
    assert set(records.measurements()["wafer_id"]) == {"W01", "W02"}


def test_steps_list_their_claims_and_claim_checks_their_failing_wafers_as_text(records, run_db):
    steps = records.steps()
    raw = dict(_raw(run_db, "SELECT id, claims FROM steps WHERE run_id = ?", records.run_id))
    for step_id, claims in zip(steps["id"], steps["claims"], strict=True):
        assert claims == ",".join(json.loads(raw[step_id]))
    assert "003:7.2" in set(steps["claims"])
    assert set(records.claim_checks()["failing_wafers"]) == {""}


def test_the_header_has_the_recipe_as_validated_and_the_status_as_shown(records):
    header = records.header()
    assert header["method"] == "bump-seal-clean"
    assert header["status"] == "completed"
    assert header["recipe"]["bumps"]["height_um"] == "60 um"
    assert "tools:" in header["station_yaml"]


def test_a_site_map_is_the_wafers_last_twin_one_row_per_site(records, run_db):
    (digest,) = _raw(
        run_db,
        "SELECT hash FROM twin_snapshots "
        "WHERE run_id = ? AND wafer_id = 'W02' ORDER BY step_id DESC LIMIT 1",
        records.run_id,
    )[0]
    twin = read_snapshot(records.store.twin_blob(digest))
    sites = records.site_map("W02")
    assert len(sites) == twin.geometry.site_count
    np.testing.assert_array_equal(sites["bumps.height_um"], twin.bumps.height_um)
    np.testing.assert_array_equal(sites["x_mm"], twin.geometry.site_x_mm)
    np.testing.assert_array_equal(sites["tip_projection_um"], twin.tip_projection_um)
    assert sites["resins.layers[0].thickness_um"].gt(0).all()
    assert sites["exposed_metal"].all()


def test_a_site_map_after_a_step_is_the_twin_as_it_was_then(records):
    snaps = records.snapshots()
    bumped = snaps[(snaps["wafer_id"] == "W01") & (snaps["name"] == "form bumps")]
    (step_id,) = bumped["step_id"]
    after_bumps = records.site_map("W01", int(step_id))
    assert "resins.layers[0].thickness_um" not in after_bumps.columns
    assert after_bumps["bumps.height_um"].between(50, 70).all()


def test_a_fresh_wafers_table_has_every_per_site_array_of_its_parts():
    twin = TwinStore().get("W01")
    sites = site_table(twin)
    assert len(sites) == twin.geometry.site_count
    assert {"site", "unit", "x_mm", "y_mm", "surface.residue_nm", "bumps.height_um"} <= set(
        sites.columns
    )
    assert (sites["bumps.height_um"] == 0).all()
    assert "geometry.unit_origin_mm" not in sites.columns  # per unit, not per site


def test_maps_after_irreversible_steps_hold_each_such_step_of_each_wafer(records):
    snaps = records.snapshots()
    irreversible = snaps[snaps["irreversible"] == 1]
    maps = records.maps(after="irreversible")
    sites = len(records.site_map("W01"))
    for wafer_id, step_id in zip(irreversible["wafer_id"], irreversible["step_id"], strict=True):
        block = maps[(maps["wafer_id"] == wafer_id) & (maps["step_id"] == step_id)]
        assert len(block) == sites
    last = records.maps()
    assert len(last) == 2 * sites
    assert list(last.columns[:4]) == ["wafer_id", "step_id", "step", "site"]
    # a resin layer is missing before lamination: empty there, yes/no columns stay yes/no
    assert maps["resins.layers[0].thickness_um"].isna().any()
    assert maps["openings.layers[0].open"].dtype.name in ("bool", "boolean")


def test_bad_references_are_refused_naming_what(records, run_db):
    with pytest.raises(BadInput, match="W09"):
        records.site_map("W09")
    with pytest.raises(BadInput, match="no records table 'bogus'"):
        records.table("bogus")
    with pytest.raises(BadInput, match="maps after 'first'"):
        records.maps(after="first")
    with pytest.raises(BadInput, match="no run"), open_records("nope", run_db):
        pass


def test_open_records_reads_the_last_run(run_db):
    with open_records(db=run_db) as run:
        assert run.header()["lot_size"] == 2
    assert set(TABLES) >= {"steps", "measurements", "traces", "alarms", "claim_checks", "maps"}
