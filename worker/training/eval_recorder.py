"""The Trainer's compute_metrics: keeps every evaluation's validation probabilities (the honest score and the
ensemble weight are computed from them after training) and scores the transformer alone and its best blend.

The Trainer predicts windows (classifiers/token_windows.py); a row's probabilities are the mean of its windows', as
FineTunedAdapter computes them when the version serves."""

import numpy as np

from classifiers.token_windows import row_means
from worker.training.ensemble_choice import best_weight
from worker.training.scores import macro_f1


class EvalRecorder:
    def __init__(self, labels: list[str], ngram_probs: np.ndarray | None, window_rows: list[int]):
        self.labels = labels
        self.window_rows = np.asarray(window_rows, dtype=int)  # the row of each predicted window
        self.rows = int(self.window_rows.max()) + 1 if len(self.window_rows) else 0
        self.ngram_probs = ngram_probs  # rows in evaluation order, like the Trainer's predictions
        self.epoch_probs: list[np.ndarray] = []
        self.weights: list[float] = []  # the best transformer weight at each evaluation
        self.truth: np.ndarray | None = None

    def __call__(self, prediction) -> dict:
        logits = np.asarray(prediction.predictions, dtype=np.float64)
        probs = np.exp(logits - logits.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        probs = row_means(probs, self.window_rows, self.rows)
        self.truth = np.zeros(self.rows, dtype=int)
        self.truth[self.window_rows] = np.asarray(prediction.label_ids, dtype=int)
        self.epoch_probs.append(probs)
        weight, blended = best_weight(probs, self.ngram_probs, self.truth, len(self.labels))
        self.weights.append(weight)
        alone = probs.argmax(-1)
        metrics = {"macro_f1": macro_f1(self.truth, alone, len(self.labels)),
                   "accuracy": float((alone == self.truth).mean())}  # fmt: skip
        if self.ngram_probs is not None:
            metrics |= {"ensemble_f1": blended, "ensemble_weight": weight}
        return metrics
