"""Health: Redis reachable, workers online, jobs waiting and running.

Workers are read from one sorted set (keys.WORKERS: hostname -> last heartbeat, unix seconds) that each worker
refreshes every few seconds, so the check costs three O(log n) reads however large the keyspace; members silent for
a day are pruned here.
"""

import time
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import RedisError

from api.deps import RedisDep
from shared import keys

router = APIRouter(prefix="/api/health", tags=["health"])

WORKER_ONLINE_S = 30  # a worker is online when its last heartbeat is this recent (it beats every 10 s)
WORKER_FORGET_S = 86400


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"]  # degraded: no worker online; down: no Redis
    redis: bool
    workers: list[str]
    queue_length: int | None
    running: int | None


async def online_workers(redis) -> list[str]:
    now = time.time()
    await redis.zremrangebyscore(keys.WORKERS, "-inf", now - WORKER_FORGET_S)
    return sorted(await redis.zrangebyscore(keys.WORKERS, now - WORKER_ONLINE_S, "+inf"))


@router.get("", response_model=Health, responses={503: {"model": Health, "description": "Redis unreachable"}})
async def read_health(redis: RedisDep):
    try:
        workers = await online_workers(redis)
        queued, running = await redis.zcard(keys.JOBS_QUEUED), await redis.zcard(keys.JOBS_RUNNING)
    except (RedisError, OSError):
        down = Health(status="down", redis=False, workers=[], queue_length=None, running=None)
        return JSONResponse(down.model_dump(), status_code=503)
    return Health(status="ok" if workers else "degraded", redis=True, workers=workers, queue_length=queued,
                  running=running)  # fmt: skip
