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

#: Templates remembered by name (jinja2's own cache holds 400 by default); past this
#: the mapping starts over, so names built from input cannot grow it without bound.
MAX_REMEMBERED = 400


class Jinja2Templates:
    """Render templates from ``directory`` into ``HTMLResponse`` objects.

    Autoescaping is always on for ``.html``, ``.htm``, ``.xml`` and ``.jinja``
    templates (and for strings). Templates get ``request`` and a ``url_for(name,
    **params)`` global that calls ``request.url_for``.

    Edits are jinja2's business (``env.auto_reload``): on, jinja2's default and
    Starlette's, each render checks that the template's file is unchanged and an
    edited template shows on the next request; ``auto_reload=False`` (production)
    keeps the template compiled first until the process restarts, without the check.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        env: Any = None,
        auto_reload: bool | None = None,
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
        if auto_reload is not None:
            env.auto_reload = auto_reload
        self.env = env
        self.env.globals.setdefault("url_for", jinja2.pass_context(_url_for))
        self._templates: dict[str, Any] = {}
        self._loader: Any = env.loader

    def get_template(self, name: str) -> Any:
        """The compiled template ``name``: what ``env.get_template(name)`` returns.

        PERF: the templates looked up once are remembered by name, so a lookup skips
        jinja2's cache (a weak reference to the loader for the key, a locked LRU
        reordering); with ``auto_reload`` on, jinja2's check that the file is unchanged
        (a ``stat``, ~8,900 instructions) still runs on every lookup, as in jinja2.
        Callgrind, one lookup of S8's template: ``env.get_template`` 15,301 -> 10,188
        instructions (7,151 -> 1,976 with ``auto_reload=False``). S8 in process (a fake
        pool, two runs each): 361,465 and 350,716 -> 345,077 and 345,583 per request
        with ``TemplateResponse``'s keyword; 337,187 with ``auto_reload=False``.
        """
        env = self.env
        template = self._templates.get(name)
        if (
            template is not None
            and env.loader is self._loader
            and (not env.auto_reload or template.is_up_to_date)
        ):
            return template
        template = env.get_template(name)
        if env.cache is not None:  # cache_size=0: jinja2 loads every time, so do we
            if env.loader is not self._loader or len(self._templates) >= MAX_REMEMBERED:
                self._templates = {}
                self._loader = env.loader
            self._templates[name] = template
        return template

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
        # PERF: jinja2's ``render`` copies its arguments into a new dict anyway, so
        # ``request`` goes in as a keyword rather than through a copy of ``context``.
        template = self.get_template(name)
        if context is None:
            content = template.render(request=request)
        else:
            content = template.render(context, request=request)
        return HTMLResponse(content, status_code, headers, media_type, background)


def _url_for(context: Any, name: str, /, **params: Any) -> str:
    request = context["request"]
    return str(request.url_for(name, **params))
