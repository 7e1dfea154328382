"""Loading base models and tokenizers from the registry, offline-first, with errors that say what to do.

A hub model is always loaded at its pinned commit (ModelSpec.revision): from the Hugging Face cache's
snapshots/<commit>/ folder, which `python -m worker.training pull` fills. A branch that moved upstream changes
nothing here. Folders (the packaged MiniLM, a local path) have no revision.
"""

import logging

from shared.registry import ModelSpec, resolve_base_model

logger = logging.getLogger(__name__)


class ModelUnavailableError(RuntimeError):
    pass


def load_tokenizer_and_model(spec: ModelSpec, labels: list[str], allow_downloads: bool):
    """Tokenizer + sequence-classification model with a fresh head for `labels`."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = resolve_base_model(spec)
    kwargs = {"local_files_only": not allow_downloads, "revision": spec.revision}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        # A hub NLI checkpoint has a 3-label head; ignore_mismatched_sizes swaps it for one sized to our labels and
        # keeps every other weight. fp32: transformers 5 loads a checkpoint in its stored dtype (bge-m3-zeroshot is
        # float16), and training needs fp32 master weights; bf16/fp16 is autocast's job on the GPU.
        model = AutoModelForSequenceClassification.from_pretrained(
            source,
            dtype=torch.float32,
            num_labels=len(labels),
            ignore_mismatched_sizes=True,
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
            **kwargs,
        )
    except OSError as exc:
        raise ModelUnavailableError(_unavailable_message(spec, source, allow_downloads, exc)) from exc
    except (ImportError, ValueError) as exc:  # e.g. a SentencePiece-only tokenizer without sentencepiece installed
        raise ModelUnavailableError(f"model {spec.key!r} ({source}) could not be loaded: {exc}") from exc
    return tokenizer, model


def _unavailable_message(spec: ModelSpec, source: str, allow_downloads: bool, exc: Exception) -> str:
    at = f" at revision {spec.revision}" if spec.revision else ""
    if not allow_downloads:
        return (
            f"model {spec.key!r} ({source}{at}) is not in the local Hugging Face cache and downloads are off: "
            f"run `python -m worker.training pull {spec.key}` where the box has network (same HF_HOME), "
            f"or set AVOCET_ALLOW_DOWNLOADS=1 (the packaged offline model is 'minilm')"
        )
    return f"model {spec.key!r} ({source}{at}) could not be loaded: {exc}"
