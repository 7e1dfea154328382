"""Run a CLI as a child process in its own process group, hand each stdout line to a callback, and stop the whole
group on request. No Celery and no Redis here, so it runs and tests alone.

Why a child process: the GPU memory of a training run is released when the process exits, whatever happened inside.
Why its own process group: cancel must also stop the helpers it forks (tokenizer or data-loader workers), so we
signal the group, SIGTERM (with SIGCONT, so a stopped process can act on it) first and SIGKILL after a short grace.
On Linux the child also gets PR_SET_PDEATHSIG, so a `kill -9` of the worker takes the training run down with it
instead of leaving an orphan on the GPU. The callback may answer a line: its return value goes to the child's stdin
(the publish handshake, worker/training/pipeline.py).
"""

import collections
import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.parent_death import die_with_parent

log = logging.getLogger(__name__)

@dataclass
class ChildResult:
    returncode: int
    stopped: bool  # True when should_stop() asked for it and the group was killed
    stderr_tail: list[str] = field(default_factory=list)


def _become_group_leader() -> None:
    """Runs in the child between fork and exec: own process group, and die with the parent."""
    os.setpgid(0, 0)
    die_with_parent(signal.SIGKILL)


def kill_group(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM the child's process group, then SIGKILL whatever is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
            if sig == signal.SIGTERM:
                os.killpg(process.pid, signal.SIGCONT)  # a stopped (kill -STOP) group handles SIGTERM only once woken
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        try:  # the leader is gone; make sure no helper of the group survives it
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return


def run_child(
    argv: Sequence[str],
    on_line: Callable[[str], str | None],
    should_stop: Callable[[], bool] = lambda: False,
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    poll_s: float = 0.5,
    grace_s: float = 3.0,
) -> ChildResult:
    """Run argv to completion (or until should_stop() is true, polled every poll_s); stdout lines go to on_line, and
    what it returns (a line) to the child's stdin."""
    process = subprocess.Popen(
        list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, cwd=cwd, preexec_fn=_become_group_leader,
    )  # fmt: skip
    stderr_tail: collections.deque[str] = collections.deque(maxlen=30)
    reader = threading.Thread(target=_drain_stderr, args=(process, stderr_tail), daemon=True)
    reader.start()
    stopped = False
    try:
        stopped = _pump_stdout(process, on_line, should_stop, poll_s) or _wait(process, should_stop, poll_s)
    finally:
        if process.poll() is None:
            kill_group(process, grace_s)
        process.stdout.close()
        _close_quietly(process.stdin)
        reader.join(5.0)
    return ChildResult(process.wait(), stopped, list(stderr_tail))


def _pump_stdout(process: subprocess.Popen, on_line: Callable[[str], str | None], should_stop: Callable[[], bool],
                 poll_s: float) -> bool:  # fmt: skip
    """Forward complete stdout lines until EOF; returns True if stopped on request. What is waiting in the pipe is
    read before each should_stop(), so a worker that was itself paused sees the child's lines before judging it."""
    fd = process.stdout.fileno()
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        next_check = time.monotonic() + poll_s
        while True:
            if selector.select(poll_s):
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    _answer(process, on_line(line.decode("utf-8", "replace")))
            if time.monotonic() >= next_check:
                if should_stop():
                    return True
                next_check = time.monotonic() + poll_s
    if buffer:
        _answer(process, on_line(buffer.decode("utf-8", "replace")))
    return False


def _answer(process: subprocess.Popen, reply: str | None) -> None:
    if reply is None:
        return
    try:
        process.stdin.write(reply.encode() + b"\n")
        process.stdin.flush()
    except (BrokenPipeError, ValueError, OSError):  # it is gone (or going): its exit tells the rest
        pass


def _close_quietly(stream) -> None:
    try:
        stream.close()
    except (BrokenPipeError, OSError):
        pass


def _wait(process: subprocess.Popen, should_stop: Callable[[], bool], poll_s: float) -> bool:
    """stdout is closed but the process may linger: wait for it, still honouring a stop request."""
    while True:
        try:
            process.wait(poll_s)
            return False
        except subprocess.TimeoutExpired:
            if should_stop():
                return True


def _drain_stderr(process: subprocess.Popen, tail: collections.deque) -> None:
    """Keep the last stderr lines for error messages; the rest goes to the worker log at debug level."""
    for raw in process.stderr:
        line = raw.decode("utf-8", "replace").rstrip()
        if line:
            tail.append(line)
            log.debug("child stderr: %s", line)
    process.stderr.close()
