"""The sequence engine: lots of wafers through shared tools, checkpoints and resume, pause and
abort, durable run records and progress. Sequence scripts need only this module's names.

See docs/engine.md (users) and docs/sequences.md (writing a sequence).
"""

from typing import TYPE_CHECKING

from packline.lazy import load_on_use

if TYPE_CHECKING:
    from .claim_check import Condition, ConditionResult, Margin
    from .control import RunState
    from .dispositions import Decision, record_disposition
    from .engine import Engine, RunSpec, TwinsAtSteps
    from .errors import (
        BadInput,
        OutOfLimits,
        RecipeError,
        RecordsUnwritable,
        RunNotRecorded,
        RunTerminated,
        StepError,
        StepFailed,
        ToolRefusal,
    )
    from .events import Event, Observer
    from .launch import open_resume, open_run
    from .live_view import LiveView
    from .liveness import driver_text, is_alive, shown_status
    from .method import (
        ClaimCoverage,
        FailurePolicy,
        Method,
        all_methods,
        claim_coverage,
        get_method,
        method,
    )
    from .progress import JsonLines, PlainLog
    from .recipe import (
        ClaimIds,
        Recipe,
        ToolSetpoint,
        claim_violation,
        every_problem,
        field_problem,
        least_whole,
        leaving_unknown,
        load_recipe,
        read_recipe_text,
        recipe_check,
    )
    from .recipe_help import field_reference, recipe_schema, recipe_template
    from .recipe_meta import Feeds, NeededWhen
    from .recorder import ConfirmFn
    from .records import RunStore, default_db_path
    from .report import before_after, run_report, wafer_history
    from .request import RunRequest, prepare
    from .stage import Handling
    from .tools import ConnectedTools
    from .wafer import Batch, Wafer

__all__ = [
    "BadInput",
    "Batch",
    "ClaimCoverage",
    "ClaimIds",
    "Condition",
    "ConditionResult",
    "ConfirmFn",
    "ConnectedTools",
    "Decision",
    "Engine",
    "Event",
    "FailurePolicy",
    "Feeds",
    "Handling",
    "JsonLines",
    "LiveView",
    "Margin",
    "Method",
    "NeededWhen",
    "Observer",
    "OutOfLimits",
    "PlainLog",
    "Recipe",
    "RecipeError",
    "RecordsUnwritable",
    "RunNotRecorded",
    "RunRequest",
    "RunSpec",
    "RunState",
    "RunStore",
    "RunTerminated",
    "StepError",
    "StepFailed",
    "ToolRefusal",
    "ToolSetpoint",
    "TwinsAtSteps",
    "Wafer",
    "all_methods",
    "before_after",
    "claim_coverage",
    "claim_violation",
    "default_db_path",
    "driver_text",
    "every_problem",
    "field_problem",
    "field_reference",
    "get_method",
    "is_alive",
    "least_whole",
    "leaving_unknown",
    "load_recipe",
    "method",
    "open_resume",
    "open_run",
    "prepare",
    "read_recipe_text",
    "recipe_check",
    "recipe_schema",
    "recipe_template",
    "record_disposition",
    "run_report",
    "shown_status",
    "wafer_history",
]

load_on_use(__name__)
