"""The transformer half of a run: the Trainer built from a TrainConfig (memory plan, precision, arguments), trained
with validation every epoch (best weights kept in memory) or, for a refit on every row, for a fixed number of epochs.
"""

from dataclasses import dataclass
from pathlib import Path

from worker.training.encoding import PAD_MULTIPLE, encode, encode_windows
from worker.training.eval_recorder import EvalRecorder


@dataclass
class TransformerFit:
    trainer: object
    best: object  # BestModelCallback (None for a refit)
    recorder: EvalRecorder | None
    val: list  # the validation rows in evaluation order (shortest first), the order of every probability array


def fit_transformer(config, labels: list[str], train, val, staged: Path, emit, ngram=None,
                    epochs: int | None = None) -> TransformerFit:  # fmt: skip
    """Train on `train`; with `val`, evaluate every epoch (transformer alone and blended with `ngram`), keep the
    best weights and stop early; without it (a refit), train `epochs` epochs."""
    from transformers import DataCollatorWithPadding, PrinterCallback

    from worker.training.callbacks import BestModelCallback, ProgressCallback
    from worker.training.model_loading import load_tokenizer_and_model
    from worker.training.weighted_trainer import WeightedTrainer, class_weights

    tokenizer, model = load_tokenizer_and_model(config.spec, labels, config.allow_downloads)
    if config.freeze_embeddings:
        model.get_input_embeddings().requires_grad_(False)
    plan = memory_plan(config, model, emit)
    label2id = {label: i for i, label in enumerate(labels)}
    train_set = encode(tokenizer, train, label2id, config.max_tokens)
    callbacks, recorder, best, val_set = [ProgressCallback(emit)], None, None, None
    if val:
        val, val_set, window_rows = encode_windows(tokenizer, val, label2id, config.max_tokens, config.read_windows)
        recorder = EvalRecorder(labels, ngram.probabilities(val) if ngram else None, window_rows)
        best = BestModelCallback(config.early_stopping_patience)
        callbacks.append(best)
    trainer = WeightedTrainer(
        model=model,
        args=training_arguments(config, staged, len(train_set), plan, epochs=epochs, evaluate=bool(val)),
        train_dataset=train_set,
        eval_dataset=val_set,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=PAD_MULTIPLE),
        processing_class=tokenizer,
        compute_metrics=recorder,
        callbacks=callbacks,
        class_weights=class_weights([row["labels"] for row in train_set.features], len(labels)),
    )
    trainer.remove_callback(PrinterCallback)  # it prints raw dicts to stdout, which is the CLI's interface
    loop = trainer.train().metrics
    if best is not None:
        best.train_loop_seconds = loop["train_runtime"]
        best.train_samples_per_second = loop["train_samples_per_second"]
        best.restore_best(trainer.model)
    return TransformerFit(trainer, best, recorder, val or [])


def memory_plan(config, model, emit):
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
    plan = plan_memory(model_shape(model), config.batch_size, config.max_tokens, free,
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


def training_arguments(config, output_dir: Path, train_rows: int, plan=None, epochs: int | None = None,
                       evaluate: bool = True):
    import torch
    from transformers import TrainingArguments

    cuda = torch.cuda.is_available()
    precision = mixed_precision(cuda, cuda and torch.cuda.is_bf16_supported())
    micro, accumulation = (plan.micro_batch, plan.accumulation) if plan else (config.batch_size, 1)
    epochs = epochs or config.epochs
    steps = max(1, -(-train_rows // config.batch_size)) * epochs  # optimizer steps, whatever the micro-batch
    return TrainingArguments(
        output_dir=str(output_dir / "trainer"),
        num_train_epochs=epochs,
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=accumulation,  # effective batch stays config.batch_size
        per_device_eval_batch_size=micro * 4,
        learning_rate=config.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio of the total steps
        weight_decay=config.weight_decay,
        optim=plan.optimizer if plan else "adamw_torch",
        eval_strategy="epoch" if evaluate else "no",
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
