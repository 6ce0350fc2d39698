"""Issue 18: ``qake run --log-json`` and ``--log-level``: a real server whose standard
output is JSON lines only (uvicorn's records, qakeapi's and the app's own), at the level
asked; without either option the app's loggers are left as they are."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from qake_server import free_port

from qakeapi._cli import logging_config, main

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.qakeapi.logging_app:app"


@contextmanager
def serving(tmp_path: Path, *options: str, app: str = APP, ready: str = "/ready") -> Iterator[str]:
    """``qake run APP OPTIONS`` with its standard output and error kept apart."""
    port = free_port()
    command = [sys.executable, "-m", "qakeapi", "run", app, "--port", str(port), *options]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (tmp_path / "stdout").open("wb") as out, (tmp_path / "stderr").open("wb") as err:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + ready, timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"qake run did not start:\n{(tmp_path / 'stderr').read_text()}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()  # a graceful shutdown: its records are in the output too
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
            raise


def json_lines(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "stdout").read_text().splitlines()
    assert lines
    return [orjson.loads(line) for line in lines]  # every line, or the test fails here


@pytest.mark.e2e
def test_log_json_writes_every_record_as_one_json_line(tmp_path: Path) -> None:
    with serving(tmp_path, "--log-json", "--log-level", "debug", "--no-access-log") as base:
        assert httpx.get(base + "/orders/7", headers={"x-request-id": "rid-7"}).status_code == 200
        boom = httpx.get(base + "/boom", headers={"x-request-id": "rid-boom"})
    assert boom.status_code == 500
    assert "4111" not in boom.text
    assert "Traceback" not in boom.text
    entries = json_lines(tmp_path)
    by_logger: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        by_logger.setdefault(entry["logger"], []).append(entry)
    # uvicorn's own records.
    assert any("Application startup complete" in e["message"] for e in by_logger["uvicorn.error"])
    assert "uvicorn.access" not in by_logger  # --no-access-log: the app logs its own
    # The app's own logger, INFO and (at --log-level debug) DEBUG, with the request ID.
    info, debug = by_logger["logging_app"]
    assert (info["level"], info["message"], info["order_id"]) == ("INFO", "order 7 looked up", 7)
    assert info["request_id"] == "rid-7"
    assert (debug["level"], debug["request_id"]) == ("DEBUG", "rid-7")
    # qake-core's access line: one per request, with the route template.
    access = {e["http_path"]: e for e in by_logger["qake.access"]}
    assert access["/orders/7"]["http_route"] == "/orders/{order_id:int}"
    assert (access["/orders/7"]["http_status"], access["/orders/7"]["request_id"]) == (200, "rid-7")
    assert access["/boom"]["http_status"] == 500
    assert access["/orders/7"]["client"].startswith("127.0.0.1:")
    # The error: once, with its type and traceback, in the log only.
    (error,) = by_logger["qake.error"]
    assert (error["level"], error["request_id"], error["exc_type"]) == (
        "ERROR",
        "rid-boom",
        "RuntimeError",
    )
    assert 'raise RuntimeError("card number' in error["traceback"]
    # Standard error has qake's own notice, and no log record.
    assert "qake: serving HTTP/1.1" in (tmp_path / "stderr").read_text()
    assert "Traceback" not in (tmp_path / "stderr").read_text()


@pytest.mark.e2e
def test_log_json_at_the_default_level_with_uvicorns_access_lines(tmp_path: Path) -> None:
    with serving(tmp_path, "--log-json") as base:
        assert httpx.get(base + "/orders/8?x=1").status_code == 200
    entries = json_lines(tmp_path)
    assert not [e for e in entries if e["level"] == "DEBUG"]  # info by default
    (uvicorn_access,) = [
        e for e in entries if e["logger"] == "uvicorn.access" and e["http_path"] != "/ready"
    ]
    assert (uvicorn_access["http_method"], uvicorn_access["http_path"]) == ("GET", "/orders/8?x=1")
    assert uvicorn_access["http_status"] == 200
    assert [e["message"] for e in entries if e["logger"] == "logging_app"] == ["order 8 looked up"]


def run_options(monkeypatch: pytest.MonkeyPatch, *argv: str) -> dict[str, Any]:
    """The uvicorn options ``qake run`` serves with (through ``qakeapi._drain.serve``)."""
    from qakeapi import _drain

    monkeypatch.chdir(ROOT)
    seen: dict[str, Any] = {}

    def serve(app: Any, *, drain_seconds: float = 0.0, **options: Any) -> int:
        seen.update(options)
        return 0

    monkeypatch.setattr(_drain, "serve", serve)
    assert main(["run", "examples.basic_app:app", *argv]) == 0
    return seen


def test_the_apps_loggers_print_at_info_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: under a plain ``qake run`` the app's own INFO lines (a background
    task's) are printed: uvicorn's configuration plus the root logger on its handler."""
    plain = run_options(monkeypatch)
    assert plain["log_config"] == logging_config("info")
    assert plain["log_config"]["root"] == {"handlers": ["default"], "level": logging.INFO}
    assert (plain["log_level"], plain["access_log"]) == ("info", True)
    text = run_options(monkeypatch, "--log-level", "warning")
    assert text["log_level"] == "warning"
    assert text["log_config"] == logging_config("warning")
    assert text["log_config"]["root"] == {"handlers": ["default"], "level": logging.WARNING}
    assert run_options(monkeypatch, "--no-access-log")["access_log"] is False


def test_the_json_configuration_sends_everything_to_standard_output() -> None:
    config = logging_config("trace", json_lines=True)
    assert config["formatters"]["json"] == {"()": "qake_core.JSONFormatter"}
    assert config["handlers"]["json"]["stream"] == "ext://sys.stdout"
    assert config["root"] == {"handlers": ["json"], "level": 5}  # uvicorn's TRACE
    assert config["loggers"]["uvicorn"]["propagate"] is False  # once, not twice


@pytest.mark.e2e
def test_a_plain_qake_run_prints_the_apps_own_log_lines(tmp_path: Path) -> None:
    """Issue 19: the basic example's background task logs ``audit: created item N`` at
    INFO; a plain ``qake run`` (no logging option) prints it."""
    with serving(tmp_path, app="examples.basic_app:app", ready="/openapi.json") as base:
        created = httpx.post(base + "/items", json={"name": "saw", "price": 12.5})
        assert created.status_code == 201
        deadline = time.monotonic() + 10
        wanted = f"audit: created item {created.json()['id']}"
        while wanted not in (tmp_path / "stderr").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert wanted in (tmp_path / "stderr").read_text()
