"""The ensemble's plain parts: the content-hash split, scores and intervals, the cross-fitted choice, the n-gram
model's safe save/load, the refusal of pickles, and the CLI flags built from the one hyperparameter model."""

import argparse
import random

import numpy as np
import pytest
from sklearn.metrics import f1_score

from classifiers.fine_tuned import UnsafeModelFolder, refuse_pickles
from classifiers.ngram import NGRAM_FILE, VOCABULARY_FILE, NgramModel
from shared.data import Example, row_key, split_examples
from shared.job_schema import Hyperparameters
from shared.param_flags import add_hyperparameter_flags, given_hyperparameters
from worker.training.ensemble_choice import choose, cross_fitted, halves
from worker.training.scores import difference_interval, interval, macro_f1, rows_judged

WORDS = {"invoice": "payment invoice due amount bank", "interview": "interview schedule tuesday call hiring",
         "digest": "weekly digest newsletter links unsubscribe"}  # fmt: skip


def _rows(n_per_label: int, seed: int = 0) -> list[Example]:
    rng, rows = random.Random(seed), []
    for label, words in WORDS.items():
        for i in range(n_per_label):
            body = " ".join(rng.choice(words.split()) for _ in range(8)) + f" note {i}"
            rows.append(Example(f"{label} {i}", body, label, len(rows) + 1))
    return rows


def test_split_follows_content_not_file_order():
    rows = _rows(20)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    train, val, _ = split_examples(rows)
    train2, val2, _ = split_examples(shuffled)
    assert [row_key(e) for e in val] == [row_key(e) for e in val2]
    assert [row_key(e) for e in train] == [row_key(e) for e in train2]
    assert {e.label: sum(1 for x in val if x.label == e.label) for e in val} == {label: 4 for label in WORDS}


def test_split_keeps_a_rows_side_when_the_file_grows():
    rows, more = _rows(40), _rows(44, seed=1)
    _, val, _ = split_examples(rows)
    _, val_grown, _ = split_examples(rows + more)
    kept = {row_key(e) for e in val} & {row_key(e) for e in val_grown}
    assert len(kept) >= 0.8 * len(val)  # mostly the same rows validate; only the boundary moves


def test_split_of_a_tiny_file_keeps_a_train_row_per_label_and_says_which_cannot_be_judged():
    rows = [Example(f"s{i}", "b", f"l{i % 10}", i) for i in range(20)]
    train, val, notes = split_examples(rows)
    assert len(val) == 4 and {e.label for e in train} == {f"l{i}" for i in range(10)}
    assert notes and "no validation row" in notes[0]


def test_macro_f1_equals_scikit_learn_and_the_interval_is_reproducible():
    rng = np.random.default_rng(1)
    truth, predicted = rng.integers(0, 4, 300), rng.integers(0, 4, 300)
    predicted[:200] = truth[:200]
    assert macro_f1(truth, predicted, 4) == pytest.approx(f1_score(truth, predicted, average="macro"))
    low, high = interval(truth, predicted, 4)
    assert low < macro_f1(truth, predicted, 4) < high and high - low < 0.2
    assert interval(truth, predicted, 4) == [low, high]  # fixed seed
    point, (d_low, d_high) = difference_interval(truth, truth, predicted, 4)
    assert point > 0 and d_low > 0  # the perfect classifier is clearly better
    judged = rows_judged(np.array([0, 0, 1]), ["a", "b", "c"])
    assert judged["label_rows"] == {"a": 2, "b": 1, "c": 0} and judged["too_few_to_judge"] == ["a", "b", "c"]


def test_each_half_is_scored_by_the_choice_made_on_the_other_half():
    """Epoch 0 is right on half 0 only, epoch 1 on half 1 only: a choice made on the same rows would look perfect,
    the cross-fitted one picks the wrong epoch for each half and scores 0."""
    truth = np.array([0, 0, 1, 1, 0, 0, 1, 1])
    side = halves(truth)
    right, wrong = np.eye(2)[truth], np.eye(2)[1 - truth]
    epoch0 = np.where((side == 0)[:, None], right, wrong)
    epoch1 = np.where((side == 1)[:, None], right, wrong)
    for rows in (np.flatnonzero(side == 0), np.flatnonzero(side == 1)):
        assert choose([epoch0, epoch1], None, truth, 2, rows).f1 == 1.0
    assert (cross_fitted([epoch0, epoch1], None, truth, 2) != truth).all()


def test_blend_weight_ties_go_to_an_even_average():
    truth = np.array([0, 1, 0, 1])
    probs = np.eye(2)[truth]
    assert choose([probs], probs, truth, 2).weight == 0.5


def test_ngram_model_round_trips_through_skops_and_refuses_foreign_types(tmp_path):
    rows = _rows(10)
    model = NgramModel.fit(rows, [e.label for e in rows], ["digest", "interview", "invoice", "unseen"])
    model.save(tmp_path)
    loaded = NgramModel.load(tmp_path, model.labels)
    probs = loaded.probabilities(rows[:5])
    assert np.allclose(probs, model.probabilities(rows[:5])) and (probs[:, 3] == 0).all()
    for name, vectorizer in loaded._vectorizers().items():  # the term lists travel beside the skops file, intact
        assert vectorizer.vocabulary_ == model._vectorizers()[name].vocabulary_
    assert (tmp_path / VOCABULARY_FILE).is_file() and model._vectorizers()["words"].vocabulary_  # restored after save
    import skops.io as sio

    sio.dump({"payload": argparse.Namespace(x=1)}, tmp_path / NGRAM_FILE)  # a type outside the trusted list
    with pytest.raises(Exception, match="Untrusted|untrusted"):
        NgramModel.load(tmp_path, model.labels)


def test_a_term_list_holding_objects_is_refused_and_nul_bytes_do_not_corrupt_the_vocabulary(tmp_path):
    rows = _rows(10) + [Example("nul", f"payment\x00 invoice\x00 {i}", "invoice", 98 + i) for i in range(2)]
    model = NgramModel.fit(rows, [e.label for e in rows], sorted(WORDS))
    model.save(tmp_path)
    assert np.allclose(NgramModel.load(tmp_path, model.labels).probabilities(rows), model.probabilities(rows))
    np.savez(tmp_path / VOCABULARY_FILE, words=np.array([argparse.Namespace()], dtype=object), chars=np.array(["a"]))
    with pytest.raises(ValueError, match="allow_pickle"):  # an object array would need pickle: never read
        NgramModel.load(tmp_path, model.labels)


def test_ngram_model_is_a_calibrated_svm_and_falls_back_to_logistic_regression_on_one_row_labels(tmp_path):
    rows = _rows(10)
    model = NgramModel.fit(rows, [e.label for e in rows], sorted(WORDS))
    assert model.description.endswith("calibrated linear SVM")
    assert model.pipeline.named_steps["classifier"].cv == 5
    few = _rows(3)  # 3 rows a label: 3 calibration folds, not 5
    assert NgramModel.fit(few, [e.label for e in few], sorted(WORDS)).pipeline.named_steps["classifier"].cv == 3
    lonely = _rows(4) + [Example("payroll", "salary slip attached for march", "payroll", 99)]
    fallback = NgramModel.fit(lonely, [e.label for e in lonely], sorted({e.label for e in lonely}))
    assert fallback.description.endswith("logistic regression")  # one row cannot be cross-validated
    probs = fallback.probabilities(lonely)
    assert np.allclose(probs.sum(1), 1) and (probs.argmax(1) == [fallback.labels.index(e.label) for e in lonely]).all()


def test_a_version_saved_with_the_earlier_logistic_regression_still_loads(tmp_path):
    import skops.io as sio

    from classifiers.ngram import make_pipeline, ngram_text

    rows = _rows(10)
    earlier = make_pipeline(smallest_label_rows=1)  # the logistic regression every version had before the SVM
    earlier.fit([ngram_text(e.subject, e.body) for e in rows], [e.label for e in rows])
    sio.dump(earlier, tmp_path / NGRAM_FILE)
    loaded = NgramModel.load(tmp_path, sorted(WORDS))
    assert loaded.description.endswith("logistic regression")
    assert (loaded.probabilities(rows).argmax(1) == [loaded.labels.index(e.label) for e in rows]).all()


def test_a_pickle_in_a_version_folder_is_refused(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "training_args.bin").write_bytes(b"legacy, never read")
    refuse_pickles(tmp_path)  # the Trainer's old arguments file is ignored, not loaded
    for name in ("pytorch_model.bin", "ngram.pkl", "extra.joblib"):
        (tmp_path / name).write_bytes(b"\x80\x04K\x01.")
        with pytest.raises(UnsafeModelFolder, match=name.replace(".", r"\.")):
            refuse_pickles(tmp_path)
        (tmp_path / name).unlink()


def test_cli_flags_are_built_from_the_hyperparameter_model():
    parser = argparse.ArgumentParser()
    add_hyperparameter_flags(parser)
    args = parser.parse_args(["--max-tokens", "64", "--early-stopping-patience", "2", "--no-ensemble",
                              "--promote", "always"])  # fmt: skip
    assert given_hyperparameters(args) == {"max_tokens": 64, "early_stopping_patience": 2, "ensemble": False,
                                           "promote": "always"}  # fmt: skip
    flags = {action.dest for action in parser._actions}
    assert set(Hyperparameters.model_fields) <= flags
    with pytest.raises(SystemExit):
        parser.parse_args(["--max-length", "64"])  # one name per setting: the old alias is gone


def test_the_cli_shows_the_interval_and_how_to_promote_a_version_that_was_not():
    from avocet_cli.format import promotion_text, score_text

    assert score_text(0.54, [0.48, 0.6]) == "0.540 (0.48-0.60)" and score_text(0.5) == "0.500"
    result = {"name": "triage", "version": 4, "current": False, "promotion": {"reason": "clearly worse than version 3"}}
    assert promotion_text(result) == ("clearly worse than version 3; to use it: avocet models rollback triage "
                                      "--version 4")  # fmt: skip
    assert promotion_text({**result, "current": True}) == ""


def test_rows_with_nothing_for_the_ngram_model_publish_the_transformer_alone():
    from worker.training.pipeline import _fit_ngram

    events = []
    rows = [Example("a", "b", "x", 1), Example("c", "d", "y", 2)]
    assert _fit_ngram(rows, ["x", "y"], lambda kind, message, **_: events.append((kind, message))) is None
    assert events[0][0] == "warning" and "transformer alone" in events[0][1]
