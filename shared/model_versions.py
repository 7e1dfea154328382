"""Versions of a published model (the models/ folder's other half; shared/model_store.py owns the rest).

Each successful run becomes an immutable folder models/.versions/<name>/<n>/ (n = 1, 2, 3, ...), and
models/avocet-<name> is a relative symlink to the current one. Switching version writes a new symlink beside it and
renames it over the old one: a rename is atomic, so a reader always finds the path, pointing at a complete version.
Two workers publishing one name at once both keep their version: each renames its staged folder to the next free
number, and renaming onto a number another run took fails (the folder is not empty), so it takes the next.
The newest `keep` versions stay (the current one always does); older ones are removed.

A model published before versions existed is a plain folder models/avocet-<name>: it is served as version 1 (and
becomes version 1 on disk at its next publish or rollback). `published_names` is the one definition of a published
model, which the models list, the seed's status, predict and the benchmark all use.

Every change of which versions exist or which is current (publish, rollback, prune, delete) holds the model's
switch lock: an flock on models/.versions/<name>/.lock, so two rollbacks, or a prune and a rollback, never
interleave, whichever process or host (sharing the volume) runs them.
"""

import errno
import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.model_store import INFO_FILE, MODEL_PREFIX, NAME_PATTERN, check_name, model_dir

VERSIONS = ".versions"
LEGACY_VERSION = 1  # what a plain models/avocet-<name> folder (published before versions existed) is served as
LOCK_FILE = ".lock"


class ModelQuotaError(ValueError):
    """A new model name past AVOCET_MAX_MODELS; the message says what to do."""


class VersionError(ValueError):
    """A version that does not exist or may not be removed; the message says which and why."""


class CurrentVersionError(VersionError):
    """The version is the current one, which is never removed (the API answers 409)."""


def versions_root(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / VERSIONS / check_name(name)


def version_dir(models_dir: Path, name: str, version: int) -> Path:
    return versions_root(models_dir, name) / str(version)


def _stored_versions(models_dir: Path, name: str) -> list[int]:
    root = versions_root(models_dir, name)
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit()) if root.is_dir() else []


def _legacy_folder(models_dir: Path, name: str) -> Path | None:
    """models/avocet-<name> when it is a plain published folder (from before versions), else None."""
    folder = model_dir(models_dir, name)
    return folder if not folder.is_symlink() and (folder / INFO_FILE).is_file() else None


def list_versions(models_dir: Path, name: str) -> list[int]:
    """The kept versions, oldest first ([1] for a legacy folder)."""
    stored = _stored_versions(models_dir, name)
    return stored or ([LEGACY_VERSION] if _legacy_folder(models_dir, name) else [])


def current_version(models_dir: Path, name: str) -> int | None:
    """The version models/avocet-<name> serves (1 for a legacy folder); None when the model is not published."""
    if _legacy_folder(models_dir, name):
        return LEGACY_VERSION
    try:
        target = os.readlink(model_dir(models_dir, name))
    except (FileNotFoundError, OSError):
        return None
    last = Path(target).name
    return int(last) if last.isdigit() else None


def version_folder(models_dir: Path, name: str, version: int) -> Path:
    """Where a version's files are read from: its folder under .versions/, or the legacy folder for its version 1."""
    legacy = _legacy_folder(models_dir, name)
    return legacy if legacy and version == LEGACY_VERSION else version_dir(models_dir, name, version)


def published_names(models_dir: Path | str) -> list[str]:
    """The one definition of a published model: models/avocet-<name>, a link to its current version or a legacy
    plain folder, holding a training_info.json. Sorted by name; none when models_dir is missing."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    names = (p.name.removeprefix(MODEL_PREFIX) for p in root.glob(f"{MODEL_PREFIX}*"))
    return sorted(n for n in names if re.fullmatch(NAME_PATTERN, n) and current_version(root, n) is not None
                  and (model_dir(root, n) / INFO_FILE).is_file())  # fmt: skip


def model_folders(models_dir: Path | str) -> list[Path]:
    """The published models' folders (models/avocet-<name>), by name."""
    return [model_dir(Path(models_dir), name) for name in published_names(models_dir)]


@contextmanager
def switch_lock(models_dir: Path, name: str) -> Iterator[None]:
    """Hold the model's switch lock (blocking). flock: per open file, so threads of one process queue up too, and
    it ends with its holder, however it dies."""
    root = versions_root(models_dir, name)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def check_room(models_dir: Path, name: str, max_models: int) -> None:
    """A job may publish `name` if it is published already or fewer than `max_models` names are (ModelQuotaError)."""
    names = published_names(models_dir)
    if name not in names and len(names) >= max_models:
        raise ModelQuotaError(
            f"model quota: {len(names)} models are published, at most {max_models} (AVOCET_MAX_MODELS): publish under "
            "an existing name (a new version) or delete a model you no longer need (DELETE /api/models/{name})"
        )


def publish_version(staged: Path, models_dir: Path, name: str, keep: int, make_current: bool = True) -> tuple[int, bool]:
    """Make a finished staged folder the next version, and the current one unless `make_current` is false (a run
    that scored clearly worse than the current version); returns (version, replaced_another)."""
    with switch_lock(models_dir, name):
        _adopt_legacy_folder(models_dir, name)
        root = versions_root(models_dir, name)
        replaced = current_version(models_dir, name) is not None
        version = max(_stored_versions(models_dir, name), default=0) + 1
        while True:
            try:
                os.rename(staged, root / str(version))
                break
            except OSError as exc:  # a number taken by a run from before the lock existed
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                version += 1
        if make_current or not replaced:
            _switch(models_dir, name, version)
        _prune(models_dir, name, keep)
    return version, replaced


def switch_to(models_dir: Path, name: str, version: int) -> None:
    """Point models/avocet-<name> at `version` in one rename (rollback uses this too)."""
    with switch_lock(models_dir, name):
        _switch(models_dir, name, version)


def _switch(models_dir: Path, name: str, version: int) -> None:
    _adopt_legacy_folder(models_dir, name)
    if not version_dir(models_dir, name, version).is_dir():
        raise VersionError(f"model {name!r} has no version {version}: versions are {list_versions(models_dir, name)}")
    link = Path(models_dir) / f"{MODEL_PREFIX}{name}"
    temporary = link.with_name(f".{link.name}.switch-{uuid.uuid4().hex}")  # unique: never another switch's
    temporary.symlink_to(Path(VERSIONS) / name / str(version), target_is_directory=True)
    try:
        os.replace(temporary, link)
    finally:
        temporary.unlink(missing_ok=True)


def prune(models_dir: Path, name: str, keep: int) -> list[int]:
    """Remove all but the newest `keep` versions, never the current one; returns the removed versions."""
    with switch_lock(models_dir, name):
        return _prune(models_dir, name, keep)


def _prune(models_dir: Path, name: str, keep: int) -> list[int]:
    current = current_version(models_dir, name)
    old = [v for v in _stored_versions(models_dir, name)[: -max(1, keep)] if v != current]
    for version in old:
        shutil.rmtree(version_dir(models_dir, name, version), ignore_errors=True)
    return old


def delete_version(models_dir: Path, name: str, version: int) -> None:
    with switch_lock(models_dir, name):
        if version == current_version(models_dir, name):
            raise CurrentVersionError(f"version {version} of {name!r} is the current one: roll back to another "
                                      "version first, or delete the whole model")
        folder = version_dir(models_dir, name, version)
        if not folder.is_dir():
            raise VersionError(f"model {name!r} has no version {version}")
        shutil.rmtree(folder)


def delete_model(models_dir: Path, name: str) -> None:
    """The link goes first, so readers see the model vanish at once rather than half-removed."""
    link = Path(models_dir) / f"{MODEL_PREFIX}{check_name(name)}"
    with switch_lock(models_dir, name):
        if link.is_symlink():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        for version in _stored_versions(models_dir, name):  # the lock file stays: a waiting switch holds it open
            shutil.rmtree(version_dir(models_dir, name, version), ignore_errors=True)


def adopt_legacy_folder(models_dir: Path, name: str) -> None:
    """A model published before versions existed is a plain folder: it becomes version 1 (the one moment the path
    is briefly absent, once per legacy model)."""
    with switch_lock(models_dir, name):
        _adopt_legacy_folder(models_dir, name)


def _adopt_legacy_folder(models_dir: Path, name: str) -> None:
    link = model_dir(models_dir, name)
    if link.is_dir() and not link.is_symlink():
        root = versions_root(models_dir, name)
        root.mkdir(parents=True, exist_ok=True)
        first = max(_stored_versions(models_dir, name), default=0) + 1
        os.rename(link, root / str(first))
        _switch(models_dir, name, first)
