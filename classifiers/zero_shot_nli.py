"""ZeroShotNLIAdapter: hub NLI models as zero-shot classifiers ("This email is about <label description>.").

Offline first: unless downloads are allowed, a model whose pinned commit (shared.registry.HUB_REVISIONS) is not in
the local Hugging Face cache is reported "not cached" from a file-system lookup, before transformers is asked for
anything, so it never waits on the network; `python -m worker.training pull <key>` fetches it.
Each email is scored against every label's hypothesis and gets the label with the highest entailment logit, as the
transformers zero-shot pipeline does for single-label classification.
"""

from collections.abc import Iterable
from pathlib import Path

import torch

from shared.registry import HUB_REVISIONS, ZERO_SHOT_CLASSIFIERS
from classifiers.base import AdapterUnavailable, BatchClassifier, Row, plain_text, row_fields, torch_device
from classifiers.descriptions import label_descriptions

HYPOTHESIS = "This email is about {}."


def is_cached(model_id: str, cache_dir: Path | str | None = None) -> bool:
    """Whether the cache holds the model at its pinned commit (a newer snapshot of the same repo does not count)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(model_id, "config.json", cache_dir=cache_dir, revision=HUB_REVISIONS[model_id])
    return isinstance(found, str)


class ZeroShotNLIAdapter(BatchClassifier):
    kind = "zeroshot_nli"

    def __init__(
        self, key: str, labels: list[str], descriptions: dict[str, str] | None = None, allow_downloads: bool = False,
        cache_dir: Path | str | None = None, batch_size: int = 32, max_length: int = 256,
    ):  # fmt: skip
        if key not in ZERO_SHOT_CLASSIFIERS:
            raise ValueError(f"unknown zero-shot model {key!r}: use one of {', '.join(sorted(ZERO_SHOT_CLASSIFIERS))}")
        self.name, self.model_id, self.labels = key, ZERO_SHOT_CLASSIFIERS[key], list(labels)
        self.revision = HUB_REVISIONS[self.model_id]
        self.batch_size, self.max_length = batch_size, max_length
        self.hypotheses = [HYPOTHESIS.format(d) for d in label_descriptions(self.labels, descriptions)]
        if not allow_downloads and not is_cached(self.model_id, cache_dir):
            raise AdapterUnavailable(
                f"not cached: {self.model_id} at {self.revision[:12]} is not in the local Hugging Face cache and "
                f"downloads are off (python -m worker.training pull {key}, or set AVOCET_ALLOW_DOWNLOADS=1)"
            )
        self._load(allow_downloads, cache_dir)

    def _load(self, allow_downloads: bool, cache_dir) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        kwargs = {"local_files_only": not allow_downloads, "cache_dir": cache_dir, "revision": self.revision}
        # the stored dtype on a GPU (several of these checkpoints are float16); fp32 on a CPU, where float16 is slow
        dtype = "auto" if torch_device().type == "cuda" else torch.float32
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_id, **kwargs)
            model = AutoModelForSequenceClassification.from_pretrained(self.model_id, dtype=dtype, **kwargs)
        except OSError as exc:
            raise AdapterUnavailable(f"could not load {self.model_id}: {exc}") from exc
        self.entailment = entailment_index(model.config.label2id)
        self.device = torch_device()
        self.model = model.eval().to(self.device)

    def classify_batch(self, rows: Iterable[Row]) -> list[str]:
        texts = [plain_text(*row_fields(row)) for row in rows]
        if not texts:
            return []
        pairs = [(text, hypothesis) for text in texts for hypothesis in self.hypotheses]
        scores = self._entailment_logits(pairs).view(len(texts), len(self.labels))
        return [self.labels[i] for i in scores.argmax(-1).tolist()]

    @torch.inference_mode()
    def _entailment_logits(self, pairs: list[tuple[str, str]]) -> torch.Tensor:
        out = []
        for start in range(0, len(pairs), self.batch_size):
            premises, hypotheses = zip(*pairs[start : start + self.batch_size])
            batch = self.tokenizer(
                list(premises), list(hypotheses), truncation="only_first", max_length=self.max_length,
                padding=True, return_tensors="pt",
            ).to(self.device)  # fmt: skip
            out.append(self.model(**batch).logits[:, self.entailment].float().cpu())
        return torch.cat(out)


def entailment_index(label2id: dict[str, int]) -> int:
    """The logit column meaning "entailment" (named differently across NLI checkpoints)."""
    for label, index in label2id.items():
        if label.lower().startswith("entail"):
            return int(index)
    raise AdapterUnavailable(f"not an NLI model: no entailment label among {sorted(label2id)}")
