"""No server path crosses the API: what leaves the service names things (model names, dataset ids, file names),
never where they lie on the box.

Training writes paths for its own use (training_info.json's `base_model_path` and `split.data_file`, the job
result's `model_dir`, the benchmark's `results_file` and `data_file`), and messages may quote a file under one of
the service's folders. `scrub` is applied where such values become public: every CLI line the worker turns into
an event (shared/events.py) and what the API serves from training_info.json, job records and benchmark results
(the records of older jobs too). Path fields are dropped, a data file keeps only its name, and the service's
folders are cut from the front of any path quoted in text.
"""

from pathlib import Path
from typing import Any

DROPPED = frozenset({"model_dir", "base_model_path", "results_file"})  # where the box keeps them: nobody else's business
NAMED = frozenset({"data_file"})  # the file's name says which data it was


def server_roots(settings: Any) -> tuple[str, ...]:
    """The service's folders as absolute paths, longest first (a folder inside another is cut whole)."""
    folders = (settings.models_dir, settings.data_dir, settings.base_models_dir, Path(settings.score_file).parent)
    roots = {str(Path(folder).resolve()) for folder in folders if folder is not None}
    return tuple(sorted((r for r in roots if r != "/"), key=len, reverse=True))


def scrub(value: Any, roots: tuple[str, ...]) -> Any:
    """`value` (JSON-like) with path fields dropped or reduced to a name, and `roots` cut out of strings."""
    if isinstance(value, dict):
        return {key: Path(item).name if key in NAMED and isinstance(item, str) else scrub(item, roots)
                for key, item in value.items() if key not in DROPPED}  # fmt: skip
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(item, roots) for item in value)
    if isinstance(value, str):
        for root in roots:
            if root in value:
                value = value.replace(root + "/", "").replace(root, ".")
    return value
