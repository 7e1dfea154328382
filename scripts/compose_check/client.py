"""How scripts/compose-check talks to the stack: `docker compose` in the repository, the API over HTTP on
CHECK_API_PORT (standard library only), and waits with timeouts. A step that sees the wrong thing raises Miss."""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
API = f"http://127.0.0.1:{os.environ.get('CHECK_API_PORT', '18000')}"


class Miss(Exception):
    """A step saw something other than what it expected; the message is what it saw."""


def compose(*args: str, timeout: float = 900, check: bool = True) -> str:
    done = subprocess.run(["docker", "compose", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise Miss(f"docker compose {' '.join(args)}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    return done.stdout


def container(service: str) -> str:
    return compose("ps", "-q", service).strip()


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
