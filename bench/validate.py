"""What `packline validate` costs: every reference recipe, and refused cases whose refusal works
out a least or most value (an Ar step's least time for the oxide, the last step's for the
residue, the most holes a side at which balls stay apart, the least reflow hold), each read
and judged in this process as validate does (`read_recipe_text`), the best of `--repeats`.

    python bench/validate.py [--baseline CHECKOUT] [--repeats 5]

With `--baseline`, the same cases are timed again under another checkout's code (a tree whose
`packline` is importable: PYTHONPATH=CHECKOUT), in the same run, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import yaml

from packline.sequences.engine import RecipeError, all_methods, read_recipe_text

RECIPES = resources.files("packline.sequences").joinpath("recipes")
MOUNTED = "bump-seal-clean-solder-mounted.yaml"


def _reference(name: str) -> dict[str, Any]:
    tree: dict[str, Any] = yaml.safe_load(RECIPES.joinpath(name).read_text())
    return tree


def _changed(name: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    tree = _reference(name)
    change(tree)
    return tree


def _short_ar(tree: dict[str, Any]) -> None:
    tree["cleaning"]["plasma"]["steps"][0].update(rf_power_w="100 W", time_s="60 s")


def _short_ar_after_o2(tree: dict[str, Any]) -> None:
    tree["cleaning"]["plasma"]["steps"][-1].update(time_s="30 s")


def _crowded_holes(tree: dict[str, Any]) -> None:
    tree["panel"]["holes_per_die_side"] = 40
    tree["balls"]["balls_per_unit"] = 160


def _short_reflow(tree: dict[str, Any]) -> None:
    tree["bumps"]["reflow"].update(peak_c="316 degC", peak_hold_s="1 s")


#: The refused cases: a name, the method, the reference recipe and the change.
REFUSED = [
    ("residue: Ar 100 W 60 s", "bump-seal-clean", "bump-seal-clean-plasma-ar.yaml", _short_ar),
    ("oxide: Ar 30 s after O2", "bump-seal-clean", "bump-seal-clean.yaml", _short_ar_after_o2),
    ("40 holes a side", "tape-substrate", "tape-substrate-balls.yaml", _crowded_holes),
    (
        "reflow 316 degC 1 s",
        "bump-seal-clean",
        "bump-seal-clean-solder-mounted.yaml",
        _short_reflow,
    ),
]


def cases() -> list[tuple[str, str, dict[str, Any]]]:
    """Every case: its name, its method's name and its recipe tree."""
    found = []
    for method in all_methods():
        for file in sorted(RECIPES.iterdir(), key=lambda f: f.name):
            name = file.name
            if name.startswith(method.name) and name.endswith(".yaml"):
                found.append((name, method.name, _reference(name)))
    for name, method_name, reference, change in REFUSED:
        found.append((f"refused: {name}", method_name, _changed(reference, change)))
    return found


def timings(repeats: int) -> dict[str, tuple[float, str]]:
    """Each case's best time, s, and how it ended (valid, or the refusal's last words)."""
    methods = {method.name: method for method in all_methods()}
    result = {}
    for name, method_name, tree in cases():
        text = yaml.safe_dump(tree)
        model = methods[method_name].recipe_model
        best, outcome = float("inf"), "valid"
        for _ in range(repeats):
            started = time.process_time()
            try:
                read_recipe_text(model, text, "r.yaml")
            except RecipeError as error:
                outcome = str(error).rsplit(":", 1)[-1].strip()[:60]
            best = min(best, time.process_time() - started)
        result[name] = (best, outcome)
    return result


def _timed_under(checkout: str, repeats: int) -> dict[str, tuple[float, str]]:
    """`timings` in a process of its own whose `packline` is `checkout`'s."""
    environment = {**os.environ, "PYTHONPATH": checkout}
    command = [sys.executable, __file__, "--json", "--repeats", str(repeats)]
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    timed: dict[str, tuple[float, str]] = json.loads(done.stdout)
    return timed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", help="another checkout to time the same cases under")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="turns of each, alternating")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        print(json.dumps(timings(args.repeats)))
        return 0
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkouts = {"mine": here, **({"baseline": args.baseline} if args.baseline else {})}
    best: dict[str, dict[str, tuple[float, str]]] = {}
    for _ in range(args.rounds):  # alternating, so a busy spell of the machine hits both
        for label, checkout in checkouts.items():
            for name, (seconds, outcome) in _timed_under(checkout, args.repeats).items():
                kept = best.setdefault(label, {}).get(name)
                if kept is None or seconds < kept[0]:
                    best[label][name] = (seconds, outcome)
    base = best.get("baseline", {})
    print(f"{'case':48} {'ms':>8} {'baseline':>9}  outcome")
    for name, (seconds, outcome) in best["mine"].items():
        before = f"{base[name][0] * 1000:9.1f}" if name in base else f"{'-':>9}"
        print(f"{name:48} {seconds * 1000:8.1f} {before}  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
