"""``QakeAPI``: the application with the framework's defaults wired in."""

from __future__ import annotations

from typing import Any

from qake_core import App

__all__ = ["QakeAPI"]


class QakeAPI(App):
    """The full framework's application.

    On top of :class:`qake_core.App` it carries the API's ``title`` and
    ``version`` (used by the OpenAPI document) and turns on the defaults of the
    other packages.
    """

    def __init__(
        self,
        *,
        title: str = "qakeapi",
        version: str = "0.1.0",
        description: str = "",
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.title = title
        self.version = version
        self.description = description
