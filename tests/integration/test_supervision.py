"""scripts/serve.py (what scripts/up runs) keeps the service up: a `kill -9` of the API or of the worker restarts
that one only, with a log line, a training run survives an API crash, and Ctrl-C stops everything in order. It runs
on a Redis that keeps nothing on disk, so its loud warning is checked too."""

import re
import signal

import psutil
import pytest
import redis
from service_helpers import (
    LONG_RUN, ServedStack, free_port, read_sse, stack_env, start_redis, submit_finetune, wait_job, wait_until,
)  # fmt: skip

from shared import jobs
from shared.redis_ops import run_sync

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    server = start_redis(root / "redis", persistent=False)
    port = free_port()
    env = stack_env(server.url, root / "models")
    stack = ServedStack(f"http://127.0.0.1:{port}", port, env, root / "serve.log")
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        server.stop()


def _restarted(stack: ServedStack, name: str, old_pid: int) -> psutil.Process:
    return wait_until(lambda: (p := stack.child(name)) and p.pid != old_pid and p, 60, f"a new {name} process")


def test_a_killed_api_is_restarted_and_the_training_run_survives(served):
    assert "WARNING: the Redis at" in served.log_text() and "keeps NOTHING on disk" in served.log_text()
    job = submit_finetune(served.base_url, epochs=2, name="sup-api")
    read_sse(f"{served.base_url}/api/jobs/{job['id']}/events", stop=lambda e: e["type"] in ("start", "complete"))
    api, worker = served.child("api"), served.child("worker")
    api.kill()
    _restarted(served, "api", api.pid)
    assert re.search(r"api exited \(signal SIGKILL\) after \d+s; restarting it in 1s", served.log_text())
    done = wait_job(served.base_url, job["id"], {"succeeded", "failed", "cancelled"}, 300)
    assert done["state"] == "succeeded", done
    assert served.child("worker").pid == worker.pid  # the rest kept running


def test_a_killed_worker_is_restarted_fails_its_job_and_takes_the_next(served):
    job = submit_finetune(served.base_url, **{**LONG_RUN, "name": "sup-worker"})
    read_sse(f"{served.base_url}/api/jobs/{job['id']}/events", stop=lambda e: e["type"] in ("start", "complete"))
    api, worker = served.child("api"), served.child("worker")
    worker.kill()
    _restarted(served, "worker", worker.pid)
    assert re.search(r"worker exited \(signal SIGKILL\) after \d+s; restarting it in 1s", served.log_text())
    lost = wait_job(served.base_url, job["id"], {"failed", "succeeded", "cancelled"}, 60)
    assert lost["state"] == "failed" and "stopped while the job was running" in lost["error"]["message"]
    served.wait_ready()
    follow_up = submit_finetune(served.base_url, epochs=1, name="sup-worker")
    assert wait_job(served.base_url, follow_up["id"], {"succeeded", "failed"}, 300)["state"] == "succeeded"
    assert served.child("api").pid == api.pid  # the API was never restarted


def test_ctrl_c_stops_everything_in_order(served):
    job = submit_finetune(served.base_url, **{**LONG_RUN, "name": "sup-stop"})
    read_sse(f"{served.base_url}/api/jobs/{job['id']}/events", stop=lambda e: e["type"] in ("start", "complete"))
    children = [served.child("api"), served.child("worker")]
    descendants = [p for child in children for p in child.children(recursive=True)]
    assert served.stop(signal.SIGINT, timeout=120) == 0
    log = served.log_text()
    assert log.index("stopping api") < log.index("stopping worker") < log.index("avocet.serve: stopped")
    assert not [p for p in children + descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    client = redis.Redis.from_url(served.env["AVOCET_REDIS_URL"], decode_responses=True)
    record = run_sync(client, jobs.get_job(job["id"]))
    client.close()
    assert record["state"] == "failed" and "shut down" in record["error"]["message"]  # stopped, not waited for
