"""The Celery app: Redis broker and result backend from settings, one `gpu` queue, one job at a time.

Delivery settings (shared/jobs.py and shared/job_reaper.py describe the whole crash design): tasks are acknowledged
when they start (`task_acks_late=False`), so a run longer than the Redis `visibility_timeout` is never delivered twice,
and the worker does not prefetch (`worker_disable_prefetch`), so a waiting job is never held by a busy worker and
queue positions are true. Start a worker with:
    celery -A worker.queue.app worker -Q gpu --concurrency 1 --prefetch-multiplier 1 -E
"""


from celery import Celery

from shared import keys
from shared.settings import get_settings

_settings = get_settings()

app = Celery("avocet", broker=_settings.redis_url, backend=_settings.redis_url, include=["worker.queue.tasks"])
app.conf.update(
    task_default_queue=keys.QUEUE,
    task_routes={"avocet.*": {"queue": keys.QUEUE}},
    task_acks_late=False,
    task_reject_on_worker_lost=False,
    task_track_started=True,
    task_send_sent_event=True,
    worker_send_task_events=True,
    worker_concurrency=1,
    worker_prefetch_multiplier=1,
    worker_disable_prefetch=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    # A Redis outage must not cost the running job: the task goes on when the broker connection drops (the job's own
    # writes wait for Redis, worker/queue/job_link.py), and its result is stored once Redis is back.
    worker_cancel_long_running_tasks_on_connection_loss=False,
    result_backend_always_retry=True,
    result_backend_max_retries=60,
    task_serializer="json",
    accept_content=["json"],
    result_expires=7 * 86400,
)


# Imported here, not in the worker only: `celery -A worker.queue.app call` must record the job it publishes too.
from worker.queue import signals  # noqa: E402,F401
