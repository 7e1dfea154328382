"""The base models that can be fine-tuned (the registry)."""

from fastapi import APIRouter
from pydantic import BaseModel

from shared.registry import DEFAULT_MODEL, FINETUNE_BASES, valid_keys

router = APIRouter(prefix="/api/models", tags=["models"])


class BaseModelInfo(BaseModel):
    key: str
    description: str
    base_model: str
    max_tokens: int
    default: bool


@router.get("", response_model=list[BaseModelInfo])
def read_models() -> list[BaseModelInfo]:
    """Registry keys accepted as `model` by the fine-tune endpoints."""
    return [
        BaseModelInfo(key=key, description=spec.description, base_model=spec.base_model,
                      max_tokens=spec.max_tokens, default=key == DEFAULT_MODEL)  # fmt: skip
        for key, spec in ((k, FINETUNE_BASES[k]) for k in valid_keys())
    ]
