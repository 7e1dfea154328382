"""Reading the job store: records decoded, with queue positions; pages of the history; the queued and running
jobs. Writes and state changes are shared/jobs.py's."""

import json
from typing import Any

from shared import keys
from shared.redis_ops import Op, as_text

PAGE_CHUNK, PAGE_SCANS = 500, 20


def decode_record(raw: dict) -> dict[str, Any] | None:
    """A stored record, or None when there is none or only a fragment of one (Redis lost data mid-write)."""
    try:
        job = {as_text(k): json.loads(as_text(v)) for k, v in (raw or {}).items()}
    except ValueError:
        return None
    return job if isinstance(job.get("id"), str) and isinstance(job.get("state"), str) else None


def list_jobs(limit: int = 50) -> Op[list[dict[str, Any]]]:
    """Newest first, each with its queue position."""
    ids = [as_text(i) for i in (yield lambda r: r.zrevrange(keys.JOBS_ALL, 0, limit - 1))]
    return (yield from _records(ids))


def page_jobs(limit: int, before: str | None = None, kind: str | None = None) -> Op[tuple[list[dict[str, Any]], bool]]:
    """A page of jobs newest first, older than job `before` when given, of one kind when given; (jobs, more)."""
    top = "+inf"
    if before is not None:
        score = yield lambda r: r.zscore(keys.JOBS_ALL, before)
        if score is None:
            return [], False
        top = f"({score}"
    found: list[dict[str, Any]] = []
    chunk = PAGE_CHUNK if kind else limit + 1  # without a filter, one more than the page says whether there are more
    for _ in range(PAGE_SCANS):  # a kind filter reads on in chunks, but never the whole history at once
        ids = yield lambda r, t=top: r.zrevrangebyscore(keys.JOBS_ALL, t, "-inf", start=0, num=chunk, withscores=True)
        if not ids:
            break
        page = yield from _records([as_text(i) for i, _ in ids])
        found += [job for job in page if kind is None or job["kind"] == kind]
        top = f"({ids[-1][1]}"
        if len(found) > limit or len(ids) < chunk:
            break
    return found[:limit], len(found) > limit


def active_jobs() -> Op[list[dict[str, Any]]]:
    """Queued and running jobs (their records), e.g. to know which datasets are in use."""
    queued = yield lambda r: r.zrange(keys.JOBS_QUEUED, 0, -1)
    running = yield lambda r: r.zrange(keys.JOBS_RUNNING, 0, -1)
    ids = [as_text(i) for i in [*queued, *running]]
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    return [job for job in map(decode_record, raws) if job]


def running_jobs() -> Op[list[dict[str, Any]]]:
    ids = [as_text(i) for i in (yield lambda r: r.zrange(keys.JOBS_RUNNING, 0, -1))]
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    return [job for job in map(decode_record, raws) if job]


def _records(ids: list[str]) -> Op[list[dict[str, Any]]]:
    """The records with their queue positions: one ZRANK per queued job, so a page costs the same however many
    jobs wait."""
    raws = yield lambda r: _hgetall_many(r, [keys.job(i) for i in ids])
    jobs = [job for job in map(decode_record, raws) if job]
    waiting = [job for job in jobs if job["state"] == "queued"]
    ranks = (yield lambda r: _zrank_many(r, [job["id"] for job in waiting])) if waiting else []
    for job in jobs:
        job["queue_position"] = None
    for job, rank in zip(waiting, ranks):
        job["queue_position"] = None if rank is None else rank + 1  # 1 = next to run
    return jobs


def _zrank_many(client: Any, ids: list[str]) -> Any:
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.zrank(keys.JOBS_QUEUED, job_id)
    return pipe.execute()


def _hgetall_many(client: Any, names: list[str]) -> Any:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(name)
    return pipe.execute()
