"""A full disk while a run writes and publishes its model (issue 16, item 10): the job fails cleanly, with a message
that says the disk is full, its staging folder is removed and the current version stays current and whole. The
models folder is a real 1 MiB tmpfs (root only; elsewhere the write raises ENOSPC as such a disk would)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import jobs, model_store, model_versions
from shared.redis_ops import run_sync
from worker.queue.job_runner import run_job

REPO = Path(__file__).resolve().parents[1]
FAKE_PUBLISH = str(Path(__file__).with_name("fake_publish.py"))


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB filesystem for the models folder: a real tmpfs where this user may mount one, else None."""
    folder = tmp_path / "models"
    folder.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True).returncode == 0
    yield folder, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _used(folder: Path) -> int:
    stat = os.statvfs(folder)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def test_a_full_disk_while_publishing_fails_the_job_and_keeps_the_current_version(
    small_disk, tmp_path, redis_client, monkeypatch
):  # fmt: skip
    models_dir, mounted = small_disk
    staged = model_store.staging_dir(models_dir, "m")
    (staged / "config.json").write_text(json.dumps({"version": 1}))
    model_store.write_training_info(staged, {"name": "m", "model_key": "minilm", "val_macro_f1": 0.5})
    model_versions.publish_version(staged, models_dir, "m", keep=3)
    model_store.release_staging(staged)
    used_before = _used(models_dir)
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps({"subject": f"s{i}", "body": "b", "label": "ab"[i % 2]}) + "\n"
                            for i in range(8)))  # fmt: skip
    monkeypatch.setenv("AVOCET_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    weights = 4 * 1024 * 1024  # four times the disk
    if not mounted:  # no tmpfs here: the same OSError a full disk raises, at the same write
        monkeypatch.setenv("AVOCET_TEST_ENOSPC", "1")
    command = [sys.executable, FAKE_PUBLISH, "--name", "m", "--data", str(data), "--weights-bytes", str(weights)]
    run_sync(redis_client, jobs.create_job("full", "finetune", {"name": "m", "epochs": 1}, "api"))
    outcome = run_job(redis_client, "full", "finetune", {"name": "m", "epochs": 1}, worker="w1",
                      command_for=lambda kind, params: command)  # fmt: skip
    assert outcome.state == "failed"
    job = run_sync(redis_client, jobs.get_job("full"))
    assert job["error"]["code"] == "disk_full", job["error"]
    assert "disk" in job["error"]["message"] and "current version is unchanged" in job["error"]["message"]
    assert model_versions.current_version(models_dir, "m") == 1 and model_versions.list_versions(models_dir, "m") == [1]
    assert json.loads((model_store.model_dir(models_dir, "m") / "config.json").read_text()) == {"version": 1}
    assert not [p for p in (models_dir / ".staging").iterdir()]  # the run's files and lock are gone
    if mounted:
        assert _used(models_dir) <= used_before + 8192  # the space is back


NDJSON = {"content-type": "application/x-ndjson"}


def _dataset(n: int, body: str = "b") -> bytes:
    return "".join(json.dumps({"subject": f"s{n}-{i}", "body": body, "label": "ab"[i % 2]}) + "\n"
                   for i in range(4)).encode()  # fmt: skip


def test_dataset_quotas_answer_507_and_store_nothing(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "data", max_datasets=2, datasets_max_total_bytes=10_000)
    assert [client.post("/api/datasets", content=_dataset(n), headers=NDJSON).status_code for n in range(2)] == [201] * 2
    again = client.post("/api/datasets", content=_dataset(0), headers=NDJSON)
    assert again.status_code == 200  # the same bytes: no room needed
    full = client.post("/api/datasets", content=_dataset(2), headers=NDJSON)
    assert full.status_code == 507 and "AVOCET_MAX_DATASETS" in full.json()["detail"]
    big = make_client(data_dir=tmp_path / "data", max_datasets=10, datasets_max_total_bytes=1024)
    refused = big.post("/api/datasets", content=_dataset(3, "x" * 200), headers=NDJSON)
    assert refused.status_code == 507 and "AVOCET_DATASETS_MAX_TOTAL_BYTES" in refused.json()["detail"]
    assert len(list((tmp_path / "data" / "datasets").glob("ds-*.jsonl"))) == 2


def test_a_new_model_name_past_the_quota_is_507(make_client, tmp_path, fake_sender):
    client = make_client(max_models=1)
    staged = model_store.staging_dir(tmp_path / "models", "m")
    (staged / "config.json").write_text("{}")
    model_store.write_training_info(staged, {"name": "m", "model_key": "minilm"})  # what makes a model published
    model_versions.publish_version(staged, tmp_path / "models", "m", keep=3)
    refused = client.post("/api/finetune/jobs", json={"epochs": 1, "name": "another"})
    assert refused.status_code == 507 and "AVOCET_MAX_MODELS" in refused.json()["detail"]
    assert client.post("/api/finetune/jobs", json={"epochs": 1}).status_code == 507  # unnamed: published as minilm
    assert client.post("/api/finetune/jobs", json={"epochs": 1, "name": "m"}).status_code == 202  # a new version
    assert len(fake_sender.sent) == 1
