"""Job events: the one schema `{id, ts, type, message, data}`, publishing, and replay.

Each event is written by one Lua script that, atomically, takes the next id from the job's counter (so ids grow
by exactly one within a job, whichever process publishes), appends the event to a capped Redis Stream under the
entry id `0-<id>` (so replay from any id is one XRANGE), records `last_event_id` on the job, and PUBLISHes it on the
job's channel for live readers. Ids never repeat within a job, even after Redis lost its data: the id is also above
the stream's last entry and above the caller's `floor` (the worker passes the last id it saw, its high-water mark),
so a client that reconnects with Last-Event-ID never drops a new event as a duplicate. When the job ends, the
stream and counter get a TTL of the retention period (`AVOCET_EVENT_RETENTION_DAYS`, default 7), so finished jobs
stay replayable that long and then clean up.
"""

import json
from datetime import UTC, datetime
from typing import Any, NamedTuple

from shared import keys
from shared.public_paths import scrub, server_roots
from shared.redis_ops import Op, as_text, script
from shared.settings import get_settings

STREAM_MAXLEN = 100_000  # cap per job; a 20-epoch run logs a few thousand events at most

# Shared Lua helper: emit(job_key, seq_key, stream_key, channel, body, type, floor) -> id. `body` is the event JSON
# without its id; the id is spliced in as the first member so the stored and published text is the final event. The
# type is stored beside it (field `t`) so replay needs no JSON parsing. The id is above `floor` and above the stream's
# last entry, whatever the counter says (a counter lost with Redis' data restarts at 1). A job record that is gone is
# not recreated by `last_event_id` alone.
EMIT_LUA = """
local function emit(job_key, seq_key, stream_key, channel, body, etype, floor)
  local n = redis.call('INCR', seq_key)
  local top = redis.call('XREVRANGE', stream_key, '+', '-', 'COUNT', 1)[1]
  floor = tonumber(floor) or 0
  if top then floor = math.max(floor, tonumber(string.match(top[1], '%d+$'))) end
  if n <= floor then
    n = floor + 1
    redis.call('SET', seq_key, n, 'KEEPTTL')
  end
  local ev = '{"id": ' .. n .. ', ' .. string.sub(body, 2)
  redis.call('XADD', stream_key, 'MAXLEN', '~', 'STREAM_MAXLEN', '0-' .. n, 'e', ev, 't', etype)
  if redis.call('EXISTS', job_key) == 1 then redis.call('HSET', job_key, 'last_event_id', n) end
  redis.call('PUBLISH', channel, ev)
  return n
end
""".replace("STREAM_MAXLEN", str(STREAM_MAXLEN))

_PUBLISH_LUA = EMIT_LUA + "return emit(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4])"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def event_body(type_: str, message: str = "", data: dict[str, Any] | None = None) -> str:
    """The event as JSON without its id (the publish script adds it)."""
    return json.dumps({"ts": now_iso(), "type": type_, "message": message, "data": data or {}})


def wrap_cli_line(line: str) -> tuple[str, str, dict[str, Any]]:
    """A CLI stdout line as (type, message, data): JSON lines keep type/message, other fields go to data;
    anything else (a stray print) becomes a `log` event. Server paths are scrubbed (shared/public_paths.py)."""
    return scrub(_wrap(line), server_roots(get_settings()))


def _wrap(line: str) -> tuple[str, str, dict[str, Any]]:
    try:
        obj = json.loads(line)
    except ValueError:
        obj = None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        return "log", line.rstrip("\n"), {}
    data = {k: v for k, v in obj.items() if k not in ("type", "message")}
    return obj["type"], str(obj.get("message", "")), data


def publish(
    job_id: str, type_: str, message: str = "", data: dict[str, Any] | None = None, *, floor: int = 0
) -> Op[int]:
    """Append one event to the job's log and broadcast it; returns its id (above `floor`)."""
    keys_ = (keys.job(job_id), keys.event_seq(job_id), keys.event_stream(job_id))
    args = (keys.event_channel(job_id), event_body(type_, message, data), type_, floor)
    event_id = yield script(_PUBLISH_LUA, keys_, args)
    return int(event_id)


class StoredEvent(NamedTuple):
    id: int
    type: str
    text: str  # the event JSON as published

    def parsed(self) -> dict[str, Any]:
        return json.loads(self.text)


def read_after(job_id: str, after_id: int, count: int | None = None) -> Op[list[StoredEvent]]:
    """Events with id > after_id, in order."""
    start = f"0-{after_id + 1}"
    entries = yield lambda r: r.xrange(keys.event_stream(job_id), min=start, max="+", count=count)
    return [StoredEvent(int(as_text(i).split("-")[1]), as_text(f.get("t", "")), as_text(f.get("e", "")))
            for i, f in entries]  # fmt: skip




def retention_seconds(days: float) -> int:
    return max(1, int(days * 86400))
