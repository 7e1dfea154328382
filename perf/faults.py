"""Fault campaign: break the real stack the ways production breaks, several times each, and check that every job
ends in the right state, nothing stays stuck, SSE clients that reconnect lose no events, no request answers 5xx,
and the previous model survives every run that did not succeed.

.venv/bin/python perf/faults.py [--runs 3] [--only kill_worker,redis_down] [--seed 1] [--redis-down-s 60] [--work DIR]

The stack (perf/fault_stack.py, built on the tests' harness, tests/service_helpers.py) is the real one: an embedded
Redis with an append-only file, scripts/serve.py supervising one worker and the API, real MiniLM training on a tiny
data file, a short stall timeout. Each scenario is one function below; the table counts, per scenario: runs that
ended in the right state, runs left stuck (a job not ended, or an SSE client not done, by the deadline), events lost
by a client that reconnected (missing ids, and ids in Redis it never got), 5xx answers other than 503 from any
request made meanwhile, and runs after which the previous model was intact (for runs that should succeed: the new
model is complete and listed). The whole campaign with --runs 3 takes about 20 minutes on a 2-core machine.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_stack import MODEL_NAME, TERMINAL, Follower, Stack, probe  # noqa: E402

from shared import job_reaper, jobs  # noqa: E402

FROZEN_S = jobs.HEARTBEAT_TTL_S + job_reaper.REAP_GRACE_S + 5 + 5  # TTL, grace, reaper, margin
DOWN_S = 60.0  # the campaign's Redis outage (--redis-down-s); tests/integration/test_faults_worker.py's is shorter


@dataclass
class Outcome:
    right: bool
    stuck: bool = False
    lost: int = 0
    errors_5xx: int = 0
    model_intact: bool | None = None
    note: str = ""


Expect = Callable[[str | None, str | None], bool]  # (final state, terminal event's data.reason) -> right?


def ended(state: str, *reasons: str) -> Expect:
    return lambda got, reason: got == state and (not reasons or reason in reasons)


def faulted(
    s: Stack, fault: Callable[[dict], None], *, size: str, expect: Expect, new_model: bool = False,
    after: Callable[[dict], str | None] | None = None, timeout: float = 240.0,
    submit: Callable[[], dict] | None = None, ready: str = "progress",
) -> Outcome:  # fmt: skip
    """Submit a job (a fine-tune of `size`, or `submit()`'s), wait until it runs (its first `ready` event), apply
    `fault`, then judge how it ended. `after` runs once the job has ended and returns a problem (or None)."""
    before, errors_before = s.model_fingerprint(), s.counters.snapshot()
    job = submit() if submit else s.submit(size)
    follower = Follower(s, job["id"])
    follower.start()
    problem = None
    with probe(s, job["id"]):
        if not follower.wait_for({ready} | TERMINAL, 120) or follower.seen(TERMINAL):
            problem = "the run never reached training before the fault"
        else:
            fault(job)
        final = s.wait_terminal(job["id"], timeout)
        follower.join(90)
        if final and after:
            problem = after(job) or problem
    return judge(s, job["id"], final, follower, expect, before if not new_model else None, errors_before, problem)


def judge(
    s: Stack, job_id: str, final: dict | None, follower: Follower, expect: Expect, before: list | None,
    errors_before: int, problem: str | None,
) -> Outcome:  # fmt: skip
    state = final["state"] if final else None
    last = follower.events[-1] if follower.events else {}
    reason = last.get("data", {}).get("reason") if last.get("type") in TERMINAL else None
    stored = s.stored_log(job_id)
    holes, repeats = follower.holes_and_repeats()
    received = {e["id"] for e in follower.events}
    lost = holes + len({i for i, _ in stored} - received - {e["id"] for e in follower.events if e["type"] == "gap"})
    terminals = [i for i, (_, t) in enumerate(stored) if t in TERMINAL]
    log_ok = (terminals == [len(stored) - 1]) if stored else state == "gone"
    intact = s.model_readable() if before is None else s.model_fingerprint() == before
    notes = [f"{state}/{reason}", f"{follower.reconnects} reconnects"]
    if not log_ok:
        notes.append(f"stored log ends {stored[-3:]}, terminal events at {terminals}")
    if repeats:
        notes.append(f"{repeats} ids repeated")
    if problem:
        notes.append(problem)
    right = state is not None and expect(state, reason) and log_ok and not repeats and not problem
    stuck = final is None or follower.is_alive()
    errors = s.counters.since(errors_before)
    if errors:
        notes.append("5xx: " + ", ".join(sorted(set(errors))))
    return Outcome(right, stuck, lost, len(errors), intact, "; ".join(notes))


def kill_worker(s: Stack, run: int) -> Outcome:
    """kill -9 of the Celery worker's main process mid-run: failed worker_lost; scripts/serve.py restarts it."""
    return faulted(s, lambda job: s.child("worker").kill(), size="long", expect=ended("failed", "worker_lost"))


def kill_worker_audit(s: Stack, run: int) -> Outcome:
    """kill -9 of the worker during a label audit (thorough: a fine-tune per fold, killed once its child started):
    failed worker_lost, the child gone too, no result file listed or left (the results endpoint says why), and the
    next audit, on the restarted worker, succeeds with its issues file."""

    def after(job: dict) -> str | None:
        left = lambda: s.job_children(job["id"]) or s.results_folder(job["id"]).exists()  # noqa: E731
        deadline = time.monotonic() + 30
        while left() and time.monotonic() < deadline:
            time.sleep(0.5)
        if left():
            return "the audit child or its results folder outlived the worker"
        answer = s.request("GET", f"/api/jobs/{job['id']}/results")
        if answer is None or answer.status_code != 404 or "stopped while the job was running" not in answer.text:
            return f"the lost audit's results answered {answer and answer.status_code}: {answer and answer.text}"
        following = s.submit_audit({"folds": 2})
        final = s.wait_terminal(following["id"], 180)
        issues = s.request("GET", f"/api/jobs/{following['id']}/results?name=issues")
        if not final or final["state"] != "succeeded" or issues is None or issues.status_code != 200:
            return f"the next audit ended {final and final['state']}"
        return None

    audit = lambda: s.submit_audit({"method": "thorough", "folds": 2})  # noqa: E731
    return faulted(s, lambda job: s.child("worker").kill(), size="audit", expect=ended("failed", "worker_lost"),
                   after=after, submit=audit, ready="start")  # fmt: skip


def kill_training(s: Stack, run: int) -> Outcome:
    """kill -9 of the training child: the worker sees it exit and fails the job."""
    return faulted(s, lambda job: s.training().kill(), size="long", expect=ended("failed"))


def stall_training(s: Stack, run: int) -> Outcome:
    """SIGSTOP of the training child: it prints nothing more, and the worker kills it after the stall timeout."""
    return faulted(s, lambda job: s.training().suspend(), size="long", expect=ended("failed", "stalled"))


def freeze_worker(s: Stack, run: int) -> Outcome:
    """SIGSTOP of the whole worker (its processes and the training child, as if the box froze) past the heartbeat
    TTL and the reaper's grace, then SIGCONT: failed worker_lost, and the woken worker writes and publishes nothing."""

    def fault(job: dict) -> None:
        groups = [s.child("worker").pid, s.training().pid]  # each leads its process group
        for group in groups:
            os.killpg(group, signal.SIGSTOP)
        time.sleep(FROZEN_S)
        for group in groups:
            os.killpg(group, signal.SIGCONT)

    def after(job: dict) -> None:
        time.sleep(15)  # the woken worker's chance to write (it must not) before the log and model are judged

    return faulted(s, fault, size="long", expect=ended("failed", "worker_lost"), after=after)


def kill_api(s: Stack, run: int) -> Outcome:
    """kill -9 of the API mid-run: scripts/serve.py restarts it, the run goes on, clients resume."""
    return faulted(s, lambda job: s.child("api").kill(), size="medium", expect=ended("succeeded"), new_model=True)


def restart_redis(s: Stack, run: int) -> Outcome:
    """Redis stopped (it flushes its append-only file) and started again mid-run: the run goes on."""
    return faulted(s, lambda job: s.redis_restart(), size="medium", expect=ended("succeeded"), new_model=True)


def redis_down(s: Stack, run: int, down_s: float = DOWN_S) -> Outcome:
    """Redis down for `down_s` (60 s) mid-run: the worker holds on and the run succeeds."""
    fault = lambda job: s.redis_restart(down_s=down_s)  # noqa: E731
    return faulted(s, fault, size="medium", expect=ended("succeeded"), new_model=True, timeout=240 + down_s)


def flush_redis(s: Stack, run: int) -> Outcome:
    """Redis loses its data mid-run (FLUSHALL): the job reads 404 or ends state_lost, its stream ends, the previous
    model stays, and the next job runs (and publishes, so the model check is done before it)."""
    before = s.model_fingerprint()

    def fault(job: dict) -> None:
        client = s.redis_client()
        client.flushall()
        client.close()

    def after(job: dict) -> str | None:
        if s.model_fingerprint() != before:
            return "the previous model changed"
        following = s.submit("short")
        final = s.wait_terminal(following["id"], 180)
        return None if final and final["state"] == "succeeded" else f"the next job ended {final and final['state']}"

    def expect(state: str | None, reason: str | None) -> bool:
        return state == "gone" or (state == "failed" and reason == "state_lost")

    return faulted(s, fault, size="long", expect=expect, after=after, new_model=True)


def cancel_at_random(s: Stack, run: int, seed: int = 1) -> Outcome:
    """Cancel at a random moment: run i waits for the i-th of these events (after the last epoch's evaluation the
    model is being saved and published), then a random 0-0.6 s more."""
    rng = random.Random(seed * 1000 + run)
    trigger = ("eval", "started", "queued", "progress")[run % 4]
    before, errors_before = s.model_fingerprint(), s.counters.snapshot()
    job = s.submit("short")
    follower = Follower(s, job["id"])
    follower.start()
    with probe(s, job["id"]):
        follower.wait_for({trigger} | TERMINAL, 120)
        time.sleep(rng.uniform(0, 0.6))
        response = s.request("POST", f"/api/jobs/{job['id']}/cancel")
        final = s.wait_terminal(job["id"], 180)
        follower.join(60)
    status = response.status_code if response is not None else None
    expected = "cancelled" if status == 202 else "succeeded"  # 409: it had ended, or was publishing (too late)
    outcome = judge(s, job["id"], final, follower, ended(expected), before if expected != "succeeded" else None,
                    errors_before, None if status in (202, 409) else f"cancel answered {status}")  # fmt: skip
    answer = response.json().get("state", response.json()) if status in (202, 409) else None
    outcome.note += f"; cancel after {trigger!r} answered {status} ({answer})"
    return outcome


def burst(s: Stack, run: int, count: int = 50) -> Outcome:
    """50 submissions in one burst: all accepted, queue positions 1..n with no gap or repeat; then all but the
    running one and the last are cancelled: those end cancelled, the two succeed."""
    errors_before = s.counters.snapshot()
    body = {"model": "minilm", "name": MODEL_NAME, "epochs": 1}
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: s.request("POST", "/api/finetune/jobs", json=body), range(count)))
    accepted = [a.json()["id"] for a in answers if a is not None and a.status_code == 202]
    everything = s.request("GET", "/api/jobs?limit=100").json()
    positions = sorted(j["queue_position"] for j in everything if j["state"] == "queued")  # all waiting jobs
    listed = {j["id"]: j for j in everything if j["id"] in accepted}
    order = sorted(accepted, key=lambda i: listed[i]["submitted_at"])
    keep = {order[-1]} | {i for i, j in listed.items() if j["state"] != "queued"}
    for job_id in set(accepted) - keep:
        s.request("POST", f"/api/jobs/{job_id}/cancel")
    finals = {i: s.wait_terminal(i, 240) for i in accepted}
    wrong = [i for i, f in finals.items() if not f or f["state"] != ("succeeded" if i in keep else "cancelled")]
    problems = [f"{count - len(accepted)} not accepted"] if len(accepted) < count else []
    problems += [f"queue positions {positions[:5]}..."] if positions != list(range(1, len(positions) + 1)) else []
    problems += [f"{len(wrong)} ended wrong"] if wrong else []
    errors = s.counters.since(errors_before)
    problems += [f"5xx: {', '.join(sorted(set(errors)))}"] if errors else []
    return Outcome(not problems, any(f is None for f in finals.values()), 0, len(errors), s.model_readable(),
                   "; ".join(problems) or f"{len(accepted)} accepted, {len(keep)} ran")


def sse_crowd(s: Stack, run: int, clients: int = 100) -> Outcome:
    """100 SSE clients connecting and disconnecting at random during a run, each resuming with Last-Event-ID:
    every client ends with the terminal event and has every stored event exactly once."""
    errors_before = s.counters.snapshot()
    job = s.submit("medium")
    with probe(s, job["id"]):
        results = asyncio.run(_crowd(s, job["id"], clients, random.Random(run)))
        final = s.wait_terminal(job["id"], 240)
    stored = {i for i, _ in s.stored_log(job["id"])}
    lost = sum(len(stored - set(ids)) for ids, _, _ in results)
    repeats = sum(len(ids) - len(set(ids)) for ids, _, _ in results)
    unfinished = sum(not done for _, done, _ in results)
    right = final is not None and final["state"] == "succeeded" and not unfinished and not repeats and not lost
    note = (f"{final and final['state']}; {sum(c for _, _, c in results)} connections, {unfinished} unfinished, "
            f"{repeats} repeats")  # fmt: skip
    return Outcome(right, final is None or unfinished > 0, lost, s.counters.snapshot() - errors_before,
                   s.model_readable(), note)  # fmt: skip


async def _crowd(s: Stack, job_id: str, clients: int, rng: random.Random) -> list[tuple[list[int], bool, int]]:
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60, connect=10), limits=limits) as client:
        seeds = [rng.random() for _ in range(clients)]
        return await asyncio.gather(*(_roam(s, client, job_id, random.Random(x)) for x in seeds))


async def _roam(s: Stack, client: httpx.AsyncClient, job_id: str, rng: random.Random) -> tuple[list[int], bool, int]:
    """Read a few events, drop the connection, wait a little, resume with Last-Event-ID; until the terminal one."""
    ids: list[int] = []
    connections, deadline = 0, time.monotonic() + 300
    await asyncio.sleep(rng.uniform(0, 3))
    while time.monotonic() < deadline:
        connections += 1
        headers, quota = ({"Last-Event-ID": str(ids[-1])} if ids else {}), rng.randint(1, 12)
        try:
            async with client.stream("GET", f"{s.base}/api/jobs/{job_id}/events", headers=headers) as response:
                s.counters.count(response.status_code)
                if response.status_code == 204:
                    return ids, True, connections
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    event = json.loads(line[5:])
                    ids.append(event["id"])
                    if event["type"] in TERMINAL:
                        return ids, True, connections
                    quota -= 1
                    if quota == 0:
                        break
        except httpx.HTTPError:
            pass
        await asyncio.sleep(rng.uniform(0, 0.5))
    return ids, False, connections


SCENARIOS = {
    "kill_worker": ("kill -9 worker mid-run", kill_worker),
    "kill_worker_audit": ("kill -9 worker mid-audit (thorough)", kill_worker_audit),
    "kill_training": ("kill -9 training child", kill_training),
    "stall_training": ("SIGSTOP training child (stall)", stall_training),
    "freeze_worker": ("SIGSTOP worker past heartbeat TTL, SIGCONT", freeze_worker),
    "kill_api": ("kill -9 API mid-run", kill_api),
    "restart_redis": ("Redis restart (AOF) mid-run", restart_redis),
    "flush_redis": ("Redis data loss (FLUSHALL) mid-run", flush_redis),
    "redis_down": ("Redis down mid-run (--redis-down-s)", redis_down),
    "cancel": ("cancel at random moments", cancel_at_random),
    "burst": ("50 submissions in one burst", burst),
    "sse_crowd": ("100 SSE clients come and go, resume", sse_crowd),
}
HEADER = ("scenario", "runs", "ended in the right state", "stuck", "events lost on reconnect", "5xx seen",
          "previous model intact")  # fmt: skip


def table(results: dict[str, list[Outcome]]) -> str:
    rows = [HEADER]
    for key, outcomes in results.items():
        n = len(outcomes)
        intact = [o.model_intact for o in outcomes if o.model_intact is not None]
        rows.append((SCENARIOS[key][0], str(n), f"{sum(o.right for o in outcomes)}/{n}",
                     str(sum(o.stuck for o in outcomes)), str(sum(o.lost for o in outcomes)),
                     str(sum(o.errors_5xx for o in outcomes)), f"{sum(intact)}/{len(intact)}" if intact else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    return "\n".join([lines[0], "-+-".join("-" * w for w in widths), *lines[1:]])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario (default 3)")
    parser.add_argument("--only", default="", help=f"comma-separated scenarios: {','.join(SCENARIOS)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stall-timeout", type=float, default=20.0,
                        help="AVOCET_STALL_TIMEOUT_S of the worker (below ~20 s a busy 2-core box stalls healthy runs)")
    parser.add_argument("--redis-down-s", type=float, default=DOWN_S,
                        help=f"how long redis_down keeps Redis away (default {DOWN_S:.0f})")
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    args = parser.parse_args()
    chosen = [k.strip() for k in args.only.split(",") if k.strip()] or list(SCENARIOS)
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(sorted(unknown))}: choose from {', '.join(SCENARIOS)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="avocet-faults-"))
    work.mkdir(parents=True, exist_ok=True)
    stack = Stack(work, args.stall_timeout)
    results: dict[str, list[Outcome]] = {key: [] for key in chosen}
    options = {"cancel": {"seed": args.seed}, "redis_down": {"down_s": args.redis_down_s}}  # scenario parameters
    started = time.monotonic()
    try:
        stack.start()
        first = stack.submit("short")  # the previous model every scenario must leave intact
        if (stack.wait_terminal(first["id"], 300) or {}).get("state") != "succeeded":
            raise RuntimeError(f"the first training run failed: see {work / 'serve.log'}")
        for key in chosen:
            for run in range(args.runs):
                results[key].append(_one(stack, key, run, options.get(key, {})))
    finally:
        stack.close()
    print(f"\n{table(results)}\n\n{time.monotonic() - started:.0f} s; logs in {work}")
    return 0 if all(o.right and not o.stuck for outcomes in results.values() for o in outcomes) else 1


def _one(stack: Stack, key: str, run: int, options: dict) -> Outcome:
    if not stack.settle(240):
        outcome = Outcome(False, True, note="the stack did not settle (a worker online, nothing queued or running)")
    else:
        began = time.monotonic()
        try:
            outcome = SCENARIOS[key][1](stack, run, **options)
        except Exception as exc:  # one broken run must not end the campaign
            outcome = Outcome(False, note=f"the scenario raised {exc!r}")
        outcome.note += f"; {time.monotonic() - began:.0f} s"
    print(f"{key} run {run + 1}: {'ok' if outcome.right else 'WRONG'}{' STUCK' if outcome.stuck else ''}: "
          f"lost {outcome.lost}, 5xx {outcome.errors_5xx}, model intact {outcome.model_intact}; {outcome.note}",
          flush=True)  # fmt: skip
    return outcome


if __name__ == "__main__":
    sys.exit(main())
