"""The labelling loop on the real stack (real Redis, a real Celery worker running the real audit and score children):
an audit through the API ends with an `issues` file, a score job with the session's trained MiniLM gives predictions,
label-next and disagreements, an audit sent by `celery call` runs like one from the API, a running audit cancels, and
a `kill -9` of the worker during an audit fails it `worker_lost` with no result files left."""

import json
import shutil
import subprocess
import time
from datetime import datetime

import httpx
import psutil
import pytest
from service_helpers import REPO, VENV_BIN, read_sse, wait_job, wait_until

from shared import job_results, model_versions

pytestmark = pytest.mark.integration
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
WORDS = {"alpha": "invoice payment overdue amount", "beta": "meeting calendar tuesday agenda",
         "gamma": "newsletter weekly digest unsubscribe"}  # fmt: skip
FLIPPED_LINE = 2  # beta-0, labelled "alpha"
LOST_WITHIN_S = 20.0  # heartbeat TTL (10 s) + one reaper check (2 s), with room for a loaded box


def _tiny_dataset() -> bytes:
    """Three labels with their own words, 6 rows each, one row labelled wrong, two rows not labelled."""
    rows = []
    for i in range(6):
        for label, words in WORDS.items():
            rows.append({"id": f"{label}-{i}", "subject": f"{words.split()[i % 4]} {i}", "body": f"{words} {i}",
                         "label": label})  # fmt: skip
    rows[FLIPPED_LINE - 1]["label"] = "alpha"
    rows += [{"subject": "overdue invoice", "body": WORDS["alpha"]}, {"subject": "agenda", "body": WORDS["beta"],
                                                                       "label": None}]  # fmt: skip
    return "\n".join(json.dumps(r) for r in rows).encode()


def _upload(stack, content: bytes) -> str:
    response = httpx.post(f"{stack.base_url}/api/datasets", content=content,
                          headers={"content-type": "application/x-ndjson"}, timeout=30)  # fmt: skip
    assert response.status_code in (200, 201), response.text
    return response.json()["id"]


def _results(stack, job_id: str, name: str) -> list[dict]:
    response = httpx.get(f"{stack.base_url}/api/jobs/{job_id}/results", params={"name": name}, timeout=30)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_audit_through_the_api_ends_with_an_issues_file(live_stack):
    base, dataset = live_stack.base_url, _upload(live_stack, _tiny_dataset())
    job = httpx.post(f"{base}/api/datasets/{dataset}/audit", json={"folds": 3}, timeout=30).json()
    events = read_sse(f"{base}/api/jobs/{job['id']}/events", timeout=300)
    assert events[-1]["type"] == "complete", events[-1]
    assert [e["data"]["step"] for e in events if e["type"] == "progress"] == [1, 2, 3]
    done = httpx.get(f"{base}/api/jobs/{job['id']}").json()
    assert done["kind"] == "audit" and done["state"] == "succeeded" and done["progress"]["total"] == 3
    summary = done["result"]["summary"]
    assert summary["labelled_rows"] == 18 and summary["method"] == "quick" and set(summary["issues_by_label"]) == set(WORDS)
    issues = _results(live_stack, job["id"], "issues")
    assert len(issues) == done["result"]["results"][0]["rows"] == summary["issues"] >= 1
    assert [i["rank"] for i in issues] == list(range(1, len(issues) + 1))
    assert {"line", "id", "given", "suggested", "given_probability", "suggested_probability", "score", "subject",
            "preview"} <= issues[0].keys()  # fmt: skip
    flipped = [i for i in issues if i["line"] == FLIPPED_LINE]
    assert flipped and flipped[0]["id"] == "beta-0" and (flipped[0]["given"], flipped[0]["suggested"]) == ("alpha", "beta")


def test_score_through_the_api_ranks_label_next_and_lists_disagreements(live_stack, trained_minilm):
    staged = live_stack.models_dir / ".staging" / "test-label-score"
    shutil.copytree(trained_minilm.folder, staged)
    version = model_versions.publish_version(staged, live_stack.models_dir, "label-score", keep=3)[0]
    rows = [json.loads(line) for line in EXAMPLE.read_text().splitlines() if line.strip()]
    for row in rows[::2]:
        row.pop("label")  # every other email unlabelled: an inbox half labelled
    dataset = _upload(live_stack, "\n".join(json.dumps(r) for r in rows).encode())
    base = live_stack.base_url
    job = httpx.post(f"{base}/api/models/label-score/score", json={"data": dataset, "label_next": 5}, timeout=30)
    assert job.status_code == 202, job.text
    done = wait_job(base, job.json()["id"], {"succeeded", "failed", "cancelled"}, timeout=300)
    assert done["state"] == "succeeded", done["error"]
    summary = done["result"]["summary"]
    assert (summary["model"], summary["version"], summary["rows"], summary["labelled_rows"]) == ("label-score", version,
                                                                                                    20, 10)  # fmt: skip
    assert summary["emails_per_s"] > 0 and sum(summary["predicted_by_label"].values()) == 20
    predictions = _results(live_stack, done["id"], "predictions")
    assert [p["line"] for p in predictions] == list(range(1, 21)) and len(predictions[0]["top"]) == 3
    assert [p["given"] is None for p in predictions] == [i % 2 == 0 for i in range(20)]
    label_next = _results(live_stack, done["id"], "label_next")
    assert [p["rank"] for p in label_next] == list(range(1, 6)) and all(p["given"] is None for p in label_next)
    disagreements = _results(live_stack, done["id"], "disagreements")
    assert len(disagreements) == summary["disagreements"]
    assert all(p["given"] is not None and p["given"] != p["label"] for p in disagreements)
    predict = httpx.post(f"{base}/api/models/label-score/predict", timeout=120,
                         json={"emails": [{"subject": r["subject"], "body": r["body"]} for r in rows[:4]]}).json()
    assert [p["label"] for p in predict["predictions"]] == [p["label"] for p in predictions[:4]]  # predict's model


def _celery_call(stack, task: str, kwargs: dict) -> str:
    argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "call", task, "--kwargs", json.dumps(kwargs),
            "--queue", "gpu"]  # fmt: skip
    done = subprocess.run(argv, cwd=REPO, env=stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_celery_call_audit_runs_like_one_from_the_api(live_stack):
    dataset = _upload(live_stack, _tiny_dataset())
    job_id = _celery_call(live_stack, "avocet.audit", {"data": dataset, "folds": 2})
    done = wait_job(live_stack.base_url, job_id, {"succeeded", "failed", "cancelled"}, timeout=300)
    assert done["state"] == "succeeded" and done["source"] == "celery", done["error"]
    assert _results(live_stack, job_id, "issues")
    bad = _celery_call(live_stack, "avocet.audit", {"data": "ds-ffffffffffffffff", "folds": 1})
    failed = wait_job(live_stack.base_url, bad, {"succeeded", "failed", "cancelled"}, timeout=60)
    assert failed["error"]["code"] == "bad_input" and "folds" in failed["error"]["message"]


def test_a_running_audit_cancels_and_leaves_no_results(live_stack):
    """The thorough method fine-tunes per fold: long enough to cancel once its child has started."""
    base, dataset = live_stack.base_url, _upload(live_stack, _tiny_dataset())
    job = httpx.post(f"{base}/api/datasets/{dataset}/audit", json={"method": "thorough", "folds": 2}, timeout=30).json()
    read_sse(f"{base}/api/jobs/{job['id']}/events", stop=lambda e: e["type"] in ("start", "complete", "error"))
    assert httpx.post(f"{base}/api/jobs/{job['id']}/cancel", timeout=30).status_code == 202
    ended = wait_job(base, job["id"], {"succeeded", "failed", "cancelled"}, timeout=120)
    assert ended["state"] == "cancelled", ended
    gone = httpx.get(f"{base}/api/jobs/{job['id']}/results", timeout=30)
    assert gone.status_code == 404 and "cancelled" in gone.json()["detail"]
    wait_until(lambda: not job_results.job_folder(live_stack.models_dir, job["id"]).exists(), 30, "its folder to go")


def _audit_children(dataset: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "worker.audit" in cmdline and any(dataset in part for part in cmdline):
            found.append(process)
    return found


def test_kill_9_of_the_worker_fails_a_running_audit_and_leaves_no_results(live_stack):
    """Thorough: a fine-tune per fold, so the child is still running when its worker is killed."""
    base, dataset = live_stack.base_url, _upload(live_stack, _tiny_dataset())
    job = httpx.post(f"{base}/api/datasets/{dataset}/audit", json={"method": "thorough", "folds": 2}, timeout=30).json()
    read_sse(f"{base}/api/jobs/{job['id']}/events", stop=lambda e: e["type"] in ("start", "complete", "error"))
    assert _audit_children(dataset)
    folder = job_results.job_folder(live_stack.models_dir, job["id"])
    try:
        killed_at = time.time()
        live_stack.kill_worker()
        wait_until(lambda: not _audit_children(dataset), 30, "the audit child to die with its worker")
        lost = wait_job(base, job["id"], {"succeeded", "failed", "cancelled"}, 60)
        lost_after = datetime.fromisoformat(lost["finished_at"]).timestamp() - killed_at
        assert lost["state"] == "failed" and lost["error"]["code"] == "worker_lost", lost
        assert lost_after <= LOST_WITHIN_S, f"the audit was failed {lost_after:.1f}s after the kill"
        assert not (lost.get("result") or {}).get("results")
        gone = httpx.get(f"{base}/api/jobs/{job['id']}/results", params={"name": "issues"}, timeout=30)
        assert gone.status_code == 404 and "failed" in gone.json()["detail"]
        assert "stopped while the job was running" in gone.json()["detail"]
        wait_until(lambda: not folder.exists(), 30, "the killed audit's results folder to go")
    finally:
        live_stack.start_worker()
    follow_up = httpx.post(f"{base}/api/datasets/{dataset}/audit", json={"folds": 2}, timeout=30).json()
    done = wait_job(base, follow_up["id"], {"succeeded", "failed", "cancelled"}, timeout=300)
    assert done["state"] == "succeeded", done["error"]
    assert _results(live_stack, follow_up["id"], "issues")
    assert not folder.exists()
