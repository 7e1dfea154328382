"""Run one job end to end on the worker: validate the task's kwargs, claim the job (queued -> running), run its CLI
as a child process, turn each line into an event, and finish the job with exactly one terminal event.

No Celery here (worker/tasks.py is the thin Celery face), so tests call `run_job` directly with a stand-in CLI.
"""

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from shared import events, jobs
from shared.job_schema import PARAMS, child_args, explain
from shared.redis_ops import run_sync
from worker.queue.child_process import ChildResult, run_child

log = logging.getLogger(__name__)

CLI_MODULES = {"finetune": "worker.training", "benchmark": "worker.benchmark"}
_PROGRESS_FIELDS = {
    "progress": ("epoch", "step", "total", "loss"),
    "eval": ("epoch", "step", "total", "f1", "accuracy"),
}

CommandFor = Callable[[str, BaseModel], list[str]]


def build_command(kind: str, params: BaseModel) -> list[str]:
    """The CLI invocation for a job: `python -m worker.<kind> --params-json '{...}' --json` (a benchmark also saves)."""
    extra = ["--save"] if kind == "benchmark" else []
    return [sys.executable, "-m", CLI_MODULES[kind], *child_args(params), "--json", *extra]


def run_job(
    redis: Any, job_id: str, kind: str, kwargs: dict[str, Any], *, worker: str, command_for: CommandFor = build_command,
) -> str:  # fmt: skip
    """Run the job if it is still queued; returns its final state."""
    run_sync(redis, jobs.create_job(job_id, kind, kwargs, "celery"))  # no-op when the API or publish hook made it
    try:
        params = PARAMS[kind].model_validate(kwargs)
    except ValidationError as exc:
        message = f"bad task arguments ({explain(exc)})"
        log.warning("job %s rejected: %s", job_id, message)
        run_sync(redis, jobs.reject(job_id, message, "bad_input"))
        return "failed"
    if not run_sync(redis, jobs.claim(job_id, worker)):
        state = (run_sync(redis, jobs.get_job(job_id)) or {}).get("state")
        log.warning("job %s is %s, not queued: not starting it (cancelled, or delivered twice)", job_id, state)
        return str(state)
    run = _JobRun(redis, job_id)
    try:
        result = run_child(command_for(kind, params), run.on_line, run.should_stop, env=_child_env())
    except Exception as exc:  # the job must not stay "running" because the worker side broke
        log.exception("job %s: running the CLI failed", job_id)
        return run.finish_failed(f"the worker could not run the job: {exc}", "worker_error")
    return run.finish(result)


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


class _JobRun:
    """Per-run state: forwards lines as events, keeps progress, heartbeats, and picks the terminal event."""

    def __init__(self, redis: Any, job_id: str) -> None:
        self.redis, self.job_id = redis, job_id
        self.progress: dict[str, Any] = {}
        self.final: tuple[str, str, dict[str, Any]] | None = None  # the CLI's complete/error line, held back
        self.stop_reason: str | None = None
        self._next_beat = 0.0

    def on_line(self, line: str) -> None:
        if not line.strip():
            return
        type_, message, data = events.wrap_cli_line(line)
        if type_ in events.TERMINAL_TYPES:
            self.final = (type_, message, data)  # published once the exit code confirms it
            return
        run_sync(self.redis, events.publish(self.job_id, type_, message, data))
        if type_ in _PROGRESS_FIELDS:
            self.progress.update({k: data[k] for k in _PROGRESS_FIELDS[type_] if k in data})
            run_sync(self.redis, jobs.set_progress(self.job_id, self.progress))

    def should_stop(self) -> bool:
        if time.monotonic() >= self._next_beat:
            run_sync(self.redis, jobs.heartbeat(self.job_id))
            self._next_beat = time.monotonic() + jobs.HEARTBEAT_EVERY_S
        self.stop_reason = run_sync(self.redis, jobs.stop_reason(self.job_id))
        return self.stop_reason is not None

    def finish(self, result: ChildResult) -> str:
        if result.stopped and self.stop_reason == "shutdown":
            return self.finish_failed("the worker shut down during the run; resubmit the job", "worker_shutdown")
        if result.stopped:
            message = "cancelled by request; the previous model is unchanged"
            return self._end("cancelled", jobs.stopped(self.job_id, message))
        if result.returncode == 0 and self.final and self.final[0] == "complete":
            _, message, data = self.final
            return self._end("succeeded", jobs.succeed(self.job_id, message or "complete", data))
        if self.final and self.final[0] == "error":
            _, message, data = self.final
            reason = str(data.pop("reason", "error"))
            return self._end("failed", jobs.fail(self.job_id, message or "the run failed", reason, data))
        tail = f": {result.stderr_tail[-1]}" if result.stderr_tail else ""
        return self.finish_failed(f"the run exited with code {result.returncode}{tail}", "exit_code")

    def finish_failed(self, message: str, reason: str) -> str:
        return self._end("failed", jobs.fail(self.job_id, message, reason))

    def _end(self, state: str, op: Any) -> str:
        if not run_sync(self.redis, op):
            log.warning("job %s had already ended (reaped?) when its run finished as %s", self.job_id, state)
        return state
