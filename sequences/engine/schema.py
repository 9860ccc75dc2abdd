"""The records schema and its numbered migrations, on SQLite's `PRAGMA user_version`.

Version 1 is the schema the first run database was created with; every later version is one
migration (a list of SQL statements) from the version before it. A new database gets version 1
and then every migration, so the current schema is version 1 plus the migrations, in order,
and each table or column is declared exactly once. An older database is brought up to date in
one `BEGIN IMMEDIATE` transaction when it is opened: a crash or a failure leaves it as it was,
and two processes opening it at once migrate it once (the second reads the new version inside
its own transaction). A database newer than this packline is refused before anything is
written to it. See docs/decisions/0001-records-schema-and-migrations.md.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .errors import BadInput

#: The when of a `fault-injected` or `fault-cleared` event `e`: when the line did it (its data's
#: `injected_wall` or `cleared_wall`, a served line's), else when it was recorded (a dry
#: run's `--fault`, recorded as it injected it).
_FAULT_WALL = (
    "coalesce(json_extract(e.data, '$.injected_wall'), json_extract(e.data, '$.cleared_wall'), "
    "e.wall)"
)
#: The fault injected that raised the alarms row it is set in (decision 0110): the last
#: `fault-injected` or `fault-cleared` event of its run and tool at or before the alarm, by
#: when the line did it (`_FAULT_WALL`, so a word the run learnt of after the alarm counts
#: still), if it is an injection: its fault; else null, the tool's own alarm. A dry run's
#: resume serves a fresh line, which no fault of an earlier session is injected on: only its
#: alarm's session's events count there.
INJECTED_FAULT_OF_ALARM = f"""(
    SELECT CASE WHEN e.kind = 'fault-injected' THEN e.status END FROM events e
    WHERE e.run_id = alarms.run_id AND e.tool = alarms.tool
        AND e.kind IN ('fault-injected', 'fault-cleared') AND {_FAULT_WALL} <= alarms.wall
        AND (e.session = (SELECT session FROM steps WHERE steps.id = alarms.step_id)
             OR NOT (SELECT simulated FROM runs WHERE runs.id = alarms.run_id))
    ORDER BY {_FAULT_WALL} DESC, e.id DESC LIMIT 1
)"""

#: The records schema as the first packline created it (user_version 1).
VERSION_1 = (
    """CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    recipe_json TEXT NOT NULL,      -- the validated recipe, quantities in declared units
    recipe_text TEXT NOT NULL,      -- the recipe file as given
    recipe_source TEXT NOT NULL,
    recipe_hash TEXT NOT NULL,      -- sha256 of recipe_json
    station_name TEXT NOT NULL,
    station_yaml TEXT NOT NULL,     -- the station the latest session drove
    simulated INTEGER NOT NULL,
    operator TEXT NOT NULL,
    lot_size INTEGER NOT NULL,
    failure_policy TEXT NOT NULL,
    status TEXT NOT NULL,           -- running paused completed held terminated aborted failed
    sessions INTEGER NOT NULL,      -- 1 + number of resumes
    pid INTEGER,
    host TEXT,
    started_t REAL NOT NULL,        -- run clock (simulated seconds in a dry run)
    stopped_t REAL,
    started_wall REAL NOT NULL,     -- unix time
    stopped_wall REAL,
    error TEXT
)""",
    """CREATE TABLE wafers (
    run_id TEXT NOT NULL REFERENCES runs(id),
    wafer_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL,           -- pending running completed held terminated
    reason TEXT,                    -- why it is held or terminated
    started_t REAL, stopped_t REAL, started_wall REAL, stopped_wall REAL,
    PRIMARY KEY (run_id, wafer_id)
)""",
    """CREATE TABLE steps (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    session INTEGER NOT NULL,
    wafer_id TEXT NOT NULL,
    key TEXT NOT NULL,              -- name#occurrence within the wafer's script: the checkpoint
    name TEXT NOT NULL,
    stage TEXT,                     -- key of the enclosing stage (tool use or batch), if any
    kind TEXT NOT NULL,             -- step, batch-step, stage, batch
    claims TEXT NOT NULL,           -- JSON list of claim ids
    tool TEXT,
    irreversible INTEGER NOT NULL,
    batch TEXT,                     -- batch id shared by the members of one batch
    status TEXT NOT NULL,           -- running completed failed skipped interrupted
    started_t REAL NOT NULL, started_wall REAL NOT NULL,
    stopped_t REAL, stopped_wall REAL,
    error TEXT                      -- the failure, or what resume decided for a cut-off step
)""",
    "CREATE INDEX steps_by_wafer ON steps(run_id, wafer_id, key)",
    """CREATE TABLE measurements (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, wafer_id TEXT NOT NULL, step_id INTEGER,
    name TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL, low REAL, high REAL,
    passed INTEGER NOT NULL, source TEXT NOT NULL,      -- tool, twin (dry run) or sequence
    t REAL NOT NULL, wall REAL NOT NULL
)""",
    "CREATE INDEX measurements_by_run ON measurements(run_id, wafer_id)",
    """CREATE TABLE traces (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, tool TEXT NOT NULL, step_id INTEGER,
    name TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL, t REAL NOT NULL, wall REAL NOT NULL
)""",
    "CREATE INDEX traces_by_run ON traces(run_id, tool)",
    """CREATE TABLE alarms (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, tool TEXT NOT NULL, wafer_id TEXT,
    step_id INTEGER, code TEXT NOT NULL, message TEXT NOT NULL, t REAL NOT NULL, wall REAL NOT NULL
)""",
    """CREATE TABLE confirmations (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, wafer_id TEXT NOT NULL, step_id INTEGER,
    prompt TEXT NOT NULL, confirmed INTEGER NOT NULL, by TEXT NOT NULL,
    t REAL NOT NULL, wall REAL NOT NULL
)""",
    """CREATE TABLE events (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, session INTEGER NOT NULL, kind TEXT NOT NULL,
    wafer_id TEXT, message TEXT NOT NULL, t REAL NOT NULL, wall REAL NOT NULL
)""",
    "CREATE TABLE twin_blobs (hash TEXT PRIMARY KEY, data BLOB NOT NULL)",
    """CREATE TABLE twin_snapshots (
    run_id TEXT NOT NULL, wafer_id TEXT NOT NULL, step_id INTEGER NOT NULL,
    hash TEXT NOT NULL REFERENCES twin_blobs(hash), t REAL NOT NULL
)""",
    "CREATE INDEX twin_by_wafer ON twin_snapshots(run_id, wafer_id)",
    """CREATE TABLE control (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, command TEXT NOT NULL,
    requested_wall REAL NOT NULL, handled_wall REAL
)""",
)

#: Migration to version N (from N - 1): its SQL statements, applied in order.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    # 2: the claim check of a dry run's product
    2: (
        """CREATE TABLE claim_checks (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, session INTEGER NOT NULL,
    claim TEXT NOT NULL, condition TEXT NOT NULL,   -- one row per condition of the claim check
    wafers_checked INTEGER NOT NULL,                -- wafers that completed the method
    sites_checked INTEGER NOT NULL, sites_passing INTEGER NOT NULL,
    failing_wafers TEXT NOT NULL,                   -- JSON list of wafer ids
    verdict TEXT NOT NULL,                          -- pass, fail, not checked
    t REAL NOT NULL, wall REAL NOT NULL
)""",
        "CREATE INDEX claim_checks_by_run ON claim_checks(run_id)",
    ),
    # 3: which tool each session drove (resume compares the identities before it sends anything)
    3: (
        """CREATE TABLE tools (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, session INTEGER NOT NULL,
    name TEXT NOT NULL, role TEXT NOT NULL, driver TEXT NOT NULL, address TEXT NOT NULL,
    vendor TEXT NOT NULL, model TEXT NOT NULL, serial_number TEXT NOT NULL,
    firmware TEXT NOT NULL, wall REAL NOT NULL     -- read from the tool when it was connected
)""",
        "CREATE INDEX tools_by_run ON tools(run_id, name)",
    ),
    # 4: what an operator decided for a held wafer (docs/engine.md, "Held wafers")
    4: (
        """CREATE TABLE dispositions (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, wafer_id TEXT NOT NULL,
    decision TEXT NOT NULL,         -- release, rework, scrap
    by TEXT NOT NULL, reason TEXT NOT NULL,
    held_reason TEXT NOT NULL,      -- why the wafer was held, as the decision answered it
    wall REAL NOT NULL
)""",
        "CREATE INDEX dispositions_by_run ON dispositions(run_id, wafer_id)",
    ),
    # 5: how close each condition of a claim check came to failing (docs/engine.md)
    5: (
        "ALTER TABLE claim_checks ADD COLUMN margin_quantity TEXT",  # "tip projection"
        "ALTER TABLE claim_checks ADD COLUMN margin_unit TEXT",
        "ALTER TABLE claim_checks ADD COLUMN margin_limit REAL",
        "ALTER TABLE claim_checks ADD COLUMN margin_above INTEGER",  # 1: passes above the limit
        "ALTER TABLE claim_checks ADD COLUMN margin_worst REAL",  # the worst checked site
        "ALTER TABLE claim_checks ADD COLUMN margin REAL",  # its distance to the limit
    ),
    # 6: twin snapshots stored by part and traces packed by series (engine/packing.py)
    6: (
        """CREATE TABLE twin_parts (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,      -- sha256 of the array's .npy bytes
    base INTEGER REFERENCES twin_parts(id),  -- stored as its difference from this part
    item_size INTEGER NOT NULL,     -- the bytes of each value, shuffled by position
    start INTEGER NOT NULL,         -- where the values start after the .npy header
    data BLOB NOT NULL              -- zlib of the .npy header, then the shuffled values
)""",
        # a snapshot stored by part: its parts' ids (JSON list), `data` its header alone
        "ALTER TABLE twin_blobs ADD COLUMN parts TEXT",
        """CREATE TABLE trace_series (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL, tool TEXT NOT NULL, step_id INTEGER,
    name TEXT NOT NULL, unit TEXT NOT NULL,
    samples INTEGER NOT NULL, last_id INTEGER NOT NULL,   -- the id of the last sample
    min REAL NOT NULL, max REAL NOT NULL,                 -- of the samples' values
    data BLOB NOT NULL              -- zlib of the ids, t, values and walls (packing.py)
)""",
        "CREATE INDEX trace_series_by_run ON trace_series(run_id, tool)",
        "CREATE INDEX trace_series_by_last_id ON trace_series(last_id)",
        "CREATE INDEX traces_by_step ON traces(step_id)",
    ),
    # 7: the lot a run's wafers travel under (packline/lots.py): its id, product and owner
    7: (
        "ALTER TABLE runs ADD COLUMN lot_id TEXT",
        "ALTER TABLE runs ADD COLUMN lot_product TEXT",
        "ALTER TABLE runs ADD COLUMN lot_owner TEXT",
        "CREATE INDEX runs_by_lot ON runs(lot_id)",
    ),
    # 8: the tool an event is about and what it carries, as columns (decision 0029); the
    # tool events an earlier packline wrote name their tool first in the message
    8: (
        "ALTER TABLE events ADD COLUMN tool TEXT",
        "ALTER TABLE events ADD COLUMN data TEXT",  # JSON object, the event's data
        """UPDATE events SET tool = rtrim(substr(message, 1, instr(message || ' ', ' ') - 1), ':')
    WHERE kind LIKE 'tool-%'""",
        # out of service until cleared: an alarm's or a foreign workpiece's (the message says
        # how to clear it), else for a recovery that failed; back in service: a clear that took
        """UPDATE events SET data = json_object(
        'cause', CASE WHEN message LIKE '%which this run did not put there%'
            THEN 'foreign workpiece' WHEN message LIKE '%: alarmed (%' THEN 'alarm'
            ELSE 'recovery failed' END,
        'until_cleared',
        json(CASE WHEN message LIKE '%packline clear-tool%' THEN 'true' ELSE 'false' END))
    WHERE kind = 'tool-out-of-service'""",
        """UPDATE events SET data = json_object('cleared',
        json(CASE WHEN message LIKE '% back in service%' THEN 'true' ELSE 'false' END))
    WHERE kind = 'tool-cleared'""",
        "CREATE INDEX events_by_tool ON events(run_id, tool, kind)",
    ),
    # 9: a snapshot's header coded against the one before it, and a step's traces packed in
    # one block per tool (engine/packing.py, decision 0035)
    9: (
        # the snapshot whose header is this one's zlib preset dictionary
        "ALTER TABLE twin_blobs ADD COLUMN header_base TEXT REFERENCES twin_blobs(hash)",
        """CREATE TABLE trace_blocks (
    id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,
    data BLOB NOT NULL              -- zlib of the samples of one tool's series (packing.py)
)""",
        # the block holding the series' samples; its `data` is then empty
        "ALTER TABLE trace_series ADD COLUMN block INTEGER REFERENCES trace_blocks(id)",
    ),
    # 10: an event's status as a column, whether or not it has a message (a claim check's
    # `passed` had been lost beside its message); the events written before get theirs where
    # it is known: a run's end without an error had its status for its message, a tool state
    # and a claim check had it in their data only
    10: (
        "ALTER TABLE events ADD COLUMN status TEXT",
        """UPDATE events SET status = message, message = ''
    WHERE kind = 'run-finished'
        AND message IN ('completed', 'held', 'terminated', 'aborted', 'failed')""",
        "UPDATE events SET status = json_extract(data, '$.e10') WHERE kind = 'tool-state'",
        """UPDATE events SET status = CASE
        WHEN EXISTS (SELECT 1 FROM json_each(data, '$.conditions')
                     WHERE json_extract(value, '$.verdict') = 'fail') THEN 'failed'
        WHEN NOT EXISTS (SELECT 1 FROM json_each(data, '$.conditions')
                         WHERE json_extract(value, '$.verdict') != 'pass') THEN 'passed'
        ELSE 'incomplete' END
    WHERE kind = 'claim-check' AND data IS NOT NULL""",
    ),
    # 11: whether a step put its wafer on its stage's tool or took it off, as the script
    # declares it (`stage.Handling`, decision 0094); the steps written before get it by the
    # rule an earlier packline read it by, their names: a step's name beginning `unload` took
    # the wafer off, one beginning `load` put it on (GLOB: case-sensitive, as that rule was)
    11: (
        "ALTER TABLE steps ADD COLUMN handling TEXT",  # load, unload, or NULL: neither
        """UPDATE steps SET handling = CASE
        WHEN name GLOB 'unload*' THEN 'unload' WHEN name GLOB 'load*' THEN 'load' END
    WHERE kind IN ('step', 'batch-step')""",
    ),
    # 12: what a claim check condition's checked and passing sites count, one of them: a pad,
    # a die, a wafer (a panel's site, unit, the panel) (decision 0099); a check written before
    # leaves it null, its counts shown as numbers alone
    12: ("ALTER TABLE claim_checks ADD COLUMN counted TEXT",),
    # 13: whether a claim check condition's margin limit is strict (1: a site at it fails, the
    # quantity must pass it, "must be above 0 um"); a check written before leaves it null, its
    # limits read as reached ("at least 0 um")
    13: ("ALTER TABLE claim_checks ADD COLUMN margin_strict INTEGER",),
    # 14: the fault a test injected that raised an alarm (decision 0110), null for an alarm
    # the tool raised of its own; the alarms written before get theirs by the same rule
    14: (
        "ALTER TABLE alarms ADD COLUMN injected_fault TEXT",
        f"UPDATE alarms SET injected_fault = {INJECTED_FAULT_OF_ALARM}",
    ),
    # 15: twin parts compressed with Zstandard, not zlib (decision 0113); the tables are as
    # they were, and a part a file holds from before is read as it is (by its first bytes), so
    # nothing is rewritten: the version keeps an older packline, which reads zlib alone, from
    # the file
    15: (),
    # 16: a run's events are read by their run clock (decision 0120); an event recorded of a
    # stopped run (a clear, a disposition, a fault, an archive) or found as a resume connected
    # was stamped where the run's end was taken, before its run-finished, or, of a run cut
    # off, at its start: each is raised to the latest time recorded before it (by id), so that
    # it reads after what was listed before it. One pass over the events (a window's running
    # maximum: raising a row to it leaves it as it was), not a scan of a run's events per row
    16: (
        "CREATE TEMP TABLE events_raised (id INTEGER PRIMARY KEY, latest_t REAL)",
        """INSERT INTO events_raised SELECT id, latest_t FROM (
        SELECT id, kind, t, MAX(t) OVER (PARTITION BY run_id ORDER BY id
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS latest_t FROM events)
    WHERE kind IN ('disposition', 'tool-cleared', 'fault-injected', 'fault-cleared', 'archived')
        AND t < latest_t""",
        """UPDATE events SET t = (SELECT latest_t FROM events_raised WHERE id = events.id)
    WHERE id IN (SELECT id FROM events_raised)""",
        "DROP TABLE events_raised",
    ),
    # 17: what a run's records say it could resolve (decision 0121): the step an instrument
    # reads a measurement to (a grinder's gauge, rounded down to it; null where the step
    # that took it does not say), and the options a dry run's command gave each simulated
    # tool of its session (`--sim-option`; null where none was given: the tool as the line
    # makes it, and every tool of a station); rows written before leave both null
    17: (
        "ALTER TABLE measurements ADD COLUMN resolution REAL",  # in the measurement's unit
        "ALTER TABLE tools ADD COLUMN sim_options TEXT",  # JSON object: option -> value
    ),
    # 18: where a claim condition's worst site is (decision 0127): the workpiece it is on and
    # its site or unit (null for a wafer-level condition's, and in a check written before)
    18: (
        "ALTER TABLE claim_checks ADD COLUMN margin_workpiece TEXT",
        "ALTER TABLE claim_checks ADD COLUMN margin_entry INTEGER",
    ),
    # 19: whether a measurement's value had to pass its low limit, not reach it (decision
    # 0129: a reflow's peak above the solder's liquidus, `Wafer.measure`'s `above`): 1 where
    # it had to, 0 where it may reach it; null where it has no low limit, and in a row
    # written before (read as before: the limit reached)
    19: ("ALTER TABLE measurements ADD COLUMN low_exclusive INTEGER",),
    # 20: the unit a claim condition's worst site belongs to, where that is a site (decision
    # 0131: the die of a pad, told with it); null for a unit's or a wafer's, and in a check
    # written before
    20: ("ALTER TABLE claim_checks ADD COLUMN margin_entry_unit INTEGER",),
}

#: The schema version this packline writes and reads.
SCHEMA_VERSION = max(MIGRATIONS)


def schema_version(db: sqlite3.Connection, path: Path) -> int:
    """The database's records schema version: 0 for a new, empty file. Refuses a file that
    holds tables but no version (not a packline run database) and one newer than this packline
    reads; nothing is written either way."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise BadInput(
            f"run database {path}: its records schema is version {version}, newer than "
            f"version {SCHEMA_VERSION}, the newest this packline reads; use a newer packline "
            "(the file was not changed)"
        )
    if version == 0 and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        raise BadInput(
            f"run database {path}: holds tables but no records schema version: "
            "not a packline run database (the file was not changed)"
        )
    return version


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the database to `SCHEMA_VERSION` in one transaction (a new file: create it).

    `db` is in autocommit mode (isolation_level None). The version is read again inside the
    transaction, so a process that migrated meanwhile is not migrated over."""
    if schema_version(db, path) == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(db, path)
        statements = [] if version else list(VERSION_1)
        for target in range(max(version, 1) + 1, SCHEMA_VERSION + 1):
            statements += MIGRATIONS[target]
        for statement in statements:
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
