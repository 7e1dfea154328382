"""The web view's Vitest suite (web/, `npm run test:unit`), run from pytest so `.venv/bin/pytest` covers it.

Installs web/node_modules with `npm ci` first when it is missing or older than web/package-lock.json.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # npm ci and Vitest in Node, about a minute

WEB = Path(__file__).resolve().parents[1] / "web"


def npm() -> str:
    path = shutil.which("npm")
    if path is None:
        pytest.fail("npm is not on PATH: install Node.js 20.19+ (with npm) to run the web view's tests")
    return path


def ensure_node_modules() -> None:
    """`npm ci` when node_modules is absent or older than the lock file."""
    marker = WEB / "node_modules" / ".package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= (WEB / "package-lock.json").stat().st_mtime:
        return
    proc = subprocess.run(
        [npm(), "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True, text=True, timeout=600
    )  # fmt: skip
    assert proc.returncode == 0, f"npm ci failed in web/:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def test_vitest_suite_passes():
    ensure_node_modules()
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    proc = subprocess.run(
        [npm(), "run", "test:unit"], cwd=WEB, env=env, capture_output=True, text=True, timeout=300
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"Vitest failed (cd web && npm run test:unit):\n{output[-6000:]}"
    counts = re.search(r"Tests\s+(\d+) passed", output)
    assert counts and int(counts.group(1)) > 0, f"Vitest ran no test:\n{output[-3000:]}"
