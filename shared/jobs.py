"""Job store in Redis: records, queue order, state changes and cancellation. Reading pages of jobs is
shared/job_queries.py's; failing jobs whose worker or task message is gone, shared/job_reaper.py's.

Delivery design (why a long run never starts twice):
- Celery acknowledges a task when the worker starts it (`task_acks_late=False`) and the worker does not prefetch
  (`worker_disable_prefetch`), so the Redis `visibility_timeout` never hands a running job to a second worker.
- The store is the authority anyway: a job runs only if its worker wins the atomic `queued -> running` change;
  a duplicate delivery (or a job cancelled while queued) finds another state and is skipped.
- A running job has a heartbeat key with a short TTL (HEARTBEAT_TTL_S), refreshed by its worker (shared/job_lease.py);
  Guard.dead_for lets the reaper end it only once that key has been gone long enough.
- The claim gives the job a random lease; the worker's writes name it (Guard.lease, shared/job_lease.py), so a
  worker that lost the job (reaped, or Redis lost the record) writes nothing more. Guard.restore lets that worker
  end a job whose record Redis lost (`state_lost`), with event ids above its high-water mark (Guard.floor).
Every state change is one Lua script that checks the current state, updates the record and publishes the matching
event together, so exactly one terminal event is ever written, whoever (worker, API, reaper) gets there first.
Fields are stored JSON-encoded in one hash per job; queue position is the 1-based rank in the `queued` sorted set
(1 = next to run).
"""

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from shared import keys
from shared.events import EMIT_LUA, event_body, now_iso, retention_seconds
from shared.job_queries import decode_record, running_jobs
from shared.job_schema import record_fields
from shared.job_states import TRANSITIONS
from shared.redis_ops import Op, as_text, script
from shared.settings import get_settings

HEARTBEAT_TTL_S = 10  # the running job beats every 0.5 s; 10 s absorbs a loaded box without slowing detection
SUSPECT_TTL_S = 3600
CANCEL_FLAG_TTL_S = 7 * 86400

_CREATE_LUA = EMIT_LUA + """
-- KEYS: job, seq, stream, all, queued, job_seq.  ARGV: job_id, channel, event body, event type, field/value pairs...
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local order = redis.call('INCR', KEYS[6])
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZADD', KEYS[4], order, ARGV[1])
redis.call('ZADD', KEYS[5], order, ARGV[1])
emit(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[4], 0)
return 1
"""

_TRANSITION_LUA = EMIT_LUA + """
-- KEYS: job, seq, stream, queued, running, alive, cancel, suspect, all, job_seq
-- ARGV: job_id, channel, event body ('' = none), required current state, new state,
--       retention seconds (> 0 = the job ended), heartbeat TTL (> 0 = now running), event type,
--       lease ('' = any), event id floor, dead for (< 0 = no check), record to restore ('' = none),
--       field/value pairs...
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  if ARGV[12] == '' then return -1 end
  for field, value in pairs(cjson.decode(ARGV[12])) do redis.call('HSET', KEYS[1], field, value) end
  redis.call('ZADD', KEYS[9], redis.call('INCR', KEYS[10]), ARGV[1])
elseif state ~= ARGV[4] then return 0
elseif ARGV[9] ~= '' and redis.call('HGET', KEYS[1], 'lease') ~= ARGV[9] then return 0
end
local dead_for = tonumber(ARGV[11])
if dead_for >= 0 then
  if redis.call('EXISTS', KEYS[6]) == 1 then return 0 end
  local now = tonumber(redis.call('TIME')[1])
  local since = tonumber(redis.call('GET', KEYS[8]))
  if not since then
    redis.call('SET', KEYS[8], now, 'EX', SUSPECT_TTL_S)
    since = now
  end
  if now - since < dead_for then return 0 end
end
redis.call('DEL', KEYS[8])
redis.call('HSET', KEYS[1], 'state', ARGV[5])
for i = 13, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZREM', KEYS[4], ARGV[1])
if tonumber(ARGV[7]) > 0 then
  redis.call('ZADD', KEYS[5], 0, ARGV[1])
  redis.call('SET', KEYS[6], '1', 'EX', ARGV[7])
else
  redis.call('ZREM', KEYS[5], ARGV[1])
  redis.call('DEL', KEYS[6])
end
if ARGV[3] ~= '' then emit(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[3], ARGV[8], ARGV[10]) end
if tonumber(ARGV[6]) > 0 then
  redis.call('DEL', KEYS[7])
  redis.call('EXPIRE', KEYS[2], ARGV[6])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return 1
""".replace("SUSPECT_TTL_S", str(SUSPECT_TTL_S))

_CANCEL_LUA = """
-- KEYS: job, cancel flag.  ARGV: flag TTL.  0: nothing to stop, 1: flag raised, 2: too late (the model is publishing)
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= '"queued"' and state ~= '"running"' then return 0 end
if state == '"running"' and redis.call('HGET', KEYS[1], 'publishing') == 'true' then return 2 end
redis.call('SET', KEYS[2], 'cancel', 'EX', ARGV[1])
return 1
"""


@dataclass(frozen=True)
class Guard:
    """Conditions and repairs for a state change beyond the current state (the table's row)."""

    lease: str = ""  # only while this lease (given by claim) holds the job: its own worker
    floor: int = 0  # new event ids above this one (the worker's high-water mark; Redis may have lost the counter)
    dead_for: float = -1  # >= 0: only when the heartbeat (a queued job has none) has been gone this long, Redis clock
    restore: dict[str, Any] | None = None  # the record to write back first if Redis lost it (the worker's copy)

    def args(self) -> tuple[str, int, float, str]:
        restore = "" if self.restore is None else json.dumps({k: json.dumps(v) for k, v in self.restore.items()})
        return (json.dumps(self.lease) if self.lease else "", self.floor, self.dead_for, restore)


def _pairs(fields: dict[str, Any]) -> list[str]:
    return [part for k, v in fields.items() for part in (k, json.dumps(v))]


def create_job(job_id: str, kind: str, params: BaseModel | dict[str, Any], source: str) -> Op[bool]:
    """Record a queued job and publish its `queued` event; False (and no change) if the id already exists. `params`
    are the validated parameters (or kwargs that failed validation, which the caller then rejects): each job is
    created once, by whoever validated it (the API, or worker/queue/signals.py for `celery call`)."""
    record = {
        "id": job_id, "kind": kind, **record_fields(kind, params), "state": "queued",
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
    heartbeat_s: int = 0, guard: Guard = Guard(), **fields: Any,
) -> Op[bool]:  # fmt: skip
    """Move from `current` to `state`, set fields and publish `event` (type, body), all atomically; False (and no
    change) when the job is in another state or the guard does not hold. Each named operation below is one row of
    TRANSITIONS."""
    if state not in TRANSITIONS.get(current, ()):
        raise ValueError(f"{current} -> {state} is not in the job state table")
    job_keys = (keys.job(job_id), keys.event_seq(job_id), keys.event_stream(job_id), keys.JOBS_QUEUED,
                keys.JOBS_RUNNING, keys.job_alive(job_id), keys.cancel_flag(job_id), keys.job_suspect(job_id),
                keys.JOBS_ALL, keys.JOB_SEQ)  # fmt: skip
    event_type, body = event
    args = (job_id, keys.event_channel(job_id), body, json.dumps(current), json.dumps(state),
            retention_s() if ended else 0, heartbeat_s, event_type, *guard.args())  # fmt: skip
    changed = yield script(_TRANSITION_LUA, job_keys, args + tuple(_pairs(fields)))
    return changed == 1


def retention_s() -> int:
    """How long a finished job's events stay replayable (AVOCET_EVENT_RETENTION_DAYS), in seconds."""
    return retention_seconds(get_settings().event_retention_days)


def claim(job_id: str, worker: str, lease: str = "") -> Op[bool]:
    """queued -> running under `lease` (the worker's proof of ownership, shared/job_lease.py), with the `started`
    event and a fresh heartbeat; False if the job may not start."""
    body = event_body("started", f"started on {worker}", {"state": "running", "worker": worker})
    fields = {"started_at": now_iso(), "worker": worker, "lease": lease or None}
    return (yield from _transition(job_id, "queued", "running", event=("started", body), heartbeat_s=HEARTBEAT_TTL_S,
                                   **fields))  # fmt: skip


def _end(
    job_id: str, current: str, state: str, message: str, data: dict[str, Any], *, result: dict[str, Any] | None = None,
    guard: Guard = Guard(),
) -> Op[bool]:  # fmt: skip
    """End the job with its one terminal event: `complete` for succeeded, `error` (data.state) otherwise; a job that
    did not succeed records its error as {code: data.reason (or the state), message}."""
    event_type = "complete" if state == "succeeded" else "error"
    body = event_body(event_type, message, {**data, "state": state})
    error = None if state == "succeeded" else {"code": str(data.get("reason") or state), "message": message}
    fields = {"finished_at": now_iso(), "result": result, "error": error}
    return (yield from _transition(job_id, current, state, event=(event_type, body), ended=True, guard=guard, **fields))


def succeed(job_id: str, message: str, result: dict[str, Any], guard: Guard = Guard()) -> Op[bool]:
    """running -> succeeded; the `complete` event carries the result."""
    return (yield from _end(job_id, "running", "succeeded", message, result, result=result, guard=guard))


def fail(
    job_id: str, message: str, reason: str, data: dict[str, Any] | None = None, guard: Guard = Guard()
) -> Op[bool]:
    """running -> failed, with `data.reason` a short code (worker_lost, stalled, state_lost, oom, ...)."""
    data = {**(data or {}), "reason": reason}
    return (yield from _end(job_id, "running", "failed", message, data, guard=guard))


def reject(job_id: str, message: str, reason: str, guard: Guard = Guard()) -> Op[bool]:
    """queued -> failed: the job cannot start (bad arguments, the broker refused it, its message was lost)."""
    return (yield from _end(job_id, "queued", "failed", message, {"reason": reason}, guard=guard))


def stopped(job_id: str, message: str, guard: Guard = Guard()) -> Op[bool]:
    """running -> cancelled: its worker has stopped the training on request."""
    return (yield from _end(job_id, "running", "cancelled", message, {}, guard=guard))


def error_message(job: dict[str, Any]) -> str:
    """The message of a job's error ({code, message}; a plain string in records older than that shape)."""
    error = job.get("error")
    return str(error.get("message", "")) if isinstance(error, dict) else str(error or "")


def get_job(job_id: str) -> Op[dict[str, Any] | None]:
    """The record with its queue position; None when there is none (never made, or lost with Redis' data)."""
    job = decode_record((yield lambda r: r.hgetall(keys.job(job_id))))
    if job is None:
        return None
    rank = (yield lambda r: r.zrank(keys.JOBS_QUEUED, job_id)) if job["state"] == "queued" else None
    job["queue_position"] = None if rank is None else rank + 1  # 1 = next to run
    return job


def cancel(job_id: str) -> Op[dict[str, Any] | None]:
    """Ask the job to stop. A queued job is cancelled here and never runs; a running one is stopped by its
    worker, which sees the flag within a second and kills the training process group. Once a running job has begun
    to publish its model it is too late: nothing is flagged, the job goes on to succeed, and the record returned
    has `publishing: true` (the API answers 409)."""
    yield script(_CANCEL_LUA, (keys.job(job_id), keys.cancel_flag(job_id)), (CANCEL_FLAG_TTL_S,))
    yield from _end(job_id, "queued", "cancelled", "cancelled before it started", {})
    return (yield from get_job(job_id))


def stop_reason(job_id: str) -> Op[str | None]:
    """Why the job was asked to stop ("cancel" or "shutdown"), or None."""
    value = yield lambda r: r.get(keys.cancel_flag(job_id))
    return as_text(value) if value is not None else None


def set_progress(job_id: str, progress: dict[str, Any]) -> Op[None]:
    """Set the progress snapshot of an existing job (the worker sets it through its lease: shared/job_lease.py)."""
    if (yield lambda r: r.exists(keys.job(job_id))):
        yield lambda r: r.hset(keys.job(job_id), "progress", json.dumps(progress))


def request_shutdown(worker: str) -> Op[list[str]]:
    """Ask this worker's running jobs to stop because the worker is shutting down."""
    stopping = [job["id"] for job in (yield from running_jobs()) if job.get("worker") == worker]
    for job_id in stopping:
        yield lambda r, j=job_id: r.set(keys.cancel_flag(j), "shutdown", ex=CANCEL_FLAG_TTL_S)
    return stopping
