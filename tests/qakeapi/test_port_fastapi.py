"""``qake port-fastapi``: a FastAPI project's imports rewritten, the rest byte for byte."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import qakeapi
from qakeapi._cli import main

PROJECT = Path(__file__).parent / "fastapi_project"


def port(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> tuple[int, list[str]]:
    code = main(["port-fastapi", str(path), *options])
    return code, capsys.readouterr().out.splitlines()


def write(tmp_path: Path, source: str, name: str = "app.py") -> Path:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path


def imported_modules(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return []


def fastapi_imports(tree: ast.Module) -> list[ast.stmt]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt)
        and any(m.split(".")[0] in ("fastapi", "qakeapi") for m in imported_modules(node))
    ]


def without_imports(source: str) -> list[str]:
    """The lines of ``source`` outside its fastapi/qakeapi import statements."""
    lines = source.splitlines(keepends=True)
    inside: set[int] = set()
    for node in fastapi_imports(ast.parse(source)):
        assert node.end_lineno is not None
        inside.update(range(node.lineno - 1, node.end_lineno))
    return [line for number, line in enumerate(lines) if number not in inside]


def run_project_tests(project: Path) -> subprocess.CompletedProcess[str]:
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "check_shop.py", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_ported_project_passes_its_own_tests_on_qakeapi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shop's tests assert FastAPI's exact error bodies: with ``--compat`` the app
    class is ``qakeapi.compat.FastAPI`` (``compat="fastapi"``) and they pass."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    code, out = port(capsys, project, "--compat")
    assert code == 0, out
    assert out[-1] == "qake port-fastapi: changed 4 of 5 files; 0 places need a hand"
    main_py = f"{project / 'shop' / 'main.py'}:3: from fastapi import FastAPI → "
    assert main_py + "from qakeapi.compat import FastAPI" in out[-3]
    for path in project.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        original = (PROJECT / path.relative_to(project)).read_text(encoding="utf-8")
        assert "fastapi" not in source.replace("fastapi_project", "")
        assert without_imports(source) == without_imports(original)
    result = run_project_tests(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout


def test_without_compat_the_ported_project_gets_qakeapi_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ``--compat``, the same tests see qakeapi's answers: the data and the
    status codes are FastAPI's, the error bodies problem+json and the text body a 415."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    code, out = port(capsys, project)
    assert code == 0, out
    assert "from qakeapi import QakeAPI as FastAPI" in "\n".join(out)
    result = run_project_tests(project)
    assert "4 failed, 4 passed" in result.stdout, result.stdout
    for name in (
        "test_limit_out_of_range_is_refused",
        "test_read_missing_item",
        "test_create_needs_a_token",
        "test_a_body_that_is_not_json_is_a_validation_error",
    ):
        assert f"FAILED check_shop.py::{name}" in result.stdout


def test_comments_in_a_multi_line_import_stay_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = (
        "# leading comment\n"
        "from fastapi import (  # the app\n"
        "    FastAPI,  # renamed but kept\n"
        "    Depends,\n"
        "\n"
        "    Query ,  # odd spacing\n"
        ")\n"
        "\n\n"
        "app   =   FastAPI()  # formatting kept\n"
    )
    path = write(tmp_path, source)
    code, out = port(capsys, path)
    assert code == 0, out
    assert path.read_text(encoding="utf-8") == source.replace(
        "from fastapi import", "from qakeapi import"
    ).replace("    FastAPI,", "    QakeAPI as FastAPI,")
    assert out[0] == (
        f"{path}:2: from fastapi import FastAPI, Depends, Query → "
        "from qakeapi import QakeAPI as FastAPI, Depends, Query"
    )


def test_aliases_and_module_imports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "import os, fastapi\n"
        "import fastapi.security as sec\n"
        "from fastapi import FastAPI as App, Depends as D\n"
        "from fastapi.testclient import TestClient as Client\n"
        "app = App()\n"
        "other = fastapi.FastAPI()\n",
    )
    code, out = port(capsys, path)
    assert path.read_text(encoding="utf-8") == (
        "import os, qakeapi as fastapi\n"
        "import qakeapi.security as sec\n"
        "from qakeapi import QakeAPI as App, Depends as D\n"
        "from qakeapi.testing import TestClient as Client\n"
        "app = App()\n"
        "other = fastapi.FastAPI()\n"
    )
    # fastapi.FastAPI is not rewritten (not an import): it needs a hand.
    assert code == 1
    assert f"{path}:6: needs a hand: fastapi.FastAPI: qakeapi's name is qakeapi.QakeAPI" in out


def test_a_name_the_installed_qakeapi_lacks_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(qakeapi, "Query")
    path = write(
        tmp_path,
        "if True:\n"
        "    from fastapi import Depends, Query as Q\n"
        "from fastapi.openapi.utils import get_openapi\n",
    )
    code, out = port(capsys, path)
    assert code == 1
    assert path.read_text(encoding="utf-8") == (
        "if True:\n"
        "    from qakeapi import Depends\n"
        "    from fastapi import Query as Q\n"
        "from fastapi.openapi.utils import get_openapi\n"
    )
    assert out[:3] == [
        f"{path}:2: from fastapi import Depends, Query as Q → "
        "from qakeapi import Depends; from fastapi import Query as Q",
        f"{path}:2: needs a hand: fastapi.Query has no equivalent in the installed "
        "qakeapi (looked in qakeapi)",
        f"{path}:3: needs a hand: fastapi.openapi.utils.get_openapi has no equivalent "
        "in the installed qakeapi",
    ]
    assert out[-1] == "qake port-fastapi: changed 1 of 1 files; 2 places need a hand"


def test_a_split_import_with_comments_is_left_for_a_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(qakeapi, "Query")
    source = "from fastapi import (\n    Depends,  # keep me\n    Query,\n)\n"
    path = write(tmp_path, source)
    code, out = port(capsys, path)
    assert code == 1
    assert path.read_text(encoding="utf-8") == source
    assert any("statement has comments; split it by hand" in line for line in out)


def test_keywords_qakeapi_refuses_are_reported_with_its_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        "from fastapi import APIRouter, FastAPI, Query\n"
        "from fastapi.testclient import TestClient\n"
        'app = FastAPI(titel="Shop", title="Shop")\n'
        'router = APIRouter(prefix="/a")\n'
        '@router.get("/", respose_model=None, status_code=200)\n'
        'def f(q: str = Query(None, max_lenght=3, regex="a")) -> None: ...\n'
        'app.include_router(router, prefx="/v1")\n'
        'TestClient(app).get("/", params={"q": "x"})\n',
    )
    code, out = port(capsys, path)
    assert code == 1
    hands = [line.split(": needs a hand: ", 1)[1] for line in out if "needs a hand" in line]
    assert len(hands) == 5, out
    assert hands[0].startswith("FastAPI(...) keyword 'titel': unknown app option 'titel'; ")
    assert "did you mean 'title'?" in hands[0]
    assert "router.get(...) keyword 'respose_model'" in hands[1]
    assert "did you mean 'response_model'?" in hands[1]
    assert "did you mean 'max_length'?" in hands[2]
    assert hands[3] == "Query() keyword 'regex' is not taken by qakeapi; use pattern= " + (
        "(FastAPI's deprecated name for it)"
    )
    assert "did you mean 'prefix'?" in hands[4]


def test_fastapi_options_are_reported_as_qakeapi_itself_refuses_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, 'from fastapi import FastAPI\napp = FastAPI(terms_of_service="x")\n')
    code, out = port(capsys, path)
    try:
        qakeapi.QakeAPI(terms_of_service="x")
    except TypeError as exc:
        assert code == 1
        advice = str(exc).split(": ", 1)[1]
        assert f"{path}:2: needs a hand: FastAPI(...) keyword 'terms_of_service': {advice}" in out
    else:  # qakeapi takes it now: nothing to report
        assert code == 0, out


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = "from fastapi import FastAPI\n"
    path = write(tmp_path, source)
    code, out = port(capsys, tmp_path, "--dry-run")
    assert code == 0
    assert path.read_text(encoding="utf-8") == source
    assert out == [
        f"{path}:1: from fastapi import FastAPI → from qakeapi import QakeAPI as FastAPI",
        "qake port-fastapi: would change 1 of 1 files; 0 places need a hand",
    ]


def test_a_missing_path_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["port-fastapi", str(tmp_path / "nope")]) == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_a_directory_is_walked_but_not_virtualenvs_or_caches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = "from fastapi import Depends\n"
    for place in ("a/b/c.py", "top.py", ".venv/lib/x.py", "a/__pycache__/y.py", ".git/z.py"):
        (tmp_path / place).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / place).write_text(source, encoding="utf-8")
    (tmp_path / "a" / "plain.py").write_text("import os\n", encoding="utf-8")
    code, out = port(capsys, tmp_path)
    assert code == 0
    assert out[-1] == "qake port-fastapi: changed 2 of 3 files; 0 places need a hand"
    assert (tmp_path / "a/b/c.py").read_text(encoding="utf-8") == "from qakeapi import Depends\n"
    assert (tmp_path / ".venv/lib/x.py").read_text(encoding="utf-8") == source


def test_a_file_that_does_not_parse_needs_a_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "from fastapi import FastAPI\ndef (:\n")
    code, out = port(capsys, path)
    assert code == 1
    assert out[0].startswith(f"{path}:2: needs a hand: cannot parse: ")


def test_the_command_runs_as_qake(tmp_path: Path) -> None:
    path = write(tmp_path, "from fastapi import FastAPI\n")
    result = subprocess.run(
        [sys.executable, "-m", "qakeapi", "port-fastapi", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8") == "from qakeapi import QakeAPI as FastAPI\n"


def test_names_go_where_the_installed_qakeapi_has_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A qakeapi without APIRouter nor qakeapi.responses: Router and the top level.
    from qakeapi import _port_names

    exists = _port_names.module_exists
    monkeypatch.delattr(qakeapi, "APIRouter", raising=False)
    monkeypatch.setattr(
        _port_names, "module_exists", lambda name: name != "qakeapi.responses" and exists(name)
    )
    path = write(
        tmp_path,
        "from fastapi import APIRouter\nfrom fastapi.responses import JSONResponse as J\n",
    )
    code, _ = port(capsys, path)
    assert code == 0
    assert path.read_text(encoding="utf-8") == (
        "from qakeapi import Router as APIRouter\nfrom qakeapi import JSONResponse as J\n"
    )
