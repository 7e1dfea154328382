"""Jobs: submit a fine-tune, list, inspect, follow its events (SSE), cancel.

curl -X POST localhost:8000/api/finetune/jobs -H 'content-type: application/json' -d '{"model":"minilm","epochs":1}'
curl -N localhost:8000/api/finetune/jobs/<id>/events
"""

import logging
from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Response, status

from api.deps import HubDep, LastEventIdDep, RedisDep, SenderDep, SettingsDep, TokenDep, retention_s
from api.sse import event_response
from api.submission import submit_job
from shared import jobs
from shared.job_schema import TERMINAL_STATES, FinetuneParams, Job
from shared.redis_ops import run_async

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/finetune/jobs", tags=["jobs"])
NOT_FOUND = {404: {"description": "No job with this id"}}


async def _job_or_404(redis, job_id: str) -> dict:
    job = await run_async(redis, jobs.get_job(job_id))
    if job is None:
        detail = f"no job {job_id!r}: list jobs with GET /api/finetune/jobs"
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=detail)
    return job


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=Job, dependencies=[TokenDep])
async def create_job(params: FinetuneParams, redis: RedisDep, sender: SenderDep, settings: SettingsDep) -> dict:
    """Queue a fine-tune job; it runs when the GPU worker is free (see queue_position)."""
    return await submit_job(redis, sender, "finetune", params, retention_s(settings))


@router.get("", response_model=list[Job])
async def read_jobs(redis: RedisDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict]:
    """Jobs newest first, with queue positions (1 = next to run)."""
    return await run_async(redis, jobs.list_jobs(limit))


@router.get("/{job_id}", response_model=Job, responses=NOT_FOUND)
async def read_job(job_id: str, redis: RedisDep) -> dict:
    return await _job_or_404(redis, job_id)


@router.get(
    "/{job_id}/events",
    responses={**NOT_FOUND, 200: {"content": {"text/event-stream": {}}, "description": "SSE: id + JSON event"},
               204: {"description": "Nothing after Last-Event-ID: the job has ended"}},
)  # fmt: skip
async def read_job_events(job_id: str, redis: RedisDep, hub: HubDep, after: LastEventIdDep):
    """The job's events: replay after Last-Event-ID (or ?last_event_id=), then live; ends after complete/error."""
    job = await _job_or_404(redis, job_id)
    if job["state"] in TERMINAL_STATES and after >= job["last_event_id"]:
        return Response(status_code=status.HTTP_204_NO_CONTENT)  # tells EventSource not to reconnect
    return event_response(redis, hub, job_id, after)


@router.post(
    "/{job_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=Job, dependencies=[TokenDep],
    responses={**NOT_FOUND, 409: {"description": "The job has already ended"}},
)  # fmt: skip
async def cancel_job(job_id: str, redis: RedisDep, sender: SenderDep, settings: SettingsDep) -> dict:
    """Queued: cancelled now, never runs. Running: its worker stops the training process within about a second."""
    job = await _job_or_404(redis, job_id)
    if job["state"] in TERMINAL_STATES:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"job {job_id} has already ended ({job['state']})")
    job = await run_async(redis, jobs.cancel_job(job_id, retention_s(settings)))
    if job["state"] == "cancelled":
        try:
            await anyio.to_thread.run_sync(sender.revoke, job_id)
        except Exception:  # the store already says cancelled, and the worker skips it; revoke only saves work
            log.warning("revoke of job %s failed", job_id, exc_info=True)
    return job
