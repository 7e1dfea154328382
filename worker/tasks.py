"""Celery tasks: thin wrappers that hand the job to worker.job_runner (plain code, tested without Celery).

Tasks take keyword arguments only and validate them themselves (`**kwargs`), so bad kwargs from `celery call`
end the job `failed` with an error event instead of a TypeError inside Celery.
"""

from typing import Any

from shared import keys
from worker.celery_app import app, redis_client, retention_s
from worker.job_runner import run_job


def _run(task: Any, kind: str, args: tuple, kwargs: dict[str, Any]) -> dict[str, str]:
    if args:
        kwargs = {**kwargs, "positional_arguments": list(args)}  # rejected by validation, with a clear message
    worker = task.request.hostname or "worker"
    state = run_job(redis_client(), task.request.id, kind, kwargs, worker=worker, retention_s=retention_s())
    return {"job_id": task.request.id, "state": state}


@app.task(name=keys.TASK_FINETUNE, bind=True)
def finetune(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Fine-tune a model: kwargs model, epochs (1-20), optional data, labels, name."""
    return _run(self, "finetune", args, kwargs)


@app.task(name=keys.TASK_BENCHMARK, bind=True)
def benchmark(self, *args: Any, **kwargs: Any) -> dict[str, str]:
    """Score every available classifier: optional kwargs data, models."""
    return _run(self, "benchmark", args, kwargs)
