"""POST /api/models/{name}/predict: the same labels as FineTunedAdapter on a real tiny model (the session's
`trained_minilm`, which makes those tests integration), versions and legacy folders, validation, and the engine's
promises with fake models: loads off the event loop, one load for concurrent first requests, an LRU cache, batching
of waiting requests, 503 + Retry-After when full."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from api.predictor import Predictor
from shared import model_versions

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
ROWS = [json.loads(line) for line in EXAMPLE.read_text().splitlines() if line.strip()]
EMAILS = [{"subject": row["subject"], "body": row["body"]} for row in ROWS]
WAIT_S = 30


@pytest.fixture(scope="session")
def published(trained_minilm, tmp_path_factory) -> Path:
    """models/ with `t` at versions 1 and 2 (2 current; its labels renamed 'v2-...' so answers tell them apart; both
    the transformer alone, since a rename cannot reach the n-gram part), `legacy`, a plain folder as published before
    versions existed, and `e`, the ensemble as trained. Files are hard links of the trained model."""
    trained = trained_minilm.folder
    models_dir = tmp_path_factory.mktemp("predict-models")
    shutil.copytree(trained, models_dir / "staged-e", copy_function=os.link)
    model_versions.publish_version(models_dir / "staged-e", models_dir, "e", keep=3)
    for version in (1, 2):
        staged = models_dir / f"staged-{version}"
        shutil.copytree(trained, staged, copy_function=os.link)
        (staged / "ngram.skops").unlink(missing_ok=True)
        if version == 2:
            config = json.loads((staged / "config.json").read_text())
            config["id2label"] = {i: f"v2-{label}" for i, label in config["id2label"].items()}
            config["label2id"] = {f"v2-{label}": i for label, i in config["label2id"].items()}
            (staged / "config.json").unlink()  # a hard link: write a new file, not through the shared one
            (staged / "config.json").write_text(json.dumps(config))
        model_versions.publish_version(staged, models_dir, "t", keep=3)
    shutil.copytree(trained, models_dir / "avocet-legacy", copy_function=os.link)
    return models_dir


@pytest.fixture
def real_client(make_client, published):
    return make_client(models_dir=published)


def post(client, name: str, emails=EMAILS, **body):
    return client.post(f"/api/models/{name}/predict", json={"emails": emails, **body})


# --- the real model -----------------------------------------------------------------------------------------------


def test_predictions_equal_the_adapter_on_the_example_file(real_client, published):
    from classifiers.fine_tuned import FineTunedAdapter

    adapter = FineTunedAdapter(model_versions.version_dir(published, "t", 2))
    response = post(real_client, "t", top_k=20)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["model"], result["version"], result["labels"]) == ("t", 2, adapter.labels)
    assert [p["label"] for p in result["predictions"]] == adapter.classify_batch(ROWS)
    for prediction in result["predictions"]:
        scores = [entry["score"] for entry in prediction["top"]]
        assert len(scores) == len(adapter.labels) and sum(scores) == pytest.approx(1.0, abs=1e-4)
        assert scores == sorted(scores, reverse=True)
        assert prediction["top"][0] == {"label": prediction["label"], "score": prediction["score"]}


def test_an_ensemble_version_predicts_what_its_adapter_does(real_client, published):
    from classifiers.fine_tuned import FineTunedAdapter

    adapter = FineTunedAdapter(model_versions.version_dir(published, "e", 1))
    result = post(real_client, "e", top_k=3).json()
    assert [p["label"] for p in result["predictions"]] == adapter.classify_batch(ROWS)
    expected = adapter.probabilities(ROWS).max(-1).values.tolist()
    assert [p["score"] for p in result["predictions"]] == pytest.approx(expected, abs=1e-5)


def test_a_long_email_is_read_in_windows_and_a_short_one_in_one(published):
    """Reading 2 windows (read_windows, as a version trained with it records), a long email gets the mean of its two
    windows' softmax, each window run alone; reading 1 (the default) it gets its first window's."""
    import torch

    from classifiers.fine_tuned import FineTunedAdapter
    from classifiers.token_windows import token_windows

    adapter = FineTunedAdapter(published / "avocet-e", precision="fp32")
    assert adapter.read_windows == 1
    adapter.read_windows = 2
    long_email = (ROWS[0]["subject"], " ".join(row["body"] for row in ROWS))
    windows = token_windows(adapter.tokenizer, [long_email], adapter.max_length, 2)[0]
    assert len(windows) == 2
    with torch.inference_mode():
        each = [adapter._forward([ids]).softmax(-1)[0] for ids in windows]
    served = adapter.transformer_probabilities([long_email, (ROWS[1]["subject"], ROWS[1]["body"])])
    assert torch.allclose(served[0], torch.stack(each).mean(0), atol=1e-5)
    adapter.read_windows = 1
    assert torch.allclose(adapter.transformer_probabilities([long_email])[0], each[0], atol=1e-5)


def test_top_k_defaults_to_3_and_is_capped_at_the_label_count(real_client):
    default = post(real_client, "t", EMAILS[:2]).json()["predictions"]
    assert [len(p["top"]) for p in default] == [3, 3]
    one = post(real_client, "t", EMAILS[:1], top_k=1).json()["predictions"][0]
    assert one["top"] == [{"label": one["label"], "score": one["score"]}]


def test_a_version_is_chosen_and_the_current_one_is_followed(real_client, published):
    old = post(real_client, "t", EMAILS[:3], version=1).json()
    new = post(real_client, "t", EMAILS[:3]).json()
    assert (old["version"], new["version"]) == (1, 2)
    assert [f"v2-{p['label']}" for p in old["predictions"]] == [p["label"] for p in new["predictions"]]
    model_versions.switch_to(published, "t", 1)  # a rollback: the next predict without a version follows it
    try:
        assert post(real_client, "t", EMAILS[:1]).json()["version"] == 1
    finally:
        model_versions.switch_to(published, "t", 2)
    assert post(real_client, "t", EMAILS[:1]).json()["version"] == 2
    assert real_client.app.state.predictor.loaded() == [("t", 1), ("t", 2)]  # predict_cache_size 2


def test_a_legacy_folder_is_version_1(real_client):
    result = post(real_client, "legacy", EMAILS[:2]).json()
    assert result["version"] == 1 and not result["predictions"][0]["label"].startswith("v2-")
    missing = post(real_client, "legacy", EMAILS[:1], version=2)
    assert missing.status_code == 404 and "only version 1" in missing.json()["detail"]


def test_import_api_main_loads_no_torch():
    probe = (
        "import sys, api.main, api.routes.predict, api.predictor\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# --- fakes: the engine's promises, fast ---------------------------------------------------------------------------


class FakeAdapter:
    labels = ["a", "b", "c"]

    def __init__(self, owner: "FakeModels", folder: Path):
        self.owner, self.folder = owner, folder

    def logits(self, rows):
        import torch

        self.owner.batches.append(len(rows))
        self.owner.threads.append(torch.get_num_threads())
        if self.owner.compute_gate is not None:
            self.owner.computing.set()
            assert self.owner.compute_gate.wait(WAIT_S)
        return torch.tensor([[0.0, 2.0, 1.0] if "b" in subject else [3.0, 1.0, 2.0] for subject, _ in rows])

    def probabilities(self, rows):
        return self.logits(rows).softmax(-1)


class FakeModels:
    """A loader of FakeAdapters that counts loads and can hold them (load_gate) or their computing (compute_gate)."""

    def __init__(self, load_gate: threading.Event | None = None, compute_gate: threading.Event | None = None):
        self.load_gate, self.compute_gate = load_gate, compute_gate
        self.loading, self.computing = threading.Event(), threading.Event()
        self.loads: list[Path] = []
        self.batches: list[int] = []
        self.threads: list[int] = []  # torch threads of each batch

    def __call__(self, folder: Path) -> FakeAdapter:
        self.loads.append(folder)
        self.loading.set()
        if self.load_gate is not None:
            assert self.load_gate.wait(WAIT_S)
        return FakeAdapter(self, folder)


def publish_fake(models_dir: Path, name: str) -> int:
    staged = models_dir / f"staged-{name}-{time.monotonic_ns()}"
    staged.mkdir(parents=True)
    (staged / "config.json").write_text("{}")
    return model_versions.publish_version(staged, models_dir, name, keep=3)[0]


@pytest.fixture
def fake_client(make_client, tmp_path):
    """fake_client(models, **settings) -> a client whose predictor loads `models` (a FakeModels)."""

    def make(models: FakeModels, **settings):
        client = make_client(models_dir=tmp_path / "models", **settings)
        client.app.state.predictor = Predictor(client.app.state.settings, loader=models)
        return client

    return make


def test_fake_labels_scores_and_top_k(fake_client, tmp_path):
    publish_fake(tmp_path / "models", "m")
    client = fake_client(FakeModels())
    emails = [{"subject": "b", "body": ""}, {"subject": "x", "body": ""}]
    result = post(client, "m", emails, top_k=5).json()
    assert result["labels"] == ["a", "b", "c"] and [p["label"] for p in result["predictions"]] == ["b", "a"]
    assert [e["label"] for e in result["predictions"][1]["top"]] == ["a", "c", "b"]


def test_unknown_model_or_version_is_404_saying_how_to_list(fake_client, tmp_path):
    publish_fake(tmp_path / "models", "m")
    client = fake_client(FakeModels())
    nobody = post(client, "nobody", EMAILS[:1])
    assert nobody.status_code == 404 and "'nobody'" in nobody.json()["detail"]
    assert "GET /api/models" in nobody.json()["detail"]
    version = post(client, "m", EMAILS[:1], version=7)
    assert version.status_code == 404 and "no version 7" in version.json()["detail"]
    assert "only version 1" in version.json()["detail"]


ONE = {"subject": "s", "body": "b"}
BAD_BODIES = [
    {"emails": []},
    {"emails": [ONE] * 257},
    {"emails": [{**ONE, "label": "x"}]},
    {"emails": [{"subject": "s"}]},
    {"emails": [{**ONE, "subject": "s" * 2001}]},
    {"emails": [{**ONE, "body": "b" * 20001}]},
    {"emails": [ONE], "top_k": 0},
    {"emails": [ONE], "top_k": 21},
    {"emails": [ONE], "version": 0},
    {"emails": [ONE], "temperature": 1},
]


def test_bad_bodies_and_names_are_422_and_load_nothing(fake_client, tmp_path):
    publish_fake(tmp_path / "models", "m")
    models = FakeModels()
    client = fake_client(models)
    for body in BAD_BODIES:
        response = client.post("/api/models/m/predict", json=body)
        assert response.status_code == 422, (str(body)[:80], response.text[:300])
    assert post(client, "Not_OK!", EMAILS[:1]).status_code == 422
    assert models.loads == []


def test_the_first_load_runs_off_the_event_loop_and_is_shared(fake_client, tmp_path):
    publish_fake(tmp_path / "models", "m")
    models = FakeModels(load_gate=threading.Event())
    client = fake_client(models)
    client.get("/openapi.json")  # built once, before timing
    with ThreadPoolExecutor(2) as pool:
        first = [pool.submit(post, client, "m", EMAILS[:1]) for _ in range(2)]
        assert models.loading.wait(WAIT_S)
        started = time.perf_counter()
        assert client.get("/openapi.json").status_code == 200  # served while the model is still loading
        assert time.perf_counter() - started < 1.0
        models.load_gate.set()
        assert [f.result(WAIT_S).status_code for f in first] == [200, 200]
    assert len(models.loads) == 1


def test_full_queue_is_503_with_retry_after_at_once(fake_client, tmp_path):
    publish_fake(tmp_path / "models", "m")
    models = FakeModels(compute_gate=threading.Event())
    client = fake_client(models, predict_concurrency=1, predict_queue=0)
    with ThreadPoolExecutor(1) as pool:
        busy = pool.submit(post, client, "m", EMAILS[:1])
        assert models.computing.wait(WAIT_S)
        started = time.perf_counter()
        refused = post(client, "m", EMAILS[:1])
        assert time.perf_counter() - started < 1.0
        assert refused.status_code == 503 and int(refused.headers["Retry-After"]) >= 1
        models.compute_gate.set()
        assert busy.result(WAIT_S).status_code == 200
    assert post(client, "m", EMAILS[:1]).status_code == 200  # the slot came back


def test_requests_waiting_for_one_model_go_as_one_batch(fake_client, tmp_path):
    publish_fake(tmp_path / "models", "m")
    gate = threading.Event()
    models = FakeModels(compute_gate=gate)
    client = fake_client(models, predict_concurrency=1, predict_queue=8)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(post, client, "m", EMAILS[:2])
        assert models.computing.wait(WAIT_S)
        waiting = [pool.submit(post, client, "m", EMAILS[:3]) for _ in range(3)]
        deadline = time.monotonic() + WAIT_S
        while client.app.state.predictor.in_flight < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()
        results = [f.result(WAIT_S) for f in (first, *waiting)]
    assert [r.status_code for r in results] == [200] * 4
    assert [len(r.json()["predictions"]) for r in results] == [2, 3, 3, 3]
    assert models.batches == [2, 9]


def test_a_batch_alone_gets_every_core_and_batches_side_by_side_share_them(fake_client, tmp_path):
    publish_fake(tmp_path / "models", "m")
    gate = threading.Event()
    models = FakeModels(compute_gate=gate)
    client = fake_client(models, predict_concurrency=2, predict_queue=8)
    predictor = client.app.state.predictor
    gate.set()
    assert post(client, "m", EMAILS[:1]).status_code == 200  # alone
    gate.clear()
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(post, client, "m", EMAILS[:1])
        assert models.computing.wait(WAIT_S)
        later = [pool.submit(post, client, "m", EMAILS[:1]) for _ in range(2)]
        deadline = time.monotonic() + WAIT_S
        while predictor.in_flight < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()
        assert [f.result(WAIT_S).status_code for f in (first, *later)] == [200] * 3
    # The lone request and the first one ran on every core; the two that arrived meanwhile waited for it to end (no
    # second batch beside a wide one) and then went together, alone again.
    assert models.batches == [1, 1, 2]
    assert models.threads == [predictor.wide] * 3
    assert predictor.wide == max(predictor.share, os.sched_getaffinity(0).__len__())


def test_the_cache_keeps_the_newest_models_and_follows_new_versions(fake_client, tmp_path):
    models_dir = tmp_path / "models"
    for name in ("m", "n", "o"):
        publish_fake(models_dir, name)
    models = FakeModels()
    client = fake_client(models, predict_cache_size=2)
    for name in ("m", "n", "m", "o", "m", "n"):
        assert post(client, name, EMAILS[:1]).status_code == 200
    assert len(models.loads) == 4  # m, n, o, then n again (evicted by o)
    assert client.app.state.predictor.loaded() == [("m", 1), ("n", 1)]
    assert publish_fake(models_dir, "m") == 2
    assert post(client, "m", EMAILS[:1]).json()["version"] == 2 and len(models.loads) == 5
    model_versions.delete_model(models_dir, "n")  # deleted and trained again: version 1 again, other files
    publish_fake(models_dir, "n")
    assert post(client, "n", EMAILS[:1]).json()["version"] == 1 and len(models.loads) == 6
