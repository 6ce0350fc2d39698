"""The tutorial (docs/tutorial/) is the test of itself: run_tutorial.py follows it.

The fast tests check how the runner reads the pages and what the pages hold (they run
in the normal suite); ``test_the_tutorial_runs`` (marker ``tutorial``) runs the whole
tutorial in a fresh virtual environment, as ``.ci/run`` does.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from qakeapi._scaffold import project_files as scaffold_files

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def _load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_tutorial", HERE / "run_tutorial.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_tutorial"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


runner = _load_runner()
CHAPTERS = runner.load_chapters()
NUMBERED = [chapter for chapter in CHAPTERS if re.match(r"\d\d-", chapter.name)]


# -- the runner's reading of a page ------------------------------------------------------

PAGE = """# A page

```python title="shop/app.py"
app = 1
```

```bash title="run"
qake new shop
cd shop
```

```bash
qake run shop.app:app --reload
```

<!-- snippet: skip: a fragment -->
```python
not run
```

```python hl_lines="2" title="tests/test_app.py" linenums="1"
def test() -> None:
    assert True
```

   ```toml title="pyproject.toml"
   [project]
   name = "shop"
   ```

````markdown title="README.md"
```bash
nested
```
````
"""


def test_blocks_are_files_commands_or_shown() -> None:
    blocks = runner.parse_blocks(PAGE, "page.md")
    assert [(block.kind, block.title, block.lang) for block in blocks] == [
        ("file", "shop/app.py", "python"),
        ("run", "run", "bash"),
        ("show", None, "bash"),
        ("show", None, "python"),
        ("file", "tests/test_app.py", "python"),
        ("file", "pyproject.toml", "toml"),
        ("file", "README.md", "markdown"),
    ]
    assert blocks[0].text == "app = 1\n"
    assert blocks[1].text == "qake new shop\ncd shop\n"
    assert blocks[3].skip == "a fragment"
    assert blocks[5].text == '[project]\nname = "shop"\n'  # the list indent is removed
    assert blocks[6].text == "```bash\nnested\n```\n"  # a longer fence holds a shorter one
    assert [block.line for block in blocks] == [3, 7, 12, 17, 21, 26, 31]


def test_a_skip_marker_applies_to_the_next_block_only() -> None:
    page = '<!-- snippet: skip: shown -->\n\n```python title="a.py"\nx = 1\n```\n\n'
    page += '```python title="b.py"\ny = 2\n```\n'
    first, second = runner.parse_blocks(page)
    assert (first.kind, first.skip) == ("show", "shown")
    assert (second.kind, second.skip) == ("file", None)


def test_the_last_version_of_each_file_wins() -> None:
    page = '```python title="a.py"\nv = 1\n```\n\n```python title="a.py"\nv = 2\n```\n'
    chapter = runner.Chapter(Path("x.md"), runner.parse_blocks(page))
    assert runner.project_files([chapter]) == {"a.py": "v = 2\n"}


# -- the pages ---------------------------------------------------------------------------


def test_the_chapters_are_those_of_the_nav() -> None:
    assert [chapter.name for chapter in CHAPTERS] == [
        "index.md",
        "01-first-app.md",
        "02-typed-handlers.md",
        "03-dependencies.md",
        "04-errors.md",
        "05-tests.md",
        "06-database.md",
        "07-security.md",
        "08-websockets.md",
        "09-docs-pages.md",
        "10-deployment.md",
    ]


@pytest.mark.parametrize("chapter", NUMBERED, ids=lambda chapter: chapter.name)
def test_every_chapter_writes_files(chapter: runner.Chapter) -> None:
    files = [block for block in chapter.blocks if block.kind == "file"]
    assert files, f"{chapter.name} has no titled file block"
    for block in files:
        assert not block.title.startswith(("/", "..")), block.where()
        if block.title.endswith(".py"):
            compile(block.text, block.where(), "exec")  # a whole file, not a fragment


def test_every_python_block_is_a_file_or_skipped() -> None:
    for chapter in CHAPTERS:
        for block in chapter.blocks:
            if block.lang == "python":
                assert block.kind == "file" or block.skip, f"{block.where()}: untitled python"


def test_commands_are_bash_and_the_first_ones_install_then_create_the_project() -> None:
    commands = [block for chapter in CHAPTERS for block in chapter.blocks if block.kind == "run"]
    assert {block.lang for block in commands} == {"bash"}
    install, create = commands[0].text, commands[1].text
    assert install.startswith("python -m venv .venv\n")
    # Every package of the repository, from the clone, as the README installs them.
    for package in sorted(p.parent.name for p in ROOT.glob("packages/*/pyproject.toml")):
        assert f"./qakeapi/packages/{package}" in install, package
    assert '"./qakeapi/packages/qakeapi[standard]"' in install
    assert create.splitlines()[:2] == ["qake new shop", "cd shop"]


def test_chapter_one_shows_what_qake_new_writes() -> None:
    first = next(chapter for chapter in CHAPTERS if chapter.name == "01-first-app.md")
    generated = scaffold_files("shop")
    shown = runner.project_files([first])
    assert shown, "chapter 1 shows no file"
    for path, text in shown.items():
        assert generated[path] == text, f"{path} differs from what qake new shop writes"


def test_the_finished_project() -> None:
    files = runner.project_files(CHAPTERS)
    for path in (
        "shop/settings.py",
        "shop/app.py",
        "shop/db.py",
        "shop/auth.py",
        "shop/live.py",
        "tests/conftest.py",
        "Dockerfile",
    ):
        assert path in files, path
    assert "from qakeapi import Settings" in files["shop/settings.py"]
    assert "aiosqlite" in files["shop/db.py"]
    assert "@router.websocket(" in files["shop/live.py"]
    assert "RedisBroadcast" in files["shop/app.py"]
    assert "qake run shop.app:app" in files["Dockerfile"]
    tests = [path for path in files if path.startswith("tests/test_")]
    assert len(tests) >= 5, tests


# -- the whole run -----------------------------------------------------------------------


@pytest.mark.tutorial
def test_the_tutorial_runs(request: pytest.FixtureRequest) -> None:
    if "tutorial" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the whole tutorial runs in .ci/run; select it with -m tutorial")
    result = subprocess.run(
        [sys.executable, str(HERE / "run_tutorial.py")],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-8000:]
    assert "PASSED" in result.stdout
