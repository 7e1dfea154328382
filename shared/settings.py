"""Service settings: the only place that reads the environment (prefix AVOCET_)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.labels import CANONICAL_LABELS, parse_labels


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AVOCET_", env_file=".env", extra="ignore")

    score_file: Path = Field(Path("data/email_score.jsonl"), description="Labelled JSONL used for training.")
    models_dir: Path = Field(Path("models"), description="Where published models live (the shared volume).")
    labels: Annotated[list[str], NoDecode] = Field(
        list(CANONICAL_LABELS), description="Canonical labels; comma-separated in AVOCET_LABELS."
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker, result backend and event store.")
    api_token: str | None = Field(None, description="When set, starting or cancelling work needs this bearer token.")
    allow_downloads: bool = Field(
        False, description="Let hub models download when not cached; off by default so a missing model fails at once."
    )
    event_retention_days: float = Field(7.0, gt=0, description="How long a finished job's events stay replayable.")
    benchmark_after_finetune: bool = Field(
        True, description="The worker queues a benchmark job after each successful fine-tune (charts stay current)."
    )

    @field_validator("labels", mode="before")
    @classmethod
    def _split_labels(cls, value: object) -> list[str]:
        return parse_labels(value)  # type: ignore[arg-type]


@lru_cache
def get_settings() -> Settings:
    return Settings()
