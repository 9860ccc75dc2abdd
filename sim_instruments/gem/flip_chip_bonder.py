"""The simulated flip-chip bonder as a GEM equipment: `SimFlipChipBonder` behind E30.

As for the wire bonder and the dicing saw (here), the model drives the simulated bonder through
its own command interpreter in process, so the GEM bonder refuses what the host-link bonder
refuses, with the same physics on the same twin; its status variables are the bonder's own
query answers (`STAT?`, `RESULT?`, `XFER?`, `FRAME?`, `UNITS?`, `ILK?`). The recipe (and the
transfer sheet's solder and film, the frame's sizes) is held as equipment constants and sent
with `BOND` (or `XFER`, `FRAME`) when a run starts. While a run goes on, a watcher brings the
bonder to the present on the line's clock, at most a second of process time apart and at the
run's planned end, and reports what happened: S5F1 for each alarm, then `run_ended` (or
`transfer_ended`, `frame_ended`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from packline.clock import Clock
from packline.drivers.families.ascii_host import encode, host_interlocks
from packline.drivers.specs.flip_chip_bonder import (
    FRAME_SETPOINTS,
    RECIPE_SETPOINTS,
    REPLIES,
    SPEC,
)

from ..flip_chip_bonder import SimFlipChipBonder
from ..twin import TwinStore
from .host_link import HostLinkModel


def _text(word: str) -> str:
    return "" if word == "-" else word


#: Each status variable: the bonder's query, the field of its answer and how it reads (an
#: inspection's by the spec's replies, a token as its text).
_SOURCES: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "state": ("STAT?", "STATE", str),
    "substrate_id": ("STAT?", "SUBSTRATE", _text),
    "source_id": ("STAT?", "SOURCE", _text),
    "dies_left": ("STAT?", "LEFT", int),
    "dies_done": ("STAT?", "DONE", int),
    "dies_total": ("STAT?", "TOTAL", int),
    "stage_temperature_c": ("STAT?", "STAGE", float),
    "remaining_s": ("STAT?", "REMAIN", float),
    "runs_completed": ("STAT?", "RUNS", int),
    **{variable: source for reply in REPLIES for variable, source in reply.status_sources.items()},
    **{i.name: ("ILK?", i.key, lambda flag: flag == "1") for i in host_interlocks(SPEC)},
}
#: What a status variable reads while its query answers `NONE` (no run, no transfer yet).
_NONE: dict[Callable[[str], Any], Any] = {int: 0, float: 0.0, str: ""}

#: The remote commands that are one line of the bonder.
_COMMAND_LINES = {
    "load": "LOAD",
    "unload": "UNLOAD",
    "load_source": "SRC:LOAD",
    "unload_source": "SRC:UNLOAD",
    "abort": "STOP",
    "clear_alarms": "RST",
}

#: The recipe a new tool holds: a solder filler's joint (est, mid-window), and its sheet.
DEFAULT_RECIPE: dict[str, Any] = {
    "head_temperature_c": 250.0,
    "stage_temperature_c": 150.0,
    "bond_force_n": 20.0,
    "bond_time_s": 5.0,
    "transfer_alloy": "Sn63Pb37",
    "film_um": 20.0,
    "frame_um": 400.0,
    "column_diameter_um": 80.0,
    "column_protrusion_um": 50.0,
}
#: Each run's remote command: its command word and the event that tells its end.
_RUNS = {
    "bond": ("BOND", "run_ended"),
    "transfer": ("XFER", "transfer_ended"),
    "frame": ("FRAME", "frame_ended"),
}
#: The parameters of each run's remote command: the first two arguments of its line.
_RUN_PARAMETERS = ("first_unit", "unit_count")


class GemFlipChipBonderModel(HostLinkModel):
    """The GEM face of a `SimFlipChipBonder` (built here on the line's twin and clock)."""

    tool: SimFlipChipBonder
    spec = SPEC

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimFlipChipBonder(name, twin, clock, **options))
        self.recipe = dict(DEFAULT_RECIPE)

    # ----------------------------------------------------------------- values

    def status(self, name: str) -> Any:
        if name == "serial_number":
            return self.tool.serial_number
        if name == "unit_count":
            self.tool.advance()
            wafer_id = self.tool.wafer_id
            return 0 if wafer_id is None else self.tool.twin.get(wafer_id).geometry.unit_count
        query, key, read = _SOURCES[name]
        fields = self.fields(query)
        if key not in fields:  # RESULT? answered NONE
            return _NONE[read]
        return read(fields[key])

    def constant(self, name: str) -> Any:
        return self.recipe[name]

    def set_constants(self, values: Mapping[str, Any]) -> None:
        self.recipe |= values

    # ----------------------------------------------------------------- commands

    async def command(self, name: str, parameters: Mapping[str, Any]) -> int:
        if name in _RUNS:
            word, event = _RUNS[name]
            sheet = []
            if name == "transfer":
                sheet = [
                    self.recipe["transfer_alloy"],
                    encode(SPEC, "film_um", self.recipe["film_um"]),
                ]
            if name == "frame":
                sheet = [encode(SPEC, value, self.recipe[value]) for value in FRAME_SETPOINTS]
            recipe = (
                encode(SPEC, setpoint, self.recipe[setpoint]) for setpoint in RECIPE_SETPOINTS
            )
            first, count = parameters["first_unit"], parameters["unit_count"]
            self.ask(" ".join([word, str(first), str(count), *sheet, *recipe]), _RUN_PARAMETERS)
            self.watch(lambda: self.follow(self._run_end_s, event))
            return 4
        return await self.command_line(_COMMAND_LINES[name], parameters)

    def _run_end_s(self) -> float | None:
        """The planned end of the run that goes on (None: no run goes on)."""
        run = self.tool.run
        return None if run is None else run.ends_s
