"""The seed-compatible fine-tune endpoints: published models, and a run that streams its events.

curl localhost:8000/api/finetune/status
curl -N 'localhost:8000/api/finetune/run?model=minilm&epochs=1'
"""

import json
import logging
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from api.deps import HubDep, RedisDep, SenderDep, SettingsDep, TokenDep, retention_s
from api.sse import event_response
from api.submission import submit_job
from shared.job_schema import DEFAULT_EPOCHS, FinetuneParams
from shared.registry import DEFAULT_MODEL

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/finetune", tags=["finetune"])


class ModelStatus(BaseModel):
    name: str  # the folder under models/, e.g. avocet-minilm
    base_model: str  # the registry key it was fine-tuned from
    val_macro_f1: float
    timestamp: str
    sample_count: int


def read_model_statuses(models_dir: Path) -> list[ModelStatus]:
    """One entry per models/*/training_info.json, newest first; unreadable files are skipped with a log line."""
    found = []
    for info_file in sorted(Path(models_dir).glob("*/training_info.json")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            found.append(ModelStatus(
                name=info_file.parent.name, base_model=info.get("model_key") or info.get("base_model_id"),
                val_macro_f1=info["val_macro_f1"], timestamp=info["timestamp"], sample_count=info["sample_count"],
            ))  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("skipping %s: not a readable training_info.json (%s)", info_file, exc)
    return sorted(found, key=lambda m: m.timestamp, reverse=True)


@router.get("/status", response_model=list[ModelStatus])
def read_status(settings: SettingsDep) -> list[ModelStatus]:
    """Fine-tuned models published under AVOCET_MODELS_DIR."""
    return read_model_statuses(settings.models_dir)


def params_or_422(schema: type[BaseModel], values: dict) -> BaseModel:
    """Validate query parameters through the job's parameter model, answering 422 like a body would."""
    try:
        return schema.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from None


@router.get("/run", dependencies=[TokenDep], responses={200: {"content": {"text/event-stream": {}}}})
async def run_finetune(
    redis: RedisDep, hub: HubDep, sender: SenderDep, settings: SettingsDep,
    model: Annotated[str, Query(description="registry key, see GET /api/models")] = DEFAULT_MODEL,
    epochs: Annotated[int, Query(ge=1, le=20)] = DEFAULT_EPOCHS,
    data: str | None = None,
    labels: Annotated[str | None, Query(description="comma-separated label set")] = None,
    name: str | None = None,
):  # fmt: skip
    """Queue a fine-tune job and stream its events (GET so that a browser EventSource can open it)."""
    values = {"model": model, "epochs": epochs, "data": data, "labels": labels, "name": name}
    params = params_or_422(FinetuneParams, values)
    job = await submit_job(redis, sender, "finetune", params, retention_s(settings))
    return event_response(redis, hub, job["id"], 0)
