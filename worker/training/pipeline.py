"""The fine-tune pipeline as one plain function: data, split, model, Trainer, best weights, atomic publish.

No Celery and no Redis here: progress leaves through `emit(type, message, **fields)`, so the CLI, the worker and the
tests all drive the same code.
"""

import logging
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.data import SPLIT_SEED, file_sha256, load_examples, split_examples
from shared.job_schema import FinetuneParams
from shared.registry import ModelSpec, get_spec
from worker.training.encoding import PAD_MULTIPLE, device_name, encode, sorted_by_length
from shared.model_store import (
    check_name, clean_stale_staging, discard_staging, model_dir, release_staging, staging_dir, write_training_info,
)  # fmt: skip
from shared.model_versions import publish_version
from worker.training.training_info import build_training_info

logger = logging.getLogger(__name__)
Emit = Callable[..., None]
DEFAULT_LEARNING_RATE = 2e-5  # for base models whose registry entry sets none


@dataclass(frozen=True)
class TrainConfig:
    """Everything one run needs, resolved. Built by from_params, so every value has passed FinetuneParams' checks."""

    spec: ModelSpec
    name: str
    data: Path
    labels: list[str]
    models_dir: Path
    epochs: int
    batch_size: int
    learning_rate: float
    warmup_ratio: float
    weight_decay: float
    max_length: int
    patience: int
    seed: int
    allow_downloads: bool = False
    freeze_embeddings: bool = True
    dataset_id: str | None = None  # recorded in training_info.json with the file's sha256
    versions_kept: int = 3

    @classmethod
    def from_params(
        cls, params: FinetuneParams, *, data: Path, labels: list[str], models_dir: Path, allow_downloads: bool = False,
        dataset_id: str | None = None, versions_kept: int = 3,
    ) -> "TrainConfig":  # fmt: skip
        """`data` and `labels` are the defaults (the score file, the canonical labels) unless params name others."""
        spec, hp = get_spec(params.model), params.hyperparameters
        return cls(
            spec=spec, name=check_name(params.name or spec.key), data=Path(params.data) if params.data else Path(data),
            labels=list(params.labels or labels), models_dir=Path(models_dir), epochs=params.epochs,
            batch_size=hp.batch_size, learning_rate=hp.learning_rate or spec.learning_rate or DEFAULT_LEARNING_RATE,
            warmup_ratio=hp.warmup_ratio, weight_decay=hp.weight_decay, max_length=min(hp.max_tokens, spec.max_tokens),
            patience=hp.early_stopping_patience, seed=hp.seed, allow_downloads=allow_downloads, dataset_id=dataset_id,
            versions_kept=versions_kept,
        )  # fmt: skip


def run_finetune(config: TrainConfig, emit: Emit) -> dict:
    """Train, publish models/avocet-<name>/ and return its training_info."""
    from transformers import set_seed

    started = time.perf_counter()
    set_seed(config.seed)
    data = load_examples(config.data, config.labels)
    for warning in data.warnings:
        emit("warning", warning)
    train, val, notes = split_examples(data.examples, seed=SPLIT_SEED)  # fixed: the benchmark scores this split
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
        trainer, best = _train(config, data.labels, train, val, staged, emit)
        best.restore_best(trainer.model)
        report = _report(trainer.predict(trainer.eval_dataset), data.labels)  # the restored best weights
        shutil.rmtree(staged / "trainer", ignore_errors=True)
        trainer.save_model(str(staged))
        trainer.processing_class.save_pretrained(str(staged))
        info = build_training_info(
            config, data, train, val, report, best, time.perf_counter() - started, file_sha256(config.data)
        )
        write_training_info(staged, info)
        target = model_dir(config.models_dir, config.name)
        ask_to_publish(emit, target)  # the last step, and only with the worker's go-ahead
        version, replaced = publish_version(staged, config.models_dir, config.name, config.versions_kept)
        release_staging(staged)
        if replaced:
            emit("log", f"published version {version} of {config.name}; earlier versions can be rolled back to")
    except BaseException:
        discard_staging(staged)
        raise
    info["model_dir"], info["version"] = str(target), version
    return info


class PublishRefused(RuntimeError):
    """The worker did not let this run publish: the job is no longer its own (cancelled, reaped, or lost)."""


def ask_to_publish(emit: Emit, target: Path) -> None:
    """Under the worker (AVOCET_PUBLISH_GATE=1) ask on stdout and wait for the answer on stdin: the worker says
    `publish` only while it still owns the job and no stop was asked for, so a run that lost its job never replaces a
    model, and a cancel that comes later is refused instead of claiming the old model stayed. The CLI just publishes."""
    from shared.settings import get_settings

    if not get_settings().publish_gate:
        return
    emit("publish_request", f"ready to publish {target}; waiting for the worker's go-ahead")
    answer = sys.stdin.readline().strip()
    if answer != "publish":
        raise PublishRefused(f"the worker did not allow publishing ({answer or 'no answer'}); {target} is unchanged")


def _train(config: TrainConfig, labels, train, val, staged: Path, emit: Emit):
    from transformers import DataCollatorWithPadding, PrinterCallback

    from worker.training.callbacks import BestModelCallback, ProgressCallback
    from worker.training.model_loading import load_tokenizer_and_model
    from worker.training.weighted_trainer import WeightedTrainer, class_weights

    tokenizer, model = load_tokenizer_and_model(config.spec, labels, config.allow_downloads)
    if config.freeze_embeddings:
        model.get_input_embeddings().requires_grad_(False)
    plan = _memory_plan(config, model, emit)
    label2id = {label: i for i, label in enumerate(labels)}
    train_set = encode(tokenizer, train, label2id, config.max_length)
    val_set = sorted_by_length(encode(tokenizer, val, label2id, config.max_length))
    best = BestModelCallback(config.patience)
    trainer = WeightedTrainer(
        model=model,
        args=_training_arguments(config, staged, len(train_set), plan),
        train_dataset=train_set,
        eval_dataset=val_set,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=PAD_MULTIPLE),
        processing_class=tokenizer,
        compute_metrics=_metrics_for(labels),
        callbacks=[ProgressCallback(emit), best],
        class_weights=class_weights([row["labels"] for row in train_set.features], len(labels)),
    )
    trainer.remove_callback(PrinterCallback)  # it prints raw dicts to stdout, which is the CLI's interface
    loop = trainer.train().metrics
    best.train_loop_seconds = loop["train_runtime"]
    best.train_samples_per_second = loop["train_samples_per_second"]
    return trainer, best


def _memory_plan(config: TrainConfig, model, emit: Emit):
    """On CUDA, the micro-batch and optimizer that fit the free memory (worker/training/memory_plan.py); None on CPU.
    Free memory is read before the model moves to the GPU, so it is what the co-located processes (vLLM) left."""
    import importlib.util

    import torch

    from worker.training.memory_plan import FALLBACK_ORDER, model_shape, plan_memory

    if not torch.cuda.is_available():
        return None
    free, _ = torch.cuda.mem_get_info()
    has_bnb = importlib.util.find_spec("bitsandbytes") is not None
    optimizers = tuple(name for name in FALLBACK_ORDER if has_bnb or name != "adamw_bnb_8bit")
    plan = plan_memory(model_shape(model), config.batch_size, config.max_length, free,
                       checkpointing=config.spec.gradient_checkpointing, optimizers=optimizers)  # fmt: skip
    emit("log", plan.describe())
    if plan.warning():
        emit("warning", plan.warning())
    return plan


def mixed_precision(cuda: bool, bf16_supported: bool) -> str:
    """bf16 where the GPU has it, fp16 on older GPUs; never on CPU, where bf16 autocast measured 14% slower here."""
    if not cuda:
        return "fp32"
    return "bf16" if bf16_supported else "fp16"


def _training_arguments(config: TrainConfig, output_dir: Path, train_rows: int, plan=None):
    import torch
    from transformers import TrainingArguments

    cuda = torch.cuda.is_available()
    precision = mixed_precision(cuda, cuda and torch.cuda.is_bf16_supported())
    micro, accumulation = (plan.micro_batch, plan.accumulation) if plan else (config.batch_size, 1)
    steps = max(1, -(-train_rows // config.batch_size)) * config.epochs  # optimizer steps, whatever the micro-batch
    return TrainingArguments(
        output_dir=str(output_dir / "trainer"),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=accumulation,  # effective batch stays config.batch_size
        per_device_eval_batch_size=micro * 4,
        learning_rate=config.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio of the total steps
        weight_decay=config.weight_decay,
        optim=plan.optimizer if plan else "adamw_torch",
        eval_strategy="epoch",
        save_strategy="no",  # BestModelCallback keeps the best weights in memory
        logging_strategy="steps",
        logging_steps=max(1, steps // 100),
        train_sampling_strategy="group_by_length",
        activation_checkpointing=config.spec.gradient_checkpointing,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not cuda,
        seed=config.seed,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=cuda,
    )


def _metrics_for(labels: list[str]):
    def compute_metrics(prediction) -> dict:
        report = _report(prediction, labels)
        return {"macro_f1": report["macro_f1"], "accuracy": report["accuracy"]}

    return compute_metrics


def _report(prediction, labels: list[str]) -> dict:
    """Full metrics from a Trainer prediction (logits and label ids)."""
    from worker.training.metrics import classification_report

    y_pred = [labels[i] for i in prediction.predictions.argmax(-1)]
    y_true = [labels[i] for i in prediction.label_ids]
    return classification_report(y_true, y_pred, labels)


