"""A bounded queue whose upkeep costs the same however long it is (issue 16, item 7): past AVOCET_MAX_QUEUED_JOBS a
submission is refused (429 + Retry-After, with the setting named); the lost-message check and a page of the job list
read a bounded amount of Redis per call, whatever the number of queued jobs."""

import json

import pytest

from shared import job_queries, job_reaper, jobs, keys
from shared.redis_ops import run_sync


def _replied_items(client, op):
    """Drive `op` like run_sync, counting the items of every reply (list members, hash fields, pipeline results)."""
    total = 0

    def size(reply):
        if isinstance(reply, (list, tuple)):
            return sum(max(1, size(item)) for item in reply)
        return len(reply) if isinstance(reply, dict) else 1

    try:
        step = next(op)
        while True:
            reply = step(client)
            total += size(reply)
            step = op.send(reply)
    except StopIteration as done:
        return done.value, total


def _message(job_id):
    return json.dumps({"body": "x" * 200, "headers": {"lang": "py", "task": keys.TASK_FINETUNE, "id": job_id},
                       "properties": {"correlation_id": job_id}})  # fmt: skip


def _queue(r, count, with_messages=True):
    pipe = r.pipeline(transaction=False)
    for n in range(count):
        job_id = f"job-{n:05d}"
        pipe.hset(keys.job(job_id), mapping={"id": json.dumps(job_id), "kind": '"benchmark"', "state": '"queued"'})
        pipe.zadd(keys.JOBS_ALL, {job_id: n + 1})
        pipe.zadd(keys.JOBS_QUEUED, {job_id: n + 1})
        if with_messages:
            pipe.lpush(keys.QUEUE, _message(job_id))  # kombu pushes left and pops right: the oldest on the right
    pipe.execute()


def test_submissions_past_the_bound_are_429_with_retry_after(make_client, fake_sender):
    client = make_client(max_queued_jobs=2)
    assert [client.post("/api/benchmark/jobs", json={}).status_code for _ in range(2)] == [202, 202]
    for refused in (client.post("/api/finetune/jobs", json={"epochs": 1}), client.post("/api/benchmark/jobs", json={}),
                    client.get("/api/finetune/run", params={"epochs": 1})):  # fmt: skip
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        assert "AVOCET_MAX_QUEUED_JOBS" in refused.json()["detail"] and "2 jobs" in refused.json()["detail"]
    assert len(fake_sender.sent) == 2
    client.post(f"/api/jobs/{fake_sender.sent[0][1]}/cancel")  # room again
    assert client.post("/api/benchmark/jobs", json={}).status_code == 202


@pytest.mark.parametrize("queued", [100, 3000])
def test_the_lost_message_check_reads_a_bounded_amount(redis_client, queued):
    _queue(redis_client, queued)
    reaped, items = _replied_items(redis_client, job_reaper.fail_lost_messages())
    assert reaped == []
    assert items < 2 * job_reaper.BROKER_SCAN + 4 * job_reaper.LOST_CHECK_JOBS, items


def test_a_lost_message_at_the_front_is_still_found(redis_client, monkeypatch):
    monkeypatch.setattr(job_reaper, "LOST_MESSAGE_AFTER_S", 0)
    _queue(redis_client, 50)
    redis_client.lrem(keys.QUEUE, 1, _message("job-00000"))  # the oldest job's message is gone
    assert run_sync(redis_client, job_reaper.fail_lost_messages()) == ["job-00000"]


def test_a_long_broker_queue_never_fails_a_job_it_did_not_read_to_the_end(redis_client, monkeypatch):
    monkeypatch.setattr(job_reaper, "LOST_MESSAGE_AFTER_S", 0)
    monkeypatch.setattr(job_reaper, "BROKER_SCAN", 20)
    _queue(redis_client, 10)
    for n in range(100):  # messages of jobs cancelled while queued sit on the right end until a worker skips them
        redis_client.rpush(keys.QUEUE, _message(f"cancelled-{n}"))
    for _ in range(2):
        assert run_sync(redis_client, job_reaper.fail_lost_messages()) == []


@pytest.mark.parametrize("queued", [600, 3000])
def test_a_page_of_jobs_reads_a_bounded_amount(redis_client, queued):
    _queue(redis_client, queued, with_messages=False)
    (page, more), items = _replied_items(redis_client, job_queries.page_jobs(50))
    assert len(page) == 50 and more and page[0]["queue_position"] == queued
    assert items < 50 * 8, items  # a page, not the whole queued set
    job = run_sync(redis_client, jobs.get_job("job-00000"))
    assert job["queue_position"] == 1
