"""What a job's `data` and `model` may name when the job comes from outside the box: API bodies and query strings,
and task kwargs from the queue (`celery call`). Such input names things; it never gives a server path.

- `data`: a dataset id (shared/datasets.py) or a file name inside the data folder (AVOCET_DATA_DIR);
- `model`: a registry key or the name of a model folder (holding config.json) inside AVOCET_BASE_MODELS_DIR.

Absolute paths, `..`, separators and symlinks that leave the folder are refused, and no message quotes a file. The
CLIs, run by an operator on the box, take any path: the rule applies only where a validation is marked untrusted,
by the pydantic context `untrusted_context(settings)` (the worker) or inside `untrusted_input(...)` (the API wraps
every request in it, since FastAPI cannot pass a validation context). `to_paths` turns checked names into the paths
the worker's CLI child opens.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from shared.datasets import is_dataset_id
from shared.registry import FINETUNE_BASES, is_valid_model, valid_keys

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
NAME_RULE = "1-128 characters from A-Z, a-z, 0-9, '_', '.' and '-', not starting with '.'"
UNTRUSTED = "untrusted"  # the key of the pydantic validation context
DATA_HOME = "the data folder (AVOCET_DATA_DIR)"
MODELS_HOME = "the base-models folder (AVOCET_BASE_MODELS_DIR)"

P = TypeVar("P", bound=BaseModel)


class SourceError(ValueError):
    """A name that is a path, leaves its folder, or names nothing there."""


@dataclass(frozen=True)
class Sources:
    """The folders untrusted input may name things in."""

    data_dir: Path
    base_models_dir: Path

    @classmethod
    def of(cls, settings: Any) -> "Sources":
        return cls(Path(settings.data_dir), Path(settings.base_models_dir))


_ambient: ContextVar[Sources | None] = ContextVar("avocet_untrusted_sources", default=None)


def untrusted_context(settings: Any) -> dict[str, Sources]:
    """The validation context for input from outside: `Params.model_validate(kwargs, context=untrusted_context(s))`."""
    return {UNTRUSTED: Sources.of(settings)}


@contextmanager
def untrusted_input(sources: Sources) -> Iterator[None]:
    """Everything validated inside (in this task or thread) is input from outside."""
    token = _ambient.set(sources)
    try:
        yield
    finally:
        _ambient.reset(token)


def sources_in(context: Any) -> Sources | None:
    """The folders to hold input to, or None for trusted input (an operator's CLI)."""
    if isinstance(context, dict) and isinstance(context.get(UNTRUSTED), Sources):
        return context[UNTRUSTED]
    return _ambient.get()


def _inside(folder: Path, name: str, what: str, home: str) -> Path:
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise SourceError(f"{what} must be a name in {home}, not a path: {NAME_RULE}")
    try:
        root = Path(folder).resolve()
        path = (root / name).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise SourceError(f"{what} {name!r} cannot be resolved in {home}") from None
    if not path.is_relative_to(root):
        raise SourceError(f"{what} {name!r} is a link that leads outside {home}: use a file inside it")
    return path


def resolve_data_file(name: str, data_dir: Path) -> Path:
    """The file a `data` name stands for, inside data_dir; whether it exists is the reader's to say."""
    return _inside(data_dir, name, "data (a dataset id or a file name)", DATA_HOME)


def resolve_model_folder(name: str, base_models_dir: Path) -> Path:
    """The model folder a `model` name stands for: inside base_models_dir and holding config.json."""
    unknown = SourceError(f"unknown model {name!r}: use one of {', '.join(valid_keys())} or the name of a model "
                          f"folder in {MODELS_HOME}")  # fmt: skip
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise unknown
    path = _inside(base_models_dir, name, "model", MODELS_HOME)
    try:
        found = (path / "config.json").is_file()
    except OSError:  # a folder this process may not read
        found = False
    if not found:
        raise unknown
    return path


def check_data(value: str | None, sources: Sources | None) -> str | None:
    """The `data` rule: anything from a trusted caller; a dataset id or a file name in the data folder otherwise."""
    if value is not None and sources is not None and not is_dataset_id(value):
        resolve_data_file(value, sources.data_dir)
    return value


def check_model(value: str, sources: Sources | None) -> str:
    """The `model` rule: a registry key, else a model folder (trusted: any path; untrusted: in the base folder)."""
    if value in FINETUNE_BASES:
        return value
    if sources is not None:
        resolve_model_folder(value, sources.base_models_dir)
        return value
    try:
        known = is_valid_model(value)
    except (OSError, RuntimeError):  # e.g. '~nobody/x' or a folder it may not read
        known = False
    if not known:
        raise SourceError(f"unknown model {value!r}: use one of {', '.join(valid_keys())} or a local model folder")
    return value


def model_location(model: str, context: Any = None) -> str:
    """What registry.get_spec takes for a checked `model`: a registry key or trusted path as is, the name of a
    base-models folder (untrusted input) as that folder's path."""
    sources = sources_in(context)
    if sources is None or model in FINETUNE_BASES:
        return model
    return str(resolve_model_folder(model, sources.base_models_dir))


def to_paths(params: P, sources: Sources) -> P:
    """Checked parameters with their names turned into the paths a CLI child opens (dataset ids and registry keys
    stay as they are, the CLI resolves those)."""
    update: dict[str, str] = {}
    data = getattr(params, "data", None)
    if data is not None and not is_dataset_id(data):
        update["data"] = str(resolve_data_file(data, sources.data_dir))
    model = getattr(params, "model", None)
    if isinstance(model, str) and model not in FINETUNE_BASES:
        update["model"] = str(resolve_model_folder(model, sources.base_models_dir))
    return params.model_copy(update=update)
