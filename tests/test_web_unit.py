"""The web view's Vitest suite (web/, `npm run test:unit`), run from pytest so `.venv/bin/pytest` covers it.

Installs web/node_modules with `npm ci` first when it is missing or older than web/package-lock.json.
"""

import os
import re

import pytest
from web_build import ensure_node_modules, npm, run

pytestmark = pytest.mark.integration  # npm ci and Vitest in Node, about a minute


def test_vitest_suite_passes():
    ensure_node_modules()
    env = {**os.environ, "CI": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}
    proc = run([npm(), "run", "test:unit"], timeout=300, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"Vitest failed (cd web && npm run test:unit):\n{output[-6000:]}"
    counts = re.search(r"Tests\s+(\d+) passed", output)
    assert counts and int(counts.group(1)) > 0, f"Vitest ran no test:\n{output[-3000:]}"
