"""Real MiniLM training through the pipeline: the published ensemble, shuffle invariance, and the promotion gate."""

import hashlib
import json
import random
from pathlib import Path

import pytest

from classifiers.fine_tuned import FineTunedAdapter
from shared.job_schema import FinetuneParams
from shared.model_versions import current_version, list_versions
from worker.training.pipeline import TrainConfig, run_finetune

WORDS = {"invoice": "payment invoice due amount bank transfer overdue receipt",
         "interview": "interview schedule tuesday call hiring candidate panel slot",
         "digest": "weekly digest newsletter links unsubscribe roundup issue reading"}  # fmt: skip
LABELS = sorted(WORDS)
VOLATILE = {"timestamp", "train_seconds", "train_loop_seconds", "train_samples_per_second", "ngram_fit_seconds",
            "refit_seconds"}  # fmt: skip


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _rows(per_label: int) -> list[dict]:
    rng, rows = random.Random(7), []
    for label, words in WORDS.items():
        for i in range(per_label):
            body = " ".join(rng.choice(words.split()) for _ in range(10))
            rows.append({"subject": f"{rng.choice(words.split())} {i}", "body": body, "label": label})
    return rows


def _train(data: Path, models: Path, name: str = "m", events=None, **hyper) -> dict:
    params = FinetuneParams(epochs=1, name=name, hyperparameters={"batch_size": 8, **hyper})
    config = TrainConfig.from_params(params, data=data, labels=LABELS, models_dir=models)
    emit = (lambda type_, message, **fields: events.append({"type": type_, "message": message, **fields})) if (
        events is not None) else (lambda *a, **k: None)  # fmt: skip
    return run_finetune(config, emit)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _comparable(info: dict) -> dict:
    info = {k: v for k, v in info.items() if k not in VOLATILE | {"model_dir"}}
    info["dataset"] = {k: v for k, v in info["dataset"].items() if k != "sha256"}  # the file's bytes differ
    info["split"] = {k: v for k, v in info["split"].items() if k != "data_sha256"}
    return info


@pytest.mark.timeout(900)
def test_a_shuffled_file_trains_the_same_ensemble(tmp_path):
    rows = _rows(12)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    first = _train(_write(tmp_path / "a.jsonl", rows), tmp_path / "m1")
    second = _train(_write(tmp_path / "b.jsonl", shuffled), tmp_path / "m2")
    assert _comparable(first) == _comparable(second)
    folder1, folder2 = Path(first["model_dir"]), Path(second["model_dir"])
    assert _sha(folder1 / "model.safetensors") == _sha(folder2 / "model.safetensors")
    # the published classifier: the n-gram model saved by skops, no pickle, scores with intervals
    assert first["ensemble"]["enabled"] and (folder1 / "ngram.skops").is_file() == (first["ensemble"]["transformer_weight"] < 1)
    assert not list(folder1.glob("*.bin")) and not list(folder1.glob("*.pkl"))
    scores = first["scores"]
    assert {"ensemble", "transformer", "ngram", "chosen_on_same_rows"} <= set(scores)
    low, high = first["val_macro_f1_interval"]
    assert low <= first["val_macro_f1"] <= high and scores["rows"] == first["split"]["val_count"]
    assert first["val_macro_f1"] == scores["ensemble"]["macro_f1"]
    _card_matches(folder1, first)


def _card_matches(folder: Path, info: dict) -> None:
    """The card a real run wrote loads with huggingface_hub and carries the scores of training_info.json."""
    from huggingface_hub import ModelCard

    card = ModelCard.load(folder / "README.md")
    assert card.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    found = {(r.metric_name, r.metric_value) for r in card.data.eval_results}
    assert ("macro-F1, ensemble (published)", info["scores"]["ensemble"]["macro_f1"]) in found
    assert ("macro-F1, transformer alone", info["scores"]["transformer"]["macro_f1"]) in found
    assert "transformers.pipeline` loads the transformer alone" in card.text or info["ensemble"]["transformer_weight"] == 1


@pytest.mark.timeout(900)
def test_a_clearly_worse_run_is_kept_but_not_made_current(tmp_path):
    data, models = _write(tmp_path / "d.jsonl", _rows(20)), tmp_path / "models"
    good = _train(data, models)
    assert good["current"] and current_version(models, "m") == 1
    adapter = FineTunedAdapter(good["model_dir"])
    if adapter.ngram is not None:  # the ensemble is what the adapter (and so predict) serves
        probs = adapter.probabilities([("invoice 1", "payment due")])
        assert abs(float(probs.sum()) - 1) < 1e-5
    events = []
    # a transformer alone that barely moved from its random head: chance level on 12 validation rows
    bad = _train(data, models, events=events, ensemble=False, learning_rate=1e-7)
    assert not bad["current"] and bad["promotion"]["promote"] is False, bad["promotion"]
    assert list_versions(models, "m") == [1, 2] and current_version(models, "m") == 1
    warning = next(e for e in events if e.get("reason") == "not_promoted")
    assert "avocet models rollback m --version 2" in warning["message"]
    forced = _train(data, models, ensemble=False, learning_rate=1e-7, promote="always")
    assert forced["current"] and current_version(models, "m") == 3


@pytest.mark.timeout(900)
def test_transformers_pipeline_loads_the_transformer_part(tmp_path):
    from transformers import pipeline

    info = _train(_write(tmp_path / "d.jsonl", _rows(8)), tmp_path / "models")
    classify = pipeline("text-classification", model=info["model_dir"])
    assert classify("invoice 3 [SEP] payment due bank")[0]["label"] in LABELS
    # a version published before ensembles (no n-gram file, the old names) still loads: the transformer alone
    folder = Path(info["model_dir"]).resolve()
    (folder / "ngram.skops").unlink(missing_ok=True)
    legacy = {k: v for k, v in info.items() if k not in ("ensemble", "scores")}
    legacy["hyperparameters"] = {"max_length": 96}
    (folder / "training_info.json").write_text(json.dumps(legacy))
    adapter = FineTunedAdapter(folder)
    assert adapter.ngram is None and adapter.max_length == 96
    assert adapter.classify("invoice 3", "payment due bank") in LABELS
