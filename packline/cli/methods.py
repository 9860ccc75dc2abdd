"""The methods and their recipes (`methods`, `recipe template|schema`, `validate`) and the
claims they carry out (`claims`).

`packline methods` lists them from the catalogue (`sequences/engine/catalogue.py`) without
importing a method; every other command here imports the methods when it runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packline.rendering import DataTable
from packline.sequences.engine.catalogue import read_catalogue
from packline.sequences.engine.errors import BadInput

from .output import EXIT_OK, answer, answer_table, print_json
from .parser import add_command, add_common, add_method

if TYPE_CHECKING:
    from rich.console import Console


def cmd_methods(args: argparse.Namespace) -> int:
    if args.method is not None:
        from packline.sequences.engine.method import get_method
        from packline.sequences.engine.recipe_help import field_reference

        method = get_method(args.method)
        detail = {
            "name": method.name,
            "title": method.title,
            "tools": list(method.tools),
            "reference_recipes": method.reference_recipes(),
            "recipe": field_reference(method),
            "claims": [{"claim": c, "where": w} for c, w in method.claim_map.items()],
        }
        return answer(args, detail, lambda console: print_method(console, detail))
    methods = read_catalogue()
    return answer_table(args, methods, lambda: methods_table(methods))


def cmd_recipe_template(args: argparse.Namespace) -> int:
    from packline.sequences.engine.method import all_methods, get_method
    from packline.sequences.engine.recipe_help import recipe_template

    method = get_method(args.method)
    if args.reference is None:
        text = recipe_template(method)
    elif (name := method.reference_named(args.reference)) is not None:
        text = method.reference_recipe_text(name)[0]
    else:
        # another method's reference recipe, named by mistake: say whose it is
        owners = [m.name for m in all_methods() if m.reference_named(args.reference)]
        whose = (
            f"it is a reference recipe of {owners[0]} (`packline recipe template {owners[0]} "
            f"--from {args.reference}`); "
            if owners
            else ""
        )
        raise BadInput(
            f"--from {args.reference}: no reference recipe of {method.name} is named so; "
            f"{whose}{method.name}'s reference recipes: {', '.join(method.reference_recipes())}"
        )
    if args.to_path is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with args.to_path.open("x", encoding="utf-8") as out:  # never over a user's file
            out.write(text)
    except FileExistsError:
        raise BadInput(
            f"--to {args.to_path}: that file exists, and is never written over: give a new "
            "name, or remove it first"
        ) from None
    except OSError as error:
        raise BadInput(f"--to {args.to_path}: {error.strerror or error}") from None
    print(f"wrote {args.to_path}")
    return EXIT_OK


def cmd_recipe_schema(args: argparse.Namespace) -> int:
    from packline.sequences.engine.method import get_method
    from packline.sequences.engine.recipe_help import recipe_schema

    print(json.dumps(recipe_schema(get_method(args.method)), indent=2))
    return EXIT_OK


def cmd_claims(args: argparse.Namespace) -> int:
    from packline.sequences.engine.method import claim_coverage

    coverage = [
        {
            "claim": c.claim.id,
            "kind": c.claim.kind.value,
            "summary": c.claim.summary,
            "implemented_by": [
                {
                    "method": m,
                    "where": where,
                    "proved_by": None if proof is None else {"test": proof[0], "how": proof[1]},
                }
                for (m, where), proof in zip(c.implemented_by, c.proved_by, strict=True)
            ],
        }
        for c in claim_coverage()
    ]
    return answer(args, coverage, lambda console: print_claims(console, coverage))


def cmd_validate(args: argparse.Namespace) -> int:
    from packline.sequences.engine.method import get_method
    from packline.sequences.engine.request import RunRequest, prepare  # the station's drivers

    method = get_method(args.method)
    prepared = prepare(
        RunRequest(
            method.name,
            simulated=args.station is None,
            station_path=args.station,
            recipe_path=args.recipe,
        )
    )
    roles = method.tools_for(prepared.recipe)
    result = {
        "ok": True,
        "method": method.name,
        "recipe_source": prepared.recipe_source,
        "recipe_hash": prepared.recipe.recipe_hash(),
        "recipe": prepared.recipe.model_dump(mode="json"),
        "station": prepared.station.name if prepared.station else None,
        "tools": list(roles),
        "tool_setpoints_checked": len(prepared.recipe.tool_setpoints()),
    }
    if args.json:
        print_json(result)
    else:
        where = (
            f"station {result['station']} has a tool of each; "
            f"{result['tool_setpoints_checked']} tool setpoint(s) within its tools' limits"
            if result["station"]
            else f"{result['tool_setpoints_checked']} tool setpoint(s) within the drivers' limits"
        )
        print(
            f"{method.name}: {prepared.recipe_source} is valid "
            f"(sha256 {result['recipe_hash']}); it drives {', '.join(roles)}; "
            f"{where}"
        )
    return EXIT_OK


def methods_table(methods: list[dict[str, Any]]) -> DataTable:
    """One row per method: name, title, claims, tool roles, recipe options."""
    table = DataTable(
        "name",
        "title",
        "claims",
        "tools",
        "options",
        title="methods",
    )
    for m in methods:
        table.add_row(
            m["name"],
            m["title"],
            ", ".join(m["claims"]),
            ", ".join(m["tools"]),
            ", ".join(f"{k}={v}" for k, v in m["options"].items()),
        )
    return table


def print_method(console: Console, method: dict[str, Any]) -> None:
    """One method: its reference recipes, every field of its recipe (path, what it takes,
    range, default, doc), then each claim it carries out and where."""
    console.print(f"[bold]{method['name']}[/bold]: {method['title']}")
    console.print(
        f"tools: {', '.join(method['tools'])} (those a recipe drives: `packline validate "
        f"{method['name']} --recipe NAME`)"
    )
    console.print(
        f"reference recipes (run one with --recipe NAME): {', '.join(method['reference_recipes'])}"
    )
    fields = DataTable("field", "takes", "range", "default", "what it is", title="recipe")
    for row in method["recipe"]:
        fields.add_row(row["path"], row["takes"], row["range"], row["default"], row["doc"])
    console.print(fields)
    claims = DataTable("claim", "carried out by", title="claims")
    for row in method["claims"]:
        claims.add_row(row["claim"], row["where"])
    console.print(claims)


#: How a claim-map entry says that its method implements the claim in part.
_IN_PART = "in part: "


def print_claims(console: Console, coverage: list[dict[str, Any]]) -> None:
    """One row per claim of the catalogue and what implements it, proved how, then how many
    are implemented and proved (the proving test, the same for every claim of a method, is
    named once below the table; `--json` gives it with each)."""
    from packline.sequences.engine.method import PROOF_TEST

    table = DataTable(
        "claim",
        "kind",
        "summary",
        "method",
        "implemented by",
        "proved on the simulated line by",
        title="claims and what implements them",
    )
    for c in coverage:
        table.add_row(
            c["claim"],
            c["kind"],
            c["summary"],
            "\n".join(i["method"] for i in c["implemented_by"]) or "-",
            "\n".join(i["where"] for i in c["implemented_by"]) or "not yet implemented",
            "\n".join(
                "no test" if i["proved_by"] is None else i["proved_by"]["how"]
                for i in c["implemented_by"]
            )
            or "-",
        )
    console.print(table)
    done = sum(1 for c in coverage if c["implemented_by"])
    proved = sum(1 for c in coverage if any(i["proved_by"] for i in c["implemented_by"]))
    partly = [
        c["claim"] for c in coverage if any(_IN_PART in i["where"] for i in c["implemented_by"])
    ]
    print(f"{done} of {len(coverage)} claims implemented, {proved} proved by a test")
    if partly:
        print(f"implemented in part (what is not yet is said in its row): {', '.join(partly)}")
    print(
        "the test for each method's claims, which runs every reference recipe of the method "
        f"on the simulated line: {PROOF_TEST.format(method='METHOD')}"
    )


def _methods_arguments(methods: argparse.ArgumentParser) -> None:
    add_common(methods)
    methods.add_argument(
        "method", nargs="?", help="show this method: every recipe field, and its claims"
    )
    methods.set_defaults(handler=cmd_methods)


def _recipe_arguments(recipe: argparse.ArgumentParser) -> None:
    recipe_commands = recipe.add_subparsers(dest="recipe_command", required=True)
    template = add_command(
        recipe_commands,
        "template",
        "the default recipe as YAML with every field's unit, range and default commented",
    )
    add_method(template, "the method whose recipe it gives")
    template.add_argument(
        "--to",
        dest="to_path",
        type=Path,
        metavar="FILE",
        help="write it to this new file (default: print it)",
    )
    template.add_argument(
        "--from",
        dest="reference",
        metavar="NAME",
        help="one of the method's reference recipes as shipped, its comments included "
        "(`packline methods METHOD` lists them), instead of the commented template",
    )
    template.set_defaults(handler=cmd_recipe_template)
    schema = add_command(
        recipe_commands, "schema", "the recipe's JSON schema, with each field's unit and range"
    )
    add_method(schema, "the method whose recipe's schema it gives")
    schema.set_defaults(handler=cmd_recipe_schema)


def _claims_arguments(claims: argparse.ArgumentParser) -> None:
    add_common(claims)
    claims.set_defaults(handler=cmd_claims)


def _validate_arguments(validate: argparse.ArgumentParser) -> None:
    add_common(validate)
    add_method(validate, "the method whose recipe it checks")
    validate.add_argument(
        "--recipe",
        metavar="FILE|NAME",
        help="a recipe file, or a reference recipe's name (default: the method's shipped recipe)",
    )
    validate.add_argument(
        "--station",
        type=Path,
        metavar="FILE",
        help="a station file: the recipe is checked against its tools (it has one of each the "
        "recipe drives, each setpoint within its limits), none contacted (default: against "
        "the drivers' limits)",
    )
    validate.set_defaults(handler=cmd_validate)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "methods": _methods_arguments,
    "recipe": _recipe_arguments,
    "claims": _claims_arguments,
    "validate": _validate_arguments,
}
