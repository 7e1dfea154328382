"""probabilities_in_batches: row order kept across batches, progress after each batch, the adapter's blend used."""

import numpy as np
import pytest

from classifiers.batch_scoring import probabilities_in_batches


class FakeAdapter:
    labels = ["a", "b"]

    def __init__(self):
        self.calls = []

    def probabilities(self, rows):
        self.calls.append(len(rows))
        first = np.array([float(subject) / 100 for subject, _ in rows])
        return np.stack([first, 1 - first], axis=1)


def test_rows_come_back_in_order_with_progress():
    adapter, progress = FakeAdapter(), []
    rows = [(str(i), "body") for i in range(10)]
    probs = probabilities_in_batches(adapter, rows, batch_size=4, on_batch=lambda done, total: progress.append((done, total)))
    assert probs.shape == (10, 2) and probs.dtype == np.float32
    assert np.allclose(probs[:, 0], np.arange(10) / 100)
    assert adapter.calls == [4, 4, 2] and progress == [(4, 10), (8, 10), (10, 10)]


def test_no_rows_and_a_bad_batch_size():
    assert probabilities_in_batches(FakeAdapter(), [], batch_size=8).shape == (0, 2)
    with pytest.raises(ValueError, match="batch_size"):
        probabilities_in_batches(FakeAdapter(), [("1", "x")], batch_size=0)
