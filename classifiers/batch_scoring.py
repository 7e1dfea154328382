"""Scoring a whole file with a published model: probabilities for every row, computed in batches so a caller (the
score job) can report progress and a long file never needs one giant forward pass.

The classifier is a classifiers.fine_tuned.FineTunedAdapter: its probabilities() already blends the transformer with
the version's n-gram model, so what comes back is what the predict API would answer row by row.
"""

from collections.abc import Callable, Sequence

import numpy as np


def probabilities_in_batches(classifier, rows: Sequence[tuple[str, str]], batch_size: int = 64,
                             on_batch: Callable[[int, int], None] | None = None) -> np.ndarray:  # fmt: skip
    """(len(rows), len(classifier.labels)) float32 in row order; on_batch(done, total) after each batch."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    out = np.zeros((len(rows), len(classifier.labels)), dtype=np.float32)
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        probs = classifier.probabilities(chunk)
        out[start : start + len(chunk)] = probs.numpy() if hasattr(probs, "numpy") else np.asarray(probs)
        if on_batch is not None:
            on_batch(start + len(chunk), len(rows))
    return out
