"""Jinja2 templates (optional extra ``qake-core[templates]``; jinja2 is imported lazily)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from qake_core._background import BackgroundTasks
from qake_core._responses import HTMLResponse

if TYPE_CHECKING:
    from qake_core._requests import Request

__all__ = ["Jinja2Templates"]


class Jinja2Templates:
    """Render templates from ``directory`` into ``HTMLResponse`` objects.

    Autoescaping is always on for ``.html``, ``.htm``, ``.xml`` and ``.jinja``
    templates (and for strings). Templates get ``request`` and a ``url_for(name,
    **params)`` global that calls ``request.url_for``.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        env: Any = None,
    ) -> None:
        try:
            import jinja2
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "Jinja2Templates needs jinja2: pip install 'qake-core[templates]'"
            ) from exc
        if env is None:
            if directory is None:
                raise ValueError("Jinja2Templates: give directory= or env=")
            env = jinja2.Environment(
                loader=jinja2.FileSystemLoader(directory),
                autoescape=jinja2.select_autoescape(
                    enabled_extensions=("html", "htm", "xml", "jinja"), default_for_string=True
                ),
            )
        self.env = env
        self.env.globals.setdefault("url_for", jinja2.pass_context(_url_for))

    def get_template(self, name: str) -> Any:
        """The compiled template ``name``."""
        return self.env.get_template(name)

    def TemplateResponse(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTasks | None = None,
    ) -> HTMLResponse:
        """Render template ``name`` with ``context`` (plus ``request``)."""
        values = {**(context or {}), "request": request}
        content = self.get_template(name).render(values)
        return HTMLResponse(content, status_code, headers, media_type, background)


def _url_for(context: Any, name: str, /, **params: Any) -> str:
    request = context["request"]
    return str(request.url_for(name, **params))
