"""Which labelled rows are probably labelled wrong: out-of-fold class probabilities by stratified k-fold
cross-validation, then confident learning (cleanlab's find_label_issues), ranked by label quality.

Two methods share everything but the model of each fold:
- `quick`: the ensemble's n-gram model (classifiers/ngram.py: word 1-2 + char 2-5 TF-IDF, balanced logistic
  regression), a minute or two on a 2-core CPU for 2,400 rows;
- `thorough`: the fine-tune job's own recipe per fold (worker/training/out_of_fold.py, imported only then, so the
  quick path and the API stay torch-free): the transformer blended with the n-gram model, the epoch and the blend
  weight chosen per fold by cross-fitting on the held-out fold's two halves (each half judged by the choice the
  other half made), early stopping off, nothing published; `epochs` (default the fine-tune job's) per fold.
The rows are never those of a whole file: the caller passes the labelled rows only.
"""

import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from shared.data import Example

# Label quality = cleanlab's self-confidence (the out-of-fold probability of the given label). On the dev set with 5 %
# flipped labels and the calibrated-SVM n-gram model it put more flipped rows in the top N than confidence-weighted
# entropy on each of 3 seeds (precision at N 0.754 against 0.728 with one calibrated SVM, 0.768 against 0.742 with
# five; perf/labelling.py), as it did for `thorough`
# (0.765 against 0.756). Entropy led (0.734 against 0.717) only with the logistic regression used before.
RANKED_BY = "self_confidence"


@dataclass(frozen=True)
class SuspectedIssue:
    index: int  # position in the sequences given to audit_labels
    given: str
    suggested: str
    given_probability: float  # out-of-fold probability of the given label
    suggested_probability: float
    score: float  # label quality in [0, 1]; lower = more likely wrong (ranked ascending)


@dataclass(frozen=True)
class AuditResult:
    issues: list[SuspectedIssue]  # ranked, most likely wrong first
    issues_by_label: dict[str, int]  # given label -> suspected issues (every label present, 0 allowed)
    labels: list[str]  # canonical (sorted) label order of the probability columns
    folds: int
    method: str


def audit_labels(rows: Sequence[Example], *, method: Literal["quick", "thorough"] = "quick", folds: int = 5,
                 seed: int = 0, base_model: str = "minilm", on_fold: Callable[[int, int], None] | None = None,
                 emit: Callable[..., None] | None = None, epochs: int | None = None) -> AuditResult:  # fmt: skip
    """Suspected label issues among `rows`, ranked. Raises ValueError (one sentence) when a label has fewer rows
    than `folds` (each fold must hold it out once and still train on it), or fewer than two labels are present."""
    labels, given = check_rows(rows, folds)
    if method not in ("quick", "thorough"):
        raise ValueError(f"method must be quick or thorough, got {method!r}")
    probs = out_of_fold(rows, given, labels, method=method, folds=folds, seed=seed, base_model=base_model,
                        on_fold=on_fold, emit=emit or _quiet, epochs=epochs)  # fmt: skip
    issues = find_issues(given, probs, labels)
    by_label = {label: 0 for label in labels}
    for issue in issues:
        by_label[issue.given] += 1
    return AuditResult(issues, by_label, labels, folds, method)


def check_rows(rows: Sequence[Example], folds: int) -> tuple[list[str], np.ndarray]:
    """The canonical labels and each row's label id; ValueError naming the label that is too rare."""
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.label] = counts.get(row.label, 0) + 1
    if len(counts) < 2:
        raise ValueError(f"an audit needs labelled rows of at least two labels, found {len(counts)}")
    rare = sorted((n, label) for label, n in counts.items() if n < folds)
    if rare:
        n, label = rare[0]
        raise ValueError(f"label {label!r} has {n} labelled row{'s' if n != 1 else ''}, fewer than the {folds} a "
                         f"{folds}-fold audit needs: label more rows of it or use fewer folds")  # fmt: skip
    labels = sorted(counts)
    index = {label: i for i, label in enumerate(labels)}
    return labels, np.array([index[row.label] for row in rows], dtype=int)


def out_of_fold(rows, given, labels, *, method, folds, seed, base_model="minilm", on_fold=None, emit=None,
                epochs=None) -> np.ndarray:  # fmt: skip
    """(rows, labels) probabilities, each row's from a model that never saw it (stratified k-fold, `seed`)."""
    from sklearn.model_selection import StratifiedKFold

    emit = emit or _quiet
    splits = list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(np.zeros(len(given)), given))
    probs = np.zeros((len(rows), len(labels)))
    with _fold_model(method, labels, base_model, epochs, seed) as fit_and_predict:
        for k, (train, held_out) in enumerate(splits, start=1):
            emit("log", f"fold {k}/{folds}: {method} model on {len(train)} rows, judging {len(held_out)}")
            probs[held_out] = fit_and_predict([rows[i] for i in train], [rows[i] for i in held_out],
                                              _in_fold(emit, k, folds))  # fmt: skip
            if on_fold is not None:
                on_fold(k, folds)
    return probs


def find_issues(given: np.ndarray, probs: np.ndarray, labels: list[str], ranked_by: str = RANKED_BY,
                **cleanlab_kwargs) -> list[SuspectedIssue]:  # fmt: skip
    """cleanlab's confident learning over the out-of-fold probabilities, most likely wrong first."""
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    # n_jobs=1: cleanlab otherwise forks a multiprocessing pool, which can deadlock in a process that already
    # runs threads (the API's test process hung on it); at these sizes one process takes milliseconds.
    flagged = find_label_issues(given, probs, return_indices_ranked_by=ranked_by, **{"n_jobs": 1, **cleanlab_kwargs})
    quality = get_label_quality_scores(given, probs, method=ranked_by)
    issues = []
    for i in flagged:
        others = probs[i].copy()
        others[given[i]] = -1.0  # the suggestion is the best label other than the given one
        suggested = int(others.argmax())
        issues.append(SuspectedIssue(int(i), labels[given[i]], labels[suggested], round(float(probs[i, given[i]]), 6),
                                     round(float(probs[i, suggested]), 6), round(float(quality[i]), 6)))  # fmt: skip
    return issues


@contextmanager
def _fold_model(method: str, labels: list[str], base_model: str, epochs: int | None, seed: int):
    """fit_and_predict(train, held_out, emit) -> the held-out rows' probabilities, for `method`."""
    if method == "quick":
        from classifiers.ngram import NgramModel

        yield lambda train, held_out, _emit: NgramModel.fit(train, [e.label for e in train], labels).probabilities(held_out)
        return
    from shared.job_schema import DEFAULT_EPOCHS
    from worker.training.out_of_fold import audit_config, fold_probabilities

    with tempfile.TemporaryDirectory(prefix="avocet-audit-") as tmp:
        config = audit_config(base_model, labels, epochs or DEFAULT_EPOCHS, seed, Path(tmp))
        yield lambda train, held_out, emit: fold_probabilities(config, labels, train, held_out, emit)


def _in_fold(emit, k: int, folds: int):
    """The fold's fine-tune events (its steps count from 0 each fold) say which fold they belong to."""
    return lambda type_, message, **fields: emit(type_, f"fold {k}/{folds}: {message}", fold=k, folds=folds, **fields)


def _quiet(*_args, **_fields) -> None:
    pass
