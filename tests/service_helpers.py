"""Helpers for service tests: deadline polling, a small SSE reader, and the live stack's processes."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll check() until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def read_sse(
    url: str, *, headers: dict | None = None, timeout: float = 180.0, stop: Callable[[dict], bool] | None = None
) -> list[dict]:
    """Read SSE events (each the parsed JSON, with the SSE id under "_sse_id") until the server ends the stream,
    or until stop(event) is true (then disconnect). Fails after `timeout` seconds overall."""
    events: list[dict] = []
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=10)) as client:
        with client.stream("GET", url, headers=headers or {}) as response:
            response.raise_for_status()
            data: list[str] = []
            sse_id = None
            for line in response.iter_lines():
                if time.monotonic() > deadline:
                    raise AssertionError(f"SSE {url} still open after {timeout:.0f}s ({len(events)} events)")
                if line.startswith("data:"):
                    data.append(line[5:].removeprefix(" "))
                elif line.startswith("id:"):
                    sse_id = line[3:].strip()
                elif line == "" and data:
                    event = {**json.loads("\n".join(data)), "_sse_id": sse_id}
                    events.append(event)
                    data, sse_id = [], None
                    if stop and stop(event):
                        break
    return events


@dataclass
class LiveStack:
    """Real Redis + one Celery worker (concurrency 1, queue gpu) + the API under uvicorn."""

    base_url: str
    redis_url: str
    models_dir: Path
    env: dict[str, str]
    log_dir: Path
    port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_worker(self, timeout: float = 90.0) -> None:
        argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "worker", "-Q", "gpu", "--concurrency", "1",
                "--prefetch-multiplier", "1", "-E", "-n", "test-worker@%h", "--loglevel", "INFO"]  # fmt: skip
        self._spawn("worker", argv)
        wait_until(lambda: self.health().get("workers"), timeout, "the Celery worker to come online")

    def start_api(self, timeout: float = 60.0) -> None:
        argv = [sys.executable, "-m", "api", "--port", str(self.port), "--log-level", "info"]
        self._spawn("api", argv)
        wait_until(self._api_answers, timeout, "the API to answer")

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(
            argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def _api_answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/api/health", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def health(self) -> dict:
        try:
            return httpx.get(f"{self.base_url}/api/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return {}

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)  # the main process stops its own children (the worker's warm shutdown)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)

    def kill_worker(self) -> int:
        """kill -9 of the worker's main process only (its pool and training child must go down with it)."""
        process = self.processes.pop("worker")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        return process.pid

    def log_tail(self, name: str, lines: int = 60) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
