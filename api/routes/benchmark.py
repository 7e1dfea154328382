"""Benchmark jobs and their saved results (models/benchmark_results.json).

curl -X POST localhost:8000/api/benchmark/jobs -H 'content-type: application/json' -d '{"models": ["tfidf"]}'
curl localhost:8000/api/benchmark/results
Follow a benchmark job like any job: GET /api/jobs/<id>/events. The worker also queues one after every successful
fine-tune (AVOCET_BENCHMARK_AFTER_FINETUNE).
"""

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel

from api.deps import QUEUE_FULL, QueueRoomDep, RedisDep, SenderDep, SettingsDep
from api.submission import submit_job
from shared import model_store
from shared.public_paths import scrub, server_roots
from shared.job_schema import BenchmarkParams, Job

router = APIRouter(prefix="/api/benchmark", tags=["benchmark"])


class BenchmarkResults(BaseModel):
    latest: dict[str, Any] | None  # newest run (docs/contracts.md "Benchmark results file")
    history: list[dict[str, Any]]  # every run, newest first


@router.post("/jobs", status_code=status.HTTP_202_ACCEPTED, response_model=Job, dependencies=[QueueRoomDep],
             responses=QUEUE_FULL)  # fmt: skip
async def create_benchmark_job(params: BenchmarkParams, redis: RedisDep, sender: SenderDep) -> dict:
    """Queue a benchmark on the GPU queue (never beside a training run); follow it with GET /api/jobs/{id}/events."""
    return await submit_job(redis, sender, "benchmark", params)


@router.get("/results", response_model=BenchmarkResults)
def read_results(settings: SettingsDep) -> BenchmarkResults:
    """Saved benchmark runs; empty when none have been saved or the file is unreadable."""
    runs = scrub(model_store.read_benchmark_runs(settings.models_dir), server_roots(settings))
    return BenchmarkResults(latest=runs[0] if runs else None, history=runs)
