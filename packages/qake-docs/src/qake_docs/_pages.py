"""Swagger UI, ReDoc and the OAuth2 redirect page, as ``HTMLResponse``s.

FastAPI's ``get_swagger_ui_html``/``get_redoc_html``/``get_swagger_ui_oauth2_redirect_html``
with the same parameters, except that the files come from the app itself (see
:mod:`qake_docs._assets`), never a CDN, and that no page has an inline script: Swagger
UI's options travel as JSON in a ``<script type="application/json">`` block read by a
served init script. So each page sends a Content-Security-Policy that allows exactly
what it needs (it replaces the app's default page policy for that response).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from qake_core import HTMLResponse
from qake_docs._assets import DEFAULT_ASSETS_URL, SWAGGER_UI_INIT, asset_url

__all__ = [
    "REDOC_CSP",
    "SWAGGER_UI_CSP",
    "SWAGGER_UI_DEFAULT_PARAMETERS",
    "SWAGGER_UI_OAUTH2_REDIRECT_CSP",
    "get_redoc_html",
    "get_swagger_ui_html",
    "get_swagger_ui_oauth2_redirect_html",
]

_COMMON_CSP = "base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

#: Swagger UI: its script and style from this origin, icons drawn as data: URLs, the
#: document, "Try it out" and the token requests of "Authorize" to this origin, images
#: in responses shown from blob: URLs.
SWAGGER_UI_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    f"connect-src 'self'; form-action 'self'; {_COMMON_CSP}"
)

#: ReDoc: styled-components inserts <style> elements ('unsafe-inline' styles, no
#: inline script), its search index runs in a worker made from a blob: URL.
REDOC_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data:; connect-src 'self'; worker-src blob:; form-action 'none'; {_COMMON_CSP}"
)

#: The OAuth2 redirect page: one script from this origin, nothing else.
SWAGGER_UI_OAUTH2_REDIRECT_CSP = f"default-src 'none'; script-src 'self'; {_COMMON_CSP}"

#: FastAPI's defaults, plus ``validatorUrl: null`` (Swagger UI would otherwise send the
#: document's URL to an online validator).
SWAGGER_UI_DEFAULT_PARAMETERS: Mapping[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
    "validatorUrl": None,
}

# JSON inside <script>: no "<" (no "</script>" nor "<!--"), ">" or "&" can close or
# confuse the element; the escaped forms parse back to the same string.
_SCRIPT_ESCAPES = ((b"<", b"\\u003c"), (b">", b"\\u003e"), (b"&", b"\\u0026"))


def _script_json(value: Any) -> str:
    data = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    for raw, escaped in _SCRIPT_ESCAPES:
        data = data.replace(raw, escaped)
    return data.decode("utf-8")


def _page(title: str, head: str, body: str, csp: str) -> HTMLResponse:
    # PERF: html (and html.entities) loads with the first page served, not in every
    # worker that never serves one (with difflib: -376 KiB VmRSS for ``import qakeapi``).
    import html

    content = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )
    return HTMLResponse(content, headers={"content-security-policy": csp})


def _attr(value: str) -> str:
    import html

    return html.escape(value, quote=True)


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str | None = None,
    swagger_css_url: str | None = None,
    swagger_favicon_url: str | None = None,
    oauth2_redirect_url: str | None = None,
    init_oauth: Mapping[str, Any] | None = None,
    swagger_ui_parameters: Mapping[str, Any] | None = None,
    assets_url: str = DEFAULT_ASSETS_URL,
    swagger_init_js_url: str | None = None,
    content_security_policy: str = SWAGGER_UI_CSP,
) -> HTMLResponse:
    """A Swagger UI page for the document at ``openapi_url``.

    ``swagger_ui_parameters`` override :data:`SWAGGER_UI_DEFAULT_PARAMETERS` (any
    JSON-serialisable Swagger UI option); ``oauth2_redirect_url`` is the page of
    :func:`get_swagger_ui_oauth2_redirect_html` (relative URLs are resolved against the
    page's); ``init_oauth`` is passed to ``ui.initOAuth``. The files default to the
    versioned URLs under ``assets_url`` (see :func:`~qake_docs.add_docs_assets`).
    """
    config: dict[str, Any] = {"url": openapi_url, **SWAGGER_UI_DEFAULT_PARAMETERS}
    if swagger_ui_parameters:
        config.update(swagger_ui_parameters)
    if oauth2_redirect_url:
        config["oauth2RedirectUrl"] = oauth2_redirect_url
    if init_oauth:
        config["initOAuth"] = dict(init_oauth)
    css = swagger_css_url or asset_url(assets_url, "swagger-ui.css")
    favicon = swagger_favicon_url or asset_url(assets_url, "favicon-32x32.png")
    bundle = swagger_js_url or asset_url(assets_url, "swagger-ui-bundle.js")
    init = swagger_init_js_url or asset_url(assets_url, SWAGGER_UI_INIT)
    head = (
        f'<link rel="stylesheet" href="{_attr(css)}">\n'
        f'<link rel="icon" type="image/png" href="{_attr(favicon)}">\n'
    )
    body = (
        '<div id="swagger-ui"></div>\n'
        '<script type="application/json" id="swagger-ui-config">'
        f"{_script_json(config)}</script>\n"
        f'<script src="{_attr(bundle)}"></script>\n'
        f'<script src="{_attr(init)}"></script>\n'
    )
    return _page(title, head, body, content_security_policy)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str | None = None,
    redoc_favicon_url: str | None = None,
    with_google_fonts: bool = False,
    assets_url: str = DEFAULT_ASSETS_URL,
    content_security_policy: str = REDOC_CSP,
) -> HTMLResponse:
    """A ReDoc page for the document at ``openapi_url`` (the standalone bundle reads it
    from the ``<redoc spec-url>`` element). ``with_google_fonts`` is FastAPI's
    parameter; it must stay ``False``: the pages load nothing from other sites."""
    if with_google_fonts:
        raise ValueError(
            "with_google_fonts=True would load fonts from another site; qake-docs pages "
            "are served offline (use your own page and CSP for that)"
        )
    script = redoc_js_url or asset_url(assets_url, "redoc.standalone.js")
    favicon = redoc_favicon_url or asset_url(assets_url, "favicon-32x32.png")
    head = f'<link rel="icon" type="image/png" href="{_attr(favicon)}">\n'
    body = (
        f'<redoc spec-url="{_attr(openapi_url)}"></redoc>\n'
        f'<script src="{_attr(script)}"></script>\n'
    )
    return _page(title, head, body, content_security_policy)


def get_swagger_ui_oauth2_redirect_html(
    *,
    assets_url: str = DEFAULT_ASSETS_URL,
    redirect_js_url: str | None = None,
) -> HTMLResponse:
    """The page an OAuth2 provider redirects to after Swagger UI's authorization-code
    or implicit flow: Swagger UI's own ``oauth2-redirect.js`` hands the result back to
    the opener."""
    script = redirect_js_url or asset_url(assets_url, "oauth2-redirect.js")
    body = f'<script src="{_attr(script)}"></script>\n'
    return _page("Swagger UI: OAuth2 Redirect", "", body, SWAGGER_UI_OAUTH2_REDIRECT_CSP)
