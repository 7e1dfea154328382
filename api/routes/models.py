"""Published fine-tuned models and their versions: list, inspect (with the model card), roll back, delete.

curl localhost:8000/api/models
curl localhost:8000/api/models/minilm
curl -X POST localhost:8000/api/models/minilm/rollback -H 'content-type: application/json' -d '{"version": 1}'
curl -X DELETE localhost:8000/api/models/minilm/versions/1
Base models to fine-tune from are /api/base-models; predict is POST /api/models/{name}/predict.
"""

import logging
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, HTTPException, Path as PathParam, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import SettingsDep
from shared.settings import Settings
from shared import model_store, model_versions
from shared.public_paths import scrub, server_roots
from shared.model_store import NAME_PATTERN

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/models", tags=["models"])
ModelName = Annotated[str, PathParam(pattern=NAME_PATTERN, description="the <name> of models/avocet-<name>")]
Version = Annotated[int, PathParam(ge=1, le=1_000_000)]
NOT_FOUND = {404: {"description": "No such model or version"}}


class VersionInfo(BaseModel):
    version: int
    current: bool
    timestamp: str | None = None
    base_model: str | None = None
    val_macro_f1: float | None = None
    val_macro_f1_interval: list[float] | None = Field(None, description="95 % bootstrap interval of val_macro_f1")
    val_accuracy: float | None = None
    dataset_id: str | None = None
    epochs_run: float | None = None
    not_promoted: str | None = Field(None, description="Why this version was not made current when it was published "
                                     "(clearly worse than the version then current); roll back to it to use it.")


class PublishedModel(BaseModel):
    name: str
    current_version: int | None
    versions: int
    base_model: str | None = None
    val_macro_f1: float | None = None
    val_macro_f1_interval: list[float] | None = None
    val_accuracy: float | None = None
    timestamp: str | None = None


class ModelDetail(PublishedModel):
    version_list: list[VersionInfo]
    training_info: dict[str, Any]  # of the current version (docs/contracts.md)
    card: str  # its README.md


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=1_000_000)


def _info(folder: Path) -> dict[str, Any]:
    try:
        return model_store.read_training_info(folder)
    except ValueError as exc:
        log.warning("%s", exc)
        return {}


def _version_info(models_dir: Path, name: str, version: int, current: int | None) -> VersionInfo:
    info = _info(model_versions.version_folder(models_dir, name, version))
    return VersionInfo(version=version, current=version == current, timestamp=info.get("timestamp"),
                       base_model=info.get("model_key"), val_macro_f1=info.get("val_macro_f1"),
                       val_macro_f1_interval=info.get("val_macro_f1_interval"), val_accuracy=info.get("val_accuracy"),
                       dataset_id=(info.get("dataset") or {}).get("id"), epochs_run=info.get("epochs_run"),
                       not_promoted=_not_promoted(info))  # fmt: skip


def _not_promoted(info: dict[str, Any]) -> str | None:
    promotion = info.get("promotion") or {}
    return promotion.get("reason") if promotion.get("promote") is False else None


def _summary(models_dir: Path, name: str) -> PublishedModel | None:
    current = model_versions.current_version(models_dir, name)
    if current is None:
        return None
    info = _info(model_store.model_dir(models_dir, name))
    return PublishedModel(name=name, current_version=current, versions=len(model_versions.list_versions(models_dir, name)),
                          base_model=info.get("model_key"), val_macro_f1=info.get("val_macro_f1"),
                          val_macro_f1_interval=info.get("val_macro_f1_interval"), val_accuracy=info.get("val_accuracy"),
                          timestamp=info.get("timestamp"))  # fmt: skip


def _detail_or_404(settings: Settings, name: str) -> ModelDetail:
    models_dir = settings.models_dir
    summary = _summary(models_dir, name)
    if summary is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no published model {name!r}: list them with GET /api/models")
    folder = model_store.model_dir(models_dir, name)
    card = folder / model_store.CARD_FILE
    versions = [_version_info(models_dir, name, v, summary.current_version)
                for v in reversed(model_versions.list_versions(models_dir, name))]  # fmt: skip
    roots = server_roots(settings)  # training writes paths for its own use: none leaves here
    return ModelDetail(**summary.model_dump(), version_list=versions, training_info=scrub(_info(folder), roots),
                       card=scrub(card.read_text(encoding="utf-8") if card.is_file() else "", roots))  # fmt: skip


@router.get("", response_model=list[PublishedModel])
def read_models(settings: SettingsDep) -> list[PublishedModel]:
    """Published fine-tuned models, each with its current version."""
    found = (_summary(settings.models_dir, name) for name in model_versions.published_names(settings.models_dir))
    return [model for model in found if model is not None]


@router.get("/{name}", response_model=ModelDetail, responses=NOT_FOUND)
def read_model(name: ModelName, settings: SettingsDep) -> ModelDetail:
    """The model with every kept version's metrics, the current version's training_info and model card."""
    return _detail_or_404(settings, name)


@router.post("/{name}/rollback", response_model=ModelDetail, responses=NOT_FOUND)
async def rollback_model(name: ModelName, body: Rollback, settings: SettingsDep) -> ModelDetail:
    """Make an earlier (kept) version the current one: one atomic switch, nothing deleted."""
    _detail_or_404(settings, name)
    try:
        await anyio.to_thread.run_sync(model_versions.switch_to, settings.models_dir, name, body.version)
    except model_versions.VersionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    return _detail_or_404(settings, name)


@router.delete("/{name}/versions/{version}", status_code=204,
               responses={**NOT_FOUND, 409: {"description": "The current version: roll back first"}})  # fmt: skip
async def delete_version(name: ModelName, version: Version, settings: SettingsDep) -> Response:
    try:
        await anyio.to_thread.run_sync(model_versions.delete_version, settings.models_dir, name, version)
    except model_versions.CurrentVersionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except model_versions.VersionError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from None
    return Response(status_code=204)


@router.delete("/{name}", status_code=204, responses=NOT_FOUND)
async def delete_model(name: ModelName, settings: SettingsDep) -> Response:
    """The model and all its versions."""
    _detail_or_404(settings, name)
    await anyio.to_thread.run_sync(model_versions.delete_model, settings.models_dir, name)
    return Response(status_code=204)
