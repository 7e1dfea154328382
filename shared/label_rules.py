"""The bounds on a label set, wherever it comes from: an explicit `labels` list (the job schema checks those), a
dataset's own labels (at upload, and for a job on a dataset stored before these bounds), AVOCET_LABELS.

Why: the confusion matrix grows with the square of the label count and is written into training_info.json and the
model card, which the API parses on every model listing. The bounds are the job schema's (shared/job_schema.py):
at most MAX_LABELS labels, each at most MAX_LABEL_CHARS characters of LABEL_PATTERN. A refusal names the bound
(`labels: count|length|pattern: ...`).
"""

import re
from collections.abc import Iterable
from typing import Any

from shared import datasets
from shared.job_schema import LABEL_PATTERN, MAX_LABELS

MAX_LABEL_CHARS = 64  # LABEL_PATTERN's own limit, checked first so the refusal can say "length"
LABEL_RULE = "letters, digits, '_', '.' and '-', starting with a letter or digit"


class LabelBoundError(ValueError):
    """A label set past a bound; the message names it."""


def label_problem(labels: Iterable[str]) -> str | None:
    """`labels: <bound>: ...` for the first bound the set breaks, or None."""
    labels = list(labels)
    if len(labels) > MAX_LABELS:
        return f"labels: count: {len(labels)} different labels, at most {MAX_LABELS}; merge or drop some classes"
    for label in labels:
        if len(label) > MAX_LABEL_CHARS:
            return f"labels: length: label {label[:20]!r}... has {len(label)} characters, at most {MAX_LABEL_CHARS}"
        if not re.fullmatch(LABEL_PATTERN, label):
            return f"labels: pattern: label {label!r} must be {LABEL_RULE}"
    return None


def check_labels(labels: Iterable[str]) -> None:
    if problem := label_problem(labels):
        raise LabelBoundError(problem)


def check_job_labels(data: str | None, labels: list[str] | None, settings: Any) -> None:
    """A job without `labels` on an uploaded dataset trains on the dataset's own labels: bound those too. A dataset
    id with no labelled row at all (an inbox export) has nothing to train on."""
    check_labelled(data, settings)
    if labels is not None or data is None or data == datasets.SCORE_FILE_ID or not datasets.is_dataset_id(data):
        return  # an explicit list (the schema's bounds), or the configured labels (bounded in settings)
    meta = datasets.get(settings.data_dir, settings.score_file, data)
    if meta and (problem := label_problem(meta.get("labels") or {})):
        raise LabelBoundError(f"{problem} (dataset {data}); pass `labels` to train on at most {MAX_LABELS} of them")


def check_labelled(data: str | None, settings: Any) -> None:
    """A fine-tune trains on the labelled rows only: a dataset (id) without one is refused before it is queued."""
    if data is not None and not datasets.is_dataset_id(data):
        return  # a file name: its reader says what is wrong with it
    meta = datasets.get(settings.data_dir, settings.score_file, data or datasets.SCORE_FILE_ID)
    if meta and meta.get("rows") and not meta.get("labelled_rows"):
        raise LabelBoundError(f"labels: none: dataset {meta['id']} has {meta['rows']} rows and none has a label, so "
                              "there is nothing to train on; label some rows (POST /api/models/{name}/score ranks "
                              "the ones to label first) and upload it again")  # fmt: skip
