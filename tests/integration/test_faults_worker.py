"""Faults against a real Celery worker training a real MiniLM, jobs sent with `celery -A worker.queue.app call`:
Celery's result state mirrors the job; a stopped (kill -STOP) training child fails `stalled` and the queue moves on;
a worker paused past its heartbeat is reaped and, resumed, writes and publishes nothing; a Redis outage past the
heartbeat TTL and the stall timeout costs the run nothing; Redis losing its data ends the run `state_lost`.

The one test harness's stack (tests/service_helpers.py: its own Redis, one worker, the API whose reaper fails jobs of
a silent worker); the tests stop Redis and pause the worker.
"""

import json
import signal
import subprocess
from pathlib import Path

import psutil
import pytest
import redis
from service_helpers import LONG_RUN, REPO, VENV_BIN, new_live_stack, redis_outage, wait_until

from shared import events, jobs, keys
from shared.redis_ops import run_sync

pytestmark = pytest.mark.integration

STALL_S = 20
# Past the heartbeat TTL and the stall timeout, so every watchdog that a long outage crosses is crossed here too;
# the 60 s outage is perf/faults.py's redis_down (--redis-down-s 60, its default).
OUTAGE_S = max(jobs.HEARTBEAT_TTL_S, STALL_S) + 5


class Stack:
    """The harness's LiveStack (API + one worker on its own Redis), driven the way ops scripts do: `celery call`,
    `celery result`, the job store read directly."""

    def __init__(self, root: Path):
        self.live, self.redis = new_live_stack(root, stall_timeout_s=str(STALL_S))
        self.models_dir, self.env = self.live.models_dir, self.live.env
        self._client = redis.Redis.from_url(self.redis.url, decode_responses=True, socket_timeout=3,
                                            socket_connect_timeout=3)  # fmt: skip

    def client(self) -> redis.Redis:
        return self._client  # reconnects by itself after a Redis restart (same port)

    def call(self, **kwargs) -> str:
        argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "call", keys.TASK_FINETUNE, "--kwargs",
                json.dumps(kwargs), "--queue", "gpu"]  # fmt: skip
        done = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def job(self, job_id: str) -> dict:
        return run_sync(self.client(), jobs.get_job(job_id)) or {}

    def wait_state(self, job_id: str, states: set[str], timeout: float) -> dict:
        return wait_until(lambda: (j := self._job_or_none(job_id)) and j["state"] in states and j, timeout,
                          f"job {job_id} to be {states}\n{self.log_tail()}")  # fmt: skip

    def _job_or_none(self, job_id: str) -> dict | None:
        try:
            return self.job(job_id)
        except redis.RedisError:
            return None

    def events(self, job_id: str) -> list[dict]:
        return [e.parsed() for e in run_sync(self.client(), events.read_after(job_id, 0))]

    def wait_progress(self, job_id: str, count: int = 2, timeout: float = 120) -> None:
        wait_until(lambda: sum(e["type"] == "progress" for e in self.events(job_id)) >= count, timeout,
                   f"progress of job {job_id}\n{self.log_tail()}")  # fmt: skip

    def celery_result(self, job_id: str) -> tuple[str, str]:
        """(Celery's stored status, what `celery result` prints) for the task."""
        meta = wait_until(lambda: self.client().get(f"celery-task-meta-{job_id}"), 60, "the task result")
        argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "result", job_id]
        done = subprocess.run(argv, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=60)
        return json.loads(meta)["status"], done.stdout + done.stderr

    def log_tail(self) -> str:
        return self.live.log_tail("worker", 40)

    def close(self) -> None:
        self.live.stop_all()
        self.redis.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("faults"))
    try:
        stack.live.start_api()
        stack.live.start_worker()
        yield stack
    finally:
        stack.close()


def _training_child(name: str) -> psutil.Process:
    def find():
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if "worker.training" in cmdline and any(f'"name":"{name}"' in part for part in cmdline):
                return process
        return None

    return wait_until(find, 60, f"the training process of {name}")


def _published(stack, name: str) -> bool:
    return (stack.models_dir / f"avocet-{name}" / "training_info.json").is_file()


def test_celery_result_state_mirrors_the_job(stack):
    bad = stack.call(model="no-such-model")
    good = stack.call(model="minilm", epochs=1, name="mirror-ok")
    stopped = stack.call(**LONG_RUN, name="mirror-cancel")
    stack.wait_progress(stopped)
    run_sync(stack.client(), jobs.cancel(stopped))
    assert stack.wait_state(stopped, {"cancelled", "failed", "succeeded"}, 120)["state"] == "cancelled"

    status, printed = stack.celery_result(bad)
    assert status == "FAILURE" and "JobFailed" in printed and "no-such-model" in printed
    status, printed = stack.celery_result(good)
    assert status == "SUCCESS" and "succeeded" in printed and stack.job(good)["state"] == "succeeded"
    status, printed = stack.celery_result(stopped)
    assert status == "REVOKED" and "revoked" in printed.lower()


def test_a_queued_task_revoked_like_flower_does_ends_cancelled(stack):
    running = stack.call(**LONG_RUN, name="revoke-busy")
    queued = stack.call(model="minilm", epochs=1, name="revoke-queued")
    stack.wait_progress(running)
    argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "control", "revoke", queued]  # what Flower sends
    done = subprocess.run(argv, cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert stack.job(queued)["state"] == "queued"  # the worker drops the message when it comes up, not before
    run_sync(stack.client(), jobs.cancel(running))
    ended = stack.wait_state(queued, {"cancelled", "failed", "succeeded"}, 120)
    assert ended["state"] == "cancelled", ended.get("error")
    assert not _published(stack, "revoke-queued")


def test_a_stopped_training_child_fails_stalled_and_the_queue_moves_on(stack):
    stalled = stack.call(**LONG_RUN, name="stall")
    after = stack.call(model="minilm", epochs=1, name="after-stall")
    stack.wait_progress(stalled)
    child = _training_child("stall")
    child.send_signal(signal.SIGSTOP)
    failed = stack.wait_state(stalled, {"failed", "succeeded", "cancelled"}, STALL_S + 60)
    assert failed["state"] == "failed" and stack.events(stalled)[-1]["data"]["reason"] == "stalled"
    wait_until(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, 30, "the child to die")
    assert stack.wait_state(after, {"succeeded", "failed"}, 180)["state"] == "succeeded"
    assert stack.celery_result(stalled)[0] == "FAILURE"
    assert not _published(stack, "stall")


def test_a_worker_paused_past_its_heartbeat_is_fenced(stack):
    paused = stack.call(**LONG_RUN, name="paused")
    stack.wait_progress(paused)
    child = _training_child("paused")
    pool = child.parent()  # the Celery pool process running the task
    pool.send_signal(signal.SIGSTOP)
    try:
        reaped = stack.wait_state(paused, {"failed", "succeeded", "cancelled"}, jobs.HEARTBEAT_TTL_S + 90)
    finally:
        pool.send_signal(signal.SIGCONT)
    assert reaped["state"] == "failed" and "stopped while the job was running" in reaped["error"]["message"]
    terminal = stack.events(paused)[-1]
    wait_until(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, 30, "the child to be killed")
    follow_up = stack.call(model="minilm", epochs=1, name="after-pause")
    assert stack.wait_state(follow_up, {"succeeded", "failed"}, 180)["state"] == "succeeded"
    assert stack.events(paused)[-1] == terminal and terminal["data"]["reason"] == "worker_lost"  # nothing after it
    assert stack.job(paused)["state"] == "failed" and not _published(stack, "paused")
    assert stack.celery_result(paused)[0] == "FAILURE"


def test_a_redis_outage_costs_the_run_nothing(stack):
    # 10 epochs (~50 s on a 2-core CPU) outlast the 25 s outage; LONG_RUN's 20 only made the test wait longer
    job_id = stack.call(**{**LONG_RUN, "epochs": 10, "hyperparameters": {"early_stopping_patience": 10}}, name="outage")
    stack.wait_progress(job_id, 3)
    stack.redis = redis_outage(stack.redis, OUTAGE_S)
    done = stack.wait_state(job_id, {"succeeded", "failed", "cancelled"}, 600)
    assert done["state"] == "succeeded" and _published(stack, "outage"), done.get("error")
    log = stack.events(job_id)
    assert [e["id"] for e in log] == list(range(1, len(log) + 1)) and log[-1]["type"] == "complete"
    gaps = [e for e in log if e["type"] == "warning" and e["data"].get("reason") == "redis_unavailable"]
    assert len(gaps) == 1 and gaps[0]["data"]["seconds"] >= OUTAGE_S - 5
    assert stack.celery_result(job_id)[0] == "SUCCESS"


def test_redis_losing_its_data_ends_the_run_state_lost(stack):
    job_id = stack.call(**LONG_RUN, name="lost")
    stack.wait_progress(job_id, 3)
    child = _training_child("lost")
    seen = max(e["id"] for e in stack.events(job_id))
    stack.client().flushall()
    ended = stack.wait_state(job_id, {"failed"}, 60)
    assert "Redis lost this job's record" in ended["error"]["message"]
    log = stack.events(job_id)
    assert len(log) == 1 and log[0]["id"] > seen and log[0]["data"]["reason"] == "state_lost"
    wait_until(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, 30, "the child to be killed")
    follow_up = stack.call(model="minilm", epochs=1, name="after-loss")
    assert stack.wait_state(follow_up, {"succeeded", "failed"}, 180)["state"] == "succeeded"
    assert not _published(stack, "lost")
