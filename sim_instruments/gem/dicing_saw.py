"""The simulated dicing saw as a GEM equipment: `SimDicingSaw`'s process model behind E30.

As for the bonder (`wire_bonder.py` here), the model drives the simulated saw through its own
command interpreter in process, so the GEM saw refuses what the ASCII saw refuses, with the
same physics on the same twin; its status variables are the saw's own query answers (`STAT?`,
`WORK?`, `BLADE?`, `RESULT?`, `ILK?`). The cut's constants are sent as `FEED`, `INDEX` and
`DEPTH` when a cut starts, the dressing interval at once. While the spindle ramps, a dressing
or a cut goes on, a watcher brings the saw to the present on the line's clock, at most a
second of process time apart, and reports each end (`spindle_settled`, `dress_ended`,
`cut_ended`) after the alarms that came with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from packline.clock import Clock
from packline.drivers.families.ascii_host import encode, host_interlocks
from packline.drivers.roles.dicing_saw import SawState
from packline.drivers.specs.dicing_saw import BLADE_REPLY, RESULT_REPLY, SPEC, WORK_REPLY

from ..dicing_saw import SimDicingSaw
from ..twin import TwinStore
from .host_link import REWORK_LINES, HostLinkModel
from .model import WATCH_STEP_S, setpoint_range, word

#: Each status variable: the saw's query, the field of its answer and how it reads.
_SOURCES: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "state": ("STAT?", "STATE", str),
    "lines_done": ("STAT?", "LINE", int),
    "lines_total": ("STAT?", "LINES", int),
    "spindle_krpm": ("STAT?", "SPINDLE", lambda rpm: int(rpm) / 1000),
    "spindle_set_krpm": ("STAT?", "SPINDLE_SET", lambda rpm: int(rpm) / 1000),
    "cuts_completed": ("STAT?", "CUTS", int),
    "dressings_completed": ("STAT?", "DRESSES", int),
    # the workpiece's id too: `WORK?`'s `ID`, which `STAT?` gives as `WORK` (`-` for none)
    **{
        variable: source
        for reply in (WORK_REPLY, BLADE_REPLY, RESULT_REPLY)
        for variable, source in reply.status_sources.items()
    },
    **{i.name: ("ILK?", i.key, lambda flag: flag == "1") for i in host_interlocks(SPEC)},
}
#: What a status variable reads while its query answers `NONE` (no workpiece, no cut yet):
#: zeros and empty text, and no value (None) of one that may have none (a cut's kerf).
_NONE: dict[type, Any] = {int: 0, float: 0.0, str: ""}

#: The remote commands that are one line of the saw, and the events they start.
_COMMAND_LINES = {
    "mount": "MOUNT",
    "unmount": "UNMOUNT",
    "install_blade": "BLADE",
    "start_spindle": "SPINDLE",
    "stop_spindle": "SPINDLE OFF",
    "dress": "DRESS",
    "abort": "STOP",
    "clear_alarms": "RST",
}
#: The spec's setpoint of each remote command parameter that carries one (its wire form).
_SETPOINT_OF = {"speed_krpm": "spindle_krpm", "thickness_um": "blade_thickness_um"}
_STARTS = {
    "start_spindle": "spindle_settled",
    "stop_spindle": "spindle_settled",
    "dress": "dress_ended",
    "cut": "cut_ended",
}


class GemDicingSawModel(HostLinkModel):
    """The GEM face of a `SimDicingSaw` (built here on the line's twin and clock)."""

    tool: SimDicingSaw

    def __init__(
        self, name: str, twin: TwinStore, clock: Clock | None = None, **options: Any
    ) -> None:
        super().__init__(SimDicingSaw(name, twin, clock, **options))
        self.constants: dict[str, float] = {
            "feed_mm_s": self.tool.settings.feed_mm_s,
            "depth_into_tape_um": self.tool.settings.depth_um,
            "ch1_pitch_mm": 0.0,
            "ch1_offset_mm": 0.0,
            "ch2_pitch_mm": 0.0,
            "ch2_offset_mm": 0.0,
        }
        self._pending: set[str] = set()

    def status(self, name: str) -> Any:
        if name == "serial_number":
            return self.tool.serial_number
        query, key, read = _SOURCES[name]
        fields = self.fields(query)
        if key not in fields:  # the query answered NONE
            return "NONE" if name == "result_outcome" else _NONE.get(read)  # type: ignore[call-overload]
        return read(fields[key])

    def constant(self, name: str) -> Any:
        if name == "dressing_interval_mm":
            return self.tool.dressing_interval_mm
        return self.constants[name]

    def constant_range(self, name: str) -> tuple[float, float] | None:
        setpoint = name.removeprefix("ch1_").removeprefix("ch2_")
        if setpoint == "pitch_mm":  # 0: the die's own pitch (`accepts_constant`)
            return 0.0, SPEC.setpoint_by_name[setpoint].machine_range.maximum
        return setpoint_range(SPEC, setpoint)

    def accepts_constant(self, name: str, value: Any) -> bool:
        """A street pitch is 0 (the die's own) or within the saw's machine range."""
        if name.endswith("_pitch_mm") and value != 0:
            return SPEC.setpoint_by_name["pitch_mm"].machine_range.contains(value)
        return super().accepts_constant(name, value)

    def set_constants(self, values: Mapping[str, Any]) -> None:
        if "dressing_interval_mm" in values:
            interval = encode(SPEC, "dressing_interval_mm", values["dressing_interval_mm"])
            self.ask(f"INTERVAL {interval}")
        self.constants |= {name: v for name, v in values.items() if name in self.constants}

    async def command(self, name: str, parameters: Mapping[str, Any]) -> int:
        if name == "cut":
            settings = self.constants
            self.ask(f"FEED {encode(SPEC, 'feed_mm_s', settings['feed_mm_s'])}")
            for channel in (1, 2):
                pitch = settings[f"ch{channel}_pitch_mm"]
                offset = settings[f"ch{channel}_offset_mm"]
                if pitch:
                    pitch_text = encode(SPEC, "pitch_mm", pitch)
                    self.ask(f"INDEX {channel} {pitch_text} {encode(SPEC, 'offset_mm', offset)}")
            self.ask(f"DEPTH {encode(SPEC, 'depth_into_tape_um', settings['depth_into_tape_um'])}")
            self.ask("CUT")
        else:
            line = _COMMAND_LINES[name]
            words = [REWORK_LINES[line] if parameters.get("rework") else line]
            carries = [key for key in parameters if key != "rework"]  # rework: said by the line
            for key in carries:
                setpoint, value = _SETPOINT_OF.get(key), parameters[key]
                text = word(key, value) if setpoint is None else encode(SPEC, setpoint, value)
                words.append(text)
            self.ask(" ".join(words), carries)
        if name not in _STARTS:
            await self.equipment.report_alarms()
            return 0
        self._pending.add(_STARTS[name])
        self.watch(self._watch)
        return 4

    async def _watch(self) -> None:
        """Bring the saw to the present until every pending end came; report each."""
        tool = self.tool
        while self._pending:
            tool.advance()
            ended = []
            if "spindle_settled" in self._pending and tool.spindle_krpm() == tool.spindle.target:
                ended.append("spindle_settled")
            if "dress_ended" in self._pending and tool.state is not SawState.DRESSING:
                ended.append("dress_ended")
            if "cut_ended" in self._pending and tool.state is not SawState.CUTTING:
                ended.append("cut_ended")
            self._pending.difference_update(ended)
            if not await self.report(*ended):
                self._pending.clear()
            if self._pending:
                await self.clock.sleep(WATCH_STEP_S)
