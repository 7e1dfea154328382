"""The event log: ids, replay, live publish, retention (real Redis: the publish path is a Lua script)."""

import threading

from shared import events, jobs, keys
from shared.redis_ops import run_sync


def _job(redis_client, job_id="j1"):
    run_sync(redis_client, jobs.create_job(job_id, "finetune", {"model": "minilm", "epochs": 1}, "api"))
    return job_id


def test_ids_grow_by_one_from_one_whoever_publishes(redis_client):
    job_id = _job(redis_client)  # the `queued` event is id 1
    ids = []

    def publisher():
        for _ in range(50):
            ids.append(run_sync(redis_client, events.publish(job_id, "log", "x")))

    threads = [threading.Thread(target=publisher) for _ in range(4)]
    [t.start() for t in threads]
    [t.join(10) for t in threads]
    assert sorted(ids) == list(range(2, 202))
    replay = [e.parsed() for e in run_sync(redis_client, events.read_after(job_id, 0))]
    assert [e["id"] for e in replay] == list(range(1, 202))
    assert run_sync(redis_client, jobs.get_job(job_id))["last_event_id"] == 201


def test_event_shape_and_replay_after_an_id(redis_client):
    job_id = _job(redis_client)
    run_sync(redis_client, events.publish(job_id, "progress", "step 1", {"loss": 0.5}))
    run_sync(redis_client, events.publish(job_id, "log", "hello"))
    stored = run_sync(redis_client, events.read_after(job_id, 2))
    assert [(e.id, e.type) for e in stored] == [(3, "log")]
    after_2 = [e.parsed() for e in stored]
    assert len(after_2) == 1
    assert set(after_2[0]) == {"id", "ts", "type", "message", "data"}
    assert after_2[0]["id"] == 3 and after_2[0]["type"] == "log" and after_2[0]["data"] == {}
    assert after_2[0]["ts"].endswith("+00:00")
    assert run_sync(redis_client, events.read_after(job_id, 3)) == []


def test_publish_reaches_the_job_channel_with_the_stored_text(redis_client):
    job_id = _job(redis_client)
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(keys.event_channel(job_id))
    pubsub.get_message(timeout=1)
    run_sync(redis_client, events.publish(job_id, "log", "live"))
    message = None
    for _ in range(20):
        message = pubsub.get_message(timeout=0.5)
        if message:
            break
    pubsub.close()
    assert message and message["data"] == run_sync(redis_client, events.read_after(job_id, 1))[0].text


def test_finished_job_keeps_its_log_for_the_retention_period(redis_client):
    job_id = _job(redis_client)
    run_sync(redis_client, jobs.claim(job_id, "w1"))
    assert redis_client.ttl(keys.event_stream(job_id)) == -1  # no expiry while it runs
    retention = events.retention_seconds(7)
    run_sync(redis_client, jobs.succeed(job_id, "done", {}))
    assert retention - 5 <= redis_client.ttl(keys.event_stream(job_id)) <= retention
    assert redis_client.ttl(keys.job(job_id)) == -1  # the job record itself is history and stays


def test_cli_lines_are_wrapped_per_contract():
    assert events.wrap_cli_line('{"type": "progress", "message": "m", "step": 2, "loss": 0.1}') == (
        "progress", "m", {"step": 2, "loss": 0.1},
    )
    assert events.wrap_cli_line("plain text\n") == ("log", "plain text", {})
    assert events.wrap_cli_line('["not", "an", "object"]') == ("log", '["not", "an", "object"]', {})


def test_ids_never_repeat_after_redis_lost_the_counter(redis_client):
    job_id = _job(redis_client)
    for _ in range(4):
        run_sync(redis_client, events.publish(job_id, "log", "x"))  # ids 2..5
    redis_client.delete(keys.event_seq(job_id))  # the counter alone is gone: the stream's last id still counts
    assert run_sync(redis_client, events.publish(job_id, "log", "after")) == 6
    redis_client.flushdb()  # everything is gone: only the caller's high-water mark is left
    assert run_sync(redis_client, events.publish(job_id, "log", "late", floor=6)) == 7
    assert run_sync(redis_client, events.publish(job_id, "log", "next")) == 8
    assert not redis_client.exists(keys.job(job_id))  # no record fragment is made by last_event_id
