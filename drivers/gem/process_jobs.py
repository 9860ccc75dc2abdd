"""E40 process jobs as the GEM role drivers give them: jobs by the dictionary's names.

`GemEquipment.process_jobs` (a `ProcessJobs`) creates jobs on a tool whose dictionary has
`process_jobs` (S16F11), commands them (S16F5), takes them off the queue (S16F17), lists them
(S16F19), and follows their states by the dictionary's state event (S6F11 with the job and its
PRJOBSTATE), so that waiting for a job's end is a wait on an event, never a poll. A job's
recipe is a process program the tool holds (S7F3), tuned by recipe variables named as the role
names them: the parameters of the job's remote command and the equipment constants, each
one the role limits (a bonder's `stack_count`, its `bond_force_gf`) checked against the
station's limits of it before anything is sent, as the role's own commands check them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from packline.clock import ClockTimeout, wait_for

from ..errors import CommandRefused, ToolTimeout
from ..secs.data_items import PRJOB_ENDED, PRJOB_STATES
from ..secs.items import Item
from .entries import ProcessJobs as ProcessJobsEntry
from .records import CollectionEvent
from .waits import EventWait, RoleDriver

#: The names of the states a job ends in.
ENDED = tuple(PRJOB_STATES[state] for state in PRJOB_ENDED)


class ProcessJobs:
    """The E40 process jobs of one GEM tool, driven through its role driver `equipment`."""

    def __init__(self, equipment: RoleDriver) -> None:
        self._equipment = equipment
        #: The state of every job this driver heard of, by PRJOBID (E40 names: `processing`,
        #: `process complete`, ...), from the tool's state events.
        self.states: dict[str, str] = {}
        self._waits: dict[str, list[EventWait]] = {}

    def entry(self) -> ProcessJobsEntry:
        """The dictionary's `process_jobs`; a tool without them is a `ValueError`."""
        equipment = self._equipment
        entry = equipment.dictionary.process_jobs
        if entry is None:
            raise ValueError(
                f"{equipment.name}: GEM dictionary {equipment.dictionary.name} has no "
                "process_jobs: the tool runs its jobs by remote command"
            )
        return entry

    async def create(
        self, job_id: str, material_id: str, *, recipe: str, start: bool = True, **variables: Any
    ) -> None:
        """Create job `job_id` processing substrate `material_id` with process program
        `recipe`, tuned by `variables` (the job command's parameters and the equipment
        constants, by the role's names); it starts once the substrate is on the tool unless
        `start` is False (then `command(job_id, "START")`). Refused: `CommandRefused`."""
        wire = self._recipe_variables(f"create process job {job_id}", variables)
        await self._equipment.gem.create_process_job(
            job_id, [material_id], recipe, wire, start=start
        )

    async def run(
        self, job_id: str, material_id: str, *, recipe: str, timeout_s: float, **variables: Any
    ) -> str:
        """Run job `job_id` on substrate `material_id` (on the tool already) to its end, as a
        process operation of the driver (`Equipment.operation`): refused unless the tool is
        ready, busy while the job runs (its E10 time productive), and a caller cancelled
        (terminate, abort) commands the tool's safe state before the cancellation goes on.
        Created as `create` does (`variables` checked against the role's limits first), then
        waited for as `wait` does; the job's last state (`process complete`, `stopped`,
        `aborted`). `create` and `wait` alone queue and follow jobs without any of that."""
        async with self._equipment.operation(f"process job {job_id}"):
            await self.create(job_id, material_id, recipe=recipe, **variables)
            return await self.wait(job_id, timeout_s)

    def _recipe_variables(self, action: str, variables: Mapping[str, Any]) -> dict[str, Item]:
        equipment = self._equipment
        command = equipment.dictionary.remote_commands[self.entry().command]
        constants = equipment.dictionary.equipment_constants
        wire: dict[str, Item] = {}
        for name, value in variables.items():
            if name in equipment.limits:  # a parameter or a constant the role limits
                value = equipment.check_limit(action, name, value)
            if name in command.parameters:
                parameter = command.parameters[name]
                wire[parameter.name] = parameter.variable.to_wire(value)
            elif name in constants:
                wire[name] = constants[name].to_wire(value)
            else:
                raise ValueError(
                    f"{equipment.name}: {action}: {name!r} is no parameter of "
                    f"{command.rcmd} ({', '.join(command.parameters)}) and no equipment constant"
                )
        return wire

    async def command(self, job_id: str, command: str) -> None:
        """Job command `command` (START, STOP, ABORT, CANCEL; PAUSE and RESUME where the tool
        can) for `job_id`; refused: `CommandRefused` naming each ERRCODE."""
        self.entry()  # a tool without jobs is refused before anything is sent
        await self._equipment.gem.send_process_job_command(job_id, command)

    async def dequeue(self, *job_ids: str) -> list[str]:
        """Take jobs that have not started off the queue (none named: all); those taken."""
        self.entry()
        return await self._equipment.gem.dequeue_process_jobs(job_ids)

    async def request_states(self) -> dict[str, str]:
        """Every job on the tool now and its state (E40 names)."""
        self.entry()
        jobs = await self._equipment.gem.request_process_jobs()
        return {job: PRJOB_STATES.get(state, f"PRJOBSTATE {state}") for job, state in jobs.items()}

    async def wait(self, job_id: str, timeout_s: float) -> str:
        """Wait up to `timeout_s` of process time for job `job_id` to end; its last state
        (`process complete`, `stopped`, `aborted`). Past the timeout the job is aborted and
        `ToolTimeout` says so; a set alarm ends the wait with `ToolAlarm`, a lost link with
        `ConnectionLost`."""
        equipment = self._equipment
        action = f"process job {job_id}"
        if self.states.get(job_id) in ENDED:
            return self.states[job_id]
        wait = EventWait(action, frozenset())
        equipment.waits.append(wait)
        self._waits.setdefault(job_id, []).append(wait)
        try:
            await wait_for(equipment.clock, asyncio.shield(wait.future), timeout_s, action)
        except ClockTimeout:
            with suppress(CommandRefused):  # ended meanwhile
                await self.command(job_id, "ABORT")
            raise ToolTimeout(
                equipment.name,
                equipment.address,
                action,
                f"still {self.states.get(job_id, 'queued')} after {timeout_s:g} s; aborted",
            ) from None
        finally:
            equipment.waits.remove(wait)
            self._waits[job_id].remove(wait)
            if not wait.future.done():
                wait.future.cancel()
            elif not wait.future.cancelled():
                wait.future.exception()  # retrieved: the wait's own error goes on
        return self.states[job_id]

    def event_pushed(self, event: CollectionEvent) -> None:
        """An event listener: the dictionary's job state event records the job's state and
        ends the waits for a job that ended."""
        entry = self._equipment.dictionary.process_jobs
        if entry is None:
            return
        events = self._equipment.dictionary.collection_events
        if event.ceid != events[entry.state_changed].id:
            return
        values = self._equipment.event_values(entry.state_changed, event)
        job_id, state = str(values["process_job_id"]), int(values["process_job_state"])
        self.states[job_id] = PRJOB_STATES.get(state, f"PRJOBSTATE {state}")
        if state in PRJOB_ENDED:
            for wait in self._waits.get(job_id, ()):
                if not wait.future.done():
                    wait.future.set_result(event)
