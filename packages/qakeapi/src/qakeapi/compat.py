"""``qakeapi.compat``: the app class ``qake port-fastapi --compat`` imports.

``FastAPI`` is :class:`~qakeapi.QakeAPI` with ``compat="fastapi"`` by default: error
bodies, the ``str`` answer, the body reading, redirects, CORS preflights and
``url_for`` as FastAPI's (see the migration guide), so that the clients — and the
tests — of a ported app see no change. ``FastAPI(compat=None)`` gives qakeapi's own.
"""

from __future__ import annotations

from typing import Any, Literal

from qakeapi._app import QakeAPI

__all__ = ["FastAPI"]


class FastAPI(QakeAPI):
    """``QakeAPI(compat="fastapi", ...)``: a ported FastAPI app, answering as before."""

    def __init__(
        self, *, compat: Literal["fastapi", "qakeapi"] | None = "fastapi", **options: Any
    ) -> None:
        super().__init__(compat=compat, **options)
