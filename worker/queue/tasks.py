"""Celery tasks: thin wrappers that hand the job to worker.queue.job_runner (plain code, tested without Celery).

Tasks take keyword arguments only and validate them themselves (`**kwargs`), so bad kwargs from `celery call`
end the job `failed` with an error event instead of a TypeError inside Celery.

Celery's own result state mirrors the job, so `celery result <id>`, Flower and any script that used `celery call`
tell a failed or cancelled run from a good one: succeeded -> SUCCESS, failed -> FAILURE (JobFailed with the job's
error), cancelled -> REVOKED (with a `task-revoked` event for Flower). A job this delivery did not run (a duplicate
delivery of a job running or done elsewhere) leaves the result alone.
"""

import logging
import uuid
from typing import Any

from celery.exceptions import Ignore

from shared import keys
from shared.settings import get_settings
from worker.queue.app import app
from worker.queue.connections import redis_client
from worker.queue.job_runner import Outcome, run_job

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """The job ended `failed`; the message is its error."""


def _run(task: Any, kind: str, args: tuple, kwargs: dict[str, Any]) -> dict[str, str]:
    if args:
        kwargs = {**kwargs, "positional_arguments": list(args)}  # rejected by validation, with a clear message
    worker = task.request.hostname or "worker"
    outcome = run_job(redis_client(), task.request.id, kind, kwargs, worker=worker)
    if kind == "finetune" and outcome.state == "succeeded" and get_settings().benchmark_after_finetune:
        _queue_benchmark(kwargs.get("data"))
    return mirror(task, outcome)


def mirror(task: Any, outcome: Outcome) -> dict[str, str]:
    """Return, raise or record so that Celery's result state says what happened to the job."""
    if outcome.state == "succeeded":
        return {"job_id": task.request.id, "state": outcome.state}
    if outcome.state == "failed":
        raise JobFailed(outcome.message or "the job failed")
    if outcome.state == "cancelled":
        task.backend.mark_as_revoked(task.request.id, outcome.message or "cancelled", request=task.request)
        task.send_event("task-revoked", terminated=False, signum=None, expired=False)
    raise Ignore()  # cancelled: recorded above; otherwise not this delivery's to record


def _queue_benchmark(data: Any) -> None:
    """Score the new model beside the others: a benchmark job, queued by the worker (never by a browser tab)."""
    job_id, kwargs = str(uuid.uuid4()), ({"data": data} if isinstance(data, str) else {})
    try:  # recorded at publish time (worker/queue/signals.py), source "worker"
        app.send_task(keys.TASK_BENCHMARK, kwargs=kwargs, task_id=job_id, queue=keys.QUEUE,
                      headers={keys.SOURCE_HEADER: "worker"})
    except Exception:  # the fine-tune succeeded whatever happens here
        log.exception("could not queue the benchmark that follows a fine-tune")


@app.task(name=keys.TASK_FINETUNE, bind=True, throws=(JobFailed,))
def finetune(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Fine-tune a model: kwargs as FinetuneParams (shared/job_schema.py)."""
    return _run(self, "finetune", args, kwargs)


@app.task(name=keys.TASK_BENCHMARK, bind=True, throws=(JobFailed,))
def benchmark(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Score every available classifier: kwargs as BenchmarkParams."""
    return _run(self, "benchmark", args, kwargs)


@app.task(name=keys.TASK_AUDIT, bind=True, throws=(JobFailed,))
def audit(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Find the rows of a dataset whose label is probably wrong: kwargs as AuditParams."""
    return _run(self, "audit", args, kwargs)


@app.task(name=keys.TASK_SCORE, bind=True, throws=(JobFailed,))
def score(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Predict every row of a dataset with a published model and rank the rows to label next: kwargs as ScoreParams."""
    return _run(self, "score", args, kwargs)
