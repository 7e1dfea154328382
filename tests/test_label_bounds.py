"""Labels are bounded wherever they come from (issue 16, item 3): an explicit list, a dataset's own labels (at
upload, and for a job on a dataset stored before the bound), AVOCET_LABELS; each refusal says which bound."""

import json

import pytest
from pydantic import ValidationError

from shared import datasets
from shared.job_schema import MAX_LABELS
from shared.redis_ops import run_sync
from shared.settings import Settings

NDJSON = {"content-type": "application/x-ndjson"}


def _rows(labels, per_label=2) -> bytes:
    rows = [{"subject": f"s{i}", "body": f"b {label}", "label": label} for label in labels for i in range(per_label)]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def _client(make_client, tmp_path):
    return make_client(data_dir=tmp_path / "data", score_file=tmp_path / "data" / "email_score.jsonl",
                       dataset_max_bytes=10 * 1024 * 1024)  # fmt: skip


@pytest.mark.parametrize(
    ("labels", "bound", "line"),
    [([f"l{i}" for i in range(600)], "count", None), (["ok", "has space"], "pattern", 3), (["ok", "x" * 65], "length", 3)],
)  # fmt: skip
def test_an_upload_with_unbounded_labels_is_422_naming_the_bound(make_client, tmp_path, labels, bound, line):
    response = _client(make_client, tmp_path).post("/api/datasets", content=_rows(labels), headers=NDJSON)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail["message"].startswith(f"labels: {bound}")
    assert [e["line"] for e in detail["errors"]] == ([line] if line else [])
    assert not (tmp_path / "data" / "datasets").exists() or not list((tmp_path / "data" / "datasets").iterdir())


def test_a_hundred_labels_are_fine(make_client, tmp_path):
    labels = [f"l{i}" for i in range(MAX_LABELS)]
    response = _client(make_client, tmp_path).post("/api/datasets", content=_rows(labels), headers=NDJSON)
    assert response.status_code == 201 and len(response.json()["labels"]) == MAX_LABELS


def _stored_before_the_bound(tmp_path, labels) -> str:
    """A dataset uploaded before labels were bounded: its files written as the old upload did."""
    content = _rows(labels)
    examples = datasets.parse(content)
    dataset_id = "ds-00000000000000aa"
    folder = datasets.folder(tmp_path / "data")
    folder.mkdir(parents=True)
    (folder / f"{dataset_id}.jsonl").write_bytes(content)
    meta = {"id": dataset_id, "name": "old", "sha256": "aa", "size_bytes": len(content), "rows": len(examples),
            "labels": {label: 2 for label in labels}, "created_at": "2026-01-01T00:00:00+00:00", "source": "upload"}
    (folder / f"{dataset_id}.json").write_text(json.dumps(meta))
    return dataset_id


def test_a_job_on_a_dataset_with_too_many_labels_is_422(make_client, tmp_path, fake_sender):
    client = _client(make_client, tmp_path)
    dataset_id = _stored_before_the_bound(tmp_path, [f"l{i}" for i in range(600)])
    response = client.post("/api/finetune/jobs", json={"data": dataset_id, "epochs": 1})
    assert response.status_code == 422 and "count" in json.dumps(response.json()["detail"]) and not fake_sender.sent
    run = client.get("/api/finetune/run", params={"data": dataset_id})
    assert run.status_code == 422 and not fake_sender.sent
    narrowed = client.post("/api/finetune/jobs", json={"data": dataset_id, "labels": ["l1", "l2"], "epochs": 1})
    assert narrowed.status_code == 202  # an explicit label set narrows it: bounded by the schema


def test_a_celery_call_job_on_such_a_dataset_is_rejected_as_bad_input(redis_client, tmp_path, monkeypatch):
    from worker.queue import job_runner

    dataset_id = _stored_before_the_bound(tmp_path, [f"l{i}" for i in range(600)])
    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", redis_url="redis://unused")
    monkeypatch.setattr(job_runner, "get_settings", lambda: settings)
    job_runner.record_sent_job(redis_client, "j1", "finetune", {"data": dataset_id}, "celery")  # at `celery call`
    from shared import jobs

    job = run_sync(redis_client, jobs.get_job("j1"))
    assert job["state"] == "failed" and job["error"]["code"] == "bad_input" and "labels: count" in job["error"]["message"]


def test_the_configured_label_set_is_bounded_too():
    with pytest.raises(ValidationError, match="labels: count"):
        Settings(labels=",".join(f"l{i}" for i in range(MAX_LABELS + 1)))
    with pytest.raises(ValidationError, match="labels: pattern"):
        Settings(labels="good,not good")
