"""The fine-tune pipeline as one plain function: data, split, n-gram model, transformer, choice of epoch and blend,
honest scores, promotion decision, atomic publish.

No Celery and no Redis here: progress leaves through `emit(type, message, **fields)`, so the CLI, the worker and the
tests all drive the same code. The same rows give the same model whatever their order in the file: the split and the
training order follow each row's content (shared/data.py), and labels come in their canonical order.
"""

import logging
import math
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.data import SPLIT_SEED, file_sha256, load_examples, row_key, split_examples
from shared.event_types import PUBLISH, PUBLISH_REQUEST
from shared.job_schema import DEFAULT_READ_WINDOWS, FinetuneParams, Hyperparameters, resolve_hyperparameters
from shared.model_store import (
    check_name, clean_stale_staging, discard_staging, model_dir, release_staging, staging_dir, write_training_info,
)  # fmt: skip
from shared.model_versions import publish_version
from shared.registry import ModelSpec, get_spec
from worker.training.encoding import device_name
from worker.training.training_info import build_training_info

logger = logging.getLogger(__name__)
Emit = Callable[..., None]


@dataclass(frozen=True)
class TrainConfig:
    """Everything one run needs, resolved. Built by from_params, so every value has passed FinetuneParams' checks;
    the hyperparameters keep the names they have in the API, the CLI flags and training_info.json."""

    spec: ModelSpec
    name: str
    data: Path
    labels: list[str]
    models_dir: Path
    epochs: int
    batch_size: int
    learning_rate: float
    max_tokens: int
    warmup_ratio: float
    weight_decay: float
    seed: int
    early_stopping_patience: int
    ensemble: bool = True
    promote: str = "if_not_worse"
    refit_full: bool = False
    allow_downloads: bool = False
    freeze_embeddings: bool = True
    read_windows: int = DEFAULT_READ_WINDOWS
    dataset_id: str | None = None  # recorded in training_info.json with the file's sha256
    versions_kept: int = 3
    split_seed: int = SPLIT_SEED  # fixed for jobs (the benchmark scores this split); perf/quality.py varies it

    @classmethod
    def from_params(
        cls, params: FinetuneParams, *, data: Path, labels: list[str], models_dir: Path, allow_downloads: bool = False,
        dataset_id: str | None = None, versions_kept: int = 3,
    ) -> "TrainConfig":  # fmt: skip
        """`data` and `labels` are the defaults (the score file, the canonical labels) unless params name others."""
        spec = get_spec(params.model)
        return cls(
            spec=spec, name=check_name(params.name or spec.key), data=Path(params.data) if params.data else Path(data),
            labels=list(params.labels or labels), models_dir=Path(models_dir), epochs=params.epochs,
            allow_downloads=allow_downloads, dataset_id=dataset_id, versions_kept=versions_kept,
            **resolve_hyperparameters(params.hyperparameters, spec),
        )  # fmt: skip

    def hyperparameters(self) -> dict:
        return {field: getattr(self, field) for field in Hyperparameters.model_fields}


@dataclass
class RunResult:
    model: object  # the transformer to save (with its tokenizer as .processing_class of the trainer)
    tokenizer: object
    ngram: object | None
    weight: float  # the transformer's share of the published blend
    best: object  # BestModelCallback of the validated run
    scores: dict
    report: dict  # per-class F1 and confusion matrix of the published predictions
    promotion: object
    timings: dict


def run_finetune(config: TrainConfig, emit: Emit) -> dict:
    """Train, publish a new version of models/avocet-<name>/ and return its training_info."""
    from transformers import set_seed

    started = time.perf_counter()
    set_seed(config.seed)
    data = load_examples(config.data, config.labels)
    for warning in data.warnings:
        emit("warning", warning)
    train, val, notes = split_examples(data.examples, seed=config.split_seed)
    for note in notes:
        emit("warning", note)
    emit(
        "start",
        f"fine-tuning {config.spec.key} on {device_name()}: {len(data.examples)} samples "
        f"({len(train)} train / {len(val)} validation), {len(data.labels)} labels",
        model=config.spec.key, device=device_name(), samples=len(data.examples), labels=len(data.labels),
        train_samples=len(train), val_samples=len(val),
    )
    clean_stale_staging(config.models_dir)
    staged = staging_dir(config.models_dir, config.name)
    try:
        result = _fit(config, data.labels, train, val, staged, emit)
        _save(staged, result)
        info = build_training_info(config, data, train, val, result, time.perf_counter() - started,
                                   file_sha256(config.data))  # fmt: skip
        write_training_info(staged, info)
        target = model_dir(config.models_dir, config.name)
        ask_to_publish(emit, target)  # the last step, and only with the worker's go-ahead
        version, replaced = publish_version(staged, config.models_dir, config.name, config.versions_kept,
                                            make_current=result.promotion.promote)  # fmt: skip
        release_staging(staged)
        _announce(emit, config.name, version, replaced, result.promotion)
    except BaseException:
        discard_staging(staged)
        raise
    info["model_dir"], info["version"], info["current"] = str(target), version, result.promotion.promote
    return info


def _fit(config: TrainConfig, labels: list[str], train, val, staged: Path, emit: Emit) -> RunResult:
    from worker.training.ensemble_choice import blend, cross_fitted
    from worker.training.metrics import classification_report
    from worker.training.promotion import decide
    from worker.training.scores import rows_judged, scored
    from worker.training.trainer_setup import fit_transformer

    clock = time.perf_counter()
    ngram = _fit_ngram(train, labels, emit) if config.ensemble else None
    timings = {"ngram_fit_seconds": round(time.perf_counter() - clock, 2)}
    if ngram is not None:
        emit("log", f"fitted the n-gram model ({ngram.description}) on {len(train)} rows "
                    f"in {timings['ngram_fit_seconds']:.1f} s")  # fmt: skip
    fit = fit_transformer(config, labels, train, val, staged, emit, ngram)
    recorder, best, n = fit.recorder, fit.best, len(labels)
    weight = recorder.weights[best.best_index] if ngram is not None else 1.0
    truth, ngram_probs = recorder.truth, recorder.ngram_probs
    if [labels[i] for i in truth] != [e.label for e in fit.val]:  # every probability array must line up row for row
        raise RuntimeError("the Trainer returned the validation rows in another order than they were given")
    published = cross_fitted(recorder.epoch_probs, ngram_probs, truth, n)  # each half chosen on the other half
    scores = {**rows_judged(truth, labels), "ensemble" if ngram is not None else "transformer": scored(truth, published, n)}
    if ngram is not None:
        scores["transformer"] = scored(truth, cross_fitted(recorder.epoch_probs, None, truth, n), n)
        scores["ngram"] = scored(truth, ngram_probs.argmax(-1), n)
    chosen = blend(recorder.epoch_probs[best.best_index], ngram_probs, weight).argmax(-1)
    scores["chosen_on_same_rows"] = scored(truth, chosen, n)
    report = classification_report([labels[i] for i in truth], [labels[i] for i in published], labels)
    promotion = decide(config, labels, fit.val, truth, published, emit)
    model, tokenizer = fit.trainer.model, fit.trainer.processing_class
    timings["train_loop_seconds"] = round(best.train_loop_seconds, 2)
    timings["train_samples_per_second"] = round(best.train_samples_per_second, 3)
    if config.refit_full:
        clock = time.perf_counter()
        model, ngram = _refit(config, labels, train + val, math.ceil(best.best_epoch or 1), staged, emit, ngram)
        timings["refit_seconds"] = round(time.perf_counter() - clock, 2)
    return RunResult(model, tokenizer, ngram, weight, best, scores, report, promotion, timings)


def _fit_ngram(train, labels: list[str], emit: Emit):
    """The n-gram half, or None (the transformer alone is published) when the rows give it nothing to read."""
    from classifiers.ngram import NgramModel

    try:
        return NgramModel.fit(train, [e.label for e in train], labels)
    except ValueError as exc:  # e.g. "empty vocabulary": only one-letter words in every row
        emit("warning", f"no n-gram model could be fitted on these rows ({exc}); publishing the transformer alone")
        return None


def _refit(config: TrainConfig, labels, rows, epochs: int, staged: Path, emit: Emit, ngram):
    """Train again from the base model on every row for the chosen number of epochs (AutoGluon's refit_full)."""
    from classifiers.ngram import NgramModel
    from worker.training.trainer_setup import fit_transformer

    rows = sorted(rows, key=row_key)  # the same order whatever the file's
    emit("log", f"refitting on all {len(rows)} rows for {epochs} epochs (the epoch and blend chosen on validation)")
    refit = fit_transformer(config, labels, rows, None, staged, emit, epochs=epochs)
    if ngram is not None:
        ngram = NgramModel.fit(rows, [e.label for e in rows], labels)
    return refit.trainer.model, ngram


def _save(staged: Path, result: RunResult) -> None:
    """Safetensors weights, the tokenizer and the n-gram model: no pickle (no training_args.bin) in a version."""
    shutil.rmtree(staged / "trainer", ignore_errors=True)
    result.model.save_pretrained(str(staged), safe_serialization=True)
    result.tokenizer.save_pretrained(str(staged))
    if result.ngram is not None and result.weight < 1:
        result.ngram.save(staged)


def _announce(emit: Emit, name: str, version: int, replaced: bool, promotion) -> None:
    if not promotion.promote:
        emit("warning", f"version {version} of {name} is {promotion.reason}; to use it anyway: "
                        f"avocet models rollback {name} --version {version} (POST /api/models/{name}/rollback)",
             reason="not_promoted", version=version)  # fmt: skip
    elif replaced:
        emit("log", f"published version {version} of {name} ({promotion.reason}); earlier versions can be rolled back to")


class PublishRefused(RuntimeError):
    """The worker did not let this run publish: the job is no longer its own (cancelled, reaped, or lost)."""


def ask_to_publish(emit: Emit, target: Path) -> None:
    """Under the worker (AVOCET_PUBLISH_GATE=1) ask on stdout and wait for the answer on stdin: the worker says
    `publish` only while it still owns the job and no stop was asked for, so a run that lost its job never replaces a
    model, and a cancel that comes later is refused instead of claiming the old model stayed. The CLI just publishes."""
    from shared.settings import get_settings

    if not get_settings().publish_gate:
        return
    emit(PUBLISH_REQUEST, f"ready to publish {target.name}; waiting for the worker's go-ahead")
    answer = sys.stdin.readline().strip()
    if answer != PUBLISH:
        raise PublishRefused(f"the worker did not allow publishing ({answer or 'no answer'}); {target.name} is unchanged")
