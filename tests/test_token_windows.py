"""What the transformer reads of an email: the first window exactly as training encodes it, then windows that
continue the body with the subject in front, for BERT's and XLM-R's special tokens alike."""

import re

import pytest

from classifiers.token_windows import token_windows
from shared.data import model_text

BODY = " ".join(f"word{i}" for i in range(300))


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoTokenizer

    from shared.registry import get_spec, resolve_base_model

    return AutoTokenizer.from_pretrained(resolve_base_model(get_spec("minilm")))


def test_the_first_window_is_the_training_input(minilm):
    emails = [("Quarterly budget", BODY), ("Lunch", "at noon")]
    windows = token_windows(minilm, emails, 32, 3)
    for (subject, body), row in zip(emails, windows):
        assert row[0] == minilm(model_text(subject, body), truncation=True, max_length=32)["input_ids"]
    assert token_windows(minilm, emails, 32, 1) == [[row[0]] for row in windows]


def test_later_windows_continue_the_body_after_the_subject(minilm):
    first, second, third = token_windows(minilm, [("Quarterly budget", BODY)], 32, 3)[0]
    assert len(first) == len(second) == len(third) == 32
    text = [minilm.decode(ids) for ids in (first, second, third)]
    assert all(t.startswith("[CLS] quarterly budget [SEP]") and t.endswith("[SEP]") for t in text)
    words = [int(n) for t in text for n in re.findall(r"\bword(\d+)\b", t)]  # a word cut at a window's edge: skipped
    assert words == sorted(words) and words[0] == 0 and words[-1] > 30  # in order, from the start, no gap to speak of


def test_short_emails_and_short_tails_read_one_window(minilm):
    assert len(token_windows(minilm, [("Lunch", "at noon on friday")], 32, 4)[0]) == 1
    body = " ".join(["word"] * 30)  # spills 2 tokens past the first window: a tail too short to read alone
    assert len(token_windows(minilm, [("Lunch", body)], 32, 4)[0]) == 1
    assert token_windows(minilm, [], 32, 4) == []


def test_a_long_subject_keeps_room_for_the_body(minilm):
    subject = " ".join(["subject"] * 100)
    windows = token_windows(minilm, [(subject, BODY)], 30, 2)[0]
    assert len(windows) == 2 and len(windows[1]) <= 30
    assert "word" in minilm.decode(windows[1])


def test_xlmr_windows_use_its_own_special_tokens(tmp_path):
    from transformers import AutoTokenizer

    from tests.hub_replicas import xlmr_nli

    tokenizer = AutoTokenizer.from_pretrained(xlmr_nli(tmp_path / "xlmr"))
    windows = token_windows(tokenizer, [("Budget", BODY)], 24, 2)[0]
    assert len(windows) == 2
    for ids in windows:
        assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id and len(ids) <= 24


def test_validation_scores_a_row_by_the_mean_of_its_windows():
    """The Trainer predicts windows, shortest first; the recorder scores rows, as the adapter will serve them."""
    from types import SimpleNamespace

    import numpy as np

    from worker.training.eval_recorder import EvalRecorder

    window_rows = [1, 0, 1]  # row 1 read in two windows, which disagree; their mean still says label 1
    logits = np.log(np.array([[0.1, 0.9], [0.8, 0.2], [0.6, 0.4]]))
    recorder = EvalRecorder(["a", "b"], None, window_rows)
    metrics = recorder(SimpleNamespace(predictions=logits, label_ids=np.array([1, 0, 1])))
    assert np.allclose(recorder.epoch_probs[0], [[0.8, 0.2], [0.35, 0.65]])
    assert recorder.truth.tolist() == [0, 1] and metrics["accuracy"] == 1.0
