"""Predict over real HTTP on the live stack (uvicorn, `python -m api`): a model the training CLI made, published as
a version; the first predict loads it while other requests are answered; a burst gets answers or 503 + Retry-After,
nothing else."""

import json
import os
import shutil
import subprocess
import sys
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


def _publish_trained(models_dir, tmp_path, name: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVOCET_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [sys.executable, "-m", "worker.training", "--model", "minilm", "--epochs", "1", "--data", str(EXAMPLE),
           "--models-dir", str(tmp_path), "--name", name, "--json"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    staged = models_dir / ".staging" / f"test-{name}"
    shutil.copytree((tmp_path / f"avocet-{name}").resolve(), staged)
    return model_versions.publish_version(staged, models_dir, name, keep=3)[0]


def test_predict_over_http(live_stack, tmp_path):
    from classifiers.fine_tuned import FineTunedAdapter

    base = live_stack.base_url
    version = _publish_trained(live_stack.models_dir, tmp_path, "live-predict")
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
