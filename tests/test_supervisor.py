"""scripts/serve.py's supervision, on stand-in processes: restart with back-off, give up on a child that cannot
start, stop in order. The real stack under it is tests/integration/test_supervision.py."""

import importlib.util
import logging
import re
import subprocess
import sys
import threading

import pytest
from service_helpers import REPO, wait_until


@pytest.fixture
def serve(monkeypatch):
    spec = importlib.util.spec_from_file_location("avocet_serve", REPO / "scripts" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "BACKOFF_S", 0.05)
    monkeypatch.setattr(module, "QUICK_EXIT_S", 5.0)
    monkeypatch.setattr(module, "CHECK_EVERY_S", 0.05)
    return module


def _python(code: str):
    return lambda: subprocess.Popen([sys.executable, "-c", code], start_new_session=True)


def _drive(serve, children, stopping, timeout=30):
    result = {}
    thread = threading.Thread(target=lambda: result.update(ok=serve.supervise(children, stopping)), daemon=True)
    thread.start()
    return thread, result


def test_a_crashed_child_is_restarted_with_a_log_line_while_the_other_keeps_running(serve, caplog):
    caplog.set_level(logging.INFO, "avocet.serve")
    crashing = serve.Child("worker", _python("raise SystemExit(3)"))
    steady = serve.Child("api", _python("import time; time.sleep(600)"))
    for child in (crashing, steady):
        child.launch()
    steady_pid, stopping = steady.process.pid, threading.Event()
    thread, result = _drive(serve, [crashing, steady], stopping)
    try:
        wait_until(lambda: crashing.restarts >= 2, 30, "two restarts of the crashing child")
        assert steady.process.pid == steady_pid and steady.process.poll() is None  # the rest keeps running
        line = r"worker exited \(code 3\) after \d+s; restarting it in 0.05s \(restart 1\); the rest keeps running"
        assert re.search(line, caplog.text)
    finally:
        stopping.set()
        thread.join(10)
        for child in (steady, crashing):
            child.stop(5)
    assert result == {"ok": True} and steady.process.poll() is not None


def test_a_child_that_dies_at_every_start_stops_the_supervisor(serve, caplog):
    broken = serve.Child("api", _python("raise SystemExit(1)"))
    broken.launch()
    thread, result = _drive(serve, [broken], threading.Event())
    thread.join(30)
    assert result == {"ok": False}
    assert broken.quick_exits == serve.MAX_QUICK_EXITS and "giving up" in caplog.text


def test_back_off_doubles_up_to_its_cap_and_resets_after_a_stable_run(serve, monkeypatch):
    monkeypatch.setattr(serve, "BACKOFF_S", 1.0)
    monkeypatch.setattr(serve, "QUICK_EXIT_S", 0.0)  # count no quick exits here: only the back-off is under test
    child = serve.Child("worker", _python("raise SystemExit(0)"))
    child.launch()
    delays = []
    for ran in (1, 1, 1, 1, 1, 1, 1, serve.STABLE_S + 1, 1):
        child.process.wait(10)
        assert child.check(child.started_at + ran)
        delays.append(child.restart_at - (child.started_at + ran))
        child.check(child.restart_at)  # the back-off is over: started again
    assert delays == [1, 2, 4, 8, 16, 30, 30, 1, 2]
