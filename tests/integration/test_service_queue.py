"""One job at a time: queue positions, cancelling queued and running jobs, the previous model kept intact."""

import json

import httpx
import pytest
from service_helpers import LONG_RUN, read_sse, wait_until

pytestmark = pytest.mark.integration


def _submit(stack, **body):
    response = httpx.post(f"{stack.base_url}/api/finetune/jobs", json={"model": "minilm", **body}, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()


def _job(stack, job_id):
    return httpx.get(f"{stack.base_url}/api/finetune/jobs/{job_id}", timeout=10).json()


def _wait_state(stack, job_id, states, timeout=180):
    return wait_until(lambda: (j := _job(stack, job_id))["state"] in states and j, timeout, f"job {job_id} {states}")


def _cancel(stack, job_id):
    response = httpx.post(f"{stack.base_url}/api/finetune/jobs/{job_id}/cancel", timeout=10)
    assert response.status_code == 202, response.text
    return response.json()


def test_queue_positions_order_and_cancel_of_a_queued_job(live_stack):
    first = _submit(live_stack, epochs=2, name="svc-q1")
    _wait_state(live_stack, first["id"], {"running"}, 60)
    second = _submit(live_stack, epochs=1, name="svc-q2")
    third = _submit(live_stack, epochs=1, name="svc-q3")
    assert (second["queue_position"], third["queue_position"]) == (1, 2)
    listed = {j["id"]: j for j in httpx.get(f"{live_stack.base_url}/api/finetune/jobs").json()}
    assert listed[third["id"]]["queue_position"] == 2 and listed[first["id"]]["queue_position"] is None

    assert _cancel(live_stack, second["id"])["state"] == "cancelled"
    assert _job(live_stack, third["id"])["queue_position"] == 1

    done_first = _wait_state(live_stack, first["id"], {"succeeded"})
    done_third = _wait_state(live_stack, third["id"], {"succeeded"})
    assert done_third["started_at"] >= done_first["finished_at"]  # strictly one after the other
    cancelled = read_sse(f"{live_stack.base_url}/api/finetune/jobs/{second['id']}/events")
    assert [e["type"] for e in cancelled] == ["queued", "error"] and cancelled[-1]["data"]["state"] == "cancelled"
    assert _job(live_stack, second["id"])["started_at"] is None
    assert not (live_stack.models_dir / "avocet-svc-q2").exists()


def test_cancel_running_job_keeps_previous_model_and_next_job_runs(live_stack):
    folder = live_stack.models_dir / "avocet-svc-keep"
    base = _submit(live_stack, epochs=1, name="svc-keep")
    _wait_state(live_stack, base["id"], {"succeeded"})
    before = json.loads((folder / "training_info.json").read_text())
    files_before = sorted(p.name for p in folder.iterdir())

    retrain = _submit(live_stack, **{**LONG_RUN, "name": "svc-keep"})
    url = f"{live_stack.base_url}/api/finetune/jobs/{retrain['id']}/events"
    read_sse(url, stop=lambda e: e["type"] in ("progress", "complete", "error"))
    following = _submit(live_stack, epochs=1, name="svc-after-cancel")
    _cancel(live_stack, retrain["id"])

    stopped = _wait_state(live_stack, retrain["id"], {"cancelled", "succeeded", "failed"}, 60)
    assert stopped["state"] == "cancelled" and stopped["error"]
    log = read_sse(url)
    assert log[-1]["type"] == "error" and log[-1]["data"]["state"] == "cancelled"
    assert json.loads((folder / "training_info.json").read_text()) == before
    assert sorted(p.name for p in folder.iterdir()) == files_before
    assert _wait_state(live_stack, following["id"], {"succeeded", "failed"})["state"] == "succeeded"
