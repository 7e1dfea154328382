"""Predict speed: POST /api/models/{name}/predict under concurrent clients against a transformers pipeline called
once per email, on the same emails, in the same run (rounds alternate, so a busy neighbour slows both alike).

    .venv/bin/python perf/predict.py [--data ../shared/data/email_dev.jsonl] [--model-dir DIR] [--clients 8]
                                     [--concurrency N (AVOCET_PREDICT_CONCURRENCY)]

It serves the real app (uvicorn --factory api.main:create_app, its own Redis) from a temporary models folder. Without
--model-dir it first fine-tunes minilm for 1 epoch on a 400-row stratified sample of --data with the training CLI.
Prints requests/s, emails/s, p50/p99 latency and the cores server and clients used, for 1-email and 32-email requests
from --clients clients and 1-email requests from one client; the pipeline's emails/s with torch's default threads and
with one (the faster is the reference); the first predict (model load) and the slowest /api/health meanwhile.
Targets: emails/s >= 3x the pipeline's; p99 of a 1-email request < 50 ms. Clients send back to back, so with N of
them a request's mean latency is at least N / (emails/s the server can do); the `engine ceiling` line measures that
rate for the model alone (no HTTP), which bounds both targets on the machine at hand.
"""

import argparse
import asyncio
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from perf.train_throughput import stratified_sample  # noqa: E402
from shared import model_versions  # noqa: E402
from devtools.redis_server import free_port, start_redis  # noqa: E402

NAME = "perf"
DEV_DATA = ROOT.parent / "shared/data/email_dev.jsonl"
SERVER_PID = [0]  # the API process, for its CPU time


def train(data: Path, tmp: Path) -> Path:
    lines = stratified_sample(data, 400)
    sample = tmp / "sample.jsonl"
    sample.write_text("\n".join(lines) + "\n")
    labels = ",".join(sorted({json.loads(line)["label"] for line in lines}))
    cmd = [sys.executable, "-m", "worker.training", "--model", "minilm", "--epochs", "1", "--data", str(sample),
           "--labels", labels, "--models-dir", str(tmp / "trained"), "--name", NAME, "--json"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=_env({}), timeout=1800)
    if proc.returncode != 0:
        sys.exit(f"training failed ({proc.returncode}): {proc.stdout[-1500:]}{proc.stderr[-1500:]}")
    return (tmp / "trained" / f"avocet-{NAME}").resolve()


def models_folder(model: Path, tmp: Path) -> Path:
    """A models/ folder whose `perf` version 1 is `model` (a link: nothing copied)."""
    models_dir = tmp / "models"
    version = model_versions.version_dir(models_dir, NAME, 1)
    version.parent.mkdir(parents=True)
    version.symlink_to(model.resolve(), target_is_directory=True)
    model_versions.switch_to(models_dir, NAME, 1)
    return models_dir


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AVOCET_")}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


def start_api(models_dir: Path, redis_url: str, port: int, settings: dict[str, str]) -> subprocess.Popen:
    env = _env({"AVOCET_MODELS_DIR": str(models_dir), "AVOCET_REDIS_URL": redis_url, **settings})
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(cmd, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    sys.exit("the API did not start within 60 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Load:
    """Latencies (s), request and email counts, refusals and wall time of one kind of request over all rounds."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.emails, self.seconds, self.refused = 0, 0.0, 0
        self.cpu = {"server": 0.0, "clients": 0.0}  # CPU seconds used meanwhile
        self.labels: dict[int, str] = {}

    def line(self, title: str, pipeline_rate: float) -> str:
        rate = self.emails / self.seconds
        cores = ", ".join(f"{who} {used / self.seconds:.2f}" for who, used in self.cpu.items())
        p50, p99 = (1000 * percentile(self.latencies, q) for q in (0.5, 0.99))
        return (f"{title}: {len(self.latencies) / self.seconds:.1f} req/s, {rate:.1f} emails/s "
                f"({rate / pipeline_rate:.2f}x the pipeline), p50 {p50:.0f} ms, p99 {p99:.0f} ms, "
                f"503s: {self.refused}; cores used: {cores}")  # fmt: skip


async def drive(client: httpx.AsyncClient, rows: list[dict], first: int, size: int, clients: int, requests: int,
                load: Load) -> None:  # fmt: skip
    """`clients` loops, each sending `requests` requests of `size` consecutive emails from rows[first:]."""

    async def one_client(index: int) -> None:
        for n in range(requests):
            start = first + (index * requests + n) * size
            batch = [rows[i % len(rows)] for i in range(start, start + size)]
            body = {"emails": [{"subject": r["subject"], "body": r["body"]} for r in batch], "top_k": 3}
            sent = time.perf_counter()
            response = await client.post(f"/api/models/{NAME}/predict", json=body)
            load.latencies.append(time.perf_counter() - sent)
            if response.status_code == 503:
                load.refused += 1
                continue
            response.raise_for_status()
            for offset, prediction in enumerate(response.json()["predictions"]):
                load.labels[(start + offset) % len(rows)] = prediction["label"]
            load.emails += size

    server, clients_cpu = psutil.Process(SERVER_PID[0]), psutil.Process()
    before = sum(server.cpu_times()[:2]), sum(clients_cpu.cpu_times()[:2]), time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(clients)))
    load.seconds += time.perf_counter() - before[2]
    load.cpu["server"] += sum(server.cpu_times()[:2]) - before[0]
    load.cpu["clients"] += sum(clients_cpu.cpu_times()[:2]) - before[1]


async def first_predict(client: httpx.AsyncClient, rows: list[dict]) -> tuple[float, float]:
    """Seconds of the first predict (it loads the model) and the slowest /api/health answer meanwhile."""
    body = {"emails": [{"subject": rows[0]["subject"], "body": rows[0]["body"]}]}
    sent = time.perf_counter()
    task = asyncio.create_task(client.post(f"/api/models/{NAME}/predict", json=body))
    slowest = 0.0
    while not task.done():
        probe = time.perf_counter()
        await client.get("/api/health")
        slowest = max(slowest, time.perf_counter() - probe)
        await asyncio.sleep(0.05)
    (await task).raise_for_status()
    return time.perf_counter() - sent, slowest


class Pipeline:
    """The baseline: a transformers pipeline called once per email, in a thread of its own, timed with torch's default
    threads and with one thread (on a busy 2-core box a 2-thread OpenMP team can run 5-10x slower than one thread;
    the faster of the two is the reference, so a slowed baseline cannot flatter the API)."""

    def __init__(self, model: Path):
        self.thread = ThreadPoolExecutor(1)
        self.run = self.thread.submit(self._load, model).result()
        self.default_threads = self.thread.submit(lambda: __import__("torch").get_num_threads()).result()
        self.seconds = {self.default_threads: 0.0, 1: 0.0}
        self.emails = dict.fromkeys(self.seconds, 0)
        self.labels: dict[int, str] = {}

    @staticmethod
    def _load(model: Path):
        from transformers import pipeline

        from shared.data import model_text
        from shared.model_store import read_training_info

        max_length = int(read_training_info(model).get("hyperparameters", {}).get("max_length", 128))
        classifier = pipeline("text-classification", model=str(model), device="cpu")
        return lambda r: classifier(model_text(r["subject"], r["body"]), truncation=True, max_length=max_length)

    def time(self, rows: list[dict], first: int, count: int) -> None:
        for threads in self.seconds:
            self.thread.submit(self._timed, rows, first, count, threads).result()

    def _timed(self, rows: list[dict], first: int, count: int, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)
        started = time.perf_counter()
        for i in range(first, first + count):
            self.labels[i % len(rows)] = self.run(rows[i % len(rows)])[0]["label"]
        self.seconds[threads] += time.perf_counter() - started
        self.emails[threads] += count

    def rate(self) -> float:
        rates = {threads: self.emails[threads] / self.seconds[threads] for threads in self.seconds}
        for threads, rate in rates.items():
            print(f"pipeline, one call per email, torch threads {threads}: {rate:.1f} emails/s "
                  f"({self.emails[threads]} emails)")  # fmt: skip
        self.thread.shutdown()
        return max(rates.values())


def engine_ceiling(model: Path, rows: list[dict], clients: int, emails: int = 96) -> float:
    """What the model alone can do here, with no HTTP, no event loop and no clients beside it: batches of `clients`
    emails (what 1-email requests from `clients` clients become at best), one FineTunedAdapter computing them either
    on one thread per core (one torch thread each) or on one thread with every core, as api/predictor.py may run
    them; the faster counts. Printed with the least mean latency it allows: `clients` back-to-back clients each
    wait at least clients / ceiling per request."""
    import torch

    from classifiers.fine_tuned import FineTunedAdapter

    adapter = FineTunedAdapter(model)
    cores = len(os.sched_getaffinity(0))
    batches = [[(r["subject"], r["body"]) for r in rows[i : i + clients]] for i in range(0, emails, clients)]
    rates = {}
    for workers, threads in ((cores, 1), (1, cores)):

        def work(share: list[list[tuple[str, str]]], threads: int = threads) -> None:
            torch.set_num_threads(threads)
            for batch in share:
                adapter.logits(batch)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, [batches[:1]] * workers))  # warm-up
            started = time.perf_counter()
            list(pool.map(work, [batches[i::workers] for i in range(workers)]))
            rates[f"{workers} x {threads} torch thread(s)"] = sum(map(len, batches)) / (time.perf_counter() - started)
    rate = max(rates.values())
    print(f"engine ceiling (the model alone, batches of {clients}): "
          + ", ".join(f"{how}: {r:.1f} emails/s" for how, r in rates.items())
          + f"; {clients} back-to-back clients then wait >= {1000 * clients / rate:.0f} ms per 1-email request "
          "on average")  # fmt: skip
    return rate


async def measure(base_url: str, rows: list[dict], model: Path, args) -> None:
    baseline = Pipeline(model)
    limits = httpx.Limits(max_connections=args.clients + 2, max_keepalive_connections=args.clients + 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        load_s, health_s = await first_predict(client, rows)
        print(f"first predict (loads the model): {load_s:.2f} s; slowest GET /api/health meanwhile: "
              f"{1000 * health_s:.0f} ms")  # fmt: skip
        await drive(client, rows, 0, 4, args.clients, 2, Load())  # warm-up
        baseline.time(rows, 0, 2)
        single, batched, alone = Load(), Load(), Load()
        for round_ in range(args.rounds):  # alternating, so a busy neighbour slows both sides alike
            first = round_ * args.pipeline_emails
            baseline.time(rows, first, args.pipeline_emails)
            await drive(client, rows, first, 1, args.clients, 8, single)
            await drive(client, rows, first, 32, args.clients, 1, batched)
            await drive(client, rows, first, 1, 1, 8, alone)
    rate = baseline.rate()
    ceiling = engine_ceiling(model, rows, args.clients)
    print(f"engine ceiling / pipeline: {ceiling / rate:.2f}x (the most that 1-email requests from {args.clients} "
          "clients can reach with this model, in this precision, here, whatever the server)")  # fmt: skip
    print(single.line(f"API, {args.clients} clients x 1 email", rate))
    print(batched.line(f"API, {args.clients} clients x 32 emails", rate))
    print(alone.line("API, 1 client x 1 email", rate))
    common = [i for i in baseline.labels if i in single.labels]
    agree = sum(baseline.labels[i] == single.labels[i] for i in common) / max(1, len(common))
    print(f"same label as the pipeline (fp32) on {agree:.1%} of {len(common)} emails")


def hardware() -> str:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return (f"{cpu}, {os.cpu_count()} CPUs, torch {torch.__version__} (native bf16: {bf16}), "
            f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    example = ROOT / "data/email_score.jsonl.example"
    parser.add_argument("--data", type=Path, default=DEV_DATA if DEV_DATA.is_file() else example)
    parser.add_argument("--model-dir", type=Path, help="a fine-tuned model folder; default: train one")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--pipeline-emails", type=int, default=48, help="emails through the pipeline per round")
    parser.add_argument("--concurrency", type=int, help="AVOCET_PREDICT_CONCURRENCY for the server")
    args = parser.parse_args()

    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines()[-512:] if line.strip()]
    settings = {"AVOCET_PREDICT_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
    print(f"hardware: {hardware()}")
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model_dir or train(args.data, Path(tmp))
        models_dir = models_folder(model, Path(tmp))
        redis = start_redis(Path(tmp) / "redis")
        port = free_port()
        server = start_api(models_dir, redis.url, port, settings)
        SERVER_PID[0] = server.pid
        try:
            asyncio.run(measure(f"http://127.0.0.1:{port}", rows, model, args))
        finally:
            server.terminate()
            server.wait(30)
            redis.stop()


if __name__ == "__main__":
    main()
