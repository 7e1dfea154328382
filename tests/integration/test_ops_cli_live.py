"""The installed `avocet` console script against the live stack (real API, real worker, real 1-epoch MiniLM runs on
the example data): exit 0 when the job succeeds, 2 when the API refuses it, 1 when it fails in the worker, 3 when it
is cancelled while followed, 130 on Ctrl-C with the job left running; and the dataset, model and paging commands."""

import json
import queue
import re
import signal
import subprocess
import threading

import httpx
import pytest
from service_helpers import LONG_RUN_FLAGS, REPO, VENV_BIN, wait_until

pytestmark = pytest.mark.integration
JOB_ID = re.compile(r"job ([0-9a-f-]{36}) ")
EXAMPLE_DATA = REPO / "data" / "email_score.jsonl.example"


def _env(stack) -> dict[str, str]:
    return {**stack.env, "AVOCET_URL": stack.base_url}


def _avocet(stack, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    argv = [str(VENV_BIN / "avocet"), *args]
    return subprocess.run(argv, cwd=REPO, env=_env(stack), capture_output=True, text=True, timeout=timeout)


class _Running:
    """`avocet ...` in the background, its stdout lines read by a thread so every wait can time out."""

    def __init__(self, stack, *args: str) -> None:
        # SIGINT back to its default in the child: a suite started in the background (`cmd &` in a script) ignores
        # SIGINT, children inherit that, and Ctrl-C would then never reach the CLI.
        self.process = subprocess.Popen([str(VENV_BIN / "avocet"), *args], cwd=REPO, env=_env(stack), text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in self.process.stdout], daemon=True).start()

    def line_where(self, check, timeout: float, what: str) -> str:
        def next_match():
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                return None
            return line if check(line) else None

        return wait_until(next_match, timeout, what, interval=0)

    def finish(self, timeout: float) -> tuple[int, str]:
        try:
            return self.process.wait(timeout), self.process.stderr.read()
        finally:
            if self.process.poll() is None:
                self.process.kill()


def _job(stack, job_id: str) -> dict:
    return httpx.get(f"{stack.base_url}/api/jobs/{job_id}", timeout=10).json()


def test_a_followed_job_that_succeeds_exits_0_and_the_read_commands_agree(live_stack):
    done = _avocet(live_stack, "jobs", "submit", "--model", "minilm", "--epochs", "1", "--name", "cli-ok", "--follow")
    assert done.returncode == 0, done.stdout + done.stderr
    job_id = JOB_ID.search(done.stdout).group(1)
    assert "[started]" in done.stdout and "[progress] [" in done.stdout  # not a terminal: one line per update
    assert f"job {job_id} succeeded" in done.stdout

    assert _avocet(live_stack, "jobs", "wait", job_id).returncode == 0
    shown = _avocet(live_stack, "jobs", "show", job_id, "--json")
    assert json.loads(shown.stdout)["state"] == "succeeded"
    listed = _avocet(live_stack, "jobs", "list", "--kind", "finetune", "--json")
    assert job_id in {json.loads(line)["id"] for line in listed.stdout.splitlines()}
    logged = _avocet(live_stack, "jobs", "logs", job_id, "--json")
    events = [json.loads(line) for line in logged.stdout.splitlines()]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1)) and events[-1]["type"] == "complete"


def test_a_job_the_api_refuses_exits_2_naming_the_flag(live_stack):
    done = _avocet(live_stack, "jobs", "submit", "--model", "/no/such/model-folder", "--epochs", "1", "--follow")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "--model (model)" in done.stderr


def test_a_job_that_fails_in_the_worker_exits_1_with_the_reason(live_stack):
    # Labels the example data does not have: the API cannot know that; the worker's data check fails the job.
    done = _avocet(live_stack, "jobs", "submit", "--epochs", "1", "--labels", "nomatch_a,nomatch_b",
                   "--name", "cli-fail", "--follow")  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "failed (bad_input)" in done.stderr and "nomatch_a" in done.stderr
    job_id = JOB_ID.search(done.stdout).group(1)
    assert _avocet(live_stack, "jobs", "wait", job_id).returncode == 1


def test_a_job_cancelled_while_followed_exits_3(live_stack):
    run = _Running(live_stack, "jobs", "submit", *LONG_RUN_FLAGS, "--name", "cli-cancel", "--follow", "--json")
    job_id = json.loads(run.line_where(lambda line: '"kind"' in line, 30, "the submitted job"))["id"]
    run.line_where(lambda line: json.loads(line).get("type") == "progress", 240, "the first progress event")
    response = httpx.post(f"{live_stack.base_url}/api/jobs/{job_id}/cancel", timeout=10)
    assert response.status_code == 202, response.text
    code, stderr = run.finish(60)
    assert code == 3, stderr
    assert f"job {job_id} cancelled" in stderr
    assert _avocet(live_stack, "jobs", "wait", job_id).returncode == 3


def test_ctrl_c_stops_following_only_then_cancel_wait_exits_3(live_stack):
    run = _Running(live_stack, "jobs", "submit", *LONG_RUN_FLAGS, "--name", "cli-ctrl-c", "--follow")
    job_id = JOB_ID.search(run.line_where(JOB_ID.search, 30, "the submitted job")).group(1)
    run.line_where(lambda line: "[progress]" in line, 240, "the first progress line")
    run.process.send_signal(signal.SIGINT)
    code, stderr = run.finish(30)
    assert code == 130, stderr
    assert f"avocet jobs logs {job_id} --follow" in stderr
    assert _job(live_stack, job_id)["state"] == "running"  # Ctrl-C left it alone

    cancelled = _avocet(live_stack, "jobs", "cancel", job_id, "--wait", timeout=90)
    assert cancelled.returncode == 3, cancelled.stdout + cancelled.stderr
    assert _job(live_stack, job_id)["state"] == "cancelled"


def test_datasets_models_and_list_paging_through_the_cli(live_stack):
    uploaded = _avocet(live_stack, "datasets", "upload", str(EXAMPLE_DATA), "--name", "cli-data", "--json")
    assert uploaded.returncode == 0, uploaded.stderr
    dataset_id = json.loads(uploaded.stdout)["id"]
    listed = _avocet(live_stack, "datasets", "list", "--json")
    assert dataset_id in {json.loads(line)["id"] for line in listed.stdout.splitlines()}

    train = ("jobs", "submit", "--dataset", dataset_id, "--epochs", "1", "--name", "cli-models")
    first = _avocet(live_stack, *train)
    assert first.returncode == 0, first.stderr
    second = _avocet(live_stack, *train, "--follow")  # queued behind the first, so both have ended after it
    assert second.returncode == 0, second.stdout + second.stderr
    assert _avocet(live_stack, "jobs", "wait", JOB_ID.search(first.stdout).group(1)).returncode == 0

    def current_version() -> int:
        models = _avocet(live_stack, "models", "list", "--json").stdout.splitlines()
        return next(m for m in map(json.loads, models) if m["name"] == "cli-models")["current_version"]

    assert current_version() == 2
    rolled = _avocet(live_stack, "models", "rollback", "cli-models", "--version", "1")
    assert rolled.returncode == 0 and "now serves version 1" in rolled.stdout, rolled.stderr
    assert current_version() == 1

    page = _avocet(live_stack, "jobs", "list", "--limit", "1", "--json")
    cursor = re.search(r"avocet jobs list --before (\S+)", page.stderr).group(1)
    older = _avocet(live_stack, "jobs", "list", "--limit", "1", "--before", cursor, "--json")
    assert json.loads(older.stdout)["id"] not in page.stdout
