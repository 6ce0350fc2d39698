"""``Docs``: serve an application's OpenAPI document (built once on first request) and
its Swagger UI and ReDoc pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson

from qake_core import HTMLResponse, Request, Response
from qake_docs._assets import add_docs_assets
from qake_docs._pages import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)

__all__ = ["Docs", "add_docs_routes"]

#: Root paths whose pages a page route keeps (one in practice).
_PAGES_MAX = 8


class Docs:
    """The OpenAPI document of ``app`` and the route that serves it.

    ``title``/``version``/``description`` default to the app's attributes of the
    same name. The document is generated from the routes the first time it is
    asked for (every route is declared by then) and kept; the JSON route serves
    the same pre-encoded bytes to every request.
    """

    def __init__(
        self,
        app: Any,
        *,
        title: str | None = None,
        version: str | None = None,
        description: str | None = None,
    ) -> None:
        self.app = app
        self._title = title
        self._version = version
        self._description = description
        self._document: dict[str, Any] | None = None
        self._json: bytes | None = None

    def openapi(self) -> dict[str, Any]:
        """The document (generated on first use, then cached)."""
        if self._document is None:
            # NOTE: imported here: the generator loads with the first document built.
            from qake_docs._openapi import openapi_document

            app = self.app
            self._document = openapi_document(
                app,
                title=self._title or getattr(app, "title", None) or "API",
                version=self._version or getattr(app, "version", None) or "0.1.0",
                description=self._description or getattr(app, "description", "") or "",
            )
        return self._document

    def openapi_json(self) -> bytes:
        """The document encoded by orjson (cached)."""
        if self._json is None:
            self._json = orjson.dumps(self.openapi())
        return self._json

    def _page_title(self) -> str:
        return self._title or getattr(self.app, "title", None) or "API"

    def install(
        self,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = None,
        redoc_url: str | None = None,
        *,
        dependencies: Sequence[Any] | None = None,
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_parameters: Mapping[str, Any] | None = None,
        swagger_ui_init_oauth: Mapping[str, Any] | None = None,
    ) -> None:
        """Register ``GET openapi_url``, and with it Swagger UI at ``docs_url`` (with its
        OAuth2 redirect page at ``swagger_ui_oauth2_redirect_url``), ReDoc at
        ``redoc_url`` and their files at ``{docs_url or redoc_url}/assets/...``; ``None``
        leaves a page out (no document, no pages). All are hidden from the document.

        Like FastAPI's, the routes are the framework's own: the app's ``dependencies=``
        do not guard them (an app-wide ``X-Token`` check would make the document
        unreachable to the docs tools). ``dependencies`` are the ones that do: pass the
        app's own list to guard them like every other route. They add no middleware: no
        other route's requests pay anything for them.
        """
        if openapi_url is None:
            return
        guards = list(dependencies or ())
        add = self.app.add_api_route
        openapi_json = self.openapi_json

        async def openapi() -> Response:
            return Response(openapi_json(), media_type="application/json")

        add(openapi_url, openapi, name="openapi", **_hidden(guards))
        if docs_url is None and redoc_url is None:
            return
        assets_url = f"{(docs_url or redoc_url or '').rstrip('/')}/assets"
        add_docs_assets(self.app, assets_url, dependencies=guards)
        if docs_url is not None:
            redirect_url = swagger_ui_oauth2_redirect_url

            def swagger_ui(root: str) -> HTMLResponse:
                return get_swagger_ui_html(
                    openapi_url=root + openapi_url,
                    title=f"{self._page_title()} - Swagger UI",
                    oauth2_redirect_url=None if redirect_url is None else root + redirect_url,
                    init_oauth=swagger_ui_init_oauth,
                    swagger_ui_parameters=swagger_ui_parameters,
                    assets_url=root + assets_url,
                )

            add(docs_url, _page_route(swagger_ui), name="swagger_ui_html", **_hidden(guards))
            if redirect_url is not None:
                add(
                    redirect_url,
                    _page_route(
                        lambda root: get_swagger_ui_oauth2_redirect_html(
                            assets_url=root + assets_url
                        )
                    ),
                    name="swagger_ui_redirect",
                    **_hidden(guards),
                )
        if redoc_url is not None:

            def redoc(root: str) -> HTMLResponse:
                return get_redoc_html(
                    openapi_url=root + openapi_url,
                    title=f"{self._page_title()} - ReDoc",
                    assets_url=root + assets_url,
                )

            add(redoc_url, _page_route(redoc), name="redoc_html", **_hidden(guards))


def _hidden(dependencies: list[Any]) -> dict[str, Any]:
    """The options of a docs route: GET, out of the document, only ``dependencies``."""
    return {
        "methods": ["GET"],
        "include_in_schema": False,
        "dependencies": dependencies,
        "use_app_dependencies": False,
    }


def _page_route(build: Callable[[str], HTMLResponse]) -> Callable[[Request], Awaitable[Response]]:
    """A handler answering with ``build(root_path)``'s page, built once per root path
    (the app's title and options are read then; the body and headers are reused)."""
    pages: dict[str, HTMLResponse] = {}

    async def page(request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        built = pages.get(root)
        if built is None:
            if len(pages) >= _PAGES_MAX:
                pages.clear()
            built = pages[root] = build(root)
        return HTMLResponse(built.body, headers=_page_headers(built))

    return page


def _page_headers(page: HTMLResponse) -> dict[str, str]:
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in page.raw_headers
        if name not in (b"content-length", b"content-type")
    }


def add_docs_routes(
    app: Any,
    openapi_url: str | None = "/openapi.json",
    docs_url: str | None = None,
    redoc_url: str | None = None,
    **options: Any,
) -> Docs:
    """Serve ``app``'s OpenAPI document at ``openapi_url`` (and the Swagger UI and ReDoc
    pages at ``docs_url`` and ``redoc_url`` when given); return the :class:`Docs`.

    ``options`` are :class:`Docs`' ``title``, ``version`` and ``description``.
    """
    docs = Docs(app, **options)
    docs.install(openapi_url, docs_url, redoc_url)
    return docs
