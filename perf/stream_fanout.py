"""Benchmark the live log path: many SSE clients on one job while the worker side publishes events.

.venv/bin/python bench/stream_fanout.py [--clients 100] [--events 2000] [--rate 200] [--procs 4] [--no-handoff]

Starts its own embedded Redis and the API (uvicorn, one process) on free ports. Part 1: `--clients` SSE clients
(spread over `--procs` client processes so the clients are not the bottleneck) follow one job while this process
publishes `--events` events through the same path the worker uses (shared.events.publish) at `--rate` per second
(0 = as fast as possible), then the terminal event. Reports events lost and duplicated per client, publish-to-client
latency p50/p99/max, and the API process's CPU and memory. Part 2 (unless --no-handoff): a real Celery worker, idle,
and one real fine-tune (packaged MiniLM, 1 epoch, data/email_score.jsonl.example); reports the time from
POST /api/finetune/jobs to each first event, split into queue hand-off and child start / model load.
"""

import argparse
import asyncio
import json
import logging
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil
import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shared import events, jobs  # noqa: E402
from shared.event_types import TERMINAL_TYPES  # noqa: E402
from shared.redis_ops import run_sync  # noqa: E402
from devtools.redis_server import free_port, start_redis  # noqa: E402

log = logging.getLogger("bench.stream_fanout")
TERMINAL = set(TERMINAL_TYPES)


def client_process(url: str, clients: int, connected, results: mp.Queue) -> None:
    """Run `clients` SSE readers in one event loop; put per-client (ids, latencies) on `results`.

    A raw HTTP/1.1 reader (chunked body, SSE frames) rather than httpx: on a 2-core box the clients would
    otherwise use more CPU than the API and the figures would measure them."""
    parsed = urlparse(url)

    async def one() -> tuple[list[int], list[float]]:
        ids, latencies, counted, buffer = [], [], False, b""
        reader, writer = await asyncio.open_connection(parsed.hostname, parsed.port, limit=2**22)
        request = f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.netloc}\r\nAccept: text/event-stream\r\n\r\n"
        writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        assert b" 200 " in head.split(b"\r\n", 1)[0], head
        while True:
            size = int((await reader.readline()).strip(), 16)
            if size == 0:
                break
            chunk = (await reader.readexactly(size + 2))[:-2]
            now = time.time()
            *frames, buffer = (buffer + chunk).split(b"\r\n\r\n")
            for frame in frames:
                data = next((line[6:] for line in frame.split(b"\r\n") if line.startswith(b"data: ")), None)
                if data is None:
                    continue  # a keep-alive comment or the retry line
                event = json.loads(data)
                ids.append(event["id"])
                if "sent" in event["data"]:
                    latencies.append(now - event["data"]["sent"])
                if not counted:
                    counted = True
                    with connected.get_lock():
                        connected.value += 1
                if event["type"] in TERMINAL:
                    writer.close()
                    return ids, latencies
        writer.close()
        return ids, latencies

    async def main() -> None:
        for ids, latencies in await asyncio.gather(*(one() for _ in range(clients))):
            results.put((ids, latencies))

    asyncio.run(main())


class PeakRss(threading.Thread):
    def __init__(self, process: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.done = process, process.memory_info().rss, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.peak = max(self.peak, self.process.memory_info().rss)


def start_process(argv: list[str], env: dict, log_file: Path) -> subprocess.Popen:
    with open(log_file, "ab") as out:
        return subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def health(base: str) -> dict:
    try:
        return httpx.get(f"{base}/api/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return {}


def fanout(base: str, r: redis.Redis, api: psutil.Process, args) -> dict:
    job_id = "bench-fanout"
    run_sync(r, jobs.create_job(job_id, "finetune", {"model": "minilm", "epochs": 1}, "api"))
    run_sync(r, jobs.claim(job_id, "bench"))
    expected = args.events + 3  # queued, started, the events, the terminal event
    connected, results = mp.Value("i", 0), mp.Queue()
    url = f"{base}/api/finetune/jobs/{job_id}/events"
    shares = [args.clients // args.procs + (i < args.clients % args.procs) for i in range(args.procs)]
    procs = [mp.Process(target=client_process, args=(url, n, connected, results)) for n in shares if n]
    [p.start() for p in procs]
    wait_for(lambda: connected.value >= args.clients, 120, "all SSE clients to connect")
    rss = PeakRss(api)
    rss.start()
    cpu_before, wall_before = api.cpu_times(), time.monotonic()
    interval = 1.0 / args.rate if args.rate else 0.0
    for i in range(args.events):
        if interval:
            time.sleep(max(0.0, wall_before + i * interval - time.monotonic()))
        run_sync(r, events.publish(job_id, "progress", f"event {i}", {"step": i, "sent": time.time()}))
    run_sync(r, jobs.succeed(job_id, "bench done", {}))
    per_client = [results.get(timeout=300) for _ in range(args.clients)]
    wall = time.monotonic() - wall_before
    cpu_after = api.cpu_times()
    rss.done.set()
    [p.join(30) for p in procs]
    latencies = sorted(lat for _, lats in per_client for lat in lats)
    lost = sum(len(set(range(1, expected + 1)) - set(ids)) for ids, _ in per_client)
    duplicated = sum(len(ids) - len(set(ids)) for ids, _ in per_client)
    out_of_order = sum(ids != sorted(ids) for ids, _ in per_client)
    cpu_s = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    return {
        "clients": args.clients, "events": args.events, "rate_per_s": args.rate or "max",
        "deliveries": sum(len(ids) for ids, _ in per_client), "lost": lost, "duplicated": duplicated,
        "clients_out_of_order": out_of_order,
        "latency_ms": {q: round(v * 1000, 1) for q, v in (
            ("p50", statistics.median(latencies)), ("p99", latencies[int(len(latencies) * 0.99) - 1]),
            ("max", latencies[-1]))},
        "wall_s": round(wall, 2), "api_cpu_s": round(cpu_s, 2), "api_cpu_percent": round(100 * cpu_s / wall, 1),
        "api_rss_mb": {"before": round(rss.process.memory_info().rss / 2**20, 1), "peak": round(rss.peak / 2**20, 1)},
    }  # fmt: skip


def handoff(base: str, env: dict, work: Path) -> dict:
    """POST a real 1-epoch job to an idle worker and time each first event."""
    body = {"model": "minilm", "epochs": 1, "name": "bench-handoff"}
    posted = time.time()
    job = httpx.post(f"{base}/api/finetune/jobs", json=body, timeout=30).json()
    returned = time.time()
    stamps: dict[str, float] = {}
    with httpx.stream("GET", f"{base}/api/finetune/jobs/{job['id']}/events", timeout=600) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                stamps.setdefault(event["type"], datetime.fromisoformat(event["ts"]).timestamp())
                if event["type"] in TERMINAL:
                    break
    first_cli = min(t for k, t in stamps.items() if k not in ("queued", "started"))
    ms = lambda a, b: round((b - a) * 1000)  # noqa: E731
    return {
        "post_response_ms": ms(posted, returned),
        "post_to_queued_event_ms": ms(posted, stamps["queued"]),
        "queue_handoff_ms (post -> worker claims job)": ms(posted, stamps["started"]),
        "child_start_ms (claim -> first CLI line: python, torch import, data)": ms(stamps["started"], first_cli),
        "model_load_ms (start line -> first progress: model load, first step)": ms(stamps["start"], stamps["progress"]),
        "post_to_first_progress_ms": ms(posted, stamps["progress"]),
        "post_to_complete_ms": ms(posted, stamps.get("complete", stamps.get("error", posted))),
        "outcome": "complete" if "complete" in stamps else "error",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second; 0 = as fast as possible")
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--no-handoff", action="store_true", help="skip the real-worker timing (part 2)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="avocet-bench-"))
    server = start_redis(work / "redis")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AVOCET_")}, "AVOCET_REDIS_URL": server.url,
           "AVOCET_MODELS_DIR": str(work / "models"), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "AVOCET_SCORE_FILE": str(REPO / "data" / "email_score.jsonl.example")}  # fmt: skip
    children = [start_process([sys.executable, "-m", "api", "--port", str(port), "--log-level", "warning"], env,
                              work / "api.log")]  # fmt: skip
    try:
        wait_for(lambda: health(base), 60, "the API")
        report = {"fanout": fanout(base, redis.Redis.from_url(server.url), psutil.Process(children[0].pid), args)}
        if not args.no_handoff:
            worker = [str(Path(sys.executable).parent / "celery"), "-A", "worker.queue.app", "worker", "-Q", "gpu",
                      "--concurrency", "1", "--prefetch-multiplier", "1", "-E", "--loglevel", "WARNING"]  # fmt: skip
            children.append(start_process(worker, env, work / "worker.log"))
            wait_for(lambda: health(base).get("workers"), 120, "the worker")
            report["handoff"] = handoff(base, env, work)
        print(json.dumps(report, indent=2))
    finally:
        for child in reversed(children):
            os.kill(child.pid, signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        server.stop()
        log.info("logs in %s", work)


if __name__ == "__main__":
    main()
