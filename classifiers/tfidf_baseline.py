"""TfidfBaselineAdapter: the classic baseline, TF-IDF (1-2 grams, sublinear tf) + balanced logistic regression.

Fitted on the train split only, on the same text the fine-tuned models read (shared.data.model_text), so it is the
bar a fine-tune has to clear; these settings match the dev set README's published baseline.
"""

from collections.abc import Iterable, Sequence

from shared.data import Example, model_text
from classifiers.base import BatchClassifier, Row, row_fields


class TfidfBaselineAdapter(BatchClassifier):
    kind = "tfidf"

    def __init__(self, train: Sequence[Example], name: str = "tfidf"):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        if len({e.label for e in train}) < 2:
            raise ValueError("the TF-IDF baseline needs at least two classes in the train split")
        self.name = name
        self.pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(class_weight="balanced", max_iter=5000),
        )
        self.pipeline.fit([e.text for e in train], [e.label for e in train])
        self.labels = [str(label) for label in self.pipeline.classes_]

    def classify_batch(self, rows: Iterable[Row]) -> list[str]:
        texts = [model_text(*row_fields(row)) for row in rows]
        return [str(label) for label in self.pipeline.predict(texts)] if texts else []
