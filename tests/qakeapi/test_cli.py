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
    with pytest.raises(SystemExit, match=r"no module named 'examples\.no_such_module'"):
        load_app("examples.no_such_module:app")
    with pytest.raises(SystemExit, match="has no attribute 'nope'; it has app"):
        load_app("examples.basic_app:nope")
    with pytest.raises(SystemExit, match="is a function, not an ASGI app"):
        load_app("examples.basic_app:read_item")
    with pytest.raises(SystemExit, match="is a class, not an ASGI app"):
        load_app("examples.basic_app:Item")


def test_an_error_inside_the_module_is_reported_as_such(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_app.py").write_text("import no_such_dependency_here\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SystemExit, match="importing 'broken_app' failed: No module named"):
        load_app("broken_app:app")


@pytest.mark.parametrize(
    "argv", [[], ["run"], ["dev"], ["new"], ["routes"], ["openapi"], ["port-fastapi"]]
)
def test_help_of_qake_and_every_subcommand(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: qake")
    if not argv:
        for command in ("run", "dev", "new", "routes", "openapi", "port-fastapi"):
            assert command in out


def test_dev_is_run_with_reload_and_debug_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    from qakeapi import _drain

    monkeypatch.chdir(ROOT)
    seen: dict[str, Any] = {}

    def supervise(app: str, **options: Any) -> int:
        seen.update(app=app, **options)
        return 0

    monkeypatch.setattr(_drain, "supervise", supervise)
    assert main(["dev", "examples.basic_app:app", "--port", "8123"]) == 0
    assert seen["app"] == "examples.basic_app:app"  # an import string, to reload
    assert (seen["reload"], seen["log_level"], seen["port"]) == (True, "debug", 8123)
    assert seen["head_timeout"] == 10.0  # the deadline reaches the reloaded server too


def test_new_writes_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "demo-shop", "--dir", str(tmp_path / "demo")]) == 0
    assert (tmp_path / "demo" / "demo_shop" / "app.py").exists()
    assert "qake run demo_shop.app:app" in capsys.readouterr().out
    assert main(["new", "9lives"]) == 2


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
    from qakeapi import _drain

    monkeypatch.chdir(ROOT)
    seen: dict[str, Any] = {}

    def serve(app: Any, *, drain_seconds: float = 0.0, **options: Any) -> int:
        seen.update(options, drain_seconds=drain_seconds)
        return 0

    monkeypatch.setattr(_drain, "serve", serve)
    argv = ["run", "examples.basic_app:app", "--ws", "wsproto", "--ws-max-size", "65536"]
    assert main([*argv, "--ws-ping-interval", "5", "--ws-ping-timeout", "7"]) == 0
    assert (seen["ws"], seen["ws_max_size"]) == ("wsproto", 65536)
    assert (seen["ws_ping_interval"], seen["ws_ping_timeout"]) == (5.0, 7.0)
    main(["run", "examples.basic_app:app"])
    assert (seen["ws"], seen["ws_max_size"]) == ("auto", 16 * 1024 * 1024)
    assert seen["drain_seconds"] == 0.0
    main(["run", "examples.basic_app:app", "--drain-seconds", "2.5"])
    assert seen["drain_seconds"] == 2.5


def test_a_missing_setting_at_import_is_reported_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configured_app.py").write_text(
        "from qakeapi import QakeAPI, Settings\n"
        "class AppSettings(Settings):\n"
        "    cli_test_secret_key: str\n"
        "settings = AppSettings.load()\n"
        "app = QakeAPI()\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("CLI_TEST_SECRET_KEY", raising=False)
    with pytest.raises(
        SystemExit, match=r"(?s)qake: configured_app: .*CLI_TEST_SECRET_KEY: missing"
    ):
        load_app("configured_app:app")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "2", "--drain-seconds", "5"], "--drain-seconds needs a single worker"),
        (["--reload", "--drain-seconds", "5"], "--drain-seconds needs a single worker"),
        (["--workers", "0"], "argument --workers: '0': give 1 or more"),
        (["--drain-seconds", "-1"], "--drain-seconds: '-1': give a number of seconds, 0 or more"),
        (["--head-timeout", "nan"], "--head-timeout: 'nan': give a number of seconds, 0 or more"),
    ],
)
def test_run_refuses_options_that_cannot_work_together_or_at_all(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before anything is imported or served (exit status 2, the usage line and
    the reason), never silently ignored: a drain period needs the single-worker server."""
    with pytest.raises(SystemExit) as exit_:
        main(["run", "examples.basic_app:app", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
