"""``QakeAPI``: the application with the framework's defaults wired in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qake_core import App, Router
from qake_docs import Docs
from qake_security._security_headers_app import install_security_headers

__all__ = ["QakeAPI"]


def compile_websocket_route(route: Any, app: Any) -> Any:
    """qake-ws's compiler, imported when the first WebSocket route is built.

    PERF: an app without WebSocket routes never loads qake-ws (13 modules: -796 KiB VmRSS
    per worker); one with them loads it at build time (the lifespan), not per request.
    """
    from qake_ws import compile_websocket_route as compile_route

    return compile_route(route, app)


class QakeAPI(App):
    """The full framework's application.

    On top of :class:`qake_core.App`: WebSocket routes (qake-ws), security headers
    on every HTTP response (qake-security: the full set on pages, the ones that act
    on them on JSON and other answers; ``security_headers=False`` turns them off, a
    dict passes options to :func:`~qake_security.security_header_plan`)
    and the OpenAPI document at ``openapi_url`` (qake-docs; ``None`` to not serve
    it), titled with ``title``, ``version`` and ``description``. The document also
    takes FastAPI's ``summary`` (``info.summary``), ``servers``, ``root_path`` (listed
    first in ``servers``), ``openapi_tags``, ``separate_input_output_schemas`` and
    ``webhooks`` (``app.webhooks``: a router whose routes are documented, not served).

    Swagger UI is served at ``docs_url`` (its OAuth2 redirect page at
    ``swagger_ui_oauth2_redirect_url``, options ``swagger_ui_parameters`` and
    ``swagger_ui_init_oauth``) and ReDoc at ``redoc_url``, with their files from the
    installed qake-docs (no CDN); ``None`` leaves a page out (FastAPI's names and
    defaults; ``openapi_url=None`` leaves all of them out).

    As in FastAPI, these routes are the framework's own: the app's ``dependencies=``
    do not guard them. ``docs_dependencies=[...]`` are the ones that do (pass the
    app's list to guard them like the other routes).
    Any other keyword is :class:`qake_core.App`'s; an unknown one raises ``TypeError``
    naming it.
    """

    def __init__(
        self,
        *,
        title: str = "qakeapi",
        version: str = "0.1.0",
        description: str = "",
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_parameters: Mapping[str, Any] | None = None,
        swagger_ui_init_oauth: Mapping[str, Any] | None = None,
        docs_dependencies: Sequence[Any] | None = None,
        security_headers: bool | Mapping[str, Any] = True,
        summary: str | None = None,
        servers: Sequence[Mapping[str, Any]] | None = None,
        root_path: str = "",
        openapi_tags: Sequence[Mapping[str, Any]] | None = None,
        separate_input_output_schemas: bool = True,
        webhooks: Router | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.title = title
        self.version = version
        self.description = description
        self.summary = summary
        self.servers = [dict(server) for server in servers or ()]
        self.root_path = root_path
        self.openapi_tags = [dict(tag) for tag in openapi_tags or ()]
        self.separate_input_output_schemas = separate_input_output_schemas
        self.webhooks = webhooks if webhooks is not None else Router()
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_parameters = swagger_ui_parameters
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.websocket_compiler = compile_websocket_route
        if security_headers is not False:
            header_options = {} if security_headers is True else dict(security_headers)
            # PERF: the core merges the static headers as each response starts (no
            # middleware layer); only HSTS or CSP nonces add one.
            install_security_headers(self, **header_options)
        # The document reads title/version/description from the app when first built.
        self.docs = Docs(self)
        self.docs.install(
            openapi_url,
            docs_url,
            redoc_url,
            dependencies=docs_dependencies,
            swagger_ui_oauth2_redirect_url=swagger_ui_oauth2_redirect_url,
            swagger_ui_parameters=swagger_ui_parameters,
            swagger_ui_init_oauth=swagger_ui_init_oauth,
        )

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of this application (built once, then cached)."""
        return self.docs.openapi()
