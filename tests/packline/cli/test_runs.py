"""`packline runs` and `show` of a run still driven say how long it has run so far."""

from __future__ import annotations

import os
import socket

from packline.cli import main
from packline.sequences.engine import RunStore


def test_a_run_still_driven_shows_its_wall_time_so_far(tmp_path, capsys):
    db = tmp_path / "runs.db"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--db", str(db)]) == 0
    store = RunStore(db)
    try:
        run_id = store.resolve_run("last")
        # driven by a live process (this test's parent), not stopped yet
        store.update_run(
            run_id,
            status="running",
            pid=os.getppid(),
            host=socket.gethostname(),
            stopped_t=None,
            stopped_wall=None,
        )
    finally:
        store.close()
    capsys.readouterr()
    assert main(["runs", "--db", str(db)]) == 0
    assert "wall so far" in capsys.readouterr().out
    assert main(["show", run_id, "--db", str(db)]) == 0
    assert "running for 0:" in capsys.readouterr().out
