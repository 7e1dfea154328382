"""Macro-F1 on label ids, its bootstrap interval, and the paired interval of a difference between two classifiers.

Plain numpy over arrays of label ids (no models here), fast enough for 1,000 resamples of a few thousand rows.
Macro-F1 averages over the labels seen in the truth or the predictions, as scikit-learn does by default, so the
point estimate equals classification_report's. Resampling uses a fixed seed: the same rows give the same interval.
"""

import numpy as np

BOOTSTRAP_ROUNDS = 1000
BOOTSTRAP_SEED = 0
TOO_FEW_TO_JUDGE = 5  # validation rows of a label below which its F1 is flagged


def macro_f1(truth: np.ndarray, predicted: np.ndarray, n_labels: int) -> float:
    return float(_macro_f1_batch(np.asarray(truth)[None, :], np.asarray(predicted)[None, :], n_labels)[0])


def _macro_f1_batch(truth: np.ndarray, predicted: np.ndarray, n_labels: int) -> np.ndarray:
    """Macro-F1 of each row of (rounds, rows) label-id arrays."""
    rounds = truth.shape[0]
    offset = (np.arange(rounds) * n_labels)[:, None]
    size = rounds * n_labels
    hits = np.bincount((truth + offset)[truth == predicted], minlength=size).reshape(rounds, n_labels)
    true_n = np.bincount((truth + offset).ravel(), minlength=size).reshape(rounds, n_labels)
    pred_n = np.bincount((predicted + offset).ravel(), minlength=size).reshape(rounds, n_labels)
    denominator = true_n + pred_n
    f1 = np.divide(2 * hits, denominator, out=np.zeros(denominator.shape), where=denominator > 0)
    present = denominator > 0
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _resamples(rows: int, rounds: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, rows, size=(rounds, rows))


def interval(truth, predicted, n_labels: int, rounds: int = BOOTSTRAP_ROUNDS, seed: int = BOOTSTRAP_SEED) -> list[float]:
    """95 % percentile-bootstrap interval of macro-F1 over the rows, [low, high]."""
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    if len(truth) == 0:
        return [0.0, 0.0]
    index = _resamples(len(truth), rounds, seed)
    scores = _macro_f1_batch(truth[index], predicted[index], n_labels)
    return [round(float(np.percentile(scores, 2.5)), 5), round(float(np.percentile(scores, 97.5)), 5)]


def difference_interval(truth, new, old, n_labels: int, rounds: int = BOOTSTRAP_ROUNDS,
                        seed: int = BOOTSTRAP_SEED) -> tuple[float, list[float]]:  # fmt: skip
    """(new minus old macro-F1, its paired 95 % bootstrap interval): both scored on the same resampled rows."""
    truth, new, old = np.asarray(truth), np.asarray(new), np.asarray(old)
    point = macro_f1(truth, new, n_labels) - macro_f1(truth, old, n_labels)
    if len(truth) == 0:
        return 0.0, [0.0, 0.0]
    index = _resamples(len(truth), rounds, seed)
    deltas = _macro_f1_batch(truth[index], new[index], n_labels) - _macro_f1_batch(truth[index], old[index], n_labels)
    return round(point, 5), [round(float(np.percentile(deltas, 2.5)), 5), round(float(np.percentile(deltas, 97.5)), 5)]


def scored(truth, predicted, n_labels: int) -> dict:
    """Macro-F1 with its 95 % interval, and accuracy: the one score shape that training_info.json, the job record,
    the model card, the web view and the CLI show."""
    truth, predicted = np.asarray(truth, dtype=int), np.asarray(predicted, dtype=int)
    if not len(truth):
        return {"macro_f1": 0.0, "interval": [0.0, 0.0], "accuracy": 0.0}
    return {"macro_f1": round(macro_f1(truth, predicted, n_labels), 5), "interval": interval(truth, predicted, n_labels),
            "accuracy": round(float((truth == predicted).mean()), 5)}  # fmt: skip


def rows_judged(truth, labels: list[str]) -> dict:
    """How many rows the scores stand on, per label, and the labels with too few rows to judge their F1."""
    counts = np.bincount(np.asarray(truth, dtype=int), minlength=len(labels))
    return {"rows": int(len(truth)), "label_rows": {label: int(n) for label, n in zip(labels, counts)},
            "too_few_to_judge": [label for label, n in zip(labels, counts) if n < TOO_FEW_TO_JUDGE]}  # fmt: skip
