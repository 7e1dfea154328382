"""Jobs, status, models, benchmark results and health endpoints (real Redis, Celery replaced by FakeSender)."""

import json
import time
from datetime import datetime, timedelta

from shared import events, jobs, keys
from shared.progress import ProgressTracker
from shared.redis_ops import run_sync


def test_submit_queues_a_job_and_sends_the_task_by_id(make_client, fake_sender):
    client = make_client()
    response = client.post("/api/finetune/jobs", json={"model": "minilm", "epochs": 2, "name": "mine"})
    assert response.status_code == 202
    job = response.json()
    assert job["state"] == "queued" and job["queue_position"] == 1 and job["source"] == "api"
    assert (job["model"], job["epochs"], job["name"], job["kind"]) == ("minilm", 2, "mine", "finetune")
    assert fake_sender.sent == [("finetune", job["id"], {"model": "minilm", "epochs": 2, "name": "mine"})]
    assert set(job) == {"id", "kind", "model", "epochs", "name", "state", "submitted_at", "started_at", "finished_at",
                        "queue_position", "progress", "result", "error", "last_event_id", "source", "data",
                        "hyperparameters", "estimated_finish"}  # fmt: skip


def test_list_newest_first_with_positions_and_read_one(make_client):
    client = make_client()
    ids = [client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"] for _ in range(3)]
    listed = client.get("/api/finetune/jobs").json()
    assert [j["id"] for j in listed] == ids[::-1]
    assert [j["queue_position"] for j in listed] == [3, 2, 1]
    assert client.get(f"/api/finetune/jobs/{ids[1]}").json()["queue_position"] == 2
    assert len(client.get("/api/finetune/jobs?limit=2").json()) == 2


def test_cancel_queued_job(make_client, fake_sender, redis_client):
    client = make_client()
    first, second = (client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"] for _ in range(2))
    cancelled = client.post(f"/api/finetune/jobs/{first}/cancel")
    assert cancelled.status_code == 202 and cancelled.json()["state"] == "cancelled"
    assert fake_sender.revoked == [first]
    assert client.get(f"/api/finetune/jobs/{second}").json()["queue_position"] == 1
    assert client.post(f"/api/finetune/jobs/{first}/cancel").status_code == 409


def test_cancel_running_job_asks_its_worker(make_client, redis_client):
    client = make_client()
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]
    run_sync(redis_client, jobs.claim(job_id, "w1"))
    response = client.post(f"/api/finetune/jobs/{job_id}/cancel")
    assert response.status_code == 202 and response.json()["state"] == "running"
    assert redis_client.get(keys.cancel_flag(job_id)) == "cancel"


def test_broker_down_fails_the_job_with_503(make_client, fake_sender):
    fake_sender.fail = True
    client = make_client()
    response = client.post("/api/finetune/jobs", json={"epochs": 1})
    assert response.status_code == 503 and "Redis" in response.json()["detail"]
    (job,) = client.get("/api/finetune/jobs").json()
    assert job["state"] == "failed"


def _write_info(models_dir, folder, **info):
    path = models_dir / folder
    path.mkdir(parents=True)
    (path / "training_info.json").write_text(json.dumps(info))


def test_status_lists_models_and_skips_malformed(make_client, tmp_path, caplog):
    models = tmp_path / "models"
    _write_info(models, "avocet-old", model_key="minilm", val_macro_f1=0.5, timestamp="2025-01-01T00:00:00+00:00",
                sample_count=10)  # fmt: skip
    _write_info(models, "avocet-new", model_key="deberta-small", val_macro_f1=0.7,
                timestamp="2025-02-01T00:00:00+00:00", sample_count=20)  # fmt: skip
    _write_info(models, "avocet-broken", val_macro_f1="n/a")
    (models / "avocet-garbage").mkdir()
    (models / "avocet-garbage" / "training_info.json").write_text("{not json")
    client = make_client()
    response = client.get("/api/finetune/status")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "avocet-new", "base_model": "deberta-small", "val_macro_f1": 0.7,
         "timestamp": "2025-02-01T00:00:00+00:00", "sample_count": 20},
        {"name": "avocet-old", "base_model": "minilm", "val_macro_f1": 0.5,
         "timestamp": "2025-01-01T00:00:00+00:00", "sample_count": 10},
    ]  # fmt: skip
    assert "avocet-garbage" in caplog.text and "avocet-broken" in caplog.text


def test_status_is_empty_without_models(make_client):
    assert make_client().get("/api/finetune/status").json() == []


def test_benchmark_results(make_client, tmp_path):
    client = make_client()
    assert client.get("/api/benchmark/results").json() == {"latest": None, "history": []}
    models = tmp_path / "models"
    models.mkdir()
    (models / "benchmark_results.json").write_text("{broken")
    assert client.get("/api/benchmark/results").json() == {"latest": None, "history": []}
    runs = [{"id": "2", "timestamp": "t2", "results": []}, {"id": "1", "timestamp": "t1", "results": []}]
    (models / "benchmark_results.json").write_text(json.dumps({"runs": runs}))
    assert client.get("/api/benchmark/results").json() == {"latest": runs[0], "history": runs}


def test_benchmark_job_is_queued_listed_and_followed_like_a_finetune(make_client, fake_sender):
    client = make_client()
    response = client.post("/api/benchmark/jobs", json={"models": ["tfidf", "minilm", "tfidf"]})
    assert response.status_code == 202
    kind, job_id, kwargs = fake_sender.sent[0]
    assert (kind, kwargs) == ("benchmark", {"models": ["tfidf", "minilm"]})
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["kind"] == "benchmark" and job["model"] == "tfidf,minilm" and job["epochs"] is None
    client.post("/api/finetune/jobs", json={"epochs": 1})
    assert [j["kind"] for j in client.get("/api/jobs").json()] == ["finetune", "benchmark"]
    assert [j["id"] for j in client.get("/api/jobs?kind=benchmark").json()] == [job_id]
    assert client.get(f"/api/finetune/jobs/{job_id}").json()["id"] == job_id  # the seed's paths still answer


def test_no_get_but_the_seed_run_starts_work(make_client):
    paths = make_client().get("/openapi.json").json()["paths"]
    assert [path for path, ops in paths.items() if "get" in ops and path.endswith("/run")] == ["/api/finetune/run"]
    assert make_client().get("/api/benchmark/run").status_code == 404


def test_models_lists_registry_keys(make_client):
    models = make_client().get("/api/base-models").json()
    assert [m["key"] for m in models] == ["bge-m3", "deberta-small", "minilm"]
    assert [m["key"] for m in models if m["default"]] == ["minilm"]


def test_health_reports_workers_and_queue(make_client, redis_client):
    client = make_client()
    assert client.get("/api/health").json() == {
        "status": "degraded", "redis": True, "workers": [], "queue_length": 0, "running": 0,
    }  # fmt: skip
    redis_client.zadd(keys.WORKERS, {"celery@box": time.time()})  # what a worker's heartbeat writes
    client.post("/api/finetune/jobs", json={"epochs": 1})
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["workers"] == ["celery@box"] and health["queue_length"] == 1


def test_health_without_redis_is_503(make_client):
    client = make_client(redis_url="redis://127.0.0.1:1/0")
    response = client.get("/api/health")
    assert response.status_code == 503 and response.json()["status"] == "down"


def test_job_list_pages_with_a_cursor(make_client):
    client = make_client()
    ids = [client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"] for _ in range(5)]
    client.post("/api/benchmark/jobs", json={})
    first = client.get("/api/jobs?limit=2&kind=finetune")
    assert [j["id"] for j in first.json()] == ids[:-3:-1]
    second = client.get(f"/api/jobs?limit=2&kind=finetune&before={first.headers['x-next-before']}")
    third = client.get(f"/api/jobs?limit=2&kind=finetune&before={second.headers['x-next-before']}")
    assert [j["id"] for j in second.json() + third.json()] == ids[2::-1]
    assert "x-next-before" not in third.headers
    assert client.get("/api/jobs?before=unknown").json() == []


def test_event_log_as_json_pages(make_client, redis_client):
    client = make_client()
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]
    for i in range(4):
        run_sync(redis_client, events.publish(job_id, "log", f"line {i}"))
    page = client.get(f"/api/jobs/{job_id}/log?after=0&limit=3").json()
    assert [e["id"] for e in page["events"]] == [1, 2, 3] and page["has_more"] and page["state"] == "queued"
    rest = client.get(f"/api/jobs/{job_id}/log?after={page['next_after']}&limit=3").json()
    assert [e["message"] for e in rest["events"]] == ["line 2", "line 3"] and not rest["has_more"]


def test_running_job_has_an_estimated_finish(make_client, redis_client):
    client = make_client()
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]
    assert client.get(f"/api/jobs/{job_id}").json()["estimated_finish"] is None
    run_sync(redis_client, jobs.claim(job_id, "w1"))
    started = datetime.fromisoformat(client.get(f"/api/jobs/{job_id}").json()["started_at"])
    snapshot = ProgressTracker(started).update("progress", {"step": 5, "total": 10}, started + timedelta(seconds=10))
    run_sync(redis_client, jobs.set_progress(job_id, snapshot))  # what the worker records with each step
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["estimated_finish"] == (started + timedelta(seconds=20)).isoformat(timespec="seconds")


def test_cancel_while_the_model_is_being_published_is_refused_truthfully(make_client, redis_client):
    client = make_client()
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]
    run_sync(redis_client, jobs.claim(job_id, "w1"))
    redis_client.hset(keys.job(job_id), "publishing", "true")  # what the worker's publish grant records
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 409 and "will end succeeded" in response.json()["detail"]
    assert not redis_client.exists(keys.cancel_flag(job_id))


def test_redis_down_is_503_with_retry_after_never_500(make_client):
    client = make_client(redis_url="redis://127.0.0.1:1/0")
    for method, path in (("get", "/api/jobs"), ("get", "/api/jobs/x"), ("post", "/api/finetune/jobs")):
        response = client.request(method, path, json={"epochs": 1} if method == "post" else None)
        assert response.status_code == 503 and response.headers["retry-after"] == "2", (path, response.text)
