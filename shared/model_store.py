"""The models/ folder (the shared volume), owned here and nowhere else: its layout, safe model names, staging and
the atomic publish, training_info.json, and the benchmark results file. Torch-free, so the API reads it too.

Layout: models/avocet-<name>/ (a published model: weights, tokenizer, training_info.json),
models/.staging/<host>-<pid>-<name>/ (a run in progress; renamed into place only when finished, so readers never
see half-written output and a killed run loses nothing), models/benchmark_results.json (docs/contracts.md).
"""

import json
import logging
import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_PREFIX = "avocet-"
NAME_PATTERN = r"^[a-z0-9_-]{1,64}$"  # a published model's <name>; the API schema and the web form use it too
NAME_RULE = "1-64 characters from a-z, 0-9, '_' and '-'"
INFO_FILE = "training_info.json"
RESULTS_FILE = "benchmark_results.json"
STAGING = ".staging"
MAX_RUNS = 50


class BadNameError(ValueError):
    pass


def check_name(name: str) -> str:
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise BadNameError(f"invalid model name {name!r}: use {NAME_RULE}")
    return name


def model_dir(models_dir: Path, name: str) -> Path:
    return Path(models_dir) / f"{MODEL_PREFIX}{check_name(name)}"


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


def write_training_info(folder: Path, info: dict) -> None:
    (Path(folder) / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


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


def model_folders(models_dir: Path | str) -> list[Path]:
    """Published model folders (those holding a training_info.json), by name; none when models_dir is missing."""
    root = Path(models_dir)
    if not root.is_dir():
        return []
    return sorted(p.parent for p in root.glob(f"*/{INFO_FILE}") if not p.parent.name.startswith("."))


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
    _write_atomically(path, {"runs": [run, *runs][:max_runs]})
    return path


def _write_atomically(path: Path, value: dict) -> None:
    handle = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            json.dump(value, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o644)  # mkstemp makes it 0600; the API may run as another user on the volume
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
