"""The labelling loop's service side without a worker: unlabelled rows in uploads, the audit and score job parameters
and records, their routes, and the results route (fakeredis; result files written as the CLI child writes them)."""

import json
import time

import pytest
from pydantic import ValidationError

from shared import job_results, jobs
from shared.job_schema import AuditParams, ScoreParams, record_fields
from shared.redis_ops import run_sync

NDJSON = {"content-type": "application/x-ndjson"}
DS = "ds-0123456789abcdef"


def _rows(*labels, ids: bool = False) -> bytes:
    rows = []
    for i, label in enumerate(labels):
        row = {"subject": f"subject {i}", "body": f"body {i} " * 3}
        if label != "missing":
            row["label"] = label
        if ids:
            row["id"] = f"r{i}"
        rows.append(json.dumps(row))
    return "\n".join(rows).encode()


def _client(make_client, tmp_path):
    return make_client(data_dir=tmp_path / "data", score_file=tmp_path / "data" / "email_score.jsonl")


def test_params_bounds_and_defaults():
    audit = AuditParams(data=DS)
    assert (audit.method, audit.folds, audit.model, audit.limit) == ("quick", 5, "minilm", 1000)
    score = ScoreParams(name="minilm", data="score-file")
    assert (score.version, score.top_k, score.label_next) == (None, 3, 200)
    for bad in ({"folds": 1}, {"folds": 11}, {"method": "slow"}, {"limit": 100_001}, {"data": "../etc/passwd"},
                {"data": "/tmp/x.jsonl"}, {"extra": 1}):  # fmt: skip
        with pytest.raises(ValidationError):
            AuditParams.model_validate({"data": DS, **bad})
    for bad in ({"top_k": 0}, {"top_k": 11}, {"label_next": 10_001}, {"name": "../x"}, {"version": 0}):
        with pytest.raises(ValidationError):
            ScoreParams.model_validate({"name": "minilm", "data": DS, **bad})


def test_records_name_what_the_job_reads():
    audit = record_fields("audit", AuditParams(data=DS, method="thorough"))
    assert (audit["data"], audit["model"], audit["name"], audit["epochs"]) == (DS, "minilm", None, None)
    score = record_fields("score", ScoreParams(name="mine", data=DS))
    assert (score["data"], score["name"], score["model"]) == (DS, "mine", None)
    assert record_fields("audit", {"data": 5, "folds": "x"})["data"] is None  # bad celery kwargs still list


def test_unlabelled_rows_upload_and_describe(make_client, tmp_path):
    client = _client(make_client, tmp_path)
    content = _rows("a", "missing", None, "b", ids=True)
    created = client.post("/api/datasets", content=content, headers=NDJSON)
    assert created.status_code == 201, created.text
    meta = created.json()
    assert (meta["rows"], meta["labelled_rows"], meta["labels"]) == (4, 2, {"a": 1, "b": 1})
    detail = client.get(f"/api/datasets/{meta['id']}").json()
    assert detail["labelled_rows"] == 2 and [p["label"] for p in detail["preview"]] == ["a", None, None, "b"]
    bad = client.post("/api/datasets", content=_rows("a") + b'\n{"subject": "s", "body": "b", "label": 3}',
                      headers=NDJSON)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["line"] == 2
    assert "'label' must be a string" in bad.json()["detail"]["errors"][0]["problem"]


def test_finetune_and_audit_refuse_a_dataset_without_labels(make_client, tmp_path, fake_sender):
    client = _client(make_client, tmp_path)
    inbox = client.post("/api/datasets", content=_rows("missing", None), headers=NDJSON).json()
    refused = client.post("/api/finetune/jobs", json={"model": "minilm", "data": inbox["id"]})
    assert refused.status_code == 422 and "none has a label" in refused.json()["detail"]
    audit = client.post(f"/api/datasets/{inbox['id']}/audit", json={})
    assert audit.status_code == 422 and "no labelled rows" in audit.json()["detail"]
    assert fake_sender.sent == []


def test_audit_and_score_routes_queue_or_say_what_is_missing(make_client, tmp_path, fake_sender):
    client = _client(make_client, tmp_path)
    dataset = client.post("/api/datasets", content=_rows("a", "a", "b", "b", "missing"), headers=NDJSON).json()
    job = client.post(f"/api/datasets/{dataset['id']}/audit", json={"folds": 2})
    assert job.status_code == 202, job.text
    assert job.json()["kind"] == "audit" and job.json()["data"] == dataset["id"]
    assert fake_sender.sent == [("audit", job.json()["id"], {"folds": 2, "data": dataset["id"]})]
    assert client.post(f"/api/datasets/{dataset['id']}/audit").status_code == 202  # no body: the defaults
    assert client.post(f"/api/datasets/{DS}/audit", json={}).status_code == 404
    assert client.post(f"/api/datasets/{dataset['id']}/audit", json={"folds": 20}).status_code == 422
    missing = client.post("/api/models/nobody/score", json={"data": dataset["id"]})
    assert missing.status_code == 404 and "no published model 'nobody'" in missing.json()["detail"]
    assert client.post("/api/models/nobody/score", json={}).status_code == 422  # data is required
    assert client.get("/api/jobs?kind=audit").json()[0]["kind"] == "audit"


def _job_with_results(redis, models_dir, job_id: str, kind: str = "audit", state: str = "succeeded") -> None:
    run_sync(redis, jobs.create_job(job_id, kind, {"data": DS}, "api"))
    if state == "queued":
        return
    run_sync(redis, jobs.claim(job_id, "w1"))
    if state == "succeeded":
        folder = job_results.prepare(models_dir, job_id, 3600)
        rows = [{"rank": n, "line": n + 1, "id": None} for n in range(1, 6)]
        written = job_results.write(folder, "issues", rows)
        run_sync(redis, jobs.succeed(job_id, "done", {"results": [{"name": "issues", "rows": written}],
                                                          "summary": {"issues": written}}))  # fmt: skip
    elif state == "failed":
        run_sync(redis, jobs.fail(job_id, "label 'x' has 1 row", "bad_input"))


def test_results_route(make_client, redis_client, tmp_path):
    client = make_client()
    models_dir = tmp_path / "models"
    _job_with_results(redis_client, models_dir, "job-ok")
    response = client.get("/api/jobs/job-ok/results?name=issues&limit=2")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["rank"] for line in response.text.splitlines()] == [1, 2]
    assert len(client.get("/api/jobs/job-ok/results").text.splitlines()) == 5  # default: the first file, whole
    record = client.get("/api/jobs/job-ok").json()
    assert record["result"] == {"results": [{"name": "issues", "rows": 5}], "summary": {"issues": 5}}
    assert str(tmp_path) not in response.text + json.dumps(record)

    other = client.get("/api/jobs/job-ok/results?name=predictions")
    assert other.status_code == 404 and "it has issues" in other.json()["detail"]
    assert client.get("/api/jobs/nope/results").status_code == 404
    assert client.get("/api/jobs/job-ok/results?limit=0").status_code == 422
    assert client.get("/api/jobs/job-ok/results?name=../x").status_code == 422
    _job_with_results(redis_client, models_dir, "job-running", state="running")
    busy = client.get("/api/jobs/job-running/results")
    assert busy.status_code == 409 and "running" in busy.json()["detail"]
    _job_with_results(redis_client, models_dir, "job-failed", state="failed")
    failed = client.get("/api/jobs/job-failed/results")
    assert failed.status_code == 404 and "label 'x' has 1 row" in failed.json()["detail"]
    _job_with_results(redis_client, models_dir, "job-train", kind="finetune", state="queued")
    assert "only audit and score" in client.get("/api/jobs/job-train/results").json()["detail"]
    job_results.discard(job_results.job_folder(models_dir, "job-ok"))  # past the retention
    gone = client.get("/api/jobs/job-ok/results")
    assert gone.status_code == 404 and "AVOCET_EVENT_RETENTION_DAYS" in gone.json()["detail"]


def test_result_files_are_bounded_and_pruned(tmp_path):
    old = job_results.prepare(tmp_path, "old-job", 3600)
    assert job_results.write(old, "issues", ({"n": n} for n in range(10)), limit=3) == 3
    assert not list(old.glob("*.part"))
    fresh = job_results.prepare(tmp_path, "new-job", 3600, now=time.time() + 7200)  # old-job is 2 h old by then
    assert not old.exists() and fresh.is_dir()
    with pytest.raises(ValueError):
        job_results.job_folder(tmp_path, "../escape")
    kept, reaped = job_results.prepare(tmp_path, "kept", 3600), job_results.prepare(tmp_path, "reaped", 3600)
    job_results.discard_jobs(tmp_path, ["reaped", "../escape", "never-had-one"])  # the reaper's ids, whatever they are
    assert kept.is_dir() and not reaped.exists()


def test_cli_score_follows_then_writes_the_predictions(tmp_path, capsys):
    import httpx

    from avocet_cli.client import ApiClient
    from avocet_cli.main import main

    job = {"id": "job-1", "kind": "score", "state": "queued", "name": "mine", "data": DS, "last_event_id": 1,
           "submitted_at": "2026-01-01T10:00:00+00:00"}  # fmt: skip
    done = {**job, "state": "succeeded", "result": {"results": [{"name": "predictions", "rows": 2}],
                                                    "summary": {"predicted_by_label": {"a": 2}}}}  # fmt: skip
    end = {"id": 2, "ts": "2026-01-01T10:00:02+00:00", "type": "complete", "message": "scored 2 rows", "data": {}}
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path, request.url.params.get("name"), request.content))
        if request.url.path == "/api/models/mine/score":
            return httpx.Response(202, json=job)
        if request.url.path.endswith("/events"):
            return httpx.Response(200, content=f"id: 2\ndata: {json.dumps(end)}\n\n".encode(),
                                  headers={"content-type": "text/event-stream"})  # fmt: skip
        if request.url.path.endswith("/results"):
            return httpx.Response(200, content=b'{"line": 1}\n{"line": 2}\n')
        return httpx.Response(200, json=done)

    client = ApiClient("http://api", transport=httpx.MockTransport(handle))
    target = tmp_path / "predictions.jsonl"
    assert main(["models", "score", "mine", "--dataset", DS, "-o", str(target)], client=client) == 0
    assert json.loads(seen[0][3]) == {"data": DS}
    assert ("GET", "/api/jobs/job-1/results", "predictions", b"") in seen
    assert target.read_bytes() == b'{"line": 1}\n{"line": 2}\n'
    assert "wrote 2 rows" in capsys.readouterr().err


@pytest.fixture
def box(tmp_path, monkeypatch):
    """The worker's settings pointing at temporary folders, with the example file as the score file."""
    from shared.settings import get_settings

    example = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "email_score.jsonl.example"
    for name, value in {"MODELS_DIR": tmp_path / "models", "DATA_DIR": tmp_path / "data", "SCORE_FILE": example}.items():
        monkeypatch.setenv(f"AVOCET_{name}", str(value))
    get_settings.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()


def test_run_job_gives_the_child_a_results_folder_and_drops_it_when_the_run_fails(redis_client, box):
    import sys

    from worker.queue.job_runner import run_job

    # A stand-in child: writes an issues file into the folder it is given; with "ok", ends with a `complete` line.
    script = ("import json, pathlib, sys; out = pathlib.Path(sys.argv[sys.argv.index('--results-dir') + 1]); "
              "(out / 'issues.jsonl').write_text('{}\\n'); print(json.dumps({'type': 'start', 'message': 's'})); "
              "sys.argv[1] == 'ok' and print(json.dumps({'type': 'complete', 'message': 'done', "
              "'results': [{'name': 'issues', 'rows': 1}], 'summary': {}}))")  # fmt: skip

    def command(how: str):
        return lambda kind, params: [sys.executable, "-c", script, how]

    for job_id, how, state in (("a-ok", "ok", "succeeded"), ("a-bad", "no-end", "failed")):
        run_sync(redis_client, jobs.create_job(job_id, "audit", {"data": "score-file"}, "api"))
        outcome = run_job(redis_client, job_id, "audit", {"data": "score-file", "folds": 2}, worker="w",
                          command_for=command(how))  # fmt: skip
        assert outcome.state == state, outcome.message
        assert job_results.job_folder(box, job_id).exists() == (state == "succeeded")
    record = run_sync(redis_client, jobs.get_job("a-ok"))
    assert record["result"] == {"results": [{"name": "issues", "rows": 1}], "summary": {}}
    run_sync(redis_client, jobs.create_job("a-nods", "audit", {"data": DS}, "api"))
    missing = run_job(redis_client, "a-nods", "audit", {"data": DS}, worker="w", command_for=command("ok"))
    assert missing.state == "failed" and f"no dataset {DS!r}" in missing.message


def test_a_worker_restarting_after_a_crash_removes_its_lost_jobs_results(redis_client, monkeypatch, tmp_path):
    """kill -9 left a running audit with a results folder; the worker restarting under its name fails the job and
    removes the folder (when an API process reaps it first, api/main.py does the same)."""
    from shared import keys
    from worker.queue import signals

    run_sync(redis_client, jobs.create_job("a-lost", "audit", {"data": DS}, "api"))
    assert run_sync(redis_client, jobs.claim("a-lost", "w@test", "lease"))
    redis_client.delete(keys.job_alive("a-lost"))  # the dead worker's heartbeat expired
    folder, kept = job_results.prepare(tmp_path, "a-lost", 3600), job_results.prepare(tmp_path, "a-done", 3600)
    monkeypatch.setattr(signals, "_client", lambda: redis_client)
    monkeypatch.setattr(signals, "get_settings", lambda: type("Settings", (), {"models_dir": tmp_path})())
    monkeypatch.setattr(signals.threading, "Thread", lambda *a, **k: type("NoThread", (), {"start": lambda s: None})())
    signals.reap_and_beat(sender=type("Worker", (), {"hostname": "w@test"})())
    assert run_sync(redis_client, jobs.get_job("a-lost"))["error"]["code"] == "worker_lost"
    assert not folder.exists() and kept.is_dir()
