"""Every example ASGI app, as ``qake run`` imports it (its module's ``app``, configured by
its environment), survives qake-testing's security scanner with no finding: no 5xx, no
stack trace, no reflected unescaped payload, no missing security header, no CORS
mistake — on every operation of its OpenAPI document."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from qake_testing import assert_no_findings, scan

ROOT = Path(__file__).resolve().parents[2]

#: Each example module and the environment it is served with here: no secret (each
#: process makes a random one), databases in the test's temporary directory.
EXAMPLES: dict[str, dict[str, str]] = {
    "basic_app": {},
    "websocket_app": {},
    "auth_app": {"AUTH_APP_ADMIN_PASSWORD": "an admin password"},
    "db_app": {"DB_APP_SQLITE": "{tmp}/books.sqlite3"},
    # a short /events stream: the scanner reads each response to its end
    "fullstack_app": {"FULLSTACK_APP_STREAM_SECONDS": "0.05"},
}
#: Variables the examples read, cleared so that the developer's own do not leak in.
PREFIXES = ("AUTH_APP_", "CHAT_APP_", "CHAT_REDIS_URL", "DB_APP_", "FULLSTACK_APP_")


def load(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> object:
    """``examples.<name>:app``, imported afresh with the example's environment."""
    import os

    for variable in list(os.environ):
        if variable.startswith(PREFIXES):
            monkeypatch.delenv(variable)
    for variable, value in EXAMPLES[name].items():
        monkeypatch.setenv(variable, value.format(tmp=tmp_path))
    monkeypatch.chdir(tmp_path)  # no .env file of the developer's
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.delitem(sys.modules, f"examples.{name}", raising=False)
    module = importlib.import_module(f"examples.{name}")
    return module.app


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_scanner_finds_nothing_in_the_example(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = load(name, monkeypatch, tmp_path)
    report = scan(app)
    assert report.findings == [], report.summary()
    assert report.operations, f"{name}: the scanner found no operation to attack"
    assert report.requests > 10 * len(report.operations)


def test_every_example_app_is_scanned() -> None:
    """A new example module with an ``app`` is added to ``EXAMPLES`` (and so scanned)."""
    served = {
        path.stem
        for path in (ROOT / "examples").glob("*.py")
        if "\napp = " in path.read_text() or "\napp: " in path.read_text()
    }
    assert served == set(EXAMPLES)


def test_strict_headers_on_the_pages_of_the_browser_examples(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The examples that serve HTML send qake-security's whole page set on them."""
    for name in ("auth_app", "fullstack_app", "websocket_app"):
        app = load(name, monkeypatch, tmp_path)
        assert_no_findings(app, [("GET", "/", [])], check_headers="strict", max_payloads=3)
