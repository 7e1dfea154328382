"""The thorough label audit: the real fine-tune recipe (packaged MiniLM, 1 epoch) per fold, nothing published."""

import random

import pytest

from classifiers.label_audit import audit_labels
from shared.data import Example

WORDS = {"invoice": "payment invoice due amount bank transfer overdue receipt",
         "interview": "interview schedule tuesday call hiring candidate panel slot",
         "digest": "weekly digest newsletter links unsubscribe roundup issue reading"}  # fmt: skip


def _rows(per_label: int) -> list[Example]:
    rng, rows = random.Random(7), []
    for label, words in WORDS.items():
        for i in range(per_label):
            body = " ".join(rng.choice(words.split()) for _ in range(10))
            rows.append(Example(f"{rng.choice(words.split())} {i}", body, label, len(rows) + 1))
    return rows


@pytest.mark.timeout(900)
def test_thorough_audit_runs_the_fine_tune_per_fold_and_ranks_every_row(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written beside the project (the Trainer's output is a temp dir)
    rows = _rows(8)
    rows[0] = Example(rows[0].subject, rows[0].body, "digest", rows[0].line)  # an invoice row labelled digest
    events, folds_done = [], []
    result = audit_labels(rows, method="thorough", folds=2, epochs=1, seed=0,
                          on_fold=lambda done, total: folds_done.append((done, total)),
                          emit=lambda type_, message, **fields: events.append((type_, fields.get("fold"))))  # fmt: skip
    assert (result.method, result.folds, result.labels) == ("thorough", 2, sorted(WORDS))
    assert folds_done == [(1, 2), (2, 2)]
    assert {("eval", 1), ("eval", 2), ("progress", 2)} <= set(events)  # each fold's fine-tune events, tagged with it
    assert set(result.issues_by_label) == set(WORDS)
    assert sum(result.issues_by_label.values()) == len(result.issues)
    for issue in result.issues:
        assert 0 <= issue.score <= 1 and issue.given != issue.suggested
    assert [i.score for i in result.issues] == sorted(i.score for i in result.issues)
    assert not list(tmp_path.iterdir())
