"""Datasets (upload, list, inspect, delete) and published models (versions, rollback, delete) through the API."""

import errno
import json
from pathlib import Path

from shared import datasets, jobs, model_store, model_versions
from shared.redis_ops import run_sync

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
NDJSON = {"content-type": "application/x-ndjson"}


def _client(make_client, tmp_path, **overrides):
    return make_client(data_dir=tmp_path / "data", score_file=tmp_path / "data" / "email_score.jsonl", **overrides)


def test_upload_lists_inspects_and_is_content_addressed(make_client, tmp_path):
    client = _client(make_client, tmp_path)
    content = EXAMPLE.read_bytes()
    first = client.post("/api/datasets", files={"file": ("emails.jsonl", content, "application/octet-stream")})
    assert first.status_code == 201, first.text
    meta = first.json()
    assert meta["id"].startswith("ds-") and meta["name"] == "emails.jsonl" and meta["rows"] == 20
    assert meta["source"] == "upload" and sum(meta["labels"].values()) == 20
    again = client.post("/api/datasets?name=again", content=content, headers=NDJSON)
    assert again.status_code == 200 and again.json()["id"] == meta["id"]  # same bytes, same dataset, no copy
    assert len(list((tmp_path / "data" / "datasets").glob("ds-*.jsonl"))) == 1
    assert [d["id"] for d in client.get("/api/datasets").json()] == [meta["id"]]
    detail = client.get(f"/api/datasets/{meta['id']}").json()
    assert detail["label_set"] == sorted(meta["labels"]) and len(detail["preview"]) == 5
    assert detail["text_stats"]["body_chars"]["max"] >= detail["text_stats"]["body_chars"]["min"]
    assert "/" not in json.dumps(detail["preview"][0]["line"])  # rows by line number, never a server path


def test_bad_upload_names_lines_and_stores_nothing(make_client, tmp_path):
    client = _client(make_client, tmp_path)
    good = json.dumps({"subject": "s", "body": "b", "label": "x"})
    bad = "\n".join([good, "{not json", json.dumps({"subject": "s", "label": "x"}), good,
                     json.dumps({"subject": " ", "body": "", "label": "x"})])  # fmt: skip
    response = client.post("/api/datasets", content=bad.encode(), headers=NDJSON)
    assert response.status_code == 422
    errors = response.json()["detail"]["errors"]
    assert [(e["line"], e["problem"].split(" ")[0]) for e in errors] == [(2, "not"), (3, "field"), (5, "empty")]
    assert "'body' is missing" in errors[1]["problem"]
    assert not (tmp_path / "data" / "datasets").exists() or not list((tmp_path / "data" / "datasets").iterdir())


def test_deeply_nested_or_oddly_broken_uploads_are_422_with_the_line(make_client, tmp_path):
    client = _client(make_client, tmp_path)
    response = client.post("/api/datasets", content=b"[" * 100_000 + b"\n", headers=NDJSON)
    assert response.status_code == 422 and response.json()["detail"]["errors"][0]["line"] == 1
    row = {"subject": "s", "body": "one\u2028two", "label": "x"}
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in (row, {**row, "label": "y"})).encode()
    created = client.post("/api/datasets", content=content, headers=NDJSON)
    assert created.status_code == 201 and created.json()["rows"] == 2


def test_upload_limits(make_client, tmp_path):
    client = _client(make_client, tmp_path, dataset_max_bytes=2048)
    big = (json.dumps({"subject": "s", "body": "x" * 500, "label": "a"}) + "\n") * 5
    assert client.post("/api/datasets", content=big.encode(), headers=NDJSON).status_code == 413
    files = {"file": ("big.jsonl", big.encode(), "application/octet-stream")}
    assert client.post("/api/datasets", files=files).status_code == 413
    assert client.post("/api/datasets", content=b"{}", headers={"content-type": "image/png"}).status_code == 415


def test_score_file_is_a_dataset_read_afresh(make_client, tmp_path):
    client = _client(make_client, tmp_path)
    score = tmp_path / "data" / "email_score.jsonl"
    score.parent.mkdir(parents=True)
    score.write_bytes(EXAMPLE.read_bytes())
    listed = client.get("/api/datasets").json()
    assert listed[0]["id"] == "score-file" and listed[0]["rows"] == 20
    detail = client.get("/api/datasets/score-file").json()
    assert len(detail["label_set"]) == 10  # the configured canonical labels, not the file's own
    score.write_text(score.read_text() + json.dumps({"subject": "new", "body": "row", "label": "digest"}) + "\n")
    assert client.get("/api/datasets/score-file").json()["rows"] == 21


def test_delete_refuses_while_a_job_uses_it(make_client, tmp_path, redis_client):
    client = _client(make_client, tmp_path)
    dataset_id = client.post("/api/datasets", content=EXAMPLE.read_bytes(), headers=NDJSON).json()["id"]
    run_sync(redis_client, jobs.create_job("j1", "finetune", {"data": dataset_id}, "api"))
    response = client.delete(f"/api/datasets/{dataset_id}")
    assert response.status_code == 409 and "j1" in response.json()["detail"]
    run_sync(redis_client, jobs.cancel("j1"))
    assert client.delete(f"/api/datasets/{dataset_id}").status_code == 204
    assert client.get(f"/api/datasets/{dataset_id}").status_code == 404
    assert client.delete("/api/datasets/score-file").status_code == 409
    assert client.get("/api/datasets/..%2Fetc").status_code in (404, 422)


def _publish(models_dir: Path, tag: str, f1: float) -> None:
    staged = models_dir / ".staging" / tag
    staged.mkdir(parents=True)
    (staged / "config.json").write_text("{}")
    model_store.write_training_info(staged, {"name": "m", "model_key": "minilm", "val_macro_f1": f1,
                                             "val_accuracy": f1, "timestamp": tag, "dataset": {"id": "score-file"},
                                             "sample_count": 20})
    model_versions.publish_version(staged, models_dir, "m", keep=3)


def test_models_versions_rollback_and_delete(make_client, tmp_path):
    client = make_client()
    models_dir = tmp_path / "models"
    _publish(models_dir, "t1", 0.5)
    _publish(models_dir, "t2", 0.7)
    listed = client.get("/api/models").json()
    assert [(m["name"], m["current_version"], m["versions"], m["val_macro_f1"]) for m in listed] == [("m", 2, 2, 0.7)]
    detail = client.get("/api/models/m").json()
    assert [(v["version"], v["current"]) for v in detail["version_list"]] == [(2, True), (1, False)]
    assert detail["card"].startswith("---\n") and "library_name: transformers" in detail["card"].split("---")[1]
    rolled = client.post("/api/models/m/rollback", json={"version": 1})
    assert rolled.status_code == 200 and rolled.json()["current_version"] == 1 and rolled.json()["val_macro_f1"] == 0.5
    assert client.get("/api/finetune/status").json()[0]["val_macro_f1"] == 0.5  # the seed's status sees it too
    assert client.post("/api/models/m/rollback", json={"version": 7}).status_code == 404
    assert client.delete("/api/models/m/versions/1").status_code == 409  # current
    assert client.delete("/api/models/m/versions/2").status_code == 204
    assert client.get("/api/models/nope").status_code == 404
    assert client.get("/api/models/Bad.Name").status_code == 422
    assert client.delete("/api/models/m").status_code == 204 and client.get("/api/models").json() == []


def test_base_models_are_their_own_resource(make_client):
    bases = make_client().get("/api/base-models").json()
    assert [b["key"] for b in bases] == ["bge-m3", "deberta-small", "minilm"]
    minilm = next(b for b in bases if b["key"] == "minilm")
    assert minilm["default"] and minilm["learning_rate"] == 1e-4


def test_jobs_show_the_dataset_and_the_hyperparameters_they_use(make_client):
    client = make_client()
    job = client.post("/api/finetune/jobs", json={"epochs": 1, "data": "score-file",
                                                  "hyperparameters": {"batch_size": 8}}).json()
    assert job["data"] == "score-file"
    assert job["hyperparameters"]["batch_size"] == 8 and job["hyperparameters"]["learning_rate"] == 1e-4
    assert datasets.is_dataset_id(job["data"])


def test_a_models_folder_the_api_cannot_write_answers_503_with_the_fix(make_client, tmp_path, monkeypatch):
    client = make_client()
    _publish(tmp_path / "models", "t1", 0.5)
    _publish(tmp_path / "models", "t2", 0.7)

    def read_only(models_dir, name, version):  # what a volume mounted :ro does (root in tests ignores chmod)
        raise OSError(errno.EROFS, "Read-only file system", str(Path(models_dir) / f".avocet-{name}.switch-1"))

    monkeypatch.setattr(model_versions, "switch_to", read_only)
    answer = client.post("/api/models/m/rollback", json={"version": 1})
    assert answer.status_code == 503 and "Read-only file system" in answer.json()["detail"]
    assert "read-write" in answer.json()["detail"] and str(tmp_path) not in answer.text  # no server path
