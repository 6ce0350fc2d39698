"""``qake openapi`` writes the document (JSON or YAML); ``qake routes`` shows security."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from qakeapi._cli import main
from tests.docs.openapi_check import checked

ROOT = Path(__file__).resolve().parents[2]
TARGET = "tests.docs.openapi_large_app:app"


def test_openapi_writes_the_json_document(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["openapi", TARGET]) == 0
    printed = json.loads(capsys.readouterr().out)
    checked(printed)
    assert len(printed["paths"]) > 100
    out = tmp_path / "openapi.json"
    assert main(["openapi", TARGET, "--output", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text(encoding="utf-8")) == printed


def test_openapi_writes_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "openapi.yaml"
    assert main(["openapi", TARGET, "--yaml", "-o", str(out)]) == 0
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    checked(document)
    assert list(document) == ["openapi", "info", "paths", "components"]


def test_yaml_without_pyyaml_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setitem(sys.modules, "yaml", None)  # as if PyYAML were not installed
    with pytest.raises(SystemExit, match="needs PyYAML: pip install pyyaml"):
        main(["openapi", TARGET, "--yaml"])


def test_openapi_refuses_an_object_without_a_document(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit, match="not an ASGI app"):
        main(["openapi", "tests.docs.openapi_large_app:RESOURCES"])
    (tmp_path / "bare_core_app.py").write_text("from qake_core import App\napp = App()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SystemExit, match="no openapi"):
        main(["openapi", "bare_core_app:app"])


def test_routes_prints_methods_paths_names_and_security(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["routes", TARGET]) == 0
    rows = {
        tuple(line.split()[:2]): line.split()[2:] for line in capsys.readouterr().out.splitlines()
    }
    assert rows[("POST", "/r0/items")] == ["create_item_0", "OAuth2PasswordBearer[write]"]
    assert rows[("DELETE", "/r3/items/{item_id:int}")] == [
        "delete_item_3",
        "OAuth2PasswordBearer[write,read]",
    ]
    assert rows[("GET", "/r0/owners/{owner_id:uuid}")] == ["read_owner_0", "APIKeyHeader"]
    assert rows[("GET", "/r0/search")] == ["search_0", "-"]
    assert rows[("GET", "/openapi.json")] == ["openapi", "-"]
