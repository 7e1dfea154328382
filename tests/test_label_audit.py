"""The quick label audit on a small synthetic set: flipped labels come out on top, the rare-label refusal names the
label, every label is counted, and the quick path never imports torch."""

import random
import subprocess
import sys

import pytest

from classifiers.label_audit import audit_labels, check_rows
from shared.data import Example

WORDS = {"invoice": "payment invoice due amount bank transfer overdue receipt paid balance",
         "interview": "interview schedule tuesday call hiring candidate panel slot recruiter role",
         "digest": "weekly digest newsletter links unsubscribe roundup issue reading articles edition"}  # fmt: skip
FLIPPED = (3, 27, 51)  # one row of each label gets another label's name


def _rows(per_label: int = 24) -> list[Example]:
    rng, rows = random.Random(3), []
    for label, words in WORDS.items():
        for i in range(per_label):
            body = " ".join(rng.choice(words.split()) for _ in range(12))
            rows.append(Example(f"{rng.choice(words.split())} {i}", body, label, len(rows) + 1))
    labels = sorted(WORDS)
    for i in FLIPPED:
        wrong = labels[(labels.index(rows[i].label) + 1) % len(labels)]
        rows[i] = Example(rows[i].subject, rows[i].body, wrong, rows[i].line)
    return rows


def test_flipped_labels_are_found_first_with_the_true_label_suggested():
    rows = _rows()
    result = audit_labels(rows, method="quick", folds=3, seed=0)
    top = result.issues[: len(FLIPPED)]
    assert {issue.index for issue in top} == set(FLIPPED)
    truth = {i: label for i, label in zip(FLIPPED, ("invoice", "interview", "digest"))}  # before the flip
    for issue in top:
        assert issue.suggested == truth[issue.index] and issue.given == rows[issue.index].label
        assert issue.given_probability < issue.suggested_probability
        assert 0 <= issue.score < 0.5  # cleanlab's label quality: low for a wrong label
    assert [i.score for i in result.issues] == sorted(i.score for i in result.issues)
    assert (result.labels, result.folds, result.method) == (sorted(WORDS), 3, "quick")


def test_issues_by_label_lists_every_label_and_adds_up():
    rows = _rows()
    result = audit_labels(rows, folds=3)
    assert set(result.issues_by_label) == set(WORDS)
    assert sum(result.issues_by_label.values()) == len(result.issues)
    for label, n in result.issues_by_label.items():
        assert n == sum(issue.given == label for issue in result.issues)


def test_a_label_with_too_few_rows_is_refused_by_name():
    rows = _rows()[:-20]  # 4 "digest" rows left, or fewer after the flips
    with pytest.raises(ValueError, match=r"label 'digest' has \d+ labelled rows, fewer than the 5 a 5-fold audit"):
        audit_labels(rows, folds=5)


@pytest.mark.parametrize("labels, match", [(["a"] * 6, "at least two labels"), (["a", "b"] * 3, None)])
def test_check_rows_needs_two_labels(labels, match):
    rows = [Example("s", "b", label, i) for i, label in enumerate(labels)]
    if match:
        with pytest.raises(ValueError, match=match):
            check_rows(rows, 2)
    else:
        assert check_rows(rows, 2)[0] == ["a", "b"]


def test_unknown_method_and_too_few_folds_are_refused():
    with pytest.raises(ValueError, match="method must be quick or thorough"):
        audit_labels(_rows(), method="fast")
    with pytest.raises(ValueError, match="folds must be at least 2"):
        audit_labels(_rows(), folds=1)


def test_quick_audit_does_not_import_torch():
    code = ("import sys; from classifiers.label_audit import audit_labels; from shared.data import Example; "
            "rows = [Example(f's {i}', w * 3, w, i) for i in range(4) for w in ('alpha', 'beta')]; "
            "audit_labels(rows, folds=2); assert 'torch' not in sys.modules, 'torch imported'")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
