"""The content of training_info.json: what a published model is, how it was trained and how well it scored
(shared.model_store reads and writes the file)."""

import platform
from collections import Counter
from datetime import datetime, timezone

from shared.data import VAL_FRACTION, rows_digest

SCORE_METHOD = (
    "cross-fitted: the validation rows are cut into two stratified halves and each half is predicted with the epoch "
    "and ensemble weight chosen on the other half, so no row is scored by a choice made on it; 95 % intervals from "
    "1,000 bootstrap resamples of those rows (seed 0)"
)


def build_training_info(config, data, train, val, result, train_seconds: float, data_sha256: str) -> dict:
    import sklearn
    import torch
    import transformers

    from worker.training.encoding import device_name

    best, report = result.best, result.report
    headline = result.scores.get("ensemble") or result.scores["transformer"]
    return {
        "name": config.name,
        "model_key": config.spec.key,
        "base_model_id": config.spec.base_model,
        "base_model_hub_id": config.spec.hub_id,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "epochs_run": round(float(best.last_epoch), 3),
        "best_epoch": round(float(best.best_epoch), 3),
        "val_macro_f1": headline["macro_f1"],  # the published recipe's honest score (see "scores")
        "val_macro_f1_interval": headline["interval"],
        "val_accuracy": headline["accuracy"],
        "per_class_f1": {k: round(v, 5) for k, v in report["per_class_f1"].items()},
        "confusion_matrix": report["confusion_matrix"],
        "scores": {"method": SCORE_METHOD, **result.scores},
        "ensemble": {
            "enabled": config.ensemble,
            "transformer_weight": result.weight,
            "ngram": result.ngram.description if result.weight < 1 else None,
            "ngram_file": "ngram.skops" if result.weight < 1 else None,
        },
        "refit_full": config.refit_full,
        "promotion": result.promotion.as_info(),
        "sample_count": len(data.examples),
        "label_counts": _counts(data.examples),
        "labels": data.labels,
        "dropped_labels": dict(sorted(data.dropped.items())),
        "skipped_labels": dict(sorted(data.skipped.items())),
        "hyperparameters": {
            "epochs": config.epochs,
            **config.hyperparameters(),
            "gradient_checkpointing": config.spec.gradient_checkpointing,
            "class_weights": "total / (n_classes * count)",
        },
        "dataset": {
            "id": config.dataset_id,
            "sha256": data_sha256,
            "rows": len(data.examples),
            "label_counts": _counts(data.examples),
        },
        "split": {
            "seed": config.split_seed,
            "val_fraction": VAL_FRACTION,
            "train_count": len(train),
            "val_count": len(val),
            "scheme": "content-hash",  # a row's side follows its content, not its line (shared/data.py)
            "val_rows_sha256": rows_digest(val),
            "data_sha256": data_sha256,
        },
        "train_seconds": round(train_seconds, 2),
        **result.timings,
        "device": device_name(),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }


def _counts(examples) -> dict[str, int]:
    """Rows per label, in label order (not the file's order, which must not change training_info.json)."""
    return dict(sorted(Counter(e.label for e in examples).items()))
