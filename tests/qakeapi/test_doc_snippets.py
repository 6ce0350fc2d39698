"""Every ```python block of the docs and the READMEs runs, so the docs cannot rot (issue 19).

The pages: ``docs/**/*.md`` (except ``docs/tutorial/``, whose own runner builds the
tutorial's project step by step), ``README.md``, ``CONTRIBUTING.md``,
``packages/*/*.md`` (READMEs, changelogs), ``benchmarks/README.md`` and
``fuzz/README.md``. One test per page runs its ```python (or ```py) blocks in order
in one fresh module namespace, each compiled with the page as its file name and the
block's lines as their page lines (a traceback names ``docs/settings.md``, line 57,
and shows that line), in a temporary current directory, with the environment,
``sys.path`` and the root logger restored afterwards. A block may ``await`` at its top
level. A ```pycon block (``>>>`` lines and the output they print)
runs as a doctest in the same namespace. If the namespace then holds an ASGI app named
``app`` (else the last ``qake_core.App`` defined), its lifespan is started and stopped
through :class:`qake_testing.TestClient`.

The convention, on the line before a block (blank lines between are allowed):

- ``<!-- snippet: new -->``: the block starts a fresh namespace;
- ``<!-- snippet: skip: REASON -->``: the block is not run (another framework's code
  shown for comparison, a fragment of a file); the reason is required. Before a
  ```bash/```console block it also leaves that block's ``qake`` commands unchecked.

A block whose info string has a file name (```python title="settings_app.py"``) is
also written to that file of the page's temporary directory, from which later blocks may import
it; one titled ``test_*.py`` is a test module: it is not executed in the namespace, but
run by pytest (in this process, warnings as errors, qake-testing's plugin loaded) after
the page's last block, and its tests must pass — they then stand in for the lifespan
check.

Any other ``<!-- snippet ... -->`` comment, or one that no block follows, fails the
page. Skips stay rare: a page whose blocks are all skipped fails unless it compares
frameworks (``docs/migration/``), and at most :data:`MAX_SKIP_SHARE` of the other
pages' blocks may be skipped.

Every ``qake ...`` command line of a ```bash/```sh/```console block (``hatch run qake``,
``python -m qakeapi`` and ``.venv/bin/qake`` included) is parsed by the real CLI parser
(``qakeapi._cli.main``'s argparse, stopped right after parsing): a page cannot name a
subcommand or an option that does not exist.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import doctest
import importlib.util
import inspect
import linecache
import logging
import os
import re
import shlex
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Pages whose own runner executes them (the tutorial builds one project across pages).
EXCLUDED_DIRS = ("docs/tutorial/",)

#: Pages that compare qakeapi with another framework: their blocks may all be skipped.
COMPARISON_DIRS = ("docs/migration/",)

#: At most this share of the python blocks of the other pages may be skipped.
MAX_SKIP_SHARE = 0.15

#: A page whose blocks take longer than this (seconds) fails: snippets must be quick.
MAX_PAGE_SECONDS = 10.0

#: ```pycon blocks (an interactive session: ``>>>`` lines and their output) are doctests.
PYTHON_LANGS = frozenset({"python", "py", "pycon"})

#: Third-party modules some pages use beyond what qakeapi itself installs. The workspace
#: has them all; a venv without one (the à-la-carte check of the meta-package) skips the
#: pages that need it, naming it. Any other missing module fails the page.
OPTIONAL_MODULES = frozenset(
    {
        "aiosqlite",
        "argon2",
        "asyncpg",
        "brotli",
        "gunicorn",
        "jinja2",
        "opentelemetry",
        "prometheus_client",
        "redis",
        "uvicorn_worker",
        "yaml",
        "zstandard",
    }
)
SHELL_LANGS = frozenset({"bash", "sh", "shell", "console", "shell-session"})

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
_MARKER = re.compile(r"^[ \t]*<!--[ \t]*snippet\b(?P<body>.*?)-->[ \t]*$", re.IGNORECASE)
_MARKER_START = re.compile(r"<!--[ \t]*snippet\b", re.IGNORECASE)
_SKIP = re.compile(r"^:[ \t]*skip[ \t]*(?::[ \t]*(?P<reason>.*?))?[ \t]*$")
_NEW = re.compile(r"^:[ \t]*new[ \t]*$")
_LANG = re.compile(r"\{?[ \t]*\.?([\w+-]+)")
_TITLE = re.compile(r"""\btitle=(?:"([^"]*)"|'([^']*)')""")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: str  #: the page's path relative to the repository root
    line: int  #: page line (1-based) of the block's first code line
    lang: str  #: the info string's first word, lower-cased ("" if none)
    code: str  #: the code, with the fence's indentation removed
    new: bool = False  #: ``<!-- snippet: new -->`` precedes it
    skip: str | None = None  #: the reason of ``<!-- snippet: skip: REASON -->``
    title: str = ""  #: the info string's ``title="..."`` (a file name), if any

    @property
    def is_test_module(self) -> bool:
        """A block titled ``test_*.py``: a pytest module, run by pytest."""
        return bool(re.fullmatch(r"test_\w*\.py", PurePosixPath(self.title).name))

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass(frozen=True)
class Page:
    path: str
    text: str
    blocks: tuple[Block, ...]
    errors: tuple[str, ...]  #: misused markers, as ``page:line: message``

    @property
    def python(self) -> tuple[Block, ...]:
        return tuple(block for block in self.blocks if block.lang in PYTHON_LANGS)


def _dedent(line: str, indent: str) -> str:
    """``line`` without the fence's indentation (a shorter, blank line is just emptied)."""
    if line.startswith(indent):
        return line[len(indent) :]
    return line.lstrip(" \t")


def extract(text: str, page: str) -> Page:
    """The fenced blocks of a markdown page with their snippet markers, and every misuse
    of a marker. Fences may be indented (list items, ``!!! note`` admonitions, tabs);
    the info string may carry attributes (```python title="app.py"``)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    errors: list[str] = []
    pending: tuple[int, str, str | None] | None = None  # (line, kind, reason)

    def dangling() -> None:
        if pending is not None:
            errors.append(f"{page}:{pending[0]}: the snippet marker is not followed by a block")

    index = 0
    while index < len(lines):
        line = lines[index]
        number = index + 1
        fence = _FENCE.match(line)
        if fence is None:
            marker = _MARKER.match(line)
            if marker is not None:
                dangling()
                pending = None
                body = marker.group("body").strip()
                skip = _SKIP.match(body)
                if _NEW.match(body):
                    pending = (number, "new", None)
                elif skip is not None:
                    reason = (skip.group("reason") or "").strip()
                    if not reason:
                        errors.append(
                            f"{page}:{number}: a skip needs a reason: "
                            "<!-- snippet: skip: REASON -->"
                        )
                    pending = (number, "skip", reason)
                else:
                    errors.append(
                        f"{page}:{number}: unknown snippet marker {line.strip()!r}; use "
                        "<!-- snippet: new --> or <!-- snippet: skip: REASON -->"
                    )
            elif _MARKER_START.search(line):
                dangling()
                pending = None
                errors.append(f"{page}:{number}: malformed snippet marker {line.strip()!r}")
            elif line.strip():
                dangling()
                pending = None
            index += 1
            continue
        indent, opening, info = fence.group("indent", "fence", "info")
        language = _LANG.match(info)  # ```python title="x"``, ```{.python .extra}``
        lang = language.group(1).lower() if language else ""
        closing = re.compile(rf"^[ \t]*{re.escape(opening[0])}{{{len(opening)},}}[ \t]*$")
        body_lines: list[str] = []
        index += 1
        while index < len(lines) and not closing.match(lines[index]):
            body_lines.append(_dedent(lines[index], indent))
            index += 1
        index += 1  # the closing fence (or the end of the page)
        title = _TITLE.search(info)
        new = skip_reason = None
        if pending is not None:
            if pending[1] == "new" and lang not in PYTHON_LANGS:
                errors.append(
                    f"{page}:{pending[0]}: <!-- snippet: new --> before a ```{lang} block"
                )
            elif pending[1] == "skip" and lang not in PYTHON_LANGS | SHELL_LANGS:
                errors.append(
                    f"{page}:{pending[0]}: <!-- snippet: skip --> before a ```{lang} block "
                    "(only python and shell blocks are run or checked)"
                )
            new = pending[1] == "new"
            skip_reason = pending[2] if pending[1] == "skip" else None
            pending = None
        blocks.append(
            Block(
                page=page,
                line=number + 1,
                lang=lang,
                code="\n".join(body_lines) + "\n",
                new=bool(new),
                skip=skip_reason,
                title=(title.group(1) or title.group(2) or "") if title else "",
            )
        )
    dangling()
    return Page(path=page, text=text, blocks=tuple(blocks), errors=tuple(errors))


def page_paths(root: Path = ROOT) -> list[str]:
    """The pages whose snippets run, relative to ``root``, sorted."""
    found = [
        *root.glob("docs/**/*.md"),
        root / "README.md",
        root / "CONTRIBUTING.md",
        *root.glob("packages/*/*.md"),  # the READMEs and the changelogs
        root / "benchmarks" / "README.md",
        root / "fuzz" / "README.md",
    ]
    paths = {path.relative_to(root).as_posix() for path in found if path.is_file()}
    return sorted(path for path in paths if not path.startswith(EXCLUDED_DIRS))


def load_page(path: str, root: Path = ROOT) -> Page:
    return extract((root / path).read_text(encoding="utf-8"), path)


# --- running a page's python blocks ---------------------------------------------------


def _module_name(page: str) -> str:
    return "_doc_snippet_" + re.sub(r"\W", "_", page)


def _compile(block: Block) -> types.CodeType:
    """The block compiled as the page's lines ``block.line``...: tracebacks point there."""
    source = "\n" * (block.line - 1) + block.code
    code: types.CodeType = compile(
        source, block.page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
    )
    return code


def _doctest(block: Block, namespace: dict[str, Any]) -> None:
    """Run a ```pycon block as a doctest in the namespace (``...`` matches anything)."""
    test = doctest.DocTestParser().get_doctest(
        block.code, namespace, block.where, block.page, block.line - 1
    )
    report: list[str] = []
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    runner.run(test, out=report.append, clear_globs=False)
    assert not runner.failures, "".join(report)


def _exec(block: Block, namespace: dict[str, Any]) -> None:
    if block.lang == "pycon":
        _doctest(block, namespace)
        return
    code = _compile(block)
    if code.co_flags & inspect.CO_COROUTINE:
        result = eval(code, namespace)  # a coroutine: the block awaits at its top level
        asyncio.run(result)
    else:
        exec(code, namespace)


def _is_asgi_app(value: Any) -> bool:
    if isinstance(value, type) or not callable(value):
        return False
    try:
        inspect.signature(value).bind(None, None, None)
    except (TypeError, ValueError):
        return False
    return True


def find_app(namespace: dict[str, Any]) -> Any:
    """The app whose lifespan a page's test runs: ``app`` if it is an ASGI app, else the
    last ``qake_core.App`` of the namespace, else ``None``."""
    from qake_core import App

    candidate = namespace.get("app")
    if candidate is not None and _is_asgi_app(candidate):
        return candidate
    apps = [value for value in namespace.values() if isinstance(value, App)]
    return apps[-1] if apps else None


@dataclass
class _Saved:
    cwd: str
    environ: dict[str, str]
    path: list[str]
    modules: set[str]
    handlers: list[logging.Handler]
    level: int


def _save() -> _Saved:
    root = logging.getLogger()
    return _Saved(
        os.getcwd(),
        dict(os.environ),
        list(sys.path),
        set(sys.modules),
        list(root.handlers),
        root.level,
    )


def _restore(saved: _Saved) -> None:
    os.environ.clear()
    os.environ.update(saved.environ)
    sys.path[:] = saved.path
    for name in set(sys.modules) - saved.modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if name.startswith("_doc_snippet_") or file.startswith(saved.cwd + os.sep):
            del sys.modules[name]
    root = logging.getLogger()
    for handler in root.handlers:
        if handler not in saved.handlers:
            handler.close()
    root.handlers[:] = saved.handlers
    root.setLevel(saved.level)


def _write(block: Block) -> None:
    """Write a block titled with a file name to that file of the current directory."""
    path = PurePosixPath(block.title)
    if path.is_absolute() or ".." in path.parts:
        raise AssertionError(f"{block.where}: title={block.title!r} leaves the directory")
    target = Path.cwd().joinpath(*path.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(block.code, encoding="utf-8")


RunTests = Callable[[list[str]], None]


def run_page(page: Page, run_tests: RunTests | None = None) -> list[dict[str, Any]]:
    """Run the page's python blocks in order; return each namespace used.

    A block titled with a file name (``title="settings_app.py"``) is also written to
    that file in the current directory, which is importable: a later block may import
    it. A block titled ``test_*.py`` is a test module: it is only written, and pytest
    runs the page's test modules (``run_tests``) after the last block; they replace the
    bare lifespan check of the page's apps. Otherwise each namespace's app (see
    :func:`find_app`) has its lifespan started and stopped. Raises what a block raises.
    """
    linecache.cache[page.path] = (
        len(page.text),
        None,
        [line + "\n" for line in page.text.splitlines()],
        page.path,
    )
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    namespaces: list[dict[str, Any]] = []
    test_modules: list[str] = []
    module: types.ModuleType | None = None
    for block in page.python:
        if block.skip is not None:
            continue
        if block.title.endswith(".py"):
            _write(block)
        if block.is_test_module:
            test_modules.append(block.title)
            continue
        if module is None or block.new:
            module = types.ModuleType(_module_name(page.path) + f"_{block.line}")
            module.__file__ = str(Path.cwd() / Path(page.path).name)
            sys.modules[module.__name__] = module  # dataclasses and pydantic look it up
            namespaces.append(vars(module))
        _exec(block, vars(module))
    if test_modules:
        if run_tests is None:
            raise AssertionError(f"{page.path} has test modules and nothing to run them")
        run_tests(test_modules)
    else:
        for namespace in namespaces:
            _run_lifespan(namespace)
    return namespaces


def _run_lifespan(namespace: dict[str, Any]) -> None:
    app = find_app(namespace)
    if app is None:
        return
    from qake_testing import TestClient

    with TestClient(app):
        pass


# --- qake command lines of shell blocks -----------------------------------------------


@dataclass(frozen=True)
class Command:
    page: str
    line: int
    argv: tuple[str, ...]  #: the arguments after ``qake``

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


_OPERATORS = frozenset({"&&", "||", "|", ";", "&", "(", ")", ";;", "|&"})


def _logical_lines(block: Block) -> Iterator[tuple[int, str]]:
    """(page line, command) of a shell block: ``\\`` continuations joined; in a console
    block only the prompted lines (``$ ``) count."""
    console = block.lang in {"console", "shell-session"}
    pending: list[str] = []
    start = 0
    for offset, raw in enumerate(block.code.splitlines()):
        line = raw.rstrip()
        if not pending:
            start = block.line + offset
            if console:
                if not line.lstrip().startswith("$ "):
                    continue
                line = line.lstrip()[2:]
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        yield start, " ".join(pending)
        pending = []
    if pending:
        yield start, " ".join(pending)


def _words(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote: not a command line this test can read
        return []


_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_LAUNCHERS = frozenset({"exec", "env", "sudo", "time", "nohup", "command"})


def _simple_commands(words: list[str]) -> Iterator[list[str]]:
    current: list[str] = []
    for word in words:
        if word in _OPERATORS:
            yield current
            current = []
        else:
            current.append(word)
    yield current


def _qake_argv(words: list[str]) -> list[str] | None:
    """The arguments of a simple command that runs ``qake`` (possibly through
    ``hatch run``/``uv run``/``env``..., after ``VAR=value`` assignments), else None."""
    index = 0
    while index < len(words):
        word = words[index]
        if _ASSIGNMENT.match(word) or word in _LAUNCHERS:
            index += 1
        elif word in {"hatch", "uv", "pipx", "poetry", "pdm"} and "run" in words[index:]:
            index = words.index("run", index) + 1
        else:
            break
    if index >= len(words):
        return None
    program = words[index]
    if program == "qake" or program.endswith("/qake"):
        return words[index + 1 :]
    if re.search(r"(^|/)python[\d.]*$", program) and words[index + 1 : index + 3] == [
        "-m",
        "qakeapi",
    ]:
        return words[index + 3 :]
    return None


def qake_commands(page: Page) -> list[Command]:
    """Every ``qake ...`` invocation of the page's shell blocks that are not skipped."""
    commands: list[Command] = []
    for block in page.blocks:
        if block.lang not in SHELL_LANGS or block.skip is not None:
            continue
        for line, command in _logical_lines(block):
            for words in _simple_commands(_words(command)):
                argv = _qake_argv(words)
                if argv is not None:
                    commands.append(Command(page.path, line, tuple(argv)))
    return commands


def parse_qake(argv: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Parse ``argv`` with the real ``qake`` parser, and run nothing; a bad command raises
    SystemExit with the parser's message on standard error.

    argparse (``qakeapi._cli.main`` builds the parser): ``parse_args`` is wrapped to stop
    right after a successful parse, whose namespace is returned. click (should the CLI
    become a click group): see :func:`parse_click`.
    """
    from qakeapi import _cli

    group = _click_group(_cli)
    if group is not None:
        return parse_click(group, argv, monkeypatch)
    original = argparse.ArgumentParser.parse_args

    def parse_and_stop(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> Any:
        raise _Parsed(original(self, *args, **kwargs))

    with monkeypatch.context() as patch:
        patch.setattr(argparse.ArgumentParser, "parse_args", parse_and_stop)
        try:
            _cli.main(list(argv))
        except _Parsed as parsed:
            return parsed.namespace
    raise AssertionError("qakeapi._cli.main returned without parsing its arguments")


def _click_group(cli: types.ModuleType) -> Any:
    """The CLI module's click command (``main`` itself, or its one group), if any."""
    try:
        import click
    except ImportError:  # pragma: no cover - uvicorn brings click
        return None
    main = getattr(cli, "main", None)
    if isinstance(main, click.Command):
        return main
    groups = [value for value in vars(cli).values() if isinstance(value, click.Group)]
    return groups[0] if len(groups) == 1 else None


def parse_click(command: Any, argv: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Parse ``argv`` with a click command tree whose callbacks are all replaced by one
    that records their parameters (returned): nothing runs. A usage error is shown and
    raised as SystemExit(2), as click does; ``--help`` prints the help and returns."""
    import click

    params: dict[str, Any] = {}

    def record(**values: Any) -> None:
        params.update(values)

    with monkeypatch.context() as patch:
        todo = [command]
        while todo:
            current = todo.pop()
            patch.setattr(current, "callback", record)
            if isinstance(current, click.Group):
                todo.extend(current.commands.values())
        try:
            command.main(list(argv), prog_name="qake", standalone_mode=False)
        except click.ClickException as exc:
            exc.show()
            raise SystemExit(exc.exit_code) from None
    return params


class _Parsed(Exception):
    def __init__(self, namespace: argparse.Namespace) -> None:
        super().__init__()
        self.namespace = namespace


# --- the tests ------------------------------------------------------------------------

PAGES = {path: load_page(path) for path in page_paths()}
COMMANDS = [command for page in PAGES.values() for command in qake_commands(page)]


def _pytester_runner(pytester: pytest.Pytester) -> RunTests:
    """Run test modules with pytest in this process (warnings as errors, as here)."""

    def run_tests(modules: list[str]) -> None:
        # Only qake-testing's plugin: the others installed here cost seconds to load.
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        result = pytester.runpytest_inprocess(
            "-W", "error", "-p", "no:cacheprovider", "-p", "qake_testing.plugin", *modules
        )
        report = "\n".join(result.outlines[-40:])
        assert result.ret == 0, report
        assert result.parseoutcomes().get("passed", 0) > 0, report

    return run_tests


def _missing_optional_module(exc: ImportError) -> str | None:
    """The optional module whose absence caused ``exc`` (directly, or as the cause of a
    library's own ImportError saying which extra to install), else ``None``."""
    error: BaseException | None = exc
    while error is not None:
        if isinstance(error, ImportError) and error.name:
            top = error.name.partition(".")[0]
            if top in OPTIONAL_MODULES and importlib.util.find_spec(top) is None:
                return top
        error = error.__cause__
    return None


@pytest.mark.parametrize("path", [p for p, page in PAGES.items() if page.python or page.errors])
def test_page_snippets_run(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    page = PAGES[path]
    assert not page.errors, "\n".join(page.errors)
    run_tests = None
    if any(block.is_test_module and block.skip is None for block in page.python):
        run_tests = _pytester_runner(request.getfixturevalue("pytester"))  # its own cwd
    else:
        monkeypatch.chdir(tmp_path)
    saved = _save()
    started = time.perf_counter()
    try:
        run_page(page, run_tests)
    except ImportError as exc:
        missing = _missing_optional_module(exc)
        if missing is None:
            raise
        pytest.skip(f"{path} needs {missing}, which is not installed here")
    finally:
        _restore(saved)
        linecache.cache.pop(page.path, None)
    elapsed = time.perf_counter() - started
    assert elapsed < MAX_PAGE_SECONDS, f"{path}'s snippets took {elapsed:.1f} s"


@pytest.mark.parametrize(
    "command", COMMANDS, ids=[f"{c.where} qake {' '.join(c.argv[:1])}" for c in COMMANDS]
)
def test_qake_command_parses(
    command: Command, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        parse_qake(command.argv, monkeypatch)
    except SystemExit as exc:
        if exc.code == 0 and {"-h", "--help"} & set(command.argv):
            return  # a help request, which argparse answers by exiting with status 0
        message = capsys.readouterr().err.strip()
        pytest.fail(f"{command.where}: qake {shlex.join(command.argv)}: {message or exc}")


def test_skips_stay_rare() -> None:
    """Every skip is listed; a page cannot skip all its blocks (unless it compares
    frameworks), and the other pages skip at most MAX_SKIP_SHARE of their blocks."""
    skipped = [b for page in PAGES.values() for b in page.python if b.skip is not None]
    print(f"{len(skipped)} skipped python blocks:")
    for block in skipped:
        print(f"  {block.where}: {block.skip}")
    only_skips = [
        path
        for path, page in PAGES.items()
        if page.python
        and all(b.skip is not None for b in page.python)
        and not path.startswith(COMPARISON_DIRS)
    ]
    assert not only_skips, f"pages whose python blocks are all skipped: {only_skips}"
    counted = [
        b
        for page in PAGES.values()
        if not page.path.startswith(COMPARISON_DIRS)
        for b in page.python
    ]
    share = sum(b.skip is not None for b in counted) / max(len(counted), 1)
    assert share <= MAX_SKIP_SHARE, f"{share:.0%} of the python blocks are skipped"


def test_the_pages_are_found() -> None:
    assert {"README.md", "CONTRIBUTING.md", "docs/index.md"} <= PAGES.keys()
    assert "packages/qake-core/README.md" in PAGES
    assert not any(path.startswith("docs/tutorial/") for path in PAGES)
    assert sum(len(page.python) for page in PAGES.values()) >= 40


# --- the extractor and the runner themselves -------------------------------------------

SAMPLE = """\
# A page

```python
x = 1
```

<!-- snippet: new -->

```py
y = 2
```

<!-- snippet: skip: FastAPI is not installed -->
```{.python title="other.py"}
import fastapi
```

1. A step:

    ```python
    z = [
        1,
    ]
    ```

!!! note "Indented"
    Some text.

    ````python
    w = "```"
    ````

```bash
qake run a:app --workers 2  # a comment
```
"""


def test_extract_reads_blocks_markers_and_indented_fences() -> None:
    page = extract(SAMPLE, "sample.md")
    assert page.errors == ()
    python = page.python
    assert [(b.line, b.lang, b.new, b.skip) for b in python] == [
        (4, "python", False, None),
        (10, "py", True, None),
        (15, "python", False, "FastAPI is not installed"),
        (21, "python", False, None),
        (30, "python", False, None),
    ]
    assert python[2].title == "other.py"
    assert python[3].code == "z = [\n    1,\n]\n"
    assert python[4].code == 'w = "```"\n'
    assert [b.lang for b in page.blocks] == ["python", "py", "python", "python", "python", "bash"]


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("<!-- snippet: skip -->", "a skip needs a reason"),
        ("<!-- snippet: skip:   -->", "a skip needs a reason"),
        ("<!-- snippet: fresh -->", "unknown snippet marker"),
        ("<!-- snippet new -->", "unknown snippet marker"),
        ("<!-- snippet: new", "malformed snippet marker"),
    ],
)
def test_extract_refuses_a_bad_marker(marker: str, message: str) -> None:
    page = extract(f"text\n\n{marker}\n```python\nx = 1\n```\n", "bad.md")
    assert len(page.errors) == 1
    assert page.errors[0].startswith("bad.md:3: " + message)


def test_extract_refuses_a_marker_without_a_block() -> None:
    page = extract("<!-- snippet: new -->\nSome text.\n\n```python\nx = 1\n```\n", "p.md")
    assert page.errors == ("p.md:1: the snippet marker is not followed by a block",)
    assert page.python[0].new is False
    page = extract("```python\nx = 1\n```\n<!-- snippet: skip: why -->\n", "p.md")
    assert page.errors == ("p.md:4: the snippet marker is not followed by a block",)
    page = extract("<!-- snippet: new -->\n```toml\na = 1\n```\n", "p.md")
    assert page.errors == ("p.md:1: <!-- snippet: new --> before a ```toml block",)


def test_a_failing_block_points_at_its_page_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "Intro.\n\n```python\nvalue = 1\n\n\nraise ValueError(value)\n```\n"
    page = extract(text, "docs/broken.md")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as info:
        run_page(page)
    frame = info.traceback[-1]
    assert (str(frame.path), frame.lineno + 1) == ("docs/broken.md", 7)
    assert "raise ValueError(value)" in str(info.getrepr())


def test_blocks_share_a_namespace_until_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (
        "```python\nimport os\nx = 1\n```\n"
        "```python\ny = x + 1\nwith open('f.txt', 'w') as f:\n    f.write(str(y))\n```\n"
        "<!-- snippet: skip: would fail -->\n```python\nraise SystemExit\n```\n"
        "<!-- snippet: new -->\n```python\nassert 'x' not in globals()\n"
        "import asyncio\nawait asyncio.sleep(0)\nz = 3\n```\n"
    )
    monkeypatch.chdir(tmp_path)
    first, second = run_page(extract(text, "p.md"))
    assert (first["y"], second["z"]) == (2, 3)
    assert (tmp_path / "f.txt").read_text() == "2"


def test_the_app_lifespan_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = textwrap.dedent(
        """\
        ```python
        from contextlib import asynccontextmanager

        from qakeapi import QakeAPI

        events = []


        @asynccontextmanager
        async def lifespan(app):
            events.append("startup")
            yield
            events.append("shutdown")


        service = QakeAPI(lifespan=lifespan)
        ```
        """
    )
    monkeypatch.chdir(tmp_path)
    (namespace,) = run_page(extract(text, "p.md"))
    assert namespace["events"] == ["startup", "shutdown"]


def test_a_page_app_whose_startup_fails_fails_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = textwrap.dedent(
        """\
        ```python
        from contextlib import asynccontextmanager

        from qakeapi import QakeAPI


        @asynccontextmanager
        async def lifespan(app):
            raise RuntimeError("no database")
            yield


        app = QakeAPI(lifespan=lifespan)
        ```
        """
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="no database"):
        run_page(extract(text, "p.md"))


def test_qake_commands_are_found_in_shell_blocks() -> None:
    text = textwrap.dedent(
        """\
        ```bash
        pip install hatch && hatch run qake run examples.basic_app:app --reload
        X=1 qake run --workers 2 \\
          shop:app   # two workers
        .venv/bin/qake routes shop:app | sort
        python -m qakeapi openapi shop:app -o openapi.json
        echo qake && cd qake  # not a call of qake
        ```

        <!-- snippet: skip: a made-up option, shown as a mistake -->
        ```bash
        qake run --turbo shop:app
        ```

        ```console
        $ qake new my-shop
        qake: created my-shop
        ```
        """
    )
    found = [(c.line, c.argv) for c in qake_commands(extract(text, "p.md"))]
    assert found == [
        (2, ("run", "examples.basic_app:app", "--reload")),
        (3, ("run", "--workers", "2", "shop:app")),
        (5, ("routes", "shop:app")),
        (6, ("openapi", "shop:app", "-o", "openapi.json")),
        (16, ("new", "my-shop")),
    ]


def _param(parsed: Any, name: str) -> Any:
    return parsed[name] if isinstance(parsed, dict) else getattr(parsed, name)


def test_parse_qake_accepts_real_commands_and_refuses_made_up_ones(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    parsed = parse_qake(("run", "shop:app", "--workers", "3", "--log-json"), monkeypatch)
    assert [_param(parsed, name) for name in ("app", "workers", "log_json")] == [
        "shop:app",
        3,
        True,
    ]
    parsed = parse_qake(("port-fastapi", "proj/", "--dry-run"), monkeypatch)
    assert (_param(parsed, "path"), _param(parsed, "dry_run")) == ("proj/", True)
    for argv in [("run", "shop:app", "--turbo"), ("serve", "shop:app"), ("run",), ()]:
        with pytest.raises(SystemExit) as info:
            parse_qake(argv, monkeypatch)
        assert info.value.code == 2
    assert "usage: qake" in capsys.readouterr().err.lower()
    # The wrapper is gone afterwards: argparse works as usual.
    assert argparse.ArgumentParser().parse_args([]) == argparse.Namespace()


def test_parse_click_runs_nothing_and_refuses_what_the_group_lacks(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import click

    ran: list[str] = []

    @click.group()
    def cli() -> None:
        ran.append("cli")

    @cli.command()
    @click.argument("app")
    @click.option("--workers", type=int, default=1)
    def run(app: str, workers: int) -> None:
        ran.append("run")

    parsed = parse_click(cli, ("run", "shop:app", "--workers", "2"), monkeypatch)
    assert parsed == {"app": "shop:app", "workers": 2}
    for argv in [("run", "shop:app", "--turbo"), ("serve",), ("run",)]:
        with pytest.raises(SystemExit) as info:
            parse_click(cli, argv, monkeypatch)
        assert info.value.code == 2
    assert "--turbo" in capsys.readouterr().err  # click: No such option '--turbo'
    parse_click(cli, ("run", "--help"), monkeypatch)  # prints the help, no error
    assert "--workers" in capsys.readouterr().out
    assert ran == []
    assert cli.commands["run"].callback is not None
    cli.main(["run", "x"], standalone_mode=False)  # the callbacks are back
    assert ran == ["cli", "run"]


def test_titled_blocks_are_files_and_test_modules_run(pytester: pytest.Pytester) -> None:
    text = textwrap.dedent(
        """\
        ```python title="greet.py"
        def greet(name):
            return f"hi {name}"
        ```

        ```python
        from greet import greet

        assert greet("ann") == "hi ann"
        ```

        ```python title="test_greet.py"
        from greet import greet


        def test_greet():
            assert greet("bob") == "hi bob"
        ```
        """
    )
    page = extract(text, "p.md")
    assert [b.title for b in page.python] == ["greet.py", "", "test_greet.py"]
    assert [b.is_test_module for b in page.python] == [False, False, True]
    saved = _save()
    try:
        (namespace,) = run_page(page, _pytester_runner(pytester))
        assert "test_greet" not in namespace  # run by pytest, not executed here
        assert (pytester.path / "greet.py").is_file()
        failing = extract(text.replace('"hi bob"', '"bye bob"'), "p.md")
        with pytest.raises(AssertionError, match="1 failed"):
            run_page(failing, _pytester_runner(pytester))
        with pytest.raises(AssertionError, match="nothing to run them"):
            run_page(page)
    finally:
        _restore(saved)


def test_a_pycon_block_is_a_doctest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "```python\nx = 20\n```\n\n```pycon\n>>> x + 1\n21\n>>> [x] * 30\n[20, ...]\n```\n"
    monkeypatch.chdir(tmp_path)
    run_page(extract(text, "p.md"))
    with pytest.raises(AssertionError, match=r"p\.md\", line 6.*\n.*\n.*x \+ 1"):
        run_page(extract(text.replace("21", "22"), "p.md"))


def test_only_a_missing_optional_module_skips_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    assert OPTIONAL_MODULES.isdisjoint(sys.stdlib_module_names)
    monkeypatch.setattr(
        sys.modules[__name__], "OPTIONAL_MODULES", frozenset({"absent_extra", "anyio"})
    )
    absent = ModuleNotFoundError("No module named 'absent_extra'", name="absent_extra.sub")
    wrapped = ImportError("X needs the absent_extra package: pip install 'qake-core[x]'")
    wrapped.__cause__ = ModuleNotFoundError("No module named 'absent_extra'", name="absent_extra")
    installed = ImportError("cannot import name 'nope' from 'anyio'", name="anyio")
    typo = ModuleNotFoundError("No module named 'qakeapi.nope'", name="qakeapi.nope")
    assert _missing_optional_module(absent) == "absent_extra"
    assert _missing_optional_module(wrapped) == "absent_extra"
    assert _missing_optional_module(installed) is None  # installed: a real error
    assert _missing_optional_module(typo) is None
