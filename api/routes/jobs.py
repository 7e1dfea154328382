"""Jobs of every kind (fine-tune, benchmark, audit, score): list, inspect, follow their events (SSE), cancel.

curl localhost:8000/api/jobs?kind=finetune
curl -N localhost:8000/api/jobs/<id>/events
curl -X POST localhost:8000/api/jobs/<id>/cancel
The seed's paths under /api/finetune/jobs answer the same (kept for existing clients, hidden from the schema).
Jobs are created by kind: POST /api/finetune/jobs, POST /api/benchmark/jobs, POST /api/datasets/{id}/audit,
POST /api/models/{name}/score; an audit or score job's result files: GET /api/jobs/{id}/results (api/routes/results.py).
"""

import logging
from typing import Annotated

import anyio
from fastapi import APIRouter, HTTPException, Query, Response, status

from api.deps import HubDep, LastEventIdDep, RedisDep, SenderDep, SettingsDep
from api.sse import event_response
from shared import events, job_queries, jobs
from shared.job_schema import EventPage, Job, JobKind, with_estimate
from shared.job_states import TERMINAL_STATES
from shared.public_paths import scrub, server_roots
from shared.redis_ops import run_async

log = logging.getLogger(__name__)

NOT_FOUND = {404: {"description": "No job with this id"}}
EVENTS_RESPONSES = {
    **NOT_FOUND,
    200: {"content": {"text/event-stream": {}}, "description": "SSE: id + JSON event"},
    204: {"description": "Nothing after Last-Event-ID: the job has ended"},
}
CANCEL_RESPONSES = {**NOT_FOUND, 409: {"description": "The job has already ended, or is publishing its model"}}


async def _job_or_404(redis, job_id: str) -> dict:
    job = await run_async(redis, jobs.get_job(job_id))
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job {job_id!r}: list jobs with GET /api/jobs")
    return job


async def read_jobs(
    redis: RedisDep, response: Response, settings: SettingsDep,
    kind: Annotated[JobKind | None, Query(description="only jobs of this kind")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[str | None, Query(max_length=64, description="cursor: jobs older than this job id")] = None,
) -> list[dict]:
    """Jobs newest first, with queue positions (1 = next to run). When there are more, the `X-Next-Before` header
    holds the cursor for the next page (pass it as `before`)."""
    found, more = await run_async(redis, job_queries.page_jobs(limit, before, kind))
    if more and found:
        response.headers["X-Next-Before"] = found[-1]["id"]
    return scrub([with_estimate(job) for job in found], server_roots(settings))  # older records held paths


async def read_job(job_id: str, redis: RedisDep, settings: SettingsDep) -> dict:
    return scrub(with_estimate(await _job_or_404(redis, job_id)), server_roots(settings))


async def read_job_log(
    job_id: str, redis: RedisDep, settings: SettingsDep,
    after: Annotated[int, Query(ge=0, le=10**9, description="events with a larger id")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> EventPage:  # fmt: skip
    """A page of the job's events as JSON, for clients that do not speak SSE; follow `next_after` until `has_more` is
    false and the job has ended."""
    job = await _job_or_404(redis, job_id)
    stored = await run_async(redis, events.read_after(job_id, after, limit + 1))
    page = scrub([e.parsed() for e in stored[:limit]], server_roots(settings))
    return EventPage(events=page, next_after=page[-1]["id"] if page else after, has_more=len(stored) > limit,
                     state=job["state"])  # fmt: skip


async def read_job_events(job_id: str, redis: RedisDep, hub: HubDep, after: LastEventIdDep):
    """The job's events: replay after Last-Event-ID (or ?last_event_id=), then live; ends after complete/error."""
    job = await _job_or_404(redis, job_id)
    if job["state"] in TERMINAL_STATES and after >= job["last_event_id"]:
        return Response(status_code=status.HTTP_204_NO_CONTENT)  # tells EventSource not to reconnect
    return event_response(redis, hub, job_id, after)


async def cancel_job(job_id: str, redis: RedisDep, sender: SenderDep) -> dict:
    """Queued: cancelled now, never runs. Running: its worker stops the training process within about a second."""
    job = await _job_or_404(redis, job_id)
    if job["state"] in TERMINAL_STATES:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"job {job_id} has already ended ({job['state']})")
    job = await run_async(redis, jobs.cancel(job_id))
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job {job_id!r}: its record is gone")
    if job.get("publishing") and job["state"] == "running":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"too late to cancel job {job_id}: its model is being "
                                                             "published, and the job will end succeeded")  # fmt: skip
    if job["state"] == "cancelled":
        try:
            await anyio.to_thread.run_sync(sender.revoke, job_id)
        except Exception:  # the store already says cancelled, and the worker skips it; revoke only saves work
            log.warning("revoke of job %s failed", job_id, exc_info=True)
    return job


def jobs_router(prefix: str, *, in_schema: bool) -> APIRouter:
    """The jobs resource at `prefix`: /api/jobs, and the seed's /api/finetune/jobs (same handlers)."""
    router = APIRouter(prefix=prefix, tags=["jobs"], include_in_schema=in_schema)
    router.add_api_route("", read_jobs, methods=["GET"], response_model=list[Job])
    router.add_api_route("/{job_id}", read_job, methods=["GET"], response_model=Job, responses=NOT_FOUND)
    router.add_api_route("/{job_id}/events", read_job_events, methods=["GET"], responses=EVENTS_RESPONSES)
    router.add_api_route("/{job_id}/log", read_job_log, methods=["GET"], response_model=EventPage, responses=NOT_FOUND)
    router.add_api_route("/{job_id}/cancel", cancel_job, methods=["POST"], status_code=status.HTTP_202_ACCEPTED,
                         response_model=Job, responses=CANCEL_RESPONSES)  # fmt: skip
    return router


router = jobs_router("/api/jobs", in_schema=True)
seed_router = jobs_router("/api/finetune/jobs", in_schema=False)
