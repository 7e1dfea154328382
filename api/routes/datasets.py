"""Datasets: upload a JSONL file (rows may lack a label: an inbox export to audit or score), list and inspect them, delete one no job needs.

curl -F file=@emails.jsonl localhost:8000/api/datasets
curl --data-binary @emails.jsonl -H 'content-type: application/x-ndjson' 'localhost:8000/api/datasets?name=emails'
curl localhost:8000/api/datasets/ds-0123456789abcdef
Train on one: POST /api/finetune/jobs {"data": "<dataset id>"}; the configured score file is the dataset `score-file`.
"""

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis.asyncio import Redis

from api.deps import RedisDep, SettingsDep
from api.upload import read_upload
from shared import datasets, job_queries
from shared.label_rules import label_problem
from shared.redis_ops import run_async

router = APIRouter(prefix="/api/datasets", tags=["datasets"])
DatasetId = Annotated[str, Path(pattern=datasets.ID_PATTERN, description="ds-<16 hex> or score-file")]
NOT_FOUND = {404: {"description": "No dataset with this id"}}


class Dataset(BaseModel):
    id: str
    name: str
    sha256: str
    size_bytes: int
    rows: int  # all rows, labelled or not
    labelled_rows: int = Field(description="Rows with a label: what a fine-tune trains on and an audit checks")
    labels: dict[str, int]  # label -> labelled rows
    created_at: str
    source: str  # upload | score_file


class DatasetDetail(Dataset):
    label_set: list[str]  # what a job trains on by default: the dataset's own labels, or AVOCET_LABELS for score-file
    dropped: list[dict[str, Any]]  # {label, rows, why}: rows that label set would not train on
    text_stats: dict[str, dict[str, float]]
    preview: list[dict[str, Any]]


class UploadProblem(BaseModel):
    line: int
    problem: str


def default_labels(meta: dict, configured: list[str]) -> list[str]:
    """A job's label set when it names none: the configured one for the score file, else the dataset's own."""
    return list(configured) if meta["source"] == "score_file" else sorted(meta["labels"])


@router.post("", response_model=Dataset, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": Dataset, "description": "These bytes were uploaded before"},
                        413: {"description": "Larger than AVOCET_DATASET_MAX_BYTES"},
                        507: {"description": "Past AVOCET_MAX_DATASETS or AVOCET_DATASETS_MAX_TOTAL_BYTES"},
                        422: {"description": "Not JSONL rows: detail.errors lists the first bad lines"}})  # fmt: skip
async def create_dataset(
    request: Request, settings: SettingsDep,
    name: Annotated[str | None, Query(max_length=200, description="for raw uploads; default the file name")] = None,
):  # fmt: skip
    """Upload multipart (field `file`) or raw `application/x-ndjson`; validated with the training's own loader."""
    content, filename = await read_upload(request, settings.dataset_max_bytes)
    label = (name or filename or "dataset.jsonl")[:200]
    try:
        meta, created = await anyio.to_thread.run_sync(datasets.store, settings.data_dir, content, label,
                                                        settings.max_datasets, settings.datasets_max_total_bytes,
                                                        label_problem)  # fmt: skip
    except datasets.QuotaError as exc:
        raise HTTPException(status.HTTP_507_INSUFFICIENT_STORAGE, detail=str(exc)) from None
    except datasets.DatasetProblems as exc:
        errors = [UploadProblem(line=n, problem=p).model_dump() for n, p in exc.problems]
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail={"message": str(exc), "errors": errors}) from None
    return JSONResponse(Dataset(**meta).model_dump(), status_code=201 if created else 200)


@router.get("", response_model=list[Dataset])
async def read_datasets(settings: SettingsDep) -> list[dict]:
    """The score file (when it exists) and every upload, newest first."""
    return await anyio.to_thread.run_sync(datasets.list_all, settings.data_dir, settings.score_file)


@router.get("/{dataset_id}", response_model=DatasetDetail, responses=NOT_FOUND)
async def read_dataset(dataset_id: DatasetId, settings: SettingsDep) -> dict:
    meta = await anyio.to_thread.run_sync(datasets.get, settings.data_dir, settings.score_file, dataset_id)
    path = datasets.path_of(settings.data_dir, settings.score_file, dataset_id)
    if meta is None or path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no dataset {dataset_id!r}: list them with GET /api/datasets")
    labels = default_labels(meta, settings.labels)
    return await anyio.to_thread.run_sync(datasets.describe, path, meta, labels)


@router.delete("/{dataset_id}", status_code=204,
               responses={**NOT_FOUND, 409: {"description": "A queued or running job uses it, or it is the score file"}})  # fmt: skip
async def delete_dataset(dataset_id: DatasetId, settings: SettingsDep, redis: RedisDep) -> Response:
    if dataset_id == datasets.SCORE_FILE_ID:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="the score file is the labelling tool's: delete it there")
    users = await _active_jobs_using(redis, dataset_id)
    if users:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            detail=f"dataset {dataset_id} is used by job(s) {', '.join(users)}: cancel them or wait")  # fmt: skip
    if not await anyio.to_thread.run_sync(datasets.delete, settings.data_dir, dataset_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no dataset {dataset_id!r}")
    return Response(status_code=204)


async def _active_jobs_using(redis: Redis, dataset_id: str) -> list[str]:
    active = await run_async(redis, job_queries.active_jobs())
    return [job["id"] for job in active if job.get("data") == dataset_id]
