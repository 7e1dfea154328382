"""The content of training_info.json: what a published model is, how it was trained and how well it scored
(shared.model_store reads and writes the file)."""

import platform
from collections import Counter
from datetime import datetime, timezone

from shared.data import SPLIT_SEED, VAL_FRACTION


def build_training_info(config, data, train, val, report: dict, best, train_seconds: float, data_sha256: str) -> dict:
    import sklearn
    import torch
    import transformers

    from worker.training.encoding import device_name
    from shared.registry import resolve_base_model

    return {
        "name": config.name,
        "model_key": config.spec.key,
        "base_model_id": config.spec.base_model,
        "base_model_path": resolve_base_model(config.spec),
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "epochs_run": round(float(best.last_epoch), 3),
        "best_epoch": round(float(best.best_epoch), 3),
        "val_macro_f1": round(report["macro_f1"], 5),
        "val_accuracy": round(report["accuracy"], 5),
        "per_class_f1": {k: round(v, 5) for k, v in report["per_class_f1"].items()},
        "confusion_matrix": report["confusion_matrix"],
        "sample_count": len(data.examples),
        "label_counts": dict(Counter(e.label for e in data.examples)),
        "labels": data.labels,
        "dropped_labels": dict(data.dropped),
        "skipped_labels": dict(data.skipped),
        "hyperparameters": {
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "warmup_ratio": config.warmup_ratio,
            "weight_decay": config.weight_decay,
            "max_length": config.max_length,
            "seed": config.seed,
            "early_stopping_patience": config.patience,
            "gradient_checkpointing": config.spec.gradient_checkpointing,
            "class_weights": "total / (n_classes * count)",
        },
        "dataset": {
            "id": config.dataset_id,
            "sha256": data_sha256,
            "rows": len(data.examples),
            "label_counts": dict(Counter(e.label for e in data.examples)),
        },
        "split": {
            "seed": SPLIT_SEED,
            "val_fraction": VAL_FRACTION,
            "train_count": len(train),
            "val_count": len(val),
            "val_lines": sorted(e.line for e in val),
            "data_file": str(config.data),
            "data_sha256": data_sha256,
        },
        "train_seconds": round(train_seconds, 2),
        "train_loop_seconds": round(best.train_loop_seconds, 2),
        "train_samples_per_second": round(best.train_samples_per_second, 3),
        "device": device_name(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
