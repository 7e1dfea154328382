"""Job store: records, queue positions, state changes, cancel, crash detection, the publish hook."""

from shared import events, jobs, keys
from shared.redis_ops import run_sync



def _create(r, job_id, source="api", **kwargs):
    assert run_sync(r, jobs.create_job(job_id, "finetune", {"model": "minilm", "epochs": 1, **kwargs}, source))


def _events(r, job_id):
    return [e.parsed() for e in run_sync(r, events.read_after(job_id, 0))]


def test_create_records_a_queued_job_once(redis_client):
    _create(redis_client, "a", name="x")
    assert not run_sync(redis_client, jobs.create_job("a", "finetune", {"model": "other"}, "celery"))
    job = run_sync(redis_client, jobs.get_job("a"))
    assert job["state"] == "queued" and job["model"] == "minilm" and job["name"] == "x" and job["source"] == "api"
    assert job["queue_position"] == 1 and job["last_event_id"] == 1
    assert [e["type"] for e in _events(redis_client, "a")] == ["queued"]


def test_list_is_newest_first_with_queue_positions(redis_client):
    for job_id in ("a", "b", "c"):
        _create(redis_client, job_id)
    run_sync(redis_client, jobs.claim("a", "w1"))
    listed = run_sync(redis_client, jobs.list_jobs())
    assert [(j["id"], j["state"], j["queue_position"]) for j in listed] == [
        ("c", "queued", 2), ("b", "queued", 1), ("a", "running", None),
    ]
    assert redis_client.zcard(keys.JOBS_QUEUED) == 2


def test_a_job_starts_once(redis_client):
    _create(redis_client, "a")
    assert run_sync(redis_client, jobs.claim("a", "w1"))
    assert not run_sync(redis_client, jobs.claim("a", "w2"))  # a second delivery does not run it again
    assert run_sync(redis_client, jobs.get_job("a"))["worker"] == "w1"
    assert redis_client.exists(keys.job_alive("a"))


def test_exactly_one_terminal_event(redis_client):
    _create(redis_client, "a")
    run_sync(redis_client, jobs.claim("a", "w1"))
    assert run_sync(redis_client, jobs.succeed("a", "ok", {"name": "m"}))
    assert not run_sync(redis_client, jobs.fail("a", "late", "test"))
    types = [e["type"] for e in _events(redis_client, "a")]
    assert types == ["queued", "started", "complete"]
    job = run_sync(redis_client, jobs.get_job("a"))
    assert job["state"] == "succeeded" and job["result"] == {"name": "m"} and job["finished_at"]
    assert not redis_client.exists(keys.job_alive("a")) and not redis_client.zcard(keys.JOBS_RUNNING)


def test_cancel_queued_job_never_runs(redis_client):
    _create(redis_client, "a")
    _create(redis_client, "b")
    job = run_sync(redis_client, jobs.cancel("a"))
    assert job["state"] == "cancelled" and job["queue_position"] is None
    assert not run_sync(redis_client, jobs.claim("a", "w1"))
    last = _events(redis_client, "a")[-1]
    assert last["type"] == "error" and last["data"]["state"] == "cancelled"
    assert run_sync(redis_client, jobs.get_job("b"))["queue_position"] == 1


def test_cancel_running_job_only_raises_the_flag(redis_client):
    _create(redis_client, "a")
    run_sync(redis_client, jobs.claim("a", "w1"))
    job = run_sync(redis_client, jobs.cancel("a"))
    assert job["state"] == "running"
    assert run_sync(redis_client, jobs.stop_reason("a")) == "cancel"


def test_reaper_fails_running_jobs_without_heartbeat(redis_client):
    for job_id in ("dead", "alive"):
        _create(redis_client, job_id)
        run_sync(redis_client, jobs.claim(job_id, "w1"))
    redis_client.delete(keys.job_alive("dead"))  # as if its heartbeat TTL ran out
    assert run_sync(redis_client, jobs.reap_stale()) == ["dead"]
    dead = run_sync(redis_client, jobs.get_job("dead"))
    assert dead["state"] == "failed" and "worker w1 stopped" in dead["error"]
    last = _events(redis_client, "dead")[-1]
    assert last["type"] == "error" and last["data"] == {"reason": "worker_lost", "state": "failed"}
    assert run_sync(redis_client, jobs.get_job("alive"))["state"] == "running"


def test_a_restarted_worker_fails_its_own_leftovers_at_once(redis_client):
    for job_id, worker in (("mine", "w1"), ("other", "w2")):
        _create(redis_client, job_id)
        run_sync(redis_client, jobs.claim(job_id, worker))
    assert run_sync(redis_client, jobs.reap_stale(restarted_worker="w1")) == ["mine"]
    assert run_sync(redis_client, jobs.get_job("other"))["state"] == "running"


def test_shutdown_flags_only_that_workers_jobs(redis_client):
    for job_id, worker in (("mine", "w1"), ("other", "w2")):
        _create(redis_client, job_id)
        run_sync(redis_client, jobs.claim(job_id, worker))
    assert run_sync(redis_client, jobs.request_shutdown("w1")) == ["mine"]
    assert run_sync(redis_client, jobs.stop_reason("mine")) == "shutdown"
    assert run_sync(redis_client, jobs.stop_reason("other")) is None


def test_publish_hook_records_celery_call_jobs(redis_client, monkeypatch):
    from worker.queue import signals as hooks

    monkeypatch.setattr(hooks, "_client", lambda: redis_client)
    body = ((), {"model": "nope", "epochs": 50}, {})
    hooks.record_published_job(sender=keys.TASK_FINETUNE, body=body, headers={"id": "cli-1"})
    hooks.record_published_job(sender="some.other.task", body=body, headers={"id": "other-1"})
    job = run_sync(redis_client, jobs.get_job("cli-1"))
    assert job["source"] == "celery" and job["state"] == "queued" and job["model"] == "nope" and job["epochs"] == 50
    assert run_sync(redis_client, jobs.get_job("other-1")) is None
