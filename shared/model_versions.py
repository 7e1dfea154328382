"""Versions of a published model (the models/ folder's other half; shared/model_store.py owns the rest).

Each successful run becomes an immutable folder models/.versions/<name>/<n>/ (n = 1, 2, 3, ...), and
models/avocet-<name> is a relative symlink to the current one. Switching version writes a new symlink beside it and
renames it over the old one: a rename is atomic, so a reader always finds the path, pointing at a complete version.
Two workers publishing one name at once both keep their version: each renames its staged folder to the next free
number, and renaming onto a number another run took fails (the folder is not empty), so it takes the next.
The newest `keep` versions stay (the current one always does); older ones are removed.

Every change of which versions exist or which is current (publish, rollback, prune, delete) holds the model's
switch lock: an flock on models/.versions/<name>/.lock, so two rollbacks, or a prune and a rollback, never
interleave, whichever process or host (sharing the volume) runs them.
"""

import errno
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.model_store import MODEL_PREFIX, check_name

VERSIONS = ".versions"
LOCK_FILE = ".lock"


class ModelQuotaError(ValueError):
    """A new model name past AVOCET_MAX_MODELS; the message says what to do."""


class VersionError(ValueError):
    """A version that does not exist or may not be removed; the message says which and why."""


def versions_root(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / VERSIONS / check_name(name)


def version_dir(models_dir: Path, name: str, version: int) -> Path:
    return versions_root(models_dir, name) / str(version)


def list_versions(models_dir: Path, name: str) -> list[int]:
    root = versions_root(models_dir, name)
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit()) if root.is_dir() else []


def current_version(models_dir: Path, name: str) -> int | None:
    """The version models/avocet-<name> points at; None when the model is not published."""
    link = Path(models_dir) / f"{MODEL_PREFIX}{check_name(name)}"
    try:
        target = os.readlink(link)
    except (FileNotFoundError, OSError):
        return None
    last = Path(target).name
    return int(last) if last.isdigit() else None


def published_names(models_dir: Path) -> list[str]:
    root = Path(models_dir)
    links = root.glob(f"{MODEL_PREFIX}*") if root.is_dir() else []
    return sorted(p.name.removeprefix(MODEL_PREFIX) for p in links if p.is_symlink())


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
        version = max(list_versions(models_dir, name), default=0) + 1
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
    old = [v for v in list_versions(models_dir, name)[: -max(1, keep)] if v != current]
    for version in old:
        shutil.rmtree(version_dir(models_dir, name, version), ignore_errors=True)
    return old


def delete_version(models_dir: Path, name: str, version: int) -> None:
    with switch_lock(models_dir, name):
        if version == current_version(models_dir, name):
            raise VersionError(f"version {version} of {name!r} is the current one: roll back to another version first")
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
        for version in list_versions(models_dir, name):  # the lock file stays: a waiting switch holds it open
            shutil.rmtree(version_dir(models_dir, name, version), ignore_errors=True)


def adopt_legacy_folder(models_dir: Path, name: str) -> None:
    """A model published before versions existed is a plain folder: it becomes version 1 (the one moment the path
    is briefly absent, once per legacy model)."""
    with switch_lock(models_dir, name):
        _adopt_legacy_folder(models_dir, name)


def _adopt_legacy_folder(models_dir: Path, name: str) -> None:
    link = Path(models_dir) / f"{MODEL_PREFIX}{check_name(name)}"
    if link.is_dir() and not link.is_symlink():
        root = versions_root(models_dir, name)
        first = max(list_versions(models_dir, name), default=0) + 1
        os.rename(link, root / str(first))
        _switch(models_dir, name, first)
