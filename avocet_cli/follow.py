"""Following a job until it ends: its events (replay, then live) as a log with a progress bar, resumed from the last
event id when the connection drops, and its outcome as the exit code (0 succeeded, 1 failed, 3 cancelled).

Ctrl-C stops following only: the job keeps running on the server, and the message says how to follow it again.
"""

import time
from datetime import datetime
from typing import Any

import httpx

from avocet_cli.client import ApiClient
from avocet_cli.errors import INTERRUPTED, JOB_CANCELLED, JOB_FAILED, OK, unreachable
from avocet_cli.format import Output, clock, duration, error_text, event_line, progress_text
from shared.event_types import PROGRESS_FIELDS, TERMINAL_TYPES

EXIT_BY_STATE = {"succeeded": OK, "failed": JOB_FAILED, "cancelled": JOB_CANCELLED}
RECONNECTS = 6  # in a row without a new event; the server may restart in between (about 30 s of tries)


def follow(client: ApiClient, out: Output, job_id: str, after: int = 0, show_log: bool = True) -> int:
    """Exit code of the job once it ends. `show_log=False` (jobs wait) prints only the outcome."""
    view = _View(out, show_log)
    last, misses = after, 0
    try:
        while True:
            try:
                for event in client.events(job_id, last):
                    last, misses = int(event.get("id") or last), 0
                    view.show(event)
                    if event.get("type") in TERMINAL_TYPES:
                        return _from_event(out, job_id, event)
            except httpx.TransportError as exc:
                misses = _retry_or_raise(client, misses, exc)
                continue
            # Closed without a terminal event: 204 (ended, nothing after `last`) or a server going away.
            job = client.get(f"/api/jobs/{job_id}")
            if job.get("state") in EXIT_BY_STATE:
                return outcome(out, job)
            misses = _retry_or_raise(client, misses, None)
    except KeyboardInterrupt:
        out.error(f"\nstopped following; job {job_id} keeps running on the server.\n"
                  f"Follow it again: avocet jobs logs {job_id} --follow\n"
                  f"Cancel it:       avocet jobs cancel {job_id}")  # fmt: skip
        return INTERRUPTED


def _retry_or_raise(client: ApiClient, misses: int, exc: Exception | None) -> int:
    misses += 1
    if misses > RECONNECTS:
        raise unreachable(client.url, exc or RuntimeError("the event stream keeps closing before the job ends"))
    time.sleep(min(0.5 * 2**misses, 8.0))  # backoff: a restarting API needs a few seconds
    return misses


def outcome(out: Output, job: dict[str, Any]) -> int:
    """Exit code and message of an ended job, from its record."""
    state = str(job.get("state"))
    return _report(out, job.get("id"), state, error_text(job.get("error")), None)


def _from_event(out: Output, job_id: str, event: dict[str, Any]) -> int:
    data = event.get("data") or {}
    state = "succeeded" if event.get("type") == "complete" else str(data.get("state") or "failed")
    return _report(out, job_id, state, event.get("message") or "", data.get("reason"))


def _report(out: Output, job_id: Any, state: str, message: str, reason: str | None) -> int:
    code = EXIT_BY_STATE.get(state, JOB_FAILED)
    out.end_bar()
    why = f" ({reason})" if reason else ""
    text = f"job {job_id} {state}{why}" + (f": {message}" if message else "")
    if code == OK:
        if not out.as_json:
            out.line(text)
    else:
        out.error(text)  # stderr in every mode: the reason, beside the non-zero exit
    return code


class _View:
    """Events on screen: log lines, and the progress bar fed by `progress` and `eval` events."""

    def __init__(self, out: Output, show_log: bool) -> None:
        self.out, self.show_log = out, show_log
        self.progress: dict[str, Any] = {}

    def show(self, event: dict[str, Any]) -> None:
        if not self.show_log:
            return
        if self.out.as_json:
            self.out.record(event)
            return
        kind, data = event.get("type"), event.get("data") or {}
        if kind in TERMINAL_TYPES:
            return  # the outcome line says it
        if kind not in PROGRESS_FIELDS:
            self.out.line(event_line(event))
            return
        self.progress.update({k: data[k] for k in PROGRESS_FIELDS[kind] if data.get(k) is not None})
        text = progress_text(self.progress, self._eta(event))
        if kind == "eval" or "loss" not in data:  # per-epoch scores and benchmark rows stay in the log
            self.out.line(event_line(event))
            if self.out.tty:
                self.out.bar(text)
        else:  # one line per event when stdout is not a terminal
            self.out.bar(text if self.out.tty else f"{clock(event.get('ts'))} [{kind}] {text}")

    def _eta(self, event: dict[str, Any]) -> str:
        """Time left by the server's estimate (shared/progress.py), as of the event that carried it."""
        try:
            left = datetime.fromisoformat(event["data"]["estimated_finish"]) - datetime.fromisoformat(event["ts"])
        except (KeyError, TypeError, ValueError):
            return ""
        return duration(left.total_seconds())
