"""The web view end to end: Playwright in Debian's headless Chromium against the real stack (Redis, a Celery
worker, the API serving web/dist), training the packaged MiniLM for one epoch on the example data.

web/e2e/finetune.spec.ts, in order: signing in on a second API that has a token (a wrong token, the right one, a lost
session mid-use, signing out); uploads
(a refused file's line-numbered errors, then the example file's rows, label chart, drops and preview; an unused
upload deleted after confirming); a fine-tune
from the form with an Advanced value, its curves growing live and rebuilt after a reload mid-run; the model page
(versions, per-class F1, confusion matrix, card); predicting one email and a pasted batch; a second run of the same
name and a rollback to version 1 (confirmed, by keyboard); two runs compared and the worker's benchmark followed;
the Review page (web/e2e/review.ts: a partly-unlabelled upload, a quick audit from the page whose issues table holds
the planted label error, a score job with the trained model whose label-next list ranks the unlabelled rows, each
table checked against its downloaded JSONL); version 2 and then the whole model deleted from the keyboard after
confirming.
Every page gets an axe scan (no serious or critical violation), a Tab walk (every control reached, focus visible),
a no-sideways-scroll check at 390 px and screenshots at 1440 and 390 px: test-artifacts/web-<page>-<width>.png.
"""

import os
import re
import secrets
from pathlib import Path

import pytest
from service_helpers import new_live_stack
from web_build import WEB, ensure_dist, npm, run

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
PAGES = ("sign-in", "data-upload-error", "data", "train-form", "train", "model", "models", "try", "rollback-dialog",
         "compare", "review-audit", "review-score")  # fmt: skip
SHOTS = [f"web-{page}-{width}.png" for page in PAGES for width in (1440, 390)]

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]


@pytest.fixture(scope="session")
def web_dist() -> Path:
    return ensure_dist()


@pytest.fixture(scope="module")
def token_api(tmp_path_factory):
    """An API with AVOCET_API_TOKEN set, on its own Redis (no worker: the sign-in test signs in, reads, signs out)."""
    token = f"e2e-{secrets.token_urlsafe(24)}"
    stack, server = new_live_stack(tmp_path_factory.mktemp("token-api"), api_token=token)
    try:
        stack.start_api()
        yield stack.base_url, token
    finally:
        stack.stop_all()
        server.stop()


def test_finetune_from_the_browser(web_dist, benchmarking_stack, token_api):
    live_stack = benchmarking_stack  # the page follows the benchmark the worker queues after a fine-tune
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)")
    ARTIFACTS.mkdir(exist_ok=True)
    for name in SHOTS:
        (ARTIFACTS / name).unlink(missing_ok=True)
    env = {
        **os.environ, "CI": "true", "NO_COLOR": "1", "CHROMIUM_PATH": str(CHROMIUM),
        "AVOCET_E2E_BASE_URL": live_stack.base_url, "AVOCET_E2E_ARTIFACTS": str(ARTIFACTS),
        "AVOCET_E2E_TOKEN_URL": token_api[0], "AVOCET_E2E_TOKEN": token_api[1],
    }  # fmt: skip
    proc = run([npm(), "run", "test:e2e"], timeout=1400, env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, (
        f"Playwright e2e failed (traces in web/test-results/):\n{output[-6000:]}\n"
        f"--- worker log ---\n{live_stack.log_tail('worker')}\n--- api log ---\n{live_stack.log_tail('api', 30)}"
    )
    passed = re.search(r"(\d+) passed", output)
    assert passed and int(passed.group(1)) >= 8 and " failed" not in output, output[-3000:]
    missing = [name for name in SHOTS if not (ARTIFACTS / name).exists()]
    assert not missing, f"the e2e did not leave these screenshots in {ARTIFACTS}: {', '.join(missing)}"
