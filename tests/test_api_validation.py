"""Bad input is a 422 or 404 (never a 500), the token guard, and the OpenAPI schema."""

import pytest

BAD_BODIES = [
    ({"model": "gpt-5", "epochs": 1}, "bge-m3, deberta-small, minilm"),
    ({"model": "minilm", "epochs": 0}, "greater than or equal to 1"),
    ({"model": "minilm", "epochs": 21}, "less than or equal to 20"),
    ({"model": "minilm", "epochs": "many"}, "valid integer"),
    ({"model": "minilm", "epochs": 1, "name": "Bad Name!"}, "^[a-z0-9_-]{1,64}$"),
    ({"model": "minilm", "epochs": 1, "name": "abc\n"}, "^[a-z0-9_-]{1,64}$"),
    ({"model": "minilm", "epochs": 1, "colour": "red"}, "Extra inputs"),
]


@pytest.mark.parametrize("body, detail", BAD_BODIES)
def test_bad_job_body_is_422(make_client, fake_sender, body, detail):
    response = make_client().post("/api/finetune/jobs", json=body)
    assert response.status_code == 422 and detail in response.text
    assert fake_sender.sent == []


@pytest.mark.parametrize("query, detail", [("model=gpt-5&epochs=1", "minilm"), ("epochs=99", "less than or equal")])
def test_bad_run_query_is_422(make_client, fake_sender, query, detail):
    response = make_client().get(f"/api/finetune/run?{query}")
    assert response.status_code == 422 and detail in response.text
    assert fake_sender.sent == []


@pytest.mark.parametrize(
    "method, path",
    [("get", "/api/finetune/jobs/nope"), ("get", "/api/finetune/jobs/nope/events"),
     ("post", "/api/finetune/jobs/nope/cancel"), ("get", "/api/nothing-here")],
)  # fmt: skip
def test_unknown_job_or_path_is_404(make_client, method, path):
    assert getattr(make_client(), method)(path).status_code == 404


def test_bad_last_event_id_is_422(make_client):
    client = make_client()
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]
    response = client.get(f"/api/finetune/jobs/{job_id}/events", headers={"Last-Event-ID": "abc"})
    assert response.status_code == 422


def test_token_guards_work_starting_and_cancelling(make_client):
    client = make_client(api_token="s3cret")
    body = {"model": "minilm", "epochs": 1}
    assert client.post("/api/finetune/jobs", json=body).status_code == 401
    assert client.post("/api/finetune/jobs", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    job = client.post("/api/finetune/jobs", json=body, headers={"Authorization": "Bearer s3cret"})
    assert job.status_code == 202
    assert client.post("/api/finetune/jobs?token=s3cret", json=body).status_code == 202
    job_id = job.json()["id"]
    assert client.post(f"/api/finetune/jobs/{job_id}/cancel").status_code == 401
    assert client.post(f"/api/finetune/jobs/{job_id}/cancel?token=s3cret").status_code == 202
    assert client.get("/api/finetune/run?epochs=1").status_code == 401
    assert client.post("/api/benchmark/jobs", json={}).status_code == 401
    for path in ("/api/finetune/jobs", "/api/health", "/api/models", "/api/finetune/status"):  # reads stay open
        assert client.get(path).status_code == 200


def test_openapi_documents_every_endpoint(make_client):
    schema = make_client().get("/openapi.json").json()
    expected = {
        "/api/finetune/status": {"get"}, "/api/finetune/run": {"get"}, "/api/finetune/jobs": {"post"},
        "/api/jobs": {"get"}, "/api/jobs/{job_id}": {"get"}, "/api/jobs/{job_id}/events": {"get"},
        "/api/jobs/{job_id}/cancel": {"post"}, "/api/models": {"get"}, "/api/health": {"get"},
        "/api/benchmark/results": {"get"}, "/api/benchmark/jobs": {"post"},
    }  # fmt: skip
    assert {path: set(ops) for path, ops in schema["paths"].items()} == expected
    events_op = schema["paths"]["/api/jobs/{job_id}/events"]["get"]
    assert "text/event-stream" in events_op["responses"]["200"]["content"]
