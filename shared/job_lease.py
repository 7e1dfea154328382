"""The running job's lease: what the worker that claimed a job writes while it runs it, each write conditional on
still holding the job (fencing).

`jobs.claim` gives the job a random lease. Every write below is one Lua script that first checks, atomically with
the write, that the job is still `running` under that lease, and answers OWNED, NOT_OWNED (reaped, or ended by
someone else) or MISSING (Redis lost the record). A worker that is no longer the owner learns it on its next write
and stops the run; nothing it writes after that lands, so a job's log never continues past its terminal event.

- `beat`: refresh the heartbeat (the reaper's sign of life) and read the stop flag (cancel / shutdown).
- `emit`: append an event (with the progress snapshot), its id above the worker's high-water mark.
- `begin_publish`: the training child asks before it publishes its model; granted only to the owner and only if no
  stop was asked for, and then marks the job `publishing`, after which `jobs.cancel` refuses (too late) instead
  of claiming the previous model is unchanged.
"""

import json
from typing import Any

from shared import keys
from shared.events import EMIT_LUA, event_body
from shared.jobs import HEARTBEAT_TTL_S
from shared.redis_ops import Op, as_text, script

OWNED, NOT_OWNED, MISSING = 1, 0, -1
FENCED, STATE_LOST = "fenced", "state_lost"  # stop reasons: someone else ended the job / Redis lost its record
PUBLISH = "publish"

_OWNED_LUA = """
local function owned(job_key, lease)
  local state = redis.call('HGET', job_key, 'state')
  if not state then return -1 end
  if state ~= '"running"' or redis.call('HGET', job_key, 'lease') ~= lease then return 0 end
  return 1
end
"""

_BEAT_LUA = _OWNED_LUA + """
-- KEYS: job, alive, cancel flag, suspect.  ARGV: lease, heartbeat TTL.  -> {owned, stop flag or nil}
local own = owned(KEYS[1], ARGV[1])
if own ~= 1 then return {own, false} end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
redis.call('DEL', KEYS[4])
return {1, redis.call('GET', KEYS[3])}
"""

_EMIT_LUA = EMIT_LUA + _OWNED_LUA + """
-- KEYS: job, seq, stream.  ARGV: channel, body, type, lease, floor, progress JSON ('' = none).
-- -> the new event's id (> 0), or 0 (not owned) / -1 (no record)
local own = owned(KEYS[1], ARGV[4])
if own ~= 1 then return own end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'progress', ARGV[6]) end
return emit(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[5])
"""

_PUBLISH_LUA = _OWNED_LUA + """
-- KEYS: job, cancel flag.  ARGV: lease.  -> 'publish', the stop flag, or 0 (not owned) / -1 (no record)
local own = owned(KEYS[1], ARGV[1])
if own ~= 1 then return own end
local flag = redis.call('GET', KEYS[2])
if flag then return flag end
redis.call('HSET', KEYS[1], 'publishing', 'true')
return 'publish'
"""


def _lease(lease: str) -> str:
    return json.dumps(lease)  # record fields are stored JSON-encoded


def _lost(owned: int) -> str:
    return STATE_LOST if owned == MISSING else FENCED




def beat(job_id: str, lease: str) -> Op[tuple[int, str | None]]:
    """Refresh the heartbeat if the lease holds; (OWNED | NOT_OWNED | MISSING, stop flag or None)."""
    job_keys = (keys.job(job_id), keys.job_alive(job_id), keys.cancel_flag(job_id), keys.job_suspect(job_id))
    owned, flag = yield script(_BEAT_LUA, job_keys, (_lease(lease), HEARTBEAT_TTL_S))
    return int(owned), as_text(flag)


def emit(
    job_id: str, lease: str, floor: int, type_: str, message: str, data: dict[str, Any],
    progress: dict[str, Any] | None = None,
) -> Op[int]:  # fmt: skip
    """Append an event (and set the job's progress) if the lease holds: its id (> floor), else NOT_OWNED / MISSING."""
    job_keys = (keys.job(job_id), keys.event_seq(job_id), keys.event_stream(job_id))
    args = (keys.event_channel(job_id), event_body(type_, message, data), type_, _lease(lease), floor,
            json.dumps(progress) if progress is not None else "")  # fmt: skip
    return int((yield script(_EMIT_LUA, job_keys, args)))


def begin_publish(job_id: str, lease: str) -> Op[str]:
    """PUBLISH when the owner may publish now (the job is marked `publishing`); otherwise why not: the stop flag
    ("cancel", "shutdown"), FENCED or STATE_LOST."""
    answer = yield script(_PUBLISH_LUA, (keys.job(job_id), keys.cancel_flag(job_id)), (_lease(lease),))
    return _lost(answer) if isinstance(answer, int) else as_text(answer)


def lost_reason(owned: int) -> str | None:
    """None while OWNED; FENCED or STATE_LOST otherwise."""
    return None if owned == OWNED else _lost(owned)
