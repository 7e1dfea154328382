"""Fine-tuned models on the models volume, and whether the data given may score them fairly.

A fine-tuned model is any models/<folder>/ holding a training_info.json (the same scan the API's model list does).
It may only be scored on rows it never trained on, so its recorded split must be the split this data gives: the same
validation lines (and, ideally, the same file by sha256) and the same label set. Otherwise it is refused with a
reason rather than scored on its own training rows.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from worker.training_info import INFO_FILE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitFacts:
    """What the benchmark's own split looks like, to compare with a model's training_info.json."""

    labels: list[str]
    seed: int
    val_lines: list[int]
    data_sha256: str


def find_finetuned(models_dir: Path | str) -> list[Path]:
    """Model folders under models_dir, by name; none (and no error) when models_dir does not exist."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob(f"*/{INFO_FILE}") if not p.parent.name.startswith("."))


def read_info(folder: Path) -> dict:
    """The folder's training_info.json; ValueError with the file named when it is unreadable."""
    path = Path(folder) / INFO_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable {path}: {exc}") from exc
    if not isinstance(info, dict):
        raise ValueError(f"unreadable {path}: not a JSON object")
    return info


def split_mismatch(info: dict, facts: SplitFacts) -> str | None:
    """Why this model cannot be scored on this data's validation split, or None when it can."""
    trained_labels = info.get("labels")
    if not isinstance(trained_labels, list) or set(trained_labels) != set(facts.labels):
        return (
            f"trained on labels {trained_labels}, but the benchmark labels are {facts.labels} "
            "(pass the model's label set with --labels)"
        )
    split = info.get("split") or {}
    if split.get("seed", facts.seed) != facts.seed:
        return f"trained with split seed {split.get('seed')}, the benchmark splits with seed {facts.seed}"
    val_lines = split.get("val_lines")
    if val_lines is not None:
        if sorted(val_lines) == sorted(facts.val_lines):
            return None
        source = split.get("data_file", "another file")
        return (
            f"its validation rows differ from this data's ({len(val_lines)} vs {len(facts.val_lines)} rows; "
            f"trained on {source}): scoring it here would count rows it trained on; benchmark it with --data {source}"
        )
    if split.get("data_sha256") == facts.data_sha256:
        return None
    return "its training_info.json records neither the validation lines nor this data file's sha256"


def describe_source(info: dict, facts: SplitFacts) -> str | None:
    """A note when the validation lines match but the file's bytes differ (edited or re-exported data)."""
    sha = (info.get("split") or {}).get("data_sha256")
    if sha and sha != facts.data_sha256:
        return "the data file differs from the one it was trained on (sha256), but its validation lines are the same"
    return None
