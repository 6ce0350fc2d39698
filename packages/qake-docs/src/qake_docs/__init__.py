"""qake-docs: OpenAPI 3.1 documents generated from qakeapi routes."""

import typing as _typing
from importlib import import_module as _import_module

from qake_docs._assets import add_docs_assets
from qake_docs._docs import Docs, add_docs_routes
from qake_docs._pages import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)

__all__ = [
    "Docs",
    "SchemaRegistry",
    "SecuritySchemes",
    "add_docs_assets",
    "add_docs_routes",
    "get_openapi",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
    "openapi_document",
]

#: PERF: the document's generator loads with the first read of one of these names (PEP
#: 562), or when an app's document is first built (``Docs.openapi``): an app serves its
#: API without it (``import qakeapi`` -160 KiB tracemalloc, 17 -> 5 qake_docs modules).
_LAZY: dict[str, str] = {
    "SchemaRegistry": "qake_docs._schemas",
    "SecuritySchemes": "qake_docs._security",
    "get_openapi": "qake_docs._get_openapi",
    "openapi_document": "qake_docs._openapi",
}

if _typing.TYPE_CHECKING:
    from qake_docs._get_openapi import get_openapi
    from qake_docs._openapi import openapi_document
    from qake_docs._schemas import SchemaRegistry
    from qake_docs._security import SecuritySchemes


def __getattr__(name: str) -> _typing.Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'qake_docs' has no attribute {name!r}")
    value = getattr(_import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
