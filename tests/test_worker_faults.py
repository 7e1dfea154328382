"""Faults around a running job, on run_job with a stand-in child: a silent or stopped child (stalled), the time
limit, fencing (a run whose job was reaped or lost writes and publishes nothing), the publish handshake against a
late cancel, Redis losing its data, a Redis outage, and Celery's result state mirroring the job."""

import json
import os
import signal
import sys
import threading
import time

import pytest
import redis
from service_helpers import wait_until

from shared import events, job_reaper, jobs, keys
from shared.redis_ops import run_sync
from devtools.redis_server import start_redis
from worker.queue import job_link
from worker.queue.job_runner import Limits, Outcome, run_job

FAKE = r"""
import json, os, sys, time
a = json.loads(sys.argv[1])
def emit(t, m="", **f):
    print(json.dumps({"type": t, "message": m, **f}), flush=True)
if a.get("pidfile"):
    open(a["pidfile"], "w").write(str(os.getpid()))
emit("start", "fake start")
time.sleep(a.get("load_s", 0))
steps = a.get("steps", 3)
for step in range(1, steps + 1):
    time.sleep(a.get("delay", 0))
    emit("progress", f"step {step}", epoch=step / steps, step=step, total=steps, loss=1.0 / step)
if a.get("hang"):
    time.sleep(3600)
if a.get("marker"):
    time.sleep(a.get("before_ask_s", 0))
    emit("publish_request", "ready to publish")
    if sys.stdin.readline().strip() != "publish":
        sys.exit(1)
    open(a["marker"], "w").write("published")
    time.sleep(a.get("after_publish_s", 0))
emit("complete", "saved fake", name="fake", val_macro_f1=0.5)
"""
QUICK = Limits(stall_s=1.5, time_limit_s=120)


def _run(r, job_id, limits=QUICK, **fake):
    run_sync(r, jobs.create_job(job_id, "finetune", {"model": "minilm"}, "api"))
    command = [sys.executable, "-c", FAKE, json.dumps(fake)]
    return run_job(r, job_id, "finetune", {"model": "minilm"}, worker="w1", command_for=lambda kind, params: command,
                   limits=limits)  # fmt: skip


def _events(r, job_id):
    return [e.parsed() for e in run_sync(r, events.read_after(job_id, 0))]


def _while(action):
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


def _gone(pidfile) -> bool:
    try:
        pid = int(pidfile.read_text())
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] == "Z"
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return True


def _after_progress(r, job_id, count=1):
    wait_until(lambda: sum(e["type"] == "progress" for e in _events(r, job_id)) >= count, 30, "progress events")


def test_a_child_that_goes_silent_is_killed_as_stalled(redis_client, tmp_path):
    started = time.monotonic()
    outcome = _run(redis_client, "s", steps=2, hang=True, pidfile=str(tmp_path / "pid"))
    assert outcome.state == "failed" and "printed nothing for 2s" in outcome.message
    assert time.monotonic() - started < 20 and _gone(tmp_path / "pid")
    assert _events(redis_client, "s")[-1]["data"] == {"reason": "stalled", "state": "failed"}


def test_a_stopped_child_is_killed_as_stalled(redis_client, tmp_path):
    pidfile = tmp_path / "pid"

    def stop_it():
        _after_progress(redis_client, "k")
        os.kill(int(pidfile.read_text()), signal.SIGSTOP)

    _while(stop_it)
    outcome = _run(redis_client, "k", steps=1000, delay=0.1, pidfile=str(pidfile))
    assert outcome.state == "failed" and _events(redis_client, "k")[-1]["data"]["reason"] == "stalled"
    wait_until(lambda: _gone(pidfile), 10, "the stopped child to be killed")


def test_silence_while_the_model_loads_is_not_a_stall(redis_client):
    assert _run(redis_client, "l", load_s=2.5, steps=2).state == "succeeded"


def test_a_run_past_its_time_limit_is_killed(redis_client, tmp_path):
    outcome = _run(redis_client, "t", Limits(stall_s=60, time_limit_s=1.5), steps=1000, delay=0.1,
                   pidfile=str(tmp_path / "pid"))  # fmt: skip
    assert outcome.state == "failed" and "time limit of 2s" in outcome.message
    assert _events(redis_client, "t")[-1]["data"] == {"reason": "time_limit", "state": "failed"}
    assert _gone(tmp_path / "pid")


def test_a_reaped_run_is_killed_and_writes_nothing_more(redis_client, tmp_path):
    def reap():
        _after_progress(redis_client, "f", 3)
        run_sync(redis_client, jobs.fail("f", "worker w1 stopped (reaped)", "worker_lost"))

    _while(reap)
    started = time.monotonic()
    outcome = _run(redis_client, "f", steps=1000, delay=0.05, pidfile=str(tmp_path / "pid"),
                   marker=str(tmp_path / "published"))  # fmt: skip
    assert outcome == Outcome("failed", "worker w1 stopped (reaped)") and time.monotonic() - started < 20
    assert _gone(tmp_path / "pid") and not (tmp_path / "published").exists()
    log = _events(redis_client, "f")
    assert [e["type"] for e in log].count("error") == 1 and log[-1]["data"]["reason"] == "worker_lost"


def test_a_run_that_lost_its_job_is_not_allowed_to_publish(redis_client, tmp_path):
    def reap():
        _after_progress(redis_client, "p", 2)
        run_sync(redis_client, jobs.fail("p", "reaped", "worker_lost"))

    _while(reap)
    outcome = _run(redis_client, "p", steps=2, before_ask_s=1.0, marker=str(tmp_path / "published"))
    assert outcome.state == "failed" and not (tmp_path / "published").exists()
    assert _events(redis_client, "p")[-1]["message"] == "reaped"


def test_a_cancel_after_publishing_began_is_refused_and_the_job_succeeds(redis_client, tmp_path):
    marker, answers = tmp_path / "published", []

    def cancel_late():
        wait_until(marker.exists, 30, "the child to publish")
        answers.append(run_sync(redis_client, jobs.cancel("c")))

    thread = _while(cancel_late)
    outcome = _run(redis_client, "c", steps=2, marker=str(marker), after_publish_s=1.5)
    thread.join(10)
    assert answers[0]["state"] == "running" and answers[0]["publishing"] is True
    assert outcome.state == "succeeded" and run_sync(redis_client, jobs.get_job("c"))["state"] == "succeeded"
    log = _events(redis_client, "c")
    assert log[-1]["type"] == "complete" and not any("unchanged" in e["message"] for e in log)


def test_a_cancel_before_publishing_keeps_the_previous_model(redis_client, tmp_path):
    def cancel_early():
        _after_progress(redis_client, "e", 2)
        run_sync(redis_client, jobs.cancel("e"))

    _while(cancel_early)
    outcome = _run(redis_client, "e", steps=2, before_ask_s=1.5, marker=str(tmp_path / "published"))
    assert outcome.state == "cancelled" and "previous model is unchanged" in outcome.message
    assert not (tmp_path / "published").exists()


def test_a_job_whose_record_redis_lost_ends_failed_state_lost(redis_client, tmp_path):
    seen = []

    def lose_data():
        _after_progress(redis_client, "d", 3)
        seen.append(max(e["id"] for e in _events(redis_client, "d")))
        redis_client.flushdb()

    _while(lose_data)
    outcome = _run(redis_client, "d", steps=1000, delay=0.05, pidfile=str(tmp_path / "pid"))
    assert outcome.state == "failed" and "Redis lost this job's record" in outcome.message
    job = run_sync(redis_client, jobs.get_job("d"))
    assert job["state"] == "failed" and job["kind"] == "finetune" and job["submitted_at"]
    log = _events(redis_client, "d")
    assert len(log) == 1 and log[0]["data"]["reason"] == "state_lost" and log[0]["id"] > seen[0]
    assert _gone(tmp_path / "pid")


@pytest.fixture
def own_redis(tmp_path):
    server = start_redis(tmp_path / "redis")
    client = redis.Redis.from_url(server.url, decode_responses=True, socket_timeout=1, socket_connect_timeout=1,
                                  retry=redis.retry.Retry(redis.backoff.NoBackoff(), 1))  # fmt: skip
    holder = {"server": server}
    yield client, holder
    client.close()
    holder["server"].stop()


@pytest.mark.integration  # a real redis-server, stopped and restarted
def test_a_redis_outage_during_a_run_delays_events_but_costs_nothing(own_redis):
    client, holder = own_redis

    def outage():
        _after_progress(client, "o", 3)
        holder["server"].stop()
        time.sleep(3)
        holder["server"] = holder["server"].restart()

    thread = _while(outage)
    outcome = _run(client, "o", steps=60, delay=0.1)
    thread.join(30)
    assert outcome.state == "succeeded"
    log = _events(client, "o")
    assert [e["id"] for e in log] == list(range(1, len(log) + 1))
    assert [e["data"]["step"] for e in log if e["type"] == "progress"] == list(range(1, 61))
    gap = [e for e in log if e["type"] == "warning"]
    assert len(gap) == 1 and gap[0]["data"]["reason"] == "redis_unavailable" and gap[0]["data"]["late"] > 0
    assert log[-1]["type"] == "complete" and run_sync(client, jobs.get_job("o"))["state"] == "succeeded"


@pytest.mark.integration  # a real redis-server, stopped
def test_redis_away_past_the_outage_limit_stops_the_run(own_redis, monkeypatch, tmp_path):
    client, holder = own_redis
    monkeypatch.setattr(job_link, "OUTAGE_LIMIT_S", 2.0)
    monkeypatch.setattr(job_link, "RETRY_EVERY_S", 0.2)

    def outage():
        _after_progress(client, "u", 2)
        holder["server"].stop()

    _while(outage)
    started = time.monotonic()
    outcome = _run(client, "u", steps=1000, delay=0.1, pidfile=str(tmp_path / "pid"))
    assert outcome.state == "failed" and "Redis was unreachable" in outcome.message
    assert "not recorded" in outcome.message  # Redis is still away: the reaper ends the job once it is back
    assert time.monotonic() - started < 30 and _gone(tmp_path / "pid")


class _Task:
    """Stands in for a bound Celery task: records what the mirror does."""

    def __init__(self):
        self.request = type("Request", (), {"id": "job-1", "hostname": "w1"})()
        self.revoked, self.events = [], []
        self.backend = self

    def mark_as_revoked(self, task_id, reason, request=None):
        self.revoked.append((task_id, reason))

    def send_event(self, type_, **fields):
        self.events.append(type_)


def test_celery_result_state_mirrors_the_job():
    from celery.exceptions import Ignore

    from worker.queue.tasks import JobFailed, mirror

    task = _Task()
    assert mirror(task, Outcome("succeeded", "saved")) == {"job_id": "job-1", "state": "succeeded"}
    with pytest.raises(JobFailed, match="the run exited with code 1"):
        mirror(task, Outcome("failed", "the run exited with code 1"))
    with pytest.raises(Ignore):
        mirror(task, Outcome("cancelled", "cancelled by request"))
    assert task.revoked == [("job-1", "cancelled by request")] and task.events == ["task-revoked"]
    with pytest.raises(Ignore):  # a duplicate delivery of a job running elsewhere leaves the result alone
        mirror(task, Outcome("running"))
    assert len(task.revoked) == 1


def test_the_lost_message_check_reads_celerys_own_messages(real_redis_client, redis_server, monkeypatch):
    """Messages as Celery's Redis transport really stores them: waiting in the queue list, or taken by a worker and
    not yet acknowledged (the `unacked` hash). Only the job with neither is failed."""
    from celery import Celery

    from worker.queue import signals

    redis_client = real_redis_client  # Celery's transport needs a real Redis
    monkeypatch.setattr(signals, "_client", lambda: redis_client)  # the publish hook records into this test's Redis

    app = Celery("probe", broker=redis_server)
    for job_id in ("waiting", "taken", "orphan"):
        run_sync(redis_client, jobs.create_job(job_id, "finetune", {"model": "minilm"}, "api"))
    for job_id in ("taken", "waiting"):
        app.send_task(keys.TASK_FINETUNE, kwargs={}, task_id=job_id, queue=keys.QUEUE)
    with app.connection_for_write() as connection:  # a worker takes the oldest and has not acknowledged it yet
        assert connection.default_channel.basic_get(keys.QUEUE, no_ack=False).headers["id"] == "taken"
        assert redis_client.hlen(keys.BROKER_UNACKED) == 1 and redis_client.llen(keys.QUEUE) == 1
        assert run_sync(redis_client, job_reaper.reap_stale()) == []
        for job_id in ("waiting", "taken", "orphan"):
            redis_client.set(keys.job_suspect(job_id), int(redis_client.time()[0]) - job_reaper.LOST_MESSAGE_AFTER_S)
        assert run_sync(redis_client, job_reaper.reap_stale()) == ["orphan"]
    app.close()
