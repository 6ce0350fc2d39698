"""``qake port-fastapi PATH``: rewrite a FastAPI project's imports to qakeapi's.

Only the text of the ``import fastapi...`` / ``from fastapi... import`` statements
changes (found on the syntax tree, with their exact spans), so every other byte of a
file — formatting, comments, blank lines — stays as it was. A renamed class keeps
the project's name (``from qakeapi import QakeAPI as FastAPI``) so no other line has
to change. What the installed qakeapi lacks, and every keyword of ``FastAPI(...)``,
``APIRouter(...)``, route decorators, ``include_router`` and parameter functions that
qakeapi refuses, is reported with qakeapi's own advice: the exit status is 1 then.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qakeapi._port_names import MODULES, module_exists, resolve

__all__ = ["FileReport", "command", "port_file", "port_path", "python_files"]

SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", ".tox", ".nox", "node_modules"})

_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
_ROUTE_METHODS = _VERBS | {"api_route", "add_api_route"}
_WS_METHODS = frozenset({"websocket", "add_websocket_route", "websocket_route"})
_PARAM_FUNCTIONS = frozenset(
    {"Query", "Path", "Header", "Cookie", "Body", "Form", "File", "Depends", "Security"}
)
_FROM_MODULE = re.compile(rb"from[ \t]+([A-Za-z_][\w.]*)")


@dataclass
class FileReport:
    """What porting one file changed (``changes``) and what needs a hand (``manual``);
    both are ``(line, text)`` pairs."""

    path: Path
    changes: list[tuple[int, str]] = field(default_factory=list)
    manual: list[tuple[int, str]] = field(default_factory=list)
    ported: bytes | None = None

    def lines(self) -> Iterator[str]:
        """``path:line: change`` and ``path:line: needs a hand: ...``, in line order."""
        shown = [(line, 0, text) for line, text in self.changes]
        shown += [(line, 1, f"needs a hand: {text}") for line, text in self.manual]
        for line, _, text in sorted(shown):
            yield f"{self.path}:{line}: {text}"


def python_files(root: Path) -> list[Path]:
    """``root`` if it is a file, else the ``.py`` files under it (not in virtualenvs,
    ``.git`` or caches), sorted."""
    if root.is_file():
        return [root]
    found = (
        path
        for path in root.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(root).parts[:-1])
    )
    return sorted(found)


def _is_fastapi(module: str | None) -> bool:
    return module is not None and (module == "fastapi" or module.startswith("fastapi."))


def _flat(text: bytes) -> str:
    """Import statements as one line each, without their comments."""
    try:
        lines = b"\n".join(line.lstrip() for line in text.splitlines())
        return "; ".join(ast.unparse(node) for node in ast.parse(lines).body)
    except SyntaxError:
        return " ".join(text.decode("utf-8", "replace").split())


class _Porter:
    """One file: collects byte edits, the changes' descriptions and the findings."""

    def __init__(self, source: bytes, report: FileReport, compat: bool = False) -> None:
        self.source = source
        self.report = report
        #: ``--compat``: the app class becomes ``qakeapi.compat.FastAPI``.
        self.compat = compat
        self.starts = [0]
        for line in source.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.edits: list[tuple[int, int, bytes]] = []
        #: Local name → (FastAPI module, name or None for the module itself).
        self.bound: dict[str, tuple[str, str | None]] = {}

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def span(self, node: ast.stmt | ast.alias) -> tuple[int, int]:
        assert node.end_lineno is not None
        assert node.end_col_offset is not None
        start = self.offset(node.lineno, node.col_offset)
        return start, self.offset(node.end_lineno, node.end_col_offset)

    def manual(self, line: int, text: str) -> None:
        self.report.manual.append((line, text))

    def replace(self, node: ast.stmt, edits: list[tuple[int, int, bytes]]) -> None:
        start, end = self.span(node)
        old = self.source[start:end]
        new = old
        for a, b, text in sorted(edits, reverse=True):
            new = new[: a - start] + text + new[b - start :]
        self.edits.extend(edits)
        self.report.changes.append((node.lineno, f"{_flat(old)} → {_flat(new)}"))

    # -- imports -------------------------------------------------------------------

    def port_from(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        resolved: list[tuple[ast.alias, tuple[str, str] | None]] = []
        for alias in node.names:
            self.bound[alias.asname or alias.name] = (module, alias.name)
            if alias.name == "*":
                targets = [t for t in MODULES.get(module, ()) if module_exists(t)]
                resolved.append((alias, (targets[0], "*") if targets else None))
            else:
                resolved.append((alias, resolve(module, alias.name, self.compat)))
        missing = [alias for alias, target in resolved if target is None]
        found = [(alias, target) for alias, target in resolved if target is not None]
        for alias in missing:
            self.manual(alias.lineno, self._no_equivalent(module, alias.name))
        if not found:
            return
        modules = {target[0] for _, target in found}
        start, end = self.span(node)
        segment = self.source[start:end]
        head = _FROM_MODULE.match(segment)
        if not missing and len(modules) == 1 and head and head.group(1) == module.encode():
            # Only the module and the renamed names change: comments stay in place.
            edits = [(start + head.start(1), start + head.end(1), modules.pop().encode())]
            for alias, (_, name) in found:
                if name != alias.name:
                    a, b = self.span(alias)
                    edits.append((a, b, f"{name} as {alias.asname or alias.name}".encode()))
            self.replace(node, edits)
            return
        if b"#" in segment:  # a comment in the statement: do not move it around
            self.manual(
                node.lineno,
                f"not rewritten: {module}'s names go to {', '.join(sorted(modules))} "
                "and the statement has comments; split it by hand",
            )
            return
        groups: dict[str, list[str]] = {}
        for alias, (target, name) in found:
            local = alias.asname or alias.name
            groups.setdefault(target, []).append(name if name == local else f"{name} as {local}")
        if missing:
            groups[module] = [
                alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
                for alias in missing
            ]
        statements = [
            f"from {target} import {', '.join(names)}" for target, names in groups.items()
        ]
        self.replace(node, [(start, end, self._separator(node).join(statements).encode())])

    def port_import(self, node: ast.Import) -> None:
        edits: list[tuple[int, int, bytes]] = []
        for alias in node.names:
            if not _is_fastapi(alias.name):
                continue
            local = alias.asname or alias.name
            targets = [t for t in MODULES.get(alias.name, ()) if module_exists(t)]
            if "." in alias.name and alias.asname is None:
                self.bound[alias.name.split(".")[0]] = ("fastapi", None)
                self.manual(
                    node.lineno,
                    f"import {alias.name}: write `import {targets[0]} as <name>` and use it"
                    if targets
                    else self._no_equivalent(alias.name, None),
                )
                continue
            self.bound[local] = (alias.name, None)
            if not targets:
                self.manual(node.lineno, self._no_equivalent(alias.name, None))
                continue
            a, b = self.span(alias)
            edits.append((a, b, f"{targets[0]} as {local}".encode()))
        if edits:
            self.replace(node, edits)

    def _separator(self, node: ast.stmt) -> str:
        line_start = self.starts[node.lineno - 1]
        before = self.source[line_start : line_start + node.col_offset]
        return "\n" + before.decode() if not before.strip() else "; "

    @staticmethod
    def _no_equivalent(module: str, name: str | None) -> str:
        what = module if name is None else f"{module}.{name}"
        places = MODULES.get(module)
        where = f" (looked in {', '.join(places)})" if places else ""
        return f"{what} has no equivalent in the installed qakeapi{where}"

    # -- attribute uses and keywords --------------------------------------------

    def fastapi_name(self, node: ast.expr) -> tuple[str, str] | None:
        """``(module, name)`` when ``node`` names something imported from FastAPI."""
        if isinstance(node, ast.Name) and node.id in self.bound:
            module, name = self.bound[node.id]
            return (module, name) if name is not None else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module, name = self.bound.get(node.value.id, ("", ""))
            if module and name is None:
                return module, node.attr
        return None

    def check_attributes(self, tree: ast.Module) -> None:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not isinstance(node.value, ast.Name):
                continue
            module, name = self.bound.get(node.value.id, ("", ""))
            if not module or name is not None:
                continue
            target = resolve(module, node.attr, self.compat)
            if target is None:
                self.manual(node.lineno, self._no_equivalent(module, node.attr))
            elif target[1] != node.attr:
                self.manual(
                    node.lineno,
                    f"{node.value.id}.{node.attr}: qakeapi's name is {target[0]}.{target[1]}",
                )

    def check_keywords(self, tree: ast.Module) -> None:
        owners: dict[str, type] = {}  # variables holding an app or a router
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                cls = self._target(self.fastapi_name(node.value.func))
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if isinstance(cls, type) and issubclass(cls, _router_class()):
                    owners.update({t.id: cls for t in targets if isinstance(t, ast.Name)})
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self._check_call(node, owners)

    def _target(self, name: tuple[str, str] | None) -> Any:
        target = resolve(*name, self.compat) if name is not None else None
        if target is None:
            return None
        return getattr(importlib.import_module(target[0]), target[1], None)

    def _check_call(self, call: ast.Call, owners: dict[str, type]) -> None:
        given = [(k.arg, k.value.lineno) for k in call.keywords if k.arg is not None]
        if not given:
            return
        name = self.fastapi_name(call.func)
        func = call.func
        if name is not None:
            target = self._target(name)
            if name[1] in _PARAM_FUNCTIONS and target is not None:
                for keyword, line in given:
                    problem = _param_keyword(target, name[1], keyword)
                    if problem is not None:
                        self.manual(line, problem)
                return
            if isinstance(target, type):
                inits = (vars(k)["__init__"] for k in target.__mro__ if "__init__" in vars(k))
                explicit = _explicit_keywords(*inits)
                for keyword, line in given:
                    problem = _probe(f"{name[1]}(...)", explicit, target, keyword)
                    if problem is not None:
                        self.manual(line, problem)
            return
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            probe = _method_probe(func.attr)
            if func.value.id not in owners or probe is None:
                return
            where = f"{func.value.id}.{func.attr}(...)"
            for keyword, line in given:
                problem = _probe(where, *probe, keyword)
                if problem is not None:
                    self.manual(line, problem)


def _router_class() -> type:
    router: type = importlib.import_module("qakeapi").Router
    return router


def _probe_endpoint() -> None:
    return None


def _method_probe(method: str) -> tuple[set[str], Callable[..., object]] | None:
    """The keywords qakeapi's method like ``method`` declares, and a call of it on a
    fresh router that raises qakeapi's own ``TypeError`` for a keyword it refuses."""
    router: Any = importlib.import_module("qakeapi").Router
    if method in _ROUTE_METHODS:
        verb = method.upper() if method in _VERBS else "GET"

        def route(**k: Any) -> object:
            return router().add_api_route("/probe", _probe_endpoint, **{"methods": [verb], **k})

        return _explicit_keywords(router.add_api_route), route
    if method in _WS_METHODS:

        def websocket(**k: Any) -> object:
            return router().add_websocket_route("/probe", _probe_endpoint, **k)

        return _explicit_keywords(router.add_websocket_route), websocket
    if method == "include_router":

        def include(**k: Any) -> object:
            return router().include_router(router(), **k)

        return _explicit_keywords(router.include_router), include
    return None


def _explicit_keywords(*functions: Any) -> set[str]:
    """The parameters ``functions`` name (not their ``**options``)."""
    names: set[str] = set()
    for function in functions:
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            continue
        names.update(p.name for p in parameters if p.kind is not p.VAR_KEYWORD)
    return names


def _probe(where: str, explicit: set[str], call: Callable[..., object], keyword: str) -> str | None:
    """qakeapi's refusal of ``keyword`` given to ``call``, or ``None`` if it takes it."""
    if keyword in explicit:
        return None
    try:
        call(**{keyword: None})
    except TypeError as exc:
        message = str(exc)
        if repr(keyword) not in message:  # another argument's fault: the keyword passed
            return None
        return f"{where} keyword {keyword!r}: {message.split(': ', 1)[-1]}"
    except Exception:  # taken, then refused for its value: the keyword exists
        return None
    return None


def _param_keyword(target: Any, name: str, keyword: str) -> str | None:
    """What qakeapi's own parameter function says of ``keyword`` (its advice, or the
    closest option), or ``None`` when it takes it. The markers are plain objects: making
    one has no effect."""
    try:
        target(**{keyword: None})
    except TypeError as exc:
        text = str(exc)
        if repr(keyword) not in text:
            return None
        for marker in ("is not supported by qakeapi; ", f"option {keyword!r}; "):
            if marker in text:
                text = text.split(marker, 1)[1]
                break
        return f"{name}() keyword {keyword!r} is not taken by qakeapi; {text}"
    except Exception:  # a value the keyword refuses: the keyword itself is taken
        return None
    return None


def port_file(path: Path, compat: bool = False) -> FileReport:
    """Port one file in memory: ``ported`` holds the new bytes when something changed."""
    report = FileReport(path)
    source = path.read_bytes()
    if b"fastapi" not in source:
        return report
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        report.manual.append((exc.lineno or 0, f"cannot parse: {exc.msg}"))
        return report
    porter = _Porter(source, report, compat)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and _is_fastapi(node.module):
            porter.port_from(node)
        elif isinstance(node, ast.Import):
            porter.port_import(node)
    porter.check_attributes(tree)
    porter.check_keywords(tree)
    report.changes.sort()
    report.manual.sort()
    if porter.edits:
        ported = source
        for start, end, text in sorted(porter.edits, reverse=True):
            ported = ported[:start] + text + ported[end:]
        report.ported = ported
    return report


def port_path(root: Path, *, write: bool = True, compat: bool = False) -> list[FileReport]:
    """Port every Python file under ``root``; write them back unless ``write`` is false.
    ``compat``: the app class becomes ``qakeapi.compat.FastAPI`` (FastAPI's answers)."""
    reports = [port_file(path, compat) for path in python_files(root)]
    if write:
        for report in reports:
            if report.ported is not None:
                report.path.write_bytes(report.ported)
    return reports


def command(root: Path, *, dry_run: bool = False, compat: bool = False) -> int:
    """``qake port-fastapi``: print each change and what needs a hand; 0 when all was
    ported, 1 when something needs a hand, 2 when ``root`` does not exist."""
    if not root.exists():
        print(f"qake port-fastapi: no such file or directory: {root}", file=sys.stderr)
        return 2
    reports = port_path(root, write=not dry_run, compat=compat)
    for report in reports:
        for line in report.lines():
            print(line)
    changed = sum(report.ported is not None for report in reports)
    manual = sum(len(report.manual) for report in reports)
    verb = "would change" if dry_run else "changed"
    print(
        f"qake port-fastapi: {verb} {changed} of {len(reports)} files; "
        f"{manual} place{'s' if manual != 1 else ''} need{'' if manual != 1 else 's'} a hand"
    )
    return 1 if manual else 0
