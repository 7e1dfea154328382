"""The stack perf/faults.py breaks, and the instruments that watch it.

`Stack`: the tests' harness (tests/service_helpers.py: an embedded Redis with an append-only file, and
scripts/serve.py, what scripts/up runs: one supervised worker and the API, on it), training the packaged MiniLM on a
tiny data file written here (3 labels, 6 rows each). `Follower`: one SSE client that behaves like a browser's
EventSource (reconnects with Last-Event-ID until the stream ends). `probe`: polls the read endpoints while a fault
plays out (the harness's StatusProbe). Both count 5xx answers other than 503 (503 is the deliberate "Redis
unreachable, retry" answer during an outage).
"""

import hashlib
import json
import os
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import redis

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from service_helpers import ServedStack, StatusProbe, redis_outage, stack_env  # noqa: E402

from shared import job_results, keys  # noqa: E402
from shared.event_types import TERMINAL_TYPES  # noqa: E402
from devtools.redis_server import free_port, start_redis  # noqa: E402

LABELS = ("interview_scheduled", "rejected", "digest")
MODEL_NAME = "faults"
TERMINAL = set(TERMINAL_TYPES)
# 14 training rows: batch 16 is one step an epoch, batch 4 four, batch 2 seven (a MiniLM step costs about a CPU
# second here); patience = epochs, so a flat validation score never ends a run early. "long" runs are only ever
# cut short by a fault.
SIZES = {
    "short": {"epochs": 1},
    "medium": {"epochs": 3, "hyperparameters": {"batch_size": 4, "early_stopping_patience": 3}},
    "long": {"epochs": 20, "hyperparameters": {"batch_size": 2, "early_stopping_patience": 20}},
}


def write_tiny_data(path: Path) -> Path:
    topics = {"interview_scheduled": "interview on {d} at {h}:00 with the team", "rejected": "we went with another "
              "candidate for the {d} role, sorry", "digest": "your weekly digest: {h} new posts since {d}"}  # fmt: skip
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
    rows = [{"subject": f"{label.replace('_', ' ')} {i}", "body": text.format(d=days[i], h=9 + i), "label": label}
            for label, text in topics.items() for i in range(6)]  # fmt: skip
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


class Counters:
    """5xx answers other than 503 (each with its path) and 503s seen, thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.unavailable = 0

    def count(self, status: int, path: str = "") -> None:
        with self.lock:
            if status == 503:
                self.unavailable += 1
            elif status >= 500:
                self.errors.append(f"{status} {path.split('?')[0]}")

    def snapshot(self) -> int:
        with self.lock:
            return len(self.errors)

    def since(self, mark: int) -> list[str]:
        with self.lock:
            return self.errors[mark:]


class Stack:
    def __init__(self, work: Path, stall_timeout_s: float) -> None:
        self.work, self.models_dir = work, work / "models"
        self.models_dir.mkdir(parents=True, exist_ok=True)
        data = write_tiny_data(work / "tiny.jsonl")
        self.redis = start_redis(work / "redis")
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = stack_env(self.redis.url, self.models_dir, score_file=data, labels=",".join(LABELS),
                        stall_timeout_s=stall_timeout_s)  # fmt: skip
        self.served = ServedStack(base_url=self.base, port=port, env=env, log_path=work / "serve.log")
        self.counters = Counters()
        self.http = httpx.Client(timeout=15)

    def start(self, timeout: float = 180.0) -> None:
        self.served.start(timeout)

    def close(self) -> None:
        if self.served.process is not None:
            self.served.stop(timeout=120)
        self.redis.stop()
        self.http.close()

    # processes
    def child(self, name: str) -> psutil.Process | None:
        """The supervised "api" or "worker" main process."""
        return self.served.child(name)

    def training(self) -> psutil.Process | None:
        """The running training child (`python -m worker.training`), if any."""
        return self.served.training()

    def results_folder(self, job_id: str) -> Path:
        return job_results.job_folder(self.models_dir, job_id)

    def job_children(self, job_id: str) -> list[psutil.Process]:
        """The processes whose command line names the job's results folder (an audit or score child), wherever
        they are: a child whose worker was killed is no longer under scripts/serve.py."""
        folder = str(self.results_folder(job_id))
        found = []
        for process in psutil.process_iter(["cmdline"]):
            if folder in (process.info["cmdline"] or []):
                found.append(process)
        return found

    # Redis
    def redis_restart(self, down_s: float = 0.0) -> None:
        """Stop Redis (it flushes its append-only file), stay down `down_s`, start it on the same port."""
        self.redis = redis_outage(self.redis, down_s)

    def redis_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis.url, decode_responses=True, socket_timeout=5)

    def stored_log(self, job_id: str) -> list[tuple[int, str]]:
        """(id, type) of every event in the job's stream, straight from Redis."""
        client = self.redis_client()
        try:
            return [(int(i.split("-")[1]), f.get("t", "")) for i, f in client.xrange(keys.event_stream(job_id))]
        finally:
            client.close()

    # API
    def request(self, method: str, path: str, **kwargs) -> httpx.Response | None:
        """None when the API does not answer (restarting); 5xx answers are counted."""
        try:
            response = self.http.request(method, f"{self.base}{path}", **kwargs)
        except httpx.HTTPError:
            return None
        self.counters.count(response.status_code, f"{method} {path}")
        return response

    def submit(self, size: str) -> dict:
        body = {"model": "minilm", "name": MODEL_NAME, **SIZES[size]}
        for _ in range(60):
            response = self.request("POST", "/api/finetune/jobs", json=body)
            if response is not None and response.status_code == 202:
                return response.json()
            time.sleep(1)
        raise RuntimeError(f"could not submit a job: {response and response.text}")

    def submit_audit(self, body: dict) -> dict:
        """A label audit of the tiny data file (dataset id `score-file`, the stack's AVOCET_SCORE_FILE)."""
        response = self.request("POST", "/api/datasets/score-file/audit", json=body)
        if response is None or response.status_code != 202:
            raise RuntimeError(f"could not submit an audit: {response and response.text}")
        return response.json()

    def job(self, job_id: str) -> dict | None:
        """The job; {"state": "gone"} when the API answers 404; None when it does not answer."""
        response = self.request("GET", f"/api/jobs/{job_id}")
        if response is None or response.status_code >= 500:
            return None
        return response.json() if response.status_code == 200 else {"state": "gone", "status": response.status_code}

    def wait_terminal(self, job_id: str, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if job and job["state"] in ("succeeded", "failed", "cancelled", "gone"):
                return job
            time.sleep(0.5)
        return None

    def settle(self, timeout: float = 180.0) -> bool:
        """Wait until the API answers, a worker is online and no job is queued or running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.request("GET", "/api/health")
            health = response.json() if response is not None and response.status_code == 200 else {}
            if health.get("status") == "ok" and health.get("queue_length") == 0 and health.get("running") == 0:
                return True
            time.sleep(1)
        return False

    # the models folder
    def model_fingerprint(self) -> list[tuple]:
        """What models/avocet-faults is: its link target if it is a link, and every file of the folder it leads to
        (path, size, and a hash of the small ones)."""
        entry = self.models_dir / f"avocet-{MODEL_NAME}"
        found: list[tuple] = [("link", os.readlink(entry))] if entry.is_symlink() else []
        folder = entry.resolve()
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = Path(root, name)
                size = path.stat().st_size
                digest = hashlib.sha256(path.read_bytes()).hexdigest() if size < 1_000_000 else path.stat().st_mtime_ns
                found.append((str(path.relative_to(folder)), size, digest))
        return found

    def model_readable(self) -> bool:
        response = self.request("GET", "/api/finetune/status")
        listed = response.json() if response is not None and response.status_code == 200 else []
        return any(MODEL_NAME in json.dumps(model) for model in listed)


class Follower(threading.Thread):
    """An EventSource: follows the job's events, reconnecting with Last-Event-ID, until the stream ends (terminal
    event, 204 or 404). .events holds what it got; .reconnects, .end ("terminal", "204", "404", None)."""

    def __init__(self, stack: Stack, job_id: str, timeout: float = 400.0) -> None:
        super().__init__(daemon=True, name=f"follow-{job_id[:8]}")
        self.stack, self.job_id, self.deadline = stack, job_id, time.monotonic() + timeout
        self.events: list[dict] = []
        self.reconnects, self.end = -1, None
        self.stop_at: float | None = None  # set to leave early (a fault scenario that wants a cut)

    def seen(self, types: set[str]) -> bool:
        return any(e["type"] in types for e in self.events)

    def wait_for(self, types: set[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.seen(types) and time.monotonic() < deadline and self.is_alive():
            time.sleep(0.1)
        return self.seen(types)

    def run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(40, connect=5)) as client:
            while self.end is None and time.monotonic() < self.deadline:
                self.reconnects += 1
                try:
                    self._read(client)
                except httpx.HTTPError:
                    pass
                if self.end is None:
                    time.sleep(0.5)

    def _read(self, client: httpx.Client) -> None:
        last = self.events[-1]["id"] if self.events else 0
        url = f"{self.stack.base}/api/jobs/{self.job_id}/events"
        with client.stream("GET", url, headers={"Last-Event-ID": str(last)} if last else {}) as response:
            self.stack.counters.count(response.status_code, "GET /api/jobs/<id>/events")
            if response.status_code in (204, 404):
                self.end = str(response.status_code)
                return
            if response.status_code != 200:
                return
            for line in response.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    self.events.append(event)
                    if event["type"] in TERMINAL:
                        self.end = "terminal"
                        return

    def holes_and_repeats(self) -> tuple[int, int]:
        """Ids missing between the first and last received (a `gap` event accounts for the ones it names), and ids
        received more than once or out of order."""
        ids = [e["id"] for e in self.events]
        announced = [e["type"] == "gap" for e in self.events]
        repeats = sum(1 for a, b in zip(ids, ids[1:]) if b <= a)
        holes = sum(b - a - 1 for a, b, gap in zip(ids, ids[1:], announced[1:]) if b > a and not gap)
        return holes + (ids[0] - 1 if ids and not announced[0] else 0), repeats


def probe(stack: Stack, job_id: str | None = None, every_s: float = 0.5) -> StatusProbe:
    """Polls GET /api/jobs, /api/jobs/<id>, /api/jobs/<id>/log and /api/health while a fault plays out; 5xx answers
    go to the stack's counters."""
    paths = ["/api/jobs?limit=20", "/api/health"]
    if job_id:
        paths += [f"/api/jobs/{job_id}", f"/api/jobs/{job_id}/log"]
    return StatusProbe(stack.base, paths, every_s, lambda path, status: stack.counters.count(status, f"GET {path}"))
