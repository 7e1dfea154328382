"""Jobs started with `celery -A worker.queue.app call` list and stream like UI jobs; bad kwargs fail the job, not the worker."""

import json
import subprocess

import httpx
import pytest
from service_helpers import REPO, VENV_BIN, read_sse, wait_until

pytestmark = pytest.mark.integration


def _celery_call(stack, kwargs: dict) -> str:
    argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "call", "avocet.finetune", "--kwargs", json.dumps(kwargs),
            "--queue", "gpu"]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]  # celery call prints the task id, which is the job id


def _job(stack, job_id):
    response = httpx.get(f"{stack.base_url}/api/finetune/jobs/{job_id}", timeout=10)
    return response.json() if response.status_code == 200 else None


def test_bad_kwargs_fail_the_job_and_the_worker_stays_up(live_stack):
    job_id = _celery_call(live_stack, {"model": "no-such-model", "epochs": 50})
    job = wait_until(lambda: (j := _job(live_stack, job_id)) and j["state"] == "failed" and j, 60, "the job to fail")
    assert job["source"] == "celery" and job["error"]["code"] == "bad_input"
    assert "no-such-model" in job["error"]["message"] and "epochs" in job["error"]["message"]
    events = read_sse(f"{live_stack.base_url}/api/finetune/jobs/{job_id}/events")
    assert events[-1]["type"] == "error" and events[-1]["data"]["reason"] == "bad_input"
    assert live_stack.health()["workers"]


def test_celery_call_job_lists_and_streams(live_stack):
    job_id = _celery_call(live_stack, {"model": "minilm", "epochs": 1, "name": "svc-cli"})
    listed = httpx.get(f"{live_stack.base_url}/api/finetune/jobs").json()
    assert job_id in {j["id"] for j in listed}  # recorded at publish time, before the worker picks it up
    events = read_sse(f"{live_stack.base_url}/api/finetune/jobs/{job_id}/events")
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "queued" and "progress" in {e["type"] for e in events}
    assert events[-1]["type"] == "complete"
    job = _job(live_stack, job_id)
    assert job["state"] == "succeeded" and job["source"] == "celery" and job["name"] == "svc-cli"
