"""Records schema migrations: an older database is brought up to date on open, in one
transaction and losing nothing; a newer or foreign one is refused and left byte for byte."""

from __future__ import annotations

import sqlite3
import zlib

import pytest

from packline.cli.show import measured_text
from packline.sequences.engine import BadInput, RunStore
from packline.sequences.engine.clearances import awaiting_clear
from packline.sequences.engine.database import PAGE_SIZE
from packline.sequences.engine.left_on_tools import left_on_tools
from packline.sequences.engine.schema import MIGRATIONS, SCHEMA_VERSION, VERSION_1
from packline.sim_instruments.twin import TwinStore
from packline.sim_instruments.twin.snapshot import snapshot


def version_1_database(path) -> None:
    """A database as the first packline left it: schema version 1, one run with its records."""
    db = sqlite3.connect(path)
    for statement in VERSION_1:
        db.execute(statement)
    db.execute(
        "INSERT INTO runs (id, method, recipe_json, recipe_text, recipe_source, recipe_hash, "
        "station_name, station_yaml, simulated, operator, lot_size, failure_policy, status, "
        "sessions, started_t, started_wall) VALUES ('r1', 'plasma-clean', '{}', 'steps: []', "
        "'r.yaml', 'abc', 'line', 'name: line', 1, 'ana', 1, 'hold', 'completed', 1, 0, 1.0)"
    )
    db.execute(
        "INSERT INTO wafers (run_id, wafer_id, position, status) "
        "VALUES ('r1', 'W01', 0, 'completed')"
    )
    db.execute(
        "INSERT INTO steps (run_id, session, wafer_id, key, name, kind, claims, irreversible, "
        "status, started_t, started_wall) "
        "VALUES ('r1', 1, 'W01', 'load#0', 'load', 'step', '[]', 0, 'completed', 0, 1.0)"
    )
    db.execute(
        "INSERT INTO measurements (run_id, wafer_id, name, value, unit, passed, source, t, wall) "
        "VALUES ('r1', 'W01', 'residue after', 0.0, 'nm', 1, 'twin', 5, 2.0)"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def migrated_to(path, version: int) -> sqlite3.Connection:
    """`version_1_database` at `path` with the migrations up to `version`, open for a test
    to add the records that version wrote (it sets the version and commits)."""
    version_1_database(path)
    db = sqlite3.connect(path)
    for each in range(2, version + 1):
        for statement in MIGRATIONS[each]:
            db.execute(statement)
    return db


def table_as_opened(path, table: str) -> list[dict]:
    """Run r1's `table` rows as this packline reads them, once it has opened (and so migrated)
    the database at `path`."""
    store = RunStore(path)
    try:
        return store.table(table, "r1")
    finally:
        store.close()


def database_with_events(path, version: int, events: list[dict]) -> None:
    """A database as packline `version` left it: `version_1_database` migrated to `version`,
    its run holding `events` (rows of the columns that version has, each at its own time)."""
    db = migrated_to(path, version)
    columns = list(events[0])
    db.executemany(
        f"INSERT INTO events (run_id, session, wafer_id, t, wall, {', '.join(columns)}) "
        f"VALUES ('r1', 1, NULL, ?, 1.0, {', '.join('?' for _ in columns)})",
        [(float(t), *(row[c] for c in columns)) for t, row in enumerate(events)],
    )
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def tables(path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def user_version(path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_a_new_database_gets_every_migration(tmp_path):
    RunStore(tmp_path / "runs.db").close()
    assert user_version(tmp_path / "runs.db") == SCHEMA_VERSION == max(MIGRATIONS)
    assert {"runs", "wafers", "steps", "claim_checks", "tools"} <= tables(tmp_path / "runs.db")


def pragmas(path) -> tuple[int, int, str]:
    """A database file's page size, auto_vacuum mode and journal mode."""
    db = sqlite3.connect(path)
    try:
        page_size, auto_vacuum, journal_mode = (
            db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("page_size", "auto_vacuum", "journal_mode")
        )
        return page_size, auto_vacuum, journal_mode
    finally:
        db.close()


def test_a_new_database_has_small_pages_and_an_existing_one_keeps_its_own(tmp_path):
    RunStore(tmp_path / "runs.db").close()
    assert pragmas(tmp_path / "runs.db") == (PAGE_SIZE, 2, "wal") == (2048, 2, "wal")
    path = tmp_path / "old.db"
    version_1_database(path)  # SQLite's default pages, as every file before decision 0124
    RunStore(path).close()
    assert pragmas(path) == (4096, 0, "wal")


def test_a_version_1_database_is_migrated_on_open_and_keeps_every_record(tmp_path):
    path = tmp_path / "old.db"
    version_1_database(path)
    store = RunStore(path, create=False)
    try:
        assert store.run("r1")["operator"] == "ana"
        assert [w["wafer_id"] for w in store.wafers("r1")] == ["W01"]
        assert [s["key"] for s in store.table("steps", "r1")] == ["load#0"]
        assert [m["value"] for m in store.table("measurements", "r1")] == [0.0]
        assert store.table("claim_checks", "r1") == []  # the new tables are there, and empty
        assert store.table("tools", "r1") == []
    finally:
        store.close()
    assert user_version(path) == SCHEMA_VERSION
    RunStore(path).close()  # opening an up-to-date database changes nothing
    assert user_version(path) == SCHEMA_VERSION


def test_a_migration_that_fails_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    version_1_database(path)
    monkeypatch.setitem(MIGRATIONS, 3, (*MIGRATIONS[3], "CREATE TABLE runs (id TEXT)"))
    with pytest.raises(BadInput, match="table runs already exists"):
        RunStore(path)
    assert user_version(path) == 1
    assert "claim_checks" not in tables(path)  # migration 2 was rolled back with 3


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (
            "PRAGMA user_version = 99",
            rf"records schema is version 99, newer than version {SCHEMA_VERSION}",
        ),
        ("CREATE TABLE photos (id INTEGER)", "not a packline run database"),
    ],
)
def test_a_newer_or_foreign_database_is_refused_and_not_touched(tmp_path, setup, expected):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS notes (text TEXT)")
    db.execute("INSERT INTO notes VALUES ('keep me')")
    db.execute(setup)
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(BadInput, match=expected) as refused:
        RunStore(path)
    assert str(path) in str(refused.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]  # no WAL, no journal


def test_migrations_are_numbered_without_gaps():
    assert sorted(MIGRATIONS) == list(range(2, SCHEMA_VERSION + 1))


def test_a_version_5_database_keeps_its_whole_snapshots_and_trace_rows(tmp_path):
    """Schema 6 stores snapshots by part and packs traces; the records written before stay
    as they were and read the same, and new trace ids follow the old ones."""
    path = tmp_path / "old.db"
    version_1_database(path)
    data = snapshot(TwinStore().get("W01"))
    db = sqlite3.connect(path)
    for version in range(2, 6):
        for statement in MIGRATIONS[version]:
            db.execute(statement)
    db.execute("INSERT INTO twin_blobs VALUES ('h1', ?)", (zlib.compress(data, 1),))
    db.execute("INSERT INTO twin_snapshots VALUES ('r1', 'W01', 1, 'h1', 5)")
    db.executemany(
        "INSERT INTO traces (run_id, tool, step_id, name, value, unit, t, wall) "
        "VALUES ('r1', 'pc', 1, 'pressure', ?, 'mTorr', ?, ?)",
        [(100.0 + i, float(i), 1.0 + i) for i in range(3)],
    )
    db.execute("PRAGMA user_version = 5")
    db.commit()
    db.close()
    store = RunStore(path)
    try:
        assert store.twin_blob("h1") == data
        assert store.latest_twins("r1") == {"W01": data}
        traces = store.traces("r1")
        assert (traces["id"], traces["value"]) == ([1, 2, 3], [100.0, 101.0, 102.0])
        assert store.trace_summary("r1")[0]["samples"] == 3
        assert [m["value"] for m in store.table("measurements", "r1")] == [0.0]
        store.add_trace("r1", "pc", None, "pressure", 99.0, "mTorr", 9.0, 9.0)
        assert store.traces("r1")["id"] == [1, 2, 3, 4]
    finally:
        store.close()
    assert user_version(path) == SCHEMA_VERSION


#: Tool events as packline wrote them before schema 8: the tool named first in the message.
VERSION_7_EVENTS = (
    ("run-started", "plasma-clean session 1"),
    ("tool-recovered", "oven safe and empty"),
    ("tool-out-of-service", "oven: recovery failed: timed out"),
    (
        "tool-out-of-service",
        "plasma_cleaner: alarmed (plasma_cleaner at modbus+tcp://127.0.0.1:1502: clean: alarm "
        "REFLECTED_POWER); clear it with `packline clear-tool r1 plasma_cleaner --by NAME` once "
        "the cause is found",
    ),
    (
        "tool-out-of-service",
        "wire_bonder: holds ENG01, which this run did not put there (another lot's or an "
        "engineering workpiece): nothing was unloaded, nothing was commanded; have ENG01 taken "
        "off the tool by whoever owns it, then clear it with `packline clear-tool r1 "
        "wire_bonder --by NAME`",
    ),
    ("tool-cleared", "wire_bonder back in service, cleared by ana: ENG01 no longer on it"),
    ("tool-cleared", "plasma_cleaner was in service; nothing cleared"),
)


def test_a_version_7_databases_tool_events_get_their_tool_and_data(tmp_path):
    """Schema 8 gives events a tool and JSON data: the tool events written before are read
    for them, so which tool waits for a clear is a query on the old records too."""
    path = tmp_path / "old.db"
    database_with_events(path, 7, [{"kind": k, "message": m} for k, m in VERSION_7_EVENTS])
    store = RunStore(path)
    try:
        events = store.events("r1")
        assert [e["message"] for e in events] == [m for _, m in VERSION_7_EVENTS]  # kept
        assert [e["tool"] for e in events] == [
            None, "oven", "oven", "plasma_cleaner", "wire_bonder", "wire_bonder", "plasma_cleaner"
        ]  # fmt: skip
        assert [e["data"] for e in events] == [
            {},
            {},
            {"cause": "recovery failed", "until_cleared": False},
            {"cause": "alarm", "until_cleared": True},
            {"cause": "foreign workpiece", "until_cleared": True},
            {"cleared": True},
            {"cleared": False},
        ]
        (waiting,) = awaiting_clear(store, "r1").values()
        assert (waiting["tool"], waiting["data"]["cause"]) == ("plasma_cleaner", "alarm")
    finally:
        store.close()
    assert user_version(path) == SCHEMA_VERSION


#: Events as a version 9 packline recorded them: (kind, message, data); an event's status was
#: its message when it had none, else lost (in a tool state's and a claim check's data only).
VERSION_9_EVENTS = (
    ("run-started", "plasma-clean session 1", None),
    ("tool-state", "oven idle", '{"state": "idle", "e10": "standby"}'),
    ("claim-check", "3 conditions on 2 wafers", '{"conditions": [{"verdict": "pass"}]}'),
    (
        "claim-check",
        "the product violates claim 003:11 (...)",
        '{"conditions": [{"verdict": "pass"}, {"verdict": "fail"}]}',
    ),
    (
        "claim-check",
        "not checked: claim 003:9 (...): not checked",
        '{"conditions": [{"verdict": "not checked"}, {"verdict": "pass"}]}',
    ),
    ("claim-check", "3 conditions on 2 wafers", None),  # before events had data: unknown
    ("run-finished", "completed", None),
    ("run-finished", "oven: no reply", None),  # an error: its status unknown
)


def test_a_version_9_databases_events_get_the_status_their_records_tell(tmp_path):
    """Schema 10 keeps an event's status beside its message: the events written before get
    theirs where the records tell it, and a run's end no longer has its status for a message."""
    path = tmp_path / "old.db"
    rows = [{"kind": k, "message": m, "data": d} for k, m, d in VERSION_9_EVENTS]
    database_with_events(path, 9, rows)
    store = RunStore(path)
    try:
        events = store.table("events", "r1")
    finally:
        store.close()
    assert [(e["status"], e["message"]) for e in events] == [
        (None, "plasma-clean session 1"),
        ("standby", "oven idle"),
        ("passed", "3 conditions on 2 wafers"),
        ("failed", "the product violates claim 003:11 (...)"),
        ("incomplete", "not checked: claim 003:9 (...): not checked"),
        (None, "3 conditions on 2 wafers"),
        ("completed", ""),
        (None, "oven: no reply"),
    ]


def test_a_version_10_databases_steps_get_their_handling_by_their_names(tmp_path):
    """Schema 11 records whether a step put its wafer on its tool or took it off, as the
    script declares it (decision 0094); the steps written before get it by the rule packline
    read them by then, their names (case-sensitive), so what an old aborted run left on its
    tools reads as it did: W01's bonder stage was cut off after its load."""
    path = tmp_path / "old.db"
    db = migrated_to(path, 10)
    db.execute("UPDATE runs SET status = 'aborted' WHERE id = 'r1'")
    db.executemany(
        "INSERT INTO steps (run_id, session, wafer_id, key, name, stage, kind, claims, tool, "
        "irreversible, status, started_t, started_wall) "
        "VALUES ('r1', 1, 'W01', ?, ?, ?, ?, '[]', 'wire_bonder', 0, ?, 1, 2.0)",
        [
            ("use wire_bonder#0", "use wire_bonder", None, "stage", "interrupted"),
            ("load on bonder#0", "load on bonder", "use wire_bonder#0", "step", "completed"),
            ("Load map#0", "Load map", "use wire_bonder#0", "step", "completed"),
            ("mount on saw#0", "mount on saw", "use wire_bonder#0", "step", "completed"),
            ("unload from bonder#0", "unload from bonder", "use wire_bonder#0", "step", "running"),
        ],
    )
    db.execute("PRAGMA user_version = 10")
    db.commit()
    db.close()
    store = RunStore(path)
    try:
        steps = store.table("steps", "r1")
        assert {s["name"]: s["handling"] for s in steps} == {
            "load": "load",  # version_1_database's step
            "use wire_bonder": None,
            "load on bonder": "load",
            "Load map": None,
            "mount on saw": None,
            "unload from bonder": "unload",
        }
        assert left_on_tools(store, "r1") == {"wire_bonder": ["W01"]}
    finally:
        store.close()
    assert user_version(path) == SCHEMA_VERSION


def test_a_version_13_databases_alarms_get_the_fault_injected_that_raised_them(tmp_path):
    """Schema 14 marks an alarm a fault injected on its tool raised (decision 0110): the
    alarms written before get it by the same rule, the last fault injected on the tool in the
    run at or before the alarm, by when the line injected it, though the run recorded it
    after the alarm."""
    path = tmp_path / "old.db"
    data = '{"fault": "rf_mismatch", "by": "bo", "injected_wall": 3.0}'
    database_with_events(
        path,
        13,
        [{"kind": "fault-injected", "tool": "plasma_cleaner", "status": "rf_mismatch",
          "message": "packline sim fault by bo", "data": data}],
    )  # fmt: skip
    db = sqlite3.connect(path)
    db.executemany(
        "INSERT INTO alarms (run_id, tool, wafer_id, step_id, code, message, t, wall) "
        "VALUES ('r1', ?, 'W01', 1, ?, 'm', 4, ?)",
        [("plasma_cleaner", "REFLECTED_POWER", 4.0), ("plasma_cleaner", "GAS_FLOW", 2.0),
         ("oven", "ZONE_SENSOR", 4.0)],
    )  # fmt: skip
    db.commit()
    db.close()
    alarms = table_as_opened(path, "alarms")
    assert [(a["code"], a["injected_fault"]) for a in alarms] == [
        ("REFLECTED_POWER", "rf_mismatch"),  # after the fault was injected: its alarm
        ("GAS_FLOW", None),  # before it: the chamber's own
        ("ZONE_SENSOR", None),  # another tool's
    ]


def test_a_version_15_databases_stopped_run_events_keep_their_place_in_time_order(tmp_path):
    """Schema 16 (decision 0120): the events are read by their time now, and one recorded of
    a stopped run before it was stamped where the run's end was taken, before its
    run-finished (here 2 s before), or at the start of a run cut off: it is raised to the
    latest time recorded before it, so that it reads where it was listed."""
    path = tmp_path / "old.db"
    database_with_events(
        path,
        15,
        [{"kind": "run-started", "message": ""}, {"kind": "paused", "message": ""},
         {"kind": "run-finished", "message": ""}, {"kind": "tool-cleared", "message": "bo"},
         {"kind": "disposition", "message": "W01 release"}],
    )  # fmt: skip
    db = sqlite3.connect(path)
    db.execute("UPDATE events SET t = 5 WHERE kind = 'run-finished'")
    db.execute("UPDATE events SET t = 3 WHERE kind IN ('tool-cleared', 'disposition')")
    db.execute("UPDATE events SET t = 0.5 WHERE kind = 'paused'")
    # another run, later in the file: its own times alone raise its events, and an event of
    # another kind stays where it was stamped, whatever came before it
    db.executemany(
        "INSERT INTO events (run_id, session, t, wall, kind, message) "
        "VALUES ('r2', 1, ?, 1.0, ?, '')",
        [(2.0, "run-started"), (4.0, "run-finished"), (1.0, "tool-state"), (1.5, "disposition"),
         (4.5, "tool-cleared")],
    )  # fmt: skip
    db.commit()
    db.close()
    store = RunStore(path)
    try:
        events = store.events("r1")
        other = store.events("r2")
    finally:
        store.close()
    assert [(e["kind"], e["t"]) for e in events] == [
        ("run-started", 0.0), ("paused", 0.5), ("run-finished", 5.0), ("tool-cleared", 5.0),
        ("disposition", 5.0),
    ]  # fmt: skip
    assert [(e["kind"], e["t"]) for e in other] == [
        ("tool-state", 1.0), ("run-started", 2.0), ("run-finished", 4.0), ("disposition", 4.0),
        ("tool-cleared", 4.5),
    ]  # fmt: skip
    assert user_version(path) == SCHEMA_VERSION


def test_a_version_16_database_opens_its_readings_and_tools_saying_nothing_of_steps(tmp_path):
    """Schema 17 records the step a reading was read to and the options a dry run's command
    gave its simulated tools (decision 0121); what a database holds from before says
    neither (null), and reads as it did: a measurement without a step, a tool given none."""
    path = tmp_path / "old.db"
    db = migrated_to(path, 16)
    db.execute(
        "INSERT INTO tools (run_id, session, name, role, driver, address, vendor, model, "
        "serial_number, firmware, wall) VALUES ('r1', 1, 'grinder', 'grinder', 'grinder', "
        "'TCPIP0::127.0.0.1::5025::SOCKET', 'packline', 'GR-2', 'GR-2-0001', '1.0', 1.0)"
    )
    db.execute("PRAGMA user_version = 16")
    db.commit()
    db.close()
    store = RunStore(path)
    try:
        (measurement,) = store.table("measurements", "r1")
        (tool,) = store.tools("r1")
    finally:
        store.close()
    assert (measurement["name"], measurement["resolution"]) == ("residue after", None)
    assert (tool["name"], tool["sim_options"]) == ("grinder", {})
    assert user_version(path) == SCHEMA_VERSION


def test_a_version_18_databases_low_limits_read_as_reached(tmp_path):
    """Schema 19 records whether a measurement had to pass its low limit, not reach it
    (decision 0129); a database from before says nothing of it (null), and its limits read
    as they did: reached, `[220, -]`, the recorder's `passed` saying how a value at one went."""
    path = tmp_path / "old.db"
    db = migrated_to(path, 18)
    db.execute(
        "INSERT INTO measurements (run_id, wafer_id, name, value, unit, low, passed, source, "
        "t, wall) VALUES ('r1', 'W01', 'reflow peak', 220.0, 'degC', 220.0, 0, 'tool', 6, 3.0)"
    )
    db.execute("PRAGMA user_version = 18")
    db.commit()
    db.close()
    measurements = table_as_opened(path, "measurements")
    assert [(m["name"], m["low_exclusive"]) for m in measurements] == [
        ("residue after", None),
        ("reflow peak", None),
    ]
    assert measured_text(measurements[1]) == "220 degC in [220, -]: 0 degC outside"
    assert user_version(path) == SCHEMA_VERSION


def test_a_version_19_databases_worst_sites_read_without_their_die(tmp_path):
    """Schema 20 records the die a claim condition's worst pad is on (decision 0131); a
    check from before says nothing of it (null), and its worst site reads as it did: the
    pad alone."""
    from packline.sequences.engine.claim_check import located_margin_text

    path = tmp_path / "old.db"
    db = migrated_to(path, 19)
    db.execute(
        "INSERT INTO claim_checks (run_id, session, claim, condition, wafers_checked, "
        "sites_checked, sites_passing, failing_wafers, verdict, t, wall, margin_quantity, "
        "margin_unit, margin_limit, margin_above, margin_worst, margin, counted, "
        "margin_strict, margin_workpiece, margin_entry) VALUES ('r1', 1, '003:7.3', 'tips', "
        "1, 10, 10, '[]', 'pass', 9.0, 3.0, 'tip projection', 'um', 0.0, 1, 12.0, 12.0, 'pad', "
        "1, 'W01', 7)"
    )
    db.execute("PRAGMA user_version = 19")
    db.commit()
    db.close()
    (check,) = table_as_opened(path, "claim_checks")
    assert check["margin_entry_unit"] is None
    assert located_margin_text(check).endswith("to spare (W01 pad 7)")
    assert user_version(path) == SCHEMA_VERSION
