"""Run a Redis operation written once against either redis-py client: sync in the worker, asyncio in the API.

An operation is a generator that yields steps; a step is a callable taking the client and returning the reply
(an awaitable with the asyncio client). The driver feeds each reply back into the generator and returns the
generator's return value. This keeps the job store and event log free of duplicated sync/async code.
"""

import inspect
from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Step = Callable[[Any], Any]
Op = Generator[Step, Any, T]


def run_sync(client: Any, op: Op[T]) -> T:
    try:
        step = next(op)
        while True:
            step = op.send(step(client))
    except StopIteration as done:
        return done.value


async def run_async(client: Any, op: Op[T]) -> T:
    try:
        step = next(op)
        while True:
            reply = step(client)
            if inspect.isawaitable(reply):
                reply = await reply
            step = op.send(reply)
    except StopIteration as done:
        return done.value


def script(source: str, keys: Sequence[str], args: Sequence[Any]) -> Step:
    """A step running a Lua script (EVALSHA, loading it on first use); atomic on the server."""
    return lambda client: client.register_script(source)(keys=list(keys), args=list(args))


def as_text(value: Any) -> Any:
    """A reply as str: the API's client decodes replies, the worker's may not (bytes); None and numbers pass."""
    return value.decode() if isinstance(value, bytes) else value
