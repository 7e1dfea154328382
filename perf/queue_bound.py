"""What a long queue costs every request: `/api/health` and `GET /api/jobs` latency with 0 and with 10,000 queued jobs.

.venv/bin/python perf/queue_bound.py [--queued 10000] [--requests 400] [--interval 0.025] [--code DIR]

Starts its own embedded Redis and the API (`python -m api`, one process, no worker) on free ports. Fills the job
store with `--queued` queued jobs, each with a task message in the broker's `gpu` list as Celery would leave it
(so the API's stale-job check, which runs every 2 s, sees a live queue), then times `--requests` sequential calls of
each endpoint, `--interval` s apart (so they sample ~10 s, several of the check's passes), and prints p50/p99/max, for an empty queue first (the baseline of the same run) and then the full one.
`--code DIR` runs the API from another checkout of this repository (e.g. the code before a change, exported with
`git archive <commit> | tar -x -C DIR`), with this checkout's virtual environment; the queue bound is raised above
`--queued` there (AVOCET_MAX_QUEUED_JOBS), so the cost of the queue itself is what is measured.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from shared import keys  # noqa: E402
from shared.redis_server import free_port, start_redis  # noqa: E402

ENDPOINTS = ("/api/health", "/api/jobs")


def fill_queue(client: redis.Redis, count: int) -> None:
    """`count` queued benchmark jobs as the API records them, each with a kombu-shaped message in the `gpu` list."""
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        job_id = str(uuid.uuid4())
        record = {"id": job_id, "kind": "benchmark", "model": None, "epochs": None, "name": None, "state": "queued",
                  "submitted_at": "2026-01-01T00:00:00+00:00", "started_at": None, "finished_at": None,
                  "progress": None, "result": None, "error": None, "last_event_id": 1, "source": "api",
                  "worker": None, "data": None, "hyperparameters": None}  # fmt: skip
        pipe.hset(keys.job(job_id), mapping={k: json.dumps(v) for k, v in record.items()})
        pipe.zadd(keys.JOBS_ALL, {job_id: n + 1})
        pipe.zadd(keys.JOBS_QUEUED, {job_id: n + 1})
        message = {"body": "W1tdLCB7fSwgeyJjYWxsYmFja3MiOiBudWxsfV0=" * 8, "content-encoding": "utf-8",
                   "content-type": "application/json",
                   "headers": {"lang": "py", "task": keys.TASK_BENCHMARK, "id": job_id, "root_id": job_id,
                               "argsrepr": "()", "kwargsrepr": "{}", "origin": "gen1@box", "retries": 0},
                   "properties": {"correlation_id": job_id, "delivery_tag": str(uuid.uuid4()),
                                  "delivery_info": {"exchange": "", "routing_key": keys.QUEUE}}}  # fmt: skip
        pipe.lpush(keys.QUEUE, json.dumps(message))
        if n % 1000 == 999:
            pipe.execute()
    pipe.execute()


def timings(base_url: str, path: str, requests: int, interval: float) -> dict[str, float]:
    samples = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for _ in range(requests):
            time.sleep(interval)
            started = time.perf_counter()
            response = http.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code, response.text[:200])
    samples.sort()
    return {"p50": statistics.median(samples), "p99": samples[int(len(samples) * 0.99) - 1], "max": samples[-1]}


def wait_for_api(base_url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the API exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/api/health", timeout=2).status_code in (200, 503):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the API did not answer within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--interval", type=float, default=0.025, help="seconds between two requests")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout whose API to run (default: this one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_redis(Path(tmp) / "redis")
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AVOCET_")}
        env.update(AVOCET_REDIS_URL=server.url, AVOCET_MODELS_DIR=str(Path(tmp) / "models"),
                   AVOCET_DATA_DIR=str(Path(tmp) / "data"), AVOCET_MAX_QUEUED_JOBS=str(args.queued + 1000),
                   PYTHONPATH=str(args.code.resolve()))  # fmt: skip
        api = subprocess.Popen([sys.executable, "-m", "api", "--port", str(port), "--log-level", "warning"],
                               cwd=args.code, env=env)  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_for_api(base_url, api)
            client = redis.Redis.from_url(server.url)
            print(f"code: {args.code.resolve()}  requests per figure: {args.requests}  (times in ms)")
            for queued in (0, args.queued):
                if queued:
                    started = time.perf_counter()
                    fill_queue(client, queued)
                    print(f"queued {queued} jobs in {time.perf_counter() - started:.1f}s")
                    time.sleep(4.5)  # two passes of the API's stale-job check with the full queue
                for path in ENDPOINTS:
                    t = timings(base_url, path, args.requests, args.interval)
                    print(f"{queued:>6} queued  GET {path:<12} p50 {t['p50']:7.1f}  p99 {t['p99']:7.1f}  "
                          f"max {t['max']:7.1f}")  # fmt: skip
        finally:
            api.terminate()
            api.wait(30)
            server.stop()


if __name__ == "__main__":
    main()
