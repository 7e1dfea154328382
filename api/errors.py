"""What a request gets when a dependency, not its input, is at fault: Redis down or restarting answers 503 with
Retry-After (the client may try again), never 500."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
RETRY_AFTER_S = 2


async def redis_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: Redis unavailable (%s)", request.method, request.url.path, exc)
    detail = "the job store (Redis) is not answering right now; retry in a few seconds (GET /api/health says more)"
    return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})


def add_error_handlers(app: FastAPI) -> None:
    for error in (RedisConnectionError, RedisTimeoutError, RedisError, ConnectionError, TimeoutError):
        app.add_exception_handler(error, redis_unavailable)
