"""`packline run --sim --fault TOOL:FAULT[@STEP]`: a simulated tool's fault in a dry run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from packline.cli import main
from packline.cli.faults import read_faults
from packline.sequences.engine import RunStore, schedule
from packline.sequences.engine.errors import BadInput
from packline.sequences.engine.method import get_method
from packline.sequences.engine.schedule import RecipeOutline


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "runs.db"
    monkeypatch.setenv("PACKLINE_DB", str(path))
    return path


def test_a_fault_injected_when_a_step_starts_holds_its_wafers(db, capsys):
    fault = "plasma_cleaner:rf_mismatch@plasma clean"
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--json", "--fault", fault]) == 1
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["status"] == "held"
    assert {w["status"] for w in summary["wafers"]} == {"held"}
    assert all("REFLECTED_POWER" in w["reason"] for w in summary["wafers"])


def test_a_dry_run_whose_wafers_were_all_held_says_in_one_line_that_nothing_was_checked(db, capsys):
    """Its claim check had printed a table of conditions each checked on no wafer, the wafers
    not checked, and every condition again as `not checked`: all of it the summary's news."""
    fault = "plasma_cleaner:rf_mismatch@plasma clean"
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--fault", fault]) == 1
    out = capsys.readouterr().out
    assert "] claim-check incomplete: nothing checked: no wafer completed the method\n" in out
    said = [line for line in out.splitlines() if "claim check" in line]
    assert said == ["claim check incomplete: nothing checked: no wafer completed the method"]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("oven:zone_heater", "the dry run of plasma-clean has no tool 'oven'; its tools: plasma"),
        ("plasma_cleaner:rf", "has no fault 'rf'; its faults: rf_mismatch, chamber_leak"),
        ("plasma_cleaner:rf_mismatch@", "no step named after '@'"),
        ("plasma_cleanr:rf_mismatch", "its tools: plasma_cleaner (did you mean 'plasma_cleaner'?)"),
        ("plasma_cleaner:rf_mismach", "abort_ignored (did you mean 'rf_mismatch'?)"),
        ("plasma_cleaner:RF_MISMATCH", "abort_ignored (did you mean 'rf_mismatch'?)"),
        ("plasma_cleaner", "--fault plasma_cleaner: give it as TOOL:FAULT[@STEP]"),
    ],
)
def test_a_wrong_fault_is_bad_input_and_runs_nothing(db, capsys, fault, message):
    assert main(["run", "plasma-clean", "--sim", "--fault", fault]) == 2
    assert message in capsys.readouterr().err
    assert not db.exists()


def test_every_wrong_fault_is_named_at_once(db, capsys):
    """Three --fault options, two wrong: both are named, a line each, and nothing runs (an
    operator had fixed the first only to be told of the second)."""
    faults = ["plasma_cleaner:rf_mismatch", "plasma_cleanr:rf_mismatch", "plasma_cleaner:rf"]
    assert main(["run", "plasma-clean", "--sim", *(f"--fault={f}" for f in faults)]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "packline: error: --fault plasma_cleanr:rf_mismatch: the dry run of plasma-clean has no "
        "tool 'plasma_cleanr'; its tools: plasma_cleaner (did you mean 'plasma_cleaner'?)",
        "--fault plasma_cleaner:rf: the simulated plasma_cleaner has no fault 'rf'; its faults: "
        "rf_mismatch, chamber_leak, gas_supply, door_switch, throttle_valve, rf_calibration, "
        "abort_ignored (did you mean 'rf_mismatch' or 'rf_calibration'?)",
        REFUSED.rstrip("\n"),
    ]
    assert captured.out == ""
    assert not db.exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ["--fault", "pc:rf_mismatch"],
            "--fault: faults are injected into a dry run's simulated tools (--sim); on a line "
            "`packline sim serve` serves, inject one from another terminal with `packline sim "
            "fault TOOL FAULT --station FILE`",
        ),
        (
            ["--sim-option", "pc:capacity=2"],
            "--sim-option: sets an option of a dry run's simulated tool (--sim); a station's "
            "tools are as they are",
        ),
    ],
    ids=["fault", "sim-option"],
)
def test_a_fault_or_a_sim_option_is_for_a_dry_run(db, tmp_path, capsys, option, message):
    """`--fault` and `--sim-option` (cli/sim_options.py) change a dry run's simulated tools;
    on a station they are refused before any tool is contacted."""
    station = tmp_path / "line.yaml"
    station.write_text(
        "name: l\ntools:\n  pc: {driver: plasma_cleaner, address: 'modbus+tcp://127.0.0.1:1'}\n"
    )
    assert main(["run", "plasma-clean", "--station", str(station), *option]) == 2
    assert message in capsys.readouterr().err


#: What a `--fault` says before its recipe's plan is made (no run of it completed yet).
PLANNING = (
    "packline: checking --fault against a one-wafer plan of the recipe (a dry run of one wafer, "
    "kept for the next runs in runs.db.plans beside the run database: a cache, safe to delete; "
    "up to 300 s) ...\n"
)


#: The line a run refused before any tool was contacted ends its refusal with.
REFUSED = "run refused: nothing was run and nothing was recorded; no tool was contacted\n"


def refused_before_anything_runs(args: list[str], db: Path, capsys) -> str:
    """The error of a command refused as bad input (exit 2) before any tool moved, without
    the line saying so (`REFUSED`, which it must end with): nothing said of a run, no run
    recorded (the recipe's plan, a cache, is beside the database)."""
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert not db.exists()
    assert captured.err.endswith(REFUSED)
    return captured.err.removesuffix(REFUSED)


def test_a_misspelt_step_is_named_with_a_wrong_tool_in_one_refusal(db, capsys):
    """The trial's three options: a misspelt step, a wrong tool and a right one. The step was
    named only once the tool was put right, a second round; both are named at once now."""
    faults = ["plasma_cleaner:rf_mismatch@plasma clen", "ovn:n2_supply", "plasma_cleaner:rf"]
    run = ["run", "plasma-clean", "--sim", "--lot", "2", *(f"--fault={f}" for f in faults)]
    refusal = refused_before_anything_runs(run, db, capsys).removeprefix(PLANNING)
    assert refusal.splitlines() == [
        "packline: error: --fault ovn:n2_supply: the dry run of plasma-clean has no tool 'ovn'; "
        "its tools: plasma_cleaner",
        "--fault plasma_cleaner:rf: the simulated plasma_cleaner has no fault 'rf'; its faults: "
        "rf_mismatch, chamber_leak, gas_supply, door_switch, throttle_valve, rf_calibration, "
        "abort_ignored (did you mean 'rf_mismatch' or 'rf_calibration'?)",
        "--fault 'plasma_cleaner:rf_mismatch@plasma clen': a dry run of plasma-clean on this "
        "recipe starts no step 'plasma clen'; its steps: batch plasma_cleaner, open door, load, "
        "close door, pump down, plasma clean, vent, unload (did you mean 'plasma clean'?)",
    ]


def test_a_misspelt_step_is_refused_before_anything_runs_naming_the_steps(db, capsys):
    """A new user's misspelt step was said only at the end of the run, not injected: the
    run had gone its whole way without the fault. The refusal names the steps spelt closest."""
    fault = "plasma_cleaner:rf_mismatch@plasma clen"
    run = ["run", "plasma-clean", "--sim", "--lot", "2", "--fault", fault]
    assert refused_before_anything_runs(run, db, capsys) == PLANNING + (
        "packline: error: --fault 'plasma_cleaner:rf_mismatch@plasma clen': a dry run of "
        "plasma-clean on this recipe starts no step 'plasma clen'; its steps: batch "
        "plasma_cleaner, open door, load, close door, pump down, plasma clean, vent, unload "
        "(did you mean 'plasma clean'?)\n"
    )
    # the recipe's steps are kept: a later run is refused from them (as a wrong tool is),
    # planning nothing
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--fault", fault]) == 2
    assert PLANNING not in capsys.readouterr().err
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--fault", "pc:rf_mismatch"]) == 2
    assert "has no tool 'pc'" in capsys.readouterr().err


def test_the_plan_is_made_from_a_folder_holding_a_checkout_named_packline(
    db, tmp_path, monkeypatch, capsys
):
    """A new user ran from the folder they had cloned packline into: the planning dry run,
    `python -m packline` there, imported the checkout's folder as the package and failed, and
    the misspelt step went unchecked. The plan's interpreter leaves the working folder off its
    path (`python -P`)."""
    (tmp_path / "packline").mkdir()
    monkeypatch.chdir(tmp_path)
    fault = "plasma_cleaner:rf_mismatch@plasma clen"
    run = ["run", "plasma-clean", "--sim", "--lot", "2", "--fault", fault]
    assert "starts no step 'plasma clen'" in refused_before_anything_runs(run, db, capsys)


def test_a_fault_on_a_tool_the_recipe_never_uses_is_refused_before_anything_runs(db, capsys):
    """A new user's fault on a tool of the method that the recipe's steps never use went the
    run's whole way unmet: the oven of bump-seal-clean, the plasma chamber of its laser
    recipe, which cleans the tips with the laser instead."""
    run = ["run", "bump-seal-clean", "--sim", "--fault", "oven:n2_supply"]
    assert refused_before_anything_runs(run, db, capsys) == (  # known without a plan: 0093
        "packline: error: --fault oven:n2_supply: bump-seal-clean on this recipe drives no tool "
        "'oven' (its dry run has none); the tools it drives: wire_bonder, laminator, "
        "plasma_cleaner, dicing_saw\n"
    )
    laser = ["run", "bump-seal-clean", "--sim", "--recipe", "bump-seal-clean-laser"]
    at_laser_clean = [*laser, "--fault", "plasma_cleaner:rf_mismatch@laser clean"]
    assert "drives no tool 'plasma_cleaner' (its dry run has none); the tools it drives: " in (
        refused_before_anything_runs(at_laser_clean, db, capsys)
    )


def test_a_fault_is_not_refused_for_a_tool_the_recipe_s_records_do_not_name(capsys):
    """The tools a run recorded before schema 3 used are not known (it kept none of their
    roles): its faults' tools are not checked against them, as a step is not without steps,
    and a warning says so."""
    method = get_method("bump-seal-clean")
    steps = ["use wire_bonder", "form bumps"]
    roles = method.tools
    (fault,) = read_faults(["oven:n2_supply"], method, roles, lambda: RecipeOutline(steps, None))
    assert (fault.tool, fault.fault, fault.step) == ("oven", "n2_supply", None)
    assert capsys.readouterr().err == (
        "packline: warning: --fault oven:n2_supply: tool 'oven' not checked against the recipe: "
        "the run of it read for this was recorded before schema 3, with no roles of its tools; "
        "a tool no step of it uses is never met\n"
    )
    with pytest.raises(BadInput, match="starts no step 'cure'; its steps: use wire_bonder,"):
        read_faults(["oven:n2_supply@cure"], method, roles, lambda: RecipeOutline(steps, None))


def test_a_fault_on_a_tool_the_recipe_does_not_drive_is_refused_without_a_plan():
    """Its dry run serves only the tools the recipe drives (decision 0093): a plasma clean's
    line has no laser, told at once, before any plan of the recipe is asked for."""
    method = get_method("bump-seal-clean")
    recipe, _ = method.load_default_recipe()

    def no_plan() -> RecipeOutline:
        raise AssertionError("the recipe was planned")

    with pytest.raises(BadInput) as refused:
        read_faults(["laser:power_drift"], method, method.tools_for(recipe), no_plan)
    assert str(refused.value) == (
        "--fault laser:power_drift: bump-seal-clean on this recipe drives no tool 'laser' (its "
        "dry run has none); the tools it drives: wire_bonder, laminator, plasma_cleaner, "
        "dicing_saw"
    )


def test_a_fault_on_a_tool_the_recipe_s_plan_never_uses_is_refused_naming_those_it_does():
    """A tool of a role the recipe drives that its plan (or its last run) never used: a
    method that declares no `recipe_tools` drives every role of its own."""
    method = get_method("bump-seal-clean")
    plan = RecipeOutline(["use wire_bonder", "form bumps"], ["wire_bonder"])
    with pytest.raises(BadInput) as refused:
        read_faults(["oven:n2_supply"], method, method.tools, lambda: plan)
    assert str(refused.value) == (
        "--fault oven:n2_supply: a dry run of bump-seal-clean on this recipe never uses tool "
        "'oven'; the tools it uses: wire_bonder"
    )


def test_a_fault_the_recipe_s_plan_cannot_check_is_run_with_a_warning_naming_what_is_not(
    db, capsys, monkeypatch
):
    """A plan that cannot tell (here: not done within the wait) leaves the fault's tool and
    step unchecked: the run goes ahead, and a warning says which, where it said nothing."""
    monkeypatch.setattr(schedule, "PLAN_WAIT_S", 0.5)
    fault = "plasma_cleaner:rf_mismatch@plasma clean"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--fault", fault]) == 1  # held
    assert capsys.readouterr().err == (
        "packline: checking --fault against a one-wafer plan of the recipe (a dry run of one "
        "wafer, kept for the next runs in runs.db.plans beside the run database: a cache, safe "
        "to delete; up to 0.5 s) ...\n"
        "packline: warning: --fault plasma_cleaner:rf_mismatch@plasma clean: tool "
        "'plasma_cleaner' and step 'plasma clean' not checked against the recipe: no run of it "
        "completed its wafers, nor did its one-wafer plan within 0.5 s; a tool no step of it "
        "uses is never met\n"
    )


def test_a_plan_that_failed_says_what_it_said(db, capsys, monkeypatch):
    """A plan that ended without its wafer was said to have held it, or not to be done in
    time, whatever stopped it: the warning says what the plan itself said of its end (not a
    warning's line of source after it)."""

    def failing(
        db: Path, method: str, recipe_text: str, lot: int, workdir: Path
    ) -> subprocess.Popen:
        (workdir / schedule.PLAN_LOG).write_text(
            "Traceback ...\nOSError: disk full\n/x.py:1: UserWarning: x\n  warnings.warn(x)\n"
        )
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    monkeypatch.setattr(schedule, "plan_recipe", failing)
    fault = "plasma_cleaner:rf_mismatch@plasma clean"
    assert main(["run", "plasma-clean", "--sim", "--quiet", "--fault", fault]) == 1  # held
    assert (
        "not checked against the recipe: no run of it completed its wafers, nor did its "
        "one-wafer plan (exit 3: OSError: disk full); a tool no step of it uses is never met\n"
    ) in capsys.readouterr().err


def test_a_stacked_recipe_s_fault_step_is_checked_against_a_plan_of_a_whole_stack(db, capsys):
    """A stacked recipe (stack.levels = 5) refuses a lot of 1, so its one-wafer plan failed
    and a misspelt step ran unchecked with a warning (`nor did its one-wafer plan (exit 2:
    error: a lot of 1: stack.levels = 5: ...`): its plan is of the least lot it makes, a
    whole stack, and the step is refused naming the one meant."""
    fault = "flip_chip_bonder:door_open@stack packagez"
    run = ["run", "tape-substrate", "--sim", "--lot", "5", "--recipe", "tape-substrate-stacked"]
    refusal = refused_before_anything_runs([*run, "--fault", fault], db, capsys)
    assert refusal.startswith(
        "packline: checking --fault against a 5-wafer plan of the recipe (a dry run of 5 "
        "wafers, the least lot the recipe makes, kept for the next runs in runs.db.plans "
    )
    assert refusal.endswith(
        "stack packages, unload packages from die supply, unload stack from "
        "flip-chip bonder (did you mean 'stack packages'?)\n"
    )
    assert "warning" not in refusal


def test_a_fault_whose_step_never_starts_is_said_not_injected(db, capsys):
    """A step of the recipe that this run never reaches: its wafer is held before it."""
    leak, at_clean = "plasma_cleaner:chamber_leak", "plasma_cleaner:rf_mismatch@plasma clean"
    args = ["run", "plasma-clean", "--sim", "--quiet", "--fault", leak, "--fault", at_clean]
    assert main(args) == 1
    assert "was not injected: no step 'plasma clean' started" in capsys.readouterr().err


def test_a_fault_injected_is_in_the_runs_records(db, capsys):
    """A new user reading a run with an injected fault saw an alarm that looked like the
    line's own: the run records each fault it injected, which `show` lists; one never due is
    not recorded."""
    at_clean, at_vent = "plasma_cleaner:rf_mismatch@plasma clean", "plasma_cleaner:gas_supply@vent"
    args = ["run", "plasma-clean", "--sim", "--quiet", "--fault", at_clean, "--fault", at_vent]
    assert main(args) == 1
    capsys.readouterr()
    assert main(["show", "last"]) == 0
    injected = [line for line in capsys.readouterr().out.splitlines() if "fault-injected" in line]
    assert len(injected) == 1
    assert "fault-injected plasma_cleaner rf_mismatch: --fault " + at_clean in injected[0]


def test_resume_injects_a_fault_into_the_dry_runs_next_session(db, capsys):
    fault = "plasma_cleaner:rf_mismatch@plasma clean"
    run = ["run", "plasma-clean", "--sim", "--lot", "6", "--failure-policy", "stop", "--json"]
    assert main([*run, "--fault", fault]) == 1
    first = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert first["status"] == "terminated"
    # W05 and W06 queued for the chamber when it alarmed: held at once for want of it
    assert [w["status"] for w in first["wafers"]] == ["held"] * 6
    # the chamber alarmed: the resume uses it only once someone cleared it
    assert main(["clear-tool", first["run_id"], "plasma_cleaner", "--by", "ana"]) == 0
    assert "plasma_cleaner cleared by ana while the run was terminated" in capsys.readouterr().out

    assert main(["resume", first["run_id"], "--sim", "--json", "--fault", fault]) == 1
    second = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [w["status"] for w in second["wafers"]] == ["held"] * 6  # W05, W06 alarmed too
    assert all("REFLECTED_POWER" in w["reason"] for w in second["wafers"])


@pytest.mark.parametrize("again", [False, True])
def test_a_dry_run_s_resume_reads_a_fault_its_fresh_line_lacks_as_cleared(db, capsys, again):
    """A dry run held by its --fault, reworked and its chamber cleared, read `completed; fault
    injected: plasma_cleaner rf_mismatch` once resumed, where the resume's fresh line never had
    the fault (a resume on a served line that cleared it reads `(cleared)`): the resume
    records it cleared as it starts, saying why; given --fault again, it is injected again."""
    fault = "plasma_cleaner:rf_mismatch"
    assert main(["run", "plasma-clean", "--sim", "--lot", "2", "--quiet", "--fault", fault]) == 1
    for wafer in ("W01", "W02"):
        assert main(["disposition", "last", wafer, "rework", "--by", "ana", "--reason", "r"]) == 0
    assert main(["clear-tool", "last", "plasma_cleaner", "--by", "ana"]) == 0
    capsys.readouterr()
    resume = ["resume", "last", "--sim", *(["--fault", fault] if again else [])]
    assert main(resume) == (1 if again else 0)
    out = capsys.readouterr().out
    fresh = (
        "fault-cleared plasma_cleaner rf_mismatch: rf_mismatch not on the fresh simulated line "
        "this resume started (a dry run's resume starts its line anew, with no fault but its "
        "own --fault)"
    )
    assert (fresh in out) is not again
    (run,) = json.loads(main_out(["runs", "--json"], capsys))
    cleared = [each["cleared"] is not None for each in run["faults_injected"]]
    assert cleared == ([False, False] if again else [True])
    said = "; fault injected: plasma_cleaner rf_mismatch"
    assert run["status"] == ("held" if again else "completed")
    assert (said + " (cleared)" in out) is not again


def main_out(args: list[str], capsys) -> str:
    """What `packline ARGS` prints, once it exits 0."""
    assert main(args) == 0
    return capsys.readouterr().out


def test_resume_refuses_a_wrong_fault_before_anything_runs(db, capsys):
    assert main(["run", "plasma-clean", "--sim", "--lot", "6", "--quiet", "--fault",
                 "plasma_cleaner:chamber_leak", "--failure-policy", "stop"]) == 1  # fmt: skip
    capsys.readouterr()
    assert main(["resume", "last", "--sim", "--fault", "plasma_cleaner:nope"]) == 2
    assert "the simulated plasma_cleaner has no fault 'nope'" in capsys.readouterr().err
    assert main(["resume", "last", "--sim", "--fault", "plasma_cleaner:rf_mismatch@vnet"]) == 2
    assert "starts no step 'vnet'; its steps: batch plasma_cleaner, open door," in (
        capsys.readouterr().err
    )
    assert main(["show", "last", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["sessions"] == 1  # nothing resumed


def test_resume_refuses_a_fault_on_a_tool_the_recipe_never_uses(db, capsys):
    run = ["run", "bump-seal-clean", "--sim", "--quiet", "--failure-policy", "stop"]
    assert main([*run, "--fault", "wire_bonder:cover_open"]) == 1
    capsys.readouterr()
    assert main(["resume", "last", "--sim", "--fault", "oven:n2_supply"]) == 2
    assert "drives no tool 'oven' (its dry run has none); the tools it drives: wire_bonder," in (
        capsys.readouterr().err
    )
    assert main(["show", "last", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["sessions"] == 1  # nothing resumed


def test_a_resume_refused_says_nothing_of_its_faults(db, capsys):
    run = ["run", "plasma-clean", "--sim", "--lot", "6", "--quiet", "--failure-policy", "hold"]
    assert main([*run, "--fault", "plasma_cleaner:rf_mismatch@plasma clean"]) == 1
    capsys.readouterr()
    assert main(["resume", "last", "--sim", "--fault", "plasma_cleaner:rf_mismatch"]) == 2
    error = capsys.readouterr().err
    # W05 and W06 waited for the alarmed chamber: they run again once it is cleared
    assert "plasma_cleaner is out of service until someone clears it" in error
    assert "nothing resumed" in error
    assert "not injected" not in error


def test_a_fault_the_tool_clears_itself_in_a_dry_run_is_recorded_cleared_as_it_goes(
    db, tmp_path, capsys
):
    """A new user's dry run with `--fault dicing_saw:blade_crack` completed reading `fault
    injected: dicing_saw blade_crack`, though its own blade preparation had installed a new
    blade (which cures the crack): the clear was told to no run. Now the run records it as it
    goes, by nobody, saying how (decision 0119), and reads `(cleared)`."""
    from ...sequences.helpers import reference_with

    recipe = tmp_path / "thicker-blade.yaml"  # a blade other than the saw's: it is changed
    recipe.write_text(yaml.safe_dump(
        reference_with("bump-seal-clean.yaml", "dicing.blade_thickness_um", "30 um")
    ))  # fmt: skip
    run = ["run", "bump-seal-clean", "--sim", "--recipe", str(recipe), "--quiet"]
    assert main([*run, "--fault", "dicing_saw:blade_crack"]) == 0
    assert "completed; fault injected: dicing_saw blade_crack (cleared)" in capsys.readouterr().out
    store = RunStore(str(db), create=False)
    try:
        (run_id,) = [row["id"] for row in store.runs()]
        (cleared,) = [e for e in store.events(run_id) if e["kind"] == "fault-cleared"]
    finally:
        store.close()
    assert (cleared["tool"], cleared["status"]) == ("dicing_saw", "blade_crack")
    assert cleared["message"] == "blade_crack cleared on the tool (a new blade installed)"
    assert cleared["data"] == {
        "fault": "blade_crack",
        "by": None,
        "cleared_on_tool": "a new blade installed",
    }
