"""What a job is: the parameters each kind accepts, declared once and validated through these models by the API,
`celery call`, the CLIs and the training child, and the public job record of docs/contracts.md."""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from shared.data import SPLIT_SEED
from shared.data_files import check_data, check_model, model_location, sources_in
from shared.datasets import ID_PATTERN as DATASET_ID_PATTERN
from shared.event_types import TERMINAL_TYPES
from shared.job_states import JobState
from shared.model_store import NAME_PATTERN, NAME_RULE
from shared.registry import DEFAULT_MODEL, ModelSpec, get_spec, learning_rate_for

DEFAULT_EPOCHS = 5
MAX_EPOCHS = 20
# Body text is cut at 400 characters (median 102 tokens on the dev set). On a 2-core CPU a MiniLM step costs 0.95 s
# at 96 tokens but 1.2-1.35 s from 104 to 128 (perf/train_throughput.py: 17.2 vs 12.8 samples/s); the full 5-epoch
# dev run took 666 s vs 689 s and scored 0.865 vs 0.868 macro-F1 (perf/quality.py), within run-to-run spread. The
# registry's max_tokens stays each model's hard limit.
DEFAULT_MAX_TOKENS = 96
DEFAULT_READ_WINDOWS = 1  # classifiers/token_windows.py; 2 gains on large label sets, loses on small (README)
LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_LABELS = 100
Label = Annotated[str, Field(pattern=LABEL_PATTERN, description="a short identifier, e.g. interview_scheduled")]


def _unique(values: list[str] | None) -> list[str] | None:
    return None if values is None else list(dict.fromkeys(values))  # order kept, linear time


class Hyperparameters(BaseModel):
    """Training knobs; null means the base model's registry default (shown by GET /api/models)."""

    model_config = ConfigDict(extra="forbid")

    learning_rate: float | None = Field(None, gt=0, le=0.01, description="AdamW peak learning rate.")
    batch_size: int = Field(16, ge=1, le=256, description="Training batch size.")
    max_tokens: int = Field(DEFAULT_MAX_TOKENS, ge=8, le=512,
                            description="Token cap per email, at most the base model's max_tokens.")  # fmt: skip
    warmup_ratio: float = Field(0.1, ge=0, le=0.5, description="Share of steps spent warming up the learning rate.")
    weight_decay: float = Field(0.01, ge=0, le=1, description="AdamW weight decay.")
    seed: int = Field(SPLIT_SEED, ge=0, le=2**31 - 1, description="Seed of the model head and data order.")
    early_stopping_patience: int = Field(3, ge=1, le=MAX_EPOCHS, description="Stop after this many flat epochs.")
    ensemble: bool = Field(True, description="Publish the transformer averaged with an n-gram model fitted on the same "
                           "rows (weight chosen on validation); false: the transformer alone.")  # fmt: skip
    promote: Literal["if_not_worse", "always"] = Field(
        "if_not_worse", description="if_not_worse: a run clearly worse than the current version on its validation "
        "rows is kept as a non-current version; always: it becomes current whatever it scores.")
    refit_full: bool = Field(False, description="After choosing the epoch and weight on validation, train again on "
                             "every row (about twice the training time).")  # fmt: skip
    read_windows: int = Field(
        DEFAULT_READ_WINDOWS, ge=1, le=8, description="Windows of max_tokens the transformer reads of a long email "
        "when it validates and predicts: the first is what it trains on, each further one continues the body (one "
        "more forward pass). Measured: 2 gains on a few thousand labelled rows and loses on a few hundred.")


class FinetuneParams(BaseModel):
    """The one declaration of a fine-tune job's parameters: the body of POST /api/finetune/jobs, the kwargs of
    `avocet.finetune` (celery call), what the training CLI builds from its flags and what its child receives."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(DEFAULT_MODEL, max_length=200,
                       description="Registry key (see GET /api/base-models) or the name of a model folder in "
                                   "AVOCET_BASE_MODELS_DIR (the CLI: any local folder).")  # fmt: skip
    epochs: int = Field(DEFAULT_EPOCHS, ge=1, le=MAX_EPOCHS, description=f"Training epochs, 1-{MAX_EPOCHS}.")
    data: str | None = Field(None, max_length=1024, description="Dataset id or a file name in AVOCET_DATA_DIR (the CLI: "
                             "any path) to train on; default AVOCET_SCORE_FILE.")  # fmt: skip
    labels: list[Label] | None = Field(None, min_length=2, max_length=MAX_LABELS,
                                       description="Label set; default AVOCET_LABELS.")  # fmt: skip
    name: str | None = Field(None, pattern=NAME_PATTERN, max_length=64, description=f"Published as models/avocet-<name>/ ({NAME_RULE}); "
                             "default: the model key.")  # fmt: skip
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str, info: ValidationInfo) -> str:
        return check_model(value, sources_in(info.context))  # untrusted input: no paths (shared/data_files.py)

    @field_validator("data")
    @classmethod
    def _data_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_data(value, sources_in(info.context))

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, value: list[str] | None) -> list[str] | None:
        value = _unique(value)
        if value is not None and len(value) < 2:
            raise ValueError("give at least two different labels")
        return value


class BenchmarkParams(BaseModel):
    """The one declaration of a benchmark job's parameters (POST /api/benchmark/jobs, `avocet.benchmark`, CLI)."""

    model_config = ConfigDict(extra="forbid")

    data: str | None = Field(None, max_length=1024, description="Dataset id or a file name in AVOCET_DATA_DIR (the CLI: "
                             "any path) to score on; default AVOCET_SCORE_FILE.")  # fmt: skip
    models: list[Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=50, description="Classifiers to score; default every available one.")

    @field_validator("models")
    @classmethod
    def _unique_models(cls, value: list[str] | None) -> list[str] | None:
        return _unique(value) or None

    @field_validator("data")
    @classmethod
    def _data_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_data(value, sources_in(info.context))


DatasetId = Annotated[str, Field(pattern=DATASET_ID_PATTERN, description="a dataset id (ds-<16 hex> or score-file)")]
MAX_ISSUE_ROWS = 100_000


class AuditOptions(BaseModel):
    """A label audit's options: the body of POST /api/datasets/{id}/audit (the path names the dataset)."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["quick", "thorough"] = Field(
        "quick", description="quick: the n-gram model per fold (seconds on a CPU); thorough: a fine-tune per fold "
        "(for the GPU box).")  # fmt: skip
    folds: int = Field(5, ge=2, le=10, description="Cross-validation folds, 2-10.")
    model: str = Field(DEFAULT_MODEL, max_length=200, description="Base model of the thorough method's fine-tunes.")
    limit: int = Field(1000, ge=1, le=MAX_ISSUE_ROWS, description="Most suspected issues written, best first.")

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str, info: ValidationInfo) -> str:
        return check_model(value, sources_in(info.context))


class AuditParams(AuditOptions):
    """The one declaration of a label audit's parameters (the API, `avocet.audit` kwargs, `python -m worker.audit`):
    out-of-fold probabilities for every labelled row, then the rows whose given label is likely wrong, ranked."""

    data: DatasetId


class ScoreOptions(BaseModel):
    """A score job's options: the body of POST /api/models/{name}/score (the path names the model)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, le=1_000_000, description="The model's version; default the current one.")
    data: DatasetId
    top_k: int = Field(3, ge=1, le=10, description="Labels listed per row, best first.")
    label_next: int = Field(200, ge=0, le=10_000, description="Unlabelled rows the label-next ranking keeps.")


class ScoreParams(ScoreOptions):
    """The one declaration of a score job's parameters (the API, `avocet.score` kwargs, `python -m worker.scoring`):
    predictions for every row of a dataset, the rows to label next and the labelled rows the model disagrees with."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64, description="A published model's name (GET /api/models).")


PARAMS = {"finetune": FinetuneParams, "benchmark": BenchmarkParams, "audit": AuditParams, "score": ScoreParams}
JobKind = Literal["finetune", "benchmark", "audit", "score"]


def explain(exc: ValidationError) -> str:
    """A ValidationError as one line naming each field and its problem."""
    problems = [f"{'.'.join(str(p) for p in err['loc']) or 'arguments'}: {err['msg']}" for err in exc.errors()]
    return "; ".join(problems)


def child_args(params: BaseModel) -> list[str]:
    """How the worker hands validated parameters to a CLI child: one JSON argument, nothing re-split."""
    return ["--params-json", params.model_dump_json(exclude_defaults=True)]


class Progress(BaseModel):
    epoch: float | None = None
    step: int | None = None
    total: int | None = None
    loss: float | None = None
    f1: float | None = None
    accuracy: float | None = None


class EventPage(BaseModel):
    """GET /api/jobs/{id}/log: events as JSON (docs/contracts.md "Events"), for clients without SSE. Its schema names
    the event types that end a job's log (`x-terminal-types`), which the web view takes as generated constants."""

    model_config = ConfigDict(json_schema_extra={"x-terminal-types": list(TERMINAL_TYPES)})

    events: list[dict[str, Any]]
    next_after: int
    has_more: bool
    state: JobState


class JobError(BaseModel):
    code: str = Field(description="bad_input, oom, model_unavailable, worker_lost, stalled, time_limit, state_lost, "
                                  "message_lost, redis_unavailable, cancelled, ...")
    message: str

    @model_validator(mode="before")
    @classmethod
    def _from_plain_text(cls, value: Any) -> Any:
        return {"code": "failed", "message": value} if isinstance(value, str) else value  # records before the shape


class Job(BaseModel):
    """The public job record (docs/contracts.md); the id is the Celery task id."""

    id: str
    kind: JobKind
    model: str | None = None
    epochs: int | None = None
    name: str | None = None
    state: JobState
    submitted_at: str
    started_at: str | None = None
    finished_at: str | None = None
    queue_position: int | None = Field(None, description="1 = next to run; null unless queued.")
    progress: Progress | None = None
    result: dict[str, Any] | None = None
    error: JobError | None = Field(None, description="Why it did not succeed: a short code and a sentence.")
    last_event_id: int = 0
    data: str | None = Field(None, description="The dataset id (or data file name) it trains or scores on.")
    hyperparameters: dict[str, Any] | None = Field(None, description="The values the fine-tune uses, defaults filled.")
    estimated_finish: str | None = Field(None, description="While running: when it should end, from its pace so far.")
    source: Literal["api", "celery", "worker"] = Field("api", description="worker: queued after a fine-tune")


def record_fields(kind: str, params: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """The job record's fields from its parameters: validated ones (nothing is validated again here), or, best effort,
    task kwargs that failed validation, so that a bad `celery call` still lists with what it asked for."""
    valid = isinstance(params, BaseModel)
    values = params.model_dump(mode="json") if valid else params
    model = values.get("models") if kind == "benchmark" else values.get("model")
    if isinstance(model, list):
        model = ",".join(str(m) for m in model)
    epochs = values.get("epochs", DEFAULT_EPOCHS) if kind == "finetune" else None
    name, data = values.get("name"), values.get("data")
    return {
        "model": model if isinstance(model, str) else (DEFAULT_MODEL if kind in ("finetune", "audit") else None),
        "epochs": epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None,
        "name": name if isinstance(name, str) else None,
        "data": data if isinstance(data, str) else None,
        "hyperparameters": resolved_hyperparameters(params) if valid and kind == "finetune" else None,
    }


def resolved_hyperparameters(params: FinetuneParams) -> dict[str, Any] | None:
    """The values a fine-tune will use, registry defaults filled in; None when its model names no registry spec."""
    try:
        spec = get_spec(model_location(params.model))
    except ValueError:  # a base-models folder name where no folder rule applies (the worker describing kwargs)
        return None
    return resolve_hyperparameters(params.hyperparameters, spec)


def resolve_hyperparameters(hyperparameters: Hyperparameters, spec: ModelSpec) -> dict[str, Any]:
    """The one place defaults are filled: the learning rate from the base model's entry, the token cap at most the
    base model's. The job record, the training run, training_info.json and the model card all show these values."""
    values = hyperparameters.model_dump()
    values["learning_rate"] = values["learning_rate"] or learning_rate_for(spec)
    values["max_tokens"] = min(values["max_tokens"], spec.max_tokens)
    return values


def with_estimate(job: dict[str, Any]) -> dict[str, Any]:
    """The job with `estimated_finish` while it runs: the worker's estimate at its last step (shared/progress.py)."""
    progress = job.get("progress") or {}
    return {**job, "estimated_finish": progress.get("estimated_finish") if job.get("state") == "running" else None}
