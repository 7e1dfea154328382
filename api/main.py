"""Wires the API: settings, one async Redis client and one event hub per process (lifespan), the stale-job
reaper, the request guard and the routers (each API router behind the token unless listed as open). Run it with
`python -m api` (127.0.0.1:8000; it refuses other addresses without a token) or `uvicorn --factory api.main:create_app`."""

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.deps import StrictQueryDep, TokenDep
from api.errors import add_error_handlers
from api.fanout import EventHub
from api.headers import SecurityHeaders
from api.routes import (base_models, benchmark, datasets, finetune, health, jobs, models, predict, results, review,
                        session, web)
from api.security import TOKEN_HINT, RequestGuard
from api.task_sender import TaskSender
from shared import job_reaper, job_results
from shared.redis_ops import run_async
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

REAP_EVERY_S = 2.0  # with the 10 s heartbeat TTL, a dead worker's job is failed within about 12 s


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    # Retries replace a pooled connection that died with a Redis restart instead of failing the request with it.
    retry = Retry(ExponentialBackoff(cap=1.0, base=0.1), retries=3)
    redis = Redis.from_url(settings.redis_url, decode_responses=True, health_check_interval=30, retry=retry,
                           retry_on_error=[RedisConnectionError, RedisTimeoutError])  # fmt: skip
    hub = EventHub(redis)
    await hub.start()
    own_sender = app.state.sender is None
    if own_sender:
        app.state.sender = TaskSender(settings.redis_url)
    app.state.redis, app.state.hub = redis, hub
    stop = asyncio.Event()
    reaper = asyncio.create_task(_reap_forever(redis, stop, settings.models_dir), name="avocet-reaper")
    try:
        yield
    finally:
        stop.set()  # a cancel alone can be swallowed inside a Redis call, leaving the reaper (and shutdown) running
        reaper.cancel()
        await asyncio.gather(reaper, return_exceptions=True)
        await hub.stop()
        if own_sender:
            app.state.sender.close()
        await redis.aclose()


async def _reap_forever(redis: Redis, stop: asyncio.Event, models_dir: Path) -> None:
    """Fail running jobs whose worker stopped heartbeating (shared/job_reaper.py explains the design), until `stop`;
    a reaped audit or score job's half-written results go too (its dead worker cannot remove them)."""
    while not stop.is_set():
        try:
            reaped = await run_async(redis, job_reaper.reap_stale())
            if reaped:
                log.warning("marked job(s) %s failed: their worker is gone", ", ".join(reaped))
                await anyio.to_thread.run_sync(job_results.discard_jobs, models_dir, reaped)
        except Exception:
            log.warning("stale-job check failed; retrying", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), REAP_EVERY_S)


def create_app(settings: Settings | None = None, *, sender=None, web_dist: Path | None = None) -> FastAPI:
    """The app; tests pass their own settings and may pass a stand-in task sender."""
    app = FastAPI(title="Avocet fine-tune service", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings = settings or get_settings()
    app.state.sender = sender
    _warn_if_open(settings)
    add_error_handlers(app)
    app.add_middleware(RequestGuard, settings=settings)  # Host, cross-site, body checks (api/security.py)
    app.add_middleware(SecurityHeaders)  # outermost: refusals get the headers too (api/headers.py)
    for router in (health.router, session.router):  # open: a load balancer's probe, and signing in
        app.include_router(router, dependencies=[StrictQueryDep])
    # Closed by default: every other API router needs the token when one is set, reads included. The token rule
    # lives here only: a route needs it by the router it belongs to, never by a dependency of its own.
    routers = (base_models.router, models.router, predict.router, datasets.router, finetune.router, benchmark.router,
               review.router, jobs.router, results.router, jobs.seed_router)  # fmt: skip
    for router in routers:
        app.include_router(router, dependencies=[StrictQueryDep, TokenDep])
    app.include_router(web.web_router(web_dist or web.DEFAULT_DIST))  # last: its catch-all must not shadow the API
    return app


def _warn_if_open(settings: Settings) -> None:
    if settings.allow_unauthenticated_remote and not settings.api_token:
        log.warning("AVOCET_ALLOW_UNAUTHENTICATED_REMOTE is set and AVOCET_API_TOKEN is not: ANY CLIENT THAT REACHES "
                    "THIS PORT CAN START JOBS AND READ LOGS AND RESULTS")  # fmt: skip
    elif settings.api_token and len(settings.api_token) < 16:
        log.warning("AVOCET_API_TOKEN is shorter than 16 characters: use a long random one (%s)", TOKEN_HINT)
