"""Bad input is a 4xx naming the rule (never a 500), the token guard, and the OpenAPI schema. The request guard's
own checks (Host, cross-site, content type, body size, sessions) are in test_api_security.py."""

import pytest

BAD_BODIES = [
    ({"model": "gpt-5", "epochs": 1}, "bge-m3, deberta-small, minilm"),
    ({"model": "minilm", "epochs": 0}, "greater than or equal to 1"),
    ({"model": "minilm", "epochs": 21}, "less than or equal to 20"),
    ({"model": "minilm", "epochs": "many"}, "valid integer"),
    ({"model": "minilm", "epochs": 1, "name": "Bad Name!"}, "^[a-z0-9_-]{1,64}$"),
    ({"model": "minilm", "epochs": 1, "name": "abc\n"}, "^[a-z0-9_-]{1,64}$"),
    ({"model": "minilm", "epochs": 1, "colour": "red"}, "Extra inputs"),
    ({"model": "m" * 300, "epochs": 1}, "at most 200 characters"),
    ({"model": "~nobody-here/x", "epochs": 1}, "bge-m3, deberta-small, minilm"),  # was a 500 (expanduser)
    ({"model": "minilm", "data": "/etc/passwd"}, "not a path"),
    ({"model": "minilm", "labels": ["a,b", "c"]}, "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),  # commas are no label
    ({"model": "minilm", "labels": ["a", "a"]}, "two different labels"),
]


@pytest.mark.parametrize("body, detail", BAD_BODIES)
def test_bad_job_body_is_422(make_client, fake_sender, body, detail):
    response = make_client().post("/api/finetune/jobs", json=body)
    assert response.status_code == 422 and detail in response.text
    assert fake_sender.sent == []


@pytest.mark.parametrize("query, detail", [
    ("model=gpt-5&epochs=1", "minilm"), ("epochs=99", "less than or equal"), ("epochs=1&colour=red", "Extra inputs"),
    ("data=/etc/passwd", "not a path"), ("labels=a,a", "two different labels"), ("name=abc%0A", "^[a-z0-9_-]{1,64}$"),
])  # fmt: skip
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


@pytest.mark.parametrize("value", ["abc", "-1", "+5", "1e3", "9007199254740992", "1" * 40])
def test_bad_last_event_id_is_422(make_client, value):
    client = make_client()
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]
    response = client.get(f"/api/finetune/jobs/{job_id}/events", headers={"Last-Event-ID": value})
    assert response.status_code == 422 and "0 to 9007199254740991" in response.text
    if value.lstrip("+").isdigit() and int(value) < 2**53:
        return  # as a query parameter '+5' is the number 5
    assert client.get(f"/api/jobs/{job_id}/events", params={"last_event_id": value}).status_code == 422


def test_unknown_query_parameters_are_refused(make_client):
    client = make_client()
    response = client.get("/api/jobs?limit=5&colour=red")
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "colour"]
    assert client.get("/api/health?verbose=1").status_code == 422  # open routes too
    assert client.get("/api/jobs?limit=5").status_code == 200


def test_token_guards_work_reads_and_cancelling(make_client, fake_sender):
    client = make_client(api_token="s3cret")
    body, auth = {"model": "minilm", "epochs": 1}, {"Authorization": "Bearer s3cret"}
    assert client.post("/api/finetune/jobs", json=body).status_code == 401
    assert client.post("/api/finetune/jobs", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    job = client.post("/api/finetune/jobs", json=body, headers=auth)
    assert job.status_code == 202
    # Tokens in query strings end up in access logs: refused now, even the right one.
    refused = client.post("/api/finetune/jobs?token=s3cret", json=body)
    assert refused.status_code == 400 and "access logs" in refused.text
    job_id = job.json()["id"]
    assert client.post(f"/api/finetune/jobs/{job_id}/cancel").status_code == 401
    assert client.post(f"/api/finetune/jobs/{job_id}/cancel?token=s3cret").status_code == 400
    assert client.post(f"/api/finetune/jobs/{job_id}/cancel", headers=auth).status_code == 202
    assert client.get("/api/finetune/run?epochs=1").status_code == 401
    assert client.post("/api/benchmark/jobs", json={}).status_code == 401
    assert len(fake_sender.sent) == 1
    for path in ("/api/jobs", f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/events", "/api/models", "/api/base-models",
                 "/api/finetune/status", "/api/benchmark/results", "/api/datasets"):  # reads need it too
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=auth).status_code in (200, 204), path
    assert client.get("/api/health").status_code == 200  # a load balancer's probe stays open


def test_openapi_documents_every_endpoint(make_client):
    schema = make_client().get("/openapi.json").json()
    expected = {
        "/api/finetune/status": {"get"}, "/api/finetune/run": {"get"}, "/api/finetune/jobs": {"post"},
        "/api/jobs": {"get"}, "/api/jobs/{job_id}": {"get"}, "/api/jobs/{job_id}/events": {"get"},
        "/api/jobs/{job_id}/log": {"get"}, "/api/jobs/{job_id}/cancel": {"post"}, "/api/health": {"get"},
        "/api/benchmark/results": {"get"}, "/api/benchmark/jobs": {"post"}, "/api/base-models": {"get"},
        "/api/models": {"get"}, "/api/models/{name}": {"get", "delete"}, "/api/models/{name}/rollback": {"post"}, "/api/models/{name}/predict": {"post"},
        "/api/models/{name}/versions/{version}": {"delete"}, "/api/datasets": {"get", "post"},
        "/api/datasets/{dataset_id}": {"get", "delete"}, "/api/session": {"get", "post", "delete"},
        "/api/datasets/{dataset_id}/audit": {"post"}, "/api/models/{name}/score": {"post"},
        "/api/jobs/{job_id}/results": {"get"},
    }  # fmt: skip
    assert {path: set(ops) for path, ops in schema["paths"].items()} == expected
    events_op = schema["paths"]["/api/jobs/{job_id}/events"]["get"]
    assert "text/event-stream" in events_op["responses"]["200"]["content"]
