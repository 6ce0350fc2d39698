"""The public names of the HTTP layer are exported, sorted, from ``qake_core``."""

from __future__ import annotations

from types import ModuleType

import qake_core

HTTP_NAMES = {
    "AccessLogMiddleware",
    "BackgroundTasks",
    "CacheOptions",
    "DefaultHeaders",
    "EventSourceResponse",
    "FileResponse",
    "GZipMiddleware",
    "HTTPConnection",
    "HTTPException",
    "Jinja2Templates",
    "MemoryStore",
    "ProxyHeadersMiddleware",
    "RedisStore",
    "Request",
    "RequestIDFilter",
    "RequestIDMiddleware",
    "ServerErrorMiddleware",
    "ServerSentEvent",
    "StaticFiles",
    "Store",
    "TrustedHostMiddleware",
    "UploadFile",
    "accepts",
    "cache",
    "default_headers_of",
    "is_document",
    "merge_default_headers",
    "is_safe_redirect",
    "negotiate",
    "request_id_var",
    "route_path",
}


def test_exports() -> None:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions, each alphabetical.
    def key(n: str) -> tuple[bool, bool, str]:
        return (not n.isupper(), not n[0].isupper(), n)

    assert qake_core.__all__ == sorted(qake_core.__all__, key=key)
    assert set(qake_core.__all__) >= HTTP_NAMES
    for name in qake_core.__all__:
        assert getattr(qake_core, name) is not None


def test_all_is_exactly_the_public_names() -> None:
    """Every public name of ``qake_core`` is in ``__all__`` and nothing else is (its
    submodules, such as ``qake_core.types``, are not names of the package's API). The
    optional features' names load when first read (PEP 562): ``dir()`` lists them."""
    public = {
        name
        for name in dir(qake_core)
        if not name.startswith("_") and not isinstance(getattr(qake_core, name), ModuleType)
    }
    assert public == set(qake_core.__all__)
