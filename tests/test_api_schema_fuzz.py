"""No 5xx from any input: schemathesis reads the API's OpenAPI schema, generates requests from it (valid ones and
invalid ones) and sends them to the real app in process (ASGI) on fakeredis (the unit tier's store). No answer may be a server error or
break the schema it declares. EXAMPLES bounds the cases per operation, so the run stays well under a minute."""

import fake_store
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import create_app
from shared import jobs
from shared.redis_ops import run_sync
from shared.settings import Settings

EXAMPLES = 40


class EndingSender:
    """Stands in for Celery: ends each job at once, so a stream that /api/finetune/run opens also closes."""

    def __init__(self, client) -> None:
        self.redis = client

    def send(self, kind: str, job_id: str, kwargs: dict) -> None:
        run_sync(self.redis, jobs.reject(job_id, "not run: schema fuzzing", "fuzz"))

    def revoke(self, job_id: str) -> None:
        pass

    def close(self) -> None:
        self.redis.close()


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    root, server = tmp_path_factory.mktemp("fuzz"), fake_store.new_server()
    with fake_store.route_api_to(server) as redis_url:
        config = Settings(redis_url=redis_url, models_dir=root / "models", data_dir=root / "data", api_token=None,
                          allowed_hosts=["testserver"])  # the Host schemathesis sends  # fmt: skip
        sender = EndingSender(fake_store.FakeRedis(server=server, decode_responses=True))
        app = create_app(config, sender=sender, web_dist=root / "no-dist")
        yield schemathesis.openapi.from_asgi("/openapi.json", app)
        shutdown_lifespans()
        sender.close()


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation: the app's schema, read without starting it."""
    paths = create_app(Settings(redis_url="redis://unused:1/0")).openapi()["paths"]
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


@pytest.mark.parametrize("method, path", _operations())
def test_no_input_gives_a_server_error_or_breaks_the_schema(api_schema, method, path):
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def call(case):
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    call()
