"""Fine-tune jobs and published models: submit a job, the seed's run-and-stream endpoint, published models.

curl -X POST localhost:8000/api/finetune/jobs -H 'content-type: application/json' -d '{"model":"minilm","epochs":1}'
curl localhost:8000/api/finetune/status
curl -N 'localhost:8000/api/finetune/run?model=minilm&epochs=1'
Follow and cancel jobs with /api/jobs (api/routes/jobs.py).
"""

import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from api.deps import QUEUE_FULL, HubDep, QueueRoomDep, RedisDep, SameSiteDep, SenderDep, SettingsDep
from api.sse import event_response
from api.submission import submit_job
from shared import model_store, model_versions
from shared.label_rules import LabelBoundError, check_job_labels
from shared.job_schema import MAX_EPOCHS, MAX_LABELS, FinetuneParams, Job
from shared.labels import split_list

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/finetune", tags=["finetune"])
LIMITS = {**QUEUE_FULL, 507: {"description": "A new model name past AVOCET_MAX_MODELS"}}


class ModelStatus(BaseModel):
    name: str  # the folder under models/, e.g. avocet-minilm
    base_model: str  # the registry key it was fine-tuned from
    val_macro_f1: float
    timestamp: str
    sample_count: int


def read_model_statuses(models_dir: Path) -> list[ModelStatus]:
    """One entry per published model, newest first; unreadable ones are skipped with a log line."""
    found = []
    for folder in model_versions.model_folders(models_dir):
        try:
            info = model_store.read_training_info(folder)
            found.append(ModelStatus(
                name=folder.name, base_model=info.get("model_key") or info.get("base_model_id"),
                val_macro_f1=info["val_macro_f1"], timestamp=info["timestamp"], sample_count=info["sample_count"],
            ))  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("skipping %s: not a readable training_info.json (%s)", folder, exc)
    return sorted(found, key=lambda m: m.timestamp, reverse=True)


@router.get("/status", response_model=list[ModelStatus])
def read_status(settings: SettingsDep) -> list[ModelStatus]:
    """Fine-tuned models published under AVOCET_MODELS_DIR."""
    return read_model_statuses(settings.models_dir)


@router.post("/jobs", status_code=status.HTTP_202_ACCEPTED, response_model=Job, dependencies=[QueueRoomDep],
             responses=LIMITS)  # fmt: skip
async def create_finetune_job(
    params: FinetuneParams, redis: RedisDep, sender: SenderDep, settings: SettingsDep
) -> dict:
    """Queue a fine-tune job; it runs when a GPU worker is free (see queue_position). Follow: /api/jobs/{id}/events."""
    _check_limits(params, settings)
    return await submit_job(redis, sender, "finetune", params)


def _check_limits(params: FinetuneParams, settings) -> None:
    """The label set the job would train on is bounded, also when it is the dataset's own (shared/label_rules.py),
    and a new model name needs room under AVOCET_MAX_MODELS."""
    try:
        check_job_labels(params.data, params.labels, settings)
    except LabelBoundError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    try:
        model_versions.check_room(settings.models_dir, params.name or params.model, settings.max_models)
    except model_versions.ModelQuotaError as exc:  # the default name is the model key, as training names it
        raise HTTPException(status.HTTP_507_INSUFFICIENT_STORAGE, detail=str(exc)) from None


@router.get("/run", dependencies=[SameSiteDep, QueueRoomDep],
            responses={200: {"content": {"text/event-stream": {}}}, **LIMITS})  # fmt: skip
async def run_finetune(
    redis: RedisDep, hub: HubDep, sender: SenderDep, settings: SettingsDep,
    model: Annotated[str | None, Query(max_length=200, description="registry key, see GET /api/base-models")] = None,
    epochs: Annotated[int | None, Query(ge=1, le=MAX_EPOCHS)] = None,
    data: Annotated[str | None, Query(max_length=1024, description="dataset id or file name")] = None,
    labels: Annotated[str | None, Query(max_length=MAX_LABELS * 65, description="comma-separated label set")] = None,
    name: Annotated[str | None, Query(max_length=64)] = None,
):  # fmt: skip
    """Queue a fine-tune job and stream its events (the seed's GET, so that a browser EventSource can open it; a
    GET that starts work, so refused from another site's page). The parameters are FinetuneParams', checked by the
    same model as the POST body; the bounds here only stop oversized strings early."""
    values = {"model": model, "epochs": epochs, "data": data, "name": name,
              "labels": None if labels is None else split_list(labels)}
    try:
        params = FinetuneParams.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None
    _check_limits(params, settings)
    job = await submit_job(redis, sender, "finetune", params)
    return event_response(redis, hub, job["id"], 0)
