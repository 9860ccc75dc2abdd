"""The remote commands of the simulated GEM equipment (E30 4.5; S2F41).

The dictionary says which RCMD runs which of the model's commands and each parameter's CPNAME
and type; the model runs it (or refuses it with `GemRefused`). An unknown RCMD is HCACK 1, a
command while the operator holds the tool local HCACK 2, and a command with an unknown
parameter, one of a format its dictionary cannot read or without a parameter the tool needs
(any of the command's but the model's `optional_parameters`) HCACK 3 naming each with its
CPACK (1, 3, 2), and nothing runs. A refusal of the model names each parameter at fault with
its CPACK (2 for a value the tool refuses; a plain load of a workpiece the tool processed last
is CPACK 2 on the workpiece id, `WorkpieceProcessed`).
"""

from __future__ import annotations

import logging
from typing import Any

from packline.drivers.gem.dictionary import GemDictionary
from packline.drivers.secs.items import B, Item, L

from .bodies import hcack_body, list_of, scalar
from .control import Control
from .model import (
    ILLEGAL_FORMAT,
    ILLEGAL_VALUE,
    NO_SUCH_PARAMETER,
    GemModel,
    GemRefused,
    WorkpieceProcessed,
)

log = logging.getLogger(__name__)


class RemoteCommands:
    """The dictionary's remote commands by RCMD, run on the model unless refused."""

    def __init__(
        self, dictionary: GemDictionary, model: GemModel, control: Control, tool: str
    ) -> None:
        self._model = model
        self._control = control
        self._tool = tool
        self._commands = {cmd.rcmd: (name, cmd) for name, cmd in dictionary.remote_commands.items()}

    async def run(self, body: Item | None) -> tuple[Item, str | None]:
        """S2F41 in: its S2F42 body out, and the RCMD if the model took it (else None)."""
        rcmd_item, parameter_list = list_of(body, 2)
        rcmd = scalar(rcmd_item)
        if rcmd not in self._commands:
            return L(B(b"\x01"), L()), None  # invalid command
        if self._control.local:
            log.info("%s: %s refused: the operator switched the tool to local", self._tool, rcmd)
            return hcack_body(2, {}), None
        name, command = self._commands[rcmd]
        by_cpname = {
            parameter.name: (key, parameter) for key, parameter in command.parameters.items()
        }
        values: dict[str, Any] = {}
        refused: dict[str, int] = {}
        given: set[str] = set()
        for row in list_of(parameter_list):
            cpname_item, value = list_of(row, 2)
            cpname = str(scalar(cpname_item))
            if cpname not in by_cpname:
                refused[cpname] = NO_SUCH_PARAMETER
                continue
            key, parameter = by_cpname[cpname]
            given.add(key)
            try:
                values[key] = parameter.variable.to_role(value)
            except ValueError:
                refused[cpname] = ILLEGAL_FORMAT
        optional = self._model.optional_parameters
        for key, parameter in command.parameters.items():
            if key not in given and key not in optional:
                refused[parameter.name] = ILLEGAL_VALUE  # a parameter the tool needs, left out
        if refused:
            return hcack_body(3, refused), None
        try:
            hcack = await self._model.command(name, values)
        except GemRefused as refusal:
            log.info("%s: %s refused: %s", self._tool, rcmd, refusal.text)
            at_fault = refusal.parameters
            if isinstance(refusal, WorkpieceProcessed):
                at_fault = {key: ILLEGAL_VALUE for key in command.parameters if key.endswith("_id")}
            cpacks = {command.parameters[key].name: cpack for key, cpack in at_fault.items()}
            return hcack_body(refusal.hcack, cpacks), None
        return hcack_body(hcack, {}), rcmd
