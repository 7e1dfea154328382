"""Loading base models and tokenizers from the registry, offline-first, with errors that say what to do."""

import logging

from shared.registry import ModelSpec, resolve_base_model

logger = logging.getLogger(__name__)


class ModelUnavailableError(RuntimeError):
    pass


def load_tokenizer_and_model(spec: ModelSpec, labels: list[str], allow_downloads: bool):
    """Tokenizer + sequence-classification model with a fresh head for `labels`."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_base_model(spec)
    kwargs = {"local_files_only": not allow_downloads}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=len(labels),
            ignore_mismatched_sizes=True,
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            **kwargs,
        )
    except OSError as exc:
        raise ModelUnavailableError(_unavailable_message(spec, source, allow_downloads, exc)) from exc
    return tokenizer, model


def _unavailable_message(spec: ModelSpec, source: str, allow_downloads: bool, exc: Exception) -> str:
    if not allow_downloads:
        return (
            f"model {spec.key!r} ({source}) is not in the local Hugging Face cache and downloads are off: "
            f"pre-fetch it into HF_HOME on a machine with network, or set AVOCET_ALLOW_DOWNLOADS=1 "
            f"(the packaged offline model is 'minilm')"
        )
    return f"model {spec.key!r} ({source}) could not be loaded: {exc}"
