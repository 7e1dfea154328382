"""The benchmark's own adapters: TF-IDF, MiniLM embedding similarity, zero-shot NLI (offline), label descriptions.

No network: the NLI tests point the Hugging Face cache at a temp folder (empty, or holding a tiny random model).
"""

import time
from pathlib import Path

import pytest

from shared.data import load_examples, split_examples
from shared.labels import CANONICAL_LABELS
from classifiers.base import AdapterUnavailable, Classifier, row_fields
from classifiers.descriptions import DEFAULT_DESCRIPTIONS, describe, label_descriptions, read_descriptions

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
ROWS = [("Interview confirmed: Tuesday 10:00", "We'd like to invite you to a video interview."),
        {"subject": "Your weekly digest", "body": "Here is what happened this week: 12 new posts."}]  # fmt: skip


@pytest.fixture(scope="module")
def split():
    data = load_examples(EXAMPLE, list(CANONICAL_LABELS))
    train, val, _ = split_examples(data.examples)
    return data.labels, train, val


def test_tfidf_fits_on_train_and_returns_labels_from_the_set(split):
    from classifiers.tfidf_baseline import TfidfBaselineAdapter

    labels, train, val = split
    adapter = TfidfBaselineAdapter(train)
    assert isinstance(adapter, Classifier) and adapter.kind == "tfidf"
    predicted = adapter.classify_batch([(e.subject, e.body) for e in val] + ROWS)
    assert len(predicted) == len(val) + 2 and set(predicted) <= set(labels)
    assert adapter.classify(*ROWS[0]) in labels
    assert adapter.classify_batch([]) == []


def test_embedding_similarity_returns_labels_from_the_set(split):
    from classifiers.embedding_similarity import EmbeddingSimilarityAdapter

    labels, _, val = split
    adapter = EmbeddingSimilarityAdapter(labels)
    assert isinstance(adapter, Classifier) and adapter.kind == "embedding"
    predicted = adapter.classify_batch([(e.subject, e.body) for e in val] + ROWS)
    assert set(predicted) <= set(labels)
    assert predicted[-2:] == ["interview_scheduled", "digest"]  # plain cases a sentence encoder gets right
    assert adapter.classify(*ROWS[0]) == predicted[-2]


def test_embedding_similarity_works_for_another_label_set():
    from classifiers.embedding_similarity import EmbeddingSimilarityAdapter

    adapter = EmbeddingSimilarityAdapter(["for_sale", "space", "medicine"])
    assert adapter.descriptions == ["for sale", "space", "medicine"]
    rows = [("FS: 486 motherboard, $50 obo", "Selling my old board, shipping included."),
            ("Shuttle launch delayed", "NASA moved the orbiter launch to next week.")]  # fmt: skip
    assert adapter.classify_batch(rows) == ["for_sale", "space"]


def test_descriptions_default_for_canonical_labels_fall_back_to_the_name_and_take_overrides(tmp_path):
    assert set(DEFAULT_DESCRIPTIONS) == set(CANONICAL_LABELS)
    assert describe("for_sale") == "for sale" and describe("pc-hardware") == "pc hardware"
    assert label_descriptions(["rejected", "x_y"], {"x_y": "custom"}) == [DEFAULT_DESCRIPTIONS["rejected"], "custom"]
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"space": "outer space"}')
    bad.write_text('["space"]')
    assert read_descriptions(good) == {"space": "outer space"}
    with pytest.raises(ValueError, match="JSON object"):
        read_descriptions(bad)


def test_row_fields_takes_tuples_and_dicts():
    assert row_fields(ROWS[0]) == ROWS[0]
    assert row_fields(ROWS[1]) == (ROWS[1]["subject"], ROWS[1]["body"])


def test_uncached_hub_model_is_unavailable_within_seconds(tmp_path, monkeypatch):
    from shared.registry import ZERO_SHOT_CLASSIFIERS
    from classifiers.zero_shot_nli import ZeroShotNLIAdapter

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for key in ZERO_SHOT_CLASSIFIERS:
        started = time.monotonic()
        with pytest.raises(AdapterUnavailable, match="^not cached: "):
            ZeroShotNLIAdapter(key, ["a", "b"], cache_dir=tmp_path / "empty-cache")
        assert time.monotonic() - started < 10


def test_unknown_zero_shot_key_is_rejected():
    from classifiers.zero_shot_nli import ZeroShotNLIAdapter

    with pytest.raises(ValueError, match="unknown zero-shot model"):
        ZeroShotNLIAdapter("nope", ["a", "b"])


def test_cached_nli_model_scores_entailment_per_label(tmp_path):
    """A tiny random NLI model laid out as a Hugging Face cache entry: the whole path runs offline."""
    from shared.registry import ZERO_SHOT_CLASSIFIERS
    from classifiers.zero_shot_nli import ZeroShotNLIAdapter, entailment_index

    _fake_cache_entry(tmp_path, ZERO_SHOT_CLASSIFIERS["deberta-small-nli"])
    labels = ["for_sale", "space", "medicine"]
    adapter = ZeroShotNLIAdapter("deberta-small-nli", labels, cache_dir=tmp_path)
    assert adapter.kind == "zeroshot_nli" and adapter.entailment == 1
    assert adapter.hypotheses[0] == "This email is about for sale."
    predicted = adapter.classify_batch(ROWS * 3)
    assert len(predicted) == 6 and set(predicted) <= set(labels)
    assert entailment_index({"entailment": 0, "not_entailment": 1}) == 0
    with pytest.raises(AdapterUnavailable, match="no entailment label"):
        entailment_index({"positive": 0, "negative": 1})


def _fake_cache_entry(cache_dir: Path, model_id: str) -> None:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from shared.registry import HUB_REVISIONS, get_spec, resolve_base_model

    revision = HUB_REVISIONS[model_id]  # the pinned commit: a snapshot of another commit does not count as cached
    entry = cache_dir / f"models--{model_id.replace('/', '--')}"
    snapshot = entry / "snapshots" / revision
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(get_spec("minilm")))
    id2label = {0: "contradiction", 1: "entailment", 2: "neutral"}
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, num_labels=3, id2label=id2label, label2id={v: k for k, v in id2label.items()},
    )  # fmt: skip
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    (entry / "refs").mkdir()
    (entry / "refs" / "main").write_text(revision)
