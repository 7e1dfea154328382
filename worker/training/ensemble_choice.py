"""Which epoch and which blend of transformer and n-gram probabilities to publish, and an honest score for that choice.

The choice (epoch, transformer weight) is made on the validation rows, so scoring it on the same rows flatters it.
The honest score cross-fits instead: the validation rows are cut into two stratified halves, each half is predicted
with the epoch and weight chosen on the other half, and the two halves' predictions are scored together. Every row is
thus predicted by a choice that never saw it (the published model's choice, made on all rows, is at least as good
on average). Plain numpy over probability arrays: no model code here.
"""

from dataclasses import dataclass

import numpy as np

from worker.training.scores import macro_f1

WEIGHTS = tuple(round(i / 10, 1) for i in range(11))  # the transformer's share of the averaged probabilities


def blend(transformer: np.ndarray, ngram: np.ndarray | None, weight: float) -> np.ndarray:
    return transformer if ngram is None or weight >= 1 else weight * transformer + (1 - weight) * ngram


@dataclass(frozen=True)
class Choice:
    epoch_index: int  # which evaluation (0 = after the first epoch)
    weight: float
    f1: float


def best_weight(transformer, ngram, truth, n_labels: int, rows=None, weights=WEIGHTS) -> tuple[float, float]:
    """(weight, macro-F1) of the best blend on `rows` (default all); ties go to the weight nearest an even average,
    the most stable choice on few rows."""
    rows = np.arange(len(truth)) if rows is None else rows
    candidates = weights if ngram is not None else (1.0,)
    scored = []
    for weight in candidates:
        predicted = blend(transformer[rows], None if ngram is None else ngram[rows], weight).argmax(-1)
        scored.append((macro_f1(truth[rows], predicted, n_labels), -abs(weight - 0.5), weight))
    f1, _, weight = max(scored)
    return weight, f1


def choose(epoch_probs: list[np.ndarray], ngram, truth, n_labels: int, rows=None, weights=WEIGHTS) -> Choice:
    """The best (epoch, weight) on `rows`; the earliest epoch wins a tie, as in BestModelCallback."""
    best = None
    for index, probs in enumerate(epoch_probs):
        weight, f1 = best_weight(probs, ngram, truth, n_labels, rows, weights)
        if best is None or f1 > best.f1:
            best = Choice(index, weight, f1)
    return best


def halves(truth: np.ndarray) -> np.ndarray:
    """0/1 per row: within each label, rows alternate between the halves (rows come in their content-hash order)."""
    side = np.zeros(len(truth), dtype=int)
    for label in np.unique(truth):
        where = np.flatnonzero(truth == label)
        side[where[1::2]] = 1
    return side


def cross_fitted(epoch_probs: list[np.ndarray], ngram, truth, n_labels: int, weights=WEIGHTS) -> np.ndarray:
    """Predicted label ids for every row, each half predicted by the choice made on the other half."""
    return cross_fitted_probabilities(epoch_probs, ngram, truth, n_labels, weights).argmax(-1)


def cross_fitted_probabilities(epoch_probs: list[np.ndarray], ngram, truth, n_labels: int,
                               weights=WEIGHTS) -> np.ndarray:  # fmt: skip
    """(rows, labels): each half's probabilities from the (epoch, weight) chosen on the other half, so no row's own
    label takes part in the choice that predicts it (the label audit's thorough folds rely on that)."""
    truth = np.asarray(truth)
    side, out = halves(truth), np.zeros_like(epoch_probs[0], dtype=np.float64)
    for half in (0, 1):
        scoring, choosing = np.flatnonzero(side == half), np.flatnonzero(side != half)
        if len(scoring) == 0:
            continue
        choice = choose(epoch_probs, ngram, truth, n_labels, choosing if len(choosing) else scoring, weights)
        out[scoring] = blend(epoch_probs[choice.epoch_index], ngram, choice.weight)[scoring]
    return out
