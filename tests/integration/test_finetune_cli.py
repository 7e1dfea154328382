"""The training CLI end to end: real MiniLM, the shipped example file, 1 epoch, a real child process."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from service_helpers import LONG_RUN_FLAGS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "data/email_score.jsonl.example"
INFO_KEYS = {
    "name", "base_model_id", "timestamp", "epochs_run", "val_macro_f1", "val_accuracy", "sample_count", "label_counts",
    "per_class_f1", "confusion_matrix", "hyperparameters", "split", "train_seconds", "device", "versions",
}


def finetune(models_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "worker.training", "--models-dir", str(models_dir), "--json", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def trained(trained_minilm, tmp_path_factory):
    """The session's MiniLM run (`--model minilm --epochs 1 --data <example> --json`), in a models folder of this
    module's own: the tests below train and kill runs on top of it."""
    models_dir = trained_minilm.copy_models_dir(tmp_path_factory.mktemp("cli") / "models")
    return models_dir, trained_minilm.events


def test_stdout_is_one_json_event_per_line_from_start_to_complete(trained):
    _, lines = trained
    types = [e["type"] for e in lines]
    assert types[types.index("start")] == "start" and types[-1] == "complete"
    assert "warning" in types  # the tiny file cannot be split stratified, and says so
    start = next(e for e in lines if e["type"] == "start")
    assert start["model"] == "minilm" and start["device"] == "cpu" and start["samples"] == 20 and start["labels"] == 10
    progress = [e for e in lines if e["type"] == "progress"]
    assert progress and all({"epoch", "step", "total", "loss"} <= e.keys() for e in progress)
    assert any(e["type"] == "eval" and "f1" in e and "accuracy" in e for e in lines)


def test_training_info_has_the_documented_keys(trained):
    models_dir, _ = trained
    info = json.loads((models_dir / "avocet-minilm" / "training_info.json").read_text())
    assert INFO_KEYS <= info.keys()
    assert info["sample_count"] == 20 and sum(info["label_counts"].values()) == 20
    assert info["timestamp"].endswith("+00:00") and info["split"]["seed"] == 42
    assert [p.name for p in models_dir.glob("*/training_info.json")] == ["training_info.json"]


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_the_folder_loads_with_the_adapter_and_single_and_batch_agree(trained, precision):
    from classifiers.fine_tuned import FineTunedAdapter

    models_dir, _ = trained
    adapter = FineTunedAdapter(models_dir / "avocet-minilm", batch_size=8, precision=precision)
    rows = [json.loads(line) for line in EXAMPLE.read_text().splitlines()]
    batch = adapter.classify_batch(rows)
    single = [adapter.classify(r["subject"], r["body"]) for r in rows]
    assert set(batch) <= set(adapter.labels) and len(adapter.labels) == 10
    assert adapter.load_seconds > 0
    if precision == "fp32":
        assert batch == single
    else:
        # bf16 rounding can flip a near-tie of this barely trained 1-epoch model; a real one agrees on 99%+ of rows
        # (bench/inference.py), so allow at most one flip in 20.
        assert sum(b == s for b, s in zip(batch, single)) >= len(rows) - 1


def test_the_folder_loads_with_a_transformers_pipeline(trained):
    from transformers import pipeline

    models_dir, _ = trained
    classify = pipeline("text-classification", model=str(models_dir / "avocet-minilm"), device="cpu")
    assert classify("Interview invitation [SEP] Can you join us on Tuesday?")[0]["label"] in json.loads(
        (models_dir / "avocet-minilm" / "training_info.json").read_text()
    )["labels"]


def test_bad_input_exits_non_zero_with_a_clear_error_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"subject": "a", "body": "b", "label": "rejected"}\nnot json\n')
    result = finetune(tmp_path / "models", "--data", str(bad), "--epochs", "1")
    assert result.returncode == 2
    last = events(result.stdout)[-1]
    assert last["type"] == "error" and "bad.jsonl:2" in last["message"] and last["reason"] == "bad_input"
    assert not (tmp_path / "models").exists() or not list((tmp_path / "models").glob("*/training_info.json"))


def test_out_of_range_epochs_and_unknown_model_are_refused(tmp_path):
    assert finetune(tmp_path, "--epochs", "21").returncode == 2
    result = finetune(tmp_path, "--model", "gpt-17", "--data", str(EXAMPLE))
    assert result.returncode == 2 and "deberta-small" in events(result.stdout)[-1]["message"]


def test_an_uncached_hub_model_fails_within_seconds(tmp_path):
    started = time.monotonic()
    result = finetune(tmp_path, "--model", "deberta-small", "--data", str(EXAMPLE), timeout=60)
    assert result.returncode == 3
    last = events(result.stdout)[-1]
    assert last["reason"] == "model_unavailable" and "not in the local Hugging Face cache" in last["message"]
    assert time.monotonic() - started < 30  # includes interpreter and library start-up


def test_a_run_killed_mid_training_leaves_the_previous_model_intact(trained):
    models_dir, _ = trained
    model = models_dir / "avocet-minilm"
    before = {p.name: p.stat().st_mtime_ns for p in model.iterdir()}
    info_before = (model / "training_info.json").read_text()
    cmd = [sys.executable, "-m", "worker.training", "--models-dir", str(models_dir), "--json", *LONG_RUN_FLAGS,
           "--data", str(EXAMPLE)]
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 120
        for line in child.stdout:
            if json.loads(line)["type"] in ("progress", "eval") or time.monotonic() > deadline:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert {p.name: p.stat().st_mtime_ns for p in model.iterdir()} == before
    assert (model / "training_info.json").read_text() == info_before
    assert [p.parent.name for p in models_dir.glob("*/training_info.json")] == ["avocet-minilm"]


def test_a_rerun_publishes_a_new_version_and_cleans_killed_staging(trained):
    models_dir, _ = trained
    result = finetune(models_dir, "--epochs", "1", "--data", str(EXAMPLE))
    assert result.returncode == 0, result.stderr[-2000:]
    done = events(result.stdout)[-1]
    assert done["type"] == "complete" and done["version"] == 2  # the first run's model is version 1, kept
    assert any(e["type"] == "log" and "published version 2" in e["message"] for e in events(result.stdout))
    assert list((models_dir / ".staging").iterdir()) == []  # the SIGKILLed run's folder is gone too
