"""The model card (README.md) of a published version, in the Hugging Face convention, rendered from its
training_info.json so the two never disagree: YAML front matter, then what the model is, how it was trained, how
well it scored and how to load it."""

import json

from shared.data import BODY_CHARS


def render(info: dict) -> str:
    name = info.get("name", "model")
    metrics = [("macro_f1", info.get("val_macro_f1")), ("accuracy", info.get("val_accuracy"))]
    return "\n".join([*_front_matter(info, metrics), "", f"# avocet-{name}", "", *_summary(info), "",
                      *_training(info), "", *_scores(info), "", *_usage(info), ""])  # fmt: skip


def _front_matter(info: dict, metrics: list) -> list[str]:
    lines = ["---", "library_name: transformers", "pipeline_tag: text-classification",
             f"base_model: {json.dumps(info.get('base_model_id', ''))}", "tags:", "- avocet", "- email-classification",
             "model-index:", f"- name: {json.dumps('avocet-' + str(info.get('name', '')))}", "  results:",
             "  - task:", "      type: text-classification", "    metrics:"]  # fmt: skip
    for kind, value in metrics:
        if value is not None:
            lines += [f"    - type: {kind}", f"      value: {value}", "      name: validation " + kind.replace("_", "-")]
    return [*lines, "---"]


def _summary(info: dict) -> list[str]:
    labels = info.get("labels", [])
    return [
        f"Fine-tuned from `{info.get('base_model_id')}` ({info.get('model_key')}) to sort emails into "
        f"{len(labels)} labels: {', '.join(f'`{label}`' for label in labels)}.",
        "",
        f"**Input format:** `\"{{subject}} [SEP] {{body[:{BODY_CHARS}]}}\"`, cut at "
        f"{info.get('hyperparameters', {}).get('max_length')} tokens.",
    ]


def _training(info: dict) -> list[str]:
    dataset, split = info.get("dataset") or {}, info.get("split") or {}
    counts = dataset.get("label_counts") or info.get("label_counts") or {}
    lines = ["## Training data", "",
             f"- dataset: `{dataset.get('id', split.get('data_file'))}` (sha256 `{dataset.get('sha256', split.get('data_sha256'))}`)",
             f"- rows used: {info.get('sample_count')} ({split.get('train_count')} train / {split.get('val_count')} "
             f"validation, stratified, seed {split.get('seed')})",
             "- label counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()), "", "## Hyperparameters", ""]  # fmt: skip
    lines += [f"- {key}: {value}" for key, value in (info.get("hyperparameters") or {}).items()]
    return lines + [f"- epochs run: {info.get('epochs_run')} (best epoch {info.get('best_epoch')})"]


def _scores(info: dict) -> list[str]:
    lines = ["## Validation scores", "", f"- macro-F1: {info.get('val_macro_f1')}",
             f"- accuracy: {info.get('val_accuracy')}", "", "| label | F1 |", "| --- | ---: |"]  # fmt: skip
    lines += [f"| {label} | {f1} |" for label, f1 in (info.get("per_class_f1") or {}).items()]
    confusion = info.get("confusion_matrix") or {}
    labels, matrix = confusion.get("labels") or [], confusion.get("matrix") or []  # training_info's shape
    if matrix and len(matrix) == len(labels):
        lines += ["", "Confusion matrix (rows: true label, columns: predicted):", "",
                  "| true \\ predicted | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]  # fmt: skip
        lines += [f"| {label} | " + " | ".join(str(n) for n in row) + " |" for label, row in zip(labels, matrix)]
    return lines


def _usage(info: dict) -> list[str]:
    name = info.get("name", "model")
    return ["## How to load it", "", "```python", "from transformers import pipeline", "",
            f'classify = pipeline("text-classification", model="models/avocet-{name}")',
            'classify("Interview on Tuesday [SEP] Can you join us at 10:00?")', "", "# or, batched and sorted by length:",
            "from classifiers.fine_tuned import FineTunedAdapter", "",
            f'FineTunedAdapter("models/avocet-{name}").classify("Interview on Tuesday", "Can you join us at 10:00?")',
            "```"]  # fmt: skip
