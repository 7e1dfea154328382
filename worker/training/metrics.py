"""Classification metrics shared by training, evaluation and the benchmark."""

from collections.abc import Sequence

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score


def classification_report(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Macro-F1 over the classes seen in truth or prediction (as scikit-learn does by default), plus details."""
    present = [label for label in labels if label in set(y_true) | set(y_pred)]
    per_class = f1_score(y_true, y_pred, labels=present, average=None, zero_division=0)
    return {
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class_f1": {label: float(score) for label, score in zip(present, per_class)},
        "confusion_matrix": {
            "labels": list(labels),
            "matrix": confusion_matrix(y_true, y_pred, labels=list(labels)).tolist(),
        },
    }
