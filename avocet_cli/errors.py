"""The CLI's exit codes, and how an HTTP error or an unreachable API becomes one sentence plus one of them.

0 succeeded, 1 job failed, 2 usage or bad input, 3 job cancelled, 4 API unreachable / refused the token / broken,
130 Ctrl-C while following (the job keeps running).
"""

from pathlib import Path
from typing import Any

import httpx

from shared.job_schema import Hyperparameters
from shared.param_flags import flag_of

OK = 0
JOB_FAILED = 1
BAD_INPUT = 2
JOB_CANCELLED = 3
UNAVAILABLE = 4
INTERRUPTED = 130

# API field -> the flag that sets it, so a 422 names what the user typed.
FLAGS = {
    "model": "--model", "epochs": "--epochs", "data": "--dataset", "labels": "--labels", "name": "--name",
    "models": "--models", "version": "--version", "top_k": "--top-k", "emails": "--file/--subject/--body",
    **{name: flag_of(name) for name in Hyperparameters.model_fields},
}  # fmt: skip


class CliError(Exception):
    """Ends the command: `message` goes to stderr and the process exits with `code`."""

    def __init__(self, message: str, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.code = code


def read_file(path: Path) -> bytes:
    """A file the user named, or a CliError saying it cannot be read (permissions, a device, an I/O error)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}; check the path and its permissions") from None


def unreachable(url: str, exc: Exception) -> CliError:
    return CliError(
        f"cannot reach the Avocet API at {url} ({type(exc).__name__}: {exc}); start it (scripts/up) "
        "or set AVOCET_URL to its address", UNAVAILABLE)  # fmt: skip


def from_response(response: httpx.Response, token_set: bool) -> CliError:
    """A non-2xx answer as a CliError with the server's own words."""
    code, detail = response.status_code, _detail(response)
    if code in (401, 403):
        fix = ("the API refused AVOCET_API_TOKEN: set it to the server's token" if token_set
               else "the API needs a token: set AVOCET_API_TOKEN to the server's token")  # fmt: skip
        return CliError(f"{fix} ({code}: {_text(detail)})", UNAVAILABLE)
    if code == 422:
        return CliError(explain_422(detail), BAD_INPUT)
    if code == 413:
        return CliError(f"too big for the API (413): {_text(detail)}; upload a smaller file", BAD_INPUT)
    if code >= 500:
        return CliError(f"the API failed ({code}): {_text(detail)}", UNAVAILABLE)
    return CliError(f"{_text(detail)} ({code})", BAD_INPUT)


def explain_422(detail: Any) -> str:
    """FastAPI's [{loc, msg}] list, a dataset's {message, errors: [{line, problem}]} or plain text, as lines."""
    if isinstance(detail, list):
        lines = [f"{_field(err.get('loc') or [])}: {err.get('msg', err)}" if isinstance(err, dict) else str(err)
                 for err in detail]  # fmt: skip
        return "invalid input:\n  " + "\n  ".join(lines)
    if isinstance(detail, dict):
        lines = [f"line {e.get('line')}: {e.get('problem')}" for e in detail.get("errors") or [] if isinstance(e, dict)]
        return "\n  ".join([str(detail.get("message") or "invalid input"), *lines])
    return f"invalid input: {_text(detail)}"


def _field(loc: list) -> str:
    """['body', 'hyperparameters', 'learning_rate'] -> '--learning-rate (hyperparameters.learning_rate)'."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    if not parts:
        return "request"
    dotted = ".".join(parts)
    flag = next((FLAGS[p] for p in reversed(parts) if p in FLAGS), None)
    return f"{flag} ({dotted})" if flag else dotted


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    return body.get("detail", body) if isinstance(body, dict) else body


def _text(detail: Any) -> str:
    return detail if isinstance(detail, str) else str(detail)
