"""models/benchmark_results.json: newest first, capped, replaced atomically, an unreadable file kept aside."""

import json

from shared.model_store import RESULTS_FILE, read_runs
from shared.model_store import new_benchmark_run as new_run
from shared.model_store import save_benchmark_run as save_run


def _run(n: int) -> dict:
    return new_run("data/x.jsonl", n, 42, [])


def test_runs_are_prepended_and_capped(tmp_path):
    for n in range(5):
        path = save_run(tmp_path, _run(n), max_runs=3)
    assert path == tmp_path / RESULTS_FILE
    assert [run["rows"] for run in read_runs(path)] == [4, 3, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESULTS_FILE]  # no temp files left behind


def test_new_run_has_the_contract_fields():
    run = _run(7)
    assert set(run) == {"id", "timestamp", "data_file", "rows", "split_seed", "results"}
    assert run["timestamp"].endswith("+00:00") and len(run["id"]) == 32


def test_missing_models_dir_is_created(tmp_path):
    path = save_run(tmp_path / "new" / "models", _run(1))
    assert json.loads(path.read_text())["runs"][0]["rows"] == 1


def test_an_unreadable_file_is_moved_aside_not_lost(tmp_path):
    (tmp_path / RESULTS_FILE).write_text("{not json")
    save_run(tmp_path, _run(1))
    assert len(read_runs(tmp_path / RESULTS_FILE)) == 1
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(f"{RESULTS_FILE}.unreadable-")]
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
