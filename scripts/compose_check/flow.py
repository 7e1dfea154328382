"""The container check's steps (run by scripts/compose-check, which sets up Docker and the environment first).

Builds the image, starts the stack with the CPU override, then goes through what a user does (health, the web UI,
upload, a 1-epoch fine-tune followed over SSE, predict, a second version, rollback, delete, the `avocet` CLI in the
image) and the faults (worker killed mid-run, Redis restarted mid-run, down + up, a queued task revoked like Flower
does). Prints one row per step (step, expected, seen, seconds) and exits 1 on any miss. Standard library only: it
runs from a fresh clone with no .venv. The compose files and project come from COMPOSE_FILE and COMPOSE_PROJECT_NAME.
"""

import os
import subprocess
import sys
import time

from client import (
    API, REPO, Miss, compose, container, current_version, ended, follow_sse, healthy, http, image_size, job, running,
    said, submit, web_ui,
)  # fmt: skip

EXAMPLE = REPO / "data" / "email_score.jsonl.example"
LONG = {"model": "minilm", "epochs": 20, "hyperparameters": {"early_stopping_patience": 20}}  # a run to interrupt
ROWS: list[tuple[str, str, str, float, bool]] = []


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


def table() -> str:
    head = ("step", "expected", "seen", "s")
    rows = [head] + [(n, e, ("" if ok else "MISS: ") + s, f"{t:.0f}") for n, e, s, t, ok in ROWS]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


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
