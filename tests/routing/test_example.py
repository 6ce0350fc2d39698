import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "router_standalone.py"


def run(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout


def test_demo_output() -> None:
    out = run()
    assert "$ users show 42\nuser #42\n" in out
    assert "unknown command: 'users show forty-two'" in out
    assert "searching users named 'a/b'" in out
    assert "contents of docs/readme.md" in out
    assert "purging records older than 30 days" in out
    assert "url for purge: /admin/purge/7" in out
    assert "admin purge {days:int}" in out
    assert "[cli/admin]" in out


def test_dispatch_from_argv() -> None:
    assert run("users", "show", "7") == "user #7\n"
    assert run("users", "find", "x/y") == "searching users named 'x/y'\n"
    assert run("nope").startswith("unknown command")


def test_example_uses_only_the_router() -> None:
    imports = [
        line for line in EXAMPLE.read_text().splitlines() if line.startswith(("import ", "from "))
    ]
    assert imports == [
        "from __future__ import annotations",
        "import sys",
        "from urllib.parse import quote",
        "from qake_routing import MethodNotAllowed, NotFound, Router",
    ]
