"""One live worker per name: a worker holds its Celery node name (e.g. gpu@box) in Redis while it runs, so a second
worker started under the same name (README's own command run twice) is refused at start with a message, instead of
taking the first one's jobs for "its own leftovers".

The name is a key holding this process's instance id with a short TTL (NAME_TTL_S), refreshed every
REFRESH_EVERY_S and deleted at a warm shutdown. A worker that died (kill -9, crash) leaves it to expire, so a
worker restarted under its name waits at most NAME_TTL_S for it; one that is still refreshed after that is alive.
"""

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from shared import keys

log = logging.getLogger(__name__)

NAME_TTL_S = 10
REFRESH_EVERY_S = 3
WAIT_S = NAME_TTL_S + 2  # a dead holder's key is gone by then
_CLAIM_LUA = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return false
"""
_RELEASE_LUA = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


class DuplicateWorkerName(SystemExit):
    """Another live worker holds this name; the message says which and what to do (SystemExit: the worker stops)."""


def new_instance() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(client: Any, name: str, instance: str) -> str | None:
    """Take or refresh the name; None when it is this instance's, else the instance that holds it."""
    holder = client.eval(_CLAIM_LUA, 1, keys.worker_name(name), instance, NAME_TTL_S)
    return holder or None


def release(client: Any, name: str, instance: str) -> None:
    client.eval(_RELEASE_LUA, 1, keys.worker_name(name), instance)


def hold(client: Any, name: str, instance: str, wait_s: float = WAIT_S) -> None:
    """Claim the name, waiting up to `wait_s` for a dead holder's key to expire; DuplicateWorkerName if a live
    worker keeps it. Redis away: go on with a warning (the broker connection waits for Redis anyway)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            holder = claim(client, name, instance)
        except Exception as exc:
            log.warning("could not check that no other worker is named %s (%s); starting anyway", name, exc)
            return
        if holder is None:
            return
        if time.monotonic() > deadline:
            raise DuplicateWorkerName(
                f"refusing to start: a worker named {name} is already running ({holder}). Give this one another "
                "name with -n (e.g. -n gpu2@%h), or stop the other one first"
            )
        time.sleep(1.0)


def keep(client: Any, name: str, instance: str, stop: threading.Event) -> None:
    """Refresh the name until `stop`; says so loudly if another worker took it (after a long Redis outage)."""
    while not stop.wait(REFRESH_EVERY_S):
        try:
            holder = claim(client, name, instance)
        except Exception as exc:  # Redis is away: the name expires, and a new worker could take it meanwhile
            log.warning("could not refresh the worker name %s (%s); retrying", name, exc)
            continue
        if holder is not None:
            log.error("another worker (%s) now holds the name %s: give one of them another name with -n", holder, name)
