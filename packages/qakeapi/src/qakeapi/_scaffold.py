"""``qake new NAME``: a new project that runs and passes its own tests out of the box.

The project: a package ``NAME`` with its typed settings (``NAME/settings.py``: a
``qakeapi.Settings`` read from ``NAME_*`` environment variables, a ``.env`` file or
``/run/secrets``), the app (``NAME/app.py``: a typed route, a body model, an error, a
health route, the settings injected as a dependency), its tests (``tests/test_app.py``,
qakeapi's test client, one of them overriding the settings), a ``pyproject.toml``
(hatchling, with a hatch test environment) and a README with the commands. Nothing is
written when the target exists and is not empty. The tutorial's first chapter
(``docs/tutorial/01-first-app.md``) shows these files for ``qake new shop``.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path

__all__ = ["command", "module_name", "project_files"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def module_name(name: str) -> str:
    """The package name of project ``name`` (``my-shop`` → ``my_shop``), or a
    ``ValueError`` saying what a name may hold."""
    if not _NAME.match(name):
        raise ValueError(
            f"{name!r} is not a project name: use letters, digits, '-' and '_', "
            "starting with a letter (e.g. my-shop)"
        )
    module = name.replace("-", "_").lower()
    if keyword.iskeyword(module) or module in sys.stdlib_module_names or module == "qakeapi":
        raise ValueError(
            f"{name!r} would be imported as {module!r}, which is a Python keyword or an "
            "existing module; choose another name"
        )
    return module


_SETTINGS = '''"""{name}'s settings: typed, read from the environment when the app starts.

Each field is read from an environment variable named {prefix}<FIELD> (upper or lower
case), else from a line of a .env file in the working directory, else from a file of
that name in /run/secrets, else it takes its default. See qakeapi's docs/settings.md.
"""

from qakeapi import Settings, SettingsConfigDict


class AppSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="{prefix}")

    #: {prefix}MAX_ITEMS: how many items the app keeps at most.
    max_items: int = 1000
'''

_APP = '''"""{name}: a qakeapi app."""

from typing import Annotated

from pydantic import BaseModel

from qakeapi import Depends, HTTPException, QakeAPI
from {module}.settings import AppSettings

#: The settings as a dependency: a handler asks for them by type; tests override them.
Config = Annotated[AppSettings, Depends(AppSettings.dependency())]

app = QakeAPI(title="{name}", version="0.1.0")
AppSettings.preload(app)  # an invalid {prefix}* variable stops the start, not a request


class ItemIn(BaseModel):
    name: str
    price: float


class Item(ItemIn):
    id: int


ITEMS: dict[int, Item] = {{}}


@app.get("/health")
async def health() -> dict[str, str]:
    return {{"status": "ok"}}


@app.post("/items", status_code=201)
async def create_item(item: ItemIn, settings: Config) -> Item:
    if len(ITEMS) >= settings.max_items:
        raise HTTPException(409, f"{name} holds at most {{settings.max_items}} items")
    created = Item(id=len(ITEMS) + 1, **item.model_dump())
    ITEMS[created.id] = created
    return created


@app.get("/items/{{item_id}}")
async def read_item(item_id: int) -> Item:
    if item_id not in ITEMS:
        raise HTTPException(404, f"no item {{item_id}}")
    return ITEMS[item_id]
'''

_TESTS = '''"""{name}'s tests: run them with ``python -m pytest`` (or ``hatch test``)."""

from qakeapi.testing import TestClient

from {module}.app import app
from {module}.settings import AppSettings

client = TestClient(app)


def test_health() -> None:
    assert client.get("/health").json() == {{"status": "ok"}}


def test_create_then_read() -> None:
    created = client.post("/items", json={{"name": "hammer", "price": 9.5}})
    assert created.status_code == 201
    item = created.json()
    assert client.get(f"/items/{{item['id']}}").json() == item


def test_invalid_input_is_a_422_problem() -> None:
    answer = client.post("/items", json={{"name": "saw"}})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"] == ["body", "price"]


def test_unknown_item_is_a_404_problem() -> None:
    answer = client.get("/items/999")
    assert answer.status_code == 404
    assert answer.json()["detail"] == "no item 999"


def test_settings_are_overridden_in_tests() -> None:
    full = AppSettings.load(max_items=0)  # explicit values win over the environment
    app.dependency_overrides[AppSettings.dependency()] = lambda: full
    try:
        answer = client.post("/items", json={{"name": "saw", "price": 12.0}})
    finally:
        app.dependency_overrides.clear()
    assert answer.status_code == 409
    assert answer.json()["detail"] == "{name} holds at most 0 items"
'''

_PYPROJECT = """[build-system]
requires = ["hatchling>=1.27"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11"
# qakeapi is installed from its repository or its wheels (the name qakeapi on PyPI
# belongs to an unrelated project until this one is published).
dependencies = ["qakeapi>=0.1,<0.2"]

[project.optional-dependencies]
test = ["pytest>=8", "httpx>=0.27"]

[tool.hatch.build.targets.wheel]
packages = ["{module}"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
"""

_README = """# {name}

A qakeapi app. In an environment where qakeapi is installed:

```bash
qake run {module}.app:app --reload    # http://127.0.0.1:8000, docs at /docs
pip install pytest && python -m pytest  # its tests
```

Settings (`{module}/settings.py`) come from `{prefix}*` environment variables or a `.env`
file: `{prefix}MAX_ITEMS=10 qake run {module}.app:app`.
"""

_GITIGNORE = "__pycache__/\n*.py[cod]\n.venv/\n.env\n*.db\n"


def project_files(name: str) -> dict[str, str]:
    """The files of project ``name``, by path relative to its directory."""
    module = module_name(name)
    fill = {"name": name, "module": module, "prefix": module.upper() + "_"}
    return {
        f"{module}/__init__.py": f'"""{name}."""\n',
        f"{module}/settings.py": _SETTINGS.format(**fill),
        f"{module}/app.py": _APP.format(**fill),
        "tests/test_app.py": _TESTS.format(**fill),
        "pyproject.toml": _PYPROJECT.format(**fill),
        "README.md": _README.format(**fill),
        ".gitignore": _GITIGNORE,
    }


def command(name: str, directory: Path | None = None) -> int:
    """``qake new``: write the project into ``directory`` (default ``./NAME``); 0 when
    written, 2 for a bad name or a directory that exists and is not empty."""
    try:
        files = project_files(name)
    except ValueError as exc:
        print(f"qake new: {exc}", file=sys.stderr)
        return 2
    target = directory if directory is not None else Path(name)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(
            f"qake new: {target} exists and is not an empty directory; choose another "
            "name or --dir",
            file=sys.stderr,
        )
        return 2
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"qake new: wrote {path}")
    module = module_name(name)
    print(
        f"qake new: done. cd {target} && qake run {module}.app:app --reload "
        "(and python -m pytest for its tests)"
    )
    return 0
