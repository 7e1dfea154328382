"""Job store in Redis: records, queue order, state changes, cancellation and crash detection.

Delivery and crash design (why a long run never starts twice and a crashed run never stays "running"):
- Celery acknowledges a task when the worker starts it (`task_acks_late=False`) and the worker does not prefetch
  (`worker_disable_prefetch`), so the Redis `visibility_timeout` never hands a running job to a second worker.
- The store is the authority anyway: a job runs only if its worker wins the atomic `queued -> running` change;
  a duplicate delivery (or a job cancelled while queued) finds another state and is skipped.
- A running job has a heartbeat key with a short TTL (HEARTBEAT_TTL_S), refreshed by its worker every few seconds.
  `reap_stale()` (run by every API process every few seconds and by each worker at start-up) fails running jobs
  whose heartbeat is gone; a worker restarting under the same name fails its own leftovers at once.
Every state change is one Lua script that checks the current state, updates the record and publishes the matching
event together, so exactly one terminal event is ever written, whoever (worker, API, reaper) gets there first.
Fields are stored JSON-encoded in one hash per job; queue position is the 1-based rank in the `queued` sorted set (1 = next to run).
"""

import json
from typing import Any

from shared import keys
from shared.events import EMIT_LUA, event_body, now_iso, retention_seconds
from shared.job_schema import describe_params
from shared.job_states import TRANSITIONS
from shared.redis_ops import Op, script
from shared.settings import get_settings

HEARTBEAT_TTL_S = 15
HEARTBEAT_EVERY_S = 3
CANCEL_FLAG_TTL_S = 7 * 86400

_CREATE_LUA = EMIT_LUA + """
-- KEYS: job, seq, stream, all, queued, job_seq.  ARGV: job_id, channel, event body, event type, field/value pairs...
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local order = redis.call('INCR', KEYS[6])
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[4], order, ARGV[1])
redis.call('ZADD', KEYS[5], order, ARGV[1])
emit(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4])
return 1
"""

_TRANSITION_LUA = EMIT_LUA + """
-- KEYS: job, seq, stream, queued, running, alive, cancel
-- ARGV: job_id, channel, event body ('' = none), required current state, new state,
--       retention seconds (> 0 = the job ended), heartbeat TTL (> 0 = now running), event type, field/value pairs...
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return -1 end
if state ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[5])
for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZREM', KEYS[4], ARGV[1])
if tonumber(ARGV[7]) > 0 then
  redis.call('ZADD', KEYS[5], 0, ARGV[1])
  redis.call('SET', KEYS[6], '1', 'EX', ARGV[7])
else
  redis.call('ZREM', KEYS[5], ARGV[1])
  redis.call('DEL', KEYS[6])
end
if ARGV[3] ~= '' then emit(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[8]) end
if tonumber(ARGV[6]) > 0 then
  redis.call('DEL', KEYS[7])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return 1
"""


def _pairs(fields: dict[str, Any]) -> list[str]:
    return [part for k, v in fields.items() for part in (k, json.dumps(v))]


def _decode(raw: dict) -> dict[str, Any]:
    return {_s(k): json.loads(_s(v)) for k, v in raw.items()}


def _s(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def create_job(job_id: str, kind: str, kwargs: dict[str, Any], source: str) -> Op[bool]:
    """Record a queued job and publish its `queued` event; False (and no change) if the id already exists."""
    record = {
        "id": job_id, "kind": kind, **describe_params(kind, kwargs), "state": "queued",
        "submitted_at": now_iso(), "started_at": None, "finished_at": None, "progress": None,
        "result": None, "error": None, "last_event_id": 0, "source": source, "worker": None,
    }  # fmt: skip
    body = event_body("queued", f"{kind} job queued", {"state": "queued"})
    job_keys = (keys.job(job_id), keys.event_seq(job_id), keys.event_stream(job_id))
    index_keys = (keys.JOBS_ALL, keys.JOBS_QUEUED, keys.JOB_SEQ)
    args = (job_id, keys.event_channel(job_id), body, "queued", *_pairs(record))
    created = yield script(_CREATE_LUA, job_keys + index_keys, args)
    return bool(created)


def _transition(
    job_id: str, current: str, state: str, *, event: tuple[str, str] = ("", ""), ended: bool = False,
    heartbeat_s: int = 0, **fields: Any,
) -> Op[bool]:  # fmt: skip
    """Move from `current` to `state`, set fields and publish `event` (type, body), all atomically; False (and no
    change) when the job is in another state. Each named operation below is one row of TRANSITIONS."""
    if state not in TRANSITIONS.get(current, ()):
        raise ValueError(f"{current} -> {state} is not in the job state table")
    job_keys = (keys.job(job_id), keys.event_seq(job_id), keys.event_stream(job_id), keys.JOBS_QUEUED,
                keys.JOBS_RUNNING, keys.job_alive(job_id), keys.cancel_flag(job_id))  # fmt: skip
    event_type, body = event
    args = (job_id, keys.event_channel(job_id), body, json.dumps(current), json.dumps(state),
            retention_s() if ended else 0, heartbeat_s, event_type)  # fmt: skip
    changed = yield script(_TRANSITION_LUA, job_keys, args + tuple(_pairs(fields)))
    return changed == 1


def retention_s() -> int:
    """How long a finished job's events stay replayable (AVOCET_EVENT_RETENTION_DAYS), in seconds."""
    return retention_seconds(get_settings().event_retention_days)


def claim(job_id: str, worker: str) -> Op[bool]:
    """queued -> running, with the `started` event and a fresh heartbeat; False if the job may not start."""
    body = event_body("started", f"started on {worker}", {"state": "running", "worker": worker})
    fields = {"started_at": now_iso(), "worker": worker}
    return (yield from _transition(job_id, "queued", "running", event=("started", body), heartbeat_s=HEARTBEAT_TTL_S,
                                   **fields))  # fmt: skip


def _end(
    job_id: str, current: str, state: str, message: str, data: dict[str, Any], *, result: dict[str, Any] | None = None,
    error: str | None = None,
) -> Op[bool]:  # fmt: skip
    """End the job with its one terminal event: `complete` for succeeded, `error` (data.state) otherwise."""
    event_type = "complete" if state == "succeeded" else "error"
    body = event_body(event_type, message, {**data, "state": state})
    fields = {"finished_at": now_iso(), "result": result, "error": error}
    return (yield from _transition(job_id, current, state, event=(event_type, body), ended=True, **fields))


def succeed(job_id: str, message: str, result: dict[str, Any]) -> Op[bool]:
    """running -> succeeded; the `complete` event carries the result."""
    return (yield from _end(job_id, "running", "succeeded", message, result, result=result))


def fail(job_id: str, message: str, reason: str, data: dict[str, Any] | None = None) -> Op[bool]:
    """running -> failed, with `data.reason` a short code (worker_lost, exit_code, oom, ...)."""
    return (yield from _end(job_id, "running", "failed", message, {**(data or {}), "reason": reason}, error=message))


def reject(job_id: str, message: str, reason: str) -> Op[bool]:
    """queued -> failed: the job cannot start (bad arguments, the broker refused it)."""
    return (yield from _end(job_id, "queued", "failed", message, {"reason": reason}, error=message))


def stopped(job_id: str, message: str) -> Op[bool]:
    """running -> cancelled: its worker has stopped the training on request."""
    return (yield from _end(job_id, "running", "cancelled", message, {}, error="cancelled"))


def get_job(job_id: str) -> Op[dict[str, Any] | None]:
    raw = yield lambda r: r.hgetall(keys.job(job_id))
    if not raw:
        return None
    job = _decode(raw)
    rank = (yield lambda r: r.zrank(keys.JOBS_QUEUED, job_id)) if job["state"] == "queued" else None
    job["queue_position"] = None if rank is None else rank + 1  # 1 = next to run
    return job


def list_jobs(limit: int = 50) -> Op[list[dict[str, Any]]]:
    """Newest first, each with its queue position."""
    ids = [_s(i) for i in (yield lambda r: r.zrevrange(keys.JOBS_ALL, 0, limit - 1))]
    queued = [_s(i) for i in (yield lambda r: r.zrange(keys.JOBS_QUEUED, 0, -1))]
    positions = {job_id: rank for rank, job_id in enumerate(queued, start=1)}  # 1 = next to run
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    jobs = [_decode(raw) for raw in raws if raw]
    for job in jobs:
        job["queue_position"] = positions.get(job["id"]) if job["state"] == "queued" else None
    return jobs


def _hgetall_many(client: Any, names: list[str]) -> Any:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(name)
    return pipe.execute()


def cancel(job_id: str) -> Op[dict[str, Any] | None]:
    """Ask the job to stop. A queued job is cancelled here and never runs; a running one is stopped by its
    worker, which sees the flag within a second and kills the training process group."""
    yield lambda r: r.set(keys.cancel_flag(job_id), "cancel", ex=CANCEL_FLAG_TTL_S)
    yield from _end(job_id, "queued", "cancelled", "cancelled before it started", {}, error="cancelled")
    return (yield from get_job(job_id))


def stop_reason(job_id: str) -> Op[str | None]:
    """Why the job was asked to stop ("cancel" or "shutdown"), or None."""
    value = yield lambda r: r.get(keys.cancel_flag(job_id))
    return _s(value) if value is not None else None


def heartbeat(job_id: str) -> Op[None]:
    yield lambda r: r.set(keys.job_alive(job_id), "1", ex=HEARTBEAT_TTL_S)


def set_progress(job_id: str, progress: dict[str, Any]) -> Op[None]:
    yield lambda r: r.hset(keys.job(job_id), "progress", json.dumps(progress))


def running_jobs() -> Op[list[dict[str, Any]]]:
    ids = [_s(i) for i in (yield lambda r: r.zrange(keys.JOBS_RUNNING, 0, -1))]
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    return [_decode(raw) for raw in raws if raw]


def reap_stale(restarted_worker: str | None = None) -> Op[list[str]]:
    """Fail running jobs whose worker is gone (heartbeat expired, or the worker itself restarted)."""
    reaped = []
    for job in (yield from running_jobs()):
        alive = yield lambda r, j=job["id"]: r.exists(keys.job_alive(j))
        if alive and (restarted_worker is None or job.get("worker") != restarted_worker):
            continue
        reason = f"worker {job.get('worker')} stopped while the job was running (crash or kill); resubmit the job"
        if (yield from fail(job["id"], reason, "worker_lost")):
            reaped.append(job["id"])
    return reaped


def request_shutdown(worker: str) -> Op[list[str]]:
    """Ask this worker's running jobs to stop because the worker is shutting down."""
    stopping = [job["id"] for job in (yield from running_jobs()) if job.get("worker") == worker]
    for job_id in stopping:
        yield lambda r, j=job_id: r.set(keys.cancel_flag(j), "shutdown", ex=CANCEL_FLAG_TTL_S)
    return stopping
