"""The labelling loop's jobs: audit a dataset's labels, score a dataset with a published model.

curl -X POST localhost:8000/api/datasets/ds-0123456789abcdef/audit -H 'content-type: application/json' -d '{"folds": 5}'
curl -X POST localhost:8000/api/models/minilm/score -H 'content-type: application/json' -d '{"data": "ds-0123456789abcdef"}'
Both answer 202 with the Job, like POST /api/finetune/jobs (same token, same-site and queue-room rules); follow it
with GET /api/jobs/{id}/events and read its result files with GET /api/jobs/{id}/results?name=... (README "The
labelling loop" describes the files).
"""

import anyio
from fastapi import APIRouter, HTTPException, status

from api.deps import QUEUE_FULL, QueueRoomDep, RedisDep, SenderDep, SettingsDep
from api.routes.datasets import DatasetId
from api.routes.models import ModelName
from api.submission import submit_job
from shared import datasets
from shared.job_schema import AuditOptions, AuditParams, Job, ScoreOptions, ScoreParams
from shared.model_refs import ModelNotFound, resolve

router = APIRouter(prefix="/api", tags=["review"])
NO_DATASET = {404: {"description": "No such dataset (or, to score, no such model or version)"}}
NOT_LABELLED = {422: {"description": "Invalid options, or (audit) a dataset without labelled rows"}}


async def _dataset(settings, dataset_id: str) -> dict:
    meta = await anyio.to_thread.run_sync(datasets.get, settings.data_dir, settings.score_file, dataset_id)
    if meta is None or datasets.path_of(settings.data_dir, settings.score_file, dataset_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no dataset {dataset_id!r}: list them with GET "
                            "/api/datasets or upload one (POST /api/datasets)")  # fmt: skip
    return meta


@router.post("/datasets/{dataset_id}/audit", status_code=status.HTTP_202_ACCEPTED, response_model=Job,
             dependencies=[QueueRoomDep], responses={**QUEUE_FULL, **NO_DATASET, **NOT_LABELLED})  # fmt: skip
async def create_audit_job(
    dataset_id: DatasetId, redis: RedisDep, sender: SenderDep, settings: SettingsDep, options: AuditOptions | None = None
) -> dict:  # fmt: skip
    """Queue a label audit of the dataset's labelled rows; its `issues` file ranks the rows whose label is probably
    wrong, with the label the model would give."""
    meta = await _dataset(settings, dataset_id)
    if not meta.get("labelled_rows"):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"dataset {dataset_id} has no labelled "
                            "rows, so there are no labels to audit: score it with a model instead "
                            "(POST /api/models/{name}/score)")  # fmt: skip
    values = (options or AuditOptions()).model_dump(exclude_unset=True)
    return await submit_job(redis, sender, "audit", AuditParams(data=dataset_id, **values))


@router.post("/models/{name}/score", status_code=status.HTTP_202_ACCEPTED, response_model=Job,
             dependencies=[QueueRoomDep], responses={**QUEUE_FULL, **NO_DATASET})  # fmt: skip
async def create_score_job(
    name: ModelName, options: ScoreOptions, redis: RedisDep, sender: SenderDep, settings: SettingsDep
) -> dict:  # fmt: skip
    """Queue a score job: predictions for every row of the dataset (`predictions`), the unlabelled rows to label
    next (`label_next`) and the labelled rows the model labels otherwise (`disagreements`)."""
    try:
        await anyio.to_thread.run_sync(resolve, settings.models_dir, name, options.version)
    except ModelNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    await _dataset(settings, options.data)
    values = options.model_dump(exclude_unset=True)
    return await submit_job(redis, sender, "score", ScoreParams(name=name, **values))
