"""Predict over real HTTP on the live stack (uvicorn, `python -m api`): the session's trained MiniLM, published as
a version; the first predict loads it while other requests are answered; a burst gets answers or 503 + Retry-After,
nothing else."""

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from service_helpers import REPO

from shared import model_versions

pytestmark = pytest.mark.integration
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
ROWS = [json.loads(line) for line in EXAMPLE.read_text().splitlines() if line.strip()]
EMAILS = [{"subject": row["subject"], "body": row["body"]} for row in ROWS]


def _publish_trained(models_dir, trained, name: str):
    staged = models_dir / ".staging" / f"test-{name}"
    shutil.copytree(trained.folder, staged)
    return model_versions.publish_version(staged, models_dir, name, keep=3)[0]


def test_predict_over_http(live_stack, trained_minilm):
    from classifiers.fine_tuned import FineTunedAdapter

    base = live_stack.base_url
    version = _publish_trained(live_stack.models_dir, trained_minilm, "live-predict")
    url = f"{base}/api/models/live-predict/predict"

    slowest, loaded = 0.0, threading.Event()

    def first_predict() -> httpx.Response:
        try:
            return httpx.post(url, json={"emails": EMAILS}, timeout=300)
        finally:
            loaded.set()

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(first_predict)
        while not loaded.wait(0.05):
            started = time.perf_counter()
            assert httpx.get(f"{base}/api/health", timeout=30).status_code in (200, 503)
            slowest = max(slowest, time.perf_counter() - started)
        response = first.result()
    assert response.status_code == 200, response.text
    assert slowest < 2.0, f"GET /api/health took {slowest:.2f} s while the model loaded"
    adapter = FineTunedAdapter(model_versions.version_dir(live_stack.models_dir, "live-predict", version))
    assert [p["label"] for p in response.json()["predictions"]] == adapter.classify_batch(ROWS)
    assert response.json()["version"] == version

    with ThreadPoolExecutor(32) as pool:
        burst = list(pool.map(lambda i: httpx.post(url, json={"emails": [EMAILS[i % 20]]}, timeout=60), range(64)))
    assert {r.status_code for r in burst} <= {200, 503}
    assert all(int(r.headers["Retry-After"]) >= 1 for r in burst if r.status_code == 503)
