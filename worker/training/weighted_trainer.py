"""Class-weighted cross-entropy for imbalanced label sets, as a Trainer subclass."""

from collections.abc import Sequence

import torch
from torch import nn
from transformers import Trainer


def class_weights(label_ids: Sequence[int], n_classes: int) -> torch.Tensor:
    """total / (n_classes * count): a class seen half as often weighs twice as much. Absent classes get weight 0."""
    counts = torch.bincount(torch.as_tensor(list(label_ids), dtype=torch.long), minlength=n_classes).float()
    weights = torch.zeros(n_classes)
    present = counts > 0
    weights[present] = counts.sum() / (n_classes * counts[present])
    return weights


class WeightedTrainer(Trainer):
    # compute_loss returns a per-batch mean, so the Trainer must still divide it by the accumulation steps.
    loss_is_scaled_for_ga = False

    def __init__(self, *args, class_weights: torch.Tensor | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.class_weights = class_weights

    def _get_eval_sampler(self, eval_dataset):
        """In order: the validation rows come already sorted by length, and every probability array of the run
        (the n-gram model's, each epoch's) must line up row for row. train_sampling_strategy="group_by_length" would
        otherwise shuffle evaluation too (transformers 5)."""
        from torch.utils.data import SequentialSampler

        return SequentialSampler(eval_dataset) if eval_dataset is not None else None

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        logits = outputs.logits
        weight = None if self.class_weights is None else self.class_weights.to(device=logits.device, dtype=logits.dtype)
        loss = nn.functional.cross_entropy(logits, labels, weight=weight)
        return (loss, outputs) if return_outputs else loss
