"""Health: Redis reachable, workers online (their heartbeat keys), jobs waiting and running."""

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from redis.exceptions import RedisError

from api.deps import RedisDep
from shared import keys

router = APIRouter(prefix="/api/health", tags=["health"])


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"]  # degraded: no worker online; down: no Redis
    redis: bool
    workers: list[str]
    queue_length: int | None
    running: int | None


@router.get("", response_model=Health, responses={503: {"model": Health, "description": "Redis unreachable"}})
async def read_health(redis: RedisDep):
    try:
        await redis.ping()
        prefix = keys.worker_alive("")
        workers = sorted([k.removeprefix(prefix) async for k in redis.scan_iter(match=keys.WORKER_ALIVE_PATTERN)])
        queued, running = await redis.zcard(keys.JOBS_QUEUED), await redis.zcard(keys.JOBS_RUNNING)
    except (RedisError, OSError):
        down = Health(status="down", redis=False, workers=[], queue_length=None, running=None)
        return JSONResponse(down.model_dump(), status_code=503)
    return Health(status="ok" if workers else "degraded", redis=True, workers=workers, queue_length=queued,
                  running=running)  # fmt: skip
