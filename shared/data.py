"""Reading and validating the labelled score file, and the one train/validation split everybody uses.

Every problem is raised as a DataError whose message names the file, the line and the fix; nothing is written here.
"""

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from collections.abc import Iterable
from pathlib import Path

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("subject", "body", "label")
TEXT_FIELDS = ("subject", "body")  # a row without a label (missing or null) is an unlabelled row: audit/score read it
ID_CHARS = 200  # a row's `id` is the labelling tool's: kept (cut to this) so results can point back at the row
BODY_CHARS = 400
SPLIT_SEED = 42
VAL_FRACTION = 0.2


class DataError(ValueError):
    """Input the pipeline cannot train on; the message says what to fix."""


@dataclass(frozen=True)
class Example:
    subject: str
    body: str
    label: str
    line: int

    @property
    def text(self) -> str:
        return model_text(self.subject, self.body)


@dataclass(frozen=True)
class Row:
    """A dataset row whose label may be missing (an inbox export): what the audit and score jobs read. `line` is the
    1-based line number in the file, `id` the row's own `id` field (string or number) when it has one."""

    subject: str
    body: str
    label: str | None
    line: int
    id: str | None = None

    def example(self) -> Example:
        """The labelled row the trainers take; only for a row with a label."""
        if self.label is None:
            raise ValueError(f"line {self.line} has no label")
        return Example(self.subject, self.body, self.label, self.line)


@dataclass
class LoadedData:
    examples: list[Example]
    labels: list[str]  # the labels that remain, in canonical order
    dropped: Counter = field(default_factory=Counter)  # non-canonical label -> rows dropped
    skipped: Counter = field(default_factory=Counter)  # too-rare label -> rows skipped
    warnings: list[str] = field(default_factory=list)


def file_sha256(path: Path | str) -> str:
    """Identifies the exact score file a model was trained on (recorded in training_info.json)."""
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_text(subject: str, body: str) -> str:
    """The one input format, for training and inference alike."""
    return f"{subject} [SEP] {body[:BODY_CHARS]}"


def read_jsonl(path: Path) -> list[Example]:
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"score file not found: {path.resolve()} (set AVOCET_SCORE_FILE or pass --data PATH; "
            "data/email_score.jsonl.example shows the format)"
        )
    text = path.read_bytes().decode("utf-8", errors="replace")  # bytes: text mode would also split on a lone \r
    rows, problems = scan_rows(split_lines(text), max_problems=1)
    if problems:
        number, problem = problems[0]
        raise DataError(f"{path}:{number}: {problem}")
    examples = labelled(rows)
    if rows and not examples:
        raise DataError(f"{path}: none of its {len(rows)} rows has a label: training needs labelled rows (score the "
                        "file with a published model, label some rows, then train)")  # fmt: skip
    return examples


def split_lines(text: str) -> list[str]:
    """The one line rule, for the training loader and the upload check alike: JSONL lines end at '\\n' only.
    str.splitlines() would also split at U+2028, U+0085, form feed..., which JSON strings may hold raw; a CRLF
    line keeps its '\\r', which JSON reads as whitespace."""
    return text.split("\n")


def labelled(rows: Iterable[Row]) -> list[Example]:
    """The rows that have a label, as the Examples training uses (unlabelled rows are for audit and score only)."""
    return [row.example() for row in rows if row.label is not None]


def scan_lines(lines: Iterable[str], max_problems: int = 20) -> tuple[list[Example], list[tuple[int, str]]]:
    """Parse JSONL lines (split_lines); returns the labelled rows and the first `max_problems` problems."""
    rows, problems = scan_rows(lines, max_problems)
    return labelled(rows), problems


def scan_rows(lines: Iterable[str], max_problems: int = 20) -> tuple[list[Row], list[tuple[int, str]]]:
    """Parse JSONL lines (split_lines); returns every row, labelled or not, and the first `max_problems` problems
    (line, problem)."""
    rows, problems = [], []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rows.append(_parse_line(number, raw))
        except DataError as exc:
            problems.append((number, str(exc)))
            if len(problems) >= max_problems:
                break
    return rows, problems


def _parse_line(number: int, raw: str) -> Row:
    try:
        row = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg}); each line must be one JSON object") from exc
    except RecursionError:
        raise DataError("nested too deeply to read; each line must be one flat JSON object") from None
    except ValueError as exc:  # e.g. an integer longer than Python reads
        raise DataError(f"not readable JSON ({exc}); each line must be one JSON object") from None
    if not isinstance(row, dict):
        raise DataError("expected a JSON object with subject, body and label")
    for name in TEXT_FIELDS:
        if not isinstance(row.get(name), str):
            problem = "is missing" if name not in row else "must be a string"
            raise DataError(f"field {name!r} {problem} (required: {', '.join(REQUIRED_FIELDS)}; label may be "
                            "missing or null on rows not labelled yet)")  # fmt: skip
    label = row.get("label")
    if label is not None and not isinstance(label, str):
        raise DataError("field 'label' must be a string (or null on a row not labelled yet)")
    if label is not None and not label.strip():
        raise DataError("field 'label' is empty (leave it out, or null, on a row not labelled yet)")
    if not (row["subject"].strip() or row["body"].strip()):
        raise DataError("empty text: 'subject' and 'body' are both empty")
    return Row(row["subject"], row["body"], label.strip() if label is not None else None, number, _row_id(row))


def _row_id(row: dict) -> str | None:
    """The row's `id` as text when it is a string or a number (anything else is not an id the results can echo)."""
    value = row.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    return str(value)[:ID_CHARS]


def load_examples(path: Path, labels: list[str]) -> LoadedData:
    """Read, drop non-canonical labels, skip classes with fewer than 2 rows; fail when nothing trainable is left."""
    examples = read_jsonl(path)
    allowed = set(labels)
    kept = [e for e in examples if e.label in allowed]
    data = LoadedData(kept, [], dropped=Counter(e.label for e in examples if e.label not in allowed))
    if data.dropped:
        names = ", ".join(f"{label} ({n})" for label, n in sorted(data.dropped.items()))
        data.warnings.append(f"dropped {sum(data.dropped.values())} rows whose label is not in the label set: {names}")
    counts = Counter(e.label for e in kept)
    data.skipped = Counter({label: n for label, n in counts.items() if n < 2})
    if data.skipped:
        names = ", ".join(sorted(data.skipped))
        data.warnings.append(f"skipped classes with fewer than 2 samples (cannot be split): {names}")
        data.examples = [e for e in kept if e.label not in data.skipped]
    if not data.examples:
        raise DataError(
            f"{path}: no rows left after filtering; allowed labels are {', '.join(labels)} "
            "(pass --labels or set AVOCET_LABELS to train on another label set)"
        )
    data.labels = [label for label in labels if label in counts and label not in data.skipped]
    if len(data.labels) < 2:
        raise DataError(f"{path}: need at least two classes with 2+ rows each, found {data.labels or 'none'}")
    return data


def row_key(example: Example) -> str:
    """A row's identity by content (label, subject, body), not by its place in the file."""
    import hashlib

    return hashlib.sha256(f"{example.label}\x1f{example.subject}\x1f{example.body}".encode()).hexdigest()


def rows_digest(examples: Iterable[Example]) -> str:
    """One hash for a set of rows, whatever their order (training_info.json records the validation rows' one)."""
    import hashlib

    return hashlib.sha256("\n".join(sorted(row_key(e) for e in examples)).encode()).hexdigest()


def split_examples(
    examples: list[Example], seed: int = SPLIT_SEED, val_fraction: float = VAL_FRACTION
) -> tuple[list[Example], list[Example], list[str]]:
    """Stratified split decided by each row's content, so shuffling the file changes neither side, and a row keeps
    its side while the file grows. Per label, rows are ranked by a seeded hash of their content and the first ones
    validate; how many each label gives is its share of the validation size (largest remainders), and every label
    keeps at least one row in train. Both sides come back in that hash order, the same for any order of the file."""
    import hashlib

    def rank(example: Example) -> tuple[str, int]:
        return hashlib.sha256(f"{seed}:{row_key(example)}".encode()).hexdigest(), example.line

    by_label: dict[str, list[Example]] = {}
    for example in sorted(examples, key=rank):
        by_label.setdefault(example.label, []).append(example)
    n_val = max(1, round(len(examples) * val_fraction))
    quotas = _quotas({label: len(rows) for label, rows in by_label.items()}, n_val)
    train, val = [], []
    for label in sorted(by_label):
        rows = by_label[label]
        val += rows[: quotas[label]]
        train += rows[quotas[label] :]
    train.sort(key=rank)
    val.sort(key=rank)
    notes = []
    starved = sorted(label for label, rows in by_label.items() if len(rows) >= 2 and quotas[label] == 0)
    if starved:
        notes.append(
            f"only {len(examples)} rows for {len(by_label)} classes: {len(starved)} classes have no validation row "
            f"({', '.join(starved)}); their scores cannot be judged"
        )
    return train, val, notes


def _quotas(counts: dict[str, int], n_val: int) -> dict[str, int]:
    """Validation rows per label: each label's share of n_val, rounded by largest remainder (ties by name), never
    more than its count minus one (one row stays in train)."""
    total = sum(counts.values())
    exact = {label: n * n_val / total for label, n in counts.items()}
    quotas = {label: min(int(share), max(0, counts[label] - 1)) for label, share in exact.items()}
    order = sorted(counts, key=lambda label: (-(exact[label] - int(exact[label])), label))
    left = n_val - sum(quotas.values())
    for label in order * 2:
        if left <= 0:
            break
        if quotas[label] < counts[label] - 1:
            quotas[label] += 1
            left -= 1
    return quotas
