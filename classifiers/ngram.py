"""The n-gram half of the ensemble: TF-IDF word 1-2 grams and character 2-5 grams (within words) feeding a balanced
linear SVM fitted on every row, its scores calibrated into probabilities (sigmoid, on 5-fold out-of-fold scores),
on the subject and the first 3,000 body characters.

Why this and not logistic regression: on 4 outer splits of the dev set the calibrated SVM scored 0.868 macro-F1 (full
file) and 0.667 (500 rows) against 0.839 and 0.607 for the balanced logistic regression (C=10) shipped before, and
fits in less time (perf/quality.py; README "Is a fine-tune worth it?"). A training set where some label has fewer
than 2 rows cannot be cross-validated: it gets that logistic regression instead, and old versions saved with it load.

It reads more of the body than the transformer (400 characters, ~96 tokens), which is where most of what it adds
comes from on long office email; fitting takes seconds on CPU. Saved with skops (`ngram.skops`), never pickle:
loading names every type it may build, so a tampered file is refused instead of running code. The vectorizers' term
lists go beside it as plain numpy string arrays (`ngram_vocabulary.npz`, read without pickle): skops writes a dict
entry by entry as annotated JSON, which for the full dev set's 240,000 terms was a 200 MB file and, with numpy integer
values, 117 s to write (measured; now 2.5 s, 14 MB, and 0.25 s to load instead of 8 s).
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from classifiers.base import Row, row_fields

NGRAM_FILE = "ngram.skops"
VOCABULARY_FILE = "ngram_vocabulary.npz"
NGRAM_BODY_CHARS = 3000
CALIBRATION_FOLDS = 5
# The only types a saved n-gram model may contain (skops refuses any other): what fit() builds, nothing more.
TRUSTED_TYPES = [
    "numpy.dtype",
    "numpy.float64",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
    "sklearn.svm._classes.LinearSVC",
]


def ngram_text(subject: str, body: str) -> str:
    # NUL out: numpy string arrays drop trailing NULs, so a term ending in one would not survive the saved vocabulary
    return f"{subject}\n{body[:NGRAM_BODY_CHARS]}".replace("\x00", " ")


def make_pipeline(smallest_label_rows: int = CALIBRATION_FOLDS):
    """Features and classifier, untrained; `smallest_label_rows` decides how many calibration folds fit (at least 2)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.svm import LinearSVC

    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float64)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2,
                                  max_features=200_000, dtype=np.float64)),
    ])  # fmt: skip
    folds = min(CALIBRATION_FOLDS, smallest_label_rows)
    if folds >= 2:
        svm = LinearSVC(class_weight="balanced", random_state=0)
        # ensemble=False: one SVM on every row, calibrated on the folds' out-of-fold scores. Against the five fold
        # SVMs averaged (sklearn's default): macro-F1 0.870 vs 0.868 (full) and 0.672 vs 0.667 (500 rows) over 4
        # outer splits, and a fifth of the weights to save and to predict with.
        classifier = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
    else:
        classifier = LogisticRegression(C=10, class_weight="balanced", max_iter=3000)
    return Pipeline([("features", features), ("classifier", classifier)])


class NgramModel:
    """Probabilities over a fixed label order (the transformer's), so the two can be averaged column by column."""

    def __init__(self, pipeline, labels: Sequence[str]):
        self.pipeline = pipeline
        self.labels = list(labels)
        known = {str(label): i for i, label in enumerate(pipeline.classes_)}
        self._columns = [known.get(label) for label in self.labels]

    @classmethod
    def fit(cls, rows: Sequence[Row], targets: Sequence[str], labels: Sequence[str]) -> "NgramModel":
        if len(set(targets)) < 2:
            raise ValueError("the n-gram model needs at least two labels among its training rows")
        pipeline = make_pipeline(min(Counter(targets).values()))
        pipeline.fit([ngram_text(*row_fields(row)) for row in rows], list(targets))
        return cls(pipeline, labels)

    @property
    def description(self) -> str:
        """What this model is, for training_info.json and the model card (versions saved before the SVM say LR)."""
        from sklearn.calibration import CalibratedClassifierCV

        calibrated = isinstance(self.pipeline.named_steps["classifier"], CalibratedClassifierCV)
        return f"word 1-2 + char 2-5 TF-IDF, {'calibrated linear SVM' if calibrated else 'logistic regression'}"

    def probabilities(self, rows: Iterable[Row]) -> np.ndarray:
        """(rows, labels) float64; a label the model never saw in training gets probability 0."""
        texts = [ngram_text(*row_fields(row)) for row in rows]
        out = np.zeros((len(texts), len(self.labels)))
        if texts:
            known = self.pipeline.predict_proba(texts)
            for column, source in enumerate(self._columns):
                if source is not None:
                    out[:, column] = known[:, source]
        return out

    def _vectorizers(self) -> dict:
        return dict(self.pipeline.named_steps["features"].transformer_list)

    def save(self, folder: Path) -> Path:
        import zipfile

        import skops.io as sio

        path, vectorizers = Path(folder) / NGRAM_FILE, self._vectorizers()
        vocabularies = {name: vectorizer.vocabulary_ for name, vectorizer in vectorizers.items()}
        np.savez_compressed(Path(folder) / VOCABULARY_FILE,
                            **{name: _terms_by_index(vocabulary) for name, vocabulary in vocabularies.items()})  # fmt: skip
        try:
            for vectorizer in vectorizers.values():
                vectorizer.vocabulary_ = {}
            sio.dump(self.pipeline, path, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        finally:
            for name, vectorizer in vectorizers.items():
                vectorizer.vocabulary_ = vocabularies[name]
        return path

    @classmethod
    def load(cls, folder: Path, labels: Sequence[str]) -> "NgramModel":
        """Refuses (skops' UntrustedTypesFoundException) a file holding any type outside TRUSTED_TYPES. Versions
        saved before the separate term lists keep their vocabularies inside ngram.skops and load as they are."""
        import skops.io as sio

        model = cls(sio.load(Path(folder) / NGRAM_FILE, trusted=TRUSTED_TYPES), labels)
        terms_file = Path(folder) / VOCABULARY_FILE
        if terms_file.is_file():
            with np.load(terms_file, allow_pickle=False) as saved:
                for name, vectorizer in model._vectorizers().items():
                    terms = saved[name].tolist()
                    vectorizer.vocabulary_ = dict(zip(terms, range(len(terms))))
        return model


def _terms_by_index(vocabulary: dict) -> np.ndarray:
    terms = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term
    return np.array(terms, dtype=str)
