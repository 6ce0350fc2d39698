"""qake-routing: a compiled path router with no dependencies."""

from ._converters import (
    Converter,
    FloatConverter,
    IntConverter,
    PathConverter,
    StrConverter,
    UUIDConverter,
)
from ._errors import InvalidTemplate, MethodNotAllowed, NotFound, RouteConflict, URLBuildError
from ._route import Match, Route
from ._router import Router
from ._template import Template

__all__ = [
    "Converter",
    "FloatConverter",
    "IntConverter",
    "InvalidTemplate",
    "Match",
    "MethodNotAllowed",
    "NotFound",
    "PathConverter",
    "Route",
    "RouteConflict",
    "Router",
    "StrConverter",
    "Template",
    "URLBuildError",
    "UUIDConverter",
]
