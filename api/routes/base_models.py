"""The base models a fine-tune job can start from (shared.registry's FINETUNE_BASES), with their defaults.

curl localhost:8000/api/base-models
Published fine-tuned models are another resource: /api/models (api/routes/models.py).
"""

from fastapi import APIRouter
from pydantic import BaseModel

from shared.registry import DEFAULT_MODEL, FINETUNE_BASES, learning_rate_for, valid_keys

router = APIRouter(prefix="/api/base-models", tags=["base models"])


class BaseModelInfo(BaseModel):
    key: str
    description: str
    base_model: str
    max_tokens: int
    learning_rate: float  # the default when a job's hyperparameters leave it out
    gradient_checkpointing: bool
    default: bool


@router.get("", response_model=list[BaseModelInfo])
def read_base_models() -> list[BaseModelInfo]:
    """Registry keys accepted as `model` by the fine-tune endpoints."""
    return [
        BaseModelInfo(key=key, description=spec.description, base_model=spec.base_model, max_tokens=spec.max_tokens,
                      learning_rate=learning_rate_for(spec),
                      gradient_checkpointing=spec.gradient_checkpointing, default=key == DEFAULT_MODEL)  # fmt: skip
        for key, spec in ((k, FINETUNE_BASES[k]) for k in valid_keys())
    ]
