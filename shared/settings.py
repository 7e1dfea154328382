"""Service settings: the only place that reads the environment (prefix AVOCET_)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.label_rules import check_labels
from shared.labels import CANONICAL_LABELS, parse_labels, split_list


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AVOCET_", env_file=".env", extra="ignore")

    score_file: Path = Field(Path("data/email_score.jsonl"), description="Labelled JSONL used for training.")
    models_dir: Path = Field(Path("models"), description="Where published models live (the shared volume).")
    labels: Annotated[list[str], NoDecode] = Field(
        list(CANONICAL_LABELS), description="Canonical labels; comma-separated in AVOCET_LABELS."
    )
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker, result backend and event store.")
    api_token: str | None = Field(
        None, description="When set, every /api route but /api/health needs it (bearer header or session cookie)."
    )
    allow_downloads: bool = Field(
        False, description="Let hub models download when not cached; off by default so a missing model fails at once."
    )
    event_retention_days: float = Field(7.0, gt=0, description="How long a finished job's events stay replayable.")
    benchmark_after_finetune: bool = Field(
        True, description="The worker queues a benchmark job after each successful fine-tune (charts stay current)."
    )
    # Closed by default (README "Security model"): what the API accepts from outside and from where.
    data_dir: Path = Field(Path("data"), description="The folder a job's `data` file name is looked up in.")
    base_models_dir: Path | None = Field(
        None, description="Folders a job may name as `model` besides registry keys; default <models_dir>/base."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        ["127.0.0.1", "localhost", "::1"],
        description="Host header values the API answers (DNS-rebinding guard); comma-separated; '*' allows any.",
    )
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest JSON request body (413 past it).")
    session_max_age_s: int = Field(
        7 * 86400, ge=60, description="How long a web view session lasts (server-side; signing out revokes it)."
    )
    allow_unauthenticated_remote: bool = Field(
        False, description="Serve other addresses without AVOCET_API_TOKEN (anyone who reaches the port can use it)."
    )
    # Datasets, model versions and predict (README "Datasets in, models out").
    max_queued_jobs: int = Field(
        1000, ge=1, description="Jobs that may wait in the queue; past it a submission gets 429 + Retry-After."
    )
    dataset_max_bytes: int = Field(50 * 1024 * 1024, ge=1024, description="Largest dataset upload (413 past it).")
    max_datasets: int = Field(100, ge=1, description="Uploaded datasets kept at most; past it an upload gets 507.")
    datasets_max_total_bytes: int = Field(
        2 * 1024**3, ge=1024, description="Total size of the uploaded datasets; past it an upload gets 507."
    )
    max_models: int = Field(50, ge=1, description="Published model names; a job for a new name past it gets 507.")
    model_versions_kept: int = Field(3, ge=1, description="Published versions kept per model (the current always).")
    predict_cache_size: int = Field(2, ge=1, description="Models kept loaded for predict (least recently used go).")
    predict_concurrency: int = Field(2, ge=1, description="Predict requests computed at once; more wait briefly.")
    predict_queue: int = Field(16, ge=0, description="Predict requests that may wait; past it: 503 + Retry-After.")
    # The worker's watchdogs (README "Delivery and crashes"): a run that goes silent or runs too long is killed and
    # its job failed, so the GPU queue moves on.
    stall_timeout_s: float = Field(
        600.0, gt=0, description="Kill a job whose process prints nothing this long once its model is loaded (stalled)."
    )
    job_time_limit_s: float = Field(
        86400.0, gt=0, description="Kill a job that runs longer than this, whatever it prints (time_limit)."
    )
    publish_gate: bool = Field(
        False, description="Set by the worker for its training child: ask on stdout before publishing the model and "
        "publish only on the answer `publish` on stdin (the worker grants it only while it still owns the job).",
    )  # fmt: skip

    @field_validator("labels", mode="before")
    @classmethod
    def _split_labels(cls, value: object) -> list[str]:
        labels = parse_labels(value)  # type: ignore[arg-type]
        check_labels(labels)
        return labels

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> list[str]:
        return [item.lower().strip("[]") for item in split_list(value)]  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _default_base_models_dir(self) -> "Settings":
        if self.base_models_dir is None:
            self.base_models_dir = self.models_dir / "base"
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
