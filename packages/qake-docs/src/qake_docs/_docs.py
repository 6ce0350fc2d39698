"""``Docs``: serve an application's OpenAPI document, built once on first request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from qake_core import Response
from qake_docs._openapi import openapi_document

__all__ = ["Docs", "add_docs_routes"]


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

    def install(
        self,
        openapi_url: str | None = "/openapi.json",
        docs_url: None = None,
        redoc_url: None = None,
        *,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        """Register ``GET openapi_url`` on the app (hidden from the document itself).

        Like FastAPI's, the route is the framework's own: the app's ``dependencies=``
        do not guard it (an app-wide ``X-Token`` check would make the document
        unreachable to the docs tools). ``dependencies`` are the ones that do: pass the
        app's own list to guard the document like every other route.
        """
        if docs_url is not None or redoc_url is not None:
            raise NotImplementedError(
                "Swagger UI (docs_url) and ReDoc (redoc_url) pages are not available yet; "
                "serve the document at openapi_url and point a UI at it"
            )
        if openapi_url is None:
            return
        openapi_json = self.openapi_json

        async def openapi() -> Response:
            return Response(openapi_json(), media_type="application/json")

        self.app.add_api_route(
            openapi_url,
            openapi,
            methods=["GET"],
            name="openapi",
            include_in_schema=False,
            dependencies=list(dependencies or ()),
            use_app_dependencies=False,
        )


def add_docs_routes(
    app: Any,
    openapi_url: str | None = "/openapi.json",
    docs_url: None = None,
    redoc_url: None = None,
    **options: Any,
) -> Docs:
    """Serve ``app``'s OpenAPI document at ``openapi_url``; return the :class:`Docs`.

    ``options`` are :class:`Docs`' ``title``, ``version`` and ``description``.
    """
    docs = Docs(app, **options)
    docs.install(openapi_url, docs_url, redoc_url)
    return docs
