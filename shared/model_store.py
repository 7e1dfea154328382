"""The models/ folder (the shared volume), owned here and nowhere else: its layout, safe model names, staging and
the atomic publish, training_info.json, and the benchmark results file. Torch-free, so the API reads it too.

Layout: models/avocet-<name>/ (a published model: weights, tokenizer, training_info.json),
models/.staging/<host>-<pid>-<random>-<name>/ (a run in progress; renamed into place only when finished, so readers
never see half-written output and a killed run loses nothing) beside its <folder>.lock (flock held by the run, so
any host sharing the volume can tell a dead run's leftovers), models/benchmark_results.json (docs/contracts.md).
"""

import fcntl
import json
import logging
import os
import re
import shutil
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from shared.atomic_files import write_atomically

log = logging.getLogger(__name__)

MODEL_PREFIX = "avocet-"
NAME_PATTERN = r"^[a-z0-9_-]{1,64}$"  # a published model's <name>; the API schema and the web form use it too
NAME_RULE = "1-64 characters from a-z, 0-9, '_' and '-'"
INFO_FILE = "training_info.json"
CARD_FILE = "README.md"
RESULTS_FILE = "benchmark_results.json"
STAGING = ".staging"
LOCK_SUFFIX = ".lock"
ORPHAN_LOCK_AGE_S = 60  # a lock file without its folder this old is a leftover (younger: a run being set up)
MAX_RUNS = 50


class BadNameError(ValueError):
    pass


def check_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise BadNameError(f"invalid model name {name!r}: use {NAME_RULE}")
    return name


def model_dir(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / f"{MODEL_PREFIX}{check_name(name)}"


_held: dict[Path, int] = {}  # this process's staging folders -> the descriptor holding their lock


def staging_dir(models_dir: Path, name: str) -> Path:
    """A new folder for a run in progress, owned by this process until publish or discard: its <folder>.lock is
    created and flock-ed before the folder exists, and the lock ends with the process, however it dies."""
    root = Path(models_dir) / STAGING
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}-{check_name(name)}"
    fd = os.open(_lock_of(path), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _held[path] = fd
    path.mkdir()
    return path


def release_staging(staged: Path) -> None:
    """The staged folder was published (moved away) or removed: drop its lock file."""
    fd = _held.pop(Path(staged), None)
    if fd is not None:
        _lock_of(staged).unlink(missing_ok=True)
        os.close(fd)


def discard_staging(staged: Path) -> None:
    shutil.rmtree(staged, ignore_errors=True)
    release_staging(staged)


def clean_stale_staging(models_dir: Path) -> list[Path]:
    """Remove the staging folders whose run is provably dead, made on any host sharing the volume: their lock can be
    taken (its owner's flock ended with it). A folder without a lock file (older versions) only when it is this
    host's and its pid is gone. Live runs of other workers on the volume are never touched. Returns what it removed."""
    root = Path(models_dir) / STAGING
    if not root.is_dir():
        return []
    removed = []
    for lock in root.glob(f"*{LOCK_SUFFIX}"):
        folder = lock.with_name(lock.name[: -len(LOCK_SUFFIX)])
        settled = folder.exists() or _age(lock) > ORPHAN_LOCK_AGE_S  # younger and alone: a run being set up
        if folder not in _held and settled and _remove_if_dead(folder, lock):
            removed.append(folder)
    host = socket.gethostname()
    for folder in (p for p in root.iterdir() if p.is_dir() and not _lock_of(p).exists()):
        pid = folder.name.removeprefix(f"{host}-").split("-", 1)[0] if folder.name.startswith(f"{host}-") else ""
        if folder.name.startswith("retired-") or (pid.isdigit() and not _alive(int(pid))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _lock_of(folder: Path) -> Path:
    return folder.with_name(folder.name + LOCK_SUFFIX)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _remove_if_dead(folder: Path, lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held: its run is alive
        os.close(fd)
        return False
    try:
        shutil.rmtree(folder, ignore_errors=True)
        lock.unlink(missing_ok=True)
    finally:
        os.close(fd)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_training_info(folder: Path, info: dict) -> None:
    """training_info.json and the model card rendered from it (README.md, the Hugging Face convention)."""
    from shared.model_card import render

    (Path(folder) / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    (Path(folder) / CARD_FILE).write_text(render(info), encoding="utf-8")


def read_training_info(folder: Path) -> dict:
    """The folder's training_info.json; ValueError with the file named when it is unreadable."""
    path = Path(folder) / INFO_FILE
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable {path}: {exc}") from exc
    if not isinstance(info, dict):
        raise ValueError(f"unreadable {path}: not a JSON object")
    return info


def new_benchmark_run(data_file: Path | str, rows: int, split_seed: int, results: list[dict]) -> dict:
    return {
        "id": uuid.uuid4().hex, "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_file": str(data_file), "rows": rows, "split_seed": split_seed, "results": results,
    }  # fmt: skip


def read_runs(path: Path) -> list[dict]:
    """The saved benchmark runs, newest first; [] without a file. ValueError when it is not a results file."""
    try:
        runs = json.loads(Path(path).read_text(encoding="utf-8"))["runs"]
    except FileNotFoundError:
        return []
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a benchmark results file: {exc}") from exc
    if not isinstance(runs, list) or not all(isinstance(run, dict) for run in runs):
        raise ValueError(f"{path} is not a benchmark results file: 'runs' is not a list of objects")
    return runs


def read_benchmark_runs(models_dir: Path | str) -> list[dict]:
    """For readers that must not fail (the API): [] with a log line when the file is unreadable."""
    path = Path(models_dir) / RESULTS_FILE
    try:
        return read_runs(path)
    except ValueError as exc:
        log.warning("ignoring %s", exc)
        return []


def save_benchmark_run(models_dir: Path | str, run: dict, max_runs: int = MAX_RUNS) -> Path:
    """Prepend run to the history (keeping the newest max_runs) and return the file's path. Written whole to a
    temporary file and moved into place, so a reader sees the old file or the new one; an unreadable file is kept
    aside as *.unreadable-<time>, not lost."""
    folder = Path(models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS_FILE
    try:
        runs = read_runs(path)
    except ValueError as exc:
        aside = path.with_name(f"{RESULTS_FILE}.unreadable-{datetime.now(UTC):%Y%m%dT%H%M%S}")
        log.warning("%s; moved it to %s and starting a new history", exc, aside)
        os.replace(path, aside)
        runs = []
    write_atomically(path, (json.dumps({"runs": [run, *runs][:max_runs]}, indent=2) + "\n").encode())
    return path
