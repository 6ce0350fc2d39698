"""``qake new NAME`` (issue 19): a project that runs and passes its own tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qakeapi._scaffold import command, module_name, project_files


def test_a_new_project_passes_its_own_tests(tmp_path: Path) -> None:
    assert command("my-shop", tmp_path / "my-shop") == 0
    project = tmp_path / "my-shop"
    assert sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()) == [
        ".gitignore",
        "README.md",
        "my_shop/__init__.py",
        "my_shop/app.py",
        "my_shop/settings.py",
        "pyproject.toml",
        "tests/test_app.py",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_the_new_app_serves_its_docs(tmp_path: Path) -> None:
    command("inventory", tmp_path / "inventory")
    sys.path.insert(0, str(tmp_path / "inventory"))
    try:
        from inventory.app import app  # type: ignore[import-not-found]

        from qakeapi.testing import TestClient

        client = TestClient(app)
        assert client.get("/docs").status_code == 200
        assert "/items/{item_id}" in client.get("/openapi.json").json()["paths"]
    finally:
        sys.path.remove(str(tmp_path / "inventory"))
        for name in [m for m in sys.modules if m == "inventory" or m.startswith("inventory.")]:
            del sys.modules[name]


def test_the_new_app_reads_its_typed_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command("cellar", tmp_path / "cellar")
    settings_py = (tmp_path / "cellar" / "cellar" / "settings.py").read_text()
    assert "from qakeapi import Settings, SettingsConfigDict" in settings_py
    assert 'env_prefix="CELLAR_"' in settings_py
    monkeypatch.syspath_prepend(str(tmp_path / "cellar"))
    try:
        from cellar.app import app  # type: ignore[import-not-found]
        from cellar.settings import AppSettings  # type: ignore[import-not-found]

        from qakeapi.testing import LifespanError, TestClient

        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("CELLAR_MAX_ITEMS", "1")
        AppSettings.cache_clear()
        with TestClient(app) as client:  # preload: read at startup
            assert client.post("/items", json={"name": "a", "price": 1}).status_code == 201
            full = client.post("/items", json={"name": "b", "price": 1})
            assert full.status_code == 409
            assert full.json()["detail"] == "cellar holds at most 1 items"
        # An invalid value stops the start (AppSettings.preload), naming the variable.
        monkeypatch.setenv("CELLAR_MAX_ITEMS", "lots")
        AppSettings.cache_clear()
        with pytest.raises(LifespanError, match="CELLAR_MAX_ITEMS"), TestClient(app):
            pass
        AppSettings.cache_clear()
    finally:
        for name in [m for m in sys.modules if m == "cellar" or m.startswith("cellar.")]:
            del sys.modules[name]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1shop", "not a project name"),
        ("my shop", "not a project name"),
        ("class", "Python keyword or an existing module"),
        ("json", "Python keyword or an existing module"),
        ("qakeapi", "Python keyword or an existing module"),
    ],
)
def test_bad_names_are_refused(
    name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command(name, tmp_path / "x") == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_an_existing_directory_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "keep.txt").write_text("mine")
    assert command("shop", tmp_path / "shop") == 2
    assert "exists and is not an empty directory" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "shop").iterdir()] == ["keep.txt"]


def test_names_become_modules() -> None:
    assert module_name("My-Shop") == "my_shop"
    assert "my_shop/app.py" in project_files("My-Shop")
    assert 'env_prefix="MY_SHOP_"' in project_files("My-Shop")["my_shop/settings.py"]
