"""Wires the API: settings, one async Redis client and one event hub per process (lifespan), the stale-job
reaper, and the routers. Run it with `python -m api` (127.0.0.1:8000) or
`uvicorn --factory api.main:create_app`."""

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from redis.asyncio import Redis

from api.fanout import EventHub
from api.routes import benchmark, finetune, health, jobs, models, web
from api.task_sender import TaskSender
from shared import jobs as job_store
from shared.redis_ops import run_async
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

REAP_EVERY_S = 5.0


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    redis = Redis.from_url(settings.redis_url, decode_responses=True, health_check_interval=30)
    hub = EventHub(redis)
    await hub.start()
    own_sender = app.state.sender is None
    if own_sender:
        app.state.sender = TaskSender(settings.redis_url)
    app.state.redis, app.state.hub = redis, hub
    reaper = asyncio.create_task(_reap_forever(redis), name="avocet-reaper")
    try:
        yield
    finally:
        reaper.cancel()
        await asyncio.gather(reaper, return_exceptions=True)
        await hub.stop()
        if own_sender:
            app.state.sender.close()
        await redis.aclose()


async def _reap_forever(redis: Redis) -> None:
    """Fail running jobs whose worker stopped heartbeating (shared/jobs.py explains the design)."""
    while True:
        try:
            reaped = await run_async(redis, job_store.reap_stale())
            if reaped:
                log.warning("marked job(s) %s failed: their worker is gone", ", ".join(reaped))
        except Exception:
            log.warning("stale-job check failed; retrying", exc_info=True)
        await asyncio.sleep(REAP_EVERY_S)


def create_app(settings: Settings | None = None, *, sender=None, web_dist: Path | None = None) -> FastAPI:
    """The app; tests pass their own settings and may pass a stand-in task sender."""
    app = FastAPI(title="Avocet fine-tune service", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings or get_settings()
    app.state.sender = sender
    for router in (health.router, models.router, finetune.router, benchmark.router, jobs.router, jobs.seed_router):
        app.include_router(router)
    app.include_router(web.web_router(web_dist or web.DEFAULT_DIST))  # last: its catch-all must not shadow the API
    return app
