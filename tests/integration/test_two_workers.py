"""Scaling out, on one box: two workers with distinct names on the same `gpu` queue (two processes standing in for
two GPU boxes, as in README "Scaling out") run two jobs at once, queue positions count down as they take jobs,
and a `kill -9` of one worker fails its job `worker_lost` while the other finishes its own and takes the rest."""

import time
from datetime import datetime

import pytest
from service_helpers import JobSampler, job_record, new_live_stack, read_sse, submit_finetune, wait_job, wait_until

pytestmark = pytest.mark.integration

JOBS = 4
LOST_WITHIN_S = 20.0


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    stack, server = new_live_stack(tmp_path_factory.mktemp("two-workers"))
    try:
        stack.start_api()
        nodes = {stack.start_worker(name=name): name for name in ("gpu1", "gpu2")}
        yield stack, nodes
    finally:
        stack.stop_all()
        server.stop()


def _queued_positions(sample: dict[str, dict], ids: list[str]) -> list[int]:
    return [sample[i]["queue_position"] for i in ids if i in sample and sample[i]["state"] == "queued"]


def test_two_workers_share_the_queue_and_one_can_die(two_workers):
    stack, nodes = two_workers
    base = stack.base_url
    jobs = [submit_finetune(base, epochs=1, name=f"two-{i}") for i in range(JOBS)]
    ids = [job["id"] for job in jobs]
    with JobSampler(base, ids) as sampler:
        for job_id in ids[:2]:
            wait_job(base, job_id, {"running"}, 60)
        first, second = (job_record(stack.redis_url, job_id) for job_id in ids[:2])
        assert {first["worker"], second["worker"]} == set(nodes)  # one job on each worker
        read_sse(f"{base}/api/jobs/{ids[0]}/events", stop=lambda e: e["type"] in ("start", "complete", "error"))
        killed_at = time.time()
        stack.kill_worker(nodes[first["worker"]])
        lost = wait_job(base, ids[0], {"failed", "succeeded", "cancelled"}, 60)
        # When the service recorded the failure, not when this test's polling noticed it.
        lost_after = datetime.fromisoformat(lost["finished_at"]).timestamp() - killed_at
        finished = [wait_job(base, i, {"succeeded", "failed", "cancelled"}, 300) for i in ids[1:]]

    assert lost["state"] == "failed", lost
    events = read_sse(f"{base}/api/jobs/{ids[0]}/events", timeout=30)
    assert events[-1]["type"] == "error" and events[-1]["data"]["reason"] == "worker_lost"
    survivor = second["worker"]
    assert [j["state"] for j in finished] == ["succeeded"] * (JOBS - 1)
    assert [job_record(stack.redis_url, j["id"])["worker"] for j in finished] == [survivor] * (JOBS - 1)
    for before, after in zip(finished, finished[1:]):
        assert after["started_at"] >= before["finished_at"]  # the survivor runs one at a time

    samples = [jobs_now for _, jobs_now in sampler.samples]
    running = [sum(j["state"] == "running" for j in now.values()) for now in samples]
    assert max(running) == 2, running  # never more than one per worker
    # Waiting jobs are numbered 1, 2, ... in submission order, and each one's number only ever counts down.
    at_submit = [job["queue_position"] for job in jobs if job["queue_position"] is not None]
    assert at_submit == sorted(at_submit)
    for now in samples:
        positions = _queued_positions(now, ids)
        assert positions == list(range(1, len(positions) + 1)), now
    for job_id in ids:
        seen = [now[job_id]["queue_position"] for now in samples if now.get(job_id, {}).get("state") == "queued"]
        assert seen == sorted(seen, reverse=True), (job_id, seen)
    assert any(_queued_positions(now, ids) == [1, 2] for now in samples)  # jobs 3 and 4 waited together
    assert any(_queued_positions(now, ids) == [1] for now in samples)  # then job 4 alone, next to run
    wait_until(lambda: stack.health().get("workers") == [survivor], 60, "health to list only the survivor")
    assert lost_after <= LOST_WITHIN_S, f"the lost job was failed {lost_after:.1f}s after the kill"
