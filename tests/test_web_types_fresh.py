"""The web view's generated API types and input rules (web/src/generated/) match the API's OpenAPI schema today.

scripts/gen-web-types writes them from `create_app().openapi()`; this test runs it into a temporary folder and
compares, so a change to a route or a pydantic model that the web relies on cannot land without its TypeScript.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from web_build import WEB, ensure_node_modules

pytestmark = pytest.mark.integration  # regenerates the web types with npm

REPO = WEB.parent
GENERATED = WEB / "src" / "generated"
FILES = ("openapi.json", "schema.d.ts", "rules.ts")


def test_generated_web_types_are_fresh(tmp_path: Path):
    ensure_node_modules()
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen-web-types"), str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, f"scripts/gen-web-types failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    stale = [
        name for name in FILES
        if not (GENERATED / name).exists()
        or (GENERATED / name).read_text(encoding="utf-8") != (tmp_path / name).read_text(encoding="utf-8")
    ]  # fmt: skip
    assert not stale, (
        f"{', '.join(f'web/src/generated/{name}' for name in stale)} no longer match the API's OpenAPI schema: "
        "run scripts/gen-web-types, then `npm run build` in web/ to see what the change breaks"
    )
