"""Out-of-fold probabilities from the fine-tuned recipe (transformer + n-gram blend), for the label audit's
`thorough` method (classifiers/label_audit.py): one fine-tune per fold, nothing published.

Each fold trains the default recipe (worker/training/trainer_setup.py) on the other folds and evaluates every epoch
on the held-out fold. The epoch and the blend weight are then chosen as the pipeline's honest score chooses them
(worker/training/ensemble_choice.py): the held-out fold is cut into two stratified halves and each half is predicted
by the (epoch, weight) that scores best on the other half, so a row's own label never picks the model that judges
it. Early stopping is off (patience = epochs): stopping would be decided by the held-out labels themselves.
"""

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from shared.data import Example

logger = logging.getLogger(__name__)
Emit = Callable[..., None]


def audit_config(base_model: str, labels: list[str], epochs: int, seed: int, models_dir: Path):
    """The fine-tune job's own defaults for `base_model` (learning rate, tokens, batch), with this seed and epochs."""
    from shared.job_schema import FinetuneParams
    from worker.training.pipeline import TrainConfig

    params = FinetuneParams(model=base_model, epochs=epochs, name="audit",
                            hyperparameters={"seed": seed, "early_stopping_patience": epochs})  # fmt: skip
    config = TrainConfig.from_params(params, data=models_dir / "unused.jsonl", labels=labels, models_dir=models_dir)
    return replace(config, promote="always")


def fold_probabilities(config, labels: list[str], train: Sequence[Example], held_out: Sequence[Example],
                       emit: Emit) -> np.ndarray:  # fmt: skip
    """(len(held_out), len(labels)) probabilities of the held-out rows, in their given order."""
    from transformers import set_seed

    from classifiers.ngram import NgramModel
    from worker.training.ensemble_choice import cross_fitted_probabilities
    from worker.training.trainer_setup import fit_transformer

    try:
        ngram = NgramModel.fit(train, [e.label for e in train], labels)
    except ValueError as exc:  # e.g. an empty vocabulary: the transformer alone judges this fold
        emit("warning", f"no n-gram model could be fitted on this fold ({exc}); using the transformer alone")
        ngram = None
    set_seed(config.seed)  # the new head's initial weights too, so a fold gives the same model every run
    with tempfile.TemporaryDirectory(prefix="avocet-audit-") as tmp:
        fit = fit_transformer(config, labels, list(train), list(held_out), Path(tmp), emit, ngram)
    recorder = fit.recorder
    if [labels[i] for i in recorder.truth] != [e.label for e in fit.val]:
        raise RuntimeError("the Trainer returned the held-out rows in another order than they were given")
    probs = cross_fitted_probabilities(recorder.epoch_probs, recorder.ngram_probs, recorder.truth, len(labels))
    position = {id(example): i for i, example in enumerate(held_out)}
    out = np.zeros((len(held_out), len(labels)))
    for row, example in zip(probs, fit.val):  # fit.val is the evaluation order (shortest first)
        out[position[id(example)]] = row
    return out
