"""Regenerate ``fastapi_names.json``: the public names of FastAPI's modules that the
migration guide (``docs/migration/fastapi.md``) must cover; and ``fastapi_keywords.json``:
the keywords of FastAPI's app, router, route decorators and parameter functions.

Run with a Python that has FastAPI installed (the bench env)::

    $H/bench/bin/python tests/qakeapi/make_fastapi_names.py

A module's public names are its ``__all__`` when it has one, else its attributes not
starting with ``_`` that are not modules, and not helpers it merely imports from
elsewhere (``typing.Any``, ``collections.deque``...): an attribute that has a
``__module__`` is kept only when that is FastAPI's or Starlette's (FastAPI re-exports
Starlette's names), and ``None`` placeholders of missing optional packages are left
out.

FastAPI 0.165 has no ``fastapi/status.py``: ``fastapi.status`` is the attribute
``from fastapi import status`` gives (Starlette's ``status`` module), so a module path
that does not import is looked up as an attribute of its parent. A module whose
optional dependency is missing (``fastapi.templating`` without jinja2) is read from
its source instead: its top-level imports, definitions and assignments.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
import types
from pathlib import Path

MODULES = [
    "fastapi",
    "fastapi.security",
    "fastapi.responses",
    "fastapi.encoders",
    "fastapi.exception_handlers",
    "fastapi.concurrency",
    "fastapi.status",
    "fastapi.testclient",
    "fastapi.websockets",
    "fastapi.staticfiles",
    "fastapi.templating",
    # Not in issue 17's list, but imported by FastAPI's tutorials: the handling-errors
    # pages (fastapi.exceptions) and streaming with server-sent events (fastapi.sse).
    "fastapi.exceptions",
    "fastapi.sse",
]

OWNERS = frozenset({"fastapi", "starlette"})


def public_names(module: types.ModuleType) -> list[str]:
    """``__all__``, else the names not starting with ``_`` that are not modules."""
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return sorted(set(declared))
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and value is not None
        and getattr(value, "__module__", "fastapi").split(".")[0] in OWNERS
    )


def load(name: str) -> types.ModuleType:
    """Module ``name``, or the module-valued attribute its parent exports under it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        parent, _, attribute = name.rpartition(".")
        value = getattr(importlib.import_module(parent), attribute)
        assert isinstance(value, types.ModuleType), name
        return value


def source_names(name: str) -> list[str]:
    """The public top-level names module ``name``'s source binds, without importing it."""
    spec = importlib.util.find_spec(name)
    assert spec is not None, name
    assert spec.origin is not None, name
    bound: set[str] = set()
    for node in ast.parse(Path(spec.origin).read_text()).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Assign):
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return sorted(n for n in bound if not n.startswith("_"))


def names_of(name: str) -> list[str]:
    """The public names of module ``name`` (from its source if it cannot import)."""
    try:
        return public_names(load(name))
    except ImportError:
        return source_names(name)


#: The callables whose keywords ``fastapi_keywords.json`` lists (issue 17: every keyword
#: of FastAPI(...), APIRouter(...), the route decorators, include_router and the
#: parameter functions is taken by qakeapi or refused with what to use instead).
KEYWORD_CALLABLES = {
    "FastAPI": ("fastapi", "FastAPI.__init__"),
    "APIRouter": ("fastapi", "APIRouter.__init__"),
    "APIRouter.get": ("fastapi", "APIRouter.get"),
    "APIRouter.include_router": ("fastapi", "APIRouter.include_router"),
    "APIRouter.websocket": ("fastapi", "APIRouter.websocket"),
    **{
        name: ("fastapi.param_functions", name)
        for name in ("Query", "Path", "Body", "Header", "Cookie", "Form", "File")
    },
    "Depends": ("fastapi.param_functions", "Depends"),
    "Security": ("fastapi.param_functions", "Security"),
}


def keywords_of(module: str, dotted: str) -> list[str]:
    import inspect

    obj: object = importlib.import_module(module)
    for part in dotted.split("."):
        obj = getattr(obj, part)
    parameters = inspect.signature(obj).parameters.values()  # type: ignore[arg-type]
    return sorted(
        p.name
        for p in parameters
        if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    )


def main() -> None:
    keywords = {name: keywords_of(*where) for name, where in KEYWORD_CALLABLES.items()}
    target = Path(__file__).with_name("fastapi_keywords.json")
    target.write_text(json.dumps(keywords, indent=2, sort_keys=True) + "\n")
    middleware = importlib.import_module("fastapi.middleware")
    names = [*MODULES, "fastapi.middleware"]
    names += sorted(
        f"fastapi.middleware.{info.name}" for info in pkgutil.iter_modules(middleware.__path__)
    )
    snapshot = {name: names_of(name) for name in names}
    target = Path(__file__).with_name("fastapi_names.json")
    target.write_text(json.dumps(snapshot, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
