"""One Redis pub/sub reader per API process, fanning job events out to in-memory queues (one per SSE client).

However many browsers watch a job, the process holds one Redis connection for live events, subscribed to a job's
channel only while someone watches it; the last client to leave unsubscribes. Each client's queue is bounded: a
client too slow to keep up loses live items, notices the gap in ids and re-reads the stream (api/sse.py), so one
slow client never slows the others; one that stops reading altogether is dropped by api/sse.py after its send
timeout, and leaving frees its queue. If the connection drops, the reader reconnects and resubscribes.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple

import anyio
from redis.asyncio import Redis

from shared import keys

log = logging.getLogger(__name__)

QUEUE_SIZE = 1_000  # per client; past it live items are dropped and the client re-reads the stream


class LiveEvent(NamedTuple):
    id: int
    type: str
    frame: bytes  # the SSE message, encoded once here for every client


def sse_frame(event_id: int, text: str) -> bytes:
    """`id:` + `data:` lines; the event JSON never contains a newline (json.dumps escapes them)."""
    return b"id: %d\r\ndata: %s\r\n\r\n" % (event_id, text.encode())


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._pubsub = None
        self._queues: dict[str, set[asyncio.Queue]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._read_forever(), name="avocet-event-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._close_pubsub()

    @asynccontextmanager
    async def listen(self, job_id: str) -> AsyncIterator[asyncio.Queue]:
        """A queue receiving the job's live events while the context is open."""
        channel = keys.event_channel(job_id)
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        async with self._lock:
            listeners = self._queues.setdefault(channel, set())
            listeners.add(queue)
            if len(listeners) == 1:
                await self._subscribe(channel)
        try:
            yield queue
        finally:
            with anyio.CancelScope(shield=True):  # runs while the client's task is being cancelled
                await self._leave(channel, queue)

    async def _subscribe(self, channel: str) -> None:
        confirmed = self._confirmed[channel] = asyncio.Event()
        try:
            await self._pubsub.subscribe(channel)
            await asyncio.wait_for(confirmed.wait(), 2.0)
        except Exception:  # the reader resubscribes after a reconnect; the stream read covers the gap
            log.warning("subscribing to %s failed or is slow; relying on stream reads", channel, exc_info=True)

    async def _leave(self, channel: str, queue: asyncio.Queue) -> None:
        async with self._lock:
            listeners = self._queues.get(channel, set())
            listeners.discard(queue)
            if listeners:
                return
            self._queues.pop(channel, None)
            self._confirmed.pop(channel, None)
            try:
                await self._pubsub.unsubscribe(channel)
            except Exception:
                log.warning("unsubscribing from %s failed (the reader will reconnect)", channel, exc_info=True)

    async def _read_forever(self) -> None:
        backoff = 0.5
        while True:
            try:
                async with self._lock:
                    await self._close_pubsub()
                    self._pubsub = self._redis.pubsub()
                    await self._pubsub.subscribe(keys.HUB_CHANNEL, *self._queues)
                backoff = 0.5
                while True:
                    message = await self._pubsub.get_message(timeout=1.0)
                    if message:
                        self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("event reader lost Redis; reconnecting in %.1fs", backoff, exc_info=True)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    def _dispatch(self, message: dict) -> None:
        channel = message["channel"]
        if message["type"] == "subscribe":
            if channel in self._confirmed:
                self._confirmed[channel].set()
            return
        if message["type"] != "message":
            return
        listeners = self._queues.get(channel)
        if not listeners:
            return
        text = message["data"]
        event = json.loads(text)
        item = LiveEvent(int(event["id"]), str(event.get("type", "")), sse_frame(int(event["id"]), text))
        for queue in listeners:
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                pass  # that client re-reads the stream when it sees the gap

    async def _close_pubsub(self) -> None:
        if self._pubsub is not None:
            try:
                await self._pubsub.aclose()
            except Exception:
                pass
            self._pubsub = None
