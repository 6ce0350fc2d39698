"""The docs pages' JavaScript, CSS and icon, served by the app from the installed package.

Every file has a versioned URL, ``{prefix}/{key}/{name}`` where ``key`` is the start of
the file's SHA-256, so it is sent with ``Cache-Control: public, max-age=31536000,
immutable`` and an ETag; a new version of a file is a new URL. Only the names in a
fixed table are served (no path is ever built from the request), anything else is a
404 problem+json.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from qake_core import HTTPException, Request, Response
from qake_docs._asset_pins import ASSETS_DIR, PINS

__all__ = ["DEFAULT_ASSETS_URL", "Asset", "add_docs_assets", "asset_url"]

#: Where :class:`~qake_docs.Docs` serves the files when ``docs_url`` is ``"/docs"``.
DEFAULT_ASSETS_URL = "/docs/assets"

#: The init script of the Swagger UI page (the package's own file, next to this one).
SWAGGER_UI_INIT = "swagger-ui-init.js"

_JS = "text/javascript; charset=utf-8"
#: The pinned files the pages use, and their content types (licences stay in the wheel).
_SERVED = {
    "swagger-ui-bundle.js": _JS,
    "swagger-ui.css": "text/css; charset=utf-8",
    "oauth2-redirect.js": _JS,
    "favicon-32x32.png": "image/png",
    "redoc.standalone.js": _JS,
}
_CACHE_CONTROL = "public, max-age=31536000, immutable"
_KEY_LENGTH = 16


class Asset(NamedTuple):
    """A served file: its name, URL key, content type and where it lives."""

    name: str
    key: str
    media_type: str
    parts: tuple[str, ...]  # its path inside the qake_docs package

    @property
    def etag(self) -> str:
        return f'"{self.key}"'


@cache
def _table() -> dict[str, Asset]:
    """name -> :class:`Asset` (built on first use: the init script is hashed then)."""
    table: dict[str, Asset] = {}
    for pin in PINS:
        for item in pin.files:
            media_type = _SERVED.get(item.name)
            if media_type is not None:
                key = item.sha256[:_KEY_LENGTH]
                table[item.name] = Asset(item.name, key, media_type, (ASSETS_DIR, item.name))
    init = resources.files("qake_docs").joinpath(SWAGGER_UI_INIT).read_bytes()
    key = hashlib.sha256(init).hexdigest()[:_KEY_LENGTH]
    table[SWAGGER_UI_INIT] = Asset(SWAGGER_UI_INIT, key, _JS, (SWAGGER_UI_INIT,))
    return table


def asset_url(prefix: str, name: str) -> str:
    """The versioned URL of the served file ``name`` under ``prefix``."""
    return f"{prefix.rstrip('/')}/{_table()[name].key}/{name}"


_contents: dict[str, bytes] = {}


def _content(asset: Asset) -> bytes:
    data = _contents.get(asset.name)
    if data is None:
        try:
            data = resources.files("qake_docs").joinpath(*asset.parts).read_bytes()
        except FileNotFoundError:
            raise HTTPException(
                404,
                f"{asset.name} is not installed: qake-docs was installed without the "
                "Swagger UI/ReDoc files its wheel build fetches (see hatch_build.py)",
            ) from None
        _contents[asset.name] = data
    return data


def _matches(if_none_match: str, etag: str) -> bool:
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


async def _serve(request: Request) -> Response:
    params = request.path_params
    asset = _table().get(str(params.get("name", "")))
    if asset is None or params.get("key") != asset.key:
        raise HTTPException(404, "no such docs asset")
    headers = {"cache-control": _CACHE_CONTROL, "etag": asset.etag}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _matches(if_none_match, asset.etag):
        return Response(status_code=304, headers=headers)
    return Response(_content(asset), media_type=asset.media_type, headers=headers)


def add_docs_assets(
    app: Any, prefix: str = DEFAULT_ASSETS_URL, *, dependencies: Sequence[Any] | None = None
) -> None:
    """Serve the docs pages' files at ``GET {prefix}/{key}/{name}`` on ``app`` (hidden
    from the document; the app's own ``dependencies=`` do not guard it, ``dependencies``
    do). :class:`~qake_docs.Docs` calls it for its pages; call it yourself for pages
    built with :func:`~qake_docs.get_swagger_ui_html` on routes of your own."""
    app.add_api_route(
        f"{prefix.rstrip('/')}/{{key}}/{{name}}",
        _serve,
        methods=["GET"],
        name="docs_assets",
        include_in_schema=False,
        dependencies=list(dependencies or ()),
        use_app_dependencies=False,
    )
