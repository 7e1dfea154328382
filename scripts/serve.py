"""Run the whole service in the foreground: Redis (the one at AVOCET_REDIS_URL, else an embedded one with its data
in var/redis), one Celery worker (concurrency 1, queue gpu) and the API (plus the built web UI) on 127.0.0.1:8000.

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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shared.redis_server import ensure_redis  # noqa: E402
from shared.settings import get_settings  # noqa: E402

log = logging.getLogger("avocet.serve")
BIN = Path(sys.executable).parent


def start(name: str, argv: list[str], env: dict) -> subprocess.Popen:
    log.info("starting %s: %s", name, " ".join(argv))
    # Own session: a Ctrl-C in the terminal reaches only this supervisor, which stops everything in order.
    return subprocess.Popen(argv, cwd=REPO, env=env, start_new_session=True)


def stop(name: str, process: subprocess.Popen, timeout: float, then: int = signal.SIGKILL) -> None:
    if process.poll() is not None:
        return
    log.info("stopping %s", name)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop within %.0fs; sending %s", name, timeout, signal.Signals(then).name)
        os.killpg(process.pid, then)
        process.wait(15)


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
    worker_argv = [str(BIN / "celery"), "-A", "worker.queue.app", "worker", "-Q", "gpu", "--concurrency", "1",
                   "--prefetch-multiplier", "1", "-E", "--loglevel", "INFO"]  # fmt: skip
    children = {
        "worker": start("worker", worker_argv, env),
        "api": start("api", [sys.executable, "-m", "api", "--host", args.host, "--port", str(args.port)], env),
    }
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    log.info("Avocet is up: http://%s:%d (Ctrl-C stops everything)", args.host, args.port)

    failed = None
    while not stopping.wait(1.0):
        failed = next((name for name, p in children.items() if p.poll() is not None), None)
        if failed:
            log.error("%s exited with code %s; stopping the rest", failed, children[failed].returncode)
            break
    stop("api", children["api"], 15)
    stop("worker", children["worker"], 60, then=signal.SIGKILL)
    if embedded:
        log.info("stopping the embedded Redis")
        embedded.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
