"""How generated bad input ends: every method's reference recipes and a station file, changed
in one place a thousand ways each (`packline.testing.mutations`).

    python bench/bad_input.py [--cases 1000]

Prints, per document, how many changed documents were refused (and with which kind of
error), and lists those accepted, so a person can judge that each still means something valid.
"""

from __future__ import annotations

import argparse
import random
import sys
import traceback
from collections import Counter

import yaml

from packline.files import FileProblem, parse_yaml
from packline.sequences.engine import RecipeError, all_methods, read_recipe_text
from packline.sequences.engine.request import check_tool_limits, tool_limits
from packline.station import StationError, parse_station
from packline.testing.mutations import mutations

STATION = yaml.safe_load(
    """
name: line
tools:
  plasma_cleaner: {driver: plasma_cleaner, address: "modbus+tcp://127.0.0.1:5020",
                   options: {device_id: 1, timeout_s: 2.0}, limits: {rf_power_w: [100, 600]},
                   capacity: 4}
  laser: {driver: laser, address: "TCPIP0::127.0.0.1::5025::SOCKET", poll_interval_s: 0.5}
  wire_bonder: {driver: wire_bonder, address: "socket://127.0.0.1:4001"}
"""
)


def kind_of(message: str) -> str:
    for words in ("not valid YAML", "given twice", "not a field of", "Field required",
                  "outside the", "must be", "is not a quantity", "expected a", "no unit",
                  "is a ", "claim "):  # fmt: skip
        if words in message:
            return words
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args()
    crashed = 0
    documents = []
    for method in all_methods():
        for name in method.reference_recipes():
            text, _ = method.reference_recipe_text(name)
            documents.append((method, f"{name}.yaml", yaml.safe_load(text)))
    for method, name, base in documents:
        limits = tool_limits(method, None)
        outcomes: Counter[str] = Counter()
        accepted = []
        for change, text in mutations(base, random.Random(name), args.cases):
            try:
                recipe = read_recipe_text(method.recipe_model, text, "r.yaml")
                check_tool_limits(recipe, "r.yaml", limits, text)
            except RecipeError as error:
                outcomes[f"refused ({kind_of(str(error))})"] += 1
            except Exception:
                crashed += 1
                outcomes["TRACEBACK"] += 1
                traceback.print_exc()
            else:
                outcomes["accepted"] += 1
                accepted.append(change)
        print(f"{name}: {sum(outcomes.values())} cases: {dict(sorted(outcomes.items()))}")
        for change in sorted(set(accepted)):
            print(f"    accepted: {change}")
    outcomes = Counter()
    for change, text in mutations(STATION, random.Random(0), args.cases):
        try:
            parse_station(parse_yaml(text, "station"), "station")
        except StationError:
            outcomes["refused"] += 1
        except FileProblem:
            outcomes["refused (not valid YAML)"] += 1
        except Exception:
            crashed += 1
            outcomes["TRACEBACK"] += 1
            traceback.print_exc()
        else:
            outcomes["accepted"] += 1
            print(f"    station accepted: {change}")
    print(f"station file: {sum(outcomes.values())} cases: {dict(sorted(outcomes.items()))}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
