"""SSE over a real uvicorn server: replay, Last-Event-ID resume, live fan-out, disconnects, missed publishes,
paged catch-up, trimmed logs, clients that stop reading, jobs Redis has lost."""

import json
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from service_helpers import read_sse, wait_until

from api import sse
from shared import events, jobs, keys
from shared.events import _PUBLISH_LUA
from shared.redis_ops import run_sync, script
from devtools.redis_server import free_port
from worker.queue.job_runner import run_job

FAKE_CLI = str(Path(__file__).with_name("fake_cli.py"))


@pytest.fixture
def api_server(redis_client, fake_redis_url, fake_sender, tmp_path):
    """(base URL, app) of the API under uvicorn in a thread, on the test Redis."""
    from api.main import create_app
    from shared.settings import Settings

    settings = Settings(redis_url=fake_redis_url, models_dir=tmp_path / "models", api_token=None)
    app = create_app(settings, sender=fake_sender, web_dist=tmp_path / "no-dist")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 20, "uvicorn to start")
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(20)


@pytest.fixture
def api_url(api_server):
    return api_server[0]


def _job_with_log(r, job_id="j", n=5, finish=True):
    run_sync(r, jobs.create_job(job_id, "finetune", {"model": "minilm", "epochs": 1}, "api"))
    run_sync(r, jobs.claim(job_id, "w1"))
    for i in range(n):
        run_sync(r, events.publish(job_id, "progress", f"step {i}", {"step": i}))
    if finish:
        run_sync(r, jobs.succeed(job_id, "done", {}))
    return job_id


def _ids(received):
    return [e["id"] for e in received]


def test_replay_of_a_finished_job_and_resume(api_url, redis_client):
    job_id = _job_with_log(redis_client)  # ids 1 queued, 2 started, 3-7 progress, 8 complete
    url = f"{api_url}/api/finetune/jobs/{job_id}/events"
    full = read_sse(url, timeout=30)
    assert _ids(full) == list(range(1, 9)) and [e["_sse_id"] for e in full] == [str(i) for i in range(1, 9)]
    assert full[-1]["type"] == "complete"
    assert _ids(read_sse(url, headers={"Last-Event-ID": "5"}, timeout=30)) == [6, 7, 8]
    assert _ids(read_sse(f"{url}?last_event_id=7", timeout=30)) == [8]
    assert httpx.get(url, headers={"Last-Event-ID": "8"}).status_code == 204


def _follow(api_url, redis_client, job_id) -> tuple[threading.Thread, list]:
    """An SSE client reading the job's events in a thread, returned once its live subscription exists."""
    received: list = []
    reader = threading.Thread(target=lambda: received.extend(read_sse(f"{api_url}/api/finetune/jobs/{job_id}/events")))
    reader.start()
    wait_until(lambda: redis_client.pubsub_numsub(keys.event_channel(job_id))[0][1] == 1, 10, "the subscription")
    return reader, received


def test_live_follow_gets_every_event_once_in_order(api_url, redis_client):
    job_id = _job_with_log(redis_client, n=0, finish=False)
    reader, received = _follow(api_url, redis_client, job_id)
    for i in range(200):
        run_sync(redis_client, events.publish(job_id, "log", f"line {i}"))
    run_sync(redis_client, jobs.succeed(job_id, "done", {}))
    reader.join(30)
    assert _ids(received) == list(range(1, 204))


def test_fan_out_disconnects_leak_nothing(api_url, redis_client):
    job_id = _job_with_log(redis_client, n=0, finish=False)
    url = f"{api_url}/api/finetune/jobs/{job_id}/events"
    results: dict[int, list] = {}

    def client(i):
        stop = (lambda e: e["id"] >= 10) if i % 4 == 0 else None  # every fourth client leaves mid-run
        results[i] = read_sse(url, stop=stop, timeout=60)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    [t.start() for t in threads]
    channel = keys.event_channel(job_id)
    wait_until(lambda: redis_client.pubsub_numsub(channel)[0][1] == 1, 10, "one shared subscription")
    for i in range(100):
        run_sync(redis_client, events.publish(job_id, "log", f"line {i}"))
        time.sleep(0.005)  # a paced publisher, so early leavers really leave mid-stream
    run_sync(redis_client, jobs.succeed(job_id, "done", {}))
    [t.join(60) for t in threads]
    for i, got in results.items():
        assert _ids(got) == (list(range(1, 11)) if i % 4 == 0 else list(range(1, 104))), i
    assert redis_client.pubsub_numsub(channel)[0][1] == 0  # one process-wide reader, and it let go
    assert redis_client.pubsub_numsub(keys.HUB_CHANNEL)[0][1] == 1


def test_events_missed_on_pubsub_still_arrive(api_url, redis_client):
    """Written to the stream but never published (as if pub/sub dropped them): gap and poll re-reads catch up."""
    job_id = _job_with_log(redis_client, n=0, finish=False)
    reader, received = _follow(api_url, redis_client, job_id)
    _publish_silently(redis_client, job_id, events.event_body("log", "unseen"))  # id 3
    run_sync(redis_client, events.publish(job_id, "log", "seen"))  # id 4: the gap triggers a re-read
    _publish_silently(redis_client, job_id, events.event_body("complete", "done", {"state": "succeeded"}))  # id 5
    reader.join(30)
    assert _ids(received) == [1, 2, 3, 4, 5] and received[-1]["type"] == "complete"


def _publish_silently(r, job_id, body):
    job_keys = (keys.job(job_id), keys.event_seq(job_id), keys.event_stream(job_id))
    type_ = json.loads(body)["type"]
    run_sync(r, (lambda: (yield script(_PUBLISH_LUA, job_keys, ("nowhere", body, type_))))())


def test_seed_run_endpoint_streams_a_job_to_complete(api_url, redis_client, fake_sender):
    def fake_worker(kind, job_id, kwargs):
        command = lambda kind, params: [sys.executable, FAKE_CLI, "--steps", "3"]  # noqa: E731
        threading.Thread(target=run_job, args=(redis_client, job_id, kind, kwargs),
                         kwargs={"worker": "w1", "command_for": command}).start()  # fmt: skip

    fake_sender.on_send = fake_worker
    received = read_sse(f"{api_url}/api/finetune/run?model=minilm&epochs=1", timeout=60)
    types = [e["type"] for e in received]
    assert types[:2] == ["queued", "started"] and "progress" in types and types[-1] == "complete"
    assert _ids(received) == list(range(1, len(received) + 1))
    assert all(set(e) == {"id", "ts", "type", "message", "data", "_sse_id"} for e in received)


def test_catch_up_reads_the_stream_a_page_at_a_time(api_url, redis_client, monkeypatch):
    job_id = _job_with_log(redis_client, n=1200)  # 1203 events and the terminal one
    reads = []
    original = events.read_after

    def spy(job_id, after_id, count=None):
        reads.append(count)
        return original(job_id, after_id, count)

    monkeypatch.setattr(events, "read_after", spy)
    received = read_sse(f"{api_url}/api/jobs/{job_id}/events", timeout=60)
    assert _ids(received) == list(range(1, 1204))
    assert len(reads) >= 3 and all(count == sse.REPLAY_BATCH for count in reads)  # never an unbounded XRANGE


def test_replay_whose_start_was_trimmed_begins_with_a_gap_event(api_url, redis_client):
    job_id = _job_with_log(redis_client, n=20)  # ids 1-23
    redis_client.xtrim(keys.event_stream(job_id), minid="0-10", approximate=False)  # as the cap does on a long run
    url = f"{api_url}/api/jobs/{job_id}/events"
    full = read_sse(url, timeout=30)
    gap = full[0]
    assert gap["type"] == "gap" and gap["id"] == 9 and gap["_sse_id"] == "9"
    assert gap["data"] == {"first_missing": 1, "last_missing": 9}
    assert _ids(full[1:]) == list(range(10, 24))
    resumed = read_sse(url, headers={"Last-Event-ID": "3"}, timeout=30)
    assert resumed[0]["type"] == "gap" and resumed[0]["data"] == {"first_missing": 4, "last_missing": 9}
    assert _ids(read_sse(url, headers={"Last-Event-ID": "12"}, timeout=30)) == list(range(13, 24))  # no gap


def test_a_client_that_stops_reading_is_dropped_and_freed(api_server, redis_client, monkeypatch):
    api_url, app = api_server
    monkeypatch.setattr(sse, "SEND_TIMEOUT_S", 2.0)
    job_id = _job_with_log(redis_client, n=0, finish=False)
    channel = keys.event_channel(job_id)
    host, port = api_url.removeprefix("http://").split(":")
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect((host, int(port)))
    stuck.sendall(f"GET /api/jobs/{job_id}/events HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    try:
        wait_until(lambda: redis_client.pubsub_numsub(channel)[0][1] == 1, 10, "the stuck client's subscription")
        for i in range(300):  # ~6 MB: far more than the socket buffers hold
            run_sync(redis_client, events.publish(job_id, "log", f"{i} " + "x" * 20_000))
        wait_until(lambda: not app.state.hub._queues, 30, "the stuck client's queue to be freed")
        assert redis_client.pubsub_numsub(channel)[0][1] == 0
        healthy = read_sse(f"{api_url}/api/jobs/{job_id}/events", stop=lambda e: e["id"] >= 302, timeout=30)
        assert _ids(healthy) == list(range(1, 303))  # the others are served as before
    finally:
        stuck.close()


def test_a_job_lost_with_redis_data_ends_its_stream_cleanly(api_url, redis_client):
    job_id = _job_with_log(redis_client, n=3, finish=False)
    received: list = []
    reader = threading.Thread(target=lambda: received.extend(read_sse(f"{api_url}/api/jobs/{job_id}/events")))
    reader.start()
    wait_until(lambda: len(received) or redis_client.pubsub_numsub(keys.event_channel(job_id))[0][1], 10, "follow")
    redis_client.flushall()  # Redis lost its data (a restart without persistence)
    reader.join(30)
    assert not reader.is_alive()
    assert _ids(received) == [1, 2, 3, 4, 5, 6] and received[-1]["type"] == "error"
    assert received[-1]["data"] == {"state": "failed", "reason": "state_lost"}
    assert httpx.get(f"{api_url}/api/jobs/{job_id}").status_code == 404
    assert httpx.get(f"{api_url}/api/jobs/{job_id}/events").status_code == 404
    assert httpx.get(f"{api_url}/api/jobs").json() == []
