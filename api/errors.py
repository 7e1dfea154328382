"""What a request gets when a dependency, not its input, is at fault: Redis down or restarting answers 503 with
Retry-After (the client may try again), never 500; a models or datasets folder the API may not write (a read-only
or root-owned volume) answers 503 naming the folder and the fix."""

import errno
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


_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC}


async def storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    if getattr(exc, "errno", None) not in _NOT_WRITABLE:
        raise exc  # any other OSError is a bug: the server's own 500 handler logs it
    log.error("%s %s: cannot write to disk (%s)", request.method, request.url.path, exc)  # the path stays in the log
    detail = (f"the server cannot write its models or datasets folder ({getattr(exc, 'strerror', exc)}): both must "
              "be writable by the API; on Docker, mount the volumes read-write (README \"GPU box\")")  # fmt: skip
    return JSONResponse({"detail": detail}, status_code=503)


def add_error_handlers(app: FastAPI) -> None:
    for error in (RedisConnectionError, RedisTimeoutError, RedisError, ConnectionError, TimeoutError):
        app.add_exception_handler(error, redis_unavailable)
    app.add_exception_handler(OSError, storage_unavailable)
