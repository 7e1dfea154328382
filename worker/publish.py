"""Model folders on the shared volume: safe names, a staging area, and the atomic move into place.

A run trains into models/.staging/<host>-<pid>-<name>/ and only a finished run is renamed to models/avocet-<name>/,
so the status scan (models/*/training_info.json) never sees half-written output and a killed run loses nothing.
"""

import logging
import os
import re
import shutil
import socket
import time
from pathlib import Path

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[a-z0-9_-]{1,64}$")
STAGING = ".staging"


class BadNameError(ValueError):
    pass


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise BadNameError(f"invalid model name {name!r}: use 1-64 characters from a-z, 0-9, '_' and '-'")
    return name


def model_dir(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / f"avocet-{check_name(name)}"


def staging_dir(models_dir: Path, name: str) -> Path:
    path = Path(models_dir) / STAGING / f"{socket.gethostname()}-{os.getpid()}-{check_name(name)}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def clean_stale_staging(models_dir: Path) -> None:
    """Remove staging folders left by killed runs of this host (their process is gone)."""
    root = Path(models_dir) / STAGING
    host = socket.gethostname()
    for path in root.glob(f"{host}-*") if root.is_dir() else []:
        pid = path.name.removeprefix(f"{host}-").split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def publish(staged: Path, target: Path) -> bool:
    """Move a finished folder into place; returns True when it replaced an older model."""
    replaced = target.exists()
    if replaced:
        retired = staged.parent / f"retired-{target.name}-{time.time_ns()}"
        os.rename(target, retired)
        os.rename(staged, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(staged, target)
    return replaced
