"""The pre-fetch (`python -m worker.training pull`): pinned commits, what it asks the hub for, and its answers offline:
success from a populated cache, one clear error (exit 3) when a model is not there. No network."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hub_replicas import REPO, cache_entry, deberta_nli, xlmr_nli

from shared.registry import FINETUNE_BASES, HUB_REVISIONS, ZERO_SHOT_CLASSIFIERS, UnknownModelError, hub_models
from worker.training import pull


def _pull(*args: str, cache: Path, offline: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HUB_OFFLINE="1" if offline else "0", HF_HUB_CACHE=str(cache))
    cmd = [sys.executable, "-m", "worker.training", "pull", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_every_hub_model_is_pinned_to_a_commit_id():
    hub_ids = {s.base_model for s in FINETUNE_BASES.values() if not s.base_model.startswith("package:")}
    assert hub_ids | set(ZERO_SHOT_CLASSIFIERS.values()) == set(HUB_REVISIONS)
    assert all(re.fullmatch(r"[0-9a-f]{40}", sha) for sha in HUB_REVISIONS.values())
    assert all(FINETUNE_BASES[key].revision == HUB_REVISIONS[FINETUNE_BASES[key].base_model] for key in
               ("deberta-small", "bge-m3"))  # fmt: skip
    assert FINETUNE_BASES["minilm"].revision is None  # a packaged folder has no commit


def test_names_map_to_pinned_hub_models():
    bge = "MoritzLaurer/bge-m3-zeroshot-v2.0"
    assert hub_models("bge-m3") == {bge: HUB_REVISIONS[bge]}
    assert hub_models("deberta-small") == hub_models("deberta-small-nli")  # one repo, fetched once
    assert hub_models("all") == HUB_REVISIONS
    with pytest.raises(UnknownModelError, match="use all, bge-m3, deberta-small, bge-m3-zeroshot"):
        hub_models("minilm")


def test_offline_with_the_pinned_snapshots_cached_succeeds(tmp_path):
    for key, build in (("deberta-small", deberta_nli), ("bge-m3", xlmr_nli)):
        spec = FINETUNE_BASES[key]
        cache_entry(tmp_path, spec.base_model, spec.revision, build)
    result = _pull("deberta-small", "bge-m3", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("ok: ") for line in lines)
    bge = FINETUNE_BASES["bge-m3"]
    assert f"{bge.base_model} at {bge.revision} in {tmp_path}" in lines[1] and lines[1].endswith(bge.revision)


def test_offline_without_the_model_fails_with_one_clear_message(tmp_path):
    spec = FINETUNE_BASES["bge-m3"]
    cache_entry(tmp_path, spec.base_model, "f" * 40, xlmr_nli)  # another commit of the repo does not count
    result = _pull("bge-m3", cache=tmp_path)
    assert result.returncode == 3 and result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {spec.base_model} at {spec.revision} is not in the cache ({tmp_path}) and HF_HUB_OFFLINE is set: "
        "unset it and run this pull where the box has network, with the HF_HOME the worker uses"
    )


def test_unknown_name_exits_2_and_lists_the_choices(tmp_path):
    result = _pull("minilm", cache=tmp_path)
    assert result.returncode == 2 and "unknown hub model 'minilm': use all, bge-m3, deberta-small" in result.stderr


def test_asks_the_hub_for_the_pinned_commit_and_only_the_files_loading_needs(tmp_path, monkeypatch):
    calls = []

    def fake_snapshot_download(repo_id, *, revision, cache_dir, allow_patterns):
        calls.append((repo_id, revision, allow_patterns))
        folder = tmp_path / repo_id.replace("/", "--")
        folder.mkdir(exist_ok=True)
        return str(folder)  # no *.safetensors: a commit that only has pytorch_model.bin

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_snapshot_download)
    assert pull.main(["deberta-base-anli"]) == 0
    hub_id = ZERO_SHOT_CLASSIFIERS["deberta-base-anli"]
    pinned = HUB_REVISIONS[hub_id]
    assert calls == [(hub_id, pinned, pull.CONFIG_AND_WEIGHTS), (hub_id, pinned, pull.BIN_WEIGHTS)]
    assert not any("onnx" in pattern or "h5" in pattern for pattern in pull.CONFIG_AND_WEIGHTS)


def test_an_unreachable_hub_is_one_error_naming_the_fix(monkeypatch, capsys):
    from huggingface_hub.errors import LocalEntryNotFoundError

    def unreachable(repo_id, **kwargs):
        raise LocalEntryNotFoundError("Got: ConnectError: [Errno 111] Connection refused\nAn error happened while ...")

    monkeypatch.setattr("huggingface_hub.snapshot_download", unreachable)
    monkeypatch.setattr(pull, "_offline_mode", lambda: False)
    assert pull.main(["bge-m3", "--cache-dir", "/tmp/hf"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: could not download MoritzLaurer/bge-m3-zeroshot-v2.0 at ")
    assert "the Hugging Face hub is unreachable or refused (LocalEntryNotFoundError: Got: ConnectError: [Errno 111] " \
           "Connection refused). Run this pull while the box has network" in err and err.count("\n") == 0


def test_a_commit_gone_from_the_hub_points_at_the_registry(monkeypatch, capsys):
    class RevisionNotFoundError(Exception):  # matched by name: its constructor differs across huggingface_hub versions
        pass

    def gone(repo_id, **kwargs):
        raise RevisionNotFoundError("404 Client Error: Revision Not Found")

    monkeypatch.setattr("huggingface_hub.snapshot_download", gone)
    assert pull.main(["deberta-small"]) == 3
    assert "fix its entry in shared/registry.py HUB_REVISIONS" in capsys.readouterr().err
