"""EmbeddingSimilarityAdapter: zero-shot by cosine similarity between an email and each label description.

Uses the MiniLM sentence encoder shipped as a pip package (shared.registry "minilm"), so it runs with no network and
no cache: mean-pooled, L2-normalised token embeddings, as the model was trained (its 1_Pooling config says mean).
"""

from collections.abc import Iterable

import torch

from classifiers.base import AdapterUnavailable, BatchClassifier, Row, plain_text, row_fields, torch_device
from classifiers.descriptions import label_descriptions


class EmbeddingSimilarityAdapter(BatchClassifier):
    kind = "embedding"

    def __init__(
        self, labels: list[str], descriptions: dict[str, str] | None = None, model_path: str | None = None,
        name: str = "minilm-embedding", batch_size: int = 32, max_length: int = 128,
    ):  # fmt: skip
        from transformers import AutoModel, AutoTokenizer

        self.name, self.labels = name, list(labels)
        self.batch_size, self.max_length = batch_size, max_length
        self.descriptions = label_descriptions(self.labels, descriptions)
        try:
            path = model_path or _packaged_minilm()
            self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            self.device = torch_device()
            self.model = AutoModel.from_pretrained(path, local_files_only=True).eval().to(self.device)
        except (OSError, FileNotFoundError) as exc:
            raise AdapterUnavailable(f"could not load the sentence encoder: {exc}") from exc
        self.label_vectors = self.embed(self.descriptions)

    def classify_batch(self, rows: Iterable[Row]) -> list[str]:
        texts = [plain_text(*row_fields(row)) for row in rows]
        if not texts:
            return []
        similarity = self.embed(texts) @ self.label_vectors.T  # cosine: both sides are unit length
        return [self.labels[i] for i in similarity.argmax(-1).tolist()]

    @torch.inference_mode()
    def embed(self, texts: list[str]) -> torch.Tensor:
        """Unit vectors, one row per text (at least one), in the order given."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of similar length pad less
        chunks = []
        for start in range(0, len(order), self.batch_size):
            batch = self.tokenizer(
                [texts[i] for i in order[start : start + self.batch_size]], truncation=True,
                max_length=self.max_length, padding=True, return_tensors="pt",
            ).to(self.device)  # fmt: skip
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            chunks.append(torch.nn.functional.normalize(pooled, dim=-1).float().cpu())
        vectors = torch.cat(chunks)
        vectors[order] = vectors.clone()  # row k of the sorted output belongs to text order[k]
        return vectors


def _packaged_minilm() -> str:
    from shared.registry import get_spec, resolve_base_model

    return resolve_base_model(get_spec("minilm"))
