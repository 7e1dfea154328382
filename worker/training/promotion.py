"""Whether a new version becomes current: not when it is clearly worse than the current one on the new run's own
validation rows (the current version is scored on them too; "clearly" = the paired 95 % bootstrap interval of the
difference lies below zero). Policy `always` skips the comparison."""

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from shared.model_store import model_dir
from shared.model_versions import current_version
from worker.training.scores import difference_interval, macro_f1

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Promotion:
    promote: bool
    policy: str
    reason: str
    current_version: int | None = None
    current_macro_f1: float | None = None
    difference: float | None = None
    interval: list[float] | None = None

    def as_info(self) -> dict:
        return asdict(self)


def decide(config, labels: list[str], val_rows, truth: np.ndarray, predicted: np.ndarray, emit) -> Promotion:
    """Compare the new run's (honest) validation predictions with the current version's on the same rows."""
    current = current_version(config.models_dir, config.name)
    if config.promote == "always":
        return Promotion(True, "always", "promote is 'always': the new version becomes current", current)
    if current is None:
        return Promotion(True, config.promote, "no current version to compare with")
    try:
        old = _current_predictions(model_dir(config.models_dir, config.name), labels, val_rows)
    except Exception as exc:  # an unreadable old version must not block publishing the new one
        emit("warning", f"could not score current version {current} on the new validation rows ({exc}); "
                        "the new version becomes current")  # fmt: skip
        return Promotion(True, config.promote, f"current version {current} could not be scored", current)
    n = len(labels) + 1  # id len(labels): a label the current version knows but this run does not (always wrong)
    difference, interval = difference_interval(truth, predicted, old, n)
    current_f1 = round(macro_f1(truth, old, n), 5)
    if interval[1] < 0:
        reason = (f"clearly worse than current version {current} on this run's {len(truth)} validation rows "
                  f"(macro-F1 {current_f1 + difference:.3f} vs {current_f1:.3f}, difference {difference:+.3f}, 95 % "
                  f"interval {interval[0]:+.3f} to {interval[1]:+.3f}): kept as a non-current version")  # fmt: skip
        return Promotion(False, config.promote, reason, current, current_f1, difference, interval)
    reason = (f"not clearly worse than current version {current} (difference {difference:+.3f}, 95 % interval "
              f"{interval[0]:+.3f} to {interval[1]:+.3f})")  # fmt: skip
    return Promotion(True, config.promote, reason, current, current_f1, difference, interval)


def _current_predictions(folder: Path, labels: list[str], rows) -> np.ndarray:
    from classifiers.fine_tuned import FineTunedAdapter

    adapter = FineTunedAdapter(folder, precision="fp32")
    ids = {label: i for i, label in enumerate(labels)}
    chosen = adapter.probabilities([(e.subject, e.body) for e in rows]).argmax(-1).tolist()
    return np.array([ids.get(adapter.labels[i], len(labels)) for i in chosen], dtype=int)
