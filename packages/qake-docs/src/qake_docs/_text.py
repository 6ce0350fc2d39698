"""An operation's ``summary`` and ``description``, from the decorator or the docstring."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["description_of", "summary_of"]


def summary_of(route: Any) -> str:
    """``summary=``, else the route's name in words (``read_item`` → ``Read item``)."""
    return str(route.summary or route.name.replace("_", " ").capitalize())


def description_of(route: Any) -> str | None:
    """``description=``, else the handler's docstring; as in FastAPI, the part from a
    form feed (``\\f``) on is for the code's readers only and is left out."""
    text = route.description or inspect.getdoc(route.endpoint) or ""
    text = text.split("\f")[0].strip()
    return text or None
