"""What the audit and score CLIs (worker/audit/, worker/scoring/) share: their arguments, reading a dataset's rows
(labelled or not), and the result rows' common fields (README "The labelling loop" lists the formats).

Each result row points back at its dataset row by `line` (1-based, in the file as uploaded) and the row's own `id`
when it has one, and carries a short text preview so a person can judge it without the file; text is cut so that a
result line stays small whatever the email.
"""

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from shared import datasets
from shared.data import DataError, Row
from shared.job_schema import explain
from shared.settings import get_settings

PREVIEW_CHARS = 200
DIGITS = 6
PROGRESS_TYPES = ("start", "progress", "eval", "complete", "error")  # a fold's training run's own, not the job's


def add_common_arguments(parser: argparse.ArgumentParser, params: type[BaseModel]) -> None:
    parser.add_argument("--params-json", help=f"the job's parameters as one {params.__name__} JSON object")
    parser.add_argument("--results-dir", type=Path, default=Path("results"),
                        help="folder the result files go to (the worker gives the job's own)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of text")


def params_from(args: argparse.Namespace, params: type[BaseModel], flags: dict[str, Any]) -> Any:
    """The job's parameters: --params-json whole (the worker), else the flags given (an operator)."""
    try:
        if args.params_json is not None:
            return params.model_validate_json(args.params_json)
        return params.model_validate({k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        raise ValueError(f"bad parameters ({explain(exc)})") from None


def read_dataset(data: str) -> list[Row]:
    """Every row of the dataset `data` (an id), labelled or not; DataError when there is none."""
    path, _, _ = datasets.resolve(data, get_settings())
    if not path.is_file():
        raise DataError(f"no dataset {data!r}: upload it (POST /api/datasets) or list them (GET /api/datasets)")
    rows = datasets.read_rows(path)
    if not rows:
        raise DataError(f"dataset {data} holds no readable rows")
    return rows


def row_fields(row: Row) -> dict[str, Any]:
    """Where the row is and what it says, briefly: line, id, subject, preview."""
    return {"line": row.line, "id": row.id, "subject": row.subject[:PREVIEW_CHARS], "preview": row.body[:PREVIEW_CHARS]}


def rounded(value: float) -> float:
    return round(float(value), DIGITS)


def as_log(emit: Callable[..., None]) -> Callable[..., None]:
    """The emit a fold's own training run gets: its start/progress/complete lines become `log` lines, so the job's
    progress stays the folds' and its one terminal line is this CLI's."""

    def forward(type_: str, message: str, **fields: Any) -> None:
        emit("log" if type_ in PROGRESS_TYPES else type_, message)

    return forward
