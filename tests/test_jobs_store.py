"""Job store: records, queue positions, state changes, cancel, crash detection, the publish hook."""

import json

from shared import events, job_lease, job_queries, job_reaper, jobs, keys
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
    listed = run_sync(redis_client, job_queries.list_jobs())
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


def _age_suspicion(r, job_id, seconds):
    """As if the check that first found the job without a sign of life ran `seconds` ago."""
    r.set(keys.job_suspect(job_id), int(r.time()[0]) - seconds)


def test_reaper_fails_running_jobs_without_heartbeat(redis_client, monkeypatch):
    monkeypatch.setattr(job_reaper, "GRACE_WINDOW_S", 10**9)  # as if Redis had just restarted: the grace applies
    for job_id in ("dead", "alive"):
        _create(redis_client, job_id)
        run_sync(redis_client, jobs.claim(job_id, "w1"))
    redis_client.delete(keys.job_alive("dead"))  # as if its heartbeat TTL ran out
    assert run_sync(redis_client, job_reaper.reap_stale()) == []  # first seen missing: its worker gets REAP_GRACE_S more
    _age_suspicion(redis_client, "dead", job_reaper.REAP_GRACE_S)
    assert run_sync(redis_client, job_reaper.reap_stale()) == ["dead"]
    dead = run_sync(redis_client, jobs.get_job("dead"))
    assert dead["state"] == "failed" and "worker w1 stopped" in dead["error"]["message"]
    last = _events(redis_client, "dead")[-1]
    assert last["type"] == "error" and last["data"] == {"reason": "worker_lost", "state": "failed"}
    assert run_sync(redis_client, jobs.get_job("alive"))["state"] == "running"


def test_long_after_a_redis_start_a_missing_heartbeat_is_reaped_at_once(redis_client, monkeypatch):
    monkeypatch.setattr(job_reaper, "GRACE_WINDOW_S", 0)  # Redis has been up longer than any heartbeat TTL
    _create(redis_client, "dead")
    run_sync(redis_client, jobs.claim("dead", "w1"))
    redis_client.delete(keys.job_alive("dead"))
    assert run_sync(redis_client, job_reaper.reap_stale()) == ["dead"]


def test_a_restarted_worker_fails_its_own_leftovers_at_once(redis_client, monkeypatch):
    monkeypatch.setattr(job_reaper, "GRACE_WINDOW_S", 10**9)  # even just after a Redis start: no grace for its own
    for job_id, worker in (("mine", "w1"), ("other", "w2")):
        _create(redis_client, job_id)
        run_sync(redis_client, jobs.claim(job_id, worker))
        redis_client.delete(keys.job_alive(job_id))
    assert run_sync(redis_client, job_reaper.reap_stale(restarted_worker="w1")) == ["mine"]
    assert run_sync(redis_client, jobs.get_job("other"))["state"] == "running"


def test_a_worker_never_reaps_a_job_whose_heartbeat_is_alive(redis_client):
    """A second worker started under a live one's name must not fail the live one's running job (issue 16, 8)."""
    _create(redis_client, "live")
    run_sync(redis_client, jobs.claim("live", "gpu@box", "lease-1"))
    assert run_sync(redis_client, job_reaper.reap_stale(restarted_worker="gpu@box")) == []
    assert run_sync(redis_client, jobs.get_job("live"))["state"] == "running"


def test_a_job_submitted_without_a_name_is_reported_under_its_published_name(redis_client):
    """The default name is the model key (issue 16, 13): never models/avocet-None."""
    _create(redis_client, "a")
    run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))
    assert run_sync(redis_client, job_lease.begin_publish("a", "lease-1")) == job_lease.PUBLISH
    redis_client.delete(keys.job_alive("a"))
    assert run_sync(redis_client, job_reaper.reap_stale(restarted_worker="w1")) == ["a"]
    message = run_sync(redis_client, jobs.get_job("a"))["error"]["message"]
    assert "None" not in message and "models/avocet-minilm" in message


def test_shutdown_flags_only_that_workers_jobs(redis_client):
    for job_id, worker in (("mine", "w1"), ("other", "w2")):
        _create(redis_client, job_id)
        run_sync(redis_client, jobs.claim(job_id, worker))
    assert run_sync(redis_client, jobs.request_shutdown("w1")) == ["mine"]
    assert run_sync(redis_client, jobs.stop_reason("mine")) == "shutdown"
    assert run_sync(redis_client, jobs.stop_reason("other")) is None


def test_publish_hook_records_celery_call_jobs(redis_client, monkeypatch):
    """The worker side's one place that creates records: valid kwargs are queued with their hyperparameters
    resolved; bad ones are recorded and failed at once (bad_input), before any worker takes them."""
    from worker.queue import signals as hooks

    monkeypatch.setattr(hooks, "_client", lambda: redis_client)
    good, bad = ((), {"model": "minilm", "epochs": 2}, {}), ((), {"model": "nope", "epochs": 50}, {})
    hooks.record_published_job(sender=keys.TASK_FINETUNE, body=good, headers={"id": "cli-1"})
    hooks.record_published_job(sender=keys.TASK_FINETUNE, body=bad, headers={"id": "cli-2"})
    hooks.record_published_job(sender=keys.TASK_BENCHMARK, body=((), {}, {}),
                               headers={"id": "follow-1", keys.SOURCE_HEADER: "worker"})  # fmt: skip
    hooks.record_published_job(sender="some.other.task", body=good, headers={"id": "other-1"})
    job = run_sync(redis_client, jobs.get_job("cli-1"))
    assert job["source"] == "celery" and job["state"] == "queued" and job["epochs"] == 2
    assert job["hyperparameters"]["learning_rate"] == 1e-4  # the registry default, resolved once
    job = run_sync(redis_client, jobs.get_job("cli-2"))
    assert job["state"] == "failed" and job["error"]["code"] == "bad_input" and job["model"] == "nope"
    assert "epochs" in job["error"]["message"] and job["epochs"] == 50
    assert run_sync(redis_client, jobs.get_job("follow-1"))["source"] == "worker"
    assert run_sync(redis_client, jobs.get_job("other-1")) is None


def test_record_creation_validates_nothing_again(redis_client, monkeypatch):
    """A job's parameters are validated where they enter (the API, the publish hook, the worker's own check), never
    again when its record is written."""
    from pydantic import BaseModel

    from shared.job_schema import FinetuneParams

    params = FinetuneParams.model_validate({"model": "minilm", "epochs": 1})
    calls = []
    real = BaseModel.model_validate.__func__
    monkeypatch.setattr(FinetuneParams, "model_validate", classmethod(lambda cls, *a, **k: calls.append(1)
                                                                     or real(cls, *a, **k)))  # fmt: skip
    assert run_sync(redis_client, jobs.create_job("once", "finetune", params, "api"))
    assert calls == [] and run_sync(redis_client, jobs.get_job("once"))["hyperparameters"]["batch_size"] == 16


def test_a_heartbeat_back_within_the_grace_keeps_the_job(redis_client, monkeypatch):
    """After a Redis restart every heartbeat TTL has run out at once; a worker that beats again is not reaped."""
    monkeypatch.setattr(job_reaper, "GRACE_WINDOW_S", 10**9)
    _create(redis_client, "a")
    run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))
    redis_client.delete(keys.job_alive("a"))
    assert run_sync(redis_client, job_reaper.reap_stale()) == []
    assert run_sync(redis_client, job_lease.beat("a", "lease-1")) == (job_lease.OWNED, None)
    _age_suspicion(redis_client, "a", 0)
    redis_client.delete(keys.job_alive("a"))
    assert run_sync(redis_client, job_reaper.reap_stale()) == []  # the clock started again
    assert run_sync(redis_client, jobs.get_job("a"))["state"] == "running"


def test_worker_lost_while_publishing_does_not_claim_the_old_model(redis_client):
    _create(redis_client, "a", name="m")
    run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))
    assert run_sync(redis_client, job_lease.begin_publish("a", "lease-1")) == job_lease.PUBLISH
    redis_client.delete(keys.job_alive("a"))
    assert run_sync(redis_client, job_reaper.reap_stale(restarted_worker="w1")) == ["a"]
    assert "may already be the new model" in run_sync(redis_client, jobs.get_job("a"))["error"]["message"]


def test_missing_or_partial_records_read_as_none(redis_client):
    _create(redis_client, "a")
    redis_client.hset(keys.job("ghost"), "last_event_id", "7")  # a fragment, as a write after data loss could leave
    redis_client.zadd(keys.JOBS_ALL, {"ghost": 99, "gone": 100})
    assert run_sync(redis_client, jobs.get_job("ghost")) is None
    assert run_sync(redis_client, jobs.get_job("gone")) is None
    assert [j["id"] for j in run_sync(redis_client, job_queries.list_jobs())] == ["a"]
    assert run_sync(redis_client, jobs.cancel("gone")) is None and not redis_client.exists(keys.cancel_flag("gone"))


def test_writes_under_a_lease_stop_once_the_job_is_not_the_workers(redis_client):
    _create(redis_client, "a")
    run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))
    assert run_sync(redis_client, job_lease.beat("a", "other")) == (job_lease.NOT_OWNED, None)
    assert run_sync(redis_client, job_lease.emit("a", "other", 0, "log", "x", {})) == job_lease.NOT_OWNED
    assert run_sync(redis_client, job_lease.emit("a", "lease-1", 0, "log", "x", {}, {"step": 1})) == 3
    assert run_sync(redis_client, jobs.get_job("a"))["progress"] == {"step": 1}
    assert not run_sync(redis_client, jobs.succeed("a", "ok", {}, jobs.Guard(lease="other")))
    run_sync(redis_client, jobs.fail("a", "reaped", "worker_lost"))
    assert run_sync(redis_client, job_lease.beat("a", "lease-1")) == (job_lease.NOT_OWNED, None)
    assert run_sync(redis_client, job_lease.emit("a", "lease-1", 0, "log", "late", {})) == job_lease.NOT_OWNED
    assert _events(redis_client, "a")[-1]["type"] == "error"  # nothing after the terminal event
    redis_client.flushdb()
    assert run_sync(redis_client, job_lease.beat("a", "lease-1")) == (job_lease.MISSING, None)
    assert run_sync(redis_client, job_lease.begin_publish("a", "lease-1")) == job_lease.STATE_LOST


def test_cancel_once_publishing_has_begun_is_refused(redis_client):
    _create(redis_client, "a")
    run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))
    assert run_sync(redis_client, job_lease.begin_publish("a", "lease-1")) == job_lease.PUBLISH
    job = run_sync(redis_client, jobs.cancel("a"))
    assert job["state"] == "running" and job["publishing"] is True
    assert run_sync(redis_client, jobs.stop_reason("a")) is None
    assert run_sync(redis_client, jobs.succeed("a", "ok", {}, jobs.Guard(lease="lease-1")))


def test_a_cancel_before_publishing_denies_it(redis_client):
    _create(redis_client, "a")
    run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))
    run_sync(redis_client, jobs.cancel("a"))
    assert run_sync(redis_client, job_lease.begin_publish("a", "lease-1")) == "cancel"
    assert not run_sync(redis_client, jobs.get_job("a")).get("publishing")


def test_a_worker_ends_a_job_whose_record_redis_lost(redis_client):
    _create(redis_client, "a", name="m")
    run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))
    record = run_sync(redis_client, jobs.get_job("a"))
    redis_client.flushdb()
    assert not run_sync(redis_client, jobs.fail("a", "lost", "state_lost", None, jobs.Guard(lease="lease-1", floor=7)))
    guard = jobs.Guard(lease="lease-1", floor=7, restore={**record, "last_event_id": 7})
    assert run_sync(redis_client, jobs.fail("a", "lost", "state_lost", None, guard))
    job = run_sync(redis_client, jobs.get_job("a"))
    assert job["state"] == "failed" and job["name"] == "m" and job["last_event_id"] == 8
    assert job["error"]["message"] == "lost"
    log = _events(redis_client, "a")
    assert [(e["id"], e["data"]) for e in log] == [(8, {"reason": "state_lost", "state": "failed"})]
    assert [j["id"] for j in run_sync(redis_client, job_queries.list_jobs())] == ["a"]
    assert not redis_client.zcard(keys.JOBS_RUNNING)


def _broker_message(job_id):
    return json.dumps({"body": "", "headers": {"lang": "py", "task": keys.TASK_FINETUNE, "id": job_id},
                       "properties": {"correlation_id": job_id}})  # fmt: skip


def test_queued_jobs_without_a_task_message_are_failed(redis_client):
    for job_id in ("listed", "taken", "orphan"):
        _create(redis_client, job_id)
    redis_client.lpush(keys.QUEUE, _broker_message("listed"))
    redis_client.hset(keys.BROKER_UNACKED, "tag-1", json.dumps([json.loads(_broker_message("taken")), "gpu", "gpu"]))
    assert run_sync(redis_client, job_reaper.reap_stale()) == []  # first seen without a message: it may be in flight
    for job_id in ("listed", "taken", "orphan"):
        _age_suspicion(redis_client, job_id, job_reaper.LOST_MESSAGE_AFTER_S)
    assert run_sync(redis_client, job_reaper.reap_stale()) == ["orphan"]
    orphan = run_sync(redis_client, jobs.get_job("orphan"))
    assert orphan["state"] == "failed" and "task message was lost" in orphan["error"]["message"]
    assert _events(redis_client, "orphan")[-1]["data"] == {"reason": "message_lost", "state": "failed"}
    assert {run_sync(redis_client, jobs.get_job(j))["state"] for j in ("listed", "taken")} == {"queued"}
    assert not run_sync(redis_client, jobs.claim("orphan", "w1"))  # a late delivery is skipped


def test_a_claim_clears_the_suspicion_of_a_lost_message(redis_client):
    _create(redis_client, "a")
    assert run_sync(redis_client, job_reaper.reap_stale()) == []
    assert run_sync(redis_client, jobs.claim("a", "w1", "lease-1"))  # the worker had it after all
    assert not redis_client.exists(keys.job_suspect("a"))
