"""Score-file loading and the train/validation split."""

import json
from collections import Counter

import pytest

from shared.data import DataError, load_examples, model_text, read_jsonl, split_examples
from shared.labels import CANONICAL_LABELS

EXAMPLE = "data/email_score.jsonl.example"


def write_rows(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def row(label, n=0):
    return {"subject": f"subject {n}", "body": f"body {n}", "label": label}


def test_missing_file_names_the_path_and_how_to_set_another(tmp_path):
    with pytest.raises(DataError) as err:
        read_jsonl(tmp_path / "nope.jsonl")
    assert str(tmp_path / "nope.jsonl") in str(err.value)
    assert "AVOCET_SCORE_FILE" in str(err.value) and "--data" in str(err.value)


def test_invalid_json_reports_the_line_number(tmp_path):
    path = write_rows(tmp_path / "s.jsonl", [row("rejected"), row("digest"), "{not json"])
    with pytest.raises(DataError, match=r"s\.jsonl:3: not valid JSON"):
        read_jsonl(path)


def test_missing_field_reports_line_and_field(tmp_path):
    path = write_rows(tmp_path / "s.jsonl", [row("rejected"), {"subject": "x", "label": "digest"}])
    with pytest.raises(DataError, match=r"s\.jsonl:2: field 'body' is missing"):
        read_jsonl(path)


def test_blank_lines_are_ignored_and_line_numbers_stay_true(tmp_path):
    path = write_rows(tmp_path / "s.jsonl", [row("rejected"), "", "[1, 2]"])
    with pytest.raises(DataError, match=r":3: expected a JSON object"):
        read_jsonl(path)


def test_non_canonical_rows_are_dropped_and_counted(tmp_path):
    rows = [row("rejected", i) for i in range(3)] + [row("digest", i) for i in range(3)]
    rows += [row("spam"), row("spam"), row("newsletter")]
    data = load_examples(write_rows(tmp_path / "s.jsonl", rows), list(CANONICAL_LABELS))
    assert len(data.examples) == 6
    assert data.dropped == Counter({"spam": 2, "newsletter": 1})
    assert any("dropped 3 rows" in w and "spam (2)" in w and "newsletter (1)" in w for w in data.warnings)
    assert data.labels == ["rejected", "digest"]  # canonical order


def test_single_sample_class_is_skipped_with_a_warning(tmp_path):
    rows = [row("rejected", i) for i in range(3)] + [row("digest", i) for i in range(3)] + [row("neutral")]
    data = load_examples(write_rows(tmp_path / "s.jsonl", rows), list(CANONICAL_LABELS))
    assert "neutral" not in data.labels and data.skipped == Counter({"neutral": 1})
    assert any("neutral" in w and "fewer than 2" in w for w in data.warnings)


def test_nothing_left_after_filtering_is_an_error_naming_allowed_labels(tmp_path):
    path = write_rows(tmp_path / "s.jsonl", [row("spam"), row("ham")])
    with pytest.raises(DataError, match="no rows left after filtering.*interview_scheduled"):
        load_examples(path, list(CANONICAL_LABELS))


def test_fewer_than_two_classes_is_an_error(tmp_path):
    path = write_rows(tmp_path / "s.jsonl", [row("rejected", i) for i in range(4)])
    with pytest.raises(DataError, match="at least two classes"):
        load_examples(path, list(CANONICAL_LABELS))


def test_other_label_sets_are_accepted(tmp_path):
    rows = [row("space", i) for i in range(3)] + [row("autos", i) for i in range(3)]
    data = load_examples(write_rows(tmp_path / "s.jsonl", rows), ["space", "autos"])
    assert data.labels == ["space", "autos"] and not data.dropped


def test_model_text_format_cuts_the_body_at_400_characters():
    assert model_text("Hi", "x" * 500) == "Hi [SEP] " + "x" * 400


def test_shipped_example_file_covers_every_canonical_label():
    examples = read_jsonl(EXAMPLE)
    assert len(examples) >= 10
    assert {e.label for e in examples} == set(CANONICAL_LABELS)


def test_stratified_split_keeps_class_shares_and_is_repeatable(tmp_path):
    rows = [row("rejected", i) for i in range(40)] + [row("digest", i) for i in range(10)]
    data = load_examples(write_rows(tmp_path / "s.jsonl", rows), list(CANONICAL_LABELS))
    train, val, notes = split_examples(data.examples)
    assert not notes and len(val) == 10
    assert Counter(e.label for e in val) == Counter({"rejected": 8, "digest": 2})
    assert [e.line for e in split_examples(data.examples)[1]] == [e.line for e in val]


def test_tiny_file_keeps_every_class_in_train_and_names_the_unjudged():
    data = load_examples(EXAMPLE, list(CANONICAL_LABELS))
    train, val, notes = split_examples(data.examples)
    assert notes and "no validation row" in notes[0]
    assert {e.label for e in train} == set(CANONICAL_LABELS)
    assert len(train) + len(val) == len(data.examples) and val
