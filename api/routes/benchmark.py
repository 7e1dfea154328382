"""Benchmark results (models/benchmark_results.json) and a benchmark run streamed like a fine-tune.

curl localhost:8000/api/benchmark/results
curl -N 'localhost:8000/api/benchmark/run?models=tfidf,minilm-embedding'
"""

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import HubDep, RedisDep, SenderDep, SettingsDep, TokenDep, retention_s
from api.routes.finetune import params_or_422
from api.sse import event_response
from api.submission import submit_job
from shared.job_schema import BenchmarkParams

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/benchmark", tags=["benchmark"])
RESULTS_FILE = "benchmark_results.json"


class BenchmarkResults(BaseModel):
    latest: dict[str, Any] | None  # newest run (docs/contracts.md "Benchmark results file")
    history: list[dict[str, Any]]  # every run, newest first


@router.get("/results", response_model=BenchmarkResults)
def read_results(settings: SettingsDep) -> BenchmarkResults:
    """Saved benchmark runs; empty when none have been saved or the file is unreadable."""
    path = settings.models_dir / RESULTS_FILE
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
        if not isinstance(runs, list) or not all(isinstance(run, dict) for run in runs):
            raise ValueError("'runs' is not a list of objects")
    except FileNotFoundError:
        runs = []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring %s: not a readable results file (%s)", path, exc)
        runs = []
    return BenchmarkResults(latest=runs[0] if runs else None, history=runs)


@router.get("/run", dependencies=[TokenDep], responses={200: {"content": {"text/event-stream": {}}}})
async def run_benchmark(
    redis: RedisDep, hub: HubDep, sender: SenderDep, settings: SettingsDep,
    data: Annotated[str | None, Query(description="labelled JSONL; default AVOCET_SCORE_FILE")] = None,
    models: Annotated[str | None, Query(description="comma-separated classifiers; default all")] = None,
):  # fmt: skip
    """Queue a benchmark on the GPU queue (never beside a training run) and stream its events."""
    params = params_or_422(BenchmarkParams, {"data": data, "models": models})
    job = await submit_job(redis, sender, "benchmark", params, retention_s(settings))
    return event_response(redis, hub, job["id"], 0)
