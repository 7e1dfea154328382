"""Celery tasks: thin wrappers that hand the job to worker.queue.job_runner (plain code, tested without Celery).

Tasks take keyword arguments only and validate them themselves (`**kwargs`), so bad kwargs from `celery call`
end the job `failed` with an error event instead of a TypeError inside Celery.
"""

import logging
import uuid
from typing import Any

from shared import jobs, keys
from shared.redis_ops import run_sync
from shared.settings import get_settings
from worker.queue.app import app
from worker.queue.connections import redis_client
from worker.queue.job_runner import run_job

log = logging.getLogger(__name__)


def _run(task: Any, kind: str, args: tuple, kwargs: dict[str, Any]) -> dict[str, str]:
    if args:
        kwargs = {**kwargs, "positional_arguments": list(args)}  # rejected by validation, with a clear message
    worker = task.request.hostname or "worker"
    state = run_job(redis_client(), task.request.id, kind, kwargs, worker=worker)
    if kind == "finetune" and state == "succeeded" and get_settings().benchmark_after_finetune:
        _queue_benchmark(kwargs.get("data"))
    return {"job_id": task.request.id, "state": state}


def _queue_benchmark(data: Any) -> None:
    """Score the new model beside the others: a benchmark job, queued by the worker (never by a browser tab)."""
    job_id, kwargs = str(uuid.uuid4()), ({"data": data} if isinstance(data, str) else {})
    try:
        run_sync(redis_client(), jobs.create_job(job_id, "benchmark", kwargs, "worker"))
        app.send_task(keys.TASK_BENCHMARK, kwargs=kwargs, task_id=job_id, queue=keys.QUEUE)
    except Exception:  # the fine-tune succeeded whatever happens here
        log.exception("could not queue the benchmark that follows a fine-tune")


@app.task(name=keys.TASK_FINETUNE, bind=True)
def finetune(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Fine-tune a model: kwargs model, epochs (1-20), optional data, labels, name."""
    return _run(self, "finetune", args, kwargs)


@app.task(name=keys.TASK_BENCHMARK, bind=True)
def benchmark(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Score every available classifier: optional kwargs data, models."""
    return _run(self, "benchmark", args, kwargs)
