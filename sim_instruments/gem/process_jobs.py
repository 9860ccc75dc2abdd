"""E40 process jobs on the simulated GEM equipment (S16F11 create, S16F5 command, S16F17
dequeue, S16F19 list), for a tool whose dictionary has `process_jobs`.

A job names one substrate (MF 14, its MID), a recipe the equipment holds (RCPSPEC: a PPID
stored with S7F3) and, with PRRECIPEMETHOD 2, recipe variables: the parameters of the
dictionary's job command (by CPNAME) and equipment constants (by name). Jobs queue in the
order they were created, and one at a time is processed: when the tool holds its substrate
(the dictionary's `material` status variable names it; the host loads it by remote command) the
job sets up (its constants set), waits for START unless PRPROCESSSTART said to start at once,
runs the job command, and is complete when the command's `ended` event is sent. STOP and ABORT
send the tool's `abort` command (stopped, aborted); CANCEL and S16F17 take a job that has not
started off the queue. The simulated tools cannot pause a run: PAUSE and RESUME are refused
(ERRCODE 14). Every state change (E40 PRJOBSTATE) is the dictionary's `state_changed`
collection event, whose report the equipment answers itself (`process_job_id`,
`process_job_state`). Commands are checked and acknowledged at once and carried out by one
worker task, in order, so the events follow each other as the states do.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from packline.drivers.gem.entries import GemDictionary
from packline.drivers.gem.entries import ProcessJobs as ProcessJobsEntry
from packline.drivers.secs.data_items import MF_SUBSTRATES, ack_text
from packline.drivers.secs.items import BOOLEAN, I4, U1, A, Item, L

from .bodies import list_of, scalar
from .model import GemModel, GemRefused
from .programs import ProcessPrograms

log = logging.getLogger(__name__)

QUEUED, SETTING_UP, WAITING_FOR_START, PROCESSING, COMPLETE = 0, 1, 2, 3, 4
STOPPING, ABORTING, STOPPED, ABORTED = 8, 9, 10, 11

#: The states a job command applies in (START: waiting; STOP: set up or running; ABORT: not
#: ended; CANCEL: not started).
_COMMAND_STATES = {
    "START": (WAITING_FOR_START,),
    "STOP": (SETTING_UP, WAITING_FOR_START, PROCESSING),
    "ABORT": (QUEUED, SETTING_UP, WAITING_FOR_START, PROCESSING, STOPPING),
    "CANCEL": (QUEUED, WAITING_FOR_START),
}


class JobEquipment(Protocol):
    """What the jobs use of their equipment (`equipment.py`): its dictionary, its model, the
    process programs it holds, and its collection events."""

    dictionary: GemDictionary
    model: GemModel
    programs: ProcessPrograms
    tool: str

    async def send_event(self, name: str) -> None: ...


@dataclass
class ProcessJob:
    """One E40 process job on the equipment."""

    prjobid: str
    material: str
    recipe: str
    parameters: dict[str, Any]
    constants: dict[str, Any]
    auto_start: bool
    state: int = QUEUED
    announced: bool = False
    commands: list[str] = field(default_factory=list)


def _errors(errors: list[tuple[int, str]]) -> Item:
    """ACKA and the errors (ERRCODE, ERRTEXT) of an S16 reply."""
    return L(
        BOOLEAN(not errors),
        L(*(L(I4(code), A(f"{ack_text('ERRCODE', code)}: {text}")) for code, text in errors)),
    )


class ProcessJobs:
    """The equipment's process jobs and the worker that runs them."""

    def __init__(self, equipment: JobEquipment, entry: ProcessJobsEntry) -> None:
        self._equipment = equipment
        self.entry = entry
        #: The jobs on the queue, in the order they were created (the first runs).
        self.jobs: dict[str, ProcessJob] = {}
        #: The job whose state changed last and its state (the state event's report).
        self.last: tuple[str, int] = ("", QUEUED)
        self._wake = asyncio.Event()
        self._ended = False
        self._worker: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- the host's messages

    def create(self, body: Item | None) -> Item:
        """S16F11 in, S16F12 out: the job queued, or refused with its errors."""
        _, prjobid_item, mf, materials, recipe, start, pause = list_of(body, 7)
        prjobid = str(scalar(prjobid_item))
        method_item, rcpspec, variables = list_of(recipe, 3)
        errors: list[tuple[int, str]] = []
        if prjobid in self.jobs:
            errors.append((11, f"job {prjobid} exists"))
        if len(self.jobs) >= self.entry.max_jobs:
            errors.append((15, f"the queue holds {self.entry.max_jobs} jobs"))
        mids = [str(scalar(mid)) for mid in list_of(materials)]
        code = scalar(mf)
        if (code[0] if isinstance(code, bytes) else code) != MF_SUBSTRATES or len(mids) != 1:
            errors.append((14, "a job takes one substrate (MF 14, one MID)"))
        method, ppid = scalar(method_item), str(scalar(rcpspec))
        if ppid not in self._equipment.programs.bodies:
            errors.append((21, f"no process program {ppid}"))
        rows = [list_of(row, 2) for row in list_of(variables)]
        if method not in (1, 2) or (method == 1 and rows):
            errors.append((14, "PRRECIPEMETHOD 1 (recipe) or 2 (with variables)"))
        if len(pause):
            errors.append((14, "the tool cannot pause a job (PRPAUSEEVENT)"))
        parameters, constants = self._variables(rows, errors)
        if errors:
            return L(A(prjobid), _errors(errors))
        auto_start = bool(scalar(start))
        self.jobs[prjobid] = ProcessJob(prjobid, mids[0], ppid, parameters, constants, auto_start)
        self._wake.set()
        return L(A(prjobid), _errors([]))

    def _variables(
        self, rows: list[tuple[Item, ...]], errors: list[tuple[int, str]]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The recipe variables by the job command's parameters and the constants' names."""
        dictionary = self._equipment.dictionary
        command = dictionary.remote_commands[self.entry.command]
        by_cpname = {p.name: (key, p.variable) for key, p in command.parameters.items()}
        parameters: dict[str, Any] = {}
        constants: dict[str, Any] = {}
        for name_item, value in rows:
            name = str(scalar(name_item))
            if name in by_cpname:
                key, variable = by_cpname[name]
                where = parameters
            elif name in dictionary.equipment_constants:
                key, variable = name, dictionary.equipment_constants[name]
                where = constants
            else:
                errors.append((12, f"no recipe variable {name}"))
                continue
            try:
                where[key] = variable.to_role(value)
            except ValueError as error:
                errors.append((7, f"{name}: {error}"))
                continue
            model = self._equipment.model
            if where is constants and not model.accepts_constant(key, where[key]):
                errors.append((7, f"{name} {where[key]} is outside {model.constant_range(key)}"))
        return parameters, constants

    def command(self, body: Item | None) -> Item:
        """S16F5 in, S16F6 out: a job command checked and acknowledged; the worker runs it."""
        _, prjobid_item, command_item, _ = list_of(body, 4)
        prjobid, command = str(scalar(prjobid_item)), str(scalar(command_item))
        job = self.jobs.get(prjobid)
        errors: list[tuple[int, str]] = []
        if job is None:
            errors.append((3, f"no job {prjobid}"))
        elif command in ("PAUSE", "RESUME"):
            errors.append((14, "the tool cannot pause a run"))
        elif command not in _COMMAND_STATES:
            errors.append((12, f"no job command {command}"))
        elif job.state not in _COMMAND_STATES[command]:
            errors.append((17, f"{command} while the job is in state {job.state}"))
        else:
            job.commands.append(command)
            self._wake.set()
        return L(A(prjobid), _errors(errors))

    def dequeue(self, body: Item | None) -> Item:
        """S16F17 in, S16F18 out: jobs that have not started taken off the queue (none named:
        every such job)."""
        named = [str(scalar(prjobid)) for prjobid in list_of(body)]
        errors: list[tuple[int, str]] = []
        taken = []
        for prjobid in named or [p for p, job in self.jobs.items() if job.state == QUEUED]:
            job = self.jobs.get(prjobid)
            if job is None:
                errors.append((3, f"no job {prjobid}"))
            elif job.state != QUEUED:
                errors.append((17, f"job {prjobid} has started (state {job.state})"))
            else:
                del self.jobs[prjobid]
                taken.append(A(prjobid))
        return L(L(*taken), _errors(errors))

    def listing(self) -> Item:
        """S16F20: every job and its state."""
        return L(*(L(A(prjobid), U1(job.state)) for prjobid, job in self.jobs.items()))

    # ----------------------------------------------------------------- the worker

    def event_sent(self, name: str) -> None:
        """The equipment sent (or would have sent) collection event `name`: the job command's
        end completes the running job."""
        if name == self.entry.ended:
            self._ended = True
            self._wake.set()

    def wake(self) -> None:
        """Something the queue waits for may have changed (a substrate loaded)."""
        self._wake.set()

    def start(self) -> None:
        self._worker = asyncio.get_running_loop().create_task(
            self._work(), name=f"{self._equipment.tool} process jobs"
        )

    async def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._advance()
            except Exception:  # a worker that died would stop every job: log and go on
                log.exception("%s: process jobs", self._equipment.tool)

    async def _advance(self) -> None:
        """Carry the jobs as far as they go now: announce new ones, run the commands given,
        end the running one, set up and start the next."""
        for job in list(self.jobs.values()):
            if not job.announced:
                job.announced = True
                await self._report(job)
            if job.state == QUEUED:  # CANCEL or ABORT before its turn
                await self._obey_all(job)
        active = next((job for job in self.jobs.values() if job.state != QUEUED), None)
        if active is not None:
            await self._obey_all(active)
            if active.state == PROCESSING and self._ended:
                await self._finish(active, COMPLETE)
            if active.prjobid in self.jobs:
                return
        self._ended = False
        model = self._equipment.model
        turn = next(iter(self.jobs.values()), None)
        if turn is None or str(model.status(self.entry.material)) != turn.material:
            return
        await self._set(turn, SETTING_UP)
        try:
            model.set_constants(turn.constants)
        except GemRefused as refusal:
            log.info("%s: job %s not set up: %s", self._equipment.tool, turn.prjobid, refusal.text)
            await self._finish(turn, ABORTED)
            return
        if turn.auto_start:
            await self._run(turn)
        else:
            await self._set(turn, WAITING_FOR_START)

    async def _obey_all(self, job: ProcessJob) -> None:
        """Carry out the commands given to `job`, in order, while it is on the queue."""
        while job.commands and job.prjobid in self.jobs:
            command = job.commands.pop(0)
            if command == "START" and job.state == WAITING_FOR_START:
                await self._run(job)
            elif command == "CANCEL":
                del self.jobs[job.prjobid]
            elif command in ("STOP", "ABORT"):
                if job.state != QUEUED:  # a queued job has nothing on the tool to stop
                    await self._set(job, STOPPING if command == "STOP" else ABORTING)
                    await self._abort_tool(job)
                await self._finish(job, STOPPED if command == "STOP" else ABORTED)

    async def _run(self, job: ProcessJob) -> None:
        """Processing: the job command on the tool; done at once (HCACK 0) or at its event."""
        await self._set(job, PROCESSING)
        self._ended = False
        try:
            hcack = await self._equipment.model.command(self.entry.command, job.parameters)
        except GemRefused as refusal:
            log.info("%s: job %s refused: %s", self._equipment.tool, job.prjobid, refusal.text)
            await self._finish(job, ABORTED)
            return
        if hcack == 0:
            await self._finish(job, COMPLETE)

    async def _abort_tool(self, job: ProcessJob) -> None:
        try:
            await self._equipment.model.command("abort", {})
        except GemRefused as refusal:  # already safe
            log.info("%s: job %s: %s", self._equipment.tool, job.prjobid, refusal.text)

    async def _finish(self, job: ProcessJob, state: int) -> None:
        await self._set(job, state)
        self.jobs.pop(job.prjobid, None)
        self._ended = False
        self._wake.set()  # the next job's turn

    async def _set(self, job: ProcessJob, state: int) -> None:
        job.state = state
        await self._report(job)

    async def _report(self, job: ProcessJob) -> None:
        """The state event of `job` now (S6F11 if the host enabled it)."""
        self.last = (job.prjobid, job.state)
        await self._equipment.send_event(self.entry.state_changed)


def process_job_status(jobs: ProcessJobs | None, name: str) -> Any:
    """The equipment's own status variables of its jobs (`PROCESS_JOB_VARIABLES`)."""
    prjobid, state = jobs.last if jobs is not None else ("", QUEUED)
    return prjobid if name == "process_job_id" else state
