"""The ``qake`` command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

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


def test_run_passes_the_websocket_options_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    monkeypatch.chdir(ROOT)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    argv = ["run", "examples.basic_app:app", "--ws", "wsproto", "--ws-max-size", "65536"]
    assert main([*argv, "--ws-ping-interval", "5", "--ws-ping-timeout", "7"]) == 0
    assert (seen["ws"], seen["ws_max_size"]) == ("wsproto", 65536)
    assert (seen["ws_ping_interval"], seen["ws_ping_timeout"]) == (5.0, 7.0)
    main(["run", "examples.basic_app:app"])
    assert (seen["ws"], seen["ws_max_size"]) == ("auto", 16 * 1024 * 1024)
