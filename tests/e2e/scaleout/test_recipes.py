"""The deployment recipes name only things that exist (issue 18), without Docker:
``examples/Dockerfile`` (the paths it copies, one wheel per package of the monorepo with
extras that package declares, the default app, ``qake run``'s options) and the gunicorn
command of ``docs/deployment-scale.md`` (the one ``test_gunicorn.py`` runs)."""

from __future__ import annotations

import importlib
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = [pytest.mark.scaleout]

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "examples" / "Dockerfile"
DOC = ROOT / "docs" / "deployment-scale.md"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    lines = [x for x in DOCKERFILE.read_text().splitlines() if not x.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _packages() -> dict[str, dict[str, object]]:
    """Each package's wheel name (``qake_core``) → its ``[project]`` table."""
    projects = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        projects[project["name"].replace("-", "_")] = project
    return projects


def test_dockerfile_copies_existing_paths_and_builds_every_wheel() -> None:
    steps = _instructions()
    copies = [args.split() for word, args in steps if word == "COPY"]
    assert copies
    for args in copies:
        if any(a.startswith("--from") for a in args):
            continue
        *sources, _dest = args
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "for pkg in packages/*/" in runs
    assert "hatch build -t wheel /wheels" in runs


def test_dockerfile_installs_one_wheel_per_package_with_declared_extras() -> None:
    runs = " ".join(args for word, args in _instructions() if word == "RUN")
    wanted = re.findall(r"\./\$\(echo ([a-z_]+)-\*\.whl\)(?:\[([a-z0-9_,-]+)\])?", runs)
    packages = _packages()
    assert sorted(name for name, _ in wanted) == sorted(packages)
    for name, extras in wanted:
        declared = packages[name].get("optional-dependencies", {})
        assert isinstance(declared, dict)
        for extra in filter(None, extras.split(",")):
            assert extra in declared, f"{name} has no extra {extra!r}"


def test_dockerfile_serves_an_existing_app_with_qake_run_options() -> None:
    steps = _instructions()
    env = dict(
        pair.split("=", 1)
        for word, args in steps
        if word == "ENV"
        for pair in shlex.split(args)
        if "=" in pair
    )
    module, _, attribute = env["APP"].partition(":")
    app = getattr(importlib.import_module(module), attribute)
    assert callable(app)
    assert int(env["WORKERS"]) >= 2
    assert int(env["PORT"]) > 0
    (cmd,) = [args for word, args in steps if word == "CMD"]
    shell = " ".join(shlex.split(cmd))
    assert 'exec qake run "$APP" --host 0.0.0.0 --port "$PORT" --workers "$WORKERS"' in shell
    scripts = _packages()["qakeapi"]["scripts"]
    assert isinstance(scripts, dict)
    assert scripts["qake"] == "qakeapi._cli:main"
    help_text = subprocess.run(
        [sys.executable, "-m", "qakeapi", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    for option in ("--host", "--port", "--workers"):
        assert option in help_text


def test_dockerignore_keeps_the_sources_in_the_context() -> None:
    ignore = (ROOT / "examples" / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [r.strip() for r in ignore if r.strip() and not r.startswith("#")]
    assert "!packages/" in rules
    assert "!examples/" in rules


def test_documented_gunicorn_command_is_the_tested_one() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", DOC.read_text(), re.DOTALL)
    lines = [x for block in blocks for x in block.splitlines()]
    commands = [x for x in lines if x.startswith("gunicorn ")]
    assert commands, "docs/deployment-scale.md shows no gunicorn command"
    args = shlex.split(commands[0])
    assert args[1] == "examples.basic_app:app"
    assert args[args.index("--worker-class") + 1] == "uvicorn_worker.UvicornWorker"
    worker_class = pytest.importorskip("uvicorn_worker").UvicornWorker
    assert worker_class.__name__ == "UvicornWorker"
    tested = (Path(__file__).parent / "test_gunicorn.py").read_text()
    for option in ("--worker-class", "uvicorn_worker.UvicornWorker", "--graceful-timeout"):
        assert option in args
        assert f'"{option}"' in tested
