"""README's worker command run twice (issue 16, item 8): the second worker under the same name is refused at start
with a clear message and exits, and the live worker keeps its place (and any running job)."""

import subprocess

import pytest
from service_helpers import REPO, VENV_BIN, wait_until

pytestmark = pytest.mark.integration


def test_a_second_worker_under_a_live_name_is_refused(live_stack):
    node = next(iter(live_stack.health()["workers"]))
    argv = [str(VENV_BIN / "celery"), "-A", "worker.queue.app", "worker", "-Q", "gpu", "--concurrency", "1",
            "--prefetch-multiplier", "1", "-n", node]  # fmt: skip
    second = subprocess.run(argv, cwd=REPO, env=live_stack.env, capture_output=True, text=True, timeout=120)
    output = second.stdout + second.stderr
    assert second.returncode != 0, output[-2000:]
    assert f"a worker named {node} is already running" in output and "-n" in output
    assert "Traceback" not in output, output[-2000:]
    wait_until(lambda: node in live_stack.health().get("workers", []), 30, "the live worker to stay online")
