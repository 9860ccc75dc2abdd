"""What several simulated host-link tools do alike beyond the family's rules (`ascii_host.py`):
hold one wafer at a time (`OneWaferTool`: the flip-chip bonder, the litho cell, the wet bench,
the dispenser, the resin coater) and run one timed job at a time on it (`JobTool`)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import ClassVar, Generic, Protocol, TypeVar

from packline.drivers.families.ascii_host_wire import render_status

from ..twin import JobEnd, Workpiece
from .ascii_host import HostLinkTool, HostRefused


class OneWaferTool(HostLinkTool):
    """A simulated host-link tool that holds one wafer at a time (the litho cell, the wet
    bench): `LOAD <wafer>` takes it (refused while one is in, and for a wafer this tool
    processed before), `RELOAD <wafer>` takes one back as a rework, `UNLOAD <wafer>` returns
    the one named. The
    `wafer_vacuum` interlock, if the spec has one, is closed while a wafer is held."""

    wafer_id: str | None = None

    def interlock_conditions(self) -> dict[str, bool]:
        return {"wafer_vacuum": self.wafer_id is not None}

    def load_wafer(self, wafer_id: str, *, rework: bool = False) -> str:
        if self.wafer_id is not None:
            raise HostRefused("WRONG_STATE", f"wafer {self.wafer_id} is loaded")
        self.require_interlocks("LOAD")
        self.take_into_tool(wafer_id, rework=rework)
        self.wafer_id = wafer_id
        return ""

    def reload_wafer(self, wafer_id: str) -> str:
        """`RELOAD <wafer>`: `LOAD`, of a wafer this tool may have processed last."""
        return self.load_wafer(wafer_id, rework=True)

    def unload_wafer(self, wafer_id: str) -> str:
        loaded = self.loaded()
        if wafer_id != loaded.id:
            raise HostRefused("NO_WAFER", f"wafer {loaded.id} is loaded, not {wafer_id}")
        self.wafer_id = None
        return ""

    def loaded(self) -> Workpiece:
        """The wafer in the tool; refused `NO_WAFER` when there is none."""
        if self.wafer_id is None:
            raise HostRefused("NO_WAFER", "no wafer loaded")
        return self.twin.get(self.wafer_id)


class TimedJob(Protocol):
    """A job of a `JobTool`: it ends when the clock reaches `ends_s`."""

    ends_s: float


JobT = TypeVar("JobT", bound=TimedJob)


class JobTool(OneWaferTool, Generic[JobT]):
    """A one-wafer host-link tool that runs one timed job at a time (the dispenser, the resin
    coater, the litho cell, the wet bench).

    A job is planned when its command is accepted (the subclass sets `job` and `state`) and
    ends when the clock reaches its `ends_s` (completed), or early: by the safe-state command
    (`stop_job`) or by an alarm that an injected fault raises while it runs (`alarm_now`;
    the tool is then in `FAULT` until `reset_alarms`). Either way the tool is `IDLE` again,
    `apply` lays onto the twin what the job did by then, its event saying how the job ended
    (`JobEnd`, its `result`), and the job's end is told (`job_ended`, the job named by
    `operation`). A subclass sets `job_alarms` (or overrides `alarm_now`), implements `apply`
    and `operation`, and may follow a job's course in `progress`.
    """

    #: The alarm an injected fault raises in a running job, fault -> alarm, in the order checked.
    job_alarms: ClassVar[Mapping[str, str]] = {}

    #: The job running, if any; the jobs completed since power-up.
    job: JobT | None = None
    jobs_completed: int = 0

    def status_values(self) -> dict[str, object]:
        """The status fields every job tool has, by name: its state, wafer, the job's time
        left and the jobs it completed."""
        job = self.job
        return {
            "state": self.state.value,
            "wafer_id": self.wafer_id or "-",
            "remaining_s": max(job.ends_s - self.clock.now(), 0.0) if job else 0.0,
            "jobs_completed": self.jobs_completed,
        }

    def status(self) -> str:
        """The status query's payload."""
        return render_status(self.spec, self.status_values())

    def next_change_s(self, now: float) -> float:
        """The running job's end; else the default scan (a job's alarms come of faults)."""
        return self.job.ends_s if self.job is not None else super().next_change_s(now)

    def stop_job(self) -> str:
        """The safe-state command (`STOP`): end the job now with what it did so far."""
        if self.job is not None:
            self.end_job(self.clock.now(), JobEnd.ABORTED)
        return ""

    def advance(self) -> None:
        """Bring the tool to the clock's present time: follow the job, then end it on an alarm
        or when it is due."""
        job = self.job
        if job is None:
            return
        now = self.clock.now()
        self.progress(job, now)
        alarm = self.alarm_now(job)
        if alarm is not None:
            self.latch(alarm)
            self.end_job(now, JobEnd.FAULTED)
            self.state = type(self.state)["FAULT"]
        elif now >= job.ends_s:
            self.end_job(job.ends_s, JobEnd.COMPLETED)

    def progress(self, job: JobT, now: float) -> None:
        """Follow the running job up to `now` (shots fired, an immersion ended); by default
        nothing."""

    def alarm_now(self, job: JobT) -> str | None:
        """The alarm an injected fault raises in the running job, if any."""
        alarms = self.job_alarms
        return next((alarms[fault] for fault in alarms if fault in self.injected), None)

    def end_job(self, now: float, result: JobEnd) -> None:
        """End the job at `now` as `result` says: the tool is `IDLE`, the job's work so far
        is applied and its end told."""
        job = self.job
        assert job is not None
        self.job = None
        self.state = type(self.state)["IDLE"]
        self.apply(job, now, result)
        if result is JobEnd.COMPLETED:
            self.jobs_completed += 1
        self.job_ended(self.operation(job), [self.loaded().id], now, result)

    @abstractmethod
    def apply(self, job: JobT, now: float, result: JobEnd) -> None:
        """Lay onto the twin what `job` did by `now` (all of it when it completed), its event
        saying how it ended (`result`)."""

    @abstractmethod
    def operation(self, job: JobT) -> str:
        """What `job` does, in the words of its twin event (`strip resist`, `develop`)."""
