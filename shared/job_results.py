"""Result files of the audit and score jobs: the one owner of models/.results/ (torch-free).

Layout: <models_dir>/.results/<job id>/<name>.jsonl, one JSON object per line (formats: README "The labelling
loop"). The models volume is the one both the worker (writes) and the API (reads) mount read-write, and a job's
results are as much the service's output as a model version is. The job's CLI child writes each file as
`<name>.jsonl.part` and renames it when complete, so a reader never sees half a file; the job record lists the files
(`result.results`) only once the job has succeeded. The worker removes the folder of a job that did not succeed, and
before each result job the folders older than the event retention (AVOCET_EVENT_RETENTION_DAYS): results live as
long as the job's log does. A job whose worker died is failed by the reaper, and whoever reaps it (an API process, or
the worker restarting) removes its folder (discard_jobs).
"""

import json
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

RESULTS = ".results"
SUFFIX = ".jsonl"
NAME_PATTERN = r"^[a-z][a-z_]{0,31}$"
JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"  # Celery task ids (uuids); never a path
MAX_ROWS = 1_000_000  # per file; the inputs are bounded already (AVOCET_DATASET_MAX_BYTES), this is the backstop
RESULT_KINDS = ("audit", "score")


def job_folder(models_dir: Path, job_id: str) -> Path:
    if not re.fullmatch(JOB_ID_PATTERN, job_id or ""):
        raise ValueError(f"not a job id: {job_id!r}")
    return Path(models_dir) / RESULTS / job_id


def result_file(folder: Path, name: str) -> Path:
    if not re.fullmatch(NAME_PATTERN, name or ""):
        raise ValueError(f"not a result name: {name!r}")
    return Path(folder) / f"{name}{SUFFIX}"


def prepare(models_dir: Path, job_id: str, retention_s: float, now: float | None = None) -> Path:
    """The (fresh, empty) folder for a job's results, after removing the folders older than `retention_s`."""
    root, now = Path(models_dir) / RESULTS, now or time.time()
    if root.is_dir():
        for old in root.iterdir():
            try:
                if now - old.stat().st_mtime > retention_s:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:  # removed by another worker meanwhile
                continue
    folder = job_folder(models_dir, job_id)
    shutil.rmtree(folder, ignore_errors=True)  # a delivery of this job before (its worker died): not its results
    folder.mkdir(parents=True)
    return folder


def discard(folder: Path) -> None:
    """Remove a job's results (it failed or was cancelled: what it wrote is no result)."""
    shutil.rmtree(folder, ignore_errors=True)


def discard_jobs(models_dir: Path, job_ids: Iterable[str]) -> None:
    """Remove the result folders of jobs the reaper failed: their worker died (kill -9, crash) before it could."""
    for job_id in job_ids:
        try:
            discard(job_folder(models_dir, job_id))
        except ValueError:  # an id that could never have a folder
            continue


def write(folder: Path, name: str, rows: Iterable[dict[str, Any]], limit: int = MAX_ROWS) -> int:
    """Write up to `limit` rows as <name>.jsonl (complete or absent); returns how many were written."""
    path = result_file(folder, name)
    part = path.with_name(path.name + ".part")
    written = 0
    try:
        with part.open("w", encoding="utf-8") as handle:
            for row in rows:
                if written >= min(limit, MAX_ROWS):
                    break
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
        part.replace(path)
    finally:
        part.unlink(missing_ok=True)
    return written


def read_lines(path: Path, limit: int | None = None) -> Iterator[bytes]:
    """The first `limit` lines (all when None) of a result file, each ending in a newline, read as they are sent."""
    with Path(path).open("rb") as handle:
        for count, line in enumerate(handle):
            if limit is not None and count >= limit:
                return
            yield line
