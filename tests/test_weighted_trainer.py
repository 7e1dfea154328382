"""Class weights and the weighted loss."""

import types

import pytest
import torch
from torch import nn

from shared.model_store import BadNameError, check_name
from worker.training.weighted_trainer import WeightedTrainer, class_weights


class FixedLogits(nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, **inputs):
        return types.SimpleNamespace(logits=self.logits)


def test_class_weights_are_total_over_classes_times_count():
    weights = class_weights([0, 0, 0, 1], n_classes=3)  # class 2 absent
    assert weights.tolist() == pytest.approx([4 / (3 * 3), 4 / (3 * 1), 0.0])


def test_weighted_loss_differs_from_the_unweighted_loss_by_the_expected_amount():
    labels = torch.tensor([0, 0, 0, 1])
    logits = torch.tensor([[2.0, 0.0], [1.0, 0.5], [0.2, 0.1], [1.5, 0.3]])
    weights = class_weights(labels.tolist(), 2)  # [2/3, 2]
    per_row = nn.functional.cross_entropy(logits, labels, reduction="none")
    expected = (weights[labels] * per_row).sum() / weights[labels].sum()
    unweighted = per_row.mean()

    trainer = types.SimpleNamespace(class_weights=weights)
    loss = WeightedTrainer.compute_loss(trainer, FixedLogits(logits), {"labels": labels, "input_ids": None}, num_items_in_batch=4)

    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    # the rare class 1 row is the worst-predicted one, so weighting it up must raise the loss
    assert loss.item() - unweighted.item() == pytest.approx(expected.item() - unweighted.item(), rel=1e-6)
    assert loss.item() > unweighted.item() + 0.1


def test_model_names_cannot_escape_the_models_folder():
    for bad in ("../evil", "a/b", "Upper", "", "x" * 65, "dot.name"):
        with pytest.raises(BadNameError):
            check_name(bad)
    assert check_name("minilm_v2-1") == "minilm_v2-1"
