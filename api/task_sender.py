"""Sends jobs to the workers by task name; the API never imports the worker code (or torch).

A broker-only Celery app: no result backend, since the job store and event log carry everything the API shows.
"""

from celery import Celery

from shared import keys


class TaskSender:
    def __init__(self, redis_url: str) -> None:
        self._app = Celery("avocet-api", broker=redis_url)
        self._app.conf.broker_connection_retry_on_startup = True

    def send(self, kind: str, job_id: str, kwargs: dict) -> None:
        """Queue the job on `gpu`; the Celery task id is the job id."""
        self._app.send_task(keys.TASKS[kind], kwargs=kwargs, task_id=job_id, queue=keys.QUEUE)

    def revoke(self, job_id: str) -> None:
        """Tell the workers to drop a queued task (the job store already says cancelled; this saves a delivery)."""
        self._app.control.revoke(job_id)

    def close(self) -> None:
        self._app.close()
