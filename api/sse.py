"""A job's events as Server-Sent Events: replay from the stream, then follow live, end after the terminal event.

Each SSE message carries `id: <event id>` and `data: <event JSON>` (no `event:` name, so a browser EventSource
gets them all in `onmessage`). Resume: the client sends `Last-Event-ID` (EventSource does so on reconnect) or
`?last_event_id=`; it gets exactly the events after that id, in order, once. Live items that arrive before the
replay caught up, or twice, are dropped by id; a gap in ids (a slow client's full queue, a pub/sub blip) triggers
a re-read of the stream, and so does every quiet `POLL_S`, so a missed publish costs latency, never an event.
Bounds: the stream is read a page (`REPLAY_BATCH` events) at a time, one page written per chunk; a client that
takes no data for `SEND_TIMEOUT_S` is dropped and its queue and subscription freed. Events that the stream's cap
already trimmed are announced by one `gap` event (its id is the last one missing) before the first kept one, and
a job whose record is gone (Redis lost its data) ends with an `error` event, `data.reason = "state_lost"`.
curl -N http://127.0.0.1:8000/api/jobs/<id>/events
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sse_starlette import EventSourceResponse
from sse_starlette.sse import SendTimeoutError

from api.fanout import EventHub, LiveEvent, sse_frame
from shared import events, jobs
from shared.event_types import TERMINAL_TYPES
from shared.job_states import TERMINAL_STATES
from shared.redis_ops import run_async

log = logging.getLogger(__name__)

POLL_S = 2.0
REPLAY_BATCH = 500
SEND_TIMEOUT_S = 30.0  # a client that takes nothing for this long (stopped reading, vanished) is dropped
RETRY = b"retry: 2000\r\n"  # sent once: how long a browser waits before reconnecting


@dataclass
class _Cursor:
    last: int  # the last event id the client has
    ended: bool = False  # its terminal event is sent


async def job_events(redis: Redis, hub: EventHub, job_id: str, after_id: int) -> AsyncIterator[bytes]:
    yield RETRY
    cursor, warned = _Cursor(after_id), False
    async with hub.listen(job_id) as queue:
        while True:
            try:  # catch up from the stream (first pass, after a gap, after a quiet spell)
                async for chunk in _catch_up(redis, job_id, cursor):
                    yield chunk
            except (RedisError, OSError) as exc:  # Redis down or restarting: keep the client, retry
                if not warned:
                    log.warning("reading the events of job %s failed (%s); retrying every %.0fs", job_id, exc, POLL_S)
                warned = True
                await asyncio.sleep(POLL_S)
                continue
            if cursor.ended:
                return
            # Follow live until a gap in ids or POLL_S without news.
            while (item := await _next(queue)) is not None:
                frames, cursor.last, state = _take_in_order(item, queue, cursor.last)
                if frames:
                    yield b"".join(frames)
                if state == "ended":
                    return
                if state == "gap":
                    break


async def _catch_up(redis: Redis, job_id: str, cursor: _Cursor) -> AsyncIterator[bytes]:
    """The stored events after cursor.last, a page at a time; sets cursor.ended once the terminal one is out."""
    job = await run_async(redis, jobs.get_job(job_id))  # first: if it had ended already, the read must meet its end
    more = True
    while more:
        chunk, cursor.last, cursor.ended, more = await _stored_page(redis, job_id, cursor.last)
        if chunk:
            yield chunk
        if cursor.ended:
            return
    if job is None or job["state"] in TERMINAL_STATES:
        cursor.ended = True
        yield _closing(job, cursor.last)  # its log has expired, or Redis lost the job


async def _stored_page(redis: Redis, job_id: str, last: int) -> tuple[bytes, int, bool, bool]:
    """The next page of the stream after `last`: (frames, new last id, ended, maybe more)."""
    page = await run_async(redis, events.read_after(job_id, last, REPLAY_BATCH))
    if not page:
        return b"", last, False, False
    frames = [_gap_frame(last, page[0].id)] if page[0].id > last + 1 else []
    for event in page:
        frames.append(sse_frame(event.id, event.text))
        last = event.id
        if event.type in TERMINAL_TYPES:
            return b"".join(frames), last, True, False
    return b"".join(frames), last, False, len(page) == REPLAY_BATCH


def _gap_frame(last: int, first_kept: int) -> bytes:
    """Events last+1 .. first_kept-1 were trimmed by the stream's cap: say so instead of skipping them silently."""
    missing = (last + 1, first_kept - 1)
    event = {
        "id": missing[1], "ts": events.now_iso(), "type": "gap",
        "message": f"events {missing[0]}-{missing[1]} are no longer in this job's log (it keeps the newest "
                   f"{events.STREAM_MAXLEN}); continuing from {first_kept}",
        "data": {"first_missing": missing[0], "last_missing": missing[1]},
    }  # fmt: skip
    return sse_frame(missing[1], json.dumps(event))


def _take_in_order(item: LiveEvent, queue: asyncio.Queue, last: int) -> tuple[list[bytes], int, str]:
    """This item and whatever else is already queued, in id order: (frames, new last id, ok|gap|ended)."""
    frames = []
    while True:
        if item.id == last + 1:
            frames.append(item.frame)
            last = item.id
            if item.type in TERMINAL_TYPES:
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


def _closing(job: dict | None, last: int) -> bytes:
    """The one terminal event for a finished job whose log has expired, or for a job Redis no longer knows."""
    if job is None:
        event_id, state, reason = last + 1, "failed", "state_lost"
        message = "this job's record is gone from Redis (it lost its data): its outcome is unknown; resubmit the job"
    else:
        state, reason = job["state"], "log_expired"
        event_id = max(last, int(job.get("last_event_id") or 0))  # a reconnect with this id then gets 204
        message = f"job {state}; its event log has expired"
    event = {
        "id": event_id, "ts": events.now_iso(), "type": "complete" if state == "succeeded" else "error",
        "message": message, "data": {"state": state, "reason": reason},
    }  # fmt: skip
    return sse_frame(event_id, json.dumps(event))


class _JobEventResponse(EventSourceResponse):
    """Drops a client that stopped reading: its generator is closed, so its queue and subscription are freed."""

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            log.info("dropped an SSE client of %s: it took no data for %.0fs", scope.get("path"), SEND_TIMEOUT_S)


def event_response(redis: Redis, hub: EventHub, job_id: str, after_id: int) -> EventSourceResponse:
    return _JobEventResponse(job_events(redis, hub, job_id, after_id), headers={"X-Accel-Buffering": "no"},
                             send_timeout=SEND_TIMEOUT_S)  # fmt: skip
