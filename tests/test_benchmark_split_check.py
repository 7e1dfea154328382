"""Finding fine-tuned model folders and checking that the data given splits the way each was trained."""

import json

from shared.data import file_sha256
from shared.model_versions import model_folders as find_finetuned
from worker.benchmark.split_check import SplitFacts, describe_source, split_mismatch

LABELS = ["a", "b", "c"]
FACTS = SplitFacts(LABELS, 42, [3, 7, 9], "f" * 64)


def _info(**split) -> dict:
    return {"labels": ["c", "b", "a"], "split": {"seed": 42, "val_lines": [9, 3, 7], "data_sha256": "f" * 64, **split}}


def test_finds_every_folder_with_training_info_and_skips_the_rest(tmp_path):
    for name in ("avocet-one", "avocet-two", ".staging", "not-a-model"):
        (tmp_path / name).mkdir()
    for name in ("avocet-two", "avocet-one", ".staging"):
        (tmp_path / name / "training_info.json").write_text(json.dumps(_info()))
    assert [p.name for p in find_finetuned(tmp_path)] == ["avocet-one", "avocet-two"]


def test_a_missing_models_dir_is_no_models(tmp_path):
    assert find_finetuned(tmp_path / "absent") == []


def test_same_validation_lines_and_labels_in_any_order_match():
    assert split_mismatch(_info(), FACTS) is None
    assert describe_source(_info(), FACTS) is None


def test_same_lines_from_a_different_file_match_with_a_note():
    info = _info(data_sha256="0" * 64)
    assert split_mismatch(info, FACTS) is None
    assert "differs" in describe_source(info, FACTS)


def test_different_validation_lines_are_refused():
    reason = split_mismatch(_info(val_lines=[1, 2, 3], data_file="data/other.jsonl"), FACTS)
    assert "validation rows differ" in reason and "--data data/other.jsonl" in reason


def test_different_labels_or_seed_are_refused():
    assert "--labels" in split_mismatch({**_info(), "labels": ["a", "b"]}, FACTS)
    assert "seed 7" in split_mismatch(_info(seed=7), FACTS)


def test_without_val_lines_the_file_hash_decides():
    info = _info()
    del info["split"]["val_lines"]
    assert split_mismatch(info, FACTS) is None
    info["split"]["data_sha256"] = "0" * 64
    assert "neither" in split_mismatch(info, FACTS)


def test_file_sha256_matches_hashlib(tmp_path):
    import hashlib

    path = tmp_path / "data.jsonl"
    path.write_bytes(b"x" * 3_000_000)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_validation_rows_digest_decides_for_versions_with_the_content_split():
    facts = SplitFacts(LABELS, 42, [3, 7, 9], "f" * 64, "d" * 64)
    same = {"labels": LABELS, "split": {"seed": 42, "val_rows_sha256": "d" * 64, "val_count": 3}}
    assert split_mismatch(same, facts) is None
    other = {"labels": LABELS, "split": {"seed": 42, "val_rows_sha256": "e" * 64, "val_count": 3}}
    assert "validation rows differ" in split_mismatch(other, facts)
