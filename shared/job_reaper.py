"""Crash detection: fail running jobs whose worker is gone and queued jobs whose task message is gone.

Run by every API process every REAP_EVERY_S (api/main.py) and by each worker at start-up (for its own leftovers).
Only a job whose heartbeat is gone is ever failed, whoever checks. A running job's heartbeat key
(shared/job_lease.py) expires HEARTBEAT_TTL_S after its worker's last beat; the job is then failed `worker_lost` at
the next check, except in the first GRACE_WINDOW_S after Redis (re)started, when every TTL ran out at once and live
workers get REAP_GRACE_S more (measured on the Redis clock) to beat again. A worker restarting under the same name
fails its own leftovers whose heartbeat is gone at once (no grace); a second worker under a live one's name is
refused at start (worker/queue/worker_name.py). Queued jobs that have had no task message in the broker for
LOST_MESSAGE_AFTER_S (the API or a worker died between recording and sending, or taking and claiming) fail
`message_lost`. Each failure is the store's guarded transition, so a job that a live worker ends at the same moment
is ended once.
"""

import json
from typing import Any

from shared import keys
from shared.job_queries import running_jobs
from shared.jobs import HEARTBEAT_TTL_S, Guard, fail, reject
from shared.redis_ops import Op, as_text

REAP_GRACE_S = 10  # a running job is failed once its heartbeat has been missing this much longer than its TTL
GRACE_WINDOW_S = HEARTBEAT_TTL_S + REAP_GRACE_S  # ... only this soon after Redis started; later, once its TTL ran out
LOST_MESSAGE_AFTER_S = 60  # a queued job is failed once its task message has been missing from the broker this long
LOST_CHECK_JOBS = 100  # the oldest queued jobs checked for a task message per pass
BROKER_SCAN = 500  # broker messages read per list per pass (oldest first)


def _reap_grace() -> Op[float]:
    """REAP_GRACE_S just after Redis (re)started, when every heartbeat TTL ran out at once and live workers need a
    moment to beat again; none otherwise, so a dead worker's job is failed as soon as its heartbeat expires."""
    server = yield lambda r: r.info("server")
    return REAP_GRACE_S if int(server.get("uptime_in_seconds", 0)) < GRACE_WINDOW_S else 0


def reap_stale(restarted_worker: str | None = None) -> Op[list[str]]:
    """Fail running jobs whose worker is gone (heartbeat missing for its TTL + REAP_GRACE_S, or the worker itself
    restarted) and queued jobs whose task message is gone (fail_lost_messages); returns their ids."""
    reaped, grace = [], (yield from _reap_grace())
    for job in (yield from running_jobs()):
        if (yield lambda r, j=job["id"]: r.exists(keys.job_alive(j))):
            continue  # alive, whoever asks: a second worker started under a live one's name must not end its job
        own = restarted_worker is not None and job.get("worker") == restarted_worker
        guard = Guard(dead_for=0 if own else grace)
        if (yield from fail(job["id"], _worker_lost(job), "worker_lost", guard=guard)):
            reaped.append(job["id"])
    return reaped + (yield from fail_lost_messages())


def _worker_lost(job: dict[str, Any]) -> str:
    worker = job.get("worker")
    if job.get("publishing"):  # never claim the previous model is untouched: the new one may be in place
        name = job.get("name") or job.get("model")  # a job without a name publishes under its model key
        return (f"worker {worker} stopped while publishing the model (crash or kill): models/avocet-{name} "
                "may already be the new model; check it before you resubmit")  # fmt: skip
    return f"worker {worker} stopped while the job was running (crash or kill); resubmit the job"


def fail_lost_messages() -> Op[list[str]]:
    """Fail queued jobs that no task message stands behind: not in the broker's queue lists nor taken by a worker
    (kombu's `unacked` hash) on checks LOST_MESSAGE_AFTER_S apart (the API died between recording and sending, a
    worker between taking and claiming, or Redis lost the message). Reason `message_lost`; returns their ids.

    Bounded, whatever the queue length: only the LOST_CHECK_JOBS oldest queued jobs are checked (a job whose message
    is lost stays queued while the others run, so it reaches the front), against the BROKER_SCAN oldest messages of
    each list (kombu pushes left and pops right) and the `unacked` hash when it is no longer than that. A job is
    failed only when what was read is the whole broker; otherwise it waits for a shorter queue."""
    queued = [as_text(i) for i in (yield lambda r: r.zrange(keys.JOBS_QUEUED, 0, LOST_CHECK_JOBS - 1))]
    if not queued:
        return []
    lengths = yield lambda r: _lengths(r)
    listed = yield lambda r: _oldest_messages(r, keys.BROKER_QUEUE_KEYS, BROKER_SCAN)
    taken = (yield lambda r: r.hvals(keys.BROKER_UNACKED)) if lengths[-1] <= BROKER_SCAN else []
    in_broker = {_task_id(raw) for items in listed for raw in items} | {_task_id(raw, taken=True) for raw in taken}
    seen = [keys.job_suspect(job_id) for job_id in queued if job_id in in_broker]
    if seen:
        yield lambda r: r.delete(*seen)
    if any(length > BROKER_SCAN for length in lengths):
        return []  # part of the broker was not read: a job not found may be there
    message = ("its task message was lost before a worker started it (the API or a worker stopped at that moment, "
               "or Redis lost data); resubmit the job")  # fmt: skip
    failed = []
    for job_id in (j for j in queued if j not in in_broker):
        if (yield from reject(job_id, message, "message_lost", guard=Guard(dead_for=LOST_MESSAGE_AFTER_S))):
            failed.append(job_id)
    return failed


def _lengths(client: Any) -> Any:
    """The length of each broker queue list, then of the `unacked` hash."""
    pipe = client.pipeline(transaction=False)
    for name in keys.BROKER_QUEUE_KEYS:
        pipe.llen(name)
    pipe.hlen(keys.BROKER_UNACKED)
    return pipe.execute()


def _oldest_messages(client: Any, names: tuple[str, ...], count: int) -> Any:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.lrange(name, -count, -1)
    return pipe.execute()


def _task_id(raw: str | bytes, taken: bool = False) -> str | None:
    """The task id (= job id) of a kombu message as stored by the Redis transport; None if it cannot be read."""
    try:
        message = json.loads(raw)
        message = message[0] if taken else message
        return message.get("headers", {}).get("id") or message.get("properties", {}).get("correlation_id")
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None
