"""The container check's steps (run by scripts/compose-check, which sets up Docker and the environment first).

Builds the image, starts the stack with the CPU override, then goes through what a user does (health, upload, a
1-epoch fine-tune followed over SSE, predict, a second version, rollback, delete, the `avocet` CLI in the image) and
the faults (worker killed mid-run, Redis restarted mid-run, down + up, a queued task revoked like Flower does).
Prints one row per step (step, expected, seen, seconds) and exits 1 on any miss. Standard library only: it runs from
a fresh clone with no .venv. The compose files and project come from COMPOSE_FILE and COMPOSE_PROJECT_NAME.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
API = f"http://127.0.0.1:{os.environ.get('CHECK_API_PORT', '18000')}"
EXAMPLE = REPO / "data" / "email_score.jsonl.example"
LONG = {"model": "minilm", "epochs": 20, "hyperparameters": {"early_stopping_patience": 20}}  # a run to interrupt
ROWS: list[tuple[str, str, str, float, bool]] = []


class Miss(Exception):
    """A step saw something other than what it expected; the message is what it saw."""


def step(name: str, expected: str, action, passes=None) -> None:
    """Run one step and record its row: it passes when what it saw equals `expected` (or satisfies `passes`); an
    error is recorded as what it saw, and the check goes on."""
    started = time.monotonic()
    try:
        seen = str(action())
        ok = passes(seen) if passes else seen == expected
    except Exception as exc:  # every failure is a row of the table, never a traceback that hides the others
        seen, ok = f"{type(exc).__name__}: {exc}"[:160], False
    ROWS.append((name, expected, seen, time.monotonic() - started, ok))
    print(f"[{'ok' if ok else 'MISS'}] {name}: {seen}", flush=True)


def compose(*args: str, timeout: float = 900, check: bool = True) -> str:
    done = subprocess.run(["docker", "compose", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise Miss(f"docker compose {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return done.stdout


def http(method: str, path: str, body: object = None, raw: bytes | None = None, timeout: float = 60) -> tuple:
    headers = {"content-type": "application/x-ndjson" if raw is not None else "application/json"}
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()[:300]


def wait_until(check, timeout: float, what: str, every: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except (OSError, ValueError):
            pass  # the API or a container is (re)starting
        time.sleep(every)
    raise Miss(f"no {what} within {timeout:.0f} s")


def submit(**body) -> str:
    status, job = http("POST", "/api/finetune/jobs", body)
    if status != 202:
        raise Miss(f"submit answered {status}: {job}")
    return job["id"]


def job(job_id: str) -> dict:
    return http("GET", f"/api/jobs/{job_id}")[1]


def ended(job_id: str, timeout: float) -> dict:
    return wait_until(lambda: (j := job(job_id)) and j["state"] in ("succeeded", "failed", "cancelled") and j,
                      timeout, f"end of job {job_id}")  # fmt: skip


def said(record: dict) -> str:
    code = (record.get("error") or {}).get("code")
    return record["state"] + (f": {code}" if code and code != record["state"] else "")


def running(job_id: str, timeout: float = 240) -> None:
    wait_until(lambda: (j := job(job_id)) and j["state"] == "running" and (j.get("progress") or {}), timeout,
               f"progress of job {job_id}")  # fmt: skip


def follow_sse(job_id: str, timeout: float = 600) -> str:
    """The type of the last event on the job's SSE stream (`data: <event JSON>`; it ends after the terminal one)."""
    last, count = "no event", 0
    with urllib.request.urlopen(f"{API}/api/jobs/{job_id}/events", timeout=timeout) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                last, count = json.loads(line[5:])["type"], count + 1
                if last in ("complete", "error"):
                    break
    return f"{last} after {count} events"


def healthy(timeout: float = 300) -> str:
    health = wait_until(lambda: (h := http("GET", "/api/health", timeout=5)[1]) and isinstance(h, dict)
                        and h.get("status") == "ok" and h, timeout, "health ok with a worker online")  # fmt: skip
    return f"ok, {len(health['workers'])} worker"


def current_version(name: str) -> int | None:
    status, detail = http("GET", f"/api/models/{name}")
    return detail.get("current_version") if status == 200 else None


def user_flow() -> dict:
    state: dict = {}
    step("build", "built", lambda: (compose("build", timeout=3600), image_size())[1], lambda s: s.startswith("built"))
    step("up", "started", lambda: (compose("up", "-d"), "started")[1])
    step("health", "ok, 1 worker", healthy)
    step("web UI", "200 text/html, built assets", web_ui)

    def upload():
        status, meta = http("POST", "/api/datasets", raw=EXAMPLE.read_bytes())
        if status not in (200, 201):
            raise Miss(f"{status} {meta}")
        state["dataset"] = meta["id"]
        return f"{status} {meta['id']} ({meta['rows']} rows)"

    step("upload dataset", "201 ds-... (20 rows)", upload, lambda s: s.startswith("201 ds-") and "(20 rows)" in s)

    def first_run():
        state["first"] = submit(model="minilm", epochs=1, name="check", data=state["dataset"])
        return follow_sse(state["first"])

    step("fine-tune v1 (SSE)", "complete", first_run, lambda s: s.startswith("complete after"))

    def predict():
        status, answer = http("POST", "/api/models/check/predict",
                              {"emails": [{"subject": "Interview on Tuesday", "body": "Can you join at 10?"}]})
        if status != 200:
            raise Miss(f"{status} {answer}")
        return f"200 {answer['predictions'][0]['label']} (version {answer['version']})"

    step("predict", "200 <label> (version 1)", predict, lambda s: s.startswith("200 ") and s.endswith("(version 1)"))

    def second_run():
        if said(ended(submit(model="minilm", epochs=1, name="check", data=state["dataset"]), 600)) != "succeeded":
            raise Miss("second run did not succeed")
        return f"current version {current_version('check')}"

    step("fine-tune v2", "current version 2", second_run)
    step("rollback to v1", "200, current version 1",
         lambda: f"{http('POST', '/api/models/check/rollback', {'version': 1})[0]}, "
                 f"current version {current_version('check')}")  # fmt: skip
    step("delete v2", "204", lambda: http("DELETE", "/api/models/check/versions/2")[0])
    step("avocet CLI in image", "exit 0, lists check",
         lambda: "exit 0, lists check" if "check" in compose("exec", "-T", "-e", f"AVOCET_URL={API}", "api",
                                                             "avocet", "models", "list") else "check not listed")
    return state


def web_ui() -> str:
    """The page the API serves from web/dist, which the image's Node stage built."""
    with urllib.request.urlopen(f"{API}/", timeout=30) as response:
        page = response.read().decode()
        kind = response.headers.get_content_type()
    return f"{response.status} {kind}, " + ("built assets" if "/assets/" in page else "no built assets")


def image_size() -> str:
    out = subprocess.run(["docker", "image", "inspect", "avocet:latest", "--format", "{{.Size}}"],
                         capture_output=True, text=True, check=True).stdout
    return f"built, {int(out) / 1e9:.2f} GB"


def faults(state: dict) -> None:
    def kill_worker():
        victim, after = submit(**LONG, name="killed"), submit(model="minilm", epochs=1, name="after-kill")
        running(victim)
        pid = subprocess.run(["docker", "inspect", "-f", "{{.State.Pid}}", container("worker")],
                             capture_output=True, text=True, check=True).stdout.strip()
        killed_at = time.monotonic()
        os.kill(int(pid), 9)  # the container's init dies as in a crash; `docker kill` would count as a manual stop
        record = ended(victim, 60)
        reaped_s = time.monotonic() - killed_at
        next_job = ended(after, 600)
        restarts = subprocess.run(["docker", "inspect", "-f", "{{.RestartCount}}", container("worker")],
                                  capture_output=True, text=True, check=True).stdout.strip()
        return f"{said(record)} in {reaped_s:.0f} s; restarts {restarts}; next job {said(next_job)}"

    def lost_in_time(seen: str) -> bool:
        parts = seen.split()
        return (seen.startswith("failed: worker_lost in ") and int(parts[3]) <= 15 and "restarts 1;" in seen
                and seen.endswith("next job succeeded"))  # fmt: skip

    step("kill worker mid-run", "failed: worker_lost in <= 15 s; restarts 1; next job succeeded", kill_worker,
         lost_in_time)

    def restart_redis():
        survivor = submit(model="minilm", epochs=8, name="redis-restart")
        running(survivor)
        compose("restart", "redis")
        return said(ended(survivor, 600))

    step("restart redis mid-run", "succeeded", restart_redis)

    def down_up():
        compose("down")
        compose("up", "-d")
        healthy()
        models = [m["name"] for m in http("GET", "/api/models")[1]]
        datasets = [d["id"] for d in http("GET", "/api/datasets")[1]]
        first = job(state.get("first", "-"))
        kept = "check" in models and state.get("dataset") in datasets and isinstance(first, dict)
        return (f"model, dataset, job history kept ({first.get('state')})" if kept
                else f"models {models}, datasets {datasets}, first job {first}")

    step("down + up", "model, dataset, job history kept (succeeded)", down_up)

    def revoke_queued():
        busy, queued = submit(**LONG, name="revoke-busy"), submit(model="minilm", epochs=1, name="revoked")
        running(busy)
        compose("exec", "-T", "worker", "celery", "-A", "worker.queue.app", "control", "revoke", queued)
        http("POST", f"/api/jobs/{busy}/cancel")
        return said(ended(queued, 120))

    step("revoke queued (Flower-style)", "cancelled", revoke_queued)


def container(service: str) -> str:
    return compose("ps", "-q", service).strip()


def table() -> str:
    head = ("step", "expected", "seen", "s")
    rows = [head] + [(n, e, ("" if ok else "MISS: ") + s, f"{t:.0f}") for n, e, s, t, ok in ROWS]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> int:
    started = time.monotonic()
    state = user_flow()
    if all(ok for *_, ok in ROWS):
        faults(state)
    print("\n" + table())
    misses = sum(not ok for *_, ok in ROWS)
    print(f"\n{len(ROWS) - misses} passed, {misses} failed in {time.monotonic() - started:.0f} s")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main())
