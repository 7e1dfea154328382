"""`kill -9` of the worker mid-run: the job does not stay running, no half-written model, the worker comes back."""

import httpx
import psutil
import pytest
from service_helpers import LONG_RUN, read_sse, wait_until

pytestmark = pytest.mark.integration


def _training_processes(name: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "worker.training" in cmdline and any(f'"name":"{name}"' in part for part in cmdline):
            found.append(process)
    return found


def test_kill_9_of_the_worker_fails_the_job(live_stack):
    base = live_stack.base_url
    job = httpx.post(f"{base}/api/finetune/jobs", json={**LONG_RUN, "name": "svc-crash"}).json()
    read_sse(f"{base}/api/finetune/jobs/{job['id']}/events", stop=lambda e: e["type"] in ("progress", "complete"))
    assert _training_processes("svc-crash")
    try:
        live_stack.kill_worker()
        wait_until(lambda: not _training_processes("svc-crash"), 30, "the training run to die with its worker")
        failed = wait_until(
            lambda: (j := httpx.get(f"{base}/api/finetune/jobs/{job['id']}").json())["state"] != "running" and j,
            60, "the reaper to end the job",
        )  # fmt: skip
        assert failed["state"] == "failed" and "stopped while the job was running" in failed["error"]["message"]
        events = read_sse(f"{base}/api/finetune/jobs/{job['id']}/events")
        assert events[-1]["type"] == "error" and events[-1]["data"]["reason"] == "worker_lost"
        assert not (live_stack.models_dir / "avocet-svc-crash").exists()
    finally:
        live_stack.start_worker()
    follow_up = httpx.post(f"{base}/api/finetune/jobs", json={"model": "minilm", "epochs": 1, "name": "svc-crash"})
    events = read_sse(f"{base}/api/finetune/jobs/{follow_up.json()['id']}/events")
    assert events[-1]["type"] == "complete"
    assert (live_stack.models_dir / "avocet-svc-crash" / "training_info.json").is_file()
    assert not list((live_stack.models_dir / ".staging").glob("*svc-crash*"))  # leftovers of the killed run cleaned
