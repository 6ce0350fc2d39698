"""HTTP errors and their RFC 9457 problem+json representation."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

__all__ = [
    "HTTPException",
    "HandlerSignatureError",
    "RequestValidationError",
    "ResponseValidationError",
    "WebSocketRequestValidationError",
]


class HTTPException(Exception):
    """Raise to answer with ``status_code`` and a problem+json body.

    ``detail`` is a human-readable explanation (a string, or any JSON-serialisable
    value); ``headers`` are added to the response; ``extra`` members extend the
    problem document (RFC 9457 allows extension members).
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        type: str = "about:blank",
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        if title is None:
            try:
                title = HTTPStatus(status_code).phrase
            except ValueError:
                title = "Error"
        if detail is None:
            detail = title
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers) if headers else None
        self.type = type
        self.title = title
        self.extra = dict(extra) if extra else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ValidationErrors(list[dict[str, Any]]):
    """A list of validation errors that can also be called: ``exc.errors`` and FastAPI's
    ``exc.errors()`` give the same list."""

    __slots__ = ()

    def __call__(self) -> list[dict[str, Any]]:
        return self


class RequestValidationError(HTTPException):
    """The request's parameters or body failed validation: a 422 listing every error.

    ``errors`` is a list of ``{"type": "...", "loc": [...], "msg": "..."}`` (also
    callable, as FastAPI's ``exc.errors()``); the framework's entries also hold
    pydantic's ``input`` and ``ctx``. The problem+json answer lists each entry's
    ``loc``, ``msg`` and ``type`` only: the input may be a password or a token.
    ``body`` is the request body the errors are about (FastAPI's attribute: the JSON
    value, the form, or ``None`` when the request had none).
    """

    def __init__(
        self, errors: list[dict[str, Any]], status_code: int = 422, *, body: Any = None
    ) -> None:
        shown = [{"loc": e.get("loc"), "msg": e.get("msg"), "type": e.get("type")} for e in errors]
        super().__init__(
            status_code,
            "The request did not validate.",
            title="Request validation failed",
            extra={"errors": shown},
        )
        self.errors = ValidationErrors(errors)
        self.body = body


class WebSocketRequestValidationError(RequestValidationError):
    """A WebSocket handshake's parameters failed validation (FastAPI's name): the
    handshake is refused with 422 (or closed with 1008 when the server cannot send a
    denial response). A ``RequestValidationError``, so one handler can take both."""


class HandlerSignatureError(TypeError):
    """A handler's (or dependency's) signature cannot be bound to a request."""


class ResponseValidationError(Exception):
    """A handler returned a value that does not match its response model: a server bug,
    answered 500 and logged (never a 422: the client did nothing wrong).

    ``route`` names the route (``route GET '/items/{item_id}' (handler read_item)``);
    ``errors`` are pydantic's, without the input values.
    """

    def __init__(self, route: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{route}: the response does not match the response model: {errors}")
        self.route = route
        self.errors = errors
