"""Run the whole service in the foreground and keep it running: Redis (the one at AVOCET_REDIS_URL, else an embedded
one with its data in var/redis), one Celery worker (concurrency 1, queue gpu) and the API (plus the built web UI)
on 127.0.0.1:8000.

Supervision: a child that exits (a crash, a `kill -9`) is started again after a back-off (1 s, doubling up to 30 s,
back to 1 s once it has run a minute), with a log line, while the others keep running: a training run survives an
API crash, and a worker restarted under the same name fails its lost job at once. A child that dies within seconds
of every start, five times in a row, is broken (a port in use, bad settings): everything stops, exit code 1.
Ctrl-C (or SIGTERM) stops them in order: the API, then the worker (a warm shutdown; a running job is stopped and
marked failed rather than waited for), then the embedded Redis (which flushes its append-only file).
Called by scripts/up; `.venv/bin/python scripts/serve.py --help` for options.
"""

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devtools.redis_server import EmbeddedRedis, ensure_redis  # noqa: E402
from shared.parent_death import die_with_parent  # noqa: E402
from shared.settings import get_settings  # noqa: E402

log = logging.getLogger("avocet.serve")
BIN = Path(sys.executable).parent

BACKOFF_S, MAX_BACKOFF_S = 1.0, 30.0
STABLE_S = 60.0  # a child that ran this long gets the short back-off again
QUICK_EXIT_S, MAX_QUICK_EXITS = 10.0, 5  # dying this fast this many times in a row means it cannot start
STOP_TIMEOUT_S = {"api": 15.0, "worker": 60.0}
CHECK_EVERY_S = 1.0


def _die_with_supervisor() -> None:
    """In the child before exec: own session (Ctrl-C reaches only the supervisor, which stops everything in
    order), and SIGTERM when the supervisor itself dies, so a `kill -9` of it leaves no orphans."""
    os.setsid()
    die_with_parent(signal.SIGTERM)


def spawn(name: str, argv: list[str], env: dict) -> subprocess.Popen:
    log.info("starting %s: %s", name, " ".join(argv))
    return subprocess.Popen(argv, cwd=REPO, env=env, preexec_fn=_die_with_supervisor)


def describe_exit(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"


@dataclass
class Child:
    """One supervised process: how to start it, and its restart bookkeeping."""

    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float | None = None
    restarts: int = 0

    def launch(self) -> None:
        self.process, self.started_at, self.restart_at = self.start(), time.monotonic(), None

    def check(self, now: float) -> bool:
        """Restart it when its back-off is over, or schedule that if it has exited; False when it keeps dying."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                self.launch()
            return True
        code = self.process.poll()
        if code is None:
            return True
        ran = now - self.started_at
        self.quick_exits = self.quick_exits + 1 if ran < QUICK_EXIT_S else 0
        if self.quick_exits >= MAX_QUICK_EXITS:
            log.error("%s exited (%s) within %.0fs of each of its last %d starts; giving up", self.name,
                      describe_exit(code), QUICK_EXIT_S, self.quick_exits)  # fmt: skip
            return False
        if ran >= STABLE_S:
            self.restarts = 0  # restarts counts those since it last ran a good while
        delay = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** min(self.restarts, 5))
        log.error("%s exited (%s) after %.0fs; restarting it in %gs (restart %d); the rest keeps running",
                  self.name, describe_exit(code), ran, delay, self.restarts + 1)  # fmt: skip
        self.restart_at = now + delay
        return True

    def stop(self, timeout: float) -> None:
        self.restart_at = None
        process = self.process
        if process is None or process.poll() is not None:
            return
        log.info("stopping %s", self.name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0fs; killing it", self.name, timeout)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(15)


def redis_child(server: EmbeddedRedis) -> Child:
    """The embedded Redis as a supervised child: restarted on its port and folder, its data back from the AOF."""
    current = {"server": server}

    def start() -> subprocess.Popen:
        if current["server"].process.poll() is not None:
            current["server"] = current["server"].restart()
        return current["server"].process

    child = Child("redis", start)
    child.launch()
    return child


def service_children(host: str, port: int, env: dict) -> list[Child]:
    worker_argv = [str(BIN / "celery"), "-A", "worker.queue.app", "worker", "-Q", "gpu", "--concurrency", "1",
                   "--prefetch-multiplier", "1", "-E", "-n", "gpu@%h", "--loglevel", "INFO"]  # fmt: skip
    api_argv = [sys.executable, "-m", "api", "--host", host, "--port", str(port)]
    return [Child("worker", lambda: spawn("worker", worker_argv, env)),
            Child("api", lambda: spawn("api", api_argv, env))]


def supervise(children: list[Child], stopping: threading.Event) -> bool:
    """Keep the children running until `stopping` is set; False when one of them cannot be kept up."""
    while not stopping.wait(CHECK_EVERY_S):
        now = time.monotonic()
        if not all(child.check(now) for child in children):
            return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="API bind address (default: localhost only)")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    redis_url, embedded = ensure_redis(get_settings().redis_url, REPO / "var" / "redis")
    env = {**os.environ, "AVOCET_REDIS_URL": redis_url, "PYTHONUNBUFFERED": "1"}
    score_file, example = get_settings().score_file, REPO / "data" / "email_score.jsonl.example"
    if not score_file.exists() and example.exists():
        # A first start has no labelled data yet; training on the shipped example shows the whole flow working.
        log.warning("no score file at %s: training on %s until AVOCET_SCORE_FILE points at yours", score_file, example)
        env["AVOCET_SCORE_FILE"] = str(example)
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    redis = redis_child(embedded) if embedded else None
    worker, api = service_children(args.host, args.port, env)
    for child in (worker, api):
        child.launch()
    log.info("Avocet is up: http://%s:%d (Ctrl-C stops everything)", args.host, args.port)

    healthy = supervise([c for c in (redis, worker, api) if c], stopping)
    api.stop(STOP_TIMEOUT_S["api"])
    worker.stop(STOP_TIMEOUT_S["worker"])
    if redis:
        log.info("stopping the embedded Redis")
        redis.stop(10.0)
    log.info("stopped")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
