"""The interface every benchmarked classifier offers, and the helpers the adapters share."""

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from shared.data import BODY_CHARS

Row = tuple[str, str] | dict


@runtime_checkable
class Classifier(Protocol):
    name: str
    kind: str  # "finetuned" | "zeroshot_nli" | "embedding" | "tfidf" (docs/contracts.md)
    labels: list[str]

    def classify(self, subject: str, body: str) -> str: ...

    def classify_batch(self, rows: Iterable[Row]) -> list[str]: ...


class BatchClassifier:
    """Base of the adapters: they all classify in batches, and one email is a batch of one."""

    def classify(self, subject: str, body: str) -> str:
        return self.classify_batch([(subject, body)])[0]


class AdapterUnavailable(RuntimeError):
    """A classifier that cannot run here (not cached, wrong split, failed to load); the message is the reason."""


def row_fields(row: Row) -> tuple[str, str]:
    """(subject, body) from a (subject, body) tuple, a dict with those keys, or an Example."""
    if isinstance(row, dict):
        return row["subject"], row["body"]
    if hasattr(row, "subject"):
        return row.subject, row.body
    subject, body = row
    return subject, body


def plain_text(subject: str, body: str) -> str:
    """What the zero-shot models read: the same 400 body characters as training, without the [SEP] marker, which
    a general NLI or embedding model would take for a segment boundary."""
    return f"{subject}\n{body[:BODY_CHARS]}"


def torch_device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
