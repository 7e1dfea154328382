"""The label-next ranking over probability arrays: uncertain rows first, near-duplicates skipped, rare labels
favoured, candidates and limit respected; and the per-row top-k."""

import numpy as np
import pytest

from classifiers.label_next import label_next_order, scored_rows, uncertainties

LABELS = ["common", "mid", "rare"]
TEXTS = ["meeting notes for the quarterly budget review", "invoice overdue for march services",
         "team lunch friday at noon", "invoice overdue for march services", "server outage postmortem draft",
         "new hire onboarding checklist"]  # fmt: skip


def _probs(rows):
    return np.array(rows, dtype=float)


def test_scored_rows_give_top_k_and_uncertainty():
    rows = scored_rows(_probs([[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]]), LABELS, top_k=2)
    assert rows[0].label == "common" and rows[0].probability == pytest.approx(0.7)
    assert rows[0].top == [("common", 0.7), ("mid", 0.2)]
    assert rows[0].uncertainty == pytest.approx(0.5) and rows[1].uncertainty == pytest.approx(1.0)
    assert [r.index for r in rows] == [0, 1]


def test_uncertain_rows_come_first():
    probs = _probs([[0.98, 0.01, 0.01], [0.5, 0.45, 0.05], [0.8, 0.15, 0.05], [0.34, 0.33, 0.33]])
    order = label_next_order(probs, LABELS, TEXTS[:4], candidates=range(4), limit=4, rare_boost=0,
                             duplicate_similarity=None)  # fmt: skip
    assert [i for i, _ in order] == [3, 1, 2, 0]
    assert [s for _, s in order] == sorted((s for _, s in order), reverse=True)
    assert np.allclose([s for _, s in order], uncertainties(probs)[[3, 1, 2, 0]], atol=1e-6)


def test_near_duplicates_of_picked_rows_are_skipped():
    probs = _probs([[0.9, 0.05, 0.05], [0.5, 0.5, 0.0], [0.8, 0.1, 0.1], [0.5, 0.49, 0.01], [0.7, 0.2, 0.1],
                    [0.6, 0.3, 0.1]])  # fmt: skip
    order = [i for i, _ in label_next_order(probs, LABELS, TEXTS, candidates=range(6), limit=6, rare_boost=0)]
    assert 1 in order and 3 not in order  # row 3 repeats row 1's text, and ranks just below it
    kept = [i for i, _ in label_next_order(probs, LABELS, TEXTS, candidates=range(6), limit=6, rare_boost=0,
                                           duplicate_similarity=None)]  # fmt: skip
    assert kept[:2] == [1, 3]


def test_rows_that_look_rare_are_favoured():
    probs = _probs([[0.55, 0.45, 0.0], [0.0, 0.45, 0.55]])  # equally torn; the second leans to the rare label
    counts = {"common": 100, "mid": 40, "rare": 3}
    plain = label_next_order(probs, LABELS, TEXTS[:2], candidates=[0, 1], limit=2, label_counts=counts, rare_boost=0)
    boosted = label_next_order(probs, LABELS, TEXTS[:2], candidates=[0, 1], limit=2, label_counts=counts)
    assert [i for i, _ in plain] == [0, 1]  # a tie keeps the candidates' order
    assert [i for i, _ in boosted] == [1, 0]
    assert all(0 <= s <= 1 for _, s in boosted)


def test_only_candidates_and_at_most_limit():
    probs = np.full((6, 3), 1 / 3)
    order = label_next_order(probs, LABELS, TEXTS, candidates=[5, 2, 4], limit=2)
    assert len(order) == 2 and {i for i, _ in order} <= {2, 4, 5}
    assert label_next_order(probs, LABELS, TEXTS, candidates=[], limit=5) == []
    assert label_next_order(probs, LABELS, TEXTS, candidates=[1], limit=0) == []
    with pytest.raises(ValueError, match="candidate indices"):
        label_next_order(probs, LABELS, TEXTS, candidates=[6], limit=1)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="probabilities must be"):
        scored_rows(np.zeros((2, 2)), LABELS)
    with pytest.raises(ValueError, match="texts"):
        label_next_order(np.zeros((2, 3)), LABELS, ["one"], candidates=[0], limit=1)


def test_rows_without_words_are_not_compared():
    probs = _probs([[0.5, 0.5, 0.0], [0.6, 0.4, 0.0]])
    assert [i for i, _ in label_next_order(probs, LABELS, ["", "!!"], candidates=[0, 1], limit=2)] == [0, 1]
