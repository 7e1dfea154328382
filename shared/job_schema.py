"""What a job is: the parameters each kind accepts (validated the same way by the API and the worker) and the
public job record of docs/contracts.md."""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.labels import parse_labels
from shared.registry import DEFAULT_MODEL, is_valid_model, valid_keys

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TERMINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")  # same rule as worker/publish.py
DEFAULT_EPOCHS = 5


class FinetuneParams(BaseModel):
    """Keyword arguments of `avocet.finetune` (and the body of POST /api/finetune/jobs)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(DEFAULT_MODEL, description="Registry key (see GET /api/models) or a local model folder.")
    epochs: int = Field(DEFAULT_EPOCHS, ge=1, le=20, description="Training epochs, 1-20.")
    data: str | None = Field(None, description="Labelled JSONL to train on; default AVOCET_SCORE_FILE.")
    labels: list[str] | None = Field(None, description="Label set; default AVOCET_LABELS.")
    name: str | None = Field(None, description="Published as models/avocet-<name>/; default derived from model.")

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if not is_valid_model(value):
            raise ValueError(f"unknown model {value!r}: use one of {', '.join(valid_keys())}")
        return value

    @field_validator("labels", mode="before")
    @classmethod
    def _split_labels(cls, value: Any) -> Any:
        return None if value is None else parse_labels(value)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str | None) -> str | None:
        if value is not None and not _NAME.match(value):
            raise ValueError("name must be 1-64 characters from a-z, 0-9, '_' and '-'")
        return value

    def cli_args(self) -> list[str]:
        args = ["--model", self.model, "--epochs", str(self.epochs)]
        if self.data:
            args += ["--data", self.data]
        if self.labels:
            args += ["--labels", ",".join(self.labels)]
        if self.name:
            args += ["--name", self.name]
        return args


class BenchmarkParams(BaseModel):
    """Keyword arguments of `avocet.benchmark`."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = Field(None, description="Labelled JSONL to score on; default AVOCET_SCORE_FILE.")
    models: list[str] | None = Field(None, description="Classifiers to score; default every available one.")

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [m.strip() for m in value.split(",") if m.strip()]
        return value or None

    def cli_args(self) -> list[str]:
        args = ["--json", "--save"]
        if self.data:
            args += ["--data", self.data]
        if self.models:
            args += ["--models", ",".join(self.models)]
        return args


PARAMS = {"finetune": FinetuneParams, "benchmark": BenchmarkParams}


class Progress(BaseModel):
    epoch: float | None = None
    step: int | None = None
    total: int | None = None
    loss: float | None = None
    f1: float | None = None
    accuracy: float | None = None


class Job(BaseModel):
    """The public job record (docs/contracts.md); the id is the Celery task id."""

    id: str
    kind: Literal["finetune", "benchmark"]
    model: str | None = None
    epochs: int | None = None
    name: str | None = None
    state: JobState
    submitted_at: str
    started_at: str | None = None
    finished_at: str | None = None
    queue_position: int | None = Field(None, description="0 = next to run; null unless queued.")
    progress: Progress | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    last_event_id: int = 0
    source: Literal["api", "celery"] = "api"


def describe_params(kind: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The job fields taken from (possibly invalid) task kwargs: best effort, so a bad `celery call` still lists."""
    model = kwargs.get("model") if kind == "finetune" else kwargs.get("models")
    if isinstance(model, list):
        model = ",".join(str(m) for m in model)
    epochs = kwargs.get("epochs", DEFAULT_EPOCHS) if kind == "finetune" else None
    name = kwargs.get("name")
    return {
        "model": model if isinstance(model, str) else (DEFAULT_MODEL if kind == "finetune" else None),
        "epochs": epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None,
        "name": name if isinstance(name, str) else None,
    }
