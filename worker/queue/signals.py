"""Celery signal handlers that keep the job store true to what the workers do.

- before_task_publish (in whatever process sends the task with this app: `celery -A worker.queue.app call`, or the
  worker queueing its follow-up benchmark): record the job as queued (job_runner.record_sent_job, the worker side's one
  place that creates records), so ops-submitted jobs list and stream like UI ones. The API records its own jobs.
- celeryd_init: refuse to start under the name of a live worker (worker/queue/worker_name.py), and hold the name.
- worker_ready: fail jobs this worker left "running" when it died (once their heartbeat is gone), reap any whose
  heartbeat expired (and remove their result folders), remove the staging folders of dead runs (any host's, when
  provably dead: shared/model_store.py), and start this worker's own heartbeat (read by /api/health).
- worker_shutting_down: ask this worker's running job to stop, so a warm shutdown (Ctrl-C) does not wait for a
  long training run; the job ends failed ("worker shut down").
- task_revoked: a task revoked outside the API (Flower, `celery control revoke`) is dropped by the worker when its
  message comes up; its job, still `queued` in the store, ends `cancelled` (not `failed: message_lost` by the reaper).
- worker_process_init: the pool process dies with the main worker process (PR_SET_PDEATHSIG), so `kill -9` of the
  worker stops the run instead of leaving it orphaned.
"""

import logging
import signal
import sys
import threading
import time

from celery import signals

from shared import job_reaper, job_results, jobs, keys
from shared.model_store import clean_stale_staging
from shared.parent_death import die_with_parent
from shared.redis_ops import run_sync
from shared.settings import get_settings
from worker.queue import worker_name
from worker.queue.connections import redis_client as _client
from worker.queue.job_runner import record_sent_job

log = logging.getLogger(__name__)

_WORKER_HEARTBEAT_EVERY_S = 10
_stop_heartbeat = threading.Event()
_instance = worker_name.new_instance()


@signals.before_task_publish.connect
def record_published_job(sender=None, body=None, headers=None, **_):
    kind = keys.KIND_OF_TASK.get(sender)
    if kind is None or not headers:
        return
    kwargs = body[1] if isinstance(body, (list, tuple)) and len(body) > 1 else (body or {}).get("kwargs", {})
    source = "worker" if headers.get(keys.SOURCE_HEADER) == "worker" else "celery"  # Job.source admits only these
    try:
        record_sent_job(_client(), headers["id"], kind, kwargs if isinstance(kwargs, dict) else {}, source)
    except Exception:  # Celery logs and ignores a hook's error; without a record the worker will not run the job
        log.exception("could not record job %s at publish time: it will not run; send it again once Redis answers",
                      headers.get("id"))  # fmt: skip


@signals.celeryd_init.connect
def hold_worker_name(sender=None, **_):
    """Before anything starts: a second worker under a live one's name stops here (SystemExit, with the message)."""
    name = str(sender)
    try:
        worker_name.hold(_client(), name, _instance)
    except worker_name.DuplicateWorkerName as exc:
        log.error("%s", exc)
        raise
    threading.Thread(target=worker_name.keep, args=(_client(), name, _instance, _stop_heartbeat),
                     name="avocet-worker-name", daemon=True).start()  # fmt: skip


@signals.worker_ready.connect
def reap_and_beat(sender=None, **_):
    hostname = sender.hostname
    try:
        removed = clean_stale_staging(get_settings().models_dir)
    except OSError:
        log.warning("could not clean the staging folder", exc_info=True)
        removed = []
    if removed:
        log.warning("removed %d staging folder(s) of dead runs: %s", len(removed), ", ".join(p.name for p in removed))
    try:
        reaped = run_sync(_client(), job_reaper.reap_stale(restarted_worker=hostname))
    except Exception:  # Redis is away: the API processes reap as soon as it is back
        log.warning("could not check for jobs left running by a dead worker", exc_info=True)
        reaped = []
    if reaped:
        log.warning("marked %d job(s) left by a dead worker or a lost message as failed: %s", len(reaped),
                    ", ".join(reaped))  # fmt: skip
        job_results.discard_jobs(get_settings().models_dir, reaped)  # what the dead worker's audit/score child wrote
    threading.Thread(target=_beat, args=(hostname,), name="avocet-heartbeat", daemon=True).start()


def _beat(hostname: str) -> None:
    while not _stop_heartbeat.is_set():
        try:
            _client().zadd(keys.WORKERS, {hostname: time.time()})
        except Exception as exc:  # Redis is away: health shows the worker offline until it is back
            log.warning("worker heartbeat to Redis failed (%s); retrying", exc)
        _stop_heartbeat.wait(_WORKER_HEARTBEAT_EVERY_S)


@signals.worker_shutting_down.connect
def stop_running_jobs(sender=None, **_):
    _stop_heartbeat.set()
    try:
        stopping = run_sync(_client(), jobs.request_shutdown(str(sender)))
        _client().zrem(keys.WORKERS, str(sender))
        worker_name.release(_client(), str(sender), _instance)  # a worker restarted under this name starts at once
    except Exception:
        log.exception("could not ask running jobs to stop")
        return
    if stopping:
        log.warning("worker shutting down: stopping running job(s) %s", ", ".join(stopping))


@signals.task_revoked.connect
def cancel_revoked_job(sender=None, request=None, **_):
    job_id = getattr(request, "id", None)
    if getattr(sender, "name", None) not in keys.KIND_OF_TASK or not job_id:
        return
    try:  # the store's cancel: a queued job ends `cancelled`; a running one is flagged to stop; a finished one stays
        run_sync(_client(), jobs.cancel(job_id))
    except Exception:  # Redis is away: the reaper ends the job (message_lost) once it is back
        log.warning("could not mark revoked job %s cancelled", job_id, exc_info=True)


@signals.worker_process_init.connect
def die_with_main_process(**_):
    if not die_with_parent(signal.SIGKILL) and sys.platform.startswith("linux"):
        log.warning("could not set PR_SET_PDEATHSIG; a killed worker may leave its run orphaned")
