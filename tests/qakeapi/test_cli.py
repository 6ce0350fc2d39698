"""The ``qake`` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from qakeapi._cli import load_app, main

ROOT = Path(__file__).resolve().parents[2]


def test_routes_lists_every_route(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["routes", "examples.basic_app:app"]) == 0
    out = capsys.readouterr().out
    assert "/items/{item_id:int}" in out
    assert "POST" in out


def test_load_app_reports_bad_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit, match="MODULE:ATTRIBUTE"):
        load_app("examples.basic_app")
    with pytest.raises(SystemExit, match="cannot import"):
        load_app("examples.no_such_module:app")
    with pytest.raises(SystemExit, match="has no attribute"):
        load_app("examples.basic_app:nope")


def test_python_dash_m_qakeapi_is_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qakeapi", "routes", "examples.basic_app:app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "/countdown" in result.stdout
