"""A job's events as Server-Sent Events: replay from the stream, then follow live, end after the terminal event.

Each SSE message carries `id: <event id>` and `data: <event JSON>` (no `event:` name, so a browser EventSource
gets them all in `onmessage`). Resume: the client sends `Last-Event-ID` (EventSource does so on reconnect) or
`?last_event_id=`; it gets exactly the events after that id, in order, once. Live items that arrive before the
replay caught up, or twice, are dropped by id; a gap in ids (a slow client's full queue, a pub/sub blip) triggers
a re-read of the stream, and so does every quiet `POLL_S`, so a missed publish costs latency, never an event.
Messages already waiting are written together in one chunk, so a busy stream costs one write per batch.
curl -N http://127.0.0.1:8000/api/jobs/<id>/events
"""

import asyncio
import json
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from sse_starlette import EventSourceResponse

from api.fanout import EventHub, LiveEvent, sse_frame
from shared import events, jobs
from shared.job_states import TERMINAL_STATES
from shared.redis_ops import run_async

POLL_S = 2.0
REPLAY_BATCH = 500
RETRY = b"retry: 2000\r\n"  # sent once: how long a browser waits before reconnecting


async def job_events(redis: Redis, hub: EventHub, job_id: str, after_id: int) -> AsyncIterator[bytes]:
    yield RETRY
    last = after_id
    async with hub.listen(job_id) as queue:
        while True:
            # Catch up from the stream (first pass, after a gap, after a quiet spell).
            stored = await run_async(redis, events.read_after(job_id, last))
            for start in range(0, len(stored), REPLAY_BATCH):
                batch = stored[start : start + REPLAY_BATCH]
                last = batch[-1].id
                ended = next((i for i, e in enumerate(batch) if e.type in events.TERMINAL_TYPES), None)
                yield b"".join(sse_frame(e.id, e.text) for e in batch[: None if ended is None else ended + 1])
                if ended is not None:
                    return
            if await _has_ended(redis, job_id):
                # Its terminal event was not in the read above: it was written just after it, or the log expired.
                rest = await run_async(redis, events.read_after(job_id, last))
                yield b"".join(sse_frame(e.id, e.text) for e in rest) if rest else await _closing(redis, job_id, last)
                return
            # Follow live until a gap in ids or POLL_S without news.
            while (item := await _next(queue)) is not None:
                frames, last, state = _take_in_order(item, queue, last)
                if frames:
                    yield b"".join(frames)
                if state == "ended":
                    return
                if state == "gap":
                    break


def _take_in_order(item: LiveEvent, queue: asyncio.Queue, last: int) -> tuple[list[bytes], int, str]:
    """This item and whatever else is already queued, in id order: (frames, new last id, ok|gap|ended)."""
    frames = []
    while True:
        if item.id == last + 1:
            frames.append(item.frame)
            last = item.id
            if item.type in events.TERMINAL_TYPES:
                return frames, last, "ended"
        elif item.id > last + 1:
            return frames, last, "gap"  # the stream read at the top of the loop sorts it out
        # item.id <= last: already sent by the catch-up read
        try:
            item = queue.get_nowait()
        except asyncio.QueueEmpty:
            return frames, last, "ok"


async def _next(queue: asyncio.Queue) -> LiveEvent | None:
    try:
        return queue.get_nowait()  # the common case under load: no timer, no task
    except asyncio.QueueEmpty:
        pass
    try:
        return await asyncio.wait_for(queue.get(), POLL_S)
    except TimeoutError:
        return None


async def _has_ended(redis: Redis, job_id: str) -> bool:
    job = await run_async(redis, jobs.get_job(job_id))
    return job is None or job["state"] in TERMINAL_STATES


async def _closing(redis: Redis, job_id: str, last: int) -> bytes:
    """The one terminal event for a finished job whose log has expired (older than the retention period)."""
    job = await run_async(redis, jobs.get_job(job_id)) or {}
    state = job.get("state", "failed")
    event_id = max(last, int(job.get("last_event_id") or 0))  # a reconnect with this id then gets 204
    event = {
        "id": event_id, "ts": events.now_iso(), "type": "complete" if state == "succeeded" else "error",
        "message": f"job {state}; its event log has expired", "data": {"state": state, "reason": "log_expired"},
    }  # fmt: skip
    return sse_frame(event_id, json.dumps(event))


def event_response(redis: Redis, hub: EventHub, job_id: str, after_id: int) -> EventSourceResponse:
    return EventSourceResponse(job_events(redis, hub, job_id, after_id), headers={"X-Accel-Buffering": "no"})
