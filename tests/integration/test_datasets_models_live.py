"""Datasets in, models out, on the real stack: upload a file, train on it with its own labels, two runs of one name
give two versions, roll back, and the worker follows each fine-tune with a benchmark job of its own."""

import json

import httpx
import pytest
from service_helpers import REPO, read_sse, wait_until

pytestmark = pytest.mark.integration
EXAMPLE = REPO / "data" / "email_score.jsonl.example"


def _three_label_file() -> bytes:
    rows = [json.loads(line) for line in EXAMPLE.read_text().splitlines() if line.strip()]
    relabel = {"interview_scheduled": "meeting", "event_rescheduled": "meeting", "rejected": "no", "offer_received": "yes",
               "positive_response": "yes", "neutral": "no"}  # fmt: skip
    kept = [{**row, "label": relabel[row["label"]]} for row in rows if row["label"] in relabel]
    return "".join(json.dumps(row) + "\n" for row in kept).encode()


def _train(base: str, dataset_id: str, name: str) -> dict:
    job = httpx.post(f"{base}/api/finetune/jobs", json={"data": dataset_id, "epochs": 1, "name": name}, timeout=30)
    assert job.status_code == 202, job.text
    events = read_sse(f"{base}/api/jobs/{job.json()['id']}/events", timeout=300)
    assert events[-1]["type"] == "complete", events[-1]
    return events[-1]["data"]


def test_upload_train_on_own_labels_version_and_roll_back(benchmarking_stack):
    base = benchmarking_stack.base_url
    upload = httpx.post(f"{base}/api/datasets?name=three", content=_three_label_file(),
                        headers={"content-type": "application/x-ndjson"}, timeout=30)  # fmt: skip
    assert upload.status_code == 201, upload.text
    dataset = upload.json()

    first = _train(base, dataset["id"], "live-ds")
    info = json.loads((benchmarking_stack.models_dir / "avocet-live-ds" / "training_info.json").read_text())
    assert info["labels"] == ["meeting", "no", "yes"]  # the dataset's own labels, not the canonical ten
    assert info["dataset"]["id"] == dataset["id"] and info["dataset"]["sha256"] == dataset["sha256"]
    assert (benchmarking_stack.models_dir / "avocet-live-ds" / "README.md").read_text().startswith("---\n")

    second = _train(base, dataset["id"], "live-ds")
    assert (first["version"], second["version"]) == (1, 2)
    model = httpx.get(f"{base}/api/models/live-ds").json()
    assert model["current_version"] == 2 and [v["version"] for v in model["version_list"]] == [2, 1]
    rolled = httpx.post(f"{base}/api/models/live-ds/rollback", json={"version": 1}, timeout=30)
    assert rolled.status_code == 200 and rolled.json()["current_version"] == 1

    def follow_ups_done():
        found = [j for j in httpx.get(f"{base}/api/jobs?kind=benchmark").json()
                 if j["source"] == "worker" and j["data"] == dataset["id"]]  # the stack is shared with other tests
        return len(found) == 2 and all(j["state"] in ("succeeded", "failed", "cancelled") for j in found) and found

    benchmarks = wait_until(follow_ups_done, 240, "the worker's follow-up benchmark after each fine-tune")
    assert {j["data"] for j in benchmarks} == {dataset["id"]} and {j["state"] for j in benchmarks} == {"succeeded"}
    assert httpx.delete(f"{base}/api/datasets/{dataset['id']}").status_code == 204


def test_uploads_on_the_live_stack_refuse_bad_big_and_keep_one_copy(live_stack):
    base, ndjson = live_stack.base_url, {"content-type": "application/x-ndjson"}
    bad = httpx.post(f"{base}/api/datasets", content=b'{"subject": "s", "body": "b", "label": "x"}\n{oops\n',
                     headers=ndjson, timeout=30)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["line"] == 2
    limit = int(live_stack.env["AVOCET_DATASET_MAX_BYTES"])
    row = json.dumps({"subject": "s", "body": "x" * 1000, "label": "a"}) + "\n"
    big = httpx.post(f"{base}/api/datasets", content=(row * (limit // len(row) + 1)).encode(), headers=ndjson, timeout=30)
    assert big.status_code == 413
    first = httpx.post(f"{base}/api/datasets", files={"file": ("a.jsonl", EXAMPLE.read_bytes())}, timeout=30)
    again = httpx.post(f"{base}/api/datasets", files={"file": ("b.jsonl", EXAMPLE.read_bytes())}, timeout=30)
    assert first.status_code in (200, 201) and again.status_code == 200  # 200: these bytes were uploaded before
    assert first.json()["id"] == again.json()["id"]
    stored = list((live_stack.data_dir / "datasets").glob("ds-*.jsonl"))
    assert [p.stem for p in stored].count(first.json()["id"]) == 1

