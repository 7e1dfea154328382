"""Job store in Redis: records, queue order, state changes, cancellation and crash detection.

Delivery and crash design (why a long run never starts twice and a crashed run never stays "running"):
- Celery acknowledges a task when the worker starts it (`task_acks_late=False`) and the worker does not prefetch
  (`worker_disable_prefetch`), so the Redis `visibility_timeout` never hands a running job to a second worker.
- The store is the authority anyway: a job runs only if its worker wins the atomic `queued -> running` change;
  a duplicate delivery (or a job cancelled while queued) finds another state and is skipped.
- A running job has a heartbeat key with a short TTL (HEARTBEAT_TTL_S), refreshed by its worker (shared/job_lease.py).
  `reap_stale()` (run by every API process every few seconds and by each worker at start-up) fails running jobs
  whose heartbeat has stayed gone for REAP_GRACE_S more (so a Redis restart, after which every TTL has run out at
  once, gives live workers time to beat again); a worker restarting under the same name fails its own leftovers at
  once. It also fails queued jobs that have had no task message in the broker for LOST_MESSAGE_AFTER_S (the API or
  a worker died between recording and sending, or taking and claiming), reason `message_lost`.
- The claim gives the job a random lease; the worker's writes name it (Guard.lease, shared/job_lease.py), so a
  worker that lost the job (reaped, or Redis lost the record) writes nothing more. Guard.restore lets that worker
  end a job whose record Redis lost (`state_lost`), with event ids above its high-water mark (Guard.floor).
Every state change is one Lua script that checks the current state, updates the record and publishes the matching
event together, so exactly one terminal event is ever written, whoever (worker, API, reaper) gets there first.
Fields are stored JSON-encoded in one hash per job; queue position is the 1-based rank in the `queued` sorted set (1 = next to run).
"""

import json
from dataclasses import dataclass
from typing import Any

from shared import keys
from shared.events import EMIT_LUA, event_body, now_iso, retention_seconds
from shared.job_schema import describe_params
from shared.job_states import TRANSITIONS
from shared.redis_ops import Op, script
from shared.settings import get_settings

PAGE_CHUNK, PAGE_SCANS = 500, 20
HEARTBEAT_TTL_S = 10  # the running job beats every 0.5 s; 10 s absorbs a loaded box without slowing detection
REAP_GRACE_S = 10  # a running job is failed once its heartbeat has been missing this much longer than its TTL
GRACE_WINDOW_S = HEARTBEAT_TTL_S + REAP_GRACE_S  # ... only this soon after Redis started; later, once its TTL ran out
LOST_MESSAGE_AFTER_S = 60  # a queued job is failed once its task message has been missing from the broker this long
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


def _decode(raw: dict) -> dict[str, Any] | None:
    """A stored record, or None when there is none or only a fragment of one (Redis lost data mid-write)."""
    try:
        job = {_s(k): json.loads(_s(v)) for k, v in (raw or {}).items()}
    except ValueError:
        return None
    return job if isinstance(job.get("id"), str) and isinstance(job.get("state"), str) else None


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
    job = _decode((yield lambda r: r.hgetall(keys.job(job_id))))
    if job is None:
        return None
    rank = (yield lambda r: r.zrank(keys.JOBS_QUEUED, job_id)) if job["state"] == "queued" else None
    job["queue_position"] = None if rank is None else rank + 1  # 1 = next to run
    return job


def list_jobs(limit: int = 50) -> Op[list[dict[str, Any]]]:
    """Newest first, each with its queue position."""
    ids = [_s(i) for i in (yield lambda r: r.zrevrange(keys.JOBS_ALL, 0, limit - 1))]
    return (yield from _records(ids))


def _hgetall_many(client: Any, names: list[str]) -> Any:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(name)
    return pipe.execute()


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
    return _s(value) if value is not None else None


def set_progress(job_id: str, progress: dict[str, Any]) -> Op[None]:
    """Set the progress snapshot of an existing job (the worker sets it through its lease: shared/job_lease.py)."""
    if (yield lambda r: r.exists(keys.job(job_id))):
        yield lambda r: r.hset(keys.job(job_id), "progress", json.dumps(progress))


def running_jobs() -> Op[list[dict[str, Any]]]:
    ids = [_s(i) for i in (yield lambda r: r.zrange(keys.JOBS_RUNNING, 0, -1))]
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    return [job for job in map(_decode, raws) if job]


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
        own = restarted_worker is not None and job.get("worker") == restarted_worker
        if not own and (yield lambda r, j=job["id"]: r.exists(keys.job_alive(j))):
            continue
        guard = Guard(dead_for=-1 if own else grace)
        if (yield from fail(job["id"], _worker_lost(job), "worker_lost", guard=guard)):
            reaped.append(job["id"])
    return reaped + (yield from fail_lost_messages())


def _worker_lost(job: dict[str, Any]) -> str:
    worker = job.get("worker")
    if job.get("publishing"):  # never claim the previous model is untouched: the new one may be in place
        return (f"worker {worker} stopped while publishing the model (crash or kill): models/avocet-{job.get('name')} "
                "may already be the new model; check it before you resubmit")  # fmt: skip
    return f"worker {worker} stopped while the job was running (crash or kill); resubmit the job"


def fail_lost_messages() -> Op[list[str]]:
    """Fail queued jobs that no task message stands behind: not in the broker's queue lists nor taken by a worker
    (kombu's `unacked` hash) on checks LOST_MESSAGE_AFTER_S apart (the API died between recording and sending, a
    worker between taking and claiming, or Redis lost the message). Reason `message_lost`; returns their ids."""
    queued = [_s(i) for i in (yield lambda r: r.zrange(keys.JOBS_QUEUED, 0, -1))]
    if not queued:
        return []
    listed = yield lambda r: _lrange_many(r, keys.BROKER_QUEUE_KEYS)
    taken = yield lambda r: r.hvals(keys.BROKER_UNACKED)
    in_broker = {_task_id(raw) for items in listed for raw in items} | {_task_id(raw, taken=True) for raw in taken}
    seen = [keys.job_suspect(job_id) for job_id in queued if job_id in in_broker]
    if seen:
        yield lambda r: r.delete(*seen)
    message = ("its task message was lost before a worker started it (the API or a worker stopped at that moment, "
               "or Redis lost data); resubmit the job")  # fmt: skip
    failed = []
    for job_id in (j for j in queued if j not in in_broker):
        if (yield from reject(job_id, message, "message_lost", guard=Guard(dead_for=LOST_MESSAGE_AFTER_S))):
            failed.append(job_id)
    return failed


def _lrange_many(client: Any, names: tuple[str, ...]) -> Any:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.lrange(name, 0, -1)
    return pipe.execute()


def _task_id(raw: str | bytes, taken: bool = False) -> str | None:
    """The task id (= job id) of a kombu message as stored by the Redis transport; None if it cannot be read."""
    try:
        message = json.loads(raw)
        message = message[0] if taken else message
        return message.get("headers", {}).get("id") or message.get("properties", {}).get("correlation_id")
    except (ValueError, TypeError, AttributeError, IndexError, KeyError):
        return None


def request_shutdown(worker: str) -> Op[list[str]]:
    """Ask this worker's running jobs to stop because the worker is shutting down."""
    stopping = [job["id"] for job in (yield from running_jobs()) if job.get("worker") == worker]
    for job_id in stopping:
        yield lambda r, j=job_id: r.set(keys.cancel_flag(j), "shutdown", ex=CANCEL_FLAG_TTL_S)
    return stopping


def active_jobs() -> Op[list[dict[str, Any]]]:
    """Queued and running jobs (their records), e.g. to know which datasets are in use."""
    queued = yield lambda r: r.zrange(keys.JOBS_QUEUED, 0, -1)
    running = yield lambda r: r.zrange(keys.JOBS_RUNNING, 0, -1)
    ids = [_s(i) for i in [*queued, *running]]
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    return [job for job in map(_decode, raws) if job]


def page_jobs(limit: int, before: str | None = None, kind: str | None = None) -> Op[tuple[list[dict[str, Any]], bool]]:
    """A page of jobs newest first, older than job `before` when given, of one kind when given; (jobs, more)."""
    top = "+inf"
    if before is not None:
        score = yield lambda r: r.zscore(keys.JOBS_ALL, before)
        if score is None:
            return [], False
        top = f"({score}"
    found: list[dict[str, Any]] = []
    for _ in range(PAGE_SCANS):  # a kind filter reads on in chunks, but never the whole history at once
        ids = yield lambda r, t=top: r.zrevrangebyscore(keys.JOBS_ALL, t, "-inf", start=0, num=PAGE_CHUNK, withscores=True)
        if not ids:
            break
        page = yield from _records([_s(i) for i, _ in ids])
        found += [job for job in page if kind is None or job["kind"] == kind]
        top = f"({ids[-1][1]}"
        if len(found) > limit or len(ids) < PAGE_CHUNK:
            break
    return found[:limit], len(found) > limit


def _records(ids: list[str]) -> Op[list[dict[str, Any]]]:
    queued = [_s(i) for i in (yield lambda r: r.zrange(keys.JOBS_QUEUED, 0, -1))]
    positions = {job_id: rank for rank, job_id in enumerate(queued, start=1)}  # 1 = next to run
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    jobs = [job for job in map(_decode, raws) if job]
    for job in jobs:
        job["queue_position"] = positions.get(job["id"]) if job["state"] == "queued" else None
    return jobs
