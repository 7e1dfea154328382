"""Submitting a job from the API: record it as queued (with its `queued` event), then hand it to Celery.

The record is written first so the worker always finds it; if the broker cannot take the task, the job is failed
at once and the caller gets a 503, so nothing stays queued that will never run.
"""

import logging
import uuid

import anyio
from fastapi import HTTPException, status
from pydantic import BaseModel
from redis.asyncio import Redis

from api.task_sender import TaskSender
from shared import jobs
from shared.redis_ops import run_async

log = logging.getLogger(__name__)


async def submit_job(redis: Redis, sender: TaskSender, kind: str, params: BaseModel) -> dict:
    job_id = str(uuid.uuid4())
    kwargs = params.model_dump(mode="json", exclude_unset=True)
    await run_async(redis, jobs.create_job(job_id, kind, params, "api"))
    try:
        await anyio.to_thread.run_sync(sender.send, kind, job_id, kwargs)
    except Exception as exc:
        log.exception("could not queue job %s", job_id)
        message = f"could not queue the job: the Celery broker did not take it ({exc}); check that Redis is up"
        await run_async(redis, jobs.reject(job_id, message, "broker"))
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=message) from exc
    return await run_async(redis, jobs.get_job(job_id))
