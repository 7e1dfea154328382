"""The model card (README.md) of a published version, in the Hugging Face convention, rendered from its
training_info.json so the two never disagree. The front matter is built with huggingface_hub's ModelCardData and
EvalResult, so `huggingface_hub.ModelCard.load` reads it (base model, metrics with their dataset and split); the body
says which score belongs to which part: the published ensemble, the transformer alone (what `pipeline(...)` loads)
and the n-gram model."""

from shared.data import BODY_CHARS

PARTS = {"ensemble": "ensemble (published)", "transformer": "transformer alone", "ngram": "n-gram model alone",
         "chosen_on_same_rows": "ensemble, chosen and scored on the same rows (optimistic)"}  # fmt: skip


def render(info: dict) -> str:
    from huggingface_hub import ModelCard, ModelCardData

    name = info.get("name", "model")
    data = ModelCardData(
        library_name="transformers", pipeline_tag="text-classification", base_model=_hub_id(info),
        tags=["avocet", "email-classification"], model_name=f"avocet-{name}", eval_results=_eval_results(info) or None,
    )  # fmt: skip
    body = ["", f"# avocet-{name}", "", *_summary(info), "", *_training(info), "", *_scores(info), "", *_usage(info)]
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n" + "\n".join(body) + "\n"))


def _hub_id(info: dict) -> str | None:
    """The base model as the hub knows it; for versions written before training_info.json recorded it, from the
    registry entry of their model key."""
    if info.get("base_model_hub_id"):
        return info["base_model_hub_id"]
    from shared.registry import FINETUNE_BASES

    spec = FINETUNE_BASES.get(str(info.get("model_key")))
    return spec.hub_id if spec else None


def _eval_results(info: dict) -> list:
    from huggingface_hub import EvalResult

    dataset = (info.get("dataset") or {}).get("id") or "labelled-emails"
    results = []
    scores = info.get("scores") or {"transformer": {"macro_f1": info.get("val_macro_f1"),
                                                    "accuracy": info.get("val_accuracy")}}  # before parts were scored
    for part, score in scores.items():
        if not isinstance(score, dict) or part not in PARTS:
            continue
        for metric, value in (("f1", score.get("macro_f1")), ("accuracy", score.get("accuracy"))):
            if value is not None:
                results.append(EvalResult(
                    task_type="text-classification", dataset_type="json", dataset_name=dataset,
                    dataset_split="validation", metric_type=metric, metric_value=value,
                    metric_name=f"{'macro-F1' if metric == 'f1' else 'accuracy'}, {PARTS[part]}",
                    metric_config="macro" if metric == "f1" else None,
                ))  # fmt: skip
    return results


def _summary(info: dict) -> list[str]:
    labels, ensemble = info.get("labels", []), info.get("ensemble") or {}
    weight = ensemble.get("transformer_weight", 1.0)
    lines = [
        f"Fine-tuned from `{_hub_id(info) or info.get('base_model_id')}` ({info.get('model_key')}) to "
        f"sort emails into {len(labels)} labels: {', '.join(f'`{label}`' for label in labels)}.",
        "",
        f"**Input format:** `\"{{subject}} [SEP] {{body[:{BODY_CHARS}]}}\"`, cut at "
        f"{_token_cap(info.get('hyperparameters') or {})} tokens.{_windows(info.get('hyperparameters') or {})}",
    ]
    if weight < 1:
        lines += ["", f"**Published classifier: an ensemble.** The transformer's probabilities ({weight:.0%}) averaged "
                      f"with an n-gram model's ({1 - weight:.0%}; {ensemble.get('ngram')}, in `{ensemble.get('ngram_file')}`, "
                      "saved with skops), the weight chosen on validation. Avocet's predict, the benchmark and "
                      "`FineTunedAdapter` use the ensemble; `transformers.pipeline` loads the transformer alone."]  # fmt: skip
    return lines


def _windows(hyperparameters: dict) -> str:
    windows = int(hyperparameters.get("read_windows", 1))
    if windows <= 1:
        return ""
    return (f" Avocet reads a longer email in up to {windows} windows of that length (the subject, then the body "
            "where the last window stopped) and averages their probabilities; `transformers.pipeline` reads the "
            "first window only.")


def _token_cap(hyperparameters: dict):
    return hyperparameters.get("max_tokens", hyperparameters.get("max_length"))  # max_length: before one name


def _training(info: dict) -> list[str]:
    dataset, split = info.get("dataset") or {}, info.get("split") or {}
    counts = dataset.get("label_counts") or info.get("label_counts") or {}
    lines = ["## Training data", "",
             f"- dataset: `{dataset.get('id')}` (sha256 `{dataset.get('sha256', split.get('data_sha256'))}`)",
             f"- rows used: {info.get('sample_count')} ({split.get('train_count')} train / {split.get('val_count')} "
             f"validation, stratified by row content, seed {split.get('seed')})",
             "- label counts: " + ", ".join(f"{k} {v}" for k, v in counts.items()), "", "## Hyperparameters", ""]  # fmt: skip
    lines += [f"- {key}: {value}" for key, value in (info.get("hyperparameters") or {}).items()]
    return lines + [f"- epochs run: {info.get('epochs_run')} (best epoch {info.get('best_epoch')})"]


def _scores(info: dict) -> list[str]:
    scores = info.get("scores") or {}
    lines = ["## Validation scores", ""]
    if scores.get("method"):
        lines += [f"How: {scores['method']}.", "", "| classifier | macro-F1 (95 % interval) | accuracy |",
                  "| --- | --- | ---: |"]  # fmt: skip
        for part, label in PARTS.items():
            if isinstance(scores.get(part), dict):
                score = scores[part]
                low, high = score.get("interval") or [None, None]
                lines.append(f"| {label} | {score.get('macro_f1')} ({low}-{high}) | {score.get('accuracy')} |")
    else:  # a version published before intervals
        lines += [f"- macro-F1: {info.get('val_macro_f1')}", f"- accuracy: {info.get('val_accuracy')}"]
    return lines + ["", *_per_class(info, scores), *_confusion(info)]


def _per_class(info: dict, scores: dict) -> list[str]:
    rows, rare = scores.get("label_rows") or {}, set(scores.get("too_few_to_judge") or [])
    lines = ["| label | F1 | validation rows |", "| --- | ---: | ---: |"]
    for label, f1 in (info.get("per_class_f1") or {}).items():
        lines.append(f"| {label} | {f1}{' (too few to judge)' if label in rare else ''} | {rows.get(label, '')} |")
    return lines


def _confusion(info: dict) -> list[str]:
    confusion = info.get("confusion_matrix") or {}
    labels, matrix = confusion.get("labels") or [], confusion.get("matrix") or []  # training_info's shape
    if not matrix or len(matrix) != len(labels):
        return []
    lines = ["", "Confusion matrix (rows: true label, columns: predicted):", "",
             "| true \\ predicted | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(labels)]  # fmt: skip
    return lines + [f"| {label} | " + " | ".join(str(n) for n in row) + " |" for label, row in zip(labels, matrix)]


def _usage(info: dict) -> list[str]:
    name = info.get("name", "model")
    return ["## How to load it", "", "```python", "from transformers import pipeline", "",
            "# the transformer alone:",
            f'classify = pipeline("text-classification", model="models/avocet-{name}")',
            'classify("Interview on Tuesday [SEP] Can you join us at 10:00?")', "",
            "# the published ensemble (what Avocet's predict serves), batched and sorted by length:",
            "from classifiers.fine_tuned import FineTunedAdapter", "",
            f'FineTunedAdapter("models/avocet-{name}").classify("Interview on Tuesday", "Can you join us at 10:00?")',
            "```"]  # fmt: skip
