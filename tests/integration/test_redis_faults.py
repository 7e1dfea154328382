"""Redis failing under the service: after it loses its data no request answers 5xx (a lost job reads 404, its SSE
stream ends cleanly, the next job runs), and an SSE client rides out a Redis restart without losing an event."""

import threading

import httpx
import pytest
import redis
import uvicorn
from service_helpers import (
    LONG_RUN, StatusProbe, free_port, read_sse, running_stack, start_redis, submit_finetune, wait_job, wait_until,
)  # fmt: skip

from shared import events, jobs, keys
from shared.redis_ops import run_sync

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("redis-faults")) as stack:
        yield stack


def test_after_redis_loses_its_data_no_request_answers_5xx(stack):
    base = stack.base_url
    job = submit_finetune(base, **{**LONG_RUN, "name": "flushed"})
    url = f"{base}/api/jobs/{job['id']}/events"
    read_sse(url, stop=lambda e: e["type"] in ("progress", "complete", "error"))
    received: list = []
    follower = threading.Thread(target=lambda: received.extend(read_sse(url, headers={"Last-Event-ID": "1"})))
    follower.start()
    probe = StatusProbe(base, ["/api/jobs", f"/api/jobs/{job['id']}", "/api/health", f"/api/jobs/{job['id']}/log"])
    probe.start()
    client = redis.Redis.from_url(stack.redis_url)
    try:
        channel = keys.event_channel(job["id"])
        wait_until(lambda: client.pubsub_numsub(channel)[0][1] >= 1, 20, "the follower to be connected")
        client.flushall()  # as a Redis without persistence does when it restarts
        follower.join(60)
        assert not follower.is_alive() and received[-1]["type"] == "error", received[-3:]
        assert received[-1]["data"]["reason"] == "state_lost"
        lost = wait_until(lambda: (r := httpx.get(f"{base}/api/jobs/{job['id']}")).status_code == 404 or
                          r.json().get("state") == "failed", 60, "the lost job to read 404 (or failed)")  # fmt: skip
        assert lost
        # 404 if the record is gone, else the worker wrote it back `failed` and its log ends with that one event
        status = httpx.get(url).status_code
        assert status in (204, 404) or (status == 200 and read_sse(url, timeout=30)[-1]["data"]["reason"] == "state_lost")
        following = submit_finetune(base, epochs=1, name="after-flush")  # the broker queue must still work
        assert wait_job(base, following["id"], {"succeeded", "failed", "cancelled"}, 240)["state"] == "succeeded"
    finally:
        client.close()
        probe.stopped.set()
        probe.join(10)
    assert [s for s in probe.statuses if s[1] >= 500] == []
    assert not (stack.models_dir / "avocet-flushed").exists()


def test_an_sse_client_rides_out_a_redis_restart(tmp_path, fake_sender):
    from api.main import create_app
    from shared.settings import Settings

    server = start_redis(tmp_path / "redis")
    client = redis.Redis.from_url(server.url, decode_responses=True)
    app = create_app(Settings(redis_url=server.url, models_dir=tmp_path / "models", api_token=None),
                     sender=fake_sender, web_dist=tmp_path / "no-dist")  # fmt: skip
    api = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    threading.Thread(target=api.run, daemon=True).start()
    try:
        wait_until(lambda: api.started, 20, "uvicorn to start")
        run_sync(client, jobs.create_job("j", "finetune", {"model": "minilm", "epochs": 1}, "api"))
        received: list = []
        url = f"http://127.0.0.1:{api.config.port}/api/jobs/j/events"
        follower = threading.Thread(target=lambda: received.extend(read_sse(url, timeout=90)))
        follower.start()
        wait_until(lambda: client.pubsub_numsub(keys.event_channel("j"))[0][1] == 1, 10, "the follower's subscription")
        run_sync(client, events.publish("j", "log", "before the restart"))  # id 2
        server = server.restart()  # SIGTERM: the append-only file is flushed; then the same port and folder
        for i in range(5):  # ids 3-7: pub/sub may not be back yet; the stream re-read finds them
            run_sync(client, events.publish("j", "log", f"after the restart {i}"))
        run_sync(client, events.publish("j", "complete", "done", {"state": "succeeded"}))  # id 8
        follower.join(60)
        assert [e["id"] for e in received] == list(range(1, 9)) and received[-1]["type"] == "complete"
    finally:
        api.should_exit = True
        client.close()
        server.stop()
