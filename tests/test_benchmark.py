"""The benchmark end to end on the shipped example file, with real fine-tuned models trained once per session.

The child-process test runs the CLI as the worker does (`--json --save`), with an empty Hugging Face cache and the
hub offline, so the zero-shot models are listed as unavailable and nothing reaches the network.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.registry import ZERO_SHOT_CLASSIFIERS
from worker.benchmark.cli import main
from shared.model_store import RESULTS_FILE

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
RESULT_KEYS = {"name", "kind", "available", "reason", "macro_f1", "accuracy", "ms_per_email", "per_class_f1", "labels"}
FINETUNED = ["avocet-tiny", "avocet-tiny-copy"]

pytestmark = pytest.mark.integration  # real training (about 15 s) and a real CLI child process


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVOCET_")}
    env.update(HF_HUB_OFFLINE="1", HF_HUB_CACHE=str(tmp / "empty-hf-cache"), TOKENIZERS_PARALLELISM="false")
    return env


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    """Two published fine-tuned models: one trained for real (1 epoch on the example), one copy under another name."""
    root = tmp_path_factory.mktemp("bench")
    command = [sys.executable, "-m", "worker.training", "--model", "minilm", "--epochs", "1", "--data", str(EXAMPLE),
               "--models-dir", str(root / "models"), "--name", "tiny", "--json"]  # fmt: skip
    done = subprocess.run(command, cwd=REPO, env=_env(root), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    copy = root / "models" / FINETUNED[1]
    shutil.copytree(root / "models" / FINETUNED[0], copy)
    info = json.loads((copy / "training_info.json").read_text())
    (copy / "training_info.json").write_text(json.dumps({**info, "name": "tiny-copy"}))
    return root / "models"


def _args(models_dir: Path, *extra: str) -> list[str]:
    return ["--data", str(EXAMPLE), "--models-dir", str(models_dir), "--json", *extra]


def _lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_discovery_finds_both_model_folders(models_dir):
    from shared.model_versions import model_folders as find_finetuned

    assert [p.name for p in find_finetuned(models_dir)] == FINETUNED


def test_cli_run_saves_every_model_in_the_contract_shape(models_dir, tmp_path):
    command = [sys.executable, "-m", "worker.benchmark", *_args(models_dir, "--save")]
    done = subprocess.run(command, cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert all(isinstance(line["type"], str) and isinstance(line["message"], str) for line in lines)
    start = next(line for line in lines if line["type"] == "start")
    assert start["val_samples"] == 4 and start["train_samples"] == 16 and start["labels"] == 10
    assert lines[-1]["type"] == "complete" and lines[-1]["rows"] == 4
    assert [line["step"] for line in lines if line["type"] == "progress"] == list(range(1, 9))

    saved = json.loads(Path(lines[-1]["results_file"]).read_text())
    assert Path(lines[-1]["results_file"]) == models_dir / RESULTS_FILE and list(saved) == ["runs"]
    run = saved["runs"][0]
    assert set(run) == {"id", "timestamp", "data_file", "rows", "split_seed", "results"}
    assert run["rows"] == 4 and run["split_seed"] == 42 and run["data_file"] == str(EXAMPLE)
    results = {r["name"]: r for r in run["results"]}
    assert list(results) == [*FINETUNED, "tfidf", "minilm-embedding", *ZERO_SHOT_CLASSIFIERS]
    assert all(set(r) == RESULT_KEYS for r in results.values())
    for name in [*FINETUNED, "tfidf", "minilm-embedding"]:
        r = results[name]
        assert r["available"] and r["reason"] is None and 0 <= r["macro_f1"] <= 1 and r["ms_per_email"] > 0
        assert set(r["per_class_f1"]) <= set(r["labels"])
    assert [results[n]["kind"] for n in (*FINETUNED, "tfidf", "minilm-embedding")] == [
        "finetuned", "finetuned", "tfidf", "embedding"]  # fmt: skip
    for key in ZERO_SHOT_CLASSIFIERS:
        assert results[key]["kind"] == "zeroshot_nli" and not results[key]["available"]
        assert results[key]["reason"].startswith("not cached")


def test_a_second_run_is_prepended(models_dir, capsys, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(models_dir, target)
    assert main(_args(target, "--save", "--models", "tfidf")) == 0
    assert main(_args(target, "--save", "--models", "tfidf,avocet-tiny")) == 0
    runs = json.loads((target / RESULTS_FILE).read_text())["runs"]
    assert [[r["name"] for r in run["results"]] for run in runs[:2]] == [["tfidf", "avocet-tiny"], ["tfidf"]]
    assert runs[0]["timestamp"] >= runs[1]["timestamp"]


def test_a_model_trained_on_other_rows_is_refused_not_scored(models_dir, capsys, tmp_path):
    other = tmp_path / "other.jsonl"
    rows = EXAMPLE.read_text().splitlines(keepends=True)
    other.write_text("".join([rows[-1], *rows]))  # same labels, but every line number shifts
    assert main(["--data", str(other), "--models-dir", str(models_dir), "--json", "--models", "avocet-tiny"]) == 0
    lines = _lines(capsys)
    progress = next(line for line in lines if line["type"] == "progress")
    assert progress["available"] is False and "validation rows differ" in progress["reason"]
    assert lines[-1]["type"] == "complete" and lines[-1]["results_file"] is None


def test_unknown_model_name_is_bad_input(models_dir, capsys):
    assert main(_args(models_dir, "--models", "tfidf,nope")) == 2
    last = _lines(capsys)[-1]
    assert last["type"] == "error" and last["reason"] == "bad_input" and "nope" in last["message"]


def test_text_mode_prints_a_table(models_dir, capsys):
    assert main(["--data", str(EXAMPLE), "--models-dir", str(models_dir), "--models", "tfidf"]) == 0
    out = capsys.readouterr().out
    assert "\nmodel  kind" in out and "\ntfidf  " in out and out.rstrip().endswith("(not saved: pass --save)")
