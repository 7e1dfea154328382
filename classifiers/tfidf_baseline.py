"""TfidfBaselineAdapter: the classical bar in the benchmark, the strongest one measured (perf/quality.py): the
ensemble's own n-gram model (classifiers/ngram.py: word 1-2 + char 2-5 TF-IDF, calibrated linear SVM, 3,000 body
characters), fitted on the train split only. A fine-tune is compared against what a second of scikit-learn gives."""

from collections.abc import Iterable, Sequence

from classifiers.base import BatchClassifier, Row
from classifiers.ngram import NgramModel
from shared.data import Example


class TfidfBaselineAdapter(BatchClassifier):
    kind = "tfidf"

    def __init__(self, train: Sequence[Example], name: str = "tfidf"):
        labels = sorted({e.label for e in train})
        if len(labels) < 2:
            raise ValueError("the TF-IDF baseline needs at least two classes in the train split")
        self.name, self.labels = name, labels
        self.model = NgramModel.fit(train, [e.label for e in train], labels)

    def classify_batch(self, rows: Iterable[Row]) -> list[str]:
        rows = list(rows)
        return [self.labels[i] for i in self.model.probabilities(rows).argmax(-1)] if rows else []
