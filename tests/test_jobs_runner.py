"""The worker side without Celery: the child runner and run_job, with tests/fake_cli.py standing in for the CLI."""

import json
import os
import sys
import threading
from pathlib import Path

import pytest
from service_helpers import wait_until

from shared import events, jobs
from shared.redis_ops import run_sync
from worker.queue.child_process import run_child
from worker.queue.job_runner import record_sent_job, run_job

FAKE_CLI = str(Path(__file__).with_name("fake_cli.py"))


def fake(*args: str):
    return lambda kind, params: [sys.executable, FAKE_CLI, *args]


def _events(r, job_id):
    return [e.parsed() for e in run_sync(r, events.read_after(job_id, 0))]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie counts as gone
        return f.read().split(") ")[1][0] != "Z"


def test_child_lines_reach_the_callback_in_order():
    lines = []
    result = run_child([sys.executable, FAKE_CLI, "--steps", "2", "--noise"], lines.append)
    assert result.returncode == 0 and not result.stopped
    assert [json.loads(line)["type"] for line in lines if line.startswith("{")] == [
        "start", "progress", "progress", "eval", "complete",
    ]
    assert "plain text line" in lines and result.stderr_tail == ["something on stderr"]


def test_stop_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "helper.pid"
    seen = []
    result = run_child(
        [sys.executable, FAKE_CLI, "--steps", "100", "--delay", "0.2", "--grandchild", str(pidfile)],
        seen.append, should_stop=lambda: len(seen) >= 2, poll_s=0.1, grace_s=1.0,
    )
    assert result.stopped and result.returncode != 0
    helper = int(pidfile.read_text())
    wait_until(lambda: not _alive(helper), 10, "the forked helper to be killed with the group")


def test_run_job_streams_events_and_succeeds(redis_client):
    run_sync(redis_client, jobs.create_job("j", "finetune", {"model": "minilm", "epochs": 1}, "api"))
    state = run_job(redis_client, "j", "finetune", {"model": "minilm", "epochs": 1}, worker="w1",
                    command_for=fake("--steps", "3", "--noise")).state  # fmt: skip
    assert state == "succeeded"
    log = _events(redis_client, "j")
    assert [e["id"] for e in log] == list(range(1, len(log) + 1))
    types = [e["type"] for e in log]
    assert types == ["queued", "started", "start", "log", "progress", "progress", "progress", "eval", "complete"]
    assert log[-1]["data"]["state"] == "succeeded" and log[-1]["data"]["val_macro_f1"] == 0.5
    job = run_sync(redis_client, jobs.get_job("j"))
    assert job["state"] == "succeeded" and job["result"]["name"] == "fake" and job["source"] == "api"
    finish = job["progress"].pop("estimated_finish")  # the server's one estimate: done at the last step
    assert job["progress"] == {"epoch": 1.0, "step": 3, "total": 3, "loss": pytest.approx(1 / 3), "f1": 0.5,
                               "accuracy": 0.6}  # fmt: skip
    assert finish == next(e for e in log if e["type"] == "eval")["data"]["estimated_finish"]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"model": "nope", "epochs": 1}, "unknown model 'nope'"),
        ({"model": "minilm", "epochs": 50}, "epochs"),
        ({"model": "minilm", "epochs": 1, "colour": "red"}, "colour"),
    ],
)
def test_bad_kwargs_fail_the_job_with_an_error_event(redis_client, kwargs, expected):
    record_sent_job(redis_client, "bad", "finetune", kwargs, "celery")  # refused at publish time
    assert run_sync(redis_client, jobs.get_job("bad"))["state"] == "failed"
    state = run_job(redis_client, "bad", "finetune", kwargs, worker="w1",
                    command_for=fake()).state  # fmt: skip
    assert state == "failed"
    job = run_sync(redis_client, jobs.get_job("bad"))
    assert job["state"] == "failed" and job["source"] == "celery" and expected in job["error"]["message"]
    assert job["error"]["code"] == "bad_input"
    last = _events(redis_client, "bad")[-1]
    assert last["type"] == "error" and last["data"]["reason"] == "bad_input" and expected in last["message"]


def test_cli_error_line_becomes_the_terminal_event(redis_client):
    record_sent_job(redis_client, "e", "finetune", {"model": "minilm"}, "celery")
    state = run_job(redis_client, "e", "finetune", {"model": "minilm"}, worker="w1",
                    command_for=fake("--error", "the data file has no rows")).state  # fmt: skip
    assert state == "failed"
    last = _events(redis_client, "e")[-1]
    assert last["type"] == "error" and last["message"] == "the data file has no rows"
    assert last["data"] == {"reason": "bad_input", "state": "failed"}


def test_crash_without_error_line_reports_exit_code_and_stderr(redis_client):
    record_sent_job(redis_client, "x", "finetune", {"model": "minilm"}, "celery")
    run_job(redis_client, "x", "finetune", {"model": "minilm"}, worker="w1",
            command_for=fake("--exit", "1"))  # fmt: skip
    job = run_sync(redis_client, jobs.get_job("x"))
    assert job["state"] == "failed"
    assert job["error"] == {"code": "exit_code", "message": "the run exited with code 1: Traceback: boom"}
    assert [e["type"] for e in _events(redis_client, "x")].count("error") == 1


def test_cancelled_while_queued_never_runs(redis_client, tmp_path):
    run_sync(redis_client, jobs.create_job("c", "finetune", {"model": "minilm"}, "api"))
    run_sync(redis_client, jobs.cancel("c"))
    marker = tmp_path / "ran"
    state = run_job(redis_client, "c", "finetune", {"model": "minilm"}, worker="w1",
                    command_for=lambda kind, params: ["touch", str(marker)]).state  # fmt: skip
    assert state == "cancelled" and not marker.exists()


def _run_long_job_while(redis_client, job_id: str, interrupt) -> str:
    """Run a 20-second fake job on worker w1 while `interrupt` acts on it from another thread; its final state."""
    other = threading.Thread(target=interrupt)
    other.start()
    state = run_job(redis_client, job_id, "finetune", {"model": "minilm"}, worker="w1",
                    command_for=fake("--steps", "200", "--delay", "0.1")).state  # fmt: skip
    other.join(5)
    return state


def test_cancel_during_run_stops_it(redis_client):
    run_sync(redis_client, jobs.create_job("r", "finetune", {"model": "minilm"}, "api"))

    def cancel_after_first_progress():
        wait_until(lambda: any(e["type"] == "progress" for e in _events(redis_client, "r")), 30, "progress")
        run_sync(redis_client, jobs.cancel("r"))

    state = _run_long_job_while(redis_client, "r", cancel_after_first_progress)
    assert state == "cancelled"
    last = _events(redis_client, "r")[-1]
    assert last["type"] == "error" and last["data"]["state"] == "cancelled"
    assert run_sync(redis_client, jobs.get_job("r"))["state"] == "cancelled"


def test_worker_shutdown_fails_the_running_job(redis_client):
    run_sync(redis_client, jobs.create_job("s", "finetune", {"model": "minilm"}, "api"))

    def shut_down():
        wait_until(lambda: run_sync(redis_client, jobs.get_job("s"))["state"] == "running", 30, "running")
        run_sync(redis_client, jobs.request_shutdown("w1"))

    state = _run_long_job_while(redis_client, "s", shut_down)
    assert state == "failed"
    assert "shut down" in run_sync(redis_client, jobs.get_job("s"))["error"]["message"]


def test_benchmark_command_line():
    from shared.job_schema import BenchmarkParams
    from worker.queue.job_runner import build_command

    argv = build_command("benchmark", BenchmarkParams(models=["tfidf", "minilm"], data="d.jsonl"))
    params = '{"data":"d.jsonl","models":["tfidf","minilm"]}'
    assert argv[1:] == ["-m", "worker.benchmark", "--params-json", params, "--json", "--save"]


def test_finetune_child_gets_the_validated_params_whole():
    from shared.job_schema import FinetuneParams
    from worker.queue.job_runner import build_command
    from worker.training.cli import build_parser, params_from

    params = FinetuneParams(epochs=2, labels=["a.b", "c"], name="x", hyperparameters={"learning_rate": 3e-5})
    argv = build_command("finetune", params)
    assert argv[1:3] == ["-m", "worker.training"] and argv[-1] == "--json"
    assert params_from(build_parser().parse_args(argv[3:])) == params
