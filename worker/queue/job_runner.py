"""Run one job end to end on the worker: validate the task's kwargs, claim the job (queued -> running, under a fresh
lease; the record was made by whoever sent the task: the API, or `record_sent_job` at publish time), run its CLI as
a child process, turn each line into an event (progress with the one time estimate, shared/progress.py), and finish
the job with exactly one terminal event; returns the Outcome that the Celery task mirrors.

The run is stopped (its process group killed) when someone asks (cancel, worker shutdown), when the job is no
longer this worker's (reaped, or Redis lost its record: fencing, worker/queue/job_link.py), when the child prints
nothing for AVOCET_STALL_TIMEOUT_S once its model is loaded (the first line after `start`), or when it passes
AVOCET_JOB_TIME_LIMIT_S. The training child asks before it publishes its model (`publish_request`, answered on its
stdin) and is allowed only while the job is still this worker's and no stop was asked for.

No Celery here (worker/queue/tasks.py is the thin Celery face), so tests call `run_job` directly with a stand-in CLI.
"""

import logging
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from shared import datasets, events, job_lease, job_results, jobs, model_refs, model_versions
from shared.data_files import SourceError, Sources, to_paths, untrusted_context
from shared.event_types import ABORT, PROGRESS_FIELDS, PUBLISH, PUBLISH_REQUEST, TERMINAL_TYPES
from shared.job_schema import PARAMS, child_args, explain, record_fields
from shared.label_rules import LabelBoundError, check_job_labels
from shared.progress import ProgressTracker
from shared.redis_ops import run_sync
from shared.settings import get_settings
from worker.queue.child_process import ChildResult, run_child
from worker.queue.job_link import REDIS_UNAVAILABLE, JobLink

log = logging.getLogger(__name__)

CLI_MODULES = {"finetune": "worker.training", "benchmark": "worker.benchmark", "audit": "worker.audit",
               "score": "worker.scoring"}  # fmt: skip
STALLED, TIME_LIMIT = "stalled", "time_limit"
DISK_FULL = "No space left on device"  # ENOSPC as a Python traceback prints it: the run failed on a full disk

CommandFor = Callable[[str, BaseModel], list[str]]


class Outcome(NamedTuple):
    state: str  # the job's final state as the store has it (or would, when Redis did not answer)
    message: str = ""  # its error, or the success message


@dataclass(frozen=True)
class Limits:
    stall_s: float
    time_limit_s: float

    @classmethod
    def from_settings(cls) -> "Limits":
        settings = get_settings()
        return cls(settings.stall_timeout_s, settings.job_time_limit_s)


def build_command(kind: str, params: BaseModel) -> list[str]:
    """The CLI invocation for a job: `python -m worker.<kind> --params-json '{...}' --json` (a benchmark also saves)."""
    extra = ["--save"] if kind == "benchmark" else []
    return [sys.executable, "-m", CLI_MODULES[kind], *child_args(params), "--json", *extra]


BAD_TASK = (ValidationError, SourceError, LabelBoundError, model_versions.ModelQuotaError, model_refs.ModelNotFound)


def validate_task(kind: str, kwargs: dict[str, Any]) -> BaseModel:
    """Task kwargs come from the queue, so they get the API's rules (names, never server paths; its label and model
    limits, for `celery call` too)."""
    settings = get_settings()
    params = PARAMS[kind].model_validate(kwargs, context=untrusted_context(settings))
    if kind == "finetune":
        check_job_labels(params.data, params.labels, settings)  # a dataset's own labels are bounded too
        model_versions.check_room(settings.models_dir, params.name or params.model, settings.max_models)
    if kind in job_results.RESULT_KINDS and datasets.get(settings.data_dir, settings.score_file, params.data) is None:
        raise SourceError(f"no dataset {params.data!r}: upload it (POST /api/datasets) or list them (GET /api/datasets)")
    if kind == "score":
        model_refs.resolve(settings.models_dir, params.name, params.version)  # ModelNotFound names what exists
    return params


def bad_arguments(exc: Exception) -> str:
    return f"bad task arguments ({explain(exc) if isinstance(exc, ValidationError) else exc})"


def record_sent_job(redis: Any, job_id: str, kind: str, kwargs: dict[str, Any], source: str) -> None:
    """The worker side's one place that creates a job record: for a task sent without the API (`celery call`, the
    worker's own follow-up benchmark), at publish time (worker/queue/signals.py), so it lists and streams while it
    waits. Its kwargs are validated here; bad ones end the job `failed` (bad_input) at once, saying what to fix."""
    try:
        params: BaseModel | dict[str, Any] = validate_task(kind, kwargs)
    except BAD_TASK as exc:
        params, problem = kwargs, bad_arguments(exc)
    else:
        problem = None
    if run_sync(redis, jobs.create_job(job_id, kind, params, source)) and problem:
        log.warning("job %s rejected: %s", job_id, problem)
        run_sync(redis, jobs.reject(job_id, problem, "bad_input"))


def run_job(
    redis: Any, job_id: str, kind: str, kwargs: dict[str, Any], *, worker: str, command_for: CommandFor = build_command,
    limits: Limits | None = None,
) -> Outcome:  # fmt: skip
    """Run the job if it is still queued."""
    try:
        checked = validate_task(kind, kwargs)
        params = to_paths(checked, Sources.of(get_settings()))  # the names become the paths the CLI child opens
    except BAD_TASK as exc:  # rejected at publish time already, or a dataset gone since
        message = bad_arguments(exc)
        log.warning("job %s rejected: %s", job_id, message)
        run_sync(redis, jobs.reject(job_id, message, "bad_input"))
        return Outcome("failed", message)
    lease = uuid.uuid4().hex
    if not run_sync(redis, jobs.claim(job_id, worker, lease)):
        job = run_sync(redis, jobs.get_job(job_id))
        if job is None:
            message = ("the job has no record in the job store: send it through the API or `celery -A "
                       "worker.queue.app call`, whose publish hook records it")  # fmt: skip
            log.warning("job %s: not starting it: %s", job_id, message)
            return Outcome("failed", message)
        log.warning("job %s is %s, not queued: not starting it (cancelled, or delivered twice)", job_id,
                    job.get("state"))  # fmt: skip
        return Outcome(str(job.get("state")), jobs.error_message(job))
    record = _record_as_claimed(redis, job_id, kind, checked, worker)
    run = _JobRun(JobLink(redis, job_id, lease, record), limits or Limits.from_settings())
    results = None
    try:
        results = _results_folder(kind, job_id)
        command = command_for(kind, params) + (["--results-dir", str(results)] if results else [])
        result = run_child(command, run.on_line, run.should_stop, env=_child_env())
    except Exception as exc:  # the job must not stay "running" because the worker side broke
        log.exception("job %s: running the CLI failed", job_id)
        outcome = run.end_failed(f"the worker could not run the job: {exc}", "worker_error")
    else:
        outcome = run.finish(result)
    if results and outcome.state != "succeeded":
        job_results.discard(results)  # a failed or cancelled run's files are no result
    return outcome


def _results_folder(kind: str, job_id: str) -> Path | None:
    """Where an audit or score job's child writes its result files (shared/job_results.py), made empty; None for
    the kinds without result files."""
    if kind not in job_results.RESULT_KINDS:
        return None
    settings = get_settings()
    return job_results.prepare(settings.models_dir, job_id, events.retention_seconds(settings.event_retention_days))


def _record_as_claimed(redis: Any, job_id: str, kind: str, params: BaseModel, worker: str) -> dict[str, Any]:
    """The record as claimed (kept to write it back if Redis loses it); a sketch of it if Redis does not answer."""
    try:
        record = run_sync(redis, jobs.get_job(job_id))
    except Exception:
        log.warning("job %s: could not read the record just claimed", job_id, exc_info=True)
        record = None
    if record is None:
        record = {"id": job_id, "kind": kind, **record_fields(kind, params), "submitted_at": events.now_iso(),
                  "started_at": events.now_iso(), "source": "celery", "worker": worker, "last_event_id": 2}  # fmt: skip
    record.pop("queue_position", None)
    return record


def _started_at(record: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(record["started_at"])
    except (KeyError, TypeError, ValueError):
        return datetime.now(UTC)


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "AVOCET_PUBLISH_GATE": "1"}


class _JobRun:
    """Per-run state: forwards lines as events, keeps progress, watches the child, and picks the terminal event."""

    def __init__(self, link: JobLink, limits: Limits) -> None:
        self.link, self.limits = link, limits
        self.progress = ProgressTracker(_started_at(link.record))
        self.final: tuple[str, str, dict[str, Any]] | None = None  # the CLI's complete/error line, held back
        self.stop: str | None = None  # why the run is being stopped
        self.publishing = False  # the child was allowed to publish: too late to cancel
        self.started = self.last_line = time.monotonic()
        self.saw_start = self.armed = False  # the stall watchdog is armed by the first line after `start`

    def on_line(self, line: str) -> str | None:
        if not line.strip():
            return None
        self.last_line = time.monotonic()
        type_, message, data = events.wrap_cli_line(line)
        self.armed, self.saw_start = self.armed or self.saw_start, self.saw_start or type_ == "start"
        if type_ == PUBLISH_REQUEST:
            return self._answer_publish()
        if type_ in TERMINAL_TYPES:
            self.final = (type_, message, data)  # published once the exit code confirms it
            return None
        snapshot = None
        if type_ in PROGRESS_FIELDS:
            snapshot = self.progress.update(type_, data)
            if "estimated_finish" in snapshot:  # the one estimate: clients show it, they compute none
                data = {**data, "estimated_finish": snapshot["estimated_finish"]}
        self.link.emit(type_, message, data, snapshot)
        return None

    def _answer_publish(self) -> str:
        verdict = self.link.begin_publish()
        self.last_line = time.monotonic()  # waiting for Redis is not the child's silence
        if verdict == job_lease.PUBLISH:
            self.publishing = True
            return PUBLISH
        log.warning("job %s: not letting the run publish (%s)", self.link.job_id, verdict)
        self.stop = verdict
        return ABORT

    def should_stop(self) -> bool:
        if self.stop:
            return True
        reason = self.link.check()
        if self.publishing and reason != job_lease.FENCED:
            reason = None  # publishing has begun: a stop request (refused by cancel anyway) comes too late
        now = time.monotonic()
        if reason is None and now - self.started > self.limits.time_limit_s:
            reason = TIME_LIMIT
        if reason is None and self.armed and now - self.last_line > self.limits.stall_s:
            reason = STALLED
        self.stop = reason
        return reason is not None

    def finish(self, result: ChildResult) -> Outcome:
        if self.stop == job_lease.FENCED:
            return self._as_stored("the job was ended elsewhere while it ran", "failed")
        if self.stop is not None:
            return self._stopped(self.stop)
        if result.returncode == 0 and self.final and self.final[0] == "complete":
            _, message, data = self.final
            message = message or "complete"
            return self._end("succeeded", message, lambda g: jobs.succeed(self.link.job_id, message, data, g))
        if self.final and self.final[0] == "error":
            _, message, data = self.final
            reason, message = str(data.pop("reason", "error")), message or "the run failed"
            return self._end("failed", message, lambda g: jobs.fail(self.link.job_id, message, reason, data, g))
        if any(DISK_FULL in line for line in result.stderr_tail):
            return self.end_failed(self._disk_full_message(), "disk_full")
        tail = f": {result.stderr_tail[-1]}" if result.stderr_tail else ""
        return self.end_failed(f"the run exited with code {result.returncode}{tail}", "exit_code")

    def _disk_full_message(self) -> str:
        model = ("the new model may already be published" if self.publishing
                 else "its files were removed and the current version is unchanged")  # fmt: skip
        return (f"the disk is full ({DISK_FULL}) while the run wrote its model: {model}; free space in the models "
                "folder (e.g. delete old versions: DELETE /api/models/{name}/versions/{n}) and resubmit")

    def _stopped(self, reason: str) -> Outcome:
        model = ("the new model may already be published" if self.publishing
                 else "the previous model is unchanged")  # fmt: skip
        if reason == "cancel":
            message = f"cancelled by request; {model}"
            return self._end("cancelled", message, lambda g: jobs.stopped(self.link.job_id, message, g))
        messages = {
            "shutdown": "the worker shut down during the run; resubmit the job",
            STALLED: f"the run printed nothing for {self.limits.stall_s:.0f}s (hung, or stopped with kill -STOP) and "
                     f"was killed; {model}; resubmit the job",
            TIME_LIMIT: f"the run passed its time limit of {self.limits.time_limit_s:.0f}s (AVOCET_JOB_TIME_LIMIT_S) "
                        f"and was killed; {model}",
            job_lease.STATE_LOST: f"Redis lost this job's record while it ran (its data was lost), so the run was "
                                  f"stopped; {model}; resubmit the job",
            REDIS_UNAVAILABLE: f"Redis was unreachable for {self.link.outage_s():.0f}s, so the worker could no longer "
                               f"prove it owned the job and stopped the run; {model}; resubmit the job",
        }  # fmt: skip
        return self.end_failed(messages.get(reason, f"stopped ({reason})"), "worker_shutdown" if reason == "shutdown"
                               else reason)  # fmt: skip

    def end_failed(self, message: str, reason: str) -> Outcome:
        return self._end("failed", message, lambda g: jobs.fail(self.link.job_id, message, reason, None, g))

    def _end(self, state: str, message: str, make_op: Callable[[jobs.Guard], Any]) -> Outcome:
        done = self.link.end(make_op)
        if done:
            return Outcome(state, message)
        if done is None:
            return Outcome("failed", f"{message} (not recorded: Redis did not answer)")
        return self._as_stored(f"the job had already ended when its run finished as {state}", state)

    def _as_stored(self, note: str, fallback: str) -> Outcome:
        """What the store says about a job this run no longer owns (it writes nothing more)."""
        log.warning("job %s: %s", self.link.job_id, note)
        try:
            job = run_sync(self.link.redis, jobs.get_job(self.link.job_id)) or {}
        except Exception:
            job = {}
        return Outcome(str(job.get("state") or fallback), jobs.error_message(job) or note)
