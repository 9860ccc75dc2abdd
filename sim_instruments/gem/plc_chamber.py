"""The GEM faces of the simulated batch vacuum chambers on a Modbus PLC: a batch tool's face
(`plc_batch.py`) with a recipe of steps.

A chamber's recipe is equipment constants that are arrays, one element a step, each setting
the step registers of one field of the map (`recipe_fields`); at `START` the face writes the
recipe's step count, as a Modbus host writes it, from the arrays' common length. Any other
constant is a setpoint of the map, written as one register write. The face of a kind adds its
follower (`_follow`) and its status values (`tool_status`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from packline.drivers.families.chamber_map import MAX_STEPS
from packline.drivers.families.plc_map import PlcSetpoint, field, registers_of
from packline.drivers.roles.batch_chamber import ChamberState

from ..families.plc_chamber import PlcChamberSimulator
from .model import GemRefused
from .plc_batch import GemBatchPlcModel

#: The remote commands that are one command of a chamber's PLC, by the map's names.
CHAMBER_PLC_COMMANDS = {
    "open_door": "OPEN_DOOR",
    "close_door": "CLOSE_DOOR",
    "abort": "ABORT",
    "clear_alarms": "RESET_ALARMS",
}
#: The remote commands a chamber's watcher follows to their end: the PLC's command, the
#: chamber's state while it goes on, and the state whose reaching its event tells (None: any
#: end).
FOLLOWED = {
    "pump_down": ("PUMP_DOWN", ChamberState.PUMPING, ChamberState.EVACUATED),
    "vent": ("VENT", ChamberState.VENTING, ChamberState.VENTED),
    "start": ("START_RECIPE", ChamberState.PROCESSING, None),
}
#: The event that tells the end of each state a chamber's watcher follows.
ENDS = {
    ChamberState.PUMPING: "pumped_down",
    ChamberState.VENTING: "vented",
    ChamberState.PROCESSING: "run_ended",
}


class GemChamberPlcModel(GemBatchPlcModel):
    """The GEM face of a simulated batch vacuum chamber on a Modbus PLC, driven through it."""

    tool: PlcChamberSimulator
    plc_commands = CHAMBER_PLC_COMMANDS
    #: The recipe's constants (one element a step), each with the step field of the map it
    #: sets; one of them is `step_time_s`, the steps' durations.
    recipe_fields: ClassVar[Mapping[str, str]]

    def __init__(self, tool: PlcChamberSimulator) -> None:
        super().__init__(tool)
        #: The recipe's constants, one element a step (none until the host sets them).
        self.recipe: dict[str, tuple[Any, ...]] = dict.fromkeys(self.recipe_fields, ())

    def status(self, name: str) -> Any:
        tool = self.tool
        if name == "chamber_state":
            tool.advance()
            return tool.chamber.name.lower()
        if name == "last_result":
            tool.advance()
            return tool.last_result.name.lower()
        return super().status(name)

    def constant(self, name: str) -> Any:
        return self.recipe[name] if name in self.recipe_fields else self.written(name)

    def constant_range(self, name: str) -> tuple[float, float] | None:
        """A constant of the recipe (an array): the range of each element, what its step's
        register takes, as `accepts_constant` judges it (none for a gas, a code)."""
        if name not in self.recipe_fields:
            return super().constant_range(name)
        entry = field(self.spec, self.recipe_fields[name])
        if not isinstance(entry, PlcSetpoint):
            return None
        register = entry.register_range
        return register.minimum / entry.scale, register.maximum / entry.scale

    def accepts_constant(self, name: str, value: Any) -> bool:
        """A recipe's array: every element in what its step's register takes, at most
        `MAX_STEPS` of them; any other constant within its range."""
        if name not in self.recipe_fields:
            return super().accepts_constant(name, value)
        entry = field(self.spec, self.recipe_fields[name])
        if len(value) > MAX_STEPS:
            return False
        if isinstance(entry, PlcSetpoint):
            return all(entry.register_range.contains(round(v * entry.scale)) for v in value)
        return all(entry.code_of(str(v)) is not None for v in value)

    def set_constants(self, values: Mapping[str, Any]) -> None:
        """Write the registers of the constants given, as one write each: a recipe's array
        its steps' registers (refused while the chamber runs: EAC 2)."""
        for name, value in values.items():
            if name not in self.recipe_fields:
                self.write_field(name, value)
                continue
            entry = field(self.spec, self.recipe_fields[name])
            for index, element in enumerate(value):
                self.write(entry.address(index), registers_of(entry, element))
            self.recipe[name] = tuple(value)

    def write_step_count(self) -> None:
        """Write the recipe's steps (the `steps` setpoint) as many as its durations;
        GemRefused (HCACK 2) for a recipe none set or whose arrays differ in length."""
        lengths = {name: len(steps) for name, steps in self.recipe.items()}
        if len(set(lengths.values())) != 1 or not lengths["step_time_s"]:
            described = ", ".join(f"{name} {length}" for name, length in lengths.items())
            raise GemRefused(2, f"the recipe's constants differ in steps or have none: {described}")
        self.write(field(self.spec, "steps").address(), [lengths["step_time_s"]])

    async def run(self, name: str, parameters: Mapping[str, Any]) -> int:
        """A pump-down, a vent or a run: its PLC command, then its watcher (HCACK 4)."""
        plc_command, running, target = FOLLOWED[name]
        if name == "start":
            self.write_step_count()
        self.plc_command(plc_command, {})
        await self.stop()  # a vent that cuts a pump-down short is followed instead
        self.watch(lambda: self._follow(running, target))
        return 4

    @abstractmethod
    async def _follow(self, running: ChamberState, target: ChamberState | None) -> None:
        """Follow the chamber while it is `running` (reporting what the kind tells of it, the
        alarms at once); then the end's event (`ENDS`), if it reached `target` (None: any
        end)."""
