"""Helpers for service tests and perf/faults.py (the one harness that starts a real stack): deadline polling, a small
SSE reader, the live stack's processes (one or more named workers), the whole service under scripts/serve.py, a Redis
outage, one trained MiniLM, and a sampler of job states over time."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devtools.redis_server import EmbeddedRedis, free_port, start_redis

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
EXAMPLE_DATA = REPO / "data" / "email_score.jsonl.example"
# A fine-tune still running when a test acts on it (kill, cancel, outage): early stopping (patience 3 by default)
# can end 20 epochs on the 20 example rows within seconds on a fast box, so it is turned off.
LONG_RUN = {"model": "minilm", "epochs": 20, "hyperparameters": {"early_stopping_patience": 20}}
# The same run as command-line flags (the `avocet` CLI and `python -m worker.training` share them).
LONG_RUN_FLAGS = ("--epochs", str(LONG_RUN["epochs"]),
                  "--early-stopping-patience", str(LONG_RUN["hyperparameters"]["early_stopping_patience"]))  # fmt: skip


def offline_env() -> dict[str, str]:
    """This process's environment without any AVOCET_ setting, offline (no model hub), unbuffered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVOCET_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    return env


def stack_env(redis_url: str, models_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a stack's processes: offline_env(), the example data, uploads in a data folder beside the
    models (never the repository's), no benchmark queued after a fine-tune; `settings` adds or replaces
    AVOCET_<NAME> values (e.g. score_file=..., benchmark_after_finetune="1")."""
    env = offline_env()
    env.update(
        AVOCET_REDIS_URL=redis_url,
        AVOCET_MODELS_DIR=str(models_dir),
        AVOCET_DATA_DIR=str(Path(models_dir).parent / "data"),
        AVOCET_DATASET_MAX_BYTES=str(256 * 1024),
        AVOCET_SCORE_FILE=str(EXAMPLE_DATA),
        # A benchmark after every fine-tune would keep the one worker busy between tests; the tests of that
        # behaviour ask for it (benchmark_after_finetune="1").
        AVOCET_BENCHMARK_AFTER_FINETUNE="0",
    )
    env.update({f"AVOCET_{name.upper()}": str(value) for name, value in settings.items()})
    return env


@dataclass
class TrainedModel:
    """What one run of the training CLI left: models_dir holds avocet-minilm (version 1); events are its stdout."""

    models_dir: Path
    events: list[dict]

    @property
    def folder(self) -> Path:
        """The trained model's own folder (the version avocet-minilm points to)."""
        return (self.models_dir / "avocet-minilm").resolve()

    def copy_models_dir(self, to: Path) -> Path:
        """A copy of models_dir (links kept) for a test that trains or publishes on top of it."""
        shutil.copytree(self.models_dir, to, symlinks=True)
        return to


def train_minilm(models_dir: Path, *args: str, timeout: float = 600) -> TrainedModel:
    """A real MiniLM fine-tuned for 1 epoch on the example file by the training CLI (as the worker runs it)."""
    cmd = [sys.executable, "-m", "worker.training", "--model", "minilm", "--epochs", "1", "--data", str(EXAMPLE_DATA),
           "--models-dir", str(models_dir), "--json", *args]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, env=offline_env(), capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return TrainedModel(models_dir, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()])


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

    @property
    def data_dir(self) -> Path:
        return Path(self.env["AVOCET_DATA_DIR"])

    def start_worker(self, timeout: float = 90.0, name: str = "worker") -> str:
        """Start a worker process (kept under `name`; the first one is "worker"); returns its Celery node name
        once /api/health lists it."""
        node = worker_node("test-worker" if name == "worker" else name)
        argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "worker", "-Q", "gpu", "--concurrency", "1",
                "--prefetch-multiplier", "1", "-E", "-n", node, "--loglevel", "INFO"]  # fmt: skip
        self._spawn(name, argv)
        wait_until(lambda: node in self.health().get("workers", []), timeout, f"the worker {node} to come online")
        return node

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

    def stop_all(self) -> None:
        """The API first, then every worker (as scripts/serve.py does)."""
        for name in sorted(self.processes, key=lambda n: n != "api"):
            self.stop(name)

    def kill_worker(self, name: str = "worker") -> int:
        """kill -9 of the worker's main process only (its pool and training child must go down with it)."""
        process = self.processes.pop(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        return process.pid

    def log_tail(self, name: str, lines: int = 60) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def worker_node(prefix: str) -> str:
    """The Celery node name `-n <prefix>@%h` expands to, as /api/health lists it."""
    return f"{prefix}@{socket.gethostname()}"


def api_get(base_url: str, path: str, timeout: float = 10.0) -> httpx.Response:
    return httpx.get(f"{base_url}{path}", timeout=timeout)


def submit_finetune(base_url: str, **body: Any) -> dict:
    response = httpx.post(f"{base_url}/api/finetune/jobs", json={"model": "minilm", **body}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()


def job_state(base_url: str, job_id: str) -> dict:
    """The job; {"state": None, ...} while the API does not answer it (restarting, or 404/5xx)."""
    try:
        response = api_get(base_url, f"/api/jobs/{job_id}")
    except httpx.HTTPError as exc:
        return {"state": None, "error": repr(exc)}
    return response.json() if response.status_code == 200 else {"state": None, "status_code": response.status_code}


def wait_job(base_url: str, job_id: str, states: set[str], timeout: float = 180.0) -> dict:
    """Poll the job until its state is one of `states`; returns the job."""
    return wait_until(lambda: (j := job_state(base_url, job_id))["state"] in states and j, timeout,
                      f"job {job_id} to be {'/'.join(sorted(states))}")  # fmt: skip


def job_record(redis_url: str, job_id: str) -> dict | None:
    """The job as the store holds it, with its internal fields (e.g. "worker", the node running it)."""
    import redis

    from shared import jobs
    from shared.redis_ops import run_sync

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return run_sync(client, jobs.get_job(job_id))
    finally:
        client.close()


class StatusProbe(threading.Thread):
    """Polls GET `paths` every `every_s` seconds in a thread while a fault plays out; each answer's status goes to
    on_status(path, status) (by default kept in .statuses as (path, status)); use as a context manager."""

    def __init__(self, base_url: str, paths: list[str], every_s: float = 0.3,
                 on_status: Callable[[str, int], None] | None = None) -> None:  # fmt: skip
        super().__init__(daemon=True, name="status-probe")
        self.base_url, self.paths, self.every_s = base_url, paths, every_s
        self.statuses: list[tuple[str, int]] = []
        self.on_status = on_status or (lambda path, status: self.statuses.append((path, status)))
        self.stopped = threading.Event()

    def __enter__(self) -> "StatusProbe":
        self.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stopped.set()
        self.join(30)

    def run(self) -> None:
        with httpx.Client(timeout=15) as client:
            while not self.stopped.wait(self.every_s):
                for path in self.paths:
                    try:
                        self.on_status(path, client.get(f"{self.base_url}{path}").status_code)
                    except httpx.HTTPError:
                        pass


class JobSampler:
    """Samples GET /api/jobs every `interval` seconds in a thread: .samples is a list of (monotonic time,
    {job id: job}) for the jobs in `ids` (all listed jobs when None); use as a context manager."""

    def __init__(self, base_url: str, ids: list[str] | None = None, interval: float = 0.25) -> None:
        self.base_url, self.ids, self.interval = base_url, ids, interval
        self.samples: list[tuple[float, dict[str, dict]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-sampler", daemon=True)

    def __enter__(self) -> "JobSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                listed = api_get(self.base_url, "/api/jobs?limit=100").json()
            except (httpx.HTTPError, ValueError):
                continue
            jobs = {j["id"]: j for j in listed if self.ids is None or j["id"] in self.ids}
            self.samples.append((time.monotonic(), jobs))


@dataclass
class ServedStack:
    """The service as scripts/up runs it: scripts/serve.py supervising a worker and the API (on an existing Redis
    given in env), its log in log_path."""

    base_url: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self, timeout: float = 120.0) -> None:
        log = open(self.log_path, "ab")
        argv = [sys.executable, str(REPO / "scripts" / "serve.py"), "--port", str(self.port)]
        self.process = subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 120.0) -> None:
        wait_until(lambda: self.health().get("status") == "ok", timeout, "scripts/serve.py's API and worker")

    def health(self) -> dict:
        try:
            return httpx.get(f"{self.base_url}/api/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return {}

    def child(self, name: str):
        """The supervised child process ("api" or "worker") as a psutil.Process, or None."""
        import psutil

        marker = ("-m", "api") if name == "api" else ("worker.queue.app", "worker")
        for process in psutil.Process(self.process.pid).children():
            try:
                if all(part in process.cmdline() for part in marker):
                    return process
            except psutil.Error:  # a killed child not reaped yet (a zombie)
                continue
        return None

    def training(self):
        """The running training child (`python -m worker.training`) as a psutil.Process, or None."""
        import psutil

        for process in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if "worker.training" in process.cmdline():
                    return process
            except psutil.Error:
                continue
        return None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGINT, timeout: float = 90.0) -> int | None:
        """Ctrl-C (by default) and wait; returns the exit code (None if it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            return None


def redis_outage(server: EmbeddedRedis, down_s: float) -> EmbeddedRedis:
    """Stop Redis (SIGTERM: it flushes its append-only file), stay down `down_s`, start it again on the same port
    and folder; returns the new server. The tests and perf/faults.py pass their own `down_s`."""
    server.stop()
    time.sleep(down_s)  # the outage itself
    return server.restart()


def new_live_stack(root: Path, **settings: str) -> tuple[LiveStack, EmbeddedRedis]:
    """A LiveStack (nothing started yet) on its own embedded Redis (AOF) under `root`; stop both when done."""
    models_dir, log_dir = root / "models", root / "logs"
    models_dir.mkdir()
    log_dir.mkdir()
    server = start_redis(root / "redis")
    port = free_port()
    stack = LiveStack(
        base_url=f"http://127.0.0.1:{port}", redis_url=server.url, models_dir=models_dir,
        env=stack_env(server.url, models_dir, **settings), log_dir=log_dir, port=port,
    )  # fmt: skip
    return stack, server


@contextmanager
def running_stack(root: Path, **settings: str) -> Iterator[LiveStack]:
    """new_live_stack with its API and one worker started; everything stopped on the way out."""
    stack, server = new_live_stack(root, **settings)
    try:
        stack.start_api()
        stack.start_worker()
        yield stack
    finally:
        stack.stop_all()
        server.stop()
