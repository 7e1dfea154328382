"""Datasets: uploads stored content-addressed in the data folder, and the configured score file listed
beside them. Torch-free; the API stores and describes them, the training CLI resolves a job's dataset id.

Layout: <data_dir>/datasets/<id>.jsonl (the bytes as uploaded) and <id>.json (name, sha256, size, rows,
labelled_rows, labels, created_at). Rows may lack a label (an inbox export: audit and score read them, training
skips them); `labels` counts the labelled rows. The id is `ds-` + the first 16 hex digits of the sha256, so the same bytes always get the same id and
a second upload of them is the first one. The score file (AVOCET_SCORE_FILE, where the labelling tool writes) is the
dataset `score-file`, described afresh whenever its size or modification time changes.
"""

import hashlib
import json
import re
import statistics
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from shared.atomic_files import write_atomically
from shared.data import DataError, Row, scan_rows, split_lines

SCORE_FILE_ID = "score-file"
ID_PATTERN = r"^(ds-[0-9a-f]{16}|score-file)$"
PREVIEW_ROWS = 5
_score_cache: dict[tuple, dict] = {}


class QuotaError(DataError):
    """Storing the upload would pass AVOCET_MAX_DATASETS or AVOCET_DATASETS_MAX_TOTAL_BYTES; the message says which."""


class DatasetProblems(DataError):
    """The upload is not a JSONL file of rows; `problems` lists (line, problem), first ones first."""

    def __init__(self, problems: list[tuple[int, str]], message: str) -> None:
        super().__init__(message)
        self.problems = problems


def folder(data_dir: Path) -> Path:
    return Path(data_dir) / "datasets"


def is_dataset_id(value: str) -> bool:
    return bool(re.fullmatch(ID_PATTERN, value))


def store(
    data_dir: Path, content: bytes, name: str, max_count: int | None = None, max_total_bytes: int | None = None,
    label_problem: Callable[[list[str]], str | None] | None = None,
) -> tuple[dict, bool]:  # fmt: skip
    """Validate and store an upload; returns (its metadata, created). Nothing is written when it is invalid, when
    `label_problem` (shared/label_rules.py, given by the caller: it needs the job schema, which imports this module)
    finds its labels past a bound, or when a new dataset would pass `max_count` datasets or `max_total_bytes` in all
    (QuotaError)."""
    rows = parse(content)
    if label_problem is not None:
        _check_labels(rows, label_problem)
    digest = hashlib.sha256(content).hexdigest()
    dataset_id = f"ds-{digest[:16]}"
    meta_path = folder(data_dir) / f"{dataset_id}.json"
    if meta_path.is_file():
        return json.loads(meta_path.read_text(encoding="utf-8")), False
    _check_quota(data_dir, len(content), max_count, max_total_bytes)
    meta = {"id": dataset_id, "name": name, "sha256": digest, "size_bytes": len(content), **counts(rows),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "source": "upload"}  # fmt: skip
    write_atomically(folder(data_dir) / f"{dataset_id}.jsonl", content)
    write_atomically(meta_path, json.dumps(meta, indent=2).encode())  # last: its presence means complete
    return meta, True


def counts(rows: list[Row]) -> dict:
    """`rows` (all), `labelled_rows` and `labels` ({label: labelled rows}) of a dataset's metadata."""
    labels = Counter(r.label for r in rows if r.label is not None)
    return {"rows": len(rows), "labelled_rows": sum(labels.values()), "labels": dict(sorted(labels.items()))}


def read_rows(path: Path) -> list[Row]:
    """Every readable row of a stored dataset, labelled or not (what the audit and score jobs read)."""
    return scan_rows(split_lines(Path(path).read_bytes().decode("utf-8", "replace")))[0]


def parse(content: bytes) -> list[Row]:
    """The rows of a JSONL upload, or DatasetProblems naming the first bad lines."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetProblems([], f"not UTF-8 text (byte {exc.start}): save the file as UTF-8 JSONL") from None
    rows, problems = scan_rows(split_lines(text))
    if problems:
        raise DatasetProblems(problems, f"{len(problems)}{'+' if len(problems) >= 20 else ''} bad lines, first at "
                                        f"line {problems[0][0]}: {problems[0][1]}")  # fmt: skip
    if not rows:
        raise DatasetProblems([], "the file holds no rows: one JSON object per line with subject, body and label")
    return rows


def _check_quota(data_dir: Path, size: int, max_count: int | None, max_total_bytes: int | None) -> None:
    stored = [m for m in map(_read_meta, folder(data_dir).glob("ds-*.json")) if m] if folder(data_dir).is_dir() else []
    fix = "delete datasets no job needs (DELETE /api/datasets/{id}) or raise the setting"
    if max_count is not None and len(stored) >= max_count:
        raise QuotaError(f"dataset quota: {len(stored)} datasets are stored, at most {max_count} "
                         f"(AVOCET_MAX_DATASETS): {fix}")  # fmt: skip
    total = sum(int(m.get("size_bytes") or 0) for m in stored)
    if max_total_bytes is not None and total + size > max_total_bytes:
        raise QuotaError(f"dataset quota: {total} bytes are stored and this upload adds {size}, at most "
                         f"{max_total_bytes} in all (AVOCET_DATASETS_MAX_TOTAL_BYTES): {fix}")  # fmt: skip


def _check_labels(examples: list[Row], label_problem: Callable[[list[str]], str | None]) -> None:
    """DatasetProblems naming the bound and the first line of a label that breaks it."""
    labels = dict.fromkeys(e.label for e in examples if e.label is not None)
    if problem := label_problem(labels):
        bad = next((e for e in examples if e.label is not None and label_problem([e.label])), None)
        raise DatasetProblems([(bad.line, problem)] if bad else [], problem)


def list_all(data_dir: Path, score_file: Path) -> list[dict]:
    """The score file first (when it exists), then uploads, newest first."""
    uploads = [_read_meta(p) for p in folder(data_dir).glob("ds-*.json")] if folder(data_dir).is_dir() else []
    uploads = sorted((m for m in uploads if m), key=lambda m: m["created_at"], reverse=True)
    score = score_file_meta(score_file)
    return ([score] if score else []) + uploads


def get(data_dir: Path, score_file: Path, dataset_id: str) -> dict | None:
    if dataset_id == SCORE_FILE_ID:
        return score_file_meta(score_file)
    if not is_dataset_id(dataset_id):
        return None
    return _read_meta(folder(data_dir) / f"{dataset_id}.json")


def resolve(data: str | None, settings) -> tuple[Path, list[str], str | None]:
    """A job's `data` as (file, default label set, dataset id): a dataset id names an upload (its own labels) or
    the score file (the configured labels, as the seed says); anything else is a path an operator gave on the box."""
    if data is None or data == SCORE_FILE_ID:
        return Path(settings.score_file), list(settings.labels), SCORE_FILE_ID
    if not is_dataset_id(data):
        return Path(data), list(settings.labels), None
    path, meta = path_of(settings.data_dir, settings.score_file, data), get(settings.data_dir, settings.score_file, data)
    if path is None or meta is None:
        raise DataError(f"no dataset {data!r}: upload it (POST /api/datasets) or list them (GET /api/datasets)")
    return path, sorted(meta["labels"]), data


def path_of(data_dir: Path, score_file: Path, dataset_id: str) -> Path | None:
    if dataset_id == SCORE_FILE_ID:
        return Path(score_file) if Path(score_file).is_file() else None
    if not is_dataset_id(dataset_id):
        return None
    path = folder(data_dir) / f"{dataset_id}.jsonl"
    return path if path.is_file() and (folder(data_dir) / f"{dataset_id}.json").is_file() else None


def delete(data_dir: Path, dataset_id: str) -> bool:
    """Remove an upload (the metadata first, so a half-deleted dataset is simply absent)."""
    meta = folder(data_dir) / f"{dataset_id}.json"
    if not is_dataset_id(dataset_id) or dataset_id == SCORE_FILE_ID or not meta.is_file():
        return False
    meta.unlink()
    (folder(data_dir) / f"{dataset_id}.jsonl").unlink(missing_ok=True)
    return True


def score_file_meta(score_file: Path) -> dict | None:
    """The score file as a dataset; re-read only when its size or modification time changed."""
    try:
        stat = Path(score_file).stat()
    except OSError:
        return None
    key = (str(score_file), stat.st_size, stat.st_mtime_ns)
    if key not in _score_cache:
        content = Path(score_file).read_bytes()
        rows, problems = scan_rows(split_lines(content.decode("utf-8", "replace")))
        _score_cache.clear()
        _score_cache[key] = {
            "id": SCORE_FILE_ID, "name": Path(score_file).name, "sha256": hashlib.sha256(content).hexdigest(),
            "size_bytes": stat.st_size, **counts(rows),
            "created_at": datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(timespec="seconds"),
            "source": "score_file", "problems": len(problems),
        }  # fmt: skip
    return dict(_score_cache[key])


def describe(path: Path, meta: dict, label_set: list[str]) -> dict:
    """Details for GET /api/datasets/{id}: what the label set would drop or skip, text lengths, a few rows."""
    examples = read_rows(path)
    allowed, by_label = set(label_set), Counter(e.label for e in examples if e.label is not None)
    dropped = {label: n for label, n in sorted(by_label.items()) if label not in allowed}
    skipped = {label: n for label, n in sorted(by_label.items()) if label in allowed and n < 2}
    return {
        **meta, "label_set": label_set,
        "dropped": [{"label": k, "rows": n, "why": "not in the label set"} for k, n in dropped.items()]
        + [{"label": k, "rows": n, "why": "fewer than 2 rows: cannot be split"} for k, n in skipped.items()],
        "text_stats": {"subject_chars": _stats([len(e.subject) for e in examples]),
                       "body_chars": _stats([len(e.body) for e in examples])},
        "preview": [{"line": e.line, "subject": e.subject[:200], "body": e.body[:400], "label": e.label}
                    for e in examples[:PREVIEW_ROWS]],
    }  # fmt: skip


def _stats(values: list[int]) -> dict:
    if not values:
        return {"min": 0, "median": 0, "max": 0}
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def _read_meta(path: Path) -> dict | None:
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(meta, dict) and "labelled_rows" not in meta:  # stored before unlabelled rows: every row had one
        meta["labelled_rows"] = meta.get("rows", 0)
    return meta
