"""What the worker's CLIs (worker.training, worker.benchmark) share: stdout as one event per line, flushed, and the
common run wrapper (quiet libraries, SIGTERM unwinding, bad input as an `error` line with exit code 2).
"""

import json
import logging
import signal
import sys
from collections.abc import Callable

EXIT_BAD_INPUT = 2
Emit = Callable[..., None]


def make_emitter(as_json: bool) -> Emit:
    def emit(type_: str, message: str, **fields) -> None:
        line = json.dumps({"type": type_, "message": message, **fields}) if as_json else f"[{type_}] {message}"
        print(line, flush=True)

    return emit


def run_cli(as_json: bool, run: Callable[[Emit], int], bad_input: tuple[type[BaseException], ...]) -> int:
    emit = make_emitter(as_json)
    _quiet_libraries()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(emit)
    except bad_input as exc:
        emit("error", str(exc), reason="bad_input")
        return EXIT_BAD_INPUT


def _quiet_libraries() -> None:
    """Library chatter goes to stderr at warning level; progress bars would garble the worker's log."""
    from transformers.utils import logging as hf_logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    hf_logging.set_verbosity_warning()
    hf_logging.disable_progress_bar()


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through the run, so staging folders and temp files are removed
