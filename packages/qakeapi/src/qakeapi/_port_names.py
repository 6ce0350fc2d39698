"""Where FastAPI's names live in qakeapi: the table ``qake port-fastapi`` reads.

Each FastAPI module maps to the qakeapi modules that may hold its names, in order of
preference (``qakeapi.responses`` first, the top-level package when that module is
absent). Whether a name really exists is asked of the installed qakeapi when the
command runs (``resolve``), never assumed from this table.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["MODULES", "RENAMES", "module_exists", "resolve"]

#: FastAPI module → candidate qakeapi modules, most specific first.
MODULES: dict[str, tuple[str, ...]] = {
    "fastapi": ("qakeapi",),
    "fastapi.applications": ("qakeapi",),
    "fastapi.routing": ("qakeapi.routing", "qakeapi"),
    "fastapi.params": ("qakeapi",),
    "fastapi.param_functions": ("qakeapi",),
    "fastapi.exceptions": ("qakeapi",),
    "fastapi.requests": ("qakeapi.requests", "qakeapi"),
    "fastapi.responses": ("qakeapi.responses", "qakeapi"),
    "fastapi.sse": ("qakeapi.sse",),
    "fastapi.background": ("qakeapi",),
    "fastapi.datastructures": ("qakeapi",),
    "fastapi.security": ("qakeapi.security",),
    "fastapi.testclient": ("qakeapi.testing",),
    "fastapi.encoders": ("qakeapi.encoders",),
    "fastapi.exception_handlers": ("qakeapi.exception_handlers",),
    "fastapi.concurrency": ("qakeapi.concurrency", "qakeapi"),
    "fastapi.status": ("qakeapi.status",),
    "fastapi.staticfiles": ("qakeapi",),
    "fastapi.templating": ("qakeapi",),
    "fastapi.websockets": ("qakeapi.ws", "qakeapi"),
    "fastapi.middleware": ("qakeapi",),
    "fastapi.middleware.cors": ("qakeapi.security",),
    "fastapi.middleware.gzip": ("qakeapi",),
    "fastapi.middleware.trustedhost": ("qakeapi",),
    "fastapi.middleware.httpsredirect": ("qakeapi.security",),
}

#: (FastAPI module, name) → qakeapi names to try, in order; a name not listed keeps
#: its own. ``APIRouter`` is ``Router`` where qakeapi has no ``APIRouter`` yet.
RENAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("fastapi", "FastAPI"): ("QakeAPI",),
    ("fastapi.applications", "FastAPI"): ("QakeAPI",),
    ("fastapi", "APIRouter"): ("APIRouter", "Router"),
    ("fastapi.routing", "APIRouter"): ("APIRouter", "Router"),
}


def module_exists(name: str) -> bool:
    """Whether the installed qakeapi has module ``name``."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent that is not a package, a stub
        return False


def _has(module: ModuleType, name: str) -> bool:
    """``from module import name`` works: an attribute, or a submodule (``status``)."""
    return hasattr(module, name) or module_exists(f"{module.__name__}.{name}")


#: With ``--compat``: FastAPI's app class becomes ``qakeapi.compat.FastAPI`` (QakeAPI
#: with ``compat="fastapi"``), so the ported app answers as it did.
COMPAT_APPS = {("fastapi", "FastAPI"), ("fastapi.applications", "FastAPI")}


def resolve(fastapi_module: str, name: str, compat: bool = False) -> tuple[str, str] | None:
    """The (qakeapi module, name) that ``from fastapi_module import name`` becomes, or
    ``None`` when the installed qakeapi has no equivalent."""
    if compat and (fastapi_module, name) in COMPAT_APPS and module_exists("qakeapi.compat"):
        return "qakeapi.compat", "FastAPI"
    for target in MODULES.get(fastapi_module, ()):
        if not module_exists(target):
            continue
        module = importlib.import_module(target)
        for candidate in RENAMES.get((fastapi_module, name), (name,)):
            if _has(module, candidate):
                return target, candidate
    return None
