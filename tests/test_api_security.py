"""Closed by default (README "Security model"): the bind-address rule, the Host allowlist, cross-site refusal of
requests that change something, JSON-only bounded bodies, the token on every API route (header or session cookie,
never a query string), and no server paths in `data`/`model`, with the same rule for queue kwargs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security import exposure_problem, host_name
from shared import keys
from shared.data_files import Sources, to_paths, untrusted_context
from shared.job_schema import BenchmarkParams, FinetuneParams
from shared.settings import Settings

REPO = Path(__file__).resolve().parents[1]
AUTH = {"Authorization": "Bearer s3cret-token-for-tests"}
CROSS_SITE = [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}, {"Origin": "http://evil.example"},
              {"Origin": "null"}, {"Origin": "http://127.0.0.1.evil.example"}]  # fmt: skip


@pytest.fixture
def folders(tmp_path):
    """A data folder with one file and a link out of it, and a base-models folder with one model and a link out."""
    data, bases, outside = tmp_path / "data", tmp_path / "bases", tmp_path / "outside"
    for folder in (data, bases, outside / "model"):
        folder.mkdir(parents=True)
    (data / "emails.jsonl").write_text('{"subject": "s", "body": "b", "label": "x"}\n')
    (outside / "secret.txt").write_text("root:x:0:0:SECRET-CONTENT\n")
    (outside / "model" / "config.json").write_text("{}")
    (data / "leak.jsonl").symlink_to(outside / "secret.txt")
    (bases / "mine").mkdir()
    (bases / "mine" / "config.json").write_text("{}")
    (bases / "empty").mkdir()
    (bases / "escape").symlink_to(outside / "model")
    return {"data_dir": data, "base_models_dir": bases, "outside": outside}


def _jobs(client) -> list:
    return client.get("/api/jobs").json()


# -- starting: loopback only, unless a token is set ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]"])
def test_loopback_needs_no_token(host):
    assert exposure_problem(host, Settings(api_token=None)) is None


def test_other_addresses_need_a_token_or_a_loud_opt_out(caplog):
    problem = exposure_problem("0.0.0.0", Settings(api_token=None))
    assert "AVOCET_API_TOKEN" in problem and "export AVOCET_API_TOKEN=" in problem
    assert exposure_problem("192.168.1.5", Settings(api_token="a-long-enough-token-1234")) is None
    assert exposure_problem("0.0.0.0", Settings(api_token=None, allow_unauthenticated_remote=True)) is None
    assert "WITHOUT A TOKEN" in caplog.text


def test_python_m_api_refuses_to_listen_openly_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVOCET_")}
    env["PYTHONPATH"] = str(REPO)  # run from an empty folder: no .env there to set a token
    proc = subprocess.run([sys.executable, "-m", "api", "--host", "0.0.0.0", "--port", "1"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and "AVOCET_API_TOKEN" in proc.stderr and "export" in proc.stderr


def test_without_a_token_only_loopback_clients_are_served(redis_client, fake_redis_url, fake_sender, tmp_path):
    """The backstop for a server started some other way (`uvicorn --factory ... --host 0.0.0.0`)."""
    app = create_app(Settings(redis_url=fake_redis_url, models_dir=tmp_path), sender=fake_sender, web_dist=tmp_path)
    with TestClient(app, base_url="http://127.0.0.1", client=("192.0.2.7", 50000)) as remote:
        response = remote.get("/api/health")
        assert response.status_code == 403 and "AVOCET_API_TOKEN" in response.text
    with TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000)) as local:
        assert local.get("/api/health").status_code == 200


# -- Host allowlist (DNS rebinding) ---------------------------------------------------------------------------------


@pytest.mark.parametrize("header, name", [("127.0.0.1:8000", "127.0.0.1"), ("LOCALHOST", "localhost"),
                                          ("[::1]:8000", "::1"), ("evil.example:80", "evil.example")])  # fmt: skip
def test_host_name_drops_the_port(header, name):
    assert host_name(header) == name


def test_a_rebinding_host_is_refused_and_starts_nothing(make_client, fake_sender):
    client = make_client()
    response = client.get("/api/finetune/run?epochs=1&name=holdout", headers={"Host": "rebind.evil.example:8000"})
    assert response.status_code == 400 and "AVOCET_ALLOWED_HOSTS" in response.text
    assert client.get("/", headers={"Host": "rebind.evil.example"}).status_code == 400  # the page too
    assert fake_sender.sent == [] and _jobs(client) == []


def test_allowed_hosts_are_configurable(make_client):
    client = make_client(allowed_hosts=["avocet.example.org"])
    assert client.get("/api/health").status_code == 400
    assert client.get("/api/health", headers={"Host": "avocet.example.org"}).status_code == 200
    assert make_client(allowed_hosts="*").get("/api/health", headers={"Host": "any.example"}).status_code == 200


# -- requests that change something: not from another site ---------------------------------------------------------


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_the_seed_run_from_another_site_starts_nothing(make_client, fake_sender, headers):
    client = make_client()
    response = client.get("/api/finetune/run?epochs=1&name=holdout", headers=headers)
    assert response.status_code == 403 and "another site" in response.text
    assert fake_sender.sent == [] and _jobs(client) == []


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_posts_from_another_site_are_refused(make_client, fake_sender, headers):
    response = make_client().post("/api/finetune/jobs", json={"epochs": 1}, headers=headers)
    assert response.status_code == 403 and fake_sender.sent == []


def test_a_plain_html_form_cannot_cancel(make_client, fake_sender):
    client = make_client()
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}
    assert client.post(f"/api/jobs/{job_id}/cancel", content=b"x=1", headers=form).status_code == 403
    same_site_form = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
    assert client.post(f"/api/jobs/{job_id}/cancel", content=b"x=1", headers=same_site_form).status_code == 415
    assert client.get(f"/api/jobs/{job_id}").json()["state"] == "queued" and fake_sender.revoked == []


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
                                     {"Origin": "http://127.0.0.1"}, {}])  # fmt: skip
def test_the_page_itself_and_non_browser_clients_may_change_things(make_client, headers):
    assert make_client().post("/api/finetune/jobs", json={"epochs": 1}, headers=headers).status_code == 202


# -- bodies: JSON, bounded --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None])
def test_json_bodies_need_the_json_content_type(make_client, fake_sender, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = make_client().post("/api/finetune/jobs", content=b'{"epochs": 1}', headers=headers)
    assert response.status_code == 415 and "application/json" in response.text
    assert fake_sender.sent == []


def test_body_size_is_bounded_with_the_limit_named(make_client, fake_sender):
    client = make_client(max_body_bytes=2048)
    body = b'{"epochs": 1, "name": "' + b"a" * 4000 + b'"}'
    response = client.post("/api/finetune/jobs", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "2048 bytes (AVOCET_MAX_BODY_BYTES)" in response.json()["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        yield body[:1500]
        yield body[1500:]

    response = client.post("/api/finetune/jobs", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "AVOCET_MAX_BODY_BYTES" in response.text
    assert fake_sender.sent == []


# -- the token: every API route but health and signing in; header or cookie, never the query string ---------------


def test_every_api_route_but_health_and_session_needs_the_token(make_client, fake_sender):
    client = make_client(api_token=AUTH["Authorization"].removeprefix("Bearer "))
    open_paths = {"/api/health", "/api/session"}
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        url = path.replace("{", "").replace("}", "")  # {job_id} -> job_id: any value will do
        for method in operations:
            response = client.request(method, url, json={} if method == "post" else None)
            assert (response.status_code == 401) == (path not in open_paths), (method, path, response.status_code)
    assert fake_sender.sent == []


def test_signing_in_sets_a_strict_httponly_cookie_that_streams_use(make_client):
    token = AUTH["Authorization"].removeprefix("Bearer ")
    client = make_client(api_token=token)
    assert client.get("/api/session").json() == {"token_required": True, "signed_in": False}
    assert client.post("/api/session", json={"token": "wrong"}).status_code == 401
    response = client.post("/api/session", json={"token": token})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/api" in cookie and token not in cookie
    assert client.get("/api/session").json()["signed_in"] is True
    job_id = client.post("/api/finetune/jobs", json={"epochs": 1}).json()["id"]  # the cookie alone
    assert client.post(f"/api/jobs/{job_id}/cancel").status_code == 202
    events = client.get(f"/api/jobs/{job_id}/events")  # what EventSource opens: ends after the terminal event
    assert events.status_code == 200 and '"type": "error"' in events.text.replace('":"', '": "')
    assert client.delete("/api/session").status_code == 204
    assert client.get("/api/jobs").status_code == 401


def _session_cookie(client) -> dict[str, str]:
    return {"Cookie": f"avocet_session={client.cookies['avocet_session']}"}


def test_a_cookie_for_another_token_is_refused(make_client):
    old = make_client(api_token="an-old-token-12345")
    assert old.post("/api/session", json={"token": "an-old-token-12345"}).status_code == 200
    stale = _session_cookie(old)
    client = make_client(api_token="the-current-token-123")  # the token changed: everyone is signed out
    assert client.get("/api/jobs", headers=stale).status_code == 401
    assert client.post("/api/session", json={"token": "the-current-token-123"}).status_code == 200
    assert client.get("/api/jobs", headers=_session_cookie(client)).status_code == 200


def test_signing_out_revokes_the_session_on_the_server(make_client):
    """Issue 16, item 6: the cookie was a fixed HMAC of the token, so a copy of it outlived sign-out forever."""
    client = make_client(api_token="the-current-token-123")
    client.post("/api/session", json={"token": "the-current-token-123"})
    copied = _session_cookie(client)  # what a stolen or synced cookie is
    assert client.get("/api/jobs", headers=copied).status_code == 200
    assert client.delete("/api/session").status_code == 204
    assert client.get("/api/jobs", headers=copied).status_code == 401
    assert client.get("/api/session", headers=copied).json()["signed_in"] is False


def test_sessions_expire_on_the_server(make_client, redis_client):
    client = make_client(api_token="the-current-token-123", session_max_age_s=3600)
    response = client.post("/api/session", json={"token": "the-current-token-123"})
    assert "Max-Age=3600" in response.headers["set-cookie"]
    stored = redis_client.keys(keys.session("*"))
    assert len(stored) == 1 and 3500 < redis_client.ttl(stored[0]) <= 3600  # Redis forgets it when it expires
    assert client.cookies["avocet_session"] not in stored[0]  # only a hash of the id is kept
    redis_client.delete(stored[0])  # what the TTL does at its end
    assert client.get("/api/jobs", headers=_session_cookie(client)).status_code == 401


# -- no server paths in `data` and `model` ----------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["/etc/passwd", "../outside/secret.txt", "sub/emails.jsonl", ".hidden", "leak.jsonl",
                                  "emails.jsonl\n", "a" * 200])  # fmt: skip
def test_data_is_a_name_inside_the_data_folder(make_client, fake_sender, folders, data):
    client = make_client(**{k: v for k, v in folders.items() if k != "outside"})
    response = client.post("/api/finetune/jobs", json={"epochs": 1, "data": data})
    assert response.status_code == 422, response.text
    assert "SECRET-CONTENT" not in response.text and "root:x" not in response.text
    bench = client.post("/api/benchmark/jobs", json={"data": data})
    assert bench.status_code == 422 and "SECRET-CONTENT" not in bench.text
    assert client.get("/api/finetune/run", params={"data": data}).status_code == 422
    assert fake_sender.sent == []


def test_a_data_file_name_or_dataset_id_is_queued_as_given(make_client, fake_sender, folders):
    client = make_client(**{k: v for k, v in folders.items() if k != "outside"})
    for data in ("emails.jsonl", "ds-0123456789abcdef", "score-file"):
        assert client.post("/api/finetune/jobs", json={"epochs": 1, "data": data}).status_code == 202
    assert [kwargs["data"] for _, _, kwargs in fake_sender.sent] == ["emails.jsonl", "ds-0123456789abcdef", "score-file"]


@pytest.mark.parametrize("model", ["/tmp", "outside/model", "../outside/model", "escape", "empty", "nothing-here",
                                   "~root/model", "m" * 300])  # fmt: skip
def test_model_is_a_registry_key_or_a_folder_in_the_base_models_folder(make_client, fake_sender, folders, model):
    client = make_client(**{k: v for k, v in folders.items() if k != "outside"})
    response = client.post("/api/finetune/jobs", json={"epochs": 1, "model": model})
    assert response.status_code == 422 and fake_sender.sent == []
    assert client.post("/api/finetune/jobs", json={"epochs": 1, "model": str(folders["outside"] / "model")}).status_code == 422
    assert client.post("/api/finetune/jobs", json={"epochs": 1, "model": "mine"}).status_code == 202


def test_label_bounds_answer_fast(make_client, fake_sender):
    client = make_client()
    started = time.monotonic()
    response = client.post("/api/finetune/jobs", json={"epochs": 1, "labels": [f"l{i}" for i in range(20_000)]})
    assert response.status_code == 422 and "at most 100 items" in response.text
    assert time.monotonic() - started < 2.0
    assert client.post("/api/finetune/jobs", json={"epochs": 1, "labels": ["a,b", "c"]}).status_code == 422
    assert fake_sender.sent == []


# -- the same rule for the worker (queue kwargs), and the CLI keeps any path ----------------------------------------


def test_queue_kwargs_get_the_api_rule_and_the_cli_any_path(folders):
    settings = Settings(data_dir=folders["data_dir"], base_models_dir=folders["base_models_dir"])
    context = untrusted_context(settings)
    for kwargs in ({"data": "/etc/passwd"}, {"data": "leak.jsonl"}, {"model": str(folders["outside"] / "model")},
                   {"model": "escape"}):  # fmt: skip
        with pytest.raises(ValueError):
            FinetuneParams.model_validate(kwargs, context=context)
    with pytest.raises(ValueError):
        BenchmarkParams.model_validate({"data": "../x.jsonl"}, context=context)
    trusted = FinetuneParams(data="/etc/passwd", model=str(folders["outside"] / "model"))  # the operator's CLI
    assert trusted.data == "/etc/passwd"


def test_to_paths_gives_the_cli_child_paths_inside_the_folders(folders):
    settings = Settings(data_dir=folders["data_dir"], base_models_dir=folders["base_models_dir"])
    params = FinetuneParams.model_validate({"data": "emails.jsonl", "model": "mine"}, context=untrusted_context(settings))
    resolved = to_paths(params, Sources.of(settings))
    assert resolved.data == str((folders["data_dir"] / "emails.jsonl").resolve())
    assert resolved.model == str((folders["base_models_dir"] / "mine").resolve())
    kept = to_paths(FinetuneParams(data="ds-0123456789abcdef", model="minilm"), Sources.of(settings))
    assert (kept.data, kept.model) == ("ds-0123456789abcdef", "minilm")
