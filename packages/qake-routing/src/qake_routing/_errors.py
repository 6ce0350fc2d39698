"""Exceptions raised by the router.

The two raised per request (``NotFound``, ``MethodNotAllowed``) store their fields and
format a message only when printed: a 404 flood must not pay for string formatting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._route import Route

__all__ = [
    "InvalidTemplate",
    "MethodNotAllowed",
    "NotFound",
    "RouteConflict",
    "URLBuildError",
]


class NotFound(LookupError):
    """No route matches the path (an HTTP 404)."""

    def __init__(self, path: str) -> None:
        # PERF: no formatting here; ``__str__`` builds the message on demand.
        super().__init__(path)
        self.path = path

    def __str__(self) -> str:
        return f"no route matches path {self.path!r}"


class MethodNotAllowed(LookupError):
    """A route matches the path but not the method (an HTTP 405).

    ``allowed`` is the set of methods the path answers to, ready for an ``Allow`` header.
    """

    def __init__(self, method: str | None, path: str, allowed: frozenset[str]) -> None:
        super().__init__(method, path, allowed)
        self.method = method
        self.path = path
        self.allowed = allowed

    def __str__(self) -> str:
        allowed = ", ".join(sorted(self.allowed)) or "(none)"
        return f"method {self.method!r} not allowed for path {self.path!r}; allowed: {allowed}"


class InvalidTemplate(ValueError):
    """A path template cannot be parsed; the message names the template and the fix."""

    def __init__(self, template: str, problem: str, fix: str) -> None:
        super().__init__(f"invalid route template {template!r}: {problem}; {fix}")
        self.template = template


class RouteConflict(ValueError):
    """Two routes would answer the same requests (or share a name); both are named."""

    def __init__(self, route: Route, other: Route, reason: str) -> None:
        super().__init__(
            f"route {route.describe()} conflicts with route {other.describe()}: {reason}"
        )
        self.route = route
        self.other = other


class URLBuildError(ValueError):
    """``url_for`` cannot build a URL: unknown name, missing, extra or ill-typed parameter."""
