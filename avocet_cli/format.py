"""How the CLI writes: the Output (stdout/stderr, --json lines, a progress bar drawn with plain \\r on a terminal and
one line per update otherwise), tables, and the text of jobs, events and progress."""

import json
import shutil
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

BAR_CELLS = 24


class Output:
    """Where the CLI writes. `as_json`: stdout carries one JSON object per line and nothing else."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None, as_json: bool = False,
                 tty: bool | None = None) -> None:  # fmt: skip
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.as_json = as_json
        self.tty = self.out.isatty() if tty is None else tty
        self._bar = ""  # the bar now on screen (terminal only)

    def line(self, text: str = "") -> None:
        shown = self._bar
        self._wipe()
        print(text, file=self.out, flush=True)
        if shown:
            self.bar(shown)  # log lines scroll above the bar, which stays at the bottom

    def record(self, obj: Any) -> None:
        print(json.dumps(obj), file=self.out, flush=True)

    def listing(self, records: list[dict], headers: list[str], row: Callable[[dict], list[Any]], empty: str) -> None:
        """A list command's output: one JSON object per record, else a table (or `empty` when there are none)."""
        if self.as_json:
            for item in records:
                self.record(item)
        else:
            self.line(table(headers, [row(item) for item in records]) if records else empty)

    def error(self, text: str) -> None:
        self.end_bar()
        print(text, file=self.err, flush=True)

    def bar(self, text: str) -> None:
        if not self.tty:
            print(text, file=self.out, flush=True)
            return
        text = text[: max(20, shutil.get_terminal_size().columns - 1)]  # a wrapped line cannot be redrawn by \r
        self.out.write("\r" + text.ljust(len(self._bar)))
        self.out.flush()
        self._bar = text

    def end_bar(self) -> None:
        """Leave the bar as it is on screen and move below it."""
        if self._bar:
            self.out.write("\n")
            self.out.flush()
            self._bar = ""

    def _wipe(self) -> None:
        if self._bar:
            self.out.write("\r" + " " * len(self._bar) + "\r")
            self._bar = ""


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [headers, *[["-" if v is None or v == "" else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells)


def when(iso: str | None) -> str:
    """An ISO time in local time, to the second; '-' when absent, as given when unreadable."""
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def clock(iso: str | None) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%H:%M:%S") if iso else "--:--:--"
    except ValueError:
        return iso or ""


def error_text(error: Any) -> str:
    """A job's error: plain text, or {code, message}."""
    if isinstance(error, dict):
        message, code = error.get("message") or "", error.get("code")
        return f"{message} ({code})" if code else message
    return "" if error is None else str(error)


def number(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) and not isinstance(value, bool) else "-"


def score_text(value: Any, interval: Any = None) -> str:
    """0.540 (0.48-0.60): a macro-F1 with its 95 % interval when there is one."""
    if isinstance(interval, list) and len(interval) == 2 and number(value) != "-":
        return f"{number(value)} ({number(interval[0], 2)}-{number(interval[1], 2)})"
    return number(value)


def promotion_text(result: dict[str, Any]) -> str:
    """Why a succeeded fine-tune was not made current, and how to make it so; empty when it was."""
    promotion = result.get("promotion") or {}
    if result.get("current") is not False:
        return ""
    return (f"{promotion.get('reason', 'not made current')}; to use it: avocet models rollback {result.get('name')} "
            f"--version {result.get('version')}")  # fmt: skip


def progress_text(p: dict[str, Any], eta: str = "") -> str:
    """[#######.........]  45%  step 9/20  epoch 0.90  loss 1.2345  f1 0.812  acc 0.850  eta 1m20s"""
    step, total = p.get("step"), p.get("total")
    parts = []
    if isinstance(step, int) and isinstance(total, int) and total > 0:
        done = min(step / total, 1.0)
        filled = round(done * BAR_CELLS)
        parts += [f"[{'#' * filled}{'.' * (BAR_CELLS - filled)}] {done:4.0%}", f"step {step}/{total}"]
    for key, label, digits in (("epoch", "epoch", 2), ("loss", "loss", 4), ("f1", "f1", 3), ("accuracy", "acc", 3)):
        if p.get(key) is not None:
            parts.append(f"{label} {number(p[key], digits)}")
    if eta:
        parts.append(f"eta {eta}")
    return "  ".join(parts) or "waiting for progress"


def duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def event_line(event: dict[str, Any]) -> str:
    return f"{clock(event.get('ts'))} [{event.get('type')}] {event.get('message') or ''}".rstrip()


def job_summary(job: dict[str, Any]) -> str:
    """job 3f2a... queued (position 1): finetune minilm, 1 epoch, name first"""
    state = job.get("state")
    if state == "queued" and job.get("queue_position"):
        state = f"queued (position {job['queue_position']})"
    what = [" ".join(str(v) for v in (job.get("kind"), job.get("model")) if v)]
    if job.get("epochs"):
        what.append(f"{job['epochs']} epoch{'' if job['epochs'] == 1 else 's'}")
    if job.get("name"):
        what.append(f"name {job['name']}")
    return f"job {job.get('id')} {state}: " + ", ".join(what)


JOB_COLUMNS = ["ID", "KIND", "STATE", "MODEL", "NAME", "STEPS", "F1", "SUBMITTED"]


def job_row(job: dict[str, Any]) -> list[Any]:
    """One row of `jobs list` (JOB_COLUMNS)."""
    state, position = job.get("state"), job.get("queue_position")
    p, result = job.get("progress") or {}, job.get("result") or {}
    steps = f"{p['step']}/{p['total']}" if p.get("step") is not None and p.get("total") else "-"
    return [job.get("id"), job.get("kind"), f"{state} #{position}" if state == "queued" and position else state,
            job.get("model"), job.get("name"), steps, score_text(result.get("val_macro_f1", p.get("f1")), result.get("val_macro_f1_interval")),
            when(job.get("submitted_at"))]  # fmt: skip


def job_detail(job: dict[str, Any]) -> str:
    rows = [
        ("id", job.get("id")), ("kind", job.get("kind")), ("state", job.get("state")),
        ("queue position", job.get("queue_position")), ("model", job.get("model")), ("epochs", job.get("epochs")),
        ("name", job.get("name")), ("data", job.get("data")), ("source", job.get("source")),
        ("submitted", when(job.get("submitted_at"))), ("started", when(job.get("started_at"))),
        ("finished", when(job.get("finished_at"))),
        ("estimated finish", job.get("estimated_finish") and when(job["estimated_finish"])),
        ("progress", job.get("progress") and progress_text(job["progress"])),
        ("hyperparameters", _pairs(job.get("hyperparameters"))), ("result", _pairs(job.get("result"))),
        ("error", error_text(job.get("error"))), ("last event", job.get("last_event_id")),
        ("validation F1", score_text((job.get("result") or {}).get("val_macro_f1"),
                                     (job.get("result") or {}).get("val_macro_f1_interval"))),
        ("not current", promotion_text(job.get("result") or {})),
    ]  # fmt: skip
    return "\n".join(f"{key + ':':17} {value}" for key, value in rows if value not in (None, "", "-"))


def _pairs(values: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items() if v is not None) if values else ""
