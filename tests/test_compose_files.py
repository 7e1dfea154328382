"""The compose files and the image, checked without Docker: what the API and the worker must share, what each may
write, and what the image must carry (the day-one defects of the GPU box: issue 18). `docker compose config -q` also
validates the files where the Compose plugin exists; scripts/compose-check runs the stack for real."""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BASE, CPU = REPO / "docker-compose.yml", REPO / "docker-compose.cpu.yml"
CHECK = REPO / "scripts" / "compose_check" / "compose.check.yml"
APP_SERVICES = ("api", "worker", "flower", "pull")


class _ComposeLoader(yaml.SafeLoader):
    """Reads Compose's `!reset` tag (an override's "remove this") as the marker RESET."""


RESET = object()
_ComposeLoader.add_constructor("!reset", lambda loader, node: RESET)


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_ComposeLoader)


def _mounts(service: dict) -> dict[str, str]:
    """target -> "source" or "source:ro" for the short volume syntax."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target, *mode = entry.split(":")
        mounts[target] = source + (":ro" if mode == ["ro"] else "")
    return mounts


def test_api_and_worker_share_redis_models_datasets_and_score_file():
    services = _load(BASE)["services"]
    api, worker = services["api"]["environment"], services["worker"]["environment"]
    for key in ("AVOCET_REDIS_URL", "AVOCET_MODELS_DIR", "AVOCET_DATA_DIR", "AVOCET_SCORE_FILE"):
        assert api[key] == worker[key], key
    api_mounts, worker_mounts = _mounts(services["api"]), _mounts(services["worker"])
    assert api_mounts[api["AVOCET_MODELS_DIR"]] == "models"  # read-write: rollback and delete write there
    assert api_mounts[api["AVOCET_DATA_DIR"]] == "datasets"  # read-write: uploads
    assert worker_mounts[worker["AVOCET_MODELS_DIR"]] == "models"  # read-write: publishing
    assert worker_mounts[worker["AVOCET_DATA_DIR"]] == "datasets:ro"
    assert all(not source.startswith((".", "/")) for source in [*api_mounts.values(), *worker_mounts.values()])


def test_every_service_of_the_image_can_build_it():
    services = _load(BASE)["services"]
    for name in APP_SERVICES:
        assert services[name]["image"] == "avocet:latest" and services[name]["build"] == ".", name


def test_the_cpu_override_drops_only_the_device_reservation_and_the_cuda_wheel():
    base, cpu = _load(BASE)["services"], _load(CPU)["services"]
    assert "devices" in str(base["worker"]["deploy"]) and cpu["worker"]["deploy"] is RESET
    assert set(cpu) == set(APP_SERVICES)
    for name in APP_SERVICES:
        assert cpu[name]["build"]["args"]["TORCH_INDEX_URL"].endswith("/cpu"), name
        assert set(cpu[name]) <= {"build", "deploy"}, name  # same services otherwise


def test_the_image_carries_every_package_and_runs_as_a_fixed_non_root_user():
    dockerfile = (REPO / "Dockerfile").read_text()
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package}/ {package}/" in dockerfile, f"the image lacks {package}/"
    assert "USER 10001" in dockerfile and "useradd --uid 10001" in dockerfile
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in dockerfile and "ARG NODE_IMAGE=node:22-slim" in dockerfile
    for folder in ("/models", "/data", "/cache/huggingface"):  # named volumes start out owned by the user
        assert folder in dockerfile.split("chown avocet:avocet", 1)[1].splitlines()[0], folder


def test_the_build_context_leaves_out_host_state():
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".venv", "models", "data", "web/node_modules", "web/dist", ".git"):
        assert entry in ignored, entry
    assert "!data/email_score.jsonl.example" in ignored  # the image's default score file


@pytest.mark.skipif(not shutil.which("docker"), reason="no docker CLI")
def test_docker_compose_config_accepts_every_combination():
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no Compose v2 plugin; the YAML checks above still ran")
    for files in ([BASE], [BASE, CPU], [BASE, CPU, CHECK]):
        argv = ["docker", "compose", "--project-directory", str(REPO)]
        for path in files:
            argv += ["-f", str(path)]
        done = subprocess.run([*argv, "config", "-q"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{[p.name for p in files]}: {done.stderr}"
