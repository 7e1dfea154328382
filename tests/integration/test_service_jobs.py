"""The whole service: a real worker runs the real training CLI (packaged MiniLM, example data, 1 epoch)."""

import httpx
import pytest
from service_helpers import read_sse, wait_until

pytestmark = pytest.mark.integration


def _job(stack, job_id):
    return httpx.get(f"{stack.base_url}/api/finetune/jobs/{job_id}", timeout=10).json()


def test_submit_stream_disconnect_and_resume(live_stack):
    """Events arrive in id order and end with complete; a client that leaves mid-run resumes with Last-Event-ID
    and gets exactly the rest; the job completes regardless, and /api/finetune/status lists the model."""
    base = live_stack.base_url
    job = httpx.post(f"{base}/api/finetune/jobs", json={"model": "minilm", "epochs": 1, "name": "svc-a"}).json()
    url = f"{base}/api/finetune/jobs/{job['id']}/events"

    early = read_sse(url, stop=lambda e: e["type"] in ("start", "progress", "complete", "error"))  # then disconnect
    assert early[-1]["type"] in ("start", "progress"), early[-1]
    full = read_sse(url)  # from the start: replay, then live
    wait_until(lambda: _job(live_stack, job["id"])["state"] == "succeeded", 120, "the job to succeed")
    rest = read_sse(url, headers={"Last-Event-ID": str(early[-1]["id"])})

    ids = [e["id"] for e in full]
    assert ids == list(range(1, len(full) + 1))
    assert full[0]["type"] == "queued" and full[1]["type"] == "started"
    assert {"start", "progress", "eval"} <= {e["type"] for e in full}
    assert full[-1]["type"] == "complete" and full[-1]["data"]["name"] == "svc-a"
    assert [e["type"] for e in full].count("complete") + [e["type"] for e in full].count("error") == 1
    assert rest == full[len(early):]

    done = _job(live_stack, job["id"])
    assert done["result"]["val_macro_f1"] is not None and done["progress"]["step"] >= 1
    assert done["last_event_id"] == len(full)
    status = httpx.get(f"{base}/api/finetune/status").json()
    assert "avocet-svc-a" in {m["name"] for m in status}
    assert (live_stack.models_dir / "avocet-svc-a" / "training_info.json").is_file()


def test_seed_run_endpoint_streams_progress_then_complete(live_stack):
    received = read_sse(f"{live_stack.base_url}/api/finetune/run?model=minilm&epochs=1&name=svc-seed")
    types = [e["type"] for e in received]
    assert "progress" in types and types[-1] == "complete"
    assert types.index("progress") < types.index("complete")
    assert all(isinstance(e["message"], str) for e in received)
