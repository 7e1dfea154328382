"""Whether the data given may score a published fine-tuned model fairly (shared.model_store lists the models).

A fine-tuned model may only be scored on rows it never trained on, so its recorded split must be the split this
data gives: the same validation lines (and, ideally, the same file by sha256) and the same label set. Otherwise it is refused with a
reason rather than scored on its own training rows.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SplitFacts:
    """What the benchmark's own split looks like, to compare with a model's training_info.json."""

    labels: list[str]
    seed: int
    val_lines: list[int]
    data_sha256: str
    val_rows_sha256: str = ""  # shared.data.rows_digest of the validation rows: order-free


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
    digest = split.get("val_rows_sha256")
    if digest is not None:
        if digest == facts.val_rows_sha256:
            return None
        return (f"its validation rows differ from this data's ({split.get('val_count')} vs {len(facts.val_lines)} rows): "
                "scoring it here would count rows it trained on; benchmark it with the data it was trained on")
    val_lines = split.get("val_lines")  # versions written before the content-hash split
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
