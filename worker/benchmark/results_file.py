"""models/benchmark_results.json: the saved runs, newest first (docs/contracts.md "Benchmark results file").

Written whole to a temporary file beside it and moved into place with os.replace, so a reader (the API) sees the old
file or the new one, never half of one. A file that cannot be read is kept aside as *.unreadable-<time>, not lost.
"""

import json
import logging
import os
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

logger = logging.getLogger(__name__)

RESULTS_FILE = "benchmark_results.json"
MAX_RUNS = 50


def new_run(data_file: Path | str, rows: int, split_seed: int, results: list[dict]) -> dict:
    return {
        "id": uuid.uuid4().hex,
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_file": str(data_file),
        "rows": rows,
        "split_seed": split_seed,
        "results": results,
    }


def read_runs(path: Path) -> list[dict]:
    """The saved runs; [] when there is no file yet. ValueError when the file is not a results file."""
    try:
        runs = json.loads(Path(path).read_text(encoding="utf-8"))["runs"]
    except FileNotFoundError:
        return []
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a benchmark results file: {exc}") from exc
    if not isinstance(runs, list):
        raise ValueError(f"{path} is not a benchmark results file: 'runs' is not a list")
    return runs


def save_run(models_dir: Path | str, run: dict, max_runs: int = MAX_RUNS) -> Path:
    """Prepend run to the history (keeping the newest max_runs) and return the file's path."""
    folder = Path(models_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS_FILE
    try:
        runs = read_runs(path)
    except ValueError as exc:
        aside = path.with_name(f"{RESULTS_FILE}.unreadable-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
        logger.warning("%s; moved it to %s and starting a new history", exc, aside)
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
