"""Which published folder a model name means: (name, version) -> the version's folder and the identity of its
files (a legacy plain folder is version 1: shared/model_versions.py). Predict (api/predictor.py) and the score job
(worker/scoring/) both load through it, so they serve the same version for the same name. Read only."""

import os
from dataclasses import dataclass
from pathlib import Path

from shared import model_versions

CONFIG_FILE = "config.json"
LIST_HINT = "GET /api/models lists the published models and their versions"


class ModelNotFound(LookupError):
    """No such model or version; the message is the 404's detail."""


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int
    folder: Path
    stamp: tuple[int, int]  # (inode, mtime_ns) of config.json: which files this version is


def resolve(models_dir: Path, name: str, version: int | None) -> ModelRef:
    """The folder to load for `name` at `version` (None: the current one); ModelNotFound saying what exists."""
    wanted = model_versions.current_version(models_dir, name) if version is None else version
    if wanted is None:
        raise ModelNotFound(f"no published model {name!r}: {LIST_HINT}")
    try:
        return _ref(name, wanted, model_versions.version_folder(models_dir, name, wanted))
    except FileNotFoundError:
        known = model_versions.list_versions(models_dir, name)
        has = f"it has only version {known[0]}" if len(known) == 1 else f"versions are {known}"
        raise ModelNotFound(f"model {name!r} has no version {wanted}: {has} ({LIST_HINT})") from None


def _ref(name: str, version: int, folder: Path) -> ModelRef:
    info = os.stat(folder / CONFIG_FILE)
    return ModelRef(name, version, folder, (info.st_ino, info.st_mtime_ns))
