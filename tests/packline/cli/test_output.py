"""What every command shares: a command named for the user to run next finds the run database
the command that names it was given."""

from __future__ import annotations

from pathlib import Path

from packline.cli.output import db_option
from packline.sequences.engine.records import default_db_path


def test_a_named_command_takes_the_database_unless_it_is_the_default_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert db_option(default_db_path()) == ""
    assert db_option("runs.db") == f" --db {tmp_path.resolve() / 'runs.db'}"  # from anywhere
    assert db_option(Path("my runs.db")) == f" --db '{tmp_path.resolve() / 'my runs.db'}'"
