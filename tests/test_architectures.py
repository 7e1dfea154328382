"""The registry's hub architectures, as tiny random replicas (tests/hub_replicas.py), through the real code: loading
at the pinned commit from a Hugging Face cache, the fine-tune (in process and through the CLI, offline), the
published folder in FineTunedAdapter, and the zero-shot NLI adapter. No network, no download."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest
import torch
from hub_replicas import EXAMPLE, REPO, cache_entry, deberta_nli, tensors, xlmr_nli

from shared.job_schema import FinetuneParams
from shared.labels import CANONICAL_LABELS
from shared.registry import FINETUNE_BASES, HUB_REVISIONS, ZERO_SHOT_CLASSIFIERS, get_spec
from classifiers.base import AdapterUnavailable

pytestmark = pytest.mark.integration  # fine-tunes tiny replicas, in process and through the CLI

LABELS = list(CANONICAL_LABELS)
MOVED = "f" * 40  # where refs/main points once upstream has pushed a new commit
ROWS = [json.loads(line) for line in EXAMPLE.read_text().splitlines() if line.strip()]
DEBERTA_KEYS = ("deberta.embeddings.word_embeddings.weight", "deberta.encoder.layer.0.attention.self.query_proj.weight")
XLMR_KEYS = ("roberta.embeddings.word_embeddings.weight", "roberta.encoder.layer.0.attention.self.query.weight")


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty Hugging Face cache for this test, used by everything loaded in this process."""
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def _finetune(model: str, models_dir: Path, **spec_changes) -> dict:
    from worker.training.pipeline import TrainConfig, run_finetune

    params = FinetuneParams(model=model, epochs=1, hyperparameters={"batch_size": 4})  # 4 steps: past the warm-up
    config = TrainConfig.from_params(params, data=EXAMPLE, labels=LABELS, models_dir=models_dir)
    if spec_changes:
        config = replace(config, spec=replace(config.spec, **spec_changes))
    return run_finetune(config, lambda *args, **fields: None)


def _assert_trained_but_embeddings_frozen(base: Path, published: Path, embeddings: str, layer0: str) -> None:
    before, after = tensors(base), tensors(published)
    assert torch.equal(after[embeddings], before[embeddings])  # frozen word embeddings
    assert not torch.equal(after[layer0], before[layer0])  # the encoder learned (gradients flowed)


def _assert_serves(published: Path) -> None:
    from classifiers.fine_tuned import FineTunedAdapter

    adapter = FineTunedAdapter(published, batch_size=8, precision="fp32")
    predicted = adapter.classify_batch(ROWS)
    assert adapter.labels == LABELS and len(predicted) == len(ROWS) and set(predicted) <= set(LABELS)
    assert adapter.classify(ROWS[0]["subject"], ROWS[0]["body"]) == predicted[0]


@pytest.mark.parametrize("tokenizer", ["spm", "json"])
def test_deberta_nli_checkpoint_gets_our_head_keeps_the_rest_trains_and_serves(tmp_path, tokenizer):
    from worker.training.model_loading import load_tokenizer_and_model

    base = deberta_nli(tmp_path / "nli-deberta", tokenizer)
    assert (base / "tokenizer.json").exists() == (tokenizer == "json") and (base / "spm.model").exists()
    _, model = load_tokenizer_and_model(get_spec(str(base)), LABELS, allow_downloads=False)
    assert model.config.num_labels == len(LABELS) and model.config.id2label[3] == LABELS[3]
    assert tuple(model.classifier.weight.shape) == (len(LABELS), 32)
    saved, state = tensors(base), model.state_dict()
    kept = [key for key in saved if not key.startswith("classifier.")]
    assert len(kept) == len(saved) - 2 and all(torch.equal(state[key], saved[key]) for key in kept)

    info = _finetune(str(base), tmp_path / "models")
    published = Path(info["model_dir"])
    _assert_trained_but_embeddings_frozen(base, published, *DEBERTA_KEYS)
    _assert_serves(published)


def test_xlmr_trains_with_activation_checkpointing_as_bge_m3_does(tmp_path, monkeypatch):
    from transformers import PreTrainedModel

    enabled = []
    original = PreTrainedModel.activation_checkpointing_enable

    def spy(model, *args, **kwargs):
        enabled.append(model)
        return original(model, *args, **kwargs)

    monkeypatch.setattr(PreTrainedModel, "activation_checkpointing_enable", spy)
    base = xlmr_nli(tmp_path / "bge-m3-like")  # float16 on disk, like the hub checkpoint: trained in fp32
    info = _finetune(str(base), tmp_path / "models", gradient_checkpointing=True)
    assert enabled and all(model.is_activation_checkpointing for model in enabled)
    published = Path(info["model_dir"])
    _assert_trained_but_embeddings_frozen(base, published, *XLMR_KEYS)
    _assert_serves(published)


def test_a_hub_model_loads_its_pinned_commit_even_after_main_moved(hub_cache):
    from worker.training.model_loading import load_tokenizer_and_model

    spec = FINETUNE_BASES["deberta-small"]
    cache_entry(hub_cache, spec.base_model, MOVED, partial(deberta_nli, hidden=48))
    cache_entry(hub_cache, spec.base_model, spec.revision, deberta_nli, main=MOVED)
    _, model = load_tokenizer_and_model(spec, LABELS, allow_downloads=False)
    assert model.config.hidden_size == 32  # the pinned snapshot, not the 48-wide one main points at


def test_a_hub_model_without_its_pinned_commit_is_unavailable_and_says_pull(hub_cache):
    from worker.training.model_loading import ModelUnavailableError, load_tokenizer_and_model

    spec = FINETUNE_BASES["deberta-small"]
    cache_entry(hub_cache, spec.base_model, MOVED, deberta_nli)
    with pytest.raises(ModelUnavailableError, match=f"{spec.revision}.*python -m worker.training pull deberta-small"):
        load_tokenizer_and_model(spec, LABELS, allow_downloads=False)


@pytest.mark.parametrize("key, build", [("deberta-small", deberta_nli), ("bge-m3", xlmr_nli)])
def test_the_cli_fine_tunes_a_registry_key_from_the_offline_cache(tmp_path, key, build):
    spec, cache = FINETUNE_BASES[key], tmp_path / "hub"
    cache_entry(cache, spec.base_model, spec.revision, build)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AVOCET_", "HF_"))}
    env.update(HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, "-m", "worker.training", "--model", key, "--data", str(EXAMPLE), "--epochs", "1",
           "--json", "--models-dir", str(tmp_path / "models")]  # fmt: skip
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert events[-1]["type"] == "complete" and any(e["type"] == "start" and e["model"] == key for e in events)
    info = json.loads((tmp_path / "models" / f"avocet-{key}" / "training_info.json").read_text())
    assert info["base_model_id"] == spec.base_model
    assert info["hyperparameters"]["gradient_checkpointing"] is spec.gradient_checkpointing


@pytest.mark.parametrize("key, build, entailment", [("deberta-small-nli", deberta_nli, 1),
                                                    ("bge-m3-zeroshot", xlmr_nli, 0)])  # fmt: skip
def test_zero_shot_adapter_runs_each_architecture_from_its_pinned_snapshot(tmp_path, key, build, entailment):
    from classifiers.zero_shot_nli import ZeroShotNLIAdapter

    hub_id = ZERO_SHOT_CLASSIFIERS[key]
    cache_entry(tmp_path, hub_id, HUB_REVISIONS[hub_id], build)
    labels = ["interview_scheduled", "rejected", "digest"]
    adapter = ZeroShotNLIAdapter(key, labels, cache_dir=tmp_path, batch_size=8)
    assert adapter.entailment == entailment and adapter.revision == HUB_REVISIONS[hub_id]
    assert next(adapter.model.parameters()).dtype == torch.float32  # the bge-m3 replica is stored in float16
    predicted = adapter.classify_batch(ROWS[:6])
    assert len(predicted) == 6 and set(predicted) <= set(labels)


def test_zero_shot_adapter_does_not_take_a_snapshot_of_another_commit(tmp_path):
    from classifiers.zero_shot_nli import ZeroShotNLIAdapter

    cache_entry(tmp_path, ZERO_SHOT_CLASSIFIERS["deberta-small-nli"], MOVED, deberta_nli)
    with pytest.raises(AdapterUnavailable, match="^not cached: .*pull deberta-small-nli"):
        ZeroShotNLIAdapter("deberta-small-nli", ["a", "b"], cache_dir=tmp_path)
