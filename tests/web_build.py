"""The web view's Node set-up for the tests that need it (Vitest, the generated-types check, the e2e build): one
`npm ci` when web/node_modules is missing or older than the lock file, one `npm run build` when web/dist is older
than its sources. Both run under a file lock, since pytest-xdist runs those tests in parallel processes and two
`npm ci` in one folder delete each other's files."""

import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock

WEB = Path(__file__).resolve().parents[1] / "web"
BUILD_INPUTS = ("src", "index.html", "package-lock.json", "vite.config.ts", "bundle-budget.ts")
LOCK = FileLock(str(WEB / ".test-npm.lock"))


def npm() -> str:
    path = shutil.which("npm")
    if path is None:
        pytest.fail("npm is not on PATH: install Node.js 20.19+ (with npm) to run the web view's tests")
    return path


def run(args: list[str], timeout: float, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=WEB, env=env, capture_output=True, text=True, timeout=timeout)


def ensure_node_modules() -> None:
    with LOCK:
        marker = WEB / "node_modules" / ".package-lock.json"
        if marker.exists() and marker.stat().st_mtime >= (WEB / "package-lock.json").stat().st_mtime:
            return
        proc = run([npm(), "ci", "--no-audit", "--no-fund"], timeout=600)
        assert proc.returncode == 0, f"npm ci failed in web/:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def ensure_dist() -> Path:
    """web/dist built from the current sources."""
    ensure_node_modules()
    with LOCK:
        index = WEB / "dist" / "index.html"
        if not index.exists() or index.stat().st_mtime < _newest_mtime(WEB / p for p in BUILD_INPUTS):
            proc = run([npm(), "run", "build"], timeout=600)
            assert proc.returncode == 0, f"npm run build failed in web/:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return WEB / "dist"


def _newest_mtime(paths) -> float:
    newest = 0.0
    for path in paths:
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest
