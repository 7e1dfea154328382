"""An audit or score job's result files, as JSONL (README "The labelling loop" describes each file).

curl 'localhost:8000/api/jobs/<id>/results?name=issues&limit=100'
The job record lists its files (`result.results`: [{name, rows}]) once it has succeeded; without `name` the first
one is sent. The files are kept as long as the job's events (AVOCET_EVENT_RETENTION_DAYS).
"""

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse

from api.deps import RedisDep, SettingsDep
from shared import job_results, jobs
from shared.redis_ops import run_async

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
RESPONSES = {
    200: {"content": {"application/x-ndjson": {}}, "description": "One JSON object per line"},
    404: {"description": "No such job, or it has no results by that name (another kind, failed, expired)"},
    409: {"description": "The job has not finished yet: its results come when it succeeds"},
}


@router.get("/{job_id}/results", response_class=StreamingResponse, responses=RESPONSES)
async def read_job_results(
    job_id: str, redis: RedisDep, settings: SettingsDep,
    name: Annotated[str | None, Query(pattern=job_results.NAME_PATTERN, description="which file; default the first "
                                      "listed in result.results")] = None,  # fmt: skip
    limit: Annotated[int | None, Query(ge=1, le=job_results.MAX_ROWS, description="first rows only")] = None,
) -> StreamingResponse:  # fmt: skip
    """Stream one result file of the job, as written (ranked files best first)."""
    job = await run_async(redis, jobs.get_job(job_id))
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job {job_id!r}: list jobs with GET /api/jobs")
    if job.get("kind") in job_results.RESULT_KINDS and job.get("state") in ("queued", "running"):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"job {job_id} is {job['state']}: its results are "
                            f"written when it succeeds; follow it with GET /api/jobs/{job_id}/events")  # fmt: skip
    listed = [entry["name"] for entry in _listed(job)]
    name = name or (listed[0] if listed else None)
    if name is None or name not in listed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=_missing(job, name, listed))
    try:
        path = job_results.result_file(job_results.job_folder(settings.models_dir, job_id), name)
    except ValueError:  # an id that could never have a folder
        path = None
    if path is None or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"the results of job {job_id} are gone: they are kept "
                            f"{settings.event_retention_days:g} days (AVOCET_EVENT_RETENTION_DAYS); run the job "
                            "again")  # fmt: skip
    headers = {"Content-Disposition": f'attachment; filename="{name}-{job_id[:8]}.jsonl"'}
    return StreamingResponse(job_results.read_lines(path, limit), media_type="application/x-ndjson", headers=headers)


def _listed(job: dict) -> list[dict]:
    result = job.get("result") if job.get("state") == "succeeded" else None
    entries = result.get("results") if isinstance(result, dict) else None
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)] if isinstance(entries, list) else []


def _missing(job: dict, name: str | None, listed: list[str]) -> str:
    """The 404's words: what the job is and what it has."""
    job_id, kind, state = job["id"], job.get("kind"), job.get("state")
    if kind not in job_results.RESULT_KINDS:
        return f"job {job_id} is a {kind} job: only audit and score jobs have result files"
    if state != "succeeded":
        return f"job {job_id} ended {state}, so it has no results: {jobs.error_message(job) or 'no reason recorded'}"
    return f"job {job_id} has no results named {name!r}: it has {', '.join(listed) or 'none'}"
