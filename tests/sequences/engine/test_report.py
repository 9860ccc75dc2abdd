"""A run's report says why a dry run has no claim check: not yet, cut off, ended early, or a
method that declares none (sequences/engine/report.py)."""

from __future__ import annotations

import pytest

from packline.sequences.engine.report import claim_check_report


class NoClaimChecks:
    """A run store whose run recorded no claim check."""

    def table(self, name: str, run_id: str) -> list[dict[str, object]]:
        assert name == "claim_checks"
        return []


@pytest.mark.parametrize(
    ("status", "note"),
    [
        ("running", "not made yet: the run is running; it is made at the run's end"),
        ("paused", "not made yet: the run is paused; it is made at the run's end"),
        (
            "interrupted",
            "not made: the run was cut off before its end; a resume that ends it makes it",
        ),
        ("aborted", "not made: the run ended aborted before it"),
        ("completed", "none: the method declares no claim conditions"),
    ],
)
def test_a_dry_run_without_a_claim_check_says_why(status, note):
    run = {"id": "r", "simulated": 1, "status": status}
    report = claim_check_report(NoClaimChecks(), run, [])  # type: ignore[arg-type]
    assert (report["status"], report["note"]) == ("not run", note)
