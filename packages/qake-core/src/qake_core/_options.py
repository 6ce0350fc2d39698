"""Unknown keyword options of routes, routers and apps: refused at startup, by name.

An option that is accepted and ignored is a silent bug (``response_model_exclude=``
ignored sends the field it was meant to hide; a typo does nothing at all). So every
keyword that a route decorator, ``Router(...)``, ``include_router(...)`` or the app
does not take raises ``TypeError`` when it is declared, naming the option and the
place. FastAPI options that qakeapi does not implement say what to do instead; any
other name gets the closest supported one ("did you mean") and the list of options.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any, Literal

__all__ = ["Kind", "keywords", "reject_unknown_options"]

Kind = Literal[
    "route", "websocket route", "router", "include_router", "app", "parameter", "Depends"
]

_EDIT_DOCUMENT = (
    "qakeapi does not generate this part of the OpenAPI document; add it yourself: "
    "QakeAPI's app.openapi() returns the cached dict that openapi_url serves, so "
    "change it before the first request"
)
_NO_ROUTE_CLASS = (
    "qakeapi has no route classes to subclass; wrap routes with hook middleware "
    "(middleware=[...]) or add dependencies=[...]"
)

#: FastAPI options every level (app, router, route) may be given that qakeapi puts
#: elsewhere.
_LIMITS_ADVICE: dict[str, str] = {
    "max_body_size": "give limits=Limits(max_body_size=...) (1 MiB by default, 413 above it)",
    "form_limits": (
        "give limits=Limits(max_form_fields=..., max_files=..., max_file_size=..., "
        "max_part_header_size=...)"
    ),
    "strict_content_type": (
        "qakeapi always reads a JSON body only with a JSON Content-Type (415 otherwise); "
        "compat='fastapi' answers a wrong media type as FastAPI does"
    ),
}

#: Advice for FastAPI options that qakeapi does not take, by where they are given.
_ROUTE_ADVICE: dict[str, str] = {
    **_LIMITS_ADVICE,
    "response_description": (
        "describe the response with responses={<status>: {'description': '...'}}"
    ),
    "route_class_override": _NO_ROUTE_CLASS,
}
_ROUTER_ADVICE: dict[str, str] = {
    **_LIMITS_ADVICE,
    "routes": "declare routes with the router's decorators or add_api_route()",
    "route_class": _NO_ROUTE_CLASS,
    "redirect_slashes": "set it on the app: App(redirect_slashes=...)",
    "default": "unmatched requests answer 404; customise it with app.exception_handler(404)",
    "dependency_overrides_provider": "set app.dependency_overrides[dependency] = replacement",
    "on_startup": "give startup hooks to the app: App(on_startup=[...]) or lifespan=",
    "on_shutdown": "give shutdown hooks to the app: App(on_shutdown=[...]) or lifespan=",
    "lifespan": "give the lifespan to the app: App(lifespan=...)",
}
_DOCS_ONLY = (
    "the docs pages are the app's: qakeapi.QakeAPI(docs_url=..., redoc_url=..., "
    "swagger_ui_parameters=...) serves them; with a bare App, use qake_docs' "
    "add_docs_routes() or get_swagger_ui_html() on a route of your own"
)


def _qakeapi_option(what: str, name: str) -> str:
    return f"{what} belongs to the document qakeapi.QakeAPI builds: QakeAPI({name}=...)"


_APP_ADVICE: dict[str, str] = {
    **_LIMITS_ADVICE,
    "telemetry": (
        "trace with OpenTelemetry's ASGI instrumentation (app.add_middleware("
        "OpenTelemetryMiddleware, ...), see docs/observability.md)"
    ),
    "webhooks": _qakeapi_option("the webhooks section", "webhooks"),
    "routes": "declare routes with the app's decorators, add_api_route() or include_router()",
    "title": "the document's title belongs to qakeapi.QakeAPI(title=...) (or qake_docs.Docs)",
    "version": "the document's version belongs to qakeapi.QakeAPI(version=...)",
    "description": "the document's description belongs to qakeapi.QakeAPI(description=...)",
    "openapi_url": "the document is served by qakeapi.QakeAPI(openapi_url=...)",
    "summary": _qakeapi_option("info.summary", "summary"),
    "terms_of_service": "info.termsOfService: " + _EDIT_DOCUMENT,
    "contact": "info.contact: " + _EDIT_DOCUMENT,
    "license_info": "info.license: " + _EDIT_DOCUMENT,
    "openapi_tags": _qakeapi_option("the tags list", "openapi_tags"),
    "servers": _qakeapi_option("the servers list", "servers"),
    "openapi_external_docs": "externalDocs: " + _EDIT_DOCUMENT,
    "separate_input_output_schemas": _qakeapi_option(
        "the input/output schema split", "separate_input_output_schemas"
    ),
    "docs_url": _DOCS_ONLY,
    "redoc_url": _DOCS_ONLY,
    "swagger_ui_oauth2_redirect_url": _DOCS_ONLY,
    "swagger_ui_init_oauth": _DOCS_ONLY,
    "swagger_ui_parameters": _DOCS_ONLY,
    "root_path": (
        "the root path comes from the server: run uvicorn with --root-path (or "
        "uvicorn.run(app, root_path=...)), or let the proxy set it"
    ),
    "openapi_prefix": "the root path comes from the server: run uvicorn with --root-path",
    "root_path_in_servers": "the servers list: " + _EDIT_DOCUMENT,
    "responses": "declare them on a Router(responses=...) that you include, or per route",
    "deprecated": "mark routers (Router(deprecated=True)) or routes deprecated instead",
    "include_in_schema": "set include_in_schema=False on a Router(...) or on the routes",
}
#: Keywords of FastAPI's parameter functions (Query, Path, Body, Header, Cookie, Form,
#: File) that qakeapi does not take.
_PARAMETER_ADVICE: dict[str, str] = {
    "regex": "use pattern= (FastAPI's deprecated name for it)",
    "example": "use examples=[...] (FastAPI's deprecated singular)",
    "validation_alias": "use alias= (the name read from the request)",
    "serialization_alias": (
        "a parameter is only read; name the wire field with alias=, or set the alias "
        "on the model's field"
    ),
    "alias_priority": "the parameter's alias= is the name read from the request",
    "default_factory": (
        "give a default value, or compute it in a dependency: Depends(make_default)"
    ),
    "validate_default": (
        "defaults are used as given; validate them where they are written, or use a "
        "pydantic model whose field has validate_default=True"
    ),
}
_DEPENDS_ADVICE: dict[str, str] = {
    "max_concurrency": (
        "sync dependencies run in the app's worker threads (QakeAPI("
        "thread_limiter_tokens=...)); bound one dependency with an anyio.CapacityLimiter "
        "inside it"
    ),
}

_ADVICE: dict[str, dict[str, str]] = {
    "parameter": _PARAMETER_ADVICE,
    "Depends": _DEPENDS_ADVICE,
    "route": _ROUTE_ADVICE,
    "websocket route": {},
    "router": _ROUTER_ADVICE,
    "include_router": _ROUTER_ADVICE,
    "app": _APP_ADVICE,
}


def keywords(*funcs: Any, skip: tuple[str, ...] = ()) -> list[str]:
    """The parameters of ``funcs`` that can be given by keyword, but ``self`` and ``skip``
    (a subclass that forwards ``**options`` to its base takes its own and its base's)."""
    names: list[str] = []
    for func in funcs:
        for p in inspect.signature(func).parameters.values():
            by_keyword = p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            if by_keyword and p.name not in (*names, "self", *skip):
                names.append(p.name)
    return names


def reject_unknown_options(
    kind: Kind, where: str, unknown: Mapping[str, Any], supported: Iterable[str]
) -> None:
    """Raise ``TypeError`` for the first of ``unknown`` (no-op when it is empty).

    ``where`` names the place (``route GET '/items'``, ``Router(prefix='/api')``...);
    ``supported`` lists the options that place takes, for "did you mean".
    """
    if not unknown:
        return
    name = next(iter(unknown))
    advice = _ADVICE[kind].get(name)
    known = sorted(set(supported))
    if advice is not None:
        raise TypeError(f"{where}: option {name!r} is not supported by qakeapi; {advice}")
    import difflib  # NOTE: lazy: only a mistake pays for it

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise TypeError(
        f"{where}: unknown {kind} option {name!r}; {hint}the options are: {', '.join(known)}"
    )
